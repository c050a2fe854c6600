//===- WgmmaLayoutTest.cpp - WgmmaLayout.h vs. CuTe ------------*- C++ -*-===//
//
// Every function of lpattn/Target/NVIDIA/WgmmaLayout.h against CUTLASS's
// CuTe, the layouts CUTLASS's own sm_90 kernels run with, evaluated on the
// host: the swizzles against cute::Swizzle and the uint8 K-major GMMA atoms,
// the descriptors against GMMA::make_gmma_desc<Major::K> on (fabricated)
// shared-memory tensors, the accumulator and register-A fragments against
// the CLayout / ALayout of the SM90 FP8 GMMA ops, and the P-to-A packing
// (pAccumulatorValueForA, pvKeyAtK) against both. Every comparison runs over
// all threads, values and offsets; nothing expected is typed in.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Target/NVIDIA/WgmmaLayout.h"

#include <cstddef>
#include <cstdint>

// CuTe turns a shared-memory pointer into the 32-bit shared address a
// descriptor holds with __cvta_generic_to_shared, a device intrinsic; on the
// host it prints an error and returns 0. The tests fabricate shared-memory
// pointers whose value is the shared address, so the conversion is the
// identity: supply it, and tell CuTe to use it.
#define CUTE_CVTA_GENERIC_TO_SHARED_ACTIVATED 1
inline size_t __cvta_generic_to_shared(const void *pointer) {
  return reinterpret_cast<uintptr_t>(pointer);
}

#include <cute/atom/mma_traits_sm90_gmma.hpp>
#include <cute/tensor.hpp>

#include "gtest/gtest.h"

#include <set>
#include <sstream>
#include <string>

using namespace lpattn::nvidia;
namespace GMMA = cute::SM90::GMMA;

