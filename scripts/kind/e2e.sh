#!/usr/bin/env bash
# The whole path on one machine: tools, cluster, Kubeflow Pipelines, image,
# TF Serving, pipeline run, model queries. Leaves the cluster up; tear it down
# with scripts/kind/down.sh [--purge].
source "$(dirname "$0")/common.sh"

for step in install-tools up install-kfp load-image deploy run-pipeline query; do
  started=$SECONDS
  bash "scripts/kind/$step.sh"
  log "$step took $((SECONDS - started)) s"
done
log "ok: penguin trained on Kubeflow Pipelines and served by TF Serving; UI at $KFP_UI_URL"
