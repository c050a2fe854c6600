//===- main.cpp - an lpattn consumer built against the installed package --===//
//
// Builds an attention with the op's builder, runs the registered CPU
// pipeline to the LLVM dialect, and checks the numerics core's defaults:
// exits 0 only if all of it works from the installed headers and libraries.
//
//===----------------------------------------------------------------------===//

#include "lpattn/Dialect/LPAttn/IR/LPAttnDialect.h"
#include "lpattn/Numerics/Rules.h"
#include "lpattn/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Pass/PassManager.h"

#include <cstdio>

using namespace mlir;

int main() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<lpattn::LPAttnDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  OpBuilder b(&context);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto t = RankedTensorType::get({1, 1, 16, 16}, b.getF32Type());
  auto func = func::FuncOp::create(b, loc, "attention",
                                   b.getFunctionType({t, t, t}, {t}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  lpattn::PrecisionPolicy policy; // all f32
  auto op = lpattn::AttentionOp::create(
      b, loc, body->getArgument(0), body->getArgument(1),
      body->getArgument(2), lpattn::PrecisionPolicyAttr::get(&context, policy));
  func::ReturnOp::create(b, loc, op.getResult());
  if (failed(verify(*module)))
    return 1;
  if (op.getSoftmaxScaleAttr().getValueAsDouble() !=
      lpattn::getDefaultSoftmaxScale(16))
    return 2;

  PassManager pm(&context, ModuleOp::getOperationName());
  lpattn::buildLPAttnCPUPipeline(pm, lpattn::LPAttnPipelineOptions());
  if (failed(pm.run(*module)))
    return 3;
  bool lowered = true;
  module->walk([&](Operation *nested) {
    if (nested->getDialect() &&
        nested->getDialect()->getNamespace() != "llvm" && !isa<ModuleOp>(nested))
      lowered = false;
  });
  std::printf("lpattn consumer: %s\n", lowered ? "lowered to LLVM" : "not lowered");
  return lowered ? 0 : 4;
}
