"""lpattn's sm_90a kernel from Python: compile (C API) and run (runtime).

``compile_gpu`` compiles through ``libLPAttnCAPI.so`` (lpattn-c/GPU.h, the
pipeline of ``lpattn-compile``) and needs no GPU. A ``GPUArtifact`` runs
through ``liblpattn_rt.so`` alone (lpattn-rt/Runtime.h: no MLIR, the CUDA
driver opened on the first run), so a machine without LLVM runs artifacts
saved elsewhere (``save`` / ``GPUArtifact.load``). torch is imported only
to run on torch tensors.
"""

import ctypes
import json
import os
import threading

from . import (LPAttnError, _POLICY_KEYS, _StringRef, _capi, _cached,
               _GPUCompileOptions, _last_error, _LazyLibrary, _policy,
               attention_mlir)

_RT_NAME = "liblpattn_rt.so"


class _AttentionArgs(ctypes.Structure):
    """lpattnRtAttentionArgs."""
    _fields_ = [("q", ctypes.c_uint64), ("k", ctypes.c_uint64),
                ("v", ctypes.c_uint64), ("mask", ctypes.c_uint64),
                ("descales", ctypes.POINTER(ctypes.c_float)),
                ("descalePtrs", ctypes.c_uint64 * 3),
                ("o", ctypes.c_uint64)]


_RT_FUNCTIONS = [
    ("lpattnRtStatusName", ctypes.c_char_p, [ctypes.c_int]),
    ("lpattnRtGetLastError", ctypes.c_char_p, []),
    ("lpattnRtInit", ctypes.c_int, []),
    ("lpattnRtSetDevice", ctypes.c_int, [ctypes.c_int]),
    ("lpattnRtCheckArtifact", ctypes.c_int, [ctypes.c_char_p]),
    ("lpattnRtLoadArtifactData", ctypes.c_int,
     [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
      ctypes.POINTER(ctypes.c_void_p)]),
    ("lpattnRtUnloadArtifact", ctypes.c_int, [ctypes.c_void_p]),
    ("lpattnRtLaunchAttention", ctypes.c_int,
     [ctypes.c_void_p, ctypes.POINTER(_AttentionArgs), ctypes.c_void_p]),
]

_runtime_library = _LazyLibrary(
    _RT_NAME, "LPATTN_RUNTIME_LIBRARY", ["build/lib", "build-rt"],
    "the GPU runtime, needed to run GPU artifacts", _RT_FUNCTIONS)


def _runtime():
    """liblpattn_rt.so, loaded on first use."""
    return _runtime_library.get()


def runtime_library_path():
    """The path liblpattn_rt.so was loaded from (loading it if needed)."""
    _runtime()
    return _runtime_library.path


def _check(status, what):
    """Raises LPAttnError with the runtime's message for a failed call."""
    if status != 0:
        rt = _runtime()
        msg = rt.lpattnRtGetLastError().decode("utf-8", "replace")
        name = rt.lpattnRtStatusName(status).decode()
        raise LPAttnError(f"lpattn: {what}: {msg} [{name}]")


# The descriptor's dtype spellings (Numerics/Enums.h) and torch's dtypes.
_TORCH_DTYPES = {"f8E4M3FN": "float8_e4m3fn", "f8E5M2": "float8_e5m2",
                 "bf16": "bfloat16", "f16": "float16", "f32": "float32"}


def _torch_dtype(torch, name):
    return getattr(torch, _TORCH_DTYPES[name])


