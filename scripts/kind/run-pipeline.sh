#!/usr/bin/env bash
# Compiles the penguin pipeline for the cluster, installs its module file (and any
# --module-file given) in the model store (the pipeline refers to them by SHA-256), uploads the
# pipeline as a new version, runs it and follows it to the end (tfx-kfp submit).
# Extra arguments go to `tfx-kfp submit` (e.g. --param train_steps=300). Then
# reads what the Pusher recorded in the model store (push_outcome.py), says
# whether it pushed a new version, found the model already pushed, or did not
# run (a dsl.If gate was false: not blessed), and keeps that in $LAST_PUSH_FILE.
source "$(dirname "$0")/common.sh"

mkdir -p .kind
tfx_kfp compile --pipeline penguin --target kind -o .kind/pipeline.yaml
# The penguin module, and any module file given to submit (which sends it as a reference
# to modules/<sha256>.py: the run reads it from the model store).
modules=(pipelines/penguin/penguin_module.py)
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --module-file|--transform-module-file|--trainer-module-file) modules+=("${args[i + 1]:-}") ;;
    --module-file=*|--transform-module-file=*|--trainer-module-file=*) modules+=("${args[i]#*=}") ;;
  esac
done
for module in "${modules[@]}"; do
  stored="$(install_module "$module")"
  log "module $module is $stored in the model store"
done
log "waiting for the Kubeflow Pipelines API at $KFP_API_URL"
retry curl -fsS "$KFP_API_URL/apis/v2beta1/healthz" \
  || die "expected the KFP API at $KFP_API_URL/apis/v2beta1/healthz; no answer within 5 min"
before="$(newest_version)"
submitted="$(date +%s)"
tfx_kfp submit --host "$KFP_API_URL" --pipeline-file .kind/pipeline.yaml --ui-host "$KFP_UI_URL" \
  --pipeline-name penguin --experiment tfx-kfp --timeout 3600 "$@" | tee .kind/last-run.log

record="$MODEL_STORE_DIR/$MODEL_STORE_MODELS_SUBDIR/$PUSH_RECORD_NAME"
outcome="$(project_python scripts/kind/push_outcome.py "$record" "$submitted")" \
  || die "could not tell what the Pusher did from $record (see above)"
echo "$outcome" >"$LAST_PUSH_FILE"
case "$outcome" in
  pushed\ *)
    log "ok: the Pusher pushed version ${outcome#pushed } to $MODEL_STORE_DIR/$MODEL_STORE_MODELS_SUBDIR" ;;
  already-pushed\ *)
    log "ok: the Pusher ran and found this exact model already pushed (version ${outcome#already-pushed });" \
      "nothing new to serve" ;;
  *)
    log "NOTE: the run succeeded but nothing was pushed: the Pusher did not push. The Evaluator" \
      "did not bless the model (accuracy below accuracy_threshold: the model-blessed condition was false) or" \
      "the InfraValidator found it does not load and answer in TF Serving (serves-correctly was false); the" \
      "evaluator and infra-validator reports in the run say which. TF Serving keeps serving" \
      "${before:+version $before}${before:-no model}. To train longer:" \
      "bash scripts/kind/run-pipeline.sh --param train_steps=400" ;;
esac
