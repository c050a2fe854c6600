// Nasty inputs to the whole tool: each is a located error and a non-zero
// exit, never a crash. `not` fails the test on a crash (signal) too.

// Truncated mid-op.
// RUN: printf 'func.func @f(%%%%q: tensor<1x1x8x16xf32>) {\n  %%%%o = lpattn.attention %%%%q, %%%%q, %%%%q policy = <qk = f32, sco' > %t.truncated
// RUN: not lpattn-opt %t.truncated 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: error:

// Not MLIR at all.
// RUN: printf '\x00\xff\xfe garbage {{{{' > %t.binary
// RUN: not lpattn-opt %t.binary 2>&1 | FileCheck %s --check-prefix=BIN
// BIN: error:

// An op of the dialect that does not exist.
// RUN: printf 'func.func @f() {\n  lpattn.flash\n  return\n}\n' > %t.unknown
// RUN: not lpattn-opt %t.unknown 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: 2:3: error: custom op 'lpattn.flash' is unknown

// A result is used without an operand list (empty op).
// RUN: printf 'func.func @f() {\n  %%%%o = lpattn.attention\n  return\n}\n' > %t.empty
// RUN: not lpattn-opt %t.empty 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: 2:24: error: expected SSA operand

// Absurd sizes are types like any other; the verifier still checks them.
// RUN: printf 'func.func @f(%%%%q: tensor<1x3x9223372036854775806x16xf32>, %%%%k: tensor<1x2x8x16xf32>) -> tensor<1x3x9223372036854775806x16xf32> {\n  %%%%o = lpattn.attention %%%%q, %%%%k, %%%%k policy = <qk = f32, score = f32, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite> : tensor<1x3x9223372036854775806x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32> -> tensor<1x3x9223372036854775806x16xf32>\n  return %%%%o : tensor<1x3x9223372036854775806x16xf32>\n}\n' > %t.huge
// RUN: not lpattn-opt %t.huge 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: error: 'lpattn.attention' op query heads Hq = 3 must be a multiple of KV heads Hkv = 2

// A missing input file.
// RUN: not lpattn-opt %t.does-not-exist 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file
