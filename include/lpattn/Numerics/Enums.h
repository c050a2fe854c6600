//===- Enums.h - lpattn enums shared by IR, tools and runtime ---*- C++ -*-===//
//
// The numerics modes of an attention, in plain C++17: no MLIR and no LLVM
// include, so that the GPU runtime (built where neither exists), the tools
// and the IR use the very same types (as MLIR's SparseTensor/IR/Enums.h is
// shared with its runtime). The IR wraps each enum in an attribute
// (#lpattn.kv_order<...>, LPAttnAttrs.td) whose spelling comes from here.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_NUMERICS_ENUMS_H
#define LPATTN_NUMERICS_ENUMS_H

#include <cstdint>
#include <optional>
#include <string_view>

namespace lpattn {

/// The element formats lpattn computes in.
enum class FloatFormat : uint8_t { F32, F16, BF16, F8E4M3FN, F8E5M2 };

/// Order of the KV tile loop (P-Cast: reverse puts the sink block last).
enum class KVOrder : uint32_t { Forward = 0, Reverse = 1 };

/// Online-softmax variant: standard, LPTF's bias-corrected, PASA's shifted.
enum class SoftmaxVariant : uint32_t {
  Standard = 0,
  BiasCorrected = 1,
  Pasa = 2
};

/// What a round-to-nearest-even cast does with values above max finite.
enum class OverflowMode : uint32_t {
  /// Clamp to +-max finite (CUDA __NV_SATFINITE, PTX cvt.rn.satfinite).
  SatFinite = 0,
  /// IEEE overflow: Inf where the format has one, NaN for f8E4M3FN.
  NonSat = 1
};

/// Spellings, as the IR writes them ("f8E4M3FN", "reverse", "pasa",
/// "satfinite"); the symbolize functions are their inverses and return
/// nullopt for any other string.
std::string_view stringifyFloatFormat(FloatFormat value);
std::string_view stringifyKVOrder(KVOrder value);
std::string_view stringifySoftmaxVariant(SoftmaxVariant value);
std::string_view stringifyOverflowMode(OverflowMode value);
std::optional<FloatFormat> symbolizeFloatFormat(std::string_view name);
std::optional<KVOrder> symbolizeKVOrder(std::string_view name);
std::optional<SoftmaxVariant> symbolizeSoftmaxVariant(std::string_view name);
std::optional<OverflowMode> symbolizeOverflowMode(std::string_view name);

/// Overloads for generic code (the IR's attribute parser and printer).
inline std::string_view stringifyEnum(KVOrder v) { return stringifyKVOrder(v); }
inline std::string_view stringifyEnum(SoftmaxVariant v) {
  return stringifySoftmaxVariant(v);
}
inline std::string_view stringifyEnum(OverflowMode v) {
  return stringifyOverflowMode(v);
}
/// Inverse of stringifyEnum, chosen by the type of the (unused) first
/// argument.
inline std::optional<KVOrder> symbolizeEnum(KVOrder *, std::string_view s) {
  return symbolizeKVOrder(s);
}
inline std::optional<SoftmaxVariant> symbolizeEnum(SoftmaxVariant *,
                                                   std::string_view s) {
  return symbolizeSoftmaxVariant(s);
}
inline std::optional<OverflowMode> symbolizeEnum(OverflowMode *,
                                                 std::string_view s) {
  return symbolizeOverflowMode(s);
}

} // namespace lpattn

#endif // LPATTN_NUMERICS_ENUMS_H
