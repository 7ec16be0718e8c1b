#!/usr/bin/env bash
# Set up tracemill on a fresh machine: system sandbox tool, a virtual environment, the package.
#   bash scripts/setup.sh [VENV_DIR]
# CPU (default): every dependency comes from the lock requirements/cpu.lock.txt, checked
# against its hashes, so every fresh install is the same program (torch is the CPU build
# torch==2.13.0). Re-lock with `make upgrade` (scripts/lock.sh), never by hand.
# GPU: TORCH_SPEC=torch EXTRAS=dev,vllm bash scripts/setup.sh takes a CUDA build of torch
# (and vLLM); the lock's other pins are applied as constraints.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
EXTRAS="${EXTRAS:-dev}"
PYTHON="${PYTHON:-python3}"
LOCK=requirements/cpu.lock.txt

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
PIP=("$VENV/bin/python" -m pip -q --disable-pip-version-check)
if [ "$TORCH_SPEC" = "torch==2.13.0" ] && [ "$EXTRAS" = "dev" ]; then
  "${PIP[@]}" install --require-hashes --no-deps -r "$LOCK"
  "${PIP[@]}" install --no-deps --no-build-isolation -e .
else
  constraints="$(mktemp)"
  trap 'rm -f "$constraints"' EXIT
  # the lock's pins without hashes, less torch (and what only a CPU torch needs)
  sed -e '/^ *--hash/d' -e 's/ *\\$//' -e '/^#/d' -e '/^torch==/d' "$LOCK" > "$constraints"
  "${PIP[@]}" install "$TORCH_SPEC"
  "${PIP[@]}" install -c "$constraints" -e ".[${EXTRAS}]"
fi
"$VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null || {
  "$VENV/bin/python" -m pip check --disable-pip-version-check >&2
  echo "error: the environment in $VENV is inconsistent (see above)" >&2
  exit 1
}
"$VENV/bin/tracemill" --help >/dev/null
echo "tracemill installed in $VENV"
