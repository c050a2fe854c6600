"""lpattn: numerically robust low-precision attention, from Python.

ctypes bindings of lpattn's C API (``libLPAttnCAPI.so``, include/lpattn-c/)
and of its GPU runtime (``liblpattn_rt.so``, runtime/): no compiled
extension, so nothing to build beyond the CMake project.

Compiling (``attention`` on numpy arrays, ``compile``, ``compile_gpu``)
needs ``libLPAttnCAPI.so`` (linked against MLIR); running a compiled GPU
artifact (``GPUArtifact.load(...)(q, k, v)`` on torch CUDA tensors) needs
only the MLIR-free ``liblpattn_rt.so``, so that a GPU machine without LLVM
runs artifacts compiled elsewhere. Each library is loaded when first needed;
``import lpattn`` needs neither (nor torch). The C API library is looked
for, in this order:

1. ``$LPATTN_CAPI_LIBRARY`` (the path of the library file; if set, it must
   exist: no fallback);
2. if this package is imported from a source checkout (``<repo>/python``,
   not installed): the build tree, ``<repo>/build/lib/libLPAttnCAPI.so``;
3. the ``lib/`` of an installed prefix: ``sys.prefix``, ``sys.base_prefix``,
   then ``/usr/local`` (``cmake --install`` with that prefix);
4. the dynamic loader's own search (``LD_LIBRARY_PATH``, ldconfig's cache).

The runtime likewise: ``$LPATTN_RUNTIME_LIBRARY``, then a source checkout's
``build/lib/liblpattn_rt.so`` and ``build-rt/liblpattn_rt.so`` (what
scripts/gpu-check.sh builds), then the prefixes, then the loader's search.
If none loads, the call that needed it raises ``LPAttnLibraryNotFound`` (an
``ImportError``) naming the places tried.

Usage::

    import lpattn
    o = lpattn.attention(q, k, v, policy="fp8", p_scale=256.0, causal=True)
    a = lpattn.compile(mlir_text)   # an Attention; a(q, k, v) runs it
    g = lpattn.compile_gpu(mlir_text)  # a GPUArtifact (sm_90a), no GPU needed
    g.save("out")                      # out/attn.{cubin,json,ptx,ptxas.log}
    o = lpattn.GPUArtifact.load("out")(q8, k8, v8)  # torch CUDA tensors
"""

import collections
import ctypes
import os
import sys
import threading

import numpy as np

__all__ = [
    "Attention",
    "GPUArtifact",
    "CacheInfo",
    "LPAttnError",
    "LPAttnLibraryNotFound",
    "POLICIES",
    "attention",
    "attention_mlir",
    "cache_clear",
    "cache_info",
    "compile",
    "compile_gpu",
    "library_path",
    "runtime_library_path",
]

_LIB_NAME = "libLPAttnCAPI.so"


class LPAttnError(RuntimeError):
    """An error of the lpattn C API; the message is lpattnGetLastError()'s."""


class LPAttnLibraryNotFound(ImportError):
    """libLPAttnCAPI.so could not be found or loaded."""


# --- Loading the libraries ------------------------------------------------


def _candidates(lib_name, env_var, build_dirs):
    env = os.environ.get(env_var)
    if env:
        return [env], True
    paths = []
    # A source checkout: <repo>/python/lpattn, <repo>/python/pyproject.toml.
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.exists(os.path.join(pkg_root, "pyproject.toml")):
        repo = os.path.dirname(pkg_root)
        paths += [os.path.join(repo, d, lib_name) for d in build_dirs]
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix, "/usr/local")):
        paths.append(os.path.join(prefix, "lib", lib_name))
    paths.append(lib_name)  # the dynamic loader's search
    return paths, False


def _load(lib_name, env_var, build_dirs, purpose):
    paths, from_env = _candidates(lib_name, env_var, build_dirs)
    tried = []
    for path in paths:
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} (no such file)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    hint = (f"{env_var} is set but does not name a loadable library"
            if from_env else
            f"build the CMake project (bash scripts/build.sh) or set "
            f"{env_var} to the path of {lib_name}")
    raise LPAttnLibraryNotFound(
        f"lpattn: cannot load {lib_name} ({purpose}): {hint}; tried: "
        + "; ".join(tried))


