//===- Metrics.cpp - error of an output against the reference -------------===//
//
// One pass in double over output and reference; see Metrics.h for how NaN
// and Inf outputs are treated.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Lab/Metrics.h"

#include <cmath>
#include <limits>
#include <vector>

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
  Expected<ErrorMetrics> metrics = computeMetrics(
      llvm::ArrayRef<float>(output.data),
      llvm::ArrayRef<double>(reference.data));
  if (metrics && !output.shape.empty())
    metrics->biasT =
        computeBiasT(output.data, reference.data, output.shape.back());
  return metrics;
}

double lpattn::lab::computeBiasT(llvm::ArrayRef<float> output,
                                 llvm::ArrayRef<double> reference,
                                 int64_t rowLength) {
  if (rowLength <= 0 || output.size() != reference.size())
    return 0.0;
  std::vector<double> rowMeans;
  for (size_t start = 0; start + rowLength <= output.size();
       start += rowLength) {
    double sum = 0.0;
    int64_t count = 0;
    for (size_t i = start; i < start + rowLength; ++i)
      if (std::isfinite(output[i])) {
        sum += double(output[i]) - reference[i];
        ++count;
      }
    if (count > 0)
      rowMeans.push_back(sum / double(count));
  }
  if (rowMeans.size() < 2)
    return 0.0;
  double mean = 0.0;
  for (double x : rowMeans)
    mean += x;
  mean /= double(rowMeans.size());
  double variance = 0.0;
  for (double x : rowMeans)
    variance += (x - mean) * (x - mean);
  variance /= double(rowMeans.size() - 1);
  if (!(variance > 0))
    return 0.0;
  return mean / std::sqrt(variance / double(rowMeans.size()));
}
