// lpattn-run on bad options and bad files: one clear error naming the option
// or the problem and exit code 1, never a crash, a hang, a silent default or
// an error about generated IR (issue 14).
// RUN: rm -rf %t && split-file %s %t
//
// --- A max over an empty range of sink jitter crashed; no sinks is a plain
// random attention with no sink excess.
// RUN: lpattn-run --inputs sinks --sinks 0 --nq 16 --nk 64 --head-dim 16 --json | FileCheck %s --check-prefix=NOSINKS
// NOSINKS: "collapse_fraction":
// NOSINKS: "sink_excess": 0
//
// --- The op must be directly inside a func.func.
// RUN: not lpattn-run %t/top-level.mlir 2>&1 | FileCheck %s --check-prefix=TOPLEVEL
// TOPLEVEL: lpattn-run: error: the lpattn.attention must be directly inside a func.func; it is inside 'builtin.module'
// RUN: not lpattn-run %t/gpu-func.mlir 2>&1 | FileCheck %s --check-prefix=GPUFUNC
// GPUFUNC: lpattn-run: error: the lpattn.attention must be directly inside a func.func; it is inside 'gpu.func'
//
// --- Sizes whose counts overflow int64, or that exceed memory, are refused
// before anything is allocated.
// RUN: not lpattn-run --heads 4611686018427387904 --kv-heads 1 2>&1 | FileCheck %s --check-prefix=HEADS
// HEADS: lpattn-run: error: --batch=1 --heads=4611686018427387904 --kv-heads=1 --nq=128 --nk=1024 --head-dim=64: Q [1, 4611686018427387904, 128, 64] has more elements than int64 can count (2^63 - 1)
// RUN: not lpattn-run --nq 4294967296 --nk 4294967296 --head-dim 4294967296 2>&1 | FileCheck %s --check-prefix=CUBE
// CUBE: lpattn-run: error: {{.*}}: Q [1, 1, 4294967296, 4294967296] has more elements than int64 can count
// RUN: not lpattn-run --nq 1000000000 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: lpattn-run: error: --batch=1 --heads=1 --kv-heads=1 --nq=1000000000 --nk=1024 --head-dim=64: the attention (Q [1, 1, 1000000000, 64], K [1, 1, 1024, 64], V [1, 1, 1024, 64]) needs about {{.*}} ({{[0-9]+}} bytes) of host memory for its tensors, more than the limit of {{.*}} (the machine's physical memory; --max-memory sets another)
// RUN: not lpattn-run --max-memory 1000000 2>&1 | FileCheck %s --check-prefix=MAXMEM
// MAXMEM: needs about 1.8 MiB (1925120 bytes) of host memory for its tensors, more than the limit of 976.6 KiB (1000000 bytes) (--max-memory)
// RUN: not lpattn-run %t/overflow.mlir 2>&1 | FileCheck %s --check-prefix=FILEOVERFLOW
// FILEOVERFLOW: lpattn-run: error: Q [1, 4294967296, 4294967296, 4294967296] has more elements than int64 can count (2^63 - 1)
// RUN: not lpattn-run %t/huge.mlir 2>&1 | FileCheck %s --check-prefix=FILEHUGE
// FILEHUGE: lpattn-run: error: the attention (Q [1, 1, 1000000000, 64]{{.*}} more than the limit of
// RUN: not lpattn-run %t/dynamic.mlir 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// DYNAMIC: lpattn-run: error: Q has shape [?, 1, 8, 16]: lpattn-run needs static, positive sizes
//
// --- Sweeps: finite bounds, a step that changes the value, bounded length.
// RUN: not lpattn-run --sweep delta:1:2:1e-20 2>&1 | FileCheck %s --check-prefix=TINYSTEP
// TINYSTEP: lpattn-run: error: --sweep=delta:1:2:1e-20: 1e+20 points; at most 10000 are allowed
// RUN: not lpattn-run --sweep delta:0:inf:1 2>&1 | FileCheck %s --check-prefix=INFSTOP
// INFSTOP: lpattn-run: error: --sweep=delta:0:inf:1: start, stop and step must be finite
// RUN: not lpattn-run --sweep delta:nan:1:1 2>&1 | FileCheck %s --check-prefix=NANSTART
// NANSTART: lpattn-run: error: --sweep=delta:nan:1:1: expected param:start:stop:step
// RUN: not lpattn-run --sweep delta:1e17:1.00000000000001e17:1 2>&1 | FileCheck %s --check-prefix=NOCHANGE
// NOCHANGE: lpattn-run: error: --sweep=delta:1e17:1.00000000000001e17:1: the step does not change delta = 1e+17 in double precision
// RUN: not lpattn-run --sweep p-scale:1:1e300:1.0000000001 2>&1 | FileCheck %s --check-prefix=PSWEEP
// PSWEEP: lpattn-run: error: --sweep=p-scale:1:1e300:1.0000000001: {{.*}} points; at most 10000 are allowed
// Found by the fuzz driver: start = stop < 0 gave no point and a crash.
// RUN: lpattn-run --nq 16 --nk 48 --head-dim 16 --inputs sinks --sweep delta:-1:-1:1e-20 --json | FileCheck %s --check-prefix=NEGSWEEP
// NEGSWEEP: "delta": -1
// RUN: lpattn-run --nq 16 --nk 48 --head-dim 16 --inputs sinks --sweep delta:-3:-1:1 --json | FileCheck %s --check-prefix=NEGSWEEP3
// NEGSWEEP3: "delta": -3
// NEGSWEEP3: "delta": -2
// NEGSWEEP3: "delta": -1
//
// --- Files with nothing to run.
// RUN: printf '' > %t/empty.mlir
// RUN: not lpattn-run %t/empty.mlir 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: lpattn-run: error: '{{.*}}empty.mlir' is empty: it holds no lpattn.attention
// RUN: not lpattn-run %t/no-op.mlir 2>&1 | FileCheck %s --check-prefix=NOOP
// NOOP: lpattn-run: error: the input holds no lpattn.attention
// RUN: not lpattn-run %t/dense-index.mlir 2>&1 | FileCheck %s --check-prefix=PARSECRASH
// PARSECRASH-NOT: Stack dump
// PARSECRASH: lpattn-run: error: MLIR's parser crashed on this input (an upstream MLIR 22.1.8 bug; see the README's known issues)
// PARSECRASH-NOT: Stack dump
// RUN: printf 'ML\357R\000garbage' > %t/bytecode.mlirbc
// RUN: not lpattn-run %t/bytecode.mlirbc 2>&1 | FileCheck %s --check-prefix=BYTECODE
// BYTECODE: lpattn-run: error: MLIR bytecode input is not supported
//
// --- Values f32 cannot hold: refused by the shared rule, in the verifier for
// a file and by the option check on the command line.
// RUN: not lpattn-run --p-scale 6.223015277861142e-61 2>&1 | FileCheck %s --check-prefix=PSCALE-F32
// PSCALE-F32: lpattn-run: error: --p-scale = 6.22302e-61 is not an exact, finite, non-zero f32 value, the arithmetic the lowering uses: it underflows f32 and would become 0
// RUN: not lpattn-run %t/p-scale-f32.mlir 2>&1 | FileCheck %s --check-prefix=PSCALE-FILE
// PSCALE-FILE: error: 'lpattn.attention' op p_scale = 6.22302e-61 is not an exact, finite, non-zero f32 value
//
// --- Option values: each error names the option and the value.
// RUN: not lpattn-run --head-dim 0 2>&1 | FileCheck %s --check-prefix=HEADDIM
// HEADDIM: lpattn-run: error: --head-dim=0: expected a positive size
// RUN: not lpattn-run --nq -5 2>&1 | FileCheck %s --check-prefix=NEGNQ
// NEGNQ: lpattn-run: error: --nq=-5: expected a positive size
// RUN: not lpattn-run --kv-heads -1 2>&1 | FileCheck %s --check-prefix=NEGKV
// NEGKV: lpattn-run: error: --kv-heads=-1: expected a size >= 0 (0: = --heads)
// RUN: not lpattn-run --heads 3 --kv-heads 2 2>&1 | FileCheck %s --check-prefix=GQA
// GQA: lpattn-run: error: --heads=3 --kv-heads=2: the query heads must be a multiple of the KV heads (GQA/MQA)
// RUN: not lpattn-run --tile-q 0 2>&1 | FileCheck %s --check-prefix=TILE
// TILE: lpattn-run: error: --tile-q=0: expected a positive size
// RUN: not lpattn-run --inputs sinks --sinks -1 2>&1 | FileCheck %s --check-prefix=NEGSINKS
// NEGSINKS: lpattn-run: error: --sinks=-1: expected a size >= 0
// RUN: not lpattn-run --inputs sinks --sinks 5000 2>&1 | FileCheck %s --check-prefix=MANYSINKS
// MANYSINKS: lpattn-run: error: --sinks=5000: at most --nk=1024 sinks (the keys they are drawn among)
// RUN: not lpattn-run --inputs sinks --sinks 100 --head-dim 64 2>&1 | FileCheck %s --check-prefix=ROWSINKS
// ROWSINKS: lpattn-run: error: --sinks=100: per-row jitter needs at most --head-dim=64 - 1 sinks (--jitter-per-head allows more)
// RUN: not lpattn-run --p-scale nan 2>&1 | FileCheck %s --check-prefix=PNAN
// PNAN: lpattn-run: error: --p-scale=nan: expected a finite power of two > 0
// RUN: not lpattn-run --p-scale inf 2>&1 | FileCheck %s --check-prefix=PINF
// PINF: lpattn-run: error: --p-scale=inf: expected a finite power of two > 0
// RUN: not lpattn-run --softmax bias_corrected --beta -1 2>&1 | FileCheck %s --check-prefix=BETANEG
// BETANEG: lpattn-run: error: --beta=-1: expected a finite beta > 0 (0: the softmax variant's default)
// RUN: not lpattn-run --softmax pasa --beta nan 2>&1 | FileCheck %s --check-prefix=BETANAN
// BETANAN: lpattn-run: error: --beta=nan: expected a finite beta > 0
// RUN: not lpattn-run --beta 2 2>&1 | FileCheck %s --check-prefix=BETASTD
// BETASTD: lpattn-run: error: --beta=2: --softmax=standard takes no beta
// RUN: not lpattn-run --softmax pasa --beta 2 2>&1 | FileCheck %s --check-prefix=BETARANGE
// BETARANGE: error: 'lpattn.attention' op pasa beta must be in (0, 1], got 2
// RUN: not lpattn-run --inputs sinks --delta inf 2>&1 | FileCheck %s --check-prefix=DELTA
// DELTA: lpattn-run: error: --delta=inf: expected a finite number
// RUN: not lpattn-run --inputs sinks --jitter -1 2>&1 | FileCheck %s --check-prefix=JITTER
// JITTER: lpattn-run: error: --jitter=-1: expected a standard deviation >= 0

