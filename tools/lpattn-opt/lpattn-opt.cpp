//===- lpattn-opt.cpp - lpattn optimizer driver ---------------------------===//
//
// An mlir-opt for lpattn: parses, verifies, runs passes and prints IR with
// the lpattn dialect and the upstream dialects its lowering uses.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Dialect/LPAttn/Transforms/Passes.h"
#include "lpattn/Dialect/LPAttn/Transforms/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<lpattn::LPAttnDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect,
                  mlir::vector::VectorDialect>();
  // Upstream passes (canonicalize, cse, linalg, bufferization, ...) to
  // compose with ours.
  mlir::registerAllPasses();
  lpattn::registerLPAttnPasses();
  lpattn::registerLPAttnPipelines();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "lpattn optimizer driver: numerically robust low-precision attention\n",
      registry));
}
