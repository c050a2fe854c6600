// Debian's own mlir-opt-22 with LPAttnPlugin.so: it parses and verifies the
// lpattn dialect, and runs every lpattn pass and pipeline with the same
// result as lpattn-opt. A pass from a plugin is not a command-line flag of
// mlir-opt (`--lpattn-tile`: "Unknown command line argument", although
// --help lists it; upstream llvm/llvm-project#78020): it is named in
// --pass-pipeline.
// REQUIRES: mlir-opt-plugin
// RUN: split-file %s %t
//
// The tile-level form, checked, then every pass diffed against lpattn-opt.
// RUN: %mlir_opt_plugin %t/fp8.mlir --pass-pipeline="builtin.module(func.func(lpattn-tile))" | FileCheck %s
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: lpattn.step = #lpattn<step p_cast>
// CHECK: lpattn.kv_loop
//
// RUN: %mlir_opt_plugin %t/fp8.mlir > %t/parsed.plugin.mlir
// RUN: lpattn-opt %t/fp8.mlir > %t/parsed.lpattn.mlir
// RUN: diff %t/parsed.plugin.mlir %t/parsed.lpattn.mlir
// RUN: %mlir_opt_plugin %t/fp8.mlir --pass-pipeline="builtin.module(func.func(lpattn-tile,lpattn-insert-p-scale{scale=256},lpattn-reverse-kv,lpattn-bias-corrected-softmax))" > %t/safe.plugin.mlir
// RUN: lpattn-opt %t/fp8.mlir --pass-pipeline="builtin.module(func.func(lpattn-tile,lpattn-insert-p-scale{scale=256},lpattn-reverse-kv,lpattn-bias-corrected-softmax))" > %t/safe.lpattn.mlir
// RUN: diff %t/safe.plugin.mlir %t/safe.lpattn.mlir
// RUN: FileCheck %s --check-prefix=SAFE < %t/safe.plugin.mlir
// SAFE: lpattn.step = #lpattn<step kv_index>
// RUN: %mlir_opt_plugin %t/fp8.mlir --pass-pipeline="builtin.module(func.func(lpattn-tile,lpattn-pasa-shift{beta=1},lpattn-count-collapse{sink-keys=4}))" > %t/pasa.plugin.mlir
// RUN: lpattn-opt %t/fp8.mlir --pass-pipeline="builtin.module(func.func(lpattn-tile,lpattn-pasa-shift{beta=1},lpattn-count-collapse{sink-keys=4}))" > %t/pasa.lpattn.mlir
// RUN: diff %t/pasa.plugin.mlir %t/pasa.lpattn.mlir
// RUN: %mlir_opt_plugin %t/fp8.mlir --pass-pipeline="builtin.module(func.func(lpattn-tile),lpattn-robust-fp8,func.func(lpattn-cpu-matmul-layout))" > %t/layout.plugin.mlir
// RUN: lpattn-opt %t/fp8.mlir --pass-pipeline="builtin.module(func.func(lpattn-tile),lpattn-robust-fp8,func.func(lpattn-cpu-matmul-layout))" > %t/layout.lpattn.mlir
// RUN: diff %t/layout.plugin.mlir %t/layout.lpattn.mlir
// RUN: %mlir_opt_plugin %t/casts.mlir --pass-pipeline="builtin.module(lpattn-expand-float-casts)" > %t/casts.plugin.mlir
// RUN: lpattn-opt %t/casts.mlir --pass-pipeline="builtin.module(lpattn-expand-float-casts)" > %t/casts.lpattn.mlir
// RUN: diff %t/casts.plugin.mlir %t/casts.lpattn.mlir
// RUN: FileCheck %s --check-prefix=CASTS < %t/casts.plugin.mlir
// CASTS-NOT: lpattn.truncf
//
// The pipelines by name, the CPU one down to the LLVM dialect.
// RUN: %mlir_opt_plugin %t/fp8.mlir --pass-pipeline="builtin.module(lpattn-tile-pipeline)" > %t/tilep.plugin.mlir
// RUN: lpattn-opt %t/fp8.mlir --pass-pipeline="builtin.module(lpattn-tile-pipeline)" > %t/tilep.lpattn.mlir
// RUN: diff %t/tilep.plugin.mlir %t/tilep.lpattn.mlir
// RUN: %mlir_opt_plugin %t/fp8.mlir --pass-pipeline="builtin.module(lpattn-cpu-pipeline{tile-q=32})" > %t/cpu.plugin.mlir
// RUN: lpattn-opt %t/fp8.mlir --pass-pipeline="builtin.module(lpattn-cpu-pipeline{tile-q=32})" > %t/cpu.lpattn.mlir
// RUN: diff %t/cpu.plugin.mlir %t/cpu.lpattn.mlir
// RUN: FileCheck %s --check-prefix=CPU < %t/cpu.plugin.mlir
// CPU: llvm.func @attention
// CPU-NOT: lpattn.attention
//
// The front-end raise, on linalg input (the meaning test's attentions).
// RUN: %mlir_opt_plugin %S/../Dialect/LPAttn/Transforms/raise-attention-run.mlir --pass-pipeline="builtin.module(func.func(lpattn-raise-attention))" > %t/raise.plugin.mlir
// RUN: lpattn-opt %S/../Dialect/LPAttn/Transforms/raise-attention-run.mlir --pass-pipeline="builtin.module(func.func(lpattn-raise-attention))" > %t/raise.lpattn.mlir
// RUN: diff %t/raise.plugin.mlir %t/raise.lpattn.mlir
// RUN: FileCheck %s --check-prefix=RAISE < %t/raise.plugin.mlir
// RAISE-COUNT-3: lpattn.attention
// RAISE-NOT: linalg.softmax
//
// The verifier's diagnostics, from the upstream binary.
// RUN: %mlir_opt_plugin %t/invalid.mlir -verify-diagnostics -split-input-file -o /dev/null
//
// Without the dialect plugin, mlir-opt-22 does not know the dialect; the
// passes are listed in --help but are no flags (see above).
// RUN: not %mlir_opt %t/fp8.mlir 2>&1 | FileCheck %s --check-prefix=NOPLUGIN
// NOPLUGIN: Dialect `lpattn' not found for custom op 'lpattn.attention'
// RUN: %mlir_opt_plugin --help | FileCheck %s --check-prefix=HELP
// HELP: --lpattn-tile
// RUN: not %mlir_opt_plugin %t/fp8.mlir --lpattn-tile 2>&1 | FileCheck %s --check-prefix=FLAG
// FLAG: Unknown command line argument '--lpattn-tile'

