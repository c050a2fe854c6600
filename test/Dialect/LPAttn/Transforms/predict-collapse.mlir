// RUN: lpattn-opt %s --split-input-file --lpattn-predict-collapse --verify-diagnostics
// The option gives the strength of ops without lpattn.sink_strength (the
// expected-* lines stripped, so that only the diagnostics are checked).
// RUN: sed '/expected-/d' %s | lpattn-opt --split-input-file --lpattn-predict-collapse=sink-strength=9 2>&1 >/dev/null | FileCheck %s --check-prefix=OPT
// The pass changes nothing.
// RUN: lpattn-opt %s --split-input-file --lpattn-predict-collapse 2>/dev/null | FileCheck %s --check-prefix=IR
//
// Each bad option value is one error.
// RUN: sed "/expected-/d" %s | not lpattn-opt --lpattn-predict-collapse=sink-strength=-2 2>&1 | FileCheck %s --check-prefix=BADDELTA
// RUN: sed "/expected-/d" %s | not lpattn-opt --lpattn-predict-collapse=sinks=0 2>&1 | FileCheck %s --check-prefix=BADSINKS
// RUN: sed "/expected-/d" %s | not lpattn-opt --lpattn-predict-collapse=jitter=-1 2>&1 | FileCheck %s --check-prefix=BADJITTER
// RUN: sed "/expected-/d" %s | not lpattn-opt --lpattn-predict-collapse=tile-kv=0 2>&1 | FileCheck %s --check-prefix=BADTILE
// BADDELTA: error: lpattn-predict-collapse: sink strength must be finite and >= 0, got -2 (sink-strength = -1: none)
// BADDELTA-NOT: error
// BADSINKS: error: lpattn-predict-collapse: number of sinks must be in [1, 1000000], got 0
// BADSINKS-NOT: error
// BADJITTER: error: lpattn-predict-collapse: sink jitter must be a finite standard deviation >= 0, got -1
// BADJITTER-NOT: error
// BADTILE: error: lpattn-predict-collapse: tile-kv must be positive, got 0
// BADTILE-NOT: error

// IR-LABEL: func.func @e4m3_forward_s1
// IR: lpattn.attention
// IR-SAME: {lpattn.sink_strength = 7.000000e+00 : f64}

