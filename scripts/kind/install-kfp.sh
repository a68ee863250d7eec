#!/usr/bin/env bash
# Installs Kubeflow Pipelines $KFP_VERSION (standalone manifests, env
# $KFP_ENV: SeaweedFS for artifacts, MySQL 8.4, Argo Workflows v4.0.5) and
# waits for every deployment in $KFP_NAMESPACE to be available (images are
# pulled on a fresh cluster). docs/kind.md lists every image these manifests
# pull at that tag.
source "$(dirname "$0")/common.sh"
need kubectl

log "Kubeflow Pipelines $KFP_VERSION: cluster-scoped resources"
"${KUBECTL[@]}" apply -k "$KFP_MANIFESTS/cluster-scoped-resources?ref=$KFP_VERSION"
"${KUBECTL[@]}" wait --for condition=established --timeout=120s crd/applications.app.k8s.io crd/workflows.argoproj.io
log "Kubeflow Pipelines $KFP_VERSION: $KFP_ENV"
"${KUBECTL[@]}" apply -k "$KFP_MANIFESTS/env/$KFP_ENV?ref=$KFP_VERSION"
log "waiting for deployments in $KFP_NAMESPACE (up to 20 min)"
if ! "${KUBECTL[@]}" -n "$KFP_NAMESPACE" wait --for=condition=Available deployment --all --timeout=1200s; then
  "${KUBECTL[@]}" -n "$KFP_NAMESPACE" get pods -o wide
  die "expected every Kubeflow Pipelines deployment Available within 20 min; see the pods above"
fi
log "ok: Kubeflow Pipelines $KFP_VERSION is running in namespace $KFP_NAMESPACE"
