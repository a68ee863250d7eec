#!/usr/bin/env bash
# Compiles the penguin pipeline for the cluster, uploads it as a new pipeline
# version, runs it and follows it to the end (tfx-kfp submit). Extra arguments
# go to `tfx-kfp submit` (e.g. --param train_steps=300).
source "$(dirname "$0")/common.sh"

mkdir -p .kind
tfx_kfp compile --pipeline penguin --target kind -o .kind/pipeline.yaml
log "waiting for the Kubeflow Pipelines API at $KFP_API_URL"
retry curl -fsS "$KFP_API_URL/apis/v2beta1/healthz" \
  || die "expected the KFP API at $KFP_API_URL/apis/v2beta1/healthz; no answer within 5 min"
tfx_kfp submit --host "$KFP_API_URL" --pipeline-file .kind/pipeline.yaml --ui-host "$KFP_UI_URL" \
  --pipeline-name penguin --experiment tfx-kfp --timeout 3600 "$@"
