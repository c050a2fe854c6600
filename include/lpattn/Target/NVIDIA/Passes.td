//===- Passes.td - lpattn NVIDIA (sm_90a) passes -----------*- tablegen -*-===//
//
// The GPU half of the data path, kept apart from the target-independent
// passes: the tile-level form, after its safeguards, to one wgmma/TMA kernel
// per attention in a gpu.module, and that kernel to the LLVM/NVVM dialects.
//
//===----------------------------------------------------------------------===//

#ifndef LPATTN_TARGET_NVIDIA_PASSES_TD
#define LPATTN_TARGET_NVIDIA_PASSES_TD

include "mlir/Pass/PassBase.td"

def LPAttnCheckSM90 : Pass<"lpattn-check-sm90", "::mlir::ModuleOp"> {
  let summary = "Diagnose lpattn.attention ops the sm_90a kernel cannot run";
  let description = [{
    Runs before tiling, on the ops, so that a user gets one diagnostic that
    names the attribute the sm_90a lowering does not support (instead of a
    failure deep in the tile IR): FP8 Q/K and P/V (wgmma's FP8 forms), score
    and acc f32, head dims 64, 128 or 256 with Dv = D, tile-q 64 (one
    warpgroup's wgmma M), tile-kv 64 or 128 (64 for D = 256, for registers),
    Nq >= 64 and Nk >= tile-kv, and no PASA (CPU-only for now).
  }];
}

def LPAttnTileToSM90 : Pass<"lpattn-tile-to-sm90", "::mlir::ModuleOp"> {
  let summary = "Lower the tile-level attention to an sm_90a wgmma/TMA kernel";
  let description = [{
    Replaces each function holding one tile-level attention (the output of
    lpattn-tile and the safeguard passes) by a kernel `llvm.func` in a
    `gpu.module` targeting sm_90a, and records its launch geometry, kernel
    parameters and TMA tensor maps in the module attribute `lpattn.launch`
    (the launch descriptor's kernel half, docs/launch-descriptor.md).

    The kernel is FlashAttention-3's structure: a producer warpgroup loads
    Q once and K/V tiles into a ring of shared-memory stages with TMA and
    mbarriers, in the order the tile IR's `kv_offset` step gives, and writes
    V^T (the K-major layout FP8 wgmma needs) into shared memory; two
    consumer warpgroups of 64 query rows each compute Q K^T with shared x
    shared wgmma, the online softmax in registers, cast P in registers and
    use it as the register A operand of the P V wgmma. Every elementwise and
    row-wise numerics step is the body of its `lpattn.step` op in the tile IR,
    evaluated on each thread's accumulator fragment (row reductions finish
    with quad shuffles), so a new safeguard reaches the GPU without GPU code.
    Each tile product goes into a fresh accumulator that the tile IR's
    `accumulate` step adds to the f32 output in registers (two-level
    accumulation).
  }];
  let options = [
    Option<"stages", "stages", "int64_t", /*default=*/"2",
           "shared-memory stages of the K/V ring">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "the NVVM target chip">,
    Option<"features", "features", "std::string", /*default=*/"\"+ptx80\"",
           "the NVVM target features (PTX ISA 8.0 or later for wgmma)">,
    Option<"dumpP", "dump-p", "bool", /*default=*/"false",
           "debug: two extra kernel parameters p_scaled and p_codes receive "
           "P * S before and the FP8 codes after the P cast, [64, Bc], of "
           "one tile (block (0, 0, 0), first consumer, kv_offset 0)">
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect"
  ];
}

def LPAttnSM90ToLLVM : Pass<"lpattn-sm90-to-llvm", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Lower an lpattn sm_90a kernel's arith/scf/math and casts to LLVM";
  let description = [{
    Expands lpattn.truncf into integer bit arithmetic (the same rewrites as
    the CPU path, lpattn-expand-float-casts), then converts scf, arith, cf and
    index to the LLVM dialect (32-bit index), leaving a gpu.module that
    gpu-module-to-binary serializes.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // LPATTN_TARGET_NVIDIA_PASSES_TD