class GPUArtifact:
    """A compiled sm_90a attention: the cubin and its launch descriptor
    (docs/launch-descriptor.md), as ``lpattn-compile`` writes them.

    ``descriptor`` is the descriptor as a dict; ``shapes`` the tensors'
    shapes by role (q, k, v, mask, o); ``dtypes`` their element types
    (descriptor spellings). Call it on torch CUDA tensors, or ``launch`` it
    on raw device pointers. ``close()`` unloads it from the devices it ran
    on.
    """

    def __init__(self, descriptor_text, cubin, ptx=b"", ptxas_log=""):
        if isinstance(descriptor_text, bytes):
            descriptor_text = descriptor_text.decode("utf-8")
        try:
            self.descriptor = json.loads(descriptor_text)
        except ValueError as e:
            raise LPAttnError(f"lpattn: the launch descriptor is not JSON: "
                              f"{e}") from None
        if not isinstance(self.descriptor, dict) or not isinstance(
                self.descriptor.get("params"), list):
            raise LPAttnError("lpattn: the launch descriptor has no params")
        self._descriptor_text = descriptor_text
        self.cubin = bytes(cubin)
        self.ptx = bytes(ptx)
        self.ptxas_log = ptxas_log
        params = {p.get("role"): p for p in self.descriptor["params"]}
        self.shapes = {r: tuple(p["shape"]) for r, p in params.items()
                       if "shape" in p and r in ("q", "k", "v", "mask", "o")}
        self.dtypes = {r: p["dtype"] for r, p in params.items()
                       if "dtype" in p}
        self.has_mask = "mask" in params
        self.has_descales = "q_ds" in params
        # Per (batch, KV head): f32 [B, Hkv] device tensors, not scalars.
        self.per_head_descales = (self.has_descales
                                  and params["q_ds"].get("kind") == "pointer")
        self._loaded = {}  # device ordinal -> lpattnRtArtifact
        self._lock = threading.Lock()

    @property
    def output_shape(self):
        return self.shapes["o"]

    @property
    def descriptor_text(self):
        """The descriptor's JSON text (its cubin member: attn.cubin)."""
        return self._descriptor_text

    # --- Files -------------------------------------------------------------

    def save(self, directory, name="attn"):
        """Writes DIR/NAME.cubin, NAME.json (naming NAME.cubin), NAME.ptx and
        NAME.ptxas.log: ``lpattn-compile -o DIR/NAME``'s files, which
        ``GPUArtifact.load``, ``lpattn-gpu-run`` and the runtime read.
        Returns the descriptor's path."""
        os.makedirs(directory, exist_ok=True)
        desc = dict(self.descriptor)
        desc["cubin"] = name + ".cubin"
        desc["ptx"] = name + ".ptx"
        base = os.path.join(directory, name)
        with open(base + ".cubin", "wb") as f:
            f.write(self.cubin)
        with open(base + ".ptx", "wb") as f:
            f.write(self.ptx)
        with open(base + ".ptxas.log", "w") as f:
            f.write(self.ptxas_log)
        with open(base + ".json", "w") as f:
            json.dump(desc, f, indent=2)
            f.write("\n")
        return base + ".json"

    @classmethod
    def load(cls, path):
        """Reads an artifact: NAME.json (its cubin beside it, as the
        descriptor names it) or a directory holding attn.json. The runtime
        checks it first, without a driver (lpattnRtCheckArtifact); needs
        liblpattn_rt.so, not libLPAttnCAPI.so."""
        if os.path.isdir(path):
            path = os.path.join(path, "attn.json")
        _check(_runtime().lpattnRtCheckArtifact(os.fsencode(path)),
               f"cannot load the artifact {path}")
        with open(path) as f:
            text = f.read()
        desc = json.loads(text)
        base = os.path.dirname(path)

        def read(member, mode):
            name = desc.get(member)
            if not name:
                return b"" if mode == "rb" else ""
            full = name if os.path.isabs(name) else os.path.join(base, name)
            if not os.path.exists(full):
                return b"" if mode == "rb" else ""
            with open(full, mode) as f:
                return f.read()

        log = os.path.splitext(path)[0] + ".ptxas.log"
        ptxas_log = open(log).read() if os.path.exists(log) else ""
        return cls(text, read("cubin", "rb"), read("ptx", "rb"), ptxas_log)

    # --- Running ---------------------------------------------------------

    def _module(self, device):
        """The artifact loaded on `device` (loaded on first use)."""
        rt = _runtime()
        _check(rt.lpattnRtInit(), "cannot open the CUDA driver")
        _check(rt.lpattnRtSetDevice(device), f"cannot use CUDA device "
               f"{device}")
        handle = self._loaded.get(device)
        if handle is None:
            handle = ctypes.c_void_p()
            data = self._descriptor_text.encode("utf-8")
            _check(rt.lpattnRtLoadArtifactData(data, len(data), self.cubin,
                                               len(self.cubin),
                                               ctypes.byref(handle)),
                   f"cannot load the artifact on CUDA device {device}")
            self._loaded[device] = handle
        return handle

    def launch(self, q, k, v, o, *, mask=0, descale=None, device=0,
               stream=0):
        """Launches the kernel on device pointers (ints: CUdeviceptr) of
        dense row-major tensors with the artifact's shapes and dtypes, on
        CUDA device `device`, asynchronously on `stream` (a CUstream as an
        int; 0: the default stream). `descale`: three floats (per-tensor
        descales; None: ones) or, for per-(batch, KV head) descales, three
        device pointers to f32 [B, Hkv]."""
        args = _AttentionArgs(q=q, k=k, v=v, mask=mask or 0, o=o)
        keep = None
        if self.per_head_descales:
            if descale is None or len(descale) != 3:
                raise ValueError("lpattn: the artifact takes per-(batch, KV "
                                 "head) descales: three device pointers")
            for i in range(3):
                args.descalePtrs[i] = int(descale[i])
        elif descale is not None:
            if len(descale) != 3:
                raise ValueError("lpattn: descale must be 3 floats "
                                 "(q, k, v)")
            keep = (ctypes.c_float * 3)(*[float(x) for x in descale])
            args.descales = ctypes.cast(keep, ctypes.POINTER(ctypes.c_float))
        with self._lock:
            handle = self._module(device)
            _check(_runtime().lpattnRtLaunchAttention(
                handle, ctypes.byref(args), ctypes.c_void_p(stream or None)),
                "launch failed")

    def __call__(self, q, k, v, *, mask=None, descale=None, out=None):
        """Runs on torch CUDA tensors (one device), on the device's current
        stream; returns `out` (allocated if None): a tensor of the artifact's
        output shape and out dtype. Accepted inputs as for
        lpattn.attention's GPU path."""
        import torch
        for name, t in (("q", q), ("k", k), ("v", v)):
            self._check_tensor(torch, name, t, q.device)
        if self.has_mask:
            if mask is None:
                raise ValueError(f"lpattn: the artifact takes a mask of "
                                 f"shape {self.shapes['mask']}")
            self._check_tensor(torch, "mask", mask, q.device, "f32")
        elif mask is not None:
            raise ValueError("lpattn: the artifact takes no mask")
        ds = self._descales(torch, descale, q.device)
        o_dtype = _torch_dtype(torch, self.dtypes["o"])
        if out is None:
            out = torch.empty(self.shapes["o"], dtype=o_dtype,
                              device=q.device)
        else:
            self._check_tensor(torch, "o", out, q.device)
        device = q.device.index
        if device is None:
            device = torch.cuda.current_device()
        stream = torch.cuda.current_stream(q.device).cuda_stream
        self.launch(q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr(),
                    mask=mask.data_ptr() if mask is not None else 0,
                    descale=ds, device=device, stream=stream)
        return out

    def _check_tensor(self, torch, name, t, device, dtype=None):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"lpattn: {name} must be a torch tensor, got "
                            f"{type(t).__name__}")
        if t.device.type != "cuda" or t.device != device:
            raise ValueError(f"lpattn: {name} is on {t.device}, q on "
                             f"{device}: the GPU path takes CUDA tensors on "
                             f"one device")
        want = _torch_dtype(torch, dtype or self.dtypes[name])
        if t.dtype != want:
            raise ValueError(f"lpattn: {name} has dtype {t.dtype}, the "
                             f"kernel takes {want}")
        if tuple(t.shape) != self.shapes[name]:
            raise ValueError(f"lpattn: {name} has shape {tuple(t.shape)}, "
                             f"the kernel takes {self.shapes[name]}")
        if not t.is_contiguous():
            raise ValueError(f"lpattn: {name} is not contiguous (the kernel "
                             f"reads dense row-major tensors): pass "
                             f"{name}.contiguous()")

    def _descales(self, torch, descale, device):
        """The descales as launch() takes them (keeping tensors alive is the
        caller's: they are its arguments)."""
        if descale is None:
            if self.per_head_descales:
                raise ValueError("lpattn: the artifact takes per-(batch, KV "
                                 "head) descales: three float32 CUDA tensors "
                                 "[B, Hkv] or one (3, B, Hkv)")
            return None
        if not self.has_descales:
            raise ValueError("lpattn: the artifact takes no descales")
        b, hkv = self.shapes["q"][0], self.shapes["k"][1]
        if not self.per_head_descales:
            if isinstance(descale, torch.Tensor) or len(descale) != 3 or any(
                    isinstance(x, torch.Tensor) for x in descale):
                raise ValueError("lpattn: the artifact takes per-tensor "
                                 "descales: three Python floats (q, k, v)")
            return [float(x) for x in descale]
        parts = list(descale) if not isinstance(descale, torch.Tensor) \
            else [descale[i] for i in range(descale.shape[0])]
        if len(parts) != 3:
            raise ValueError("lpattn: descale must be three [B, Hkv] "
                             "tensors or one (3, B, Hkv)")
        for name, t in zip(("q_ds", "k_ds", "v_ds"), parts):
            if (not isinstance(t, torch.Tensor) or t.dtype != torch.float32
                    or t.device != device or tuple(t.shape) != (b, hkv)
                    or not t.is_contiguous()):
                raise ValueError(
                    f"lpattn: {name} must be a contiguous float32 tensor "
                    f"[B, Hkv] = [{b}, {hkv}] on {device} (per-(batch, KV "
                    f"head) descales)")
        return [t.data_ptr() for t in parts]

    def close(self):
        """Unloads the kernel from the devices it was loaded on."""
        with self._lock:
            loaded, self._loaded = self._loaded, {}
        rt = _runtime_library.lib
        if loaded and rt is not None:
            for handle in loaded.values():
                rt.lpattnRtUnloadArtifact(handle)

    def __del__(self):
        # At interpreter exit the module globals may be gone already.
        if _runtime_library.lib is not None and getattr(self, "_loaded", None):
            self.close()


