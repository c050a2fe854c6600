//===- Metrics.cpp - error of an output against the reference -------------===//
//
// One pass in double over output and reference; see Metrics.h for how NaN
// and Inf outputs are treated.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Metrics.h"

#include <cmath>
#include <limits>

using namespace lpattn::lab;
using llvm::Expected;

Expected<ErrorMetrics>
lpattn::lab::computeMetrics(llvm::ArrayRef<float> output,
                            llvm::ArrayRef<double> reference) {
  if (output.size() != reference.size())
    return llvm::createStringError(
        "computeMetrics: the output has " + llvm::Twine(output.size()) +
        " elements but the reference has " + llvm::Twine(reference.size()));
  ErrorMetrics metrics;
  double sumSquaredError = 0.0, sumSquaredReference = 0.0, sumError = 0.0;
  for (size_t i = 0; i < output.size(); ++i) {
    if (std::isnan(output[i])) {
      ++metrics.numNaN;
      continue;
    }
    if (std::isinf(output[i])) {
      ++metrics.numInf;
      continue;
    }
    if (!std::isfinite(reference[i])) {
      ++metrics.numReferenceNonFinite;
      continue;
    }
    ++metrics.numFinite;
    double error = double(output[i]) - reference[i];
    sumSquaredError += error * error;
    sumError += error;
    sumSquaredReference += reference[i] * reference[i];
    metrics.maxAbsError = std::max(metrics.maxAbsError, std::fabs(error));
  }
  if (metrics.numFinite == 0) {
    metrics.mse = metrics.maxAbsError = metrics.relativeRMSE = metrics.meanError =
        std::numeric_limits<double>::quiet_NaN();
    return metrics;
  }
  metrics.mse = sumSquaredError / double(metrics.numFinite);
  metrics.meanError = sumError / double(metrics.numFinite);
  if (sumSquaredReference > 0)
    metrics.relativeRMSE =
        std::sqrt(sumSquaredError) / std::sqrt(sumSquaredReference);
  else
    metrics.relativeRMSE =
        sumSquaredError == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return metrics;
}

Expected<ErrorMetrics>
lpattn::lab::computeMetrics(const HostTensor &output,
                            const HostTensorF64 &reference) {
  if (output.shape != reference.shape)
    return llvm::createStringError(
        "computeMetrics: output shape " + formatShape(output.shape) +
        " differs from reference shape " + formatShape(reference.shape));
  return computeMetrics(llvm::ArrayRef<float>(output.data),
                        llvm::ArrayRef<double>(reference.data));
}
