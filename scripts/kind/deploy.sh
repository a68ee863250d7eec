#!/usr/bin/env bash
# Applies deploy/ (model store PV + PVC, TF Serving, KFP NodePort services) and
# waits until TF Serving runs. It turns Ready only once a model version exists.
source "$(dirname "$0")/common.sh"
need kubectl

"${KUBECTL[@]}" apply -k deploy/
"${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=jsonpath='{.status.phase}'=Bound pvc/tfx-kfp-model-store --timeout=120s \
  || die "expected PersistentVolumeClaim tfx-kfp-model-store Bound within 2 min"
log "waiting for TF Serving ($TF_SERVING_IMAGE) to start"
if ! "${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=jsonpath='{.status.phase}'=Running pod -l app=tfx-kfp-serving --timeout=600s; then
  "${KUBECTL[@]}" -n "$KFP_NAMESPACE" describe pod -l app=tfx-kfp-serving | tail -30
  die "expected the TF Serving pod Running within 10 min"
fi
log "ok: model store bound, TF Serving running (Ready once the pipeline pushes a model)"