class _StringRef(ctypes.Structure):
    _fields_ = [("data", ctypes.c_char_p), ("length", ctypes.c_size_t)]


class _LogicalResult(ctypes.Structure):
    _fields_ = [("value", ctypes.c_int8)]


class _Handle(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p)]


class _CompileOptions(ctypes.Structure):
    _fields_ = [("tileQ", ctypes.c_int64), ("tileKV", ctypes.c_int64),
                ("optLevel", ctypes.c_uint)]


class _BytesRef(ctypes.Structure):
    """MlirStringRef of binary data (a c_char_p field stops at a NUL)."""
    _fields_ = [("data", ctypes.c_void_p), ("length", ctypes.c_size_t)]


class _GPUCompileOptions(ctypes.Structure):
    _fields_ = [("tileQ", ctypes.c_int64), ("tileKV", ctypes.c_int64),
                ("stages", ctypes.c_int64), ("chip", ctypes.c_char_p),
                ("ptxas", ctypes.c_char_p)]


_fp = ctypes.POINTER(ctypes.c_float)
_CAPI_FUNCTIONS = [
    ("lpattnCPUCompileOptionsGetDefault", _CompileOptions, []),
    ("lpattnCPUAttentionCompile", _Handle,
     [_StringRef, ctypes.POINTER(_CompileOptions)]),
    ("lpattnCPUAttentionGetRank", ctypes.c_ssize_t, [_Handle, ctypes.c_int]),
    ("lpattnCPUAttentionGetDim", ctypes.c_int64,
     [_Handle, ctypes.c_int, ctypes.c_ssize_t]),
    ("lpattnCPUAttentionGetNumElements", ctypes.c_int64,
     [_Handle, ctypes.c_int]),
    ("lpattnCPUAttentionHasMask", ctypes.c_bool, [_Handle]),
    ("lpattnCPUAttentionHasDescales", ctypes.c_bool, [_Handle]),
    ("lpattnCPUAttentionHasPerHeadDescales", ctypes.c_bool, [_Handle]),
    ("lpattnCPUAttentionRun", _LogicalResult,
     [_Handle, _fp, _fp, _fp, _fp, _fp, _fp]),
    ("lpattnCPUAttentionDestroy", None, [_Handle]),
    ("lpattnGetLastError", ctypes.c_char_p, []),
    # The GPU half (lpattn-c/GPU.h): compile only; runs go through the
    # runtime (lpattn/gpu.py), which needs no MLIR.
    ("lpattnGPUCompileOptionsGetDefault", _GPUCompileOptions, []),
    ("lpattnGPUArtifactCompile", _Handle,
     [_StringRef, ctypes.POINTER(_GPUCompileOptions)]),
    ("lpattnGPUArtifactGetCubin", _BytesRef, [_Handle]),
    ("lpattnGPUArtifactGetPTX", _BytesRef, [_Handle]),
    ("lpattnGPUArtifactGetPtxasLog", _BytesRef, [_Handle]),
    ("lpattnGPUArtifactGetDescriptor", _BytesRef, [_Handle]),
    ("lpattnGPUArtifactDestroy", None, [_Handle]),
]

class _LazyLibrary:
    """A shared library loaded (and its functions declared) on first use,
    so that importing lpattn loads nothing and each route loads only what
    it needs: compiling the C API, running a GPU artifact the runtime."""

    def __init__(self, lib_name, env_var, build_dirs, purpose, functions):
        self._args = (lib_name, env_var, build_dirs, purpose)
        self._functions = functions
        self._lock = threading.Lock()
        self.lib = None   # None until loaded
        self.path = None

    def get(self):
        with self._lock:
            if self.lib is None:
                lib, path = _load(*self._args)
                for name, res, args in self._functions:
                    f = getattr(lib, name)
                    f.restype = res
                    f.argtypes = args
                self.lib, self.path = lib, path
            return self.lib


