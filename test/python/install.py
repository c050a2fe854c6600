# `pip install` of python/ (offline, the system setuptools) gives a package
# that imports and runs from its install location.
# REQUIRES: python-pip
# RUN: rm -rf %t && mkdir -p %t && %python %s %lpattn_src_root %t | FileCheck %s
# CHECK: installed {{.*}}/site/lpattn/__init__.py
# CHECK: ran (1, 2, 3, 8)
# CHECK: OK

import os
import shutil
import subprocess
import sys

src_root, tmp = sys.argv[1], sys.argv[2]
# A copy, so that pip's in-tree build leaves the source tree alone.
src = os.path.join(tmp, "src")
shutil.copytree(os.path.join(src_root, "python"), src)
site = os.path.join(tmp, "site")
env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1",
           PIP_NO_WARN_SCRIPT_LOCATION="1", PIP_ROOT_USER_ACTION="ignore")
subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                "--no-build-isolation", "--no-index", "--no-deps", "--target",
                site, src], check=True, env=env)
env["PYTHONPATH"] = site
r = subprocess.run([sys.executable, "-c", """
import numpy as np, lpattn
print("installed", lpattn.__file__)
o = lpattn.attention(np.ones((1, 2, 3, 8)), np.ones((1, 1, 5, 8)),
                     np.ones((1, 1, 5, 8)), p_scale=256)
assert (o == 1).all(), o
print("ran", o.shape)
"""], check=True, env=env, cwd=tmp, capture_output=True, text=True)
print(r.stdout, end="")
print("OK")
