//===- WgmmaLayout.h - Hopper wgmma/TMA layouts, shared with tests -*- C++ -*-===//
//
// The layout facts the sm_90a kernel relies on, as plain C++17 (no LLVM, no
// CUDA), so that the kernel generator, the runtime and the unit tests (which
// compare every function here with CuTe's, unittests/Target/NVIDIA) use one
// definition:
//   * the 128/64/32-byte shared-memory swizzles TMA writes and wgmma reads,
//   * the wgmma shared-memory matrix descriptor (K-major operands),
//   * the f32 accumulator fragment of m64nNk32 (thread, value) -> (row, col),
//   * the 8-bit register-A fragment of m64nNk32 (thread, value) -> (row, k),
//   * the key permutation that lets P's accumulator fragment, cast to FP8 in
//     registers, be the A operand of the P.V product without a shuffle: the
//     kernel writes V^T into shared memory with its keys in this order.
// Threads are numbered within one warpgroup (0..127).
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_TARGET_NVIDIA_WGMMALAYOUT_H
#define LPATTN_TARGET_NVIDIA_WGMMALAYOUT_H

#include <cstdint>

namespace lpattn::nvidia {

/// Shared-memory swizzle modes (CU_TENSOR_MAP_SWIZZLE_* and the wgmma
/// descriptor's layout type agree on the pattern).
enum class Swizzle : unsigned { None = 0, B32 = 32, B64 = 64, B128 = 128 };

/// The swizzle whose span is exactly `rowBytes` (32, 64 or 128), None for any
/// other width. K-major FP8 tiles use rows of min(K, 128) bytes.
constexpr Swizzle swizzleForRowBytes(unsigned rowBytes) {
  return rowBytes == 128  ? Swizzle::B128
         : rowBytes == 64 ? Swizzle::B64
         : rowBytes == 32 ? Swizzle::B32
                          : Swizzle::None;
}

/// Byte offset, within a tile of rows of `span` bytes (span = the swizzle's
/// bytes), at which the element at byte `offset` of the unswizzled row-major
/// tile is stored: the 16-byte chunk index is XORed with the row index bits
/// above it (CuTe's Swizzle<3,4,3>, <2,4,3>, <1,4,3> on byte addresses).
constexpr uint32_t swizzleOffset(Swizzle swizzle, uint32_t offset) {
  switch (swizzle) {
  case Swizzle::B128:
    return offset ^ ((offset >> 3) & 0x70u);
  case Swizzle::B64:
    return offset ^ ((offset >> 3) & 0x30u);
  case Swizzle::B32:
    return offset ^ ((offset >> 3) & 0x10u);
  case Swizzle::None:
    break;
  }
  return offset;
}

/// The alignment a swizzled tile's base needs (the pattern repeats every
/// 8 rows).
constexpr uint32_t swizzleAtomBytes(Swizzle swizzle) {
  return swizzle == Swizzle::None ? 16u : 8u * static_cast<uint32_t>(swizzle);
}

/// The 64-bit wgmma shared-memory matrix descriptor of a K-major operand
/// stored as rows of `span` bytes with `swizzle` (PTX ISA "Matrix Descriptor
/// Format"): start address >> 4 in bits 0-13, leading byte offset >> 4 in
/// bits 16-29 (unused for swizzled K-major layouts; 1 by convention), stride
/// byte offset >> 4 (8 rows) in bits 32-45, base offset 0 (bits 49-51: the
/// tile is atom-aligned), layout type in bits 62-63 (1: 128B, 2: 64B,
/// 3: 32B, 0: no swizzle).
constexpr uint64_t wgmmaDescriptor(uint32_t sharedAddress, Swizzle swizzle) {
  uint64_t layout = swizzle == Swizzle::B128  ? 1
                    : swizzle == Swizzle::B64 ? 2
                    : swizzle == Swizzle::B32 ? 3
                                              : 0;
  uint64_t strideBytes = swizzle == Swizzle::None
                             ? 128u
                             : 8u * static_cast<uint32_t>(swizzle);
  return (static_cast<uint64_t>((sharedAddress & 0x3FFFFu) >> 4)) |
         (uint64_t{1} << 16) | ((strideBytes >> 4) << 32) | (layout << 62);
}

/// The descriptor of K-slice `k` (k32 FP8 slices: 32 bytes) of a K-major tile
/// whose rows hold `kBytes` bytes, stored as ceil(kBytes / span) column blocks
/// of `rows` x span bytes each (span = the swizzle's bytes, at most 128): the
/// start address moves within a swizzle row by 32 bytes per slice (wgmma
/// applies the swizzle to the address it forms) and to the next block after
/// span bytes.
constexpr uint32_t kSliceAddress(uint32_t tileAddress, unsigned rows,
                                 Swizzle swizzle, unsigned k) {
  uint32_t span = static_cast<uint32_t>(swizzle);
  uint32_t slicesPerBlock = span / 32u;
  return tileAddress + (k / slicesPerBlock) * rows * span +
         (k % slicesPerBlock) * 32u;
}

/// A (row, column) pair within a warpgroup's 64-row tile.
struct RowCol {
  unsigned row;
  unsigned col;
};

/// The f32 accumulator of wgmma m64nNk*: thread `t` (0..127) holds N/2
/// values; value `v` is at row 16*(t/32) + (t%32)/4 + 8*((v/2)%2), column
/// 8*(v/4) + 2*(t%4) + v%2.
constexpr RowCol accumulatorElement(unsigned thread, unsigned value) {
  unsigned warp = thread / 32, lane = thread % 32;
  return {16 * warp + lane / 4 + 8 * ((value / 2) % 2),
          8 * (value / 4) + 2 * (lane % 4) + value % 2};
}

/// The 8-bit register A operand of wgmma m64nNk32: thread `t` holds 16
/// values in 4 registers (value v in byte v%4 of register v/4); value `v` is
/// at row 16*(t/32) + (t%32)/4 + 8*((v/4)%2), k 4*(t%4) + v%4 + 16*(v/8).
constexpr RowCol registerAElement(unsigned thread, unsigned value) {
  unsigned warp = thread / 32, lane = thread % 32;
  return {16 * warp + lane / 4 + 8 * ((value / 4) % 2),
          4 * (lane % 4) + value % 4 + 16 * (value / 8)};
}

/// The key (0..31, within one k32 slice of P) whose probability the
/// register-A value at k position `k` holds when P's accumulator values are
/// packed in order into A registers: A register r of a slice takes
/// accumulator values {8s' + ...}. Thread t's A bytes at k = 4*(t%4) + i
/// (+16) hold accumulator columns 2*(t%4) + (i%2) + 8*(i/2) (+16). V^T is
/// stored in shared memory with its key at position k equal to this, so the
/// product is unchanged.
constexpr unsigned pvKeyAtK(unsigned k) {
  unsigned half = k / 16, quad = (k % 16) / 4, i = k % 4;
  return 16 * half + 8 * (i / 2) + 2 * quad + i % 2;
}

/// The accumulator value index (of P's m64nBc fragment) that goes into byte
/// `byte` (0..3) of A register `reg` (0..3) for k32 slice `slice`: the
/// packing pvKeyAtK describes, from the thread's own values only.
constexpr unsigned pAccumulatorValueForA(unsigned slice, unsigned reg,
                                         unsigned byte) {
  // reg 0: rows r, keys half 0; reg 1: rows r+8, half 0; reg 2: rows r,
  // half 1; reg 3: rows r+8, half 1. Byte i: column group 2*slice*2 +
  // 2*half + i/2, element i%2.
  unsigned half = reg / 2, rowHalf = reg % 2;
  unsigned group = 4 * slice + 2 * half + byte / 2;
  return 4 * group + 2 * rowHalf + byte % 2;
}

} // namespace lpattn::nvidia

#endif // LPATTN_TARGET_NVIDIA_WGMMALAYOUT_H