//--- top-level.mlir
%q = tensor.empty() : tensor<1x1x8x16xf32>
%o = lpattn.attention %q, %q, %q policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>

//--- gpu-func.mlir
gpu.module @kernels {
  gpu.func @attention(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) {
    %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
    gpu.return
  }
}

//--- overflow.mlir
func.func @attention(%q: tensor<1x4294967296x4294967296x4294967296xf32>, %k: tensor<1x4294967296x4294967296x4294967296xf32>, %v: tensor<1x4294967296x4294967296x4294967296xf32>) -> tensor<1x4294967296x4294967296x4294967296xf32> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x4294967296x4294967296x4294967296xf32>, tensor<1x4294967296x4294967296x4294967296xf32>, tensor<1x4294967296x4294967296x4294967296xf32> -> tensor<1x4294967296x4294967296x4294967296xf32>
  return %o : tensor<1x4294967296x4294967296x4294967296xf32>
}

//--- huge.mlir
func.func @attention(%q: tensor<1x1x1000000000x64xf32>, %k: tensor<1x1x1024x64xf32>, %v: tensor<1x1x1024x64xf32>) -> tensor<1x1x1000000000x64xf32> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x1x1000000000x64xf32>, tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32> -> tensor<1x1x1000000000x64xf32>
  return %o : tensor<1x1x1000000000x64xf32>
}

//--- dynamic.mlir
func.func @attention(%q: tensor<?x1x8x16xf32>, %k: tensor<?x1x8x16xf32>, %v: tensor<?x1x8x16xf32>) -> tensor<?x1x8x16xf32> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<?x1x8x16xf32>, tensor<?x1x8x16xf32>, tensor<?x1x8x16xf32> -> tensor<?x1x8x16xf32>
  return %o : tensor<?x1x8x16xf32>
}

//--- no-op.mlir
// Only a comment and a function without an attention.
func.func @f() {
  return
}

//--- dense-index.mlir
// llvm/llvm-project#179045: MLIR 22.1.8's parser crashes on this.
func.func @f() attributes {x = array<index: 1, 2>} {
  return
}

//--- p-scale-f32.mlir
func.func @attention(%q: tensor<1x1x8x16xf32>, %k: tensor<1x1x8x16xf32>, %v: tensor<1x1x8x16xf32>) -> tensor<1x1x8x16xf32> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite> p_scale = 6.223015277861142e-61 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32> -> tensor<1x1x8x16xf32>
  return %o : tensor<1x1x8x16xf32>
}
