// A short smoke run of lpattn's fuzz driver (scripts/fuzz.py, seeded): a few
// hundred mutated inputs over lpattn-opt (parser, verifier, pass pipelines)
// and lpattn-run (.mlir files, option values, .npy files), at most about a
// minute. It fails on any crash in lpattn's own code; scripts/fuzz.sh is
// the long run.
// RUN: env LPATTN_NO_CRASH_RECOVERY=1 %python %lpattn_src_root/scripts/fuzz.py --bin %lpattn_tools_dir --count 300 --seed 14 --jobs 2 --time-limit 50 --timeout 60 --out %t.findings | FileCheck %s
// CHECK: lpattn fuzz: {{[0-9]+}} inputs
// CHECK: opt
// CHECK: run-cli
// CHECK: project crashes: 0
