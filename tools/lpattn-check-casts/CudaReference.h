//===- CudaReference.h - CUDA's host-side float conversions --- -*- C++ -*-===//
//
// The reference the casts must match: CUDA's own conversions, whose host
// implementations in the toolkit headers (cuda_fp8.h, cuda_fp16.h,
// cuda_bf16.h) compile as plain C++ and model what the GPU's cvt does.
// Include only where the CUDA include directory is on the path.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_UNITTESTS_CONVERSION_CUDAREFERENCE_H
#define LPATTN_UNITTESTS_CONVERSION_CUDAREFERENCE_H

#include "CastKernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "llvm/Support/ErrorHandling.h"

#include <cstring>

namespace lpattn::casts {

/// CUDA's bits of `cast`(x). FP8: __nv_cvt_float_to_fp8 with __NV_SATFINITE
/// or __NV_NOSAT. f16/bf16: __float2half_rn / __float2bfloat16_rn, which do
/// not saturate; for satfinite an infinite result is clamped to +-max
/// finite, which is what satfinite means (NaN stays NaN).
inline uint32_t cudaTruncate(float x, const TruncCast &cast) {
  bool satfinite = cast.overflow == OverflowMode::SatFinite;
  switch (cast.format) {
  case FloatFormat::F8E4M3FN:
  case FloatFormat::F8E5M2:
    return __nv_cvt_float_to_fp8(
        x, satfinite ? __NV_SATFINITE : __NV_NOSAT,
        cast.format == FloatFormat::F8E4M3FN ? __NV_E4M3 : __NV_E5M2);
  case FloatFormat::F16:
  case FloatFormat::BF16: {
    uint16_t bits;
    if (cast.format == FloatFormat::F16) {
      __half value = __float2half_rn(x);
      std::memcpy(&bits, &value, sizeof(bits));
    } else {
      __nv_bfloat16 value = __float2bfloat16_rn(x);
      std::memcpy(&bits, &value, sizeof(bits));
    }
    // The Inf of both is the all-ones exponent with a zero mantissa, and
    // the largest finite value is the code just below it.
    uint16_t inf = cast.format == FloatFormat::F16 ? 0x7C00 : 0x7F80;
    if (satfinite && (bits & 0x7FFF) == inf)
      bits -= 1;
    return bits;
  }
  case FloatFormat::F32:
    break;
  }
  llvm_unreachable("no CUDA conversion to f32");
}

/// CUDA's f32 bits of the `from` code `code`: FP8 through
/// __nv_cvt_fp8_to_halfraw (exact) and then __half2float, as CUDA's
/// __nv_fp8_e4m3::operator float does.
inline uint32_t cudaExtend(uint32_t code, FloatFormat from) {
  float value = 0;
  switch (from) {
  case FloatFormat::F8E4M3FN:
  case FloatFormat::F8E5M2: {
    __half_raw raw = __nv_cvt_fp8_to_halfraw(
        static_cast<__nv_fp8_storage_t>(code),
        from == FloatFormat::F8E4M3FN ? __NV_E4M3 : __NV_E5M2);
    value = __half2float(__half(raw));
    break;
  }
  case FloatFormat::F16: {
    __half_raw raw;
    raw.x = static_cast<unsigned short>(code);
    value = __half2float(__half(raw));
    break;
  }
  case FloatFormat::BF16: {
    __nv_bfloat16_raw raw;
    raw.x = static_cast<unsigned short>(code);
    value = __bfloat162float(__nv_bfloat16(raw));
    break;
  }
  case FloatFormat::F32:
    llvm_unreachable("no CUDA conversion from f32");
  }
  return floatToBits(value);
}

} // namespace lpattn::casts

#endif // LPATTN_UNITTESTS_CONVERSION_CUDAREFERENCE_H
