//===- NpyFile.h - NumPy .npy files without LLVM --------------*- C++ -*-===//
//
// The .npy reader and writer of the GPU tools, which are built where LLVM is
// not (the GPU machine). Plain C++17. Reads format versions 1.0 and 2.0 of
// C-order arrays with the little-endian dtypes the GPU check exchanges:
// '|u1' (FP8 codes), '<u2' (f16/bf16 codes), '<f2', '<f4', '<f8', '<i8';
// writes version 1.0 as numpy.save does. Every malformed file is one error
// naming the file and the problem, never a crash or an out-of-bounds read
// (the same rules as lpattn's LLVM-side reader, lib/Lab/Npy.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_RT_TOOLS_NPYFILE_H
#define LPATTN_RT_TOOLS_NPYFILE_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lpattn::rt::npy {

/// One array: its dtype as numpy spells it, its shape and its raw
/// little-endian bytes in C order.
struct Array {
  std::string descr;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;

  /// Product of the shape (1 for a scalar).
  int64_t numElements() const;
};

/// Bytes per element of a dtype this reader accepts; 0 for any other.
unsigned dtypeSize(std::string_view descr);

/// "[2, 3]".
std::string formatShape(const std::vector<int64_t> &shape);

/// Parses the bytes of a .npy file; `source` prefixes messages. On failure
/// returns false with one message in `error` ("q.npy: data too short: ...").
bool parse(std::string_view bytes, const std::string &source, Array &result,
           std::string &error);

/// Reads the file at `path` (at most `maxBytes`) and parses it.
bool read(const std::string &path, Array &result, std::string &error,
          uint64_t maxBytes = uint64_t(1) << 36);

/// The bytes numpy.save writes for an array of `descr` and `shape` holding
/// `data` (format 1.0, header padded to a multiple of 64 bytes).
std::string encode(std::string_view descr, const std::vector<int64_t> &shape,
                   const void *data, size_t numBytes);

/// encode() written to `path`; false with a message on failure.
bool write(const std::string &path, std::string_view descr,
           const std::vector<int64_t> &shape, const void *data,
           size_t numBytes, std::string &error);

} // namespace lpattn::rt::npy

#endif // LPATTN_RT_TOOLS_NPYFILE_H
