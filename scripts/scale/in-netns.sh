#!/usr/bin/env bash
# Runs a command in the test bed's network namespace with its S3 settings in the environment
# (what a KFP task next to the engine would have): bash scripts/scale/in-netns.sh CMD...
set -euo pipefail
state=${TFX_KFP_SCALE_STATE:-/tmp/tfx-kfp-scale}
[[ -f $state/env ]] || { echo "in-netns.sh: no test bed running (start it with up.sh)" >&2; exit 2; }
set -a
# shellcheck source=/dev/null
source "$state/env"
set +a
exec nsenter -t "$SCALE_NETNS_PID" -n -- "$@"