namespace {

/// Counts mismatches and keeps the first few, so that a wrong map fails
/// with a short message instead of thousands of lines.
class Mismatches {
public:
  template <typename... Args> void add(const Args &...args) {
    if (count++ < 8) {
      std::ostringstream os;
      (os << ... << args);
      examples += "\n  " + os.str();
    }
  }
  ::testing::AssertionResult result(const char *what) const {
    if (count == 0)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << count << " mismatches of " << what << ", first:" << examples;
  }

private:
  unsigned count = 0;
  std::string examples;
};

/// A shared-memory pointer at shared address `address` (never dereferenced).
auto smemPointer(uintptr_t address) {
  return cute::make_smem_ptr(reinterpret_cast<uint8_t *>(address));
}

/// Byte offset of `pointer` from shared address `base`.
template <typename Pointer> uint32_t offsetFrom(uintptr_t base, Pointer p) {
  return static_cast<uint32_t>(
      reinterpret_cast<uintptr_t>(cute::raw_pointer_cast(p)) - base);
}

// The uint8 K-major atoms of the three swizzles: 8 rows of 32/64/128 bytes.
using AtomSW32 = GMMA::Layout_K_SW32_Atom<uint8_t>;
using AtomSW64 = GMMA::Layout_K_SW64_Atom<uint8_t>;
using AtomSW128 = GMMA::Layout_K_SW128_Atom<uint8_t>;

//===----------------------------------------------------------------------===//
// Swizzles
//===----------------------------------------------------------------------===//

/// swizzleOffset against the bare cute::Swizzle functor on every byte offset
/// of 8 atoms.
template <typename CuteSwizzle>
::testing::AssertionResult matchesSwizzleFunctor(Swizzle swizzle) {
  Mismatches bad;
  for (uint32_t offset = 0; offset < 64 * static_cast<uint32_t>(swizzle);
       ++offset) {
    uint32_t expected = CuteSwizzle{}(offset);
    uint32_t got = swizzleOffset(swizzle, offset);
    if (got != expected)
      bad.add("offset ", offset, ": got ", got, ", CuTe ", expected);
  }
  return bad.result("swizzleOffset vs. cute::Swizzle");
}

TEST(WgmmaLayoutSwizzle, MatchesCuteSwizzleFunctor) {
  EXPECT_TRUE((matchesSwizzleFunctor<cute::Swizzle<3, 4, 3>>(Swizzle::B128)));
  EXPECT_TRUE((matchesSwizzleFunctor<cute::Swizzle<2, 4, 3>>(Swizzle::B64)));
  EXPECT_TRUE((matchesSwizzleFunctor<cute::Swizzle<1, 4, 3>>(Swizzle::B32)));
  // No swizzle is the identity (CuTe's Swizzle<0,4,3>).
  EXPECT_TRUE((matchesSwizzleFunctor<cute::Swizzle<0, 4, 3>>(Swizzle::None)));
}

/// The atom's swizzle is the functor above: the composed layout names it.
static_assert(std::is_same_v<decltype(AtomSW128{}.layout_a()),
                             cute::Swizzle<3, 4, 3>>);
static_assert(std::is_same_v<decltype(AtomSW64{}.layout_a()),
                             cute::Swizzle<2, 4, 3>>);
static_assert(std::is_same_v<decltype(AtomSW32{}.layout_a()),
                             cute::Swizzle<1, 4, 3>>);

/// swizzleOffset(row * span + col) against the byte address CuTe gives
/// element (row, col) of a `Rows` x span uint8 tile built from `Atom` at a
/// 1024-aligned shared address (CuTe swizzles the address, as the hardware).
template <typename Atom, int Rows>
::testing::AssertionResult matchesAtomTile(Swizzle swizzle) {
  constexpr int span = cute::size<1>(Atom{});
  const uintptr_t base = 0x400 * 9;
  auto tile = cute::make_tensor(
      smemPointer(base),
      cute::tile_to_shape(Atom{},
                          cute::Shape<cute::Int<Rows>, cute::Int<span>>{}));
  Mismatches bad;
  for (int row = 0; row < Rows; ++row)
    for (int col = 0; col < span; ++col) {
      uint32_t expected = offsetFrom(base, &tile(row, col));
      uint32_t got = swizzleOffset(swizzle, row * span + col);
      if (got != expected)
        bad.add("(row ", row, ", col ", col, "): got ", got, ", CuTe ",
                expected);
    }
  return bad.result("swizzleOffset vs. the GMMA K-major atom");
}

TEST(WgmmaLayoutSwizzle, MatchesKMajorAtoms) {
  EXPECT_TRUE((matchesAtomTile<AtomSW128, 8>(Swizzle::B128)));
  EXPECT_TRUE((matchesAtomTile<AtomSW128, 64>(Swizzle::B128)));
  EXPECT_TRUE((matchesAtomTile<AtomSW128, 128>(Swizzle::B128)));
  EXPECT_TRUE((matchesAtomTile<AtomSW64, 8>(Swizzle::B64)));
  EXPECT_TRUE((matchesAtomTile<AtomSW64, 64>(Swizzle::B64)));
  EXPECT_TRUE((matchesAtomTile<AtomSW64, 128>(Swizzle::B64)));
  EXPECT_TRUE((matchesAtomTile<AtomSW32, 8>(Swizzle::B32)));
  EXPECT_TRUE((matchesAtomTile<AtomSW32, 64>(Swizzle::B32)));
  EXPECT_TRUE((matchesAtomTile<AtomSW32, 128>(Swizzle::B32)));
}

/// swizzleForRowBytes picks the atom whose row is that wide, and
/// swizzleAtomBytes is the atom's size (the period of its pattern).
template <typename Atom> void checkAtomWidth(Swizzle swizzle) {
  constexpr unsigned span = cute::size<1>(Atom{});
  EXPECT_EQ(swizzleForRowBytes(span), swizzle) << "row of " << span << " B";
  EXPECT_EQ(static_cast<unsigned>(swizzle), span);
  EXPECT_EQ(swizzleAtomBytes(swizzle),
            static_cast<uint32_t>(cute::cosize(Atom{}.layout_b())))
      << "atom of rows of " << span << " B";
}

TEST(WgmmaLayoutSwizzle, AtomWidths) {
  checkAtomWidth<AtomSW128>(Swizzle::B128);
  checkAtomWidth<AtomSW64>(Swizzle::B64);
  checkAtomWidth<AtomSW32>(Swizzle::B32);
  // Any other row width has no swizzle: CuTe's narrowest K-major atom has
  // 16-byte rows, and it is unswizzled (the interleaved layout).
  static_assert(cute::size<1>(GMMA::Layout_K_INTER_Atom<uint8_t>{}) == 16);
  for (unsigned rowBytes : {0u, 16u, 48u, 96u, 192u, 256u})
    EXPECT_EQ(swizzleForRowBytes(rowBytes), Swizzle::None) << rowBytes;
  // Without a swizzle, the descriptor's 16-byte address unit is all the
  // alignment needed.
  EXPECT_EQ(swizzleAtomBytes(Swizzle::None), sizeof(cute::uint128_t));
}

//===----------------------------------------------------------------------===//
// Descriptors
//===----------------------------------------------------------------------===//

/// wgmmaDescriptor(kSliceAddress(...)) against make_gmma_desc<Major::K> of
/// each 32-byte K slice of a `Rows` x `KBytes` uint8 tile of `Atom`s (CuTe's
/// tile_to_shape stacks atoms down the rows first: column blocks of
/// Rows x span bytes, as kSliceAddress assumes), at several 1024-aligned
/// shared addresses (up to the top of sm_90's 228 KiB).
template <typename Atom, int Rows, int KBytes>
::testing::AssertionResult matchesMakeGmmaDesc(Swizzle swizzle) {
  Mismatches bad;
  for (uintptr_t base : {uintptr_t{0}, uintptr_t{0x400}, uintptr_t{0x7400},
                         uintptr_t{0x1F000}, uintptr_t{0x30000}}) {
    auto tile = cute::make_tensor(
        smemPointer(base),
        cute::tile_to_shape(
            Atom{}, cute::Shape<cute::Int<Rows>, cute::Int<KBytes>>{}));
    for (int k = 0; k < KBytes / 32; ++k) {
      auto slice = cute::local_tile(
          tile, cute::Shape<cute::Int<Rows>, cute::_32>{},
          cute::make_coord(0, k));
      uint64_t expected = GMMA::make_gmma_desc<GMMA::Major::K>(slice);
      uint32_t address =
          kSliceAddress(static_cast<uint32_t>(base), Rows, swizzle, k);
      uint64_t got = wgmmaDescriptor(address, swizzle);
      // The address separately: a wrong kSliceAddress reads better so.
      uint32_t expectedAddress = static_cast<uint32_t>(
          reinterpret_cast<uintptr_t>(cute::raw_pointer_cast(slice.data())));
      if (got != expected || address != expectedAddress)
        bad.add("base 0x", std::hex, base, " k ", std::dec, k, ": address 0x",
                std::hex, address, " (CuTe 0x", expectedAddress,
                "), descriptor 0x", got, " (CuTe 0x", expected, ")",
                std::dec);
    }
  }
  std::ostringstream what;
  what << "the descriptors of a " << Rows << "x" << KBytes << " B tile of "
       << static_cast<unsigned>(swizzle) << " B swizzle";
  return bad.result(what.str().c_str());
}

// Swizzle::None is not compared: for an unswizzled (interleaved) K-major
// tile the leading byte offset is the distance between the two 16-byte
// core matrices of a k32 slice, which depends on the tile's rows (CuTe:
// rows * 16 B), and kSliceAddress divides by the swizzle's span (0). The
// header's None descriptor (LBO 16 B) matches no tile CuTe builds; the
// kernel uses swizzled tiles only.
TEST(WgmmaLayoutDescriptor, MatchesMakeGmmaDesc) {
  // 64 rows: A of one warpgroup (Q, P's V operand is B); 128: B with N = 128.
  // K of 32..256 bytes: one or more k32 slices, one or more column blocks.
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW128, 64, 128>(Swizzle::B128)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW128, 64, 256>(Swizzle::B128)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW128, 128, 128>(Swizzle::B128)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW128, 128, 256>(Swizzle::B128)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW64, 64, 64>(Swizzle::B64)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW64, 64, 128>(Swizzle::B64)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW64, 128, 64>(Swizzle::B64)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW64, 128, 128>(Swizzle::B64)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW32, 64, 32>(Swizzle::B32)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW32, 64, 128>(Swizzle::B32)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW32, 128, 32>(Swizzle::B32)));
  EXPECT_TRUE((matchesMakeGmmaDesc<AtomSW32, 128, 128>(Swizzle::B32)));
}

