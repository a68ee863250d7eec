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
kind load docker-image "$tag" --name "$CLUSTER_NAME"
log "ok: $tag is on the node"
