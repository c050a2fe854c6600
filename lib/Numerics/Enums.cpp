//===- Enums.cpp - spellings of the lpattn enums --------------------------===//
//
// One table per enum: the spelling of each value, written once.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Numerics/Enums.h"

#include <array>
#include <utility>

using namespace lpattn;

namespace {
template <typename EnumT, size_t N>
using Spellings = std::array<std::pair<EnumT, std::string_view>, N>;

constexpr Spellings<FloatFormat, 5> kFloatFormats{{
    {FloatFormat::F32, "f32"},
    {FloatFormat::F16, "f16"},
    {FloatFormat::BF16, "bf16"},
    {FloatFormat::F8E4M3FN, "f8E4M3FN"},
    {FloatFormat::F8E5M2, "f8E5M2"},
}};
constexpr Spellings<KVOrder, 2> kKVOrders{{
    {KVOrder::Forward, "forward"},
    {KVOrder::Reverse, "reverse"},
}};
constexpr Spellings<SoftmaxVariant, 3> kSoftmaxVariants{{
    {SoftmaxVariant::Standard, "standard"},
    {SoftmaxVariant::BiasCorrected, "bias_corrected"},
    {SoftmaxVariant::Pasa, "pasa"},
}};
constexpr Spellings<OverflowMode, 2> kOverflowModes{{
    {OverflowMode::SatFinite, "satfinite"},
    {OverflowMode::NonSat, "nonsat"},
}};

template <typename EnumT, size_t N>
std::string_view spell(const Spellings<EnumT, N> &table, EnumT value) {
  for (const auto &[v, name] : table)
    if (v == value)
      return name;
  return "<invalid>";
}

template <typename EnumT, size_t N>
std::optional<EnumT> lookup(const Spellings<EnumT, N> &table,
                            std::string_view name) {
  for (const auto &[v, spelling] : table)
    if (spelling == name)
      return v;
  return std::nullopt;
}
} // namespace

std::string_view lpattn::stringifyFloatFormat(FloatFormat value) {
  return spell(kFloatFormats, value);
}
std::string_view lpattn::stringifyKVOrder(KVOrder value) {
  return spell(kKVOrders, value);
}
std::string_view lpattn::stringifySoftmaxVariant(SoftmaxVariant value) {
  return spell(kSoftmaxVariants, value);
}
std::string_view lpattn::stringifyOverflowMode(OverflowMode value) {
  return spell(kOverflowModes, value);
}
std::optional<FloatFormat> lpattn::symbolizeFloatFormat(std::string_view s) {
  return lookup(kFloatFormats, s);
}
std::optional<KVOrder> lpattn::symbolizeKVOrder(std::string_view s) {
  return lookup(kKVOrders, s);
}
std::optional<SoftmaxVariant>
lpattn::symbolizeSoftmaxVariant(std::string_view s) {
  return lookup(kSoftmaxVariants, s);
}
std::optional<OverflowMode> lpattn::symbolizeOverflowMode(std::string_view s) {
  return lookup(kOverflowModes, s);
}
