#!/usr/bin/env bash
# Queries the served model over REST and gRPC and checks that TF Serving picked
# up the newest pushed version without restarting.
source "$(dirname "$0")/common.sh"
need kubectl

last_push="$(cat "$LAST_PUSH_FILE" 2>/dev/null || true)"
newest="$(newest_version)"
if [[ -z "$newest" ]]; then
  if [[ "$last_push" == skipped ]]; then
    die "no model to query: the last pipeline run pushed nothing (the Evaluator or the InfraValidator did" \
      "not bless the model; its run's reports say which), and no earlier run pushed one. Rerun" \
      "scripts/kind/run-pipeline.sh with more training, e.g. --param train_steps=400"
  fi
  die "expected a pushed model version under $MODEL_STORE_DIR/$MODEL_STORE_MODELS_SUBDIR; found none" \
    "(has scripts/kind/run-pipeline.sh run?)"
fi
[[ "$last_push" == skipped ]] && log "NOTE: the last run pushed nothing" \
  "(model not blessed); querying version $newest from an earlier run"
log "newest pushed version: $newest; waiting for TF Serving to be Ready"
"${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=condition=Ready pod -l app=tfx-kfp-serving --timeout=300s
restarts="$("${KUBECTL[@]}" -n "$KFP_NAMESPACE" get pod -l app=tfx-kfp-serving \
  -o jsonpath='{.items[0].status.containerStatuses[0].restartCount}')"
[[ "$restarts" == 0 ]] || die "expected TF Serving to pick up the model without a restart; restartCount=$restarts"
project_python scripts/kind/query_model.py --rest "$SERVING_REST_URL" --grpc "$SERVING_GRPC_TARGET" \
  --model "$MODEL_NAME" --version "$newest" \
  --csv "$MODEL_STORE_DIR/$MODEL_STORE_DATA_SUBDIR/penguins_processed.csv"