//===----------------------------------------------------------------------===//
// Fragments
//===----------------------------------------------------------------------===//

/// CuTe's (thread, value) -> m + 64 * n|k layouts, as (row, col).
template <typename TVLayout> RowCol cuteElement(unsigned thread, unsigned v) {
  unsigned index = TVLayout{}(thread, v);
  return {index % 64, index / 64};
}

/// accumulatorElement against the CLayout of the FP8 SS op `Op`.
template <typename Op> ::testing::AssertionResult matchesCLayout() {
  using Traits = cute::MMA_Traits<Op>;
  using CLayout = typename Traits::CLayout;
  constexpr unsigned n = cute::size<1>(typename Traits::Shape_MNK{});
  // One warpgroup, threads in order; N/2 f32 values per thread.
  static_assert(std::is_same_v<typename Traits::ThrID, cute::Layout<cute::_128>>);
  static_assert(cute::size<0>(CLayout{}) == 128);
  static_assert(cute::size<1>(CLayout{}) == n / 2);
  Mismatches bad;
  for (unsigned t = 0; t < 128; ++t)
    for (unsigned v = 0; v < n / 2; ++v) {
      RowCol expected = cuteElement<CLayout>(t, v);
      RowCol got = accumulatorElement(t, v);
      if (got.row != expected.row || got.col != expected.col)
        bad.add("thread ", t, " value ", v, ": got (", got.row, ", ", got.col,
                "), CuTe (", expected.row, ", ", expected.col, ")");
    }
  return bad.result("accumulatorElement vs. CLayout");
}

