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
  digest="$(docker image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$TF_SERVING_IMAGE" \
    | grep -m1 "^${TF_SERVING_IMAGE%%:*}@" | cut -d@ -f2)"
  mkdir -p .kind && echo "$digest" >.kind/tf-serving.digest
  log "WARNING: TF_SERVING_DIGEST is not pinned in scripts/kind/versions.env; $TF_SERVING_IMAGE is $digest" \
    "today. Pin it there: TF_SERVING_DIGEST=$digest"
fi
write_deploy_overlay .kind/deploy "$digest"

"${KUBECTL[@]}" apply -k .kind/deploy
"${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=jsonpath='{.status.phase}'=Bound pvc/tfx-kfp-model-store --timeout=120s \
  || die "expected PersistentVolumeClaim tfx-kfp-model-store Bound within 2 min"
log "waiting for TF Serving (${TF_SERVING_IMAGE%%:*}@$digest) to start"
if ! "${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=jsonpath='{.status.phase}'=Running pod -l app=tfx-kfp-serving --timeout=600s; then
  "${KUBECTL[@]}" -n "$KFP_NAMESPACE" describe pod -l app=tfx-kfp-serving | tail -30
  die "expected the TF Serving pod Running within 10 min"
fi
log "ok: model store bound, TF Serving running (its ports open, and it turns Ready, once the pipeline pushes a model)"
