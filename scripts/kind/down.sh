#!/usr/bin/env bash
# Deletes the kind cluster. --purge also deletes the host model store
# ($MODEL_STORE_DIR: data and every pushed model).
source "$(dirname "$0")/common.sh"
need kind

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kind delete cluster --name "$CLUSTER_NAME"
else
  log "no cluster named $CLUSTER_NAME"
fi
if [[ "${1:-}" == "--purge" ]]; then
  rm -rf "$MODEL_STORE_DIR" .kind/pipeline.yaml
  log "removed $MODEL_STORE_DIR"
fi
log "ok: cluster $CLUSTER_NAME is gone"
