#!/usr/bin/env bash
# Starts the remote-Beam test bed in one private network namespace (loopback only):
#   - Beam SDK workers: a container of the runtime image (no volume: it cannot see this
#     machine's files) serving a worker pool (EXTERNAL environment) on 127.0.0.1:50000;
#     the container's network namespace is the one everything below joins;
#   - SeaweedFS's S3 API on 127.0.0.1:8333 with fresh credentials;
#   - a Beam portable job service on 127.0.0.1:8099 (Beam's Python one: the Flink and
#     Spark job servers are not served by this machine's Maven registry, see docs/scale.md),
#     in a second container of the same image, so that its Beam is the workers' Beam;
#   - the bucket $SCALE_BUCKET, and with TFX_KFP_OBJECT_STORE_MOUNT set (e.g. /mnt/object-store)
#     that bucket mounted by s3fs-fuse at $TFX_KFP_OBJECT_STORE_MOUNT/$SCALE_BUCKET in the workers'
#     container (in-task-container.sh mounts it for the task too).
# Writes $STATE/env (variables for in-netns.sh and the test). Stop with down.sh.
#
#   bash scripts/scale/up.sh ghcr.io/tfx-kfp/tfx-kfp:0.1.0
#   TFX_KFP_OBJECT_STORE_MOUNT=/mnt/object-store bash scripts/scale/up.sh "$(tfx-kfp image tag --stack current)"
set -euo pipefail
image=${1:?usage: up.sh RUNTIME_IMAGE}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
home=${TFX_KFP_SCALE_HOME:-$HOME/.cache/tfx-kfp/scale}
state=${TFX_KFP_SCALE_STATE:-/tmp/tfx-kfp-scale}
mount=${TFX_KFP_OBJECT_STORE_MOUNT:-}
bucket=tfx-kfp-scale
weed=$home/bin/weed
[[ -x $weed ]] || bash "$here/install.sh"
if [[ -f $state/env ]]; then bash "$here/down.sh"; fi
rm -rf "$state" && mkdir -p "$state/weed" "$state/staging"

access_key=$(python3 -c 'import secrets; print(secrets.token_hex(10))')
secret_key=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
cat > "$state/s3.json" <<JSON
{"identities": [{"name": "tfx-kfp", "credentials": [{"accessKey": "$access_key", "secretKey": "$secret_key"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
endpoint=http://127.0.0.1:8333
container=tfx-kfp-scale-workers-$$
# The job service names itself to workers by its host name (the containers share it): loopback here.
hostname=tfx-kfp-scale
fuse=(); [[ -z $mount ]] || fuse=(--device /dev/fuse --cap-add SYS_ADMIN)
# Docker's default AppArmor profile (Ubuntu hosts) denies mount(2); this machine has no AppArmor (untested here).
if [[ ${#fuse[@]} -gt 0 ]] && docker info --format '{{.SecurityOptions}}' | grep -q apparmor; then
  fuse+=(--security-opt apparmor=unconfined)
fi
docker run -d --name "$container" --network none --hostname "$hostname" --add-host "$hostname:127.0.0.1" \
  "${fuse[@]}" -e AWS_ACCESS_KEY_ID="$access_key" -e AWS_SECRET_ACCESS_KEY="$secret_key" \
  -e AWS_ENDPOINT_URL="$endpoint" -e AWS_REGION=us-east-1 -e TFX_KFP_OBJECT_STORE_MOUNT="$mount" \
  "$image" python -m tfx_kfp.runtime.beam_worker_pool --port 50000 > "$state/container"
netns_pid=$(docker inspect -f '{{.State.Pid}}' "$container")
cat > "$state/env" <<ENV
SCALE_CONTAINER=$container
SCALE_NETNS_PID=$netns_pid
AWS_ACCESS_KEY_ID=$access_key
AWS_SECRET_ACCESS_KEY=$secret_key
AWS_ENDPOINT_URL=$endpoint
AWS_REGION=us-east-1
SCALE_JOB_ENDPOINT=localhost:8099
SCALE_WORKER_POOL=localhost:50000
SCALE_JOB_CONTAINER=$container-job
SCALE_IMAGE=$image
SCALE_BUCKET=$bucket
TFX_KFP_OBJECT_STORE_MOUNT=$mount
ENV

nsenter -t "$netns_pid" -n -- "$weed" server -dir="$state/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
  -master.port=9333 -master.volumeSizeLimitMB=64 -volume.port=8080 -filer.port=8888 -volume.max=32 \
  -s3 -s3.port=8333 -s3.config="$state/s3.json" > "$state/weed.log" 2>&1 &
echo $! > "$state/weed.pid"
docker run -d --name "$container-job" --network "container:$container" "$image" \
  python -m apache_beam.runners.portability.local_job_service_main --port 8099 --staging_dir /tmp/staging \
  > /dev/null

wait_port() {  # name port log [container whose docker logs the log is]
  for _ in $(seq 1 120); do
    if nsenter -t "$netns_pid" -n -- bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null; then return 0; fi
    sleep 1
  done
  [[ -z ${4:-} ]] || docker logs "$4" > "$3" 2>&1
  echo "up.sh: $1 did not listen on 127.0.0.1:$2 within 120 s; last lines of $3:" >&2
  tail -20 "$3" >&2
  exit 1
}
wait_port "SeaweedFS S3" 8333 "$state/weed.log"
wait_port "Beam job service" 8099 "$state/job_service.log" "$container-job"
docker exec "$container" python -c "import boto3; boto3.client('s3').create_bucket(Bucket='$bucket')" \
  || { echo "up.sh: creating the bucket $bucket failed; last lines of the workers' log:" >&2
       docker logs "$container" 2>&1 | tail -20 >&2; exit 1; }
if [[ -n $mount ]]; then
  docker exec -i -u 0 -e SCALE_BUCKET="$bucket" "$container" bash -s < "$here/s3fs-mount.sh" > "$state/mount.log" 2>&1 \
    || { echo "up.sh: mounting the bucket in the workers failed:" >&2; cat "$state/mount.log" >&2; exit 1; }
fi
wait_port "Beam worker pool" 50000 "$state/workers.log" "$container"
echo "up: workers in $container, S3 $endpoint, bucket $bucket${mount:+ mounted at $mount/$bucket}," \
  "job service localhost:8099 in $container-job (state in $state)"