TEST(WgmmaLayoutFragment, AccumulatorMatchesCLayout) {
  EXPECT_TRUE(matchesCLayout<cute::SM90_64x64x32_F32E4M3E4M3_SS_TN<>>());
  EXPECT_TRUE(matchesCLayout<cute::SM90_64x128x32_F32E4M3E4M3_SS_TN<>>());
  EXPECT_TRUE(matchesCLayout<cute::SM90_64x256x32_F32E4M3E4M3_SS_TN<>>());
  EXPECT_TRUE(matchesCLayout<cute::SM90_64x128x32_F32E5M2E5M2_SS_TN<>>());
  // The register-A form accumulates in the same fragment.
  EXPECT_TRUE(matchesCLayout<cute::SM90_64x128x32_F32E4M3E4M3_RS_TN<>>());
}

/// registerAElement against the ALayout of the FP8 RS op `Op`, and the
/// packing of its 16 values into the 4 A registers the op takes (as
/// CuTe's mma_unpack does: the value fragment recast to the registers).
template <typename Op> ::testing::AssertionResult matchesALayout() {
  using Traits = cute::MMA_Traits<Op>;
  using ALayout = typename Traits::ALayout;
  static_assert(cute::size<0>(ALayout{}) == 128);
  static_assert(cute::size<1>(ALayout{}) == 16);
  static_assert(std::is_same_v<typename Op::ARegisters, uint32_t[4]>);
  Mismatches bad;
  for (unsigned t = 0; t < 128; ++t)
    for (unsigned v = 0; v < 16; ++v) {
      RowCol expected = cuteElement<ALayout>(t, v);
      RowCol got = registerAElement(t, v);
      if (got.row != expected.row || got.col != expected.col)
        bad.add("thread ", t, " value ", v, ": got (", got.row, ", ", got.col,
                "), CuTe (", expected.row, ", ", expected.col, ")");
    }

  // Value v in byte v % 4 of register v / 4.
  auto values = cute::make_fragment_like<uint8_t>(
      cute::make_layout(cute::shape<1>(ALayout{})));
  auto registers = cute::recast<uint32_t>(values);
  static_assert(decltype(cute::size(registers))::value == 4);
  for (unsigned v = 0; v < 16; ++v) {
    auto byteAddress = reinterpret_cast<uintptr_t>(&values(v));
    auto registerAddress = reinterpret_cast<uintptr_t>(&registers(v / 4));
    if (byteAddress - registerAddress != v % 4)
      bad.add("value ", v, " is not byte ", v % 4, " of register ", v / 4);
  }
  return bad.result("registerAElement vs. ALayout");
}

