#!/usr/bin/env bash
# Installs the pieces of the remote-Beam test bed that are not Python packages:
# SeaweedFS (`weed`, an S3-compatible object store, the store newer KFP releases
# deploy) built from its Go module at one pinned version.
#
# `go install ...@version` refuses this module (its go.mod has a replace
# directive), so the module is downloaded through the Go module proxy and built
# as the main module, which is what `go install` would do without that rule.
#
#   bash scripts/scale/install.sh            # -> $TFX_KFP_SCALE_HOME/bin/weed
set -euo pipefail
SEAWEEDFS_VERSION=${SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}
home=${TFX_KFP_SCALE_HOME:-$HOME/.cache/tfx-kfp/scale}
weed=$home/bin/weed
stamp=$home/bin/weed.version
if [[ -x $weed && "$(cat "$stamp" 2>/dev/null)" == "$SEAWEEDFS_VERSION" ]]; then
  echo "weed $SEAWEEDFS_VERSION already at $weed"
  exit 0
fi
command -v go >/dev/null || { echo "install.sh: Go is required to build SeaweedFS" >&2; exit 2; }
mkdir -p "$home/bin"
module_dir=$(go mod download -json "github.com/seaweedfs/seaweedfs@$SEAWEEDFS_VERSION" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
(cd "$module_dir/weed" && GOFLAGS=-mod=readonly nice -n 10 go build -o "$weed.partial" .)
mv "$weed.partial" "$weed"
echo "$SEAWEEDFS_VERSION" > "$stamp"
echo "weed $SEAWEEDFS_VERSION built at $weed"
