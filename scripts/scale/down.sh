#!/usr/bin/env bash
# Stops what up.sh started: SeaweedFS (by its recorded id), the job service's and the workers' containers.
set -uo pipefail
state=${TFX_KFP_SCALE_STATE:-/tmp/tfx-kfp-scale}
for name in weed; do
  if [[ -f $state/$name.pid ]]; then
    pid=$(cat "$state/$name.pid")
    kill "$pid" 2>/dev/null && for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null
    rm -f "$state/$name.pid"
  fi
done
if [[ -f $state/env ]]; then
  container=$(sed -n 's/^SCALE_CONTAINER=//p' "$state/env")
  docker logs "$container-job" > "$state/job_service.log" 2>&1
  docker logs "$container" > "$state/workers.log" 2>&1
  docker rm -f "$container-job" "$container" > /dev/null 2>&1
  rm -f "$state/env"
fi
echo "down: test bed stopped (logs kept in $state)"