_capi_library = _LazyLibrary(
    _LIB_NAME, "LPATTN_CAPI_LIBRARY", ["build/lib"],
    "the C API, needed to compile; running a saved GPU artifact does not "
    "need it", _CAPI_FUNCTIONS)


def _capi():
    """libLPAttnCAPI.so, loaded on first use."""
    return _capi_library.get()


def library_path():
    """The path libLPAttnCAPI.so was loaded from (loading it if needed)."""
    _capi()
    return _capi_library.path


def _last_error():
    msg = _capi().lpattnGetLastError()
    return msg.decode("utf-8", "replace") if msg else ""


# --- Compiled attentions ---------------------------------------------------

_QUERY, _KEY, _VALUE, _MASK, _OUTPUT = range(5)
_TENSOR_NAMES = {_QUERY: "q", _KEY: "k", _VALUE: "v", _MASK: "mask",
                 _OUTPUT: "output"}


class Attention:
    """A compiled lpattn.attention (CPU, JIT); call it on numpy arrays.

    Inputs are converted to C-contiguous float32 and rounded by lpattn to the
    op's operand types; the result is a float32 array of the op's result
    shape (values of its `out` type). `close()` (or garbage collection) frees
    the compiled code.
    """

    def __init__(self, mlir_text, tile_q=0, tile_kv=0, opt_level=3):
        data = mlir_text.encode("utf-8") if isinstance(mlir_text, str) \
            else bytes(mlir_text)
        lib = _capi()
        opts = lib.lpattnCPUCompileOptionsGetDefault()
        if tile_q:
            opts.tileQ = tile_q
        if tile_kv:
            opts.tileKV = tile_kv
        opts.optLevel = opt_level
        handle = lib.lpattnCPUAttentionCompile(
            _StringRef(data, len(data)), ctypes.byref(opts))
        if not handle.ptr:
            raise LPAttnError(_last_error() or "lpattn: compile failed")
        self._handle = handle
        self.has_mask = bool(lib.lpattnCPUAttentionHasMask(handle))
        self.has_descales = bool(lib.lpattnCPUAttentionHasDescales(handle))
        # Per (batch, KV head): descale is then a (3, B, Hkv) array.
        self.per_head_descales = bool(
            lib.lpattnCPUAttentionHasPerHeadDescales(handle))
        self.shapes = {}
        for t, name in _TENSOR_NAMES.items():
            rank = lib.lpattnCPUAttentionGetRank(handle, t)
            if rank < 0:
                continue
            self.shapes[name] = tuple(
                int(lib.lpattnCPUAttentionGetDim(handle, t, i))
                for i in range(rank))
        self._lock = threading.Lock()

    @property
    def output_shape(self):
        return self.shapes["output"]

    def close(self):
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.ptr:
            _capi_library.lib.lpattnCPUAttentionDestroy(handle)  # it compiled
        self._handle = None

    def __del__(self):
        # At interpreter exit the module globals may be gone already.
        if _capi_library.lib is not None:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _input(self, name, x):
        a = np.ascontiguousarray(x, dtype=np.float32)
        want = self.shapes[name]
        if a.shape != want:
            raise ValueError(f"lpattn: {name} has shape {a.shape}, the "
                             f"compiled attention takes {want}")
        return a

    def __call__(self, q, k, v, mask=None, descale=None):
        if self._handle is None:
            raise ValueError("lpattn: the attention is closed")
        q = self._input("q", q)
        k = self._input("k", k)
        v = self._input("v", v)
        if self.has_mask:
            if mask is None:
                raise ValueError(f"lpattn: the compiled attention takes a "
                                 f"mask of shape {self.shapes['mask']}")
            mask = self._input("mask", mask)
        elif mask is not None:
            raise ValueError("lpattn: the compiled attention takes no mask")
        ds = None
        if descale is not None:
            if not self.has_descales:
                raise ValueError(
                    "lpattn: the compiled attention takes no descales")
            ds = np.ascontiguousarray(descale, dtype=np.float32)
            if self.per_head_descales:
                want = (3, self.shapes["q"][0], self.shapes["k"][1])
                if ds.shape != want:
                    raise ValueError(
                        f"lpattn: the compiled attention takes per-(batch, "
                        f"KV head) descales: descale must have shape (3, B, "
                        f"Hkv) = {want} (q, k, v), got shape {ds.shape}")
            elif ds.shape != (3,):
                raise ValueError(f"lpattn: descale must be 3 floats "
                                 f"(q, k, v), got shape {ds.shape}")
        out = np.empty(self.shapes["output"], dtype=np.float32)

        def ptr(a):
            return None if a is None else a.ctypes.data_as(_fp)

        with self._lock:
            res = _capi().lpattnCPUAttentionRun(self._handle, ptr(q), ptr(k),
                                             ptr(v), ptr(mask), ptr(ds),
                                             ptr(out))
            if not res.value:
                raise LPAttnError(_last_error() or "lpattn: run failed")
        return out


