#!/usr/bin/env bash
# One-command setup on a fresh machine: installs uv if missing, then the locked
# environment of one of the two stacks (docs/image.md, "Two stacks"), with
# tfx-kfp in editable mode:
#
#   current  TFX 1.21, TensorFlow 2.21, KFP 2.17, Python 3.11-3.13
#            (stacks/current/uv.lock -> stacks/current/.venv)
#   1.16     TFX 1.16, TensorFlow 2.16, KFP 2.13, Python 3.11 (uv.lock -> .venv)
#
# It picks current where the host can load that stack's wheels (Linux x86_64
# with glibc >= 2.38, macOS arm64) and 1.16 elsewhere, and says which and why.
# STACK=1.16 or STACK=current chooses.
set -euo pipefail
cd "$(dirname "$0")/.."

# ml-metadata and tensorflow-data-validation 1.21 ship Linux x86_64 wheels tagged
# manylinux_2_39 whose native code needs glibc >= 2.38 (and GCC 13's libstdc++).
MIN_GLIBC=2.38

host_reason() {  # prints "<stack> <why>" for this host
  local os arch glibc
  os="$(uname -s)"; arch="$(uname -m)"
  case "$os/$arch" in
    Darwin/arm64) echo "current macOS arm64: TFX 1.21's wheels exist for it" ;;
    Linux/x86_64)
      glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
      if [ -z "$glibc" ]; then
        echo "1.16 Linux x86_64 without glibc: TFX 1.21's wheels need glibc >= $MIN_GLIBC"
      elif [ "$(printf '%s\n%s\n' "$MIN_GLIBC" "$glibc" | sort -V | head -1)" = "$MIN_GLIBC" ]; then
        echo "current Linux x86_64 with glibc $glibc (>= $MIN_GLIBC, which TFX 1.21's ml-metadata/TFDV wheels need)"
      else
        echo "1.16 Linux x86_64 with glibc $glibc (< $MIN_GLIBC, which TFX 1.21's ml-metadata/TFDV wheels need)"
      fi ;;
    *) echo "1.16 $os $arch: no TFX 1.21 wheels for it" ;;
  esac
}

read -r picked why <<<"$(host_reason)"
case "${STACK:-}" in
  "") STACK="$picked"; echo "setup: stack $STACK, picked for this host: $why (STACK=1.16|current chooses)" ;;
  1.16) echo "setup: stack 1.16, asked for with STACK=1.16 (this host could run: $picked)" ;;
  current)
    if [ "$picked" != current ]; then
      echo "setup: STACK=current asked for, but this host cannot load it: $why. Use STACK=1.16." >&2
      exit 2
    fi
    echo "setup: stack current, asked for with STACK=current" ;;
  *) echo "setup: STACK must be 1.16 or current, got '$STACK'" >&2; exit 2 ;;
esac

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
echo "setup: uv $(uv --version | awk '{print $2}'); syncing the locked environment (first run downloads ~1.5 GB)"
# Bytecode for every installed module, written now: Python writes .pyc files on first import only
# where it may (not under PYTHONDONTWRITEBYTECODE, as on our CI machines), and without them every
# process compiles TensorFlow, TFX and Beam again (import tensorflow: 9.3 s without, 3.1 s with;
# docs/benchmarks.md). About 20 s and 0.5 GB, once.
if [ "$STACK" = 1.16 ]; then
  uv sync --frozen --all-extras --compile-bytecode
  echo "setup: done: $(uv run --frozen tfx-kfp --version) (stack 1.16) in $(pwd)/.venv"
else
  uv sync --frozen --project stacks/current --compile-bytecode
  # tfx-kfp's own metadata pins the 1.16 stack (and Python 3.11): install it without
  # its dependencies, which the current lock provides.
  stacks/current/.venv/bin/python -m pip install --quiet --no-deps --ignore-requires-python \
    --disable-pip-version-check -e .
  echo "setup: done: $(uv run --project stacks/current --frozen tfx-kfp --version) (stack current) in $(pwd)/stacks/current/.venv"
  echo "setup: run commands with: export UV_PROJECT=$(pwd)/stacks/current; uv run --frozen tfx-kfp ..."
fi
