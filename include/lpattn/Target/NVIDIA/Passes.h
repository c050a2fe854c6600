//===- Passes.h - lpattn NVIDIA (sm_90a) passes -----------------*- C++ -*-===//

#ifndef LPATTN_TARGET_NVIDIA_PASSES_H
#define LPATTN_TARGET_NVIDIA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace lpattn {

#define GEN_PASS_DECL
#include "lpattn/Target/NVIDIA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lpattn/Target/NVIDIA/Passes.h.inc"

/// The module attribute lpattn-tile-to-sm90 writes: the kernel half of the
/// launch descriptor (kernel, grid, block, dynamic_shared_memory, signature,
/// params, tensor_maps, tiles), in the descriptor's JSON spelling.
inline constexpr llvm::StringLiteral kLaunchAttrName = "lpattn.launch";

} // namespace lpattn

#endif // LPATTN_TARGET_NVIDIA_PASSES_H