def compile(mlir_text, *, tile_q=0, tile_kv=0, opt_level=3):
    """Compiles the MLIR function holding one lpattn.attention (its arguments
    are Q, K, V, then the op's mask and descales if it has them)."""
    return Attention(mlir_text, tile_q=tile_q, tile_kv=tile_kv,
                     opt_level=opt_level)


# --- lpattn.attention from numpy --------------------------------------------

_TYPES = ("f32", "f16", "bf16", "f8E4M3FN", "f8E5M2")
_POLICY_KEYS = ("qk", "score", "p", "v", "acc", "out", "overflow")

POLICIES = {
    "fp8": dict(qk="f8E4M3FN", score="f32", p="f8E4M3FN", v="f8E4M3FN",
                acc="f32", out="bf16", overflow="satfinite"),
    "f32": dict(qk="f32", score="f32", p="f32", v="f32", acc="f32",
                out="f32", overflow="satfinite"),
}


def _policy(policy):
    if isinstance(policy, str):
        if policy not in POLICIES:
            raise ValueError(f"lpattn: unknown policy {policy!r} (one of "
                             f"{', '.join(POLICIES)} or a dict)")
        return dict(POLICIES[policy])
    p = dict(policy)
    p.setdefault("overflow", "satfinite")
    unknown = set(p) - set(_POLICY_KEYS)
    missing = [k for k in _POLICY_KEYS if k not in p]
    if unknown or missing:
        raise ValueError(f"lpattn: policy keys are {', '.join(_POLICY_KEYS)}"
                         f" (unknown: {sorted(unknown)}, missing: {missing})")
    for key in _POLICY_KEYS[:-1]:
        if p[key] not in _TYPES:
            raise ValueError(f"lpattn: policy {key} = {p[key]!r} is not one "
                             f"of {', '.join(_TYPES)}")
    if p["overflow"] not in ("satfinite", "nonsat"):
        raise ValueError("lpattn: policy overflow is satfinite or nonsat")
    return p


def _float(x):
    # MLIR float literals need a '.'; 17 digits round-trip a double.
    return "%.17e" % float(x)


def _tensor(shape, elt):
    return "tensor<" + "x".join(str(d) for d in shape) + "x" + elt + ">"