TEST(WgmmaLayoutFragment, RegisterAMatchesALayout) {
  EXPECT_TRUE(matchesALayout<cute::SM90_64x64x32_F32E4M3E4M3_RS_TN<>>());
  EXPECT_TRUE(matchesALayout<cute::SM90_64x128x32_F32E4M3E4M3_RS_TN<>>());
  EXPECT_TRUE(matchesALayout<cute::SM90_64x128x32_F32E5M2E5M2_RS_TN<>>());
}

//===----------------------------------------------------------------------===//
// P's accumulator as the A operand of P.V
//===----------------------------------------------------------------------===//

/// For P of `Bc` keys (an m64nBc accumulator): every A byte the packing
/// fills holds the probability of the row the A operand wants there, and of
/// the key that V^T stores at that k (32 * slice + pvKeyAtK(k)), with both
/// fragments from CuTe; and the packing uses each accumulator value once.
template <unsigned Bc> ::testing::AssertionResult packsPIntoA() {
  using CLayout = cute::SM90::GMMA::CLayout_64xN<Bc>;
  using ALayout = cute::MMA_Traits<
      cute::SM90_64x128x32_F32E4M3E4M3_RS_TN<>>::ALayout;
  Mismatches bad;
  for (unsigned t = 0; t < 128; ++t) {
    std::set<unsigned> used;
    for (unsigned slice = 0; slice < Bc / 32; ++slice)
      for (unsigned reg = 0; reg < 4; ++reg)
        for (unsigned byte = 0; byte < 4; ++byte) {
          unsigned value = pAccumulatorValueForA(slice, reg, byte);
          if (value >= Bc / 2 || !used.insert(value).second) {
            bad.add("thread ", t, " slice ", slice, " reg ", reg, " byte ",
                    byte, ": accumulator value ", value,
                    " out of range or used twice");
            continue;
          }
          RowCol p = cuteElement<CLayout>(t, value);
          RowCol a = cuteElement<ALayout>(t, 4 * reg + byte);
          unsigned key = 32 * slice + pvKeyAtK(a.col);
          if (p.row != a.row || p.col != key)
            bad.add("thread ", t, " slice ", slice, " reg ", reg, " byte ",
                    byte, ": P(", p.row, ", ", p.col, ") where A wants row ",
                    a.row, " key ", key, " (k ", a.col, ")");
        }
    if (used.size() != Bc / 2)
      bad.add("thread ", t, ": ", used.size(), " of ", Bc / 2,
              " accumulator values packed");
  }
  return bad.result("the P-to-A packing");
}

TEST(WgmmaLayoutPToA, PackingMatchesFragments) {
  EXPECT_TRUE(packsPIntoA<64>());
  EXPECT_TRUE(packsPIntoA<128>());
  EXPECT_TRUE(packsPIntoA<256>());
}

TEST(WgmmaLayoutPToA, KeyOrderIsAPermutation) {
  // V^T holds each of a slice's 32 keys at exactly one k.
  std::set<unsigned> keys;
  for (unsigned k = 0; k < 32; ++k) {
    unsigned key = pvKeyAtK(k);
    EXPECT_LT(key, 32u) << "k " << k;
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 32u);
}

} // namespace
