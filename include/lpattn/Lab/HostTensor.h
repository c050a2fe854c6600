//===- HostTensor.h - dense host tensors for the numerics lab ---*- C++ -*-===//
//
// The plain row-major tensor the lab passes around: inputs from the
// generators and .npy files, the float64 reference and the outputs compared
// against it. Deliberately minimal: a shape and a flat vector.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_LAB_HOSTTENSOR_H
#define LPATTN_LAB_HOSTTENSOR_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"

#include <cassert>
#include <cstdint>
#include <string>
#include <vector>

namespace lpattn::lab {

/// A dense row-major (C-order) tensor of element type T. An empty shape is a
/// scalar (one element). An aggregate, so `HostTensor{{2, 3}, {...}}` works.
template <typename T> struct HostTensorOf {
  std::vector<int64_t> shape;
  std::vector<T> data;

  /// Product of `shape` (1 for a scalar). Dimensions must be non-negative.
  static int64_t countElements(llvm::ArrayRef<int64_t> shape) {
    // Zero first: then the other dimensions cannot overflow the product.
    if (llvm::is_contained(shape, int64_t(0)))
      return 0;
    int64_t count = 1;
    for (int64_t dim : shape) {
      assert(dim >= 0 && "negative tensor dimension");
      count *= dim;
    }
    return count;
  }

  /// A tensor of `shape` filled with zeros.
  static HostTensorOf zeros(llvm::ArrayRef<int64_t> shape) {
    return {std::vector<int64_t>(shape.begin(), shape.end()),
            std::vector<T>(countElements(shape), T(0))};
  }

  int64_t numElements() const { return countElements(shape); }

  /// Flat index of element [b, h, n, d] of a 4-D [B, H, N, D] tensor.
  int64_t offset(int64_t b, int64_t h, int64_t n, int64_t d) const {
    assert(shape.size() == 4 && "offset() needs a 4-D [B, H, N, D] tensor");
    assert(b >= 0 && b < shape[0] && h >= 0 && h < shape[1] && n >= 0 &&
           n < shape[2] && d >= 0 && d < shape[3] && "index out of bounds");
    return ((b * shape[1] + h) * shape[2] + n) * shape[3] + d;
  }
  T &at(int64_t b, int64_t h, int64_t n, int64_t d) {
    return data[offset(b, h, n, d)];
  }
  const T &at(int64_t b, int64_t h, int64_t n, int64_t d) const {
    return data[offset(b, h, n, d)];
  }
};

/// "[2, 3]": a shape as error messages print it.
inline std::string formatShape(llvm::ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// Inputs and low-precision outputs are float tensors.
using HostTensor = HostTensorOf<float>;
/// The float64 reference (and .npy '<f8' data read without rounding).
using HostTensorF64 = HostTensorOf<double>;

} // namespace lpattn::lab

#endif // LPATTN_LAB_HOSTTENSOR_H
