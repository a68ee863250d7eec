#!/usr/bin/env bash
# One-command setup on a fresh machine: installs uv if missing, then the locked
# Python 3.11 environment (.venv) with tfx-kfp in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  echo "setup: installing uv"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
echo "setup: uv $(uv --version | awk '{print $2}'); syncing the locked environment (first run downloads ~1.5 GB)"
uv sync --frozen --all-extras
echo "setup: done: $(uv run --frozen tfx-kfp --version) in $(pwd)/.venv"