def attention_mlir(q_shape, k_shape, v_shape, *, policy="fp8", p_scale=None,
                   kv_order="reverse", softmax="standard", causal=False,
                   mask_shape=None, descale=False, scale=None, tiles=None):
    """The MLIR text of `func.func @attention` holding one lpattn.attention
    for these shapes and attributes (what `attention` compiles). `descale`:
    False (none), True (three f32 scalars) or "per_head" (three
    tensor<B x Hkv x f32>)."""
    p = _policy(policy)
    shapes = [tuple(int(d) for d in s) for s in (q_shape, k_shape, v_shape)]
    for name, s in zip("qkv", shapes):
        if len(s) != 4:
            raise ValueError(f"lpattn: {name} must have rank 4 "
                             f"([B, H, N, D]), got shape {s}")
    (b, hq, nq, d), (bk, hkv, nk, dk), (bv, hv, nv, dv) = shapes
    if not (b == bk == bv) or hkv != hv or nk != nv or d != dk:
        raise ValueError(f"lpattn: shapes q {shapes[0]}, k {shapes[1]}, "
                         f"v {shapes[2]} do not fit Q [B, Hq, Nq, D], "
                         f"K [B, Hkv, Nk, D], V [B, Hkv, Nk, Dv]")
    if hkv == 0 or hq % hkv:
        raise ValueError(f"lpattn: query heads {hq} are no multiple of KV "
                         f"heads {hkv}")
    if kv_order not in ("forward", "reverse"):
        raise ValueError("lpattn: kv_order is 'forward' or 'reverse'")
    if softmax not in ("standard", "bias_corrected", "pasa"):
        raise ValueError("lpattn: softmax is 'standard', 'bias_corrected' "
                         "or 'pasa'")
    out_shape = (b, hq, nq, dv)
    types = [_tensor(shapes[0], p["qk"]), _tensor(shapes[1], p["qk"]),
             _tensor(shapes[2], p["v"])]
    args = ["%q", "%k", "%v"]
    operands = "%q, %k, %v"
    if mask_shape is not None:
        ms = tuple(int(x) for x in mask_shape)
        if (len(ms) != 4 or ms[0] not in (1, b) or ms[1] not in (1, hq)
                or ms[2:] != (nq, nk)):
            raise ValueError(f"lpattn: mask has shape {ms}, it must be "
                             f"[B or 1, Hq or 1, Nq, Nk] = "
                             f"[{b} or 1, {hq} or 1, {nq}, {nk}]")
        types.append(_tensor(ms, "f32"))
        args.append("%mask")
        operands += " mask(%mask)"
    params = [f"{a}: {t}" for a, t in zip(args, types)]
    if descale == "per_head":
        # Per (batch, KV head), FlashAttention-3's form.
        ds_t = _tensor((b, hkv), "f32")
        params += [f"%qd: {ds_t}", f"%kd: {ds_t}", f"%vd: {ds_t}"]
        operands += f" descale(%qd, %kd, %vd : {ds_t})"
    elif descale:
        params += ["%qd: f32", "%kd: f32", "%vd: f32"]
        operands += " descale(%qd, %kd, %vd)"
    pol = ", ".join(f"{k} = {p[k]}" for k in _POLICY_KEYS)
    attrs = f"policy = <{pol}>"
    if scale is not None:
        attrs += f" scale = {_float(scale)}"
    if p_scale is not None:
        attrs += f" p_scale = {_float(p_scale)}"
    attrs += f" kv_order = {kv_order} softmax = {softmax}"
    attrs += f" causal = {'true' if causal else 'false'}"
    if tiles is not None:
        attrs += f" tiles = [{int(tiles[0])}, {int(tiles[1])}]"
    out_t = _tensor(out_shape, p["out"])
    return (f"func.func @attention({', '.join(params)}) -> {out_t} {{\n"
            f"  %o = lpattn.attention {operands} {attrs} : "
            f"{', '.join(types)} -> {out_t}\n"
            f"  return %o : {out_t}\n"
            f"}}\n")


CacheInfo = collections.namedtuple("CacheInfo",
                                   ["hits", "misses", "compiles", "currsize"])
_cache = {}
_cache_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0, "compiles": 0}


def cache_info():
    """Hits, misses, compiles (successful) and entries of attention()'s
    compile cache."""
    with _cache_lock:
        return CacheInfo(_stats["hits"], _stats["misses"], _stats["compiles"],
                         len(_cache))


def cache_clear():
    """Empties attention()'s compile cache (and resets its counters)."""
    with _cache_lock:
        entries = list(_cache.values())
        _cache.clear()
        for key in _stats:
            _stats[key] = 0
    for a in entries:
        a.close()


