# -*- Python -*-
# The lit suite of the out-of-tree consumer (scripts/check-install.sh):
#   lit test/Install/consumer/tests --param consumer_opt=PATH
import os

import lit.formats

config.name = "LPATTN-CONSUMER"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.substitutions.append(
    ("%consumer-opt", lit_config.params.get("consumer_opt", "consumer-opt")))
config.substitutions.append(("%lpattn_examples",
                             os.path.join(config.test_source_root, "..", "..",
                                          "..", "..", "examples")))
config.environment["PATH"] = os.pathsep.join(
    ["/usr/lib/llvm-22/bin", os.environ.get("PATH", "")])
