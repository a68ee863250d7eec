#!/usr/bin/env bash
# Installs a TFX module file into the model store, where a pipeline compiled
# for kind with that module's text finds it: on the cluster the module_source
# parameter is a reference to modules/<sha256>.py, not the text (ML Metadata
# on PostgreSQL cannot store parameters that large; docs/kind.md).
#   bash scripts/kind/install-module.sh my_module.py
source "$(dirname "$0")/common.sh"
need docker

[[ $# -eq 1 ]] || die "expected one argument, the module file; got $#"
stored="$(install_module "$1")"
log "ok: $1 is $MODEL_STORE_DIR/$stored (pods: /model-store/$stored); compile with" \
  "--module-file $1 --target kind, or submit with --module-file $1, to refer to it"
