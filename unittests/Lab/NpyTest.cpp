//===- NpyTest.cpp - tests of the .npy reader and writer ------------------===//
//
// The expected files are written out byte by byte from the format definition
// (numpy/lib/format.py), with every length derived in a comment, so the tests
// pin what numpy writes rather than what our writer does. Malformed inputs are
// parsed from exact-size heap copies, so that running the tests under
// valgrind catches any read past the end.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Npy.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace lpattn::lab;

namespace {

/// Bytes from a list of byte values (avoids escape pitfalls in literals).
std::string bytesOf(std::initializer_list<unsigned> values) {
  std::string bytes;
  for (unsigned value : values)
    bytes.push_back(static_cast<char>(value));
  return bytes;
}

/// The 128-byte preamble plus data numpy.save writes for
/// np.array([[1, 2, 3], [-0.5, 0.25, 2**-149]], dtype=np.float32):
/// magic "\x93NUMPY", version 1 0, header length as uint16 LE. The header is
/// the 59-character dict, 20 spaces of growth room for the first dimension
/// (21 - len("2")), 38 spaces of padding and '\n', so that
/// 10 + 59 + 20 + 38 + 1 = 128 is a multiple of 64; its length is
/// 59 + 20 + 38 + 1 = 118 = 0x76. The data are the float bit patterns
/// 0x3F800000 (1), 0x40000000 (2), 0x40400000 (3), 0xBF000000 (-0.5),
/// 0x3E800000 (0.25) and 0x00000001 (2^-149), little-endian.
std::string numpyFloat32File() {
  std::string file = "\x93NUMPY" + bytesOf({1, 0, 0x76, 0});
  file += "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  file += std::string(20 + 38, ' ') + "\n";
  for (uint32_t bits :
       {0x3F800000u, 0x40000000u, 0x40400000u, 0xBF000000u, 0x3E800000u, 1u})
    file += bytesOf(
        {bits & 0xFF, (bits >> 8) & 0xFF, (bits >> 16) & 0xFF, bits >> 24});
  return file;
}

HostTensor numpyFloat32Tensor() {
  return {{2, 3}, {1.0f, 2.0f, 3.0f, -0.5f, 0.25f, std::ldexp(1.0f, -149)}};
}

/// A .npy file of format `major`.0 with `header` taken verbatim (no padding,
/// which the format allows) and `data`.
std::string npyWithHeader(const std::string &header, const std::string &data,
                          unsigned major = 1) {
  std::string file = "\x93NUMPY" + bytesOf({major, 0});
  size_t length = header.size();
  file += major == 1 ? bytesOf({unsigned(length & 0xFF), unsigned(length >> 8)})
                     : bytesOf({unsigned(length & 0xFF),
                                unsigned((length >> 8) & 0xFF), 0, 0});
  return file + header + data;
}

std::string dictWith(const std::string &descr, const std::string &fortran,
                     const std::string &shape) {
  return "{'descr': " + descr + ", 'fortran_order': " + fortran +
         ", 'shape': " + shape + ", }";
}

/// Parses `bytes` from a heap buffer of exactly their size.
llvm::Expected<HostTensor> parseExact(const std::string &bytes) {
  std::vector<char> exact(bytes.begin(), bytes.end());
  return parseNpy(llvm::StringRef(exact.data(), exact.size()), "bad.npy");
}

std::vector<uint32_t> bitsOf(const std::vector<float> &values) {
  std::vector<uint32_t> bits;
  for (float value : values)
    bits.push_back(llvm::bit_cast<uint32_t>(value));
  return bits;
}

/// A temporary file path, removed when the object dies.
struct TempPath {
  llvm::SmallString<128> path;
  TempPath() {
    EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("lpattn-npy", "npy", path));
  }
  ~TempPath() { llvm::sys::fs::remove(path); }
};

