// lpattn-run --inputs npy on good and broken .npy files: each broken file is
// one clear error naming the file, exit code 1; NaN/Inf contents run and are
// reported, not hidden in the metrics (issue 14).
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %S/Inputs/make_npy.py %t/q.npy 1,2,16,8
// RUN: %python %S/Inputs/make_npy.py %t/k.npy 1,1,24,8
// RUN: %python %S/Inputs/make_npy.py %t/v.npy 1,1,24,8
//
// The good files run (GQA: the shapes come from the files).
// RUN: lpattn-run --inputs npy --q-npy %t/q.npy --k-npy %t/k.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 --json | FileCheck %s --check-prefix=GOOD
// GOOD: "key": [
// GOOD-NEXT: 1,
// GOOD-NEXT: 1,
// GOOD-NEXT: 24,
// GOOD: "nan": 0
// GOOD: "ref_non_finite": 0
//
// Truncated body.
// RUN: %python %S/Inputs/make_npy.py %t/trunc.npy 1,2,16,8 --truncate 3
// RUN: not lpattn-run --inputs npy --q-npy %t/trunc.npy --k-npy %t/k.npy --v-npy %t/v.npy 2>&1 | FileCheck %s --check-prefix=TRUNC
// TRUNC: lpattn-run: error: {{.*}}trunc.npy: data too short: the shape needs 1024 bytes of '<f4' but the file has 1021
//
// Wrong dtype.
// RUN: %python %S/Inputs/make_npy.py %t/int.npy 1,2,16,8 --descr '<i4'
// RUN: not lpattn-run --inputs npy --q-npy %t/int.npy --k-npy %t/k.npy --v-npy %t/v.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: lpattn-run: error: {{.*}}int.npy: unsupported dtype '<i4' (supported: '<f2', '<f4', '<f8', '|u1', '<u2')
//
// Fortran order.
// RUN: %python %S/Inputs/make_npy.py %t/fortran.npy 1,2,16,8 --fortran
// RUN: not lpattn-run --inputs npy --q-npy %t/fortran.npy --k-npy %t/k.npy --v-npy %t/v.npy 2>&1 | FileCheck %s --check-prefix=FORTRAN
// FORTRAN: lpattn-run: error: {{.*}}fortran.npy: fortran_order is True; only C-order arrays are supported
//
// Wrong rank, and a V that disagrees with K.
// RUN: %python %S/Inputs/make_npy.py %t/rank3.npy 2,16,8
// RUN: not lpattn-run --inputs npy --q-npy %t/rank3.npy --k-npy %t/k.npy --v-npy %t/v.npy 2>&1 | FileCheck %s --check-prefix=RANK
// RANK: lpattn-run: error: --q-npy and --k-npy must be 4-D [B, H, N, D]; got [2, 16, 8] and [1, 1, 24, 8]
// RUN: %python %S/Inputs/make_npy.py %t/v20.npy 1,1,20,8
// RUN: not lpattn-run --inputs npy --q-npy %t/q.npy --k-npy %t/k.npy --v-npy %t/v20.npy 2>&1 | FileCheck %s --check-prefix=VSHAPE
// VSHAPE: lpattn-run: error: V has shape [1, 1, 20, 8] but the compiled attention expects [1, 1, 24, 8]
//
// A zero-size dimension.
// RUN: %python %S/Inputs/make_npy.py %t/zero.npy 1,2,0,8
// RUN: not lpattn-run --inputs npy --q-npy %t/zero.npy --k-npy %t/k.npy --v-npy %t/v.npy 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: lpattn-run: error: '{{.*}}zero.npy' has shape [1, 2, 0, 8]: every dimension must be positive
//
// A huge (1 MB, format 2.0) but well-formed header is read; a header length
// past the end of the file is an error.
// RUN: %python %S/Inputs/make_npy.py %t/bighdr.npy 1,2,16,8 --pad 1000000
// RUN: lpattn-run --inputs npy --q-npy %t/bighdr.npy --k-npy %t/k.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 --json | FileCheck %s --check-prefix=GOOD
// RUN: %python %S/Inputs/make_npy.py %t/liar.npy 1,2,16,8 --header-length 4294967295
// RUN: not lpattn-run --inputs npy --q-npy %t/liar.npy --k-npy %t/k.npy --v-npy %t/v.npy 2>&1 | FileCheck %s --check-prefix=LIAR
// LIAR: lpattn-run: error: {{.*}}liar.npy: truncated header: the header length is 4294967295 bytes but only {{[0-9]+}} follow
//
// NaN and Inf contents: a warning, NaN/Inf counts, and the entries whose
// reference is not finite left out of the errors (no max error 0 next to an
// MSE of NaN).
// RUN: %python %S/Inputs/make_npy.py %t/qnan.npy 1,2,16,8 --nan 0 --inf 200
// RUN: lpattn-run --inputs npy --q-npy %t/qnan.npy --k-npy %t/k.npy --v-npy %t/v.npy --tile-q 8 --tile-kv 8 --json 2>&1 | FileCheck %s --check-prefix=NAN
// NAN: lpattn-run: warning: the inputs hold non-finite values (Q: 1 NaN, 1 Inf); outputs whose float64 reference is NaN or Inf are left out of the error metrics (counted as ref_non_finite)
// NAN: "max_abs_error": {{[0-9]}}
// NAN: "mse": {{[0-9]}}
// NAN: "ref_non_finite": {{[1-9][0-9]*}}
