//===- SafetensorsTest.cpp - the safetensors reader and Q/K finder --------===//
//
// Files are built here byte by byte; expected values come from APFloat
// (f16, bf16) or are exact by construction, never from the reader.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Checkpoint/QKProjections.h"
#include "lpattn/Checkpoint/Safetensors.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/Endian.h"

#include "gtest/gtest.h"

#include <cstring>

using namespace lpattn::checkpoint;

namespace {

/// 8-byte little-endian length, the header, the data.
std::string makeFile(const std::string &header, const std::string &data,
                     uint64_t length) {
  std::string bytes(8, '\0');
  llvm::support::endian::write64le(bytes.data(), length);
  return bytes + header + data;
}
std::string makeFile(const std::string &header, const std::string &data) {
  return makeFile(header, data, header.size());
}

llvm::Expected<SafetensorsFile> parseBytes(const std::string &bytes) {
  return SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "test"), "test");
}

std::string errorOf(llvm::Expected<SafetensorsFile> file) {
  if (file)
    return "";
  return llvm::toString(file.takeError());
}

/// The storage bits of `value` rounded to `semantics`, little-endian.
std::string halfBits(double value, const llvm::fltSemantics &semantics) {
  llvm::APFloat number(value);
  bool losesInfo = false;
  number.convert(semantics, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  std::string bytes(2, '\0');
  llvm::support::endian::write16le(
      bytes.data(),
      static_cast<uint16_t>(number.bitcastToAPInt().getZExtValue()));
  return bytes;
}

TEST(SafetensorsTest, ConvertsF32F16AndBF16Exactly) {
  // Values exact in each format: the read value equals them bit for bit.
  std::vector<double> values = {1.5, -2.0, 65504.0, 0.000061035156250};
  std::string f32, f16, bf16;
  for (double value : values) {
    float single = static_cast<float>(value);
    char raw[4];
    llvm::support::endian::write32le(raw, llvm::bit_cast<uint32_t>(single));
    f32.append(raw, 4);
    f16 += halfBits(value, llvm::APFloat::IEEEhalf());
  }
  std::vector<double> bfValues = {1.5, -2.0, 3.0e38 /*rounds*/, 1.0e-30};
  std::vector<float> bfExpected;
  for (double value : bfValues) {
    bf16 += halfBits(value, llvm::APFloat::BFloat());
    llvm::APFloat rounded(value);
    bool losesInfo = false;
    rounded.convert(llvm::APFloat::BFloat(),
                    llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    rounded.convert(llvm::APFloat::IEEEsingle(),
                    llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    bfExpected.push_back(rounded.convertToFloat());
  }
  std::string header =
      R"({"__metadata__": {"format": "pt"},
          "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
          "b": {"dtype": "F16", "shape": [4], "data_offsets": [16, 24]},
          "c": {"dtype": "BF16", "shape": [4, 1], "data_offsets": [24, 32]},
          "d": {"dtype": "I64", "shape": [], "data_offsets": [32, 40]},
          "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [40, 40]}})";
  auto file = parseBytes(makeFile(header, f32 + f16 + bf16 + std::string(8, 'x')));
  ASSERT_TRUE(!!file) << llvm::toString(file.takeError());
  EXPECT_EQ(file->getTensors().size(), 5u);
  EXPECT_EQ(file->getMetadata().at("format"), "pt");
  auto a = file->readFloats("a");
  auto b = file->readFloats("b");
  auto c = file->readFloats("c");
  ASSERT_TRUE(a && b && c);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ((*a)[i], static_cast<float>(values[i]));
    EXPECT_EQ((*b)[i], static_cast<float>(values[i]));
    EXPECT_EQ((*c)[i], bfExpected[i]);
  }
  auto e = file->readFloats("e");
  ASSERT_TRUE(!!e);
  EXPECT_TRUE(e->empty());
  // Another dtype is refused only when read.
  auto d = file->readFloats("d");
  ASSERT_FALSE(!!d);
  EXPECT_EQ(llvm::toString(d.takeError()),
            "test: tensor 'd' has dtype I64; expected F32, F16 or BF16");
  auto missing = file->readFloats("nope");
  ASSERT_FALSE(!!missing);
  EXPECT_EQ(llvm::toString(missing.takeError()), "test: no tensor 'nope'");
}

TEST(SafetensorsTest, RefusesMalformedHeaders) {
  std::string entry =
      R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})";
  std::string data(8, '\0');
  EXPECT_EQ(errorOf(parseBytes(makeFile(entry, data))), "");
  EXPECT_EQ(errorOf(parseBytes(std::string(7, '\0'))),
            "test: truncated: 7 bytes, fewer than the 8-byte header length");
  EXPECT_EQ(errorOf(parseBytes(makeFile(entry, data, entry.size() + 9))),
            "test: truncated: the header length is " +
                std::to_string(entry.size() + 9) + " bytes, but only " +
                std::to_string(entry.size() + 8) + " bytes follow it");
  // Just above the cap: refused by the limit, even though no such file
  // could be that long here.
  EXPECT_EQ(errorOf(parseBytes(
                makeFile(entry, data, kMaxSafetensorsHeaderBytes + 1))),
            "test: header length 104857601 exceeds the limit of 104857600 "
            "bytes (not a safetensors file?)");
  EXPECT_NE(errorOf(parseBytes(makeFile("{\"t\": ", data))).find(
                "header is not valid JSON"),
            std::string::npos);
  EXPECT_EQ(errorOf(parseBytes(makeFile(
                R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0]}})",
                data))),
            "test: tensor 't': \"data_offsets\" is not [begin, end] of two "
            "non-negative integers");
  EXPECT_EQ(errorOf(parseBytes(makeFile(
                R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 9]}})",
                data))),
            "test: tensor 't': data_offsets [0, 9] run past the end of the 8 "
            "data bytes");
  EXPECT_EQ(errorOf(parseBytes(makeFile(
                R"({"t": {"dtype": "F16", "shape": [2], "data_offsets": [0, 8]}})",
                data))),
            "test: tensor 't': data_offsets span 8 bytes, but shape and "
            "dtype F16 need 2 x 2 bytes");
  EXPECT_EQ(errorOf(parseBytes(makeFile(
                R"({"t": {"dtype": "F32", "shape": 2, "data_offsets": [0, 8]}})",
                data))),
            "test: tensor 't': missing array \"shape\"");
  EXPECT_EQ(errorOf(parseBytes(makeFile(R"({"t": 1})", data))),
            "test: tensor 't': header entry is not a JSON object");
  EXPECT_EQ(errorOf(parseBytes(makeFile(
                R"({"t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                    "t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                data))),
            "test: header names a tensor twice");
}

/// A file holding the given F32 matrices (row-major), in order.
std::string makeMatrices(
    const std::vector<std::pair<std::string, std::vector<int64_t>>> &shapes) {
  std::string header = "{", data;
  for (const auto &[name, shape] : shapes) {
    int64_t count = shape[0] * shape[1];
    std::string values;
    for (int64_t i = 0; i < count; ++i) {
      char raw[4];
      llvm::support::endian::write32le(
          raw, llvm::bit_cast<uint32_t>(static_cast<float>(data.size() / 4 + i)));
      values.append(raw, 4);
    }
    if (header.size() > 1)
      header += ", ";
    header += "\"" + name + "\": {\"dtype\": \"F32\", \"shape\": [" +
              std::to_string(shape[0]) + ", " + std::to_string(shape[1]) +
              "], \"data_offsets\": [" + std::to_string(data.size()) + ", " +
              std::to_string(data.size() + values.size()) + "]}";
    data += values;
  }
  return makeFile(header + "}", data);
}

TEST(QKProjectionsTest, TransposesGPT2Conv1D) {
  // c_attn [d = 2, 3d = 6]: element (in, out) holds 6 in + out.
  auto file = parseBytes(makeMatrices({{"h.0.attn.c_attn.weight", {2, 6}}}));
  ASSERT_TRUE(!!file);
  HeadLayout layout;
  layout.numHeads = 1;
  auto layers = findQKLayers(*file, layout);
  ASSERT_TRUE(!!layers) << llvm::toString(layers.takeError());
  ASSERT_EQ(layers->size(), 1u);
  EXPECT_EQ((*layers)[0].architecture, Architecture::GPT2);
  EXPECT_EQ((*layers)[0].headDim, 2);
  auto weights = loadQKWeights(*file, (*layers)[0]);
  ASSERT_TRUE(!!weights);
  // nn.Linear layout: query[out][in] = c_attn[in][out], key from columns
  // [d, 2d).
  EXPECT_EQ(weights->query, (std::vector<float>{0, 6, 1, 7}));
  EXPECT_EQ(weights->key, (std::vector<float>{2, 8, 3, 9}));
}

TEST(QKProjectionsTest, DerivesGQAFromShapes) {
  auto file = parseBytes(makeMatrices(
      {{"model.layers.1.self_attn.q_proj.weight", {12, 4}},
       {"model.layers.1.self_attn.k_proj.weight", {6, 4}},
       {"model.layers.0.self_attn.k_proj.weight", {6, 4}},
       {"model.layers.0.self_attn.q_proj.weight", {12, 4}}}));
  ASSERT_TRUE(!!file);
  HeadLayout layout;
  layout.headDim = 3;
  auto layers = findQKLayers(*file, layout);
  ASSERT_TRUE(!!layers) << llvm::toString(layers.takeError());
  ASSERT_EQ(layers->size(), 2u);
  EXPECT_EQ((*layers)[0].layer, 0);
  EXPECT_EQ((*layers)[1].layer, 1);
  EXPECT_EQ((*layers)[0].numHeads, 4);
  EXPECT_EQ((*layers)[0].numKVHeads, 2);
  EXPECT_EQ((*layers)[0].keyTensor, "model.layers.0.self_attn.k_proj.weight");
  // Without any head count the layout is unknown.
  auto unknown = findQKLayers(*file, HeadLayout());
  ASSERT_FALSE(!!unknown);
  EXPECT_NE(llvm::toString(unknown.takeError()).find("head count is unknown"),
            std::string::npos);
}

} // namespace