TEST(NpyTest, ReadsWhatNumpyWrites) {
  std::string file = numpyFloat32File();
  ASSERT_EQ(file.size(), 128u + 6 * 4);
  llvm::Expected<HostTensor> tensor = parseNpy(file);
  ASSERT_TRUE(static_cast<bool>(tensor)) << llvm::toString(tensor.takeError());
  EXPECT_EQ(tensor->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(bitsOf(tensor->data), bitsOf(numpyFloat32Tensor().data));
}

TEST(NpyTest, WritesWhatNumpyWrites) {
  llvm::Expected<std::string> bytes = encodeNpy(numpyFloat32Tensor());
  ASSERT_TRUE(static_cast<bool>(bytes)) << llvm::toString(bytes.takeError());
  EXPECT_EQ(*bytes, numpyFloat32File());
}

TEST(NpyTest, ReadsVersion2Float16) {
  // numpy.lib.format.write_array(f, np.array([1, -2, 2**-24, 65504, np.inf],
  // np.float16), version=(2, 0)): the length field is a uint32, so the
  // padding makes 12 + 57 + 20 + 38 + 1 = 128 and the header length is
  // 57 + 20 + 38 + 1 = 116 = 0x74. Half bits: 0x3C00 (1), 0xC000 (-2),
  // 0x0001 (2^-24), 0x7BFF (65504), 0x7C00 (inf).
  std::string file = "\x93NUMPY" + bytesOf({2, 0, 0x74, 0, 0, 0});
  file += "{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }";
  file += std::string(58, ' ') + "\n";
  ASSERT_EQ(file.size(), 128u);
  file += bytesOf({0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0xFF, 0x7B, 0x00, 0x7C});
  llvm::Expected<HostTensor> tensor = parseNpy(file);
  ASSERT_TRUE(static_cast<bool>(tensor)) << llvm::toString(tensor.takeError());
  EXPECT_EQ(tensor->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(tensor->data,
            (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24), 65504.0f,
                                std::numeric_limits<float>::infinity()}));
}

TEST(NpyTest, Float64ReadsRoundedAsFloatAndExactAsDouble) {
  HostTensorF64 original{{3}, {0.1, -1e300, 1.0 + 0x1.0p-30}};
  llvm::Expected<std::string> bytes = encodeNpy(original);
  ASSERT_TRUE(static_cast<bool>(bytes));
  EXPECT_NE(bytes->find("'descr': '<f8'"), std::string::npos);

  llvm::Expected<HostTensorF64> asDouble = parseNpyDouble(*bytes);
  ASSERT_TRUE(static_cast<bool>(asDouble));
  EXPECT_EQ(asDouble->data, original.data);

  // Round to nearest even: 1 + 2^-30 is below the float midpoint 1 + 2^-24.
  llvm::Expected<HostTensor> asFloat = parseNpy(*bytes);
  ASSERT_TRUE(static_cast<bool>(asFloat));
  EXPECT_EQ(asFloat->data,
            (std::vector<float>{0.1f, -std::numeric_limits<float>::infinity(),
                                1.0f}));
}

