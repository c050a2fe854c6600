// Upstream MLIR 22.1.8 crashes parsing `array<index: ...>` dense arrays
// (llvm/llvm-project#179045, fixed after 22.1.8). lpattn-opt catches the
// crash: one error line and exit code 3, no stack dump (README, known
// issues). Once the fix is in the installed MLIR this input parses, `not`
// fails and this test is to be updated with the README.
// RUN: not lpattn-opt %s 2>&1 | FileCheck %s
// CHECK-NOT: Stack dump
// CHECK: lpattn-opt: error: crashed while processing the input (a bug; upstream MLIR 22.1.8 crashes on corrupted bytecode and on array<index: ...>, see the README's known issues; LPATTN_NO_CRASH_RECOVERY=1 shows the stack)
// CHECK-NOT: Stack dump
//
// RUN: lpattn-opt %s; test $? -eq 3

func.func @f() attributes {x = array<index: 1, 2>} {
  return
}
