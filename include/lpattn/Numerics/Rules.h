//===- Rules.h - numerics rules shared by the verifier and tools -*- C++ -*-===//
//
// Rules on the numbers an attention states (scales, softmax parameters)
// that both the IR verifier and lpattn-run's option checks apply, so that
// each rule and its message are written once. Plain C++: no MLIR types.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_NUMERICS_RULES_H
#define LPATTN_NUMERICS_RULES_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace lpattn {

/// For a value the lowering must apply exactly (the P scale: multiplying P
/// by it and dividing it out must not round): empty if `value` is finite,
/// non-zero and exactly a normal f32 number, the arithmetic the lowering
/// turns it into; otherwise one sentence, starting with "`what` = value",
/// saying what f32 makes of it (for example 2^-200 becomes 0).
std::string checkExactInF32(llvm::StringRef what, double value);

/// For a parameter the lowering rounds to an f32 constant (the softmax
/// scale, beta, tol): empty if `value` is finite and, unless it is 0, rounds
/// to a finite, non-zero, normal f32 (so the rounding changes it by at most
/// half an f32 ulp, 2^-24 relative); otherwise one sentence as above.
std::string checkRoundsToF32(llvm::StringRef what, double value);

} // namespace lpattn

#endif // LPATTN_NUMERICS_RULES_H
