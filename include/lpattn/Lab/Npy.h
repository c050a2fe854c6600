//===- Npy.h - NumPy .npy reading and writing -------------------*- C++ -*-===//
//
// Exchange of tensors with NumPy (inputs from real models, outputs for
// plotting). Reads format versions 1.0 and 2.0 with little-endian '<f2',
// '<f4' and '<f8' data in C order (and, raw, '|u1' and '<u2' storage codes);
// writes version 1.0 byte for byte as numpy.save does ('<f4' for float, '<f8'
// for double tensors, any of those dtypes raw). A malformed
// file is an llvm::Error naming the file and the problem, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_LAB_NPY_H
#define LPATTN_LAB_NPY_H

#include "lpattn/Lab/HostTensor.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace lpattn::lab {

/// Parses the bytes of a .npy file; `source` prefixes error messages. '<f2'
/// is widened exactly, '<f8' is rounded to nearest even (overflow gives Inf).
llvm::Expected<HostTensor> parseNpy(llvm::StringRef bytes,
                                    llvm::StringRef source = "<memory>");
/// As parseNpy, but to double: every supported dtype converts exactly.
llvm::Expected<HostTensorF64>
parseNpyDouble(llvm::StringRef bytes, llvm::StringRef source = "<memory>");

/// parseNpy / parseNpyDouble of the file at `path`.
llvm::Expected<HostTensor> readNpy(llvm::StringRef path);
llvm::Expected<HostTensorF64> readNpyDouble(llvm::StringRef path);

/// The exact bytes numpy.save writes for the tensor (format 1.0, '<f4' or
/// '<f8', header padded to a multiple of 64 bytes). An error if the data size
/// disagrees with the shape.
llvm::Expected<std::string> encodeNpy(const HostTensor &tensor);
llvm::Expected<std::string> encodeNpy(const HostTensorF64 &tensor);

/// Writes encodeNpy(tensor) to `path` (atomically, via a temporary file).
llvm::Error writeNpy(llvm::StringRef path, const HostTensor &tensor);
llvm::Error writeNpy(llvm::StringRef path, const HostTensorF64 &tensor);

/// An array as stored: its dtype, shape and raw little-endian bytes. Storage
/// codes travel so: '|u1' for FP8 bytes, '<u2' for f16/bf16 halfwords (the
/// GPU check's case files, docs/gpu-check.md).
struct NpyRaw {
  std::string descr;
  std::vector<int64_t> shape;
  std::string data;
};

/// Parses a file of dtype '<f2', '<f4', '<f8', '|u1' or '<u2' without
/// converting its data (same checks as parseNpy).
llvm::Expected<NpyRaw> parseNpyRaw(llvm::StringRef bytes,
                                   llvm::StringRef source = "<memory>");
llvm::Expected<NpyRaw> readNpyRaw(llvm::StringRef path);

/// The bytes numpy.save writes for `data` (raw, little-endian) of dtype
/// `descr` (one of parseNpyRaw's) and `shape`; an error if the sizes
/// disagree.
llvm::Expected<std::string> encodeNpyRaw(llvm::StringRef descr,
                                         llvm::ArrayRef<int64_t> shape,
                                         llvm::StringRef data);
llvm::Error writeNpyRaw(llvm::StringRef path, llvm::StringRef descr,
                        llvm::ArrayRef<int64_t> shape, llvm::StringRef data);

} // namespace lpattn::lab

#endif // LPATTN_LAB_NPY_H