TEST(NpyTest, FileRoundTripIsBitIdentical) {
  HostTensor original{{2, 1, 3, 2}, {}};
  for (int i = 0; i < 12; ++i)
    original.data.push_back(std::ldexp(float(i) - 5.5f, i - 6));
  original.data[0] = -0.0f;
  original.data[1] = llvm::bit_cast<float>(0x7FC01234u); // NaN with payload
  original.data[2] = -std::numeric_limits<float>::infinity();
  original.data[3] = std::numeric_limits<float>::denorm_min();
  TempPath temp;
  ASSERT_FALSE(static_cast<bool>(writeNpy(temp.path, original)));
  llvm::Expected<HostTensor> read = readNpy(temp.path);
  ASSERT_TRUE(static_cast<bool>(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(read->shape, original.shape);
  EXPECT_EQ(bitsOf(read->data), bitsOf(original.data));

  HostTensorF64 wide{{3}, {0.1, -0.0, std::numeric_limits<double>::max()}};
  ASSERT_FALSE(static_cast<bool>(writeNpy(temp.path, wide)));
  llvm::Expected<HostTensorF64> readWide = readNpyDouble(temp.path);
  ASSERT_TRUE(static_cast<bool>(readWide));
  EXPECT_EQ(
      std::memcmp(readWide->data.data(), wide.data.data(), sizeof(double) * 3),
      0);
}

TEST(NpyTest, HeaderIsAlignedForEveryShape) {
  for (std::vector<int64_t> shape : std::vector<std::vector<int64_t>>{
           {}, {0}, {7}, {0, 3}, {1, 2, 3, 4}, {123456789, 0}}) {
    HostTensor tensor = HostTensor::zeros(shape);
    llvm::Expected<std::string> bytes = encodeNpy(tensor);
    ASSERT_TRUE(static_cast<bool>(bytes));
    size_t headerEnd = bytes->size() - 4 * tensor.data.size();
    EXPECT_EQ(headerEnd % 64, 0u) << formatShape(shape);
    EXPECT_EQ((*bytes)[headerEnd - 1], '\n');
    llvm::Expected<HostTensor> read = parseNpy(*bytes);
    ASSERT_TRUE(static_cast<bool>(read)) << llvm::toString(read.takeError());
    EXPECT_EQ(read->shape, shape);
  }
  // numpy's growth room and its padding rule pinned where they matter: for
  // shape (0, 123456789, 12345678, 12345678, 12345678) the dict has 97
  // characters and the growth room 21 - len("0") = 20, so
  // 10 + 97 + 20 + 1 = 128 is already aligned and _wrap_header still pads a
  // full 64: 192. One space less of room, or no pad when aligned, gives 128.
  llvm::Expected<std::string> padded = encodeNpy(
      HostTensor::zeros({0, 123456789, 12345678, 12345678, 12345678}));
  ASSERT_TRUE(static_cast<bool>(padded));
  EXPECT_EQ(padded->size(), 192u);
  // Python's tuple repr: "()" for a scalar, a trailing comma for one dim.
  EXPECT_NE(encodeNpy(HostTensor{{}, {1.0f}})->find("'shape': (), }"),
            std::string::npos);
  EXPECT_NE(encodeNpy(HostTensor::zeros({7}))->find("'shape': (7,), }"),
            std::string::npos);
}

TEST(NpyTest, AcceptsHeaderVariants) {
  // Double quotes, no spaces, keys in another order, no trailing comma.
  std::string file = npyWithHeader(
      "{\"shape\":(2,),\"fortran_order\":False,\"descr\":\"<f4\"}\n",
      bytesOf({0, 0, 0x80, 0x3F, 0, 0, 0, 0x40}));
  llvm::Expected<HostTensor> tensor = parseExact(file);
  ASSERT_TRUE(static_cast<bool>(tensor)) << llvm::toString(tensor.takeError());
  EXPECT_EQ(tensor->data, (std::vector<float>{1.0f, 2.0f}));

  // An empty array whose other dimensions multiply past int64.
  llvm::Expected<HostTensor> empty = parseExact(npyWithHeader(
      dictWith("'<f4'", "False", "(4294967296, 4294967296, 0)"), ""));
  ASSERT_TRUE(static_cast<bool>(empty)) << llvm::toString(empty.takeError());
  EXPECT_EQ(empty->shape, (std::vector<int64_t>{1ll << 32, 1ll << 32, 0}));
  EXPECT_TRUE(empty->data.empty());
  EXPECT_EQ(empty->numElements(), 0);
}

TEST(NpyTest, MalformedFilesGiveClearErrors) {
  const std::string sixFloats(24, '\0');
  const std::string goodHeader = dictWith("'<f4'", "False", "(2, 3)");
  struct Case {
    const char *what;
    std::string bytes;
    const char *message;
  };
  const Case cases[] = {
      {"empty", "", "bad magic"},
      {"wrong magic", "\x93NUMPX" + bytesOf({1, 0, 0, 0}), "bad magic"},
      {"magic only", "\x93NUMPY", "ends before the format version"},
      {"version 3.0", npyWithHeader(goodHeader, sixFloats, 3),
       "unsupported .npy format version 3.0 (supported: 1.0, 2.0)"},
      {"version 1.1",
       "\x93NUMPY" + bytesOf({1, 1, 0, 0}) + goodHeader + sixFloats,
       "unsupported .npy format version 1.1"},
      {"cut length field", "\x93NUMPY" + bytesOf({1, 0, 5}),
       "ends inside the header length field"},
      {"cut v2 length field", "\x93NUMPY" + bytesOf({2, 0, 5, 0, 0}),
       "ends inside the header length field"},
      {"header longer than file",
       "\x93NUMPY" + bytesOf({1, 0, 200, 0}) + goodHeader,
       "truncated header: the header length is 200 bytes but only 59 follow"},
      {"not a dict", npyWithHeader("[1, 2]", ""), "not a Python dict literal"},
      {"missing shape",
       npyWithHeader("{'descr': '<f4', 'fortran_order': False}", ""),
       "the header dict has no 'shape' key"},
      {"missing descr",
       npyWithHeader("{'fortran_order': False, 'shape': ()}", ""),
       "the header dict has no 'descr' key"},
      {"extra key",
       npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (), "
                     "'foo': 1}",
                     ""),
       "unexpected key 'foo'"},
      {"duplicate key",
       npyWithHeader("{'descr': '<f4', 'descr': '<f4', 'fortran_order': "
                     "False, 'shape': ()}",
                     ""),
       "duplicate key 'descr'"},
      {"unterminated descr",
       npyWithHeader("{'descr': '<f4, 'fortran_order': False}", ""),
       "expected ',' or '}' after the value of 'descr'"},
      {"unquoted descr", npyWithHeader(dictWith("f4", "False", "()"), ""),
       "'descr' must be a quoted string"},
      {"missing comma",
       npyWithHeader("{'descr': '<f4' 'fortran_order': False}", ""),
       "expected ',' or '}' after the value of 'descr'"},
      {"trailing garbage", npyWithHeader(goodHeader + " x", sixFloats),
       "unexpected characters after the header dict"},
      {"fortran order",
       npyWithHeader(dictWith("'<f4'", "True", "(2, 3)"), sixFloats),
       "fortran_order is True; only C-order arrays are supported"},
      {"fortran not bool",
       npyWithHeader(dictWith("'<f4'", "0", "(2, 3)"), sixFloats),
       "'fortran_order' must be True or False"},
      {"int dtype",
       npyWithHeader(dictWith("'<i4'", "False", "(2, 3)"), sixFloats),
       "unsupported dtype '<i4' (supported: '<f2', '<f4', '<f8')"},
      {"big-endian dtype",
       npyWithHeader(dictWith("'>f4'", "False", "(2, 3)"), sixFloats),
       "unsupported dtype '>f4'"},
      {"shape not a tuple", npyWithHeader(dictWith("'<f4'", "False", "6"), ""),
       "'shape' must be a tuple of ints"},
      {"shape bad separator",
       npyWithHeader(dictWith("'<f4'", "False", "(2; 3)"), sixFloats),
       "expected ',' or ')' in 'shape'"},
      {"negative dim", npyWithHeader(dictWith("'<f4'", "False", "(-1, 3)"), ""),
       "negative dimension -1 in 'shape'"},
      {"dim overflows int64",
       npyWithHeader(dictWith("'<f4'", "False", "(9223372036854775808,)"), ""),
       "dimension 9223372036854775808 in 'shape' overflows int64"},
      // 2^32 * 2^32 = 2^64 elements.
      {"element count overflows",
       npyWithHeader(dictWith("'<f4'", "False", "(4294967296, 4294967296)"),
                     ""),
       "the number of elements of the shape overflows int64"},
      // 2^61 elements of 4 bytes = 2^63 bytes > INT64_MAX.
      {"byte size overflows",
       npyWithHeader(dictWith("'<f4'", "False", "(2305843009213693952,)"), ""),
       "the data size of the shape overflows int64"},
      {"data short", npyWithHeader(goodHeader, sixFloats.substr(4)),
       "data too short: the shape needs 24 bytes of '<f4' but the file has "
       "20"},
      {"data long", npyWithHeader(goodHeader, sixFloats + "x"),
       "data too long: the shape needs 24 bytes of '<f4' but the file has 25"},
      {"data for a huge shape",
       npyWithHeader(dictWith("'<f4'", "False", "(1000000000000,)"), sixFloats),
       "data too short: the shape needs 4000000000000 bytes"},
  };
  for (const Case &c : cases) {
    llvm::Expected<HostTensor> tensor = parseExact(c.bytes);
    ASSERT_FALSE(static_cast<bool>(tensor)) << c.what;
    std::string message = llvm::toString(tensor.takeError());
    EXPECT_EQ(message.rfind("bad.npy: ", 0), 0u) << c.what << ": " << message;
    EXPECT_NE(message.find(c.message), std::string::npos)
        << c.what << ": " << message;
  }
}

TEST(NpyTest, EveryTruncationIsAnError) {
  std::string file = numpyFloat32File();
  for (size_t size = 0; size < file.size(); ++size) {
    llvm::Expected<HostTensor> tensor = parseExact(file.substr(0, size));
    EXPECT_FALSE(static_cast<bool>(tensor)) << "prefix of " << size;
    llvm::consumeError(tensor.takeError());
  }
}

TEST(NpyTest, CorruptedBytesNeverCrash) {
  // Every header byte replaced by a few values that change the structure:
  // each must parse or fail cleanly (run under valgrind for reads).
  std::string file = numpyFloat32File();
  for (size_t i = 0; i < 128; ++i)
    for (char replacement : {'\0', '\xff', '(', ')', ',', '\'', '9', '-'}) {
      std::string corrupted = file;
      corrupted[i] = replacement;
      llvm::Expected<HostTensor> tensor = parseExact(corrupted);
      if (tensor)
        EXPECT_EQ(tensor->data.size(), size_t(tensor->numElements()));
      else
        llvm::consumeError(tensor.takeError());
    }
}

TEST(NpyTest, HugeHeaders) {
  // Format 2.0 allows a header of up to 4 GiB: a well-formed 1 MiB one
  // (padding) is read; a length past the end of the file is an error, not
  // an allocation or a read of that length.
  std::string header = dictWith("'<f4'", "False", "(2,)") +
                       std::string(1 << 20, ' ') + "\n";
  uint32_t length = header.size();
  std::string big = "\x93NUMPY" +
                    bytesOf({2, 0, length & 0xFF, (length >> 8) & 0xFF,
                             (length >> 16) & 0xFF, length >> 24}) +
                    header + bytesOf({0, 0, 0x80, 0x3F, 0, 0, 0, 0x40});
  llvm::Expected<HostTensor> tensor = parseExact(big);
  ASSERT_TRUE(static_cast<bool>(tensor)) << llvm::toString(tensor.takeError());
  EXPECT_EQ(tensor->data, (std::vector<float>{1.0f, 2.0f}));

  std::string liar = "\x93NUMPY" + bytesOf({2, 0, 0xFF, 0xFF, 0xFF, 0xFF}) +
                     dictWith("'<f4'", "False", "(2,)");
  llvm::Expected<HostTensor> bad = parseExact(liar);
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_NE(llvm::toString(bad.takeError())
                .find("the header length is 4294967295 bytes but only"),
            std::string::npos);
}

TEST(NpyTest, NonFiniteContentsAreReadAsIs) {
  // NaN and Inf are data, not format errors: read bit for bit (lpattn-run
  // warns about them and the metrics count them).
  std::string data;
  for (uint32_t bits : {0x7FC00001u, 0x7F800000u, 0xFF800000u, 0x3F800000u})
    data += bytesOf(
        {bits & 0xFF, (bits >> 8) & 0xFF, (bits >> 16) & 0xFF, bits >> 24});
  llvm::Expected<HostTensor> tensor =
      parseExact(npyWithHeader(dictWith("'<f4'", "False", "(4,)"), data));
  ASSERT_TRUE(static_cast<bool>(tensor)) << llvm::toString(tensor.takeError());
  EXPECT_EQ(bitsOf(tensor->data),
            (std::vector<uint32_t>{0x7FC00001u, 0x7F800000u, 0xFF800000u,
                                   0x3F800000u}));
  // f8 -> f4: out-of-range finite doubles round to Inf (documented).
  std::string f8;
  for (uint64_t bits : {0x7FEFFFFFFFFFFFFFull, 0x7FF8000000000000ull})
    for (int i = 0; i < 8; ++i)
      f8.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
  llvm::Expected<HostTensor> wide =
      parseExact(npyWithHeader(dictWith("'<f8'", "False", "(2,)"), f8));
  ASSERT_TRUE(static_cast<bool>(wide)) << llvm::toString(wide.takeError());
  EXPECT_TRUE(std::isinf(wide->data[0]));
  EXPECT_TRUE(std::isnan(wide->data[1]));
}

TEST(NpyTest, FileAndEncodeErrors) {
  llvm::Expected<HostTensor> missing = readNpy("/nonexistent/dir/x.npy");
  ASSERT_FALSE(static_cast<bool>(missing));
  EXPECT_NE(llvm::toString(missing.takeError())
                .find("/nonexistent/dir/x.npy: cannot read"),
            std::string::npos);

  HostTensor inconsistent{{2, 3}, {1, 2, 3, 4, 5}};
  llvm::Error err = writeNpy("/nonexistent/dir/y.npy", inconsistent);
  ASSERT_TRUE(static_cast<bool>(err));
  EXPECT_NE(llvm::toString(std::move(err))
                .find("5 data elements but the shape has 6"),
            std::string::npos);

  llvm::Error unwritable =
      writeNpy("/nonexistent/dir/z.npy", HostTensor{{}, {1}});
  EXPECT_TRUE(static_cast<bool>(unwritable));
  llvm::consumeError(std::move(unwritable));
}

} // namespace