def _cached(key, build):
    """The cache's entry for `key`, built (compiled) by `build` on a miss."""
    with _cache_lock:
        compiled = _cache.get(key)
        if compiled is not None:
            _stats["hits"] += 1
        else:
            _stats["misses"] += 1
    if compiled is None:
        compiled = build()
        with _cache_lock:
            _stats["compiles"] += 1
            compiled = _cache.setdefault(key, compiled)
    return compiled


def _is_torch_tensor(x):
    # Without importing torch: a torch tensor means torch is imported.
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def attention(q, k, v, *, policy="fp8", p_scale=None, kv_order="reverse",
              softmax="standard", causal=False, mask=None, descale=None,
              scale=None, tiles=None):
    """softmax(scale * Q K^T + mask) V with lpattn's numerics, on the CPU
    (numpy inputs) or the GPU (torch CUDA tensors: see below).

    q [B, Hq, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] (numpy arrays or
    anything np.asarray takes; Hq a multiple of Hkv); mask an additive
    [B|1, Hq|1, Nq, Nk] array; descale (q_ds, k_ds, v_ds), or a (3, B, Hkv)
    array of descales per (batch, KV head) as FlashAttention-3 takes them
    (query head h uses [:, b, h // (Hq // Hkv)]). `policy` is "fp8"
    (e4m3 Q/K/P/V, f32 score/acc, bf16 out, satfinite), "f32", or a dict with
    keys qk, score, p, v, acc, out, overflow. `scale` defaults to 1/sqrt(D)
    and `p_scale` to the op's default (1). Returns the float32 [B, Hq, Nq, Dv]
    result. The compiled attention is cached by shapes, policy and
    attributes (cache_info()).

    With torch CUDA tensors it runs lpattn's sm_90a kernel (H100/H200),
    compiled once per problem (cached with the same key plus the chip) and
    launched on the tensors' device, on its current stream: q and k of the
    policy's qk type, v of its v type (torch.float8_e4m3fn for f8E4M3FN,
    torch.float8_e5m2 for f8E5M2: the kernel takes FP8 only), contiguous;
    mask a float32 CUDA tensor; descale three Python floats (per tensor), or
    three float32 CUDA tensors [B, Hkv] or one (3, B, Hkv) (per batch and KV
    head). Returns a CUDA tensor [B, Hq, Nq, Dv] of the policy's out type
    (torch.bfloat16 for "fp8"), asynchronously (lpattn.gpu.torch_attention).
    """
    if _is_torch_tensor(q):
        from . import gpu
        return gpu.torch_attention(
            q, k, v, policy=policy, p_scale=p_scale, kv_order=kv_order,
            softmax=softmax, causal=causal, mask=mask, descale=descale,
            scale=scale, tiles=tiles)
    q = np.ascontiguousarray(q, dtype=np.float32)
    k = np.ascontiguousarray(k, dtype=np.float32)
    v = np.ascontiguousarray(v, dtype=np.float32)
    mask_shape = None
    if mask is not None:
        mask = np.ascontiguousarray(mask, dtype=np.float32)
        mask_shape = mask.shape
    p = _policy(policy)
    # descale: (q, k, v) per tensor, or a (3, B, Hkv) array per (batch, KV
    # head).
    descale_form = None
    if descale is not None:
        descale_form = "per_head" if np.ndim(descale) == 3 else True
    key = (q.shape, k.shape, v.shape, mask_shape, descale_form,
           tuple(p[k_] for k_ in _POLICY_KEYS),
           None if p_scale is None else float(p_scale), kv_order, softmax,
           bool(causal), None if scale is None else float(scale),
           None if tiles is None else tuple(int(t) for t in tiles))
    compiled = _cached(key, lambda: Attention(attention_mlir(
        q.shape, k.shape, v.shape, policy=p, p_scale=p_scale,
        kv_order=kv_order, softmax=softmax, causal=causal,
        mask_shape=mask_shape, descale=descale_form, scale=scale,
        tiles=tiles)))
    return compiled(q, k, v, mask=mask, descale=descale)


from .gpu import GPUArtifact, compile_gpu, runtime_library_path  # noqa: E402
