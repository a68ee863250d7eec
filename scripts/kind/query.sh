#!/usr/bin/env bash
# Queries the served model over REST and gRPC and checks that TF Serving picked
# up the newest pushed version without restarting.
source "$(dirname "$0")/common.sh"
need kubectl curl

newest=""
for dir in "$MODEL_STORE_DIR/$MODEL_STORE_MODELS_SUBDIR"/*/; do
  version="$(basename "$dir")"
  [[ "$version" =~ ^[0-9]+$ ]] && { [[ -z "$newest" ]] || ((version > newest)); } && newest="$version"
done
[[ -n "$newest" ]] || die "expected a pushed model version under $MODEL_STORE_DIR/$MODEL_STORE_MODELS_SUBDIR; found none"
log "newest pushed version: $newest; waiting for TF Serving to be Ready"
"${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=condition=Ready pod -l app=tfx-kfp-serving --timeout=300s
restarts="$("${KUBECTL[@]}" -n "$KFP_NAMESPACE" get pod -l app=tfx-kfp-serving \
  -o jsonpath='{.items[0].status.containerStatuses[0].restartCount}')"
[[ "$restarts" == 0 ]] || die "expected TF Serving to pick up the model without a restart; restartCount=$restarts"
project_python scripts/kind/query_model.py --rest "$SERVING_REST_URL" --grpc "$SERVING_GRPC_TARGET" \
  --model "$MODEL_NAME" --version "$newest" \
  --csv "$MODEL_STORE_DIR/$MODEL_STORE_DATA_SUBDIR/penguins_processed.csv"
