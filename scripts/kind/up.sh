#!/usr/bin/env bash
# Creates the kind cluster from kind-cluster.yaml and prepares the model store:
# the penguin CSV where the pipeline reads it, and the folder TF Serving
# watches. The store is owned by the pipeline's uid ($PIPELINE_UID, the runtime
# image's USER) and writable by no one else; TF Serving and the host user
# read it.
source "$(dirname "$0")/common.sh"
need docker kind kubectl

mkdir -p "$MODEL_STORE_DIR"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  log "cluster $CLUSTER_NAME exists; keeping it"
else
  # Kubernetes 1.35 and later refuse cgroup v1 hosts: the kubelet's failCgroupV1
  # defaults to true, so the node would never become Ready.
  cgroup="$(docker info --format '{{.CgroupVersion}}' 2>/dev/null || true)"
  [[ "$cgroup" == 2 ]] || die "expected a Docker host with cgroup v2; docker info reports cgroup version" \
    "'${cgroup:-unknown}'. Kubernetes $KUBERNETES_VERSION's kubelet refuses cgroup v1 (failCgroupV1, true by" \
    "default since 1.35); boot the host with the unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1)"
  log "creating cluster $CLUSTER_NAME ($KIND_NODE_IMAGE)"
  # kind-cluster.yaml names the model store relative to the repository root;
  # hand kind an absolute path.
  sed "s#hostPath: $MODEL_STORE_HOST_DIR\$#hostPath: $MODEL_STORE_DIR#" kind-cluster.yaml \
    | kind create cluster --config - --wait 180s
fi

# Done inside the node, as its root: the host user need not be uid
# $PIPELINE_UID (nor have sudo) for the store to belong to it.
node="$CLUSTER_NAME-control-plane"
docker exec "$node" mkdir -p "$MODEL_STORE_NODE_DIR/$MODEL_STORE_DATA_SUBDIR" \
  "$MODEL_STORE_NODE_DIR/$MODEL_STORE_MODELS_SUBDIR" "$MODEL_STORE_NODE_DIR/$MODEL_STORE_MODULES_SUBDIR"
docker cp pipelines/penguin/data/penguins_processed.csv "$node:$MODEL_STORE_NODE_DIR/$MODEL_STORE_DATA_SUBDIR/"
docker exec "$node" chown -R "$PIPELINE_UID:$PIPELINE_UID" "$MODEL_STORE_NODE_DIR"
docker exec "$node" chmod -R u=rwX,go=rX "$MODEL_STORE_NODE_DIR"
log "model store $MODEL_STORE_DIR: owner uid $PIPELINE_UID, read-only for everyone else" \
  "(data in $MODEL_STORE_DATA_SUBDIR, models in $MODEL_STORE_MODELS_SUBDIR)"

"${KUBECTL[@]}" get nodes -o wide
log "ok: cluster $CLUSTER_NAME is up"
