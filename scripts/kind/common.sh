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
# query_model.py uses tfx_kfp.serving.client (the serving extra: gRPC).
project_python() { uv run --frozen --extra serving python "$@"; }

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

# What run-pipeline.sh found the last run's Pusher did: "pushed <version>",
# "already-pushed <version>" or "skipped"; query.sh explains a missing model with it.
LAST_PUSH_FILE=.kind/last-push
# The record the Pusher writes into the model base path after each push
# (components/pusher/executor.py LAST_PUSH_RECORD); scripts/kind/push_outcome.py reads it.
PUSH_RECORD_NAME=.tfx_kfp_last_push.json

# Copies module file $1 into the model store as modules/<sha256>.py, where the
# pipeline compiled with its text for the kind target refers to it
# (pipelines/cluster.py), owned by the pipeline's uid and read-only for others.
# Done inside the node, as its root (as up.sh does). Prints the stored name.
install_module() {
  local file="$1" digest node="$CLUSTER_NAME-control-plane"
  [[ -f "$file" ]] || die "expected a module file; '$file' is not a file"
  digest="$(sha256sum "$file" | awk '{print $1}')"
  docker exec "$node" mkdir -p "$MODEL_STORE_NODE_DIR/$MODEL_STORE_MODULES_SUBDIR"
  docker cp "$file" "$node:$MODEL_STORE_NODE_DIR/$MODEL_STORE_MODULES_SUBDIR/$digest.py"
  docker exec "$node" chown -R "$PIPELINE_UID:$PIPELINE_UID" "$MODEL_STORE_NODE_DIR/$MODEL_STORE_MODULES_SUBDIR"
  docker exec "$node" chmod -R u=rwX,go=rX "$MODEL_STORE_NODE_DIR/$MODEL_STORE_MODULES_SUBDIR"
  echo "$MODEL_STORE_MODULES_SUBDIR/$digest.py"
}

# Prints the highest numeric version folder under the host model store's model
# base path (TF Serving serves the highest), or nothing.
newest_version() {
  local dir version newest=""
  for dir in "$MODEL_STORE_DIR/$MODEL_STORE_MODELS_SUBDIR"/*/; do
    version="$(basename "$dir")"
    [[ "$version" =~ ^[0-9]+$ ]] && { [[ -z "$newest" ]] || ((version > newest)); } && newest="$version"
  done
  echo "$newest"
}

# Polls "$@" every 5 s until it succeeds or $WAIT_SECONDS (default 300) pass.
retry() {
  local deadline=$((SECONDS + ${WAIT_SECONDS:-300}))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 5
  done
}

# Writes DIR/kustomization.yaml: deploy/ with TF Serving's image pinned to
# DIGEST (sha256:...), so the kubelet pulls exactly that image.
write_deploy_overlay() {
  local dir="$1" digest="$2"
  [[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] || die "expected a digest sha256:<64 hex> for $TF_SERVING_IMAGE; got '$digest'"
  mkdir -p "$dir"
  cat >"$dir/kustomization.yaml" <<YAML
# Written by scripts/kind/deploy.sh: deploy/ with $TF_SERVING_IMAGE pinned by digest.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$dir" "$ROOT/deploy")
images:
  - name: ${TF_SERVING_IMAGE%%:*}
    digest: $digest
YAML
}
