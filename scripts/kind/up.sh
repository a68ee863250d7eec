#!/usr/bin/env bash
# Creates the kind cluster from kind-cluster.yaml and prepares the host model
# store: the penguin CSV where the pipeline reads it, and the folder TF Serving
# watches.
source "$(dirname "$0")/common.sh"
need docker kind kubectl

mkdir -p "$MODEL_STORE_DIR/$MODEL_STORE_DATA_SUBDIR" "$MODEL_STORE_DIR/$MODEL_STORE_MODELS_SUBDIR"
cp pipelines/penguin/data/penguins_processed.csv "$MODEL_STORE_DIR/$MODEL_STORE_DATA_SUBDIR/"
# Pipeline pods run as the image's non-root user (uid 1000), TF Serving as
# root: both must be able to write or read whatever the other created.
chmod -R a+rwX "$MODEL_STORE_DIR"
log "model store $MODEL_STORE_DIR (data in $MODEL_STORE_DATA_SUBDIR, models in $MODEL_STORE_MODELS_SUBDIR)"

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  log "cluster $CLUSTER_NAME exists; keeping it"
else
  log "creating cluster $CLUSTER_NAME ($KIND_NODE_IMAGE)"
  # kind-cluster.yaml names the model store relative to the repository root;
  # hand kind an absolute path.
  sed "s#hostPath: $MODEL_STORE_HOST_DIR\$#hostPath: $MODEL_STORE_DIR#" kind-cluster.yaml \
    | kind create cluster --config - --wait 180s
fi
"${KUBECTL[@]}" get nodes -o wide
log "ok: cluster $CLUSTER_NAME is up"
