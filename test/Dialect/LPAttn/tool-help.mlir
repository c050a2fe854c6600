// lpattn-opt --help names the dialect (and the upstream ones it registers).
// RUN: lpattn-opt --help | FileCheck %s
// RUN: lpattn-opt --show-dialects | FileCheck %s --check-prefix=DIALECTS
// CHECK: Available Dialects:{{.*}}lpattn
// CHECK: USAGE: lpattn-opt
// DIALECTS-DAG: lpattn
// DIALECTS-DAG: linalg
// DIALECTS-DAG: scf