TEST(NpyTest, RawStorageCodes) {
  // FP8 codes as '|u1' and f16/bf16 codes as '<u2', byte for byte as
  // numpy.save writes uint8 and uint16 arrays.
  std::string u1("\x01\x02\xff\x80\x00\x7f", 6);
  llvm::Expected<std::string> bytes = encodeNpyRaw("|u1", {2, 3}, u1);
  ASSERT_TRUE(static_cast<bool>(bytes)) << llvm::toString(bytes.takeError());
  EXPECT_EQ(bytes->substr(0, 70).find("{'descr': '|u1', 'fortran_order': "
                                      "False, 'shape': (2, 3), }"),
            10u);
  EXPECT_EQ(bytes->size() % 64, 6u);
  llvm::Expected<NpyRaw> raw = parseNpyRaw(*bytes);
  ASSERT_TRUE(static_cast<bool>(raw)) << llvm::toString(raw.takeError());
  EXPECT_EQ(raw->descr, "|u1");
  EXPECT_EQ(raw->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(raw->data, u1);
  // A float file reads raw too, as its bytes.
  llvm::Expected<std::string> f4 = encodeNpy(HostTensor{{2}, {1.0f, 2.0f}});
  llvm::Expected<NpyRaw> rawF4 = parseNpyRaw(*f4);
  ASSERT_TRUE(static_cast<bool>(rawF4));
  EXPECT_EQ(rawF4->descr, "<f4");
  EXPECT_EQ(rawF4->data.size(), 8u);
  // The float readers refuse codes; sizes must agree.
  EXPECT_EQ(llvm::toString(parseNpy(*bytes, "c.npy").takeError()),
            "c.npy: unsupported dtype '|u1' (supported: '<f2', '<f4', '<f8')");
  EXPECT_EQ(llvm::toString(encodeNpyRaw("<u2", {2}, "abc").takeError()),
            "cannot encode .npy: 1 data elements but the shape has 2");
  EXPECT_EQ(llvm::toString(encodeNpyRaw("<i4", {1}, "abcd").takeError()),
            "cannot encode .npy: unsupported dtype '<i4'");
}
