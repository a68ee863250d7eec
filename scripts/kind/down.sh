#!/usr/bin/env bash
# Deletes the kind cluster. --purge also deletes the host model store
# ($MODEL_STORE_DIR: data and every pushed model).
source "$(dirname "$0")/common.sh"
need kind

purge=false
[[ "${1:-}" == "--purge" ]] && purge=true
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  if $purge; then
    # The store belongs to the pipeline's uid (up.sh); empty it as the node's
    # root while the node still exists.
    docker exec "$CLUSTER_NAME-control-plane" sh -c "rm -rf '$MODEL_STORE_NODE_DIR'/* '$MODEL_STORE_NODE_DIR'/.[!.]*" || true
  fi
  kind delete cluster --name "$CLUSTER_NAME"
else
  log "no cluster named $CLUSTER_NAME"
fi
if $purge; then
  rm -rf "$MODEL_STORE_DIR" .kind/pipeline.yaml .kind/last-push \
    || die "could not remove $MODEL_STORE_DIR (owned by uid $PIPELINE_UID); remove it with: sudo rm -rf $MODEL_STORE_DIR"
  log "removed $MODEL_STORE_DIR"
fi
log "ok: cluster $CLUSTER_NAME is gone"
