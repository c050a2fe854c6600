//===- Metrics.h - error of an output against the reference -----*- C++ -*-===//
//
// The accuracy numbers of SPEC.md (MSE and max abs error of O against the
// float64 reference), plus relative RMSE and counts of NaN and Inf outputs.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_LAB_METRICS_H
#define LPATTN_LAB_METRICS_H

#include "lpattn/Lab/HostTensor.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>

namespace lpattn::lab {

/// Errors of an output against the reference. Output entries that are NaN
/// or +-Inf are counted in numNaN / numInf and left out of every error sum:
/// the error statistics describe the finite entries only (numFinite of
/// them), so always check the counts too. Entries whose reference is NaN or
/// +-Inf (from non-finite inputs) are counted in numReferenceNonFinite and
/// left out as well, so that no statistic mixes NaN with finite errors. With
/// no entry left, mse, meanError, maxAbsError and relativeRMSE are NaN.
struct ErrorMetrics {
  /// mean of (out - ref)^2 over the finite entries.
  double mse = 0.0;
  /// mean of (out - ref) over the finite entries: the bias (LPTF).
  double meanError = 0.0;
  /// max |out - ref| over the finite entries.
  double maxAbsError = 0.0;
  /// sqrt(sum (out - ref)^2) / sqrt(sum ref^2) over the finite entries; 0 if
  /// both sums are 0, +Inf if only the reference sum is.
  double relativeRMSE = 0.0;
  int64_t numNaN = 0, numInf = 0, numFinite = 0;
  /// How many standard errors the bias is from 0, with the output's rows
  /// (its last dimension) as the samples: each row's mean signed error over
  /// its finite entries, then mean / (stddev / sqrt(rows)). Errors within a
  /// row share the row's P and normalizer, so rows, not entries, are the
  /// independent draws. Only the tensor overload of computeMetrics sets it;
  /// 0 with fewer than 2 rows or no spread.
  double biasT = 0.0;
  /// Entries with a finite output whose reference is NaN or +-Inf.
  int64_t numReferenceNonFinite = 0;
};

/// The t-statistic of `biasT` for rows of `rowLength` consecutive entries.
double computeBiasT(llvm::ArrayRef<float> output,
                    llvm::ArrayRef<double> reference, int64_t rowLength);

/// Metrics of `output` against `reference`; an error if their sizes differ.
llvm::Expected<ErrorMetrics> computeMetrics(llvm::ArrayRef<float> output,
                                            llvm::ArrayRef<double> reference);
/// As above; an error if the shapes differ.
llvm::Expected<ErrorMetrics> computeMetrics(const HostTensor &output,
                                            const HostTensorF64 &reference);

} // namespace lpattn::lab

#endif // LPATTN_LAB_METRICS_H
