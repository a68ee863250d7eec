#!/usr/bin/env bash
# Mounts the test bed's bucket as a folder with s3fs-fuse (Debian's package, in the runtime image):
# $TFX_KFP_OBJECT_STORE_MOUNT/$SCALE_BUCKET, for the image's user (uid 1000). Run as root inside a
# container started with --device /dev/fuse --cap-add SYS_ADMIN; s3fs reads the AWS_* credentials
# from the environment. On Kubernetes a CSI driver's volume takes this place (docs/scale.md).
set -euo pipefail
target=${TFX_KFP_OBJECT_STORE_MOUNT:?}/${SCALE_BUCKET:?}
mkdir -p "$target"
# use_path_request_style: SeaweedFS (like MinIO) serves buckets as paths, not as host names.
# stat_cache_expire=1: the task and the workers mount the same bucket separately; neither may trust
# for long what it saw of a file the other writes.
# ensure_diskfree: s3fs 1.95 refuses to mount with less than 10% of the disk free by default; it
# stages the files being written in its temp dir, so 1 GiB free is plenty here.
s3fs "$SCALE_BUCKET" "$target" -o "url=${AWS_ENDPOINT_URL:?},use_path_request_style,allow_other,uid=1000,gid=1000" \
  -o "umask=0022,stat_cache_expire=1,retries=3,ensure_diskfree=1024"
for _ in $(seq 1 40); do
  if mountpoint -q "$target"; then echo "s3fs: s3://$SCALE_BUCKET at $target"; exit 0; fi
  sleep 0.25
done
echo "s3fs-mount.sh: $target is not mounted" >&2
exit 1