def compile_gpu(mlir_text, *, tile_q=0, tile_kv=0, stages=2, chip="sm_90a",
                ptxas=None):
    """Compiles the MLIR holding one lpattn.attention for `chip` (the
    pipeline of lpattn-compile: lpattn-sm90-pipeline, NVPTX, ptxas) into a
    GPUArtifact. Needs libLPAttnCAPI.so and ptxas, no GPU. `tile_q`,
    `tile_kv` are for an op without `tiles` (0: the default, 64)."""
    lib = _capi()
    data = mlir_text.encode("utf-8") if isinstance(mlir_text, str) \
        else bytes(mlir_text)
    opts = lib.lpattnGPUCompileOptionsGetDefault()
    if tile_q:
        opts.tileQ = tile_q
    if tile_kv:
        opts.tileKV = tile_kv
    opts.stages = stages
    opts.chip = chip.encode()
    if ptxas:
        opts.ptxas = os.fsencode(ptxas)
    handle = lib.lpattnGPUArtifactCompile(_StringRef(data, len(data)),
                                          ctypes.byref(opts))
    if not handle.ptr:
        raise LPAttnError(_last_error() or "lpattn: GPU compile failed")
    try:
        def part(fn):
            ref = fn(handle)
            return ctypes.string_at(ref.data, ref.length) if ref.length \
                else b""
        return GPUArtifact(part(lib.lpattnGPUArtifactGetDescriptor),
                           part(lib.lpattnGPUArtifactGetCubin),
                           part(lib.lpattnGPUArtifactGetPTX),
                           part(lib.lpattnGPUArtifactGetPtxasLog).decode(
                               "utf-8", "replace"))
    finally:
        lib.lpattnGPUArtifactDestroy(handle)


