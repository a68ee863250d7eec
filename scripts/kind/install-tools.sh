#!/usr/bin/env bash
# Installs the pinned kind and kubectl into .kind/bin (Linux or macOS, amd64 or
# arm64), checking each download against its published SHA-256.
source "$(dirname "$0")/common.sh"
need curl

os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "expected an amd64 or arm64 machine; got $(uname -m)" ;;
esac
mkdir -p .kind/bin

fetch() { # url dest
  local url="$1" dest="$2" want got
  curl -fsSL --retry 3 -o "$dest.tmp" "$url"
  want="$(curl -fsSL --retry 3 "$url.sha256" | awk '{print $1}')"
  if command -v sha256sum >/dev/null; then got="$(sha256sum "$dest.tmp" | awk '{print $1}')"
  else got="$(shasum -a 256 "$dest.tmp" | awk '{print $1}')"; fi
  [[ "$want" == "$got" ]] || die "checksum of $url: expected $want, received $got"
  chmod +x "$dest.tmp" && mv "$dest.tmp" "$dest"
}

if [[ "$(.kind/bin/kind version 2>/dev/null | awk '{print $2}')" != "$KIND_VERSION" ]]; then
  log "kind $KIND_VERSION"
  fetch "https://github.com/kubernetes-sigs/kind/releases/download/$KIND_VERSION/kind-$os-$arch" .kind/bin/kind
fi
if ! .kind/bin/kubectl version --client 2>/dev/null | grep -q "$KUBERNETES_VERSION"; then
  log "kubectl $KUBERNETES_VERSION"
  fetch "https://dl.k8s.io/release/$KUBERNETES_VERSION/bin/$os/$arch/kubectl" .kind/bin/kubectl
fi
log "ok: $(.kind/bin/kind version | awk '{print $1, $2}'), kubectl $KUBERNETES_VERSION in $ROOT/.kind/bin"
