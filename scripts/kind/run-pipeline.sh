#!/usr/bin/env bash
# Compiles the penguin pipeline for the cluster, uploads it as a new pipeline
# version, runs it and follows it to the end (tfx-kfp submit). Extra arguments
# go to `tfx-kfp submit` (e.g. --param train_steps=300). Then says whether the
# Pusher pushed a new version or was skipped because the Evaluator did not
# bless the model (the dsl.If gate), and records that in $LAST_PUSH_FILE.
source "$(dirname "$0")/common.sh"

mkdir -p .kind
tfx_kfp compile --pipeline penguin --target kind -o .kind/pipeline.yaml
log "waiting for the Kubeflow Pipelines API at $KFP_API_URL"
retry curl -fsS "$KFP_API_URL/apis/v2beta1/healthz" \
  || die "expected the KFP API at $KFP_API_URL/apis/v2beta1/healthz; no answer within 5 min"
before="$(newest_version)"
tfx_kfp submit --host "$KFP_API_URL" --pipeline-file .kind/pipeline.yaml --ui-host "$KFP_UI_URL" \
  --pipeline-name penguin --experiment tfx-kfp --timeout 3600 "$@" | tee .kind/last-run.log
after="$(newest_version)"

if [[ -n "$after" && "$after" != "$before" ]]; then
  echo "pushed $after" >"$LAST_PUSH_FILE"
  log "ok: the Pusher pushed version $after to $MODEL_STORE_DIR/$MODEL_STORE_MODELS_SUBDIR"
elif grep -q "task pusher: SUCCEEDED" .kind/last-run.log; then
  echo "already-pushed ${after:-none}" >"$LAST_PUSH_FILE"
  log "ok: the Pusher ran and found this exact model already pushed (version ${after:-none}); nothing new to serve"
else
  echo "skipped" >"$LAST_PUSH_FILE"
  log "NOTE: the run succeeded but the Pusher was SKIPPED: the Evaluator did not bless the model" \
    "(its accuracy is below accuracy_threshold), so the model-blessed condition was false and nothing" \
    "was pushed. TF Serving keeps serving ${before:+version $before}${before:-no model}. Train longer or" \
    "lower the bar, e.g. bash scripts/kind/run-pipeline.sh --param train_steps=400"
fi
