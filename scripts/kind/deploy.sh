#!/usr/bin/env bash
# Applies deploy/ (model store PV + PVC, TF Serving, KFP NodePort services),
# with TF Serving's image pinned by digest, and waits until TF Serving runs.
# It turns Ready only once a model version exists.
source "$(dirname "$0")/common.sh"
need kubectl

digest="$TF_SERVING_DIGEST"
if [[ -z "$digest" && -s .kind/tf-serving.digest ]]; then
  digest="$(cat .kind/tf-serving.digest)"
  log "TF_SERVING_DIGEST is not pinned in versions.env; using $digest from .kind/tf-serving.digest (first use)"
elif [[ -z "$digest" ]]; then
  # Trust on first use: resolve the tag once, keep the digest, and say how to pin it.
  need docker
  docker pull --quiet "$TF_SERVING_IMAGE" >/dev/null || die "could not pull $TF_SERVING_IMAGE to read its digest"
  repo_digests="$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$TF_SERVING_IMAGE")" \
    || die "could not inspect $TF_SERVING_IMAGE after pulling it"
  # Docker lists "tensorflow/serving@sha256:…" (docker.io/ first with the containerd image store).
  digest="$(grep -m1 -E "^(docker\.io/)?${TF_SERVING_IMAGE%%:*}@sha256:[0-9a-f]{64}\$" <<<"$repo_digests" | cut -d@ -f2 || true)"
  [[ -n "$digest" ]] || die "expected a repository digest ${TF_SERVING_IMAGE%%:*}@sha256:<64 hex> for" \
    "$TF_SERVING_IMAGE; docker image inspect lists: ${repo_digests:-none}"
  mkdir -p .kind && echo "$digest" >.kind/tf-serving.digest
  log "WARNING: TF_SERVING_DIGEST is not pinned in scripts/kind/versions.env; $TF_SERVING_IMAGE is $digest" \
    "today. Pin it there: TF_SERVING_DIGEST=$digest"
fi
write_deploy_overlay .kind/deploy "$digest"

"${KUBECTL[@]}" apply -k .kind/deploy
"${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=jsonpath='{.status.phase}'=Bound pvc/tfx-kfp-model-store --timeout=120s \
  || die "expected PersistentVolumeClaim tfx-kfp-model-store Bound within 2 min"
log "waiting for TF Serving (${TF_SERVING_IMAGE%%:*}@$digest) to start"
# `kubectl wait` on a label fails at once when no pod matches yet (the Deployment creates it).
serving_pod_exists() { [[ -n "$("${KUBECTL[@]}" -n "$KFP_NAMESPACE" get pod -l app=tfx-kfp-serving -o name)" ]]; }
WAIT_SECONDS=120 retry serving_pod_exists || die "expected the TF Serving Deployment to create a pod within 2 min"
if ! "${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=jsonpath='{.status.phase}'=Running pod -l app=tfx-kfp-serving --timeout=600s; then
  "${KUBECTL[@]}" -n "$KFP_NAMESPACE" describe pod -l app=tfx-kfp-serving | tail -30
  die "expected the TF Serving pod Running within 10 min"
fi
log "ok: model store bound, TF Serving running (its ports open, and it turns Ready, once the pipeline pushes a model)"
