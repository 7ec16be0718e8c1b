#!/usr/bin/env bash
# Set up tracemill on a fresh machine: system sandbox tool, a virtual environment, the package.
#   bash scripts/setup.sh [VENV_DIR]
# TORCH_SPEC overrides the torch requirement (default: the CPU build torch==2.13.0; on a GPU
# machine use e.g. TORCH_SPEC="torch" for a CUDA build, and add the vllm extra:
# EXTRAS="dev,vllm").
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
EXTRAS="${EXTRAS:-dev}"
PYTHON="${PYTHON:-python3}"

# bubblewrap isolates model-written code (tracemill refuses to run code without it)
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing bubblewrap (Debian package)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
  else
    echo "warning: bubblewrap (bwrap) is not installed; code verification will refuse to run" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "$TORCH_SPEC"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[${EXTRAS}]"
echo "tracemill installed in $VENV ($("$VENV/bin/tracemill" --help >/dev/null && echo ok))"
