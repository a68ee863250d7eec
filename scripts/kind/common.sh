# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Sourced by every scripts/kind/*.sh: strict mode, repository root, pinned
# versions, and small helpers. Not meant to be run on its own.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/kind/versions.env
source "$ROOT/scripts/kind/versions.env"

# Tools installed by scripts/kind/install-tools.sh come first.
export PATH="$ROOT/.kind/bin:$PATH"
MODEL_STORE_DIR="${MODEL_STORE_DIR:-$ROOT/$MODEL_STORE_HOST_DIR}"
KUBECTL=(kubectl --context "kind-$CLUSTER_NAME")

# The tfx-kfp CLI: from $TFX_KFP if set, else the project's locked venv.
if [[ -n "${TFX_KFP:-}" ]]; then
  read -r -a TFX_KFP_CMD <<<"$TFX_KFP"
else
  TFX_KFP_CMD=(uv run --frozen tfx-kfp)
fi
tfx_kfp() { "${TFX_KFP_CMD[@]}" "$@"; }
project_python() { uv run --frozen python "$@"; }

STEP="$(basename "$0" .sh)"
log() { echo "kind/$STEP: $*"; }
die() { echo "kind/$STEP: ERROR: $*" >&2; exit 1; }
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 \
      || die "expected '$tool' on PATH; not found (scripts/kind/install-tools.sh installs kind and kubectl)"
  done
}

# Polls "$@" every 5 s until it succeeds or $WAIT_SECONDS (default 300) pass.
retry() {
  local deadline=$((SECONDS + ${WAIT_SECONDS:-300}))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 5
  done
}
