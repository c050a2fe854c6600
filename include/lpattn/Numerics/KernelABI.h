//===- KernelABI.h - the calling convention of a compiled attention -*- C++ -*-===//
//
// The arguments of a compiled attention, in order, written once for every
// caller: the CPU runner (the JIT-compiled function's C interface), the
// builders that make its signature, and the GPU runtime's launch descriptor.
// Plain C++17: no MLIR, no LLVM (the runtime is built where neither exists).
//
//   attention(Q, K, V [, mask] [, q_ds, k_ds, v_ds] [, stats]) -> O
//
// The descales are f32 scalars (per tensor) or, with perHeadDescales, three
// f32 tensors [B, Hkv] (per batch and KV head, FlashAttention-3's form):
// the same arguments in the same places, tensors rather than scalars.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_NUMERICS_KERNELABI_H
#define LPATTN_NUMERICS_KERNELABI_H

#include <cstdint>
#include <string_view>
#include <vector>

namespace lpattn {

/// What one argument of a compiled attention is.
enum class KernelArg : uint8_t {
  Query,         ///< Q [B, Hq, Nq, D], qk type
  Key,           ///< K [B, Hkv, Nk, D], qk type
  Value,         ///< V [B, Hkv, Nk, Dv], v type
  Mask,          ///< additive mask [B|1, Hq|1, Nq, Nk], f32
  QueryDescale,  ///< q_ds: f32 scalar, or f32 [B, Hkv] (perHeadDescales)
  KeyDescale,    ///< k_ds: f32 scalar, or f32 [B, Hkv] (perHeadDescales)
  ValueDescale,  ///< v_ds: f32 scalar, or f32 [B, Hkv] (perHeadDescales)
  CollapseStats, ///< [collapsed, positive] i64 counters (instrumentation)
};

/// Which optional arguments an attention has.
struct KernelSignature {
  bool hasMask = false;
  bool hasDescales = false;
  bool countsCollapse = false;
  /// With hasDescales: the descales are [B, Hkv] f32 tensors (per batch and
  /// KV head) rather than f32 scalars. Changes no argument's place.
  bool perHeadDescales = false;

  /// The arguments in order: Q, K, V, then the mask, the three descales and
  /// the collapse counters where present. The result O is returned (on the
  /// CPU's C interface, through a first out-pointer).
  std::vector<KernelArg> arguments() const {
    std::vector<KernelArg> args{KernelArg::Query, KernelArg::Key,
                                KernelArg::Value};
    if (hasMask)
      args.push_back(KernelArg::Mask);
    if (hasDescales)
      args.insert(args.end(), {KernelArg::QueryDescale, KernelArg::KeyDescale,
                               KernelArg::ValueDescale});
    if (countsCollapse)
      args.push_back(KernelArg::CollapseStats);
    return args;
  }
};

/// Whether the argument is one of the three descales.
inline bool isDescaleArg(KernelArg arg) {
  return arg == KernelArg::QueryDescale || arg == KernelArg::KeyDescale ||
         arg == KernelArg::ValueDescale;
}

/// The argument's name in messages and descriptors ("q", "mask", "k_ds").
inline std::string_view getKernelArgName(KernelArg arg) {
  switch (arg) {
  case KernelArg::Query:
    return "q";
  case KernelArg::Key:
    return "k";
  case KernelArg::Value:
    return "v";
  case KernelArg::Mask:
    return "mask";
  case KernelArg::QueryDescale:
    return "q_ds";
  case KernelArg::KeyDescale:
    return "k_ds";
  case KernelArg::ValueDescale:
    return "v_ds";
  case KernelArg::CollapseStats:
    return "stats";
  }
  return "<invalid>";
}

} // namespace lpattn

#endif // LPATTN_NUMERICS_KERNELABI_H
