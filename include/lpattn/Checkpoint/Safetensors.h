//===- Safetensors.h - reading .safetensors checkpoints ---------*- C++ -*-===//
//
// A reader of the safetensors format (Hugging Face): an 8-byte
// little-endian header length N, N bytes of JSON header mapping tensor names
// to {dtype, shape, data_offsets} (offsets relative to the data after the
// header), an optional "__metadata__" object of strings, then the data.
// Everything the header says is checked against the file before any tensor
// is read, so a malformed file is one llvm::Error naming the file and the
// problem, never an out-of-bounds read. F32, F16 and BF16 tensors convert to
// float exactly; any other dtype is an error when that tensor is read. No
// MLIR: LLVM Support only.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_CHECKPOINT_SAFETENSORS_H
#define LPATTN_CHECKPOINT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lpattn::checkpoint {

/// The largest JSON header accepted (100 MiB, far above real checkpoints'
/// few hundred KiB), so that a corrupted length is refused, not allocated.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

/// One tensor as its header entry states it; [begin, end) are byte offsets
/// into the data section, already checked against the file.
struct SafetensorsTensor {
  std::string name;
  std::string dtype; ///< as written: "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;

  int64_t getNumElements() const;
};

/// Bytes per element of a safetensors dtype name; nullopt for a name the
/// format does not define.
std::optional<unsigned> getSafetensorsDTypeSize(llvm::StringRef dtype);

/// A checked safetensors file. Tensor data stays in the (memory-mapped)
/// buffer until readFloats converts one tensor.
class SafetensorsFile {
public:
  /// Opens and checks the file at `path` (its name prefixes every error).
  static llvm::Expected<SafetensorsFile> open(llvm::StringRef path);
  /// Checks the bytes in `buffer`; `source` prefixes every error.
  static llvm::Expected<SafetensorsFile>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef source);

  llvm::StringRef getSource() const { return source; }
  /// The tensors, in the order of their data offsets.
  llvm::ArrayRef<SafetensorsTensor> getTensors() const { return tensors; }
  /// The tensor called `name`, or null.
  const SafetensorsTensor *find(llvm::StringRef name) const;
  /// "__metadata__" (string values only, as the format requires).
  const std::map<std::string, std::string> &getMetadata() const {
    return metadata;
  }

  /// The elements of tensor `name` in row-major order, as float (F32 as
  /// stored, F16 and BF16 widened exactly); an error naming the tensor if
  /// it is missing or of another dtype.
  llvm::Expected<std::vector<float>> readFloats(llvm::StringRef name) const;

private:
  SafetensorsFile() = default;

  std::string source;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  llvm::StringRef data; ///< the data section, after the header
  std::vector<SafetensorsTensor> tensors;
  std::map<std::string, size_t, std::less<>> index;
  std::map<std::string, std::string> metadata;
};

} // namespace lpattn::checkpoint

#endif // LPATTN_CHECKPOINT_SAFETENSORS_H
