#!/usr/bin/env bash
# Runs every numerics benchmark (not a test: it prints and writes numbers).
set -euo pipefail
cd "$(dirname "$0")"
for script in pcast.py pcast_threshold.py lptf.py pasa.py rasb_transient.py select_precision.py; do
  echo "== $script"
  /usr/bin/python3 "$script"
done
