# -*- Python -*-
# lit configuration of the lpattn test suite.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "LPATTN"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lpattn_obj_root, "test")
config.excludes = ["CMakeLists.txt", "README.txt", "lit.cfg.py",
                   "lit.site.cfg.py"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%lpattn_src_root", config.lpattn_src_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.lpattn_tools_dir, config.llvm_tools_dir]
tools = ["lpattn-opt", "lpattn-run"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# The fuzz smoke test runs the driver on the tools in this build.
config.substitutions.append(("%lpattn_tools_dir", config.lpattn_tools_dir))
