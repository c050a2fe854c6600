//===- Compiler.h - an lpattn.attention to an sm_90a artifact ---*- C++ -*-===//
//
// The GPU compile driver as a library, used by lpattn-compile and by
// lpattn-run --device gpu: lpattn-sm90-pipeline, gpu-module-to-binary (PTX
// from the NVPTX backend), ptxas (cubin), and the launch descriptor (the
// kernel half from the pipeline's `lpattn.launch`, the numerics half from
// the op's attributes), written as PREFIX.{ptx,cubin,ptxas.log,json}.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_TARGET_NVIDIA_COMPILER_H
#define LPATTN_TARGET_NVIDIA_COMPILER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/Error.h"

#include <string>

namespace lpattn {

struct SM90CompileOptions {
  /// Tile sizes [Br, Bc] for an op without `tiles` (0: the default of
  /// Numerics/Rules.h); lpattn-check-sm90 judges them as the op's own.
  int64_t tileQ = 0, tileKV = 0;
  int64_t stages = 2;
  std::string chip = "sm_90a";
  /// ptxas to run; empty: ptxas on PATH, then /usr/local/cuda/bin/ptxas;
  /// "none": write the PTX and descriptor only.
  std::string ptxas;
  /// Debug: the P dump parameters (lpattn-tile-to-sm90's dump-p).
  bool dumpP = false;
  /// Where to print the kernel module before serialization (null: nowhere).
  llvm::raw_ostream *printIR = nullptr;
};

/// Seconds each stage took.
struct SM90CompileTimes {
  double lower = 0, ptx = 0, ptxas = 0;
};

/// Adds what compileSM90 needs to a context's registry: the dialects of the
/// pipeline, the LLVM IR translations and the NVVM target.
void registerSM90CompilerDependencies(mlir::DialectRegistry &registry);

/// Compiles `module` (one lpattn.attention) in place and writes
/// `prefix`.ptx, .cubin, .ptxas.log and .json. Diagnostics go to the
/// module's context; the error says which stage failed.
llvm::Error compileSM90(mlir::ModuleOp module, llvm::StringRef prefix,
                        const SM90CompileOptions &options,
                        SM90CompileTimes *times = nullptr);

} // namespace lpattn

#endif // LPATTN_TARGET_NVIDIA_COMPILER_H
