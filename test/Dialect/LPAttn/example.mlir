// The README example prints back unchanged (and so stays valid IR).
// RUN: lpattn-opt %lpattn_src_root/examples/attention.mlir > %t
// RUN: diff %lpattn_src_root/examples/attention.mlir %t
// RUN: FileCheck %s --input-file %t
// CHECK: lpattn.attention