def _chip(torch, device):
    major, minor = torch.cuda.get_device_capability(device)
    if (major, minor) != (9, 0):
        raise LPAttnError(f"lpattn: the GPU kernel is for sm_90a (H100/H200); "
                          f"{device} is sm_{major}{minor}")
    return "sm_90a"


def torch_attention(q, k, v, *, policy="fp8", p_scale=None,
                    kv_order="reverse", softmax="standard", causal=False,
                    mask=None, descale=None, scale=None, tiles=None):
    """lpattn.attention on torch CUDA tensors (see its docstring)."""
    import torch
    from . import _is_torch_tensor
    p = _policy(policy)
    for name, t in (("k", k), ("v", v)):
        if not _is_torch_tensor(t):
            raise TypeError(f"lpattn: q is a torch tensor, {name} is "
                            f"{type(t).__name__}")
    if q.device.type != "cuda":
        raise ValueError(f"lpattn: torch tensors must be on a CUDA device, "
                         f"q is on {q.device} (use numpy arrays for the CPU)")
    for name, t, fmt in (("q", q, p["qk"]), ("k", k, p["qk"]),
                         ("v", v, p["v"])):
        want = _torch_dtype(torch, fmt)
        if t.dtype != want:
            raise ValueError(
                f"lpattn: {name} has dtype {t.dtype}, but the policy's "
                f"{'v' if name == 'v' else 'qk'} = {fmt} needs {want} (the "
                f"GPU kernel takes torch.float8_e4m3fn or "
                f"torch.float8_e5m2 Q, K, V)")
    descale_form = None
    if descale is not None:
        if isinstance(descale, torch.Tensor) or any(
                isinstance(x, torch.Tensor) for x in descale):
            descale_form = "per_head"
        else:
            descale_form = True
    mask_shape = tuple(mask.shape) if mask is not None else None
    chip = _chip(torch, q.device)
    shapes = (tuple(q.shape), tuple(k.shape), tuple(v.shape))
    key = ("sm90", chip, shapes, mask_shape, descale_form,
           tuple(p[k_] for k_ in _POLICY_KEYS),
           None if p_scale is None else float(p_scale), kv_order, softmax,
           bool(causal), None if scale is None else float(scale),
           None if tiles is None else tuple(int(t) for t in tiles))
    artifact = _cached(key, lambda: compile_gpu(attention_mlir(
        *shapes, policy=p, p_scale=p_scale, kv_order=kv_order,
        softmax=softmax, causal=causal, mask_shape=mask_shape,
        descale=descale_form, scale=scale, tiles=tiles), chip=chip))
    return artifact(q, k, v, mask=mask, descale=descale)
