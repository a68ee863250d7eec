#!/usr/bin/env bash
# Installs the pinned kind and kubectl into .kind/bin (x86_64 Linux: the
# runtime image and its tfx-bsl/TFDV wheels are x86_64 only). Each download
# must match two checksums: the one pinned in versions.env (recorded from
# sources other than the download host; docs/kind.md) and the one published
# beside the binary (kind: "<asset>.sha256sum", written by kind's
# hack/release/build/cross.sh; kubectl: "kubectl.sha256").
source "$(dirname "$0")/common.sh"
need curl sha256sum

[[ "$(uname -s)" == Linux ]] || die "expected Linux; got $(uname -s). tfx-kfp's kind path needs x86_64 Linux (docs/kind.md)"
case "$(uname -m)" in
  x86_64 | amd64) ;;
  *) die "expected an x86_64 machine; got $(uname -m). tfx-bsl and TFDV ship x86_64 wheels only (docs/kind.md)" ;;
esac
mkdir -p .kind/bin

# fetch URL CHECKSUM_URL PINNED_SHA256 DEST
fetch() {
  local url="$1" checksum_url="$2" pinned="$3" dest="$4" published got
  curl -fsSL --retry 3 -o "$dest.tmp" "$url" || die "download failed: $url"
  published="$(curl -fsSL --retry 3 "$checksum_url" | awk '{print $1}')" \
    || die "download failed: $checksum_url (the published checksum)"
  got="$(sha256sum "$dest.tmp" | awk '{print $1}')"
  if ! [[ "$got" == "$pinned" && "$got" == "$published" ]]; then
    rm -f "$dest.tmp"
    die "checksum of $url: pinned (versions.env) $pinned, published ($checksum_url) $published, received $got"
  fi
  chmod +x "$dest.tmp" && mv "$dest.tmp" "$dest"
}

kind_url="$KIND_RELEASES/$KIND_VERSION/kind-linux-amd64"
if [[ "$(.kind/bin/kind version 2>/dev/null | awk '{print $2}')" != "$KIND_VERSION" ]]; then
  log "kind $KIND_VERSION"
  fetch "$kind_url" "$kind_url.sha256sum" "$KIND_SHA256" .kind/bin/kind
fi
kubectl_url="$KUBERNETES_RELEASES/$KUBERNETES_VERSION/bin/linux/amd64/kubectl"
if ! .kind/bin/kubectl version --client 2>/dev/null | grep -q "$KUBERNETES_VERSION"; then
  log "kubectl $KUBERNETES_VERSION"
  fetch "$kubectl_url" "$kubectl_url.sha256" "$KUBECTL_SHA256" .kind/bin/kubectl
fi
log "ok: $(.kind/bin/kind version | awk '{print $1, $2}'), kubectl $KUBERNETES_VERSION in $ROOT/.kind/bin"