//--- fp8.mlir
func.func @attention(%q: tensor<1x4x64x32xf8E4M3FN>, %k: tensor<1x2x96x32xf8E4M3FN>, %v: tensor<1x2x96x32xf8E4M3FN>) -> tensor<1x4x64x32xbf16> {
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         tiles = [32, 32]
         : tensor<1x4x64x32xf8E4M3FN>, tensor<1x2x96x32xf8E4M3FN>, tensor<1x2x96x32xf8E4M3FN> -> tensor<1x4x64x32xbf16>
  return %o : tensor<1x4x64x32xbf16>
}

//--- casts.mlir
func.func @casts(%x: vector<8xf32>) -> (vector<8xf8E4M3FN>, vector<8xf32>) {
  %t = lpattn.truncf %x rne satfinite : vector<8xf32> to vector<8xf8E4M3FN>
  %e = arith.extf %t : vector<8xf8E4M3FN> to vector<8xf32>
  return %t, %e : vector<8xf8E4M3FN>, vector<8xf32>
}

//--- invalid.mlir
func.func @pscale(%q: tensor<1x1x16x16xf8E4M3FN>, %k: tensor<1x1x16x16xf8E4M3FN>, %v: tensor<1x1x16x16xf8E4M3FN>) -> tensor<1x1x16x16xbf16> {
  // expected-error @+1 {{p_scale = 448 is not a power of two: multiplying P by it and dividing it out would not be exact}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>
         p_scale = 448.0
         : tensor<1x1x16x16xf8E4M3FN>, tensor<1x1x16x16xf8E4M3FN>, tensor<1x1x16x16xf8E4M3FN> -> tensor<1x1x16x16xbf16>
  return %o : tensor<1x1x16x16xbf16>
}

// -----

func.func @gqa(%q: tensor<1x6x16x16xf32>, %k: tensor<1x4x16x16xf32>, %v: tensor<1x4x16x16xf32>) -> tensor<1x6x16x16xf32> {
  // expected-error @+1 {{query heads Hq = 6 must be a multiple of KV heads Hkv = 4 (GQA/MQA)}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x6x16x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16x16xf32> -> tensor<1x6x16x16xf32>
  return %o : tensor<1x6x16x16xf32>
}
