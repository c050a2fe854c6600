// RUN: lpattn-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// #lpattn.precision is an ordinary attribute: usable outside the op (for
// example as a module-wide default), verified wherever it appears, fields
// in any order and printed in the canonical order.

// CHECK: module attributes {user.default_policy = #lpattn.precision<qk = f8E4M3FN, score = f32, p = f8E4M3FN, v = f8E4M3FN, acc = f32, out = bf16, overflow = satfinite>}
module attributes {user.default_policy = #lpattn.precision<overflow = satfinite, out = bf16, acc = f32, v = f8E4M3FN, p = f8E4M3FN, score = f32, qk = f8E4M3FN>} {
}

// -----

// expected-error @+1 {{unsupported precision combination: qk = f32 needs score = f32 (got bf16)}}
module attributes {user.default_policy = #lpattn.precision<qk = f32, score = bf16, p = f32, v = f32, acc = f32, out = f32, overflow = satfinite>} {
}
