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
  # With Docker's containerd image store, `docker save` of a multi-platform or
  # attested image lists content the store does not hold, and the node's import
  # fails with "content digest not found" (kubernetes-sigs/kind#3795, #4247). An
  # archive of the linux/amd64 image alone imports; Docker before 28 has no
  # `save --platform`, and its classic store saves one platform anyway.
  log "kind load docker-image failed; loading a linux/amd64 image archive instead"
  mkdir -p .kind
  if ! docker save --platform linux/amd64 -o .kind/runtime-image.tar "$tag"; then
    log "this Docker cannot save one platform (docker save --platform); saving the image as stored"
    docker save -o .kind/runtime-image.tar "$tag" || die "could not save $tag to .kind/runtime-image.tar"
  fi
  kind load image-archive .kind/runtime-image.tar --name "$CLUSTER_NAME" \
    || die "could not load .kind/runtime-image.tar into the node (see above); rebuilding the image with" \
      "docker build --provenance=false leaves no attestation manifest to miss"
  rm -f .kind/runtime-image.tar
fi
log "ok: $tag is on the node"
