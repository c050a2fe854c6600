// RUN: not lpattn-opt --lpattn-tile-pipeline=count-collapse=0 --lpattn-tile-to-sm90 %s 2>&1 | FileCheck %s --check-prefix=COUNT
// RUN: not lpattn-opt --lpattn-tile-pipeline --lpattn-tile-to-sm90=stages=5 %s 2>&1 | FileCheck %s --check-prefix=STAGES
// RUN: not lpattn-opt --lpattn-tile-pipeline --lpattn-tile-to-sm90=stages=4 %s 2>&1 | FileCheck %s --check-prefix=SMEM

// Collapse instrumentation adds a counter argument the kernel ABI lacks.
// COUNT: error: lpattn-tile-to-sm90: expects arguments (q, k, v [, mask] [, q_ds, k_ds, v_ds]): collapse instrumentation is CPU-only
// STAGES: error: lpattn-tile-to-sm90: stages must be 2 to 4, got 5
// Head dim 256 with 128-key tiles and 4 stages needs more than 227 KiB.
// SMEM: error: lpattn-tile-to-sm90: the kernel needs 428032 bytes of shared memory, more than the 227 KiB an sm_90 block can have; use fewer stages

func.func @big(%q: tensor<1x1x128x256xf8E4M3FN>, %k: tensor<1x1x128x256xf8E4M3FN>, %v: tensor<1x1x128x256xf8E4M3FN>) -> tensor<1x1x128x256xbf16> {
  %o = lpattn.attention %q, %k, %v policy = <qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite> tiles = [64, 128] : tensor<1x1x128x256xf8E4M3FN>, tensor<1x1x128x256xf8E4M3FN>, tensor<1x1x128x256xf8E4M3FN> -> tensor<1x1x128x256xbf16>
  return %o : tensor<1x1x128x256xbf16>
}
