//===- RunReference.h - the float64 reference of a compiled attention ----===//
//
// The accuracy of a run is only meaningful against the attention that ran:
// its softmax scale, causal mask, additive mask, descales and GQA grouping
// come from the compiled op, never from separate settings that can disagree
// with it.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_RUNNER_RUNREFERENCE_H
#define LPATTN_RUNNER_RUNREFERENCE_H

#include "lpattn/Lab/Reference.h"
#include "lpattn/Runner/CPUAttention.h"

#include <array>

namespace lpattn {

/// Reference options matching the op of `sig` run with `mask` (used only if
/// the op has a mask operand) and `descales` (only if it has descales). The
/// options point into `mask` and `descales`, which must outlive them.
lab::ReferenceOptions
getReferenceOptions(const CPUAttention::Signature &sig,
                    const lab::HostTensor *mask = nullptr,
                    const RunDescales &descales = {});

/// The float64 attention of the unquantized inputs that `sig`'s op computes
/// (SPEC.md's accuracy baseline).
llvm::Expected<lab::HostTensorF64>
referenceFor(const CPUAttention::Signature &sig, const lab::HostTensor &q,
             const lab::HostTensor &k, const lab::HostTensor &v,
             const lab::HostTensor *mask = nullptr,
             const RunDescales &descales = {});

} // namespace lpattn

#endif // LPATTN_RUNNER_RUNREFERENCE_H
