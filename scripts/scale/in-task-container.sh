#!/usr/bin/env bash
# Runs a command as the task, in a container of the test bed's image and in its network namespace,
# with the S3 settings in the environment and, when the bed mounts the bucket, the bucket mounted
# here too (s3fs-mount.sh): for a stack this host cannot load (the current one on Debian 12).
# The repository is visible read-only at its own path (the command's code and test data); each
# folder in TASK_VOLUMES (colon-separated) is visible read-write at its own path.
#   TASK_VOLUMES=/tmp/out bash scripts/scale/in-task-container.sh python -m tests._support.object_store /tmp/out
set -euo pipefail
state=${TFX_KFP_SCALE_STATE:-/tmp/tfx-kfp-scale}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[[ -f $state/env ]] || { echo "in-task-container.sh: no test bed running (start it with up.sh)" >&2; exit 2; }
set -a
# shellcheck source=/dev/null
source "$state/env"
set +a
volumes=(-v "$repo:$repo:ro")
IFS=: read -ra folders <<< "${TASK_VOLUMES:-}"
for folder in "${folders[@]}"; do [[ -z $folder ]] || volumes+=(-v "$folder:$folder"); done
fuse=(); [[ -z $TFX_KFP_OBJECT_STORE_MOUNT ]] || fuse=(--device /dev/fuse --cap-add SYS_ADMIN)
# Docker's default AppArmor profile (Ubuntu hosts) denies mount(2); this machine has no AppArmor (untested here).
if [[ ${#fuse[@]} -gt 0 ]] && docker info --format '{{.SecurityOptions}}' | grep -q apparmor; then
  fuse+=(--security-opt apparmor=unconfined)
fi
env_args=()
for name in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL AWS_REGION SCALE_JOB_ENDPOINT \
            SCALE_WORKER_POOL SCALE_IMAGE SCALE_BUCKET TFX_KFP_OBJECT_STORE_MOUNT; do
  env_args+=(-e "$name=${!name}")
done
# root: mounting needs it (the workers' harnesses, which write the data, run as the image's user).
exec docker run --rm --network "container:$SCALE_CONTAINER" "${fuse[@]}" -u 0 "${volumes[@]}" "${env_args[@]}" \
  -e TMPDIR="${TMPDIR:-/tmp}" -e PYTHONPATH="$repo" -e PYTHONDONTWRITEBYTECODE=1 -w "$repo" "$SCALE_IMAGE" \
  bash -c 'if [[ -n $TFX_KFP_OBJECT_STORE_MOUNT ]]; then bash scripts/scale/s3fs-mount.sh >&2; fi; exec "$@"' task "$@"