// Delta_c = ln(2^10) + ln 1 - E[max of 4 N(0, 1)] = 6.93 - 1.03 = 5.90;
// Delta = 7 exceeds it: fix both, and 60 of the 4092 non-sink keys share
// the sink's tile.
func.func @e4m3_forward_s1(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x4096x64xf32>, %v: tensor<1x1x4096x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+2 {{P-Cast collapse threshold Delta_c = 5.90 = ln(1/u) 6.93 (u = 2^-10, the largest P that rounds to 0 in f8E4M3FN) + ln S 0.00 (p_scale = 1) - delta_k 1.03 (sinks = 4, jitter = 1)}}
  // expected-warning @+1 {{P-collapse: sink strength Delta = 7 exceeds Delta_c = 5.90; in forward KV order over half of the non-sink P flush to 0 in the f8E4M3FN cast; fix: p_scale = 256 (the largest safe power of two for f8E4M3FN: Delta_c = 11.45) and kv_order = reverse (lpattn-robust-fp8); in reverse order 60 of the 4092 non-sink keys (the rest of the sink's KV tile, Bc = 64) stay exposed: 1.47 %}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         {lpattn.sink_strength = 7.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x4096x64xf32>, tensor<1x1x4096x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// OPT-LABEL: remark: P-Cast collapse threshold Delta_c = 5.90
// OPT: warning: P-collapse: sink strength Delta = 7 exceeds Delta_c = 5.90

// -----

// S = 256 (the largest safe for e4m3): Delta_c = 6.93 + 5.55 - 1.03 = 11.45.
// Delta = 11 is below it: the remark only. Tiles [64, 128], 1 sink with no
// jitter (delta_k = 0).
func.func @e4m3_s256_below(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x1024x64xf32>, %v: tensor<1x1x1024x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+1 {{Delta_c = 11.45 = ln(1/u) 6.93 (u = 2^-10, the largest P that rounds to 0 in f8E4M3FN) + ln S 5.55 (p_scale = 256) - delta_k 1.03 (sinks = 4, jitter = 1)}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         p_scale = 256.0
         {lpattn.sink_strength = 11.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// OPT: remark: P-Cast collapse threshold Delta_c = 11.45
// OPT-NOT: warning
// OPT: remark: P-Cast collapse threshold Delta_c = 12.48
// OPT: warning: P-collapse: sink strength Delta = 14

// -----

// Already S = 256 and reverse: only the sink tile's non-sink keys remain,
// here 1 sink with no jitter in tiles of 128 keys: 127 of 1023.
func.func @e4m3_robust_above(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x1024x64xf32>, %v: tensor<1x1x1024x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+2 {{Delta_c = 12.48 = ln(1/u) 6.93 (u = 2^-10, the largest P that rounds to 0 in f8E4M3FN) + ln S 5.55 (p_scale = 256) - delta_k 0.00 (sinks = 1, jitter = 0)}}
  // expected-warning @+1 {{P-collapse: sink strength Delta = 14 exceeds Delta_c = 12.48; in reverse KV order the non-sink keys in the sink's KV tile flush to 0; 127 of the 1023 non-sink keys (the rest of the sink's KV tile, Bc = 128) stay exposed: 12.41 %}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E4M3FN, v = f32, acc = f32, out = f32, overflow = satfinite>
         p_scale = 256.0 kv_order = reverse tiles = [64, 128]
         {lpattn.sink_count = 1 : i64, lpattn.sink_jitter = 0.0 : f64, lpattn.sink_strength = 14.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x1024x64xf32>, tensor<1x1x1024x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// e5m2: u = 2^-17 (half its smallest subnormal 2^-16), ln(1/u) = 11.78.
// Reverse order but S = 1: the fix is the P scale 32768.
func.func @e5m2_reverse(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-remark @+2 {{Delta_c = 10.75 = ln(1/u) 11.78 (u = 2^-17, the largest P that rounds to 0 in f8E5M2) + ln S 0.00 (p_scale = 1) - delta_k 1.03 (sinks = 4, jitter = 1)}}
  // expected-warning @+1 {{P-collapse: sink strength Delta = 12 exceeds Delta_c = 10.75; in reverse KV order the non-sink keys in the sink's KV tile flush to 0; fix: p_scale = 32768 (the largest safe power of two for f8E5M2: Delta_c = 21.15) (lpattn-robust-fp8); 60 of the 252 non-sink keys (the rest of the sink's KV tile, Bc = 64) stay exposed: 23.81 %}}
  %o = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f8E5M2, v = f32, acc = f32, out = f32, overflow = satfinite>
         kv_order = reverse
         {lpattn.sink_strength = 12.0 : f64}
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// f16 and bf16 P: u = 2^-25 and 2^-134. No strength: remarks only.
// With sink-strength=9 from the option: below both thresholds.
// OPT: remark: P-Cast collapse threshold Delta_c = 16.30
// OPT-NOT: warning
// OPT: remark: P-Cast collapse threshold Delta_c = 91.85
// OPT-NOT: warning
func.func @wide(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>) -> (tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>) {
  // expected-remark @+1 {{Delta_c = 16.30 = ln(1/u) 17.33 (u = 2^-25, the largest P that rounds to 0 in f16) + ln S 0.00 (p_scale = 1) - delta_k 1.03 (sinks = 4, jitter = 1)}}
  %a = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = f16, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  // expected-remark @+1 {{Delta_c = 91.85 = ln(1/u) 92.88 (u = 2^-134, the largest P that rounds to 0 in bf16) + ln S 0.00 (p_scale = 1) - delta_k 1.03 (sinks = 4, jitter = 1)}}
  %b = lpattn.attention %q, %k, %v
         policy = <qk = f32, score = f32, p = bf16, v = f32, acc = f32, out = f32, overflow = satfinite>
         : tensor<1x1x16x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32> -> tensor<1x1x16x64xf32>
  return %a, %b : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>
}
