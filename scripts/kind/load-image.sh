#!/usr/bin/env bash
# Builds the runtime image if it is missing and loads it into the kind node, so
# pipeline pods start from exactly the tag the compiled pipeline references.
source "$(dirname "$0")/common.sh"
need docker kind

tag="$(tfx_kfp image tag)"
if ! docker image inspect "$tag" >/dev/null 2>&1; then
  log "$tag not built yet; building it"
  tfx_kfp image build
fi
log "loading $tag into kind cluster $CLUSTER_NAME"
if ! kind load docker-image "$tag" --name "$CLUSTER_NAME"; then
  # Docker's containerd image store (Docker Desktop) can defeat `load docker-image`;
  # an archive works with every image store.
  log "kind load docker-image failed; loading through an image archive instead"
  mkdir -p .kind
  docker save "$tag" -o .kind/runtime-image.tar
  kind load image-archive .kind/runtime-image.tar --name "$CLUSTER_NAME"
  rm -f .kind/runtime-image.tar
fi
log "ok: $tag is on the node"
