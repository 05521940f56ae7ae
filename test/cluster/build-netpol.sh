#!/usr/bin/env bash
# Builds an upstream NetworkPolicy enforcer for the local cluster from the Go module proxy, and prints the
# binary's path. The binary is static (CGO_ENABLED=0) and cached outside the repo, keyed by version (and,
# for a patched build, by the patch's hash): only the first run on a machine pays.
#   build-netpol.sh kube-network-policies   sigs.k8s.io/kube-network-policies at KUBE_NETWORK_POLICIES_VERSION,
#                                           with netpol/kube-network-policies.patch applied (see the patch for why)
#   build-netpol.sh kube-router             github.com/cloudnativelabs/kube-router/v2 at KUBE_ROUTER_VERSION,
#                                           unpatched (the cluster runs only its network-policy controller)
# Compiles Go: on the shared machines run it under /work/tools/go-lock (up.sh calls it only on a cache miss).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache=${NETCHECK_CACHE:-$HOME/.cache/netcheck-operator}
export GOFLAGS=-mod=mod CGO_ENABLED=0

build_kube_network_policies() {
  local patch="$here/netpol/kube-network-policies.patch" key out src module
  key=$(sha256sum "$patch" | cut -c1-12)
  out="$cache/kube-network-policies-$KUBE_NETWORK_POLICIES_VERSION-$key/bin/kube-network-policies"
  if [ -x "$out" ]; then echo "$out"; return 0; fi
  module=sigs.k8s.io/kube-network-policies
  # The module as the proxy serves it (read-only in the module cache), copied so the patch can apply.
  src=$(cd "$(mktemp -d)" && go mod download -json "$module@$KUBE_NETWORK_POLICIES_VERSION" | jq -r .Dir)
  [ -d "$src" ] || { echo "go mod download $module@$KUBE_NETWORK_POLICIES_VERSION failed" >&2; return 1; }
  local work="$cache/kube-network-policies-$KUBE_NETWORK_POLICIES_VERSION-$key/src"
  rm -rf "$work" && mkdir -p "$work" "$(dirname "$out")"
  cp -r "$src/." "$work/" && chmod -R u+w "$work"
  patch -d "$work" -p1 --quiet --forward < "$patch"
  local start; start=$(date +%s)
  # -p 2: this machine has 2 cores.
  (cd "$work" && go build -p 2 -trimpath -ldflags "-s -w" -o "$out.tmp" ./cmd)
  mv "$out.tmp" "$out"
  rm -rf "$work"
  echo "built kube-network-policies $KUBE_NETWORK_POLICIES_VERSION in $(( $(date +%s) - start ))s" >&2
  echo "$out"
}

build_kube_router() {
  local out="$cache/kube-router-$KUBE_ROUTER_VERSION/bin/kube-router" mod
  if [ -x "$out" ]; then echo "$out"; return 0; fi
  mod="$cache/kube-router-$KUBE_ROUTER_VERSION/wrapper"
  mkdir -p "$mod" "$(dirname "$out")"
  # A wrapper module: kube-router's own go.mod has no replace directives, so requiring it is enough.
  cat > "$mod/go.mod" <<EOF
module netcheck.dev/kube-router-wrapper

go 1.22

require github.com/cloudnativelabs/kube-router/v2 $KUBE_ROUTER_VERSION
EOF
  cat > "$mod/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
GO
  local start; start=$(date +%s)
  (cd "$mod" && { [ -f go.sum ] || go mod tidy -e >/dev/null 2>&1 || true; } &&
    go build -p 2 -trimpath -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
      -o "$out.tmp" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router)
  mv "$out.tmp" "$out"
  echo "built kube-router $KUBE_ROUTER_VERSION in $(( $(date +%s) - start ))s" >&2
  echo "$out"
}

case ${1:-} in
  kube-network-policies) build_kube_network_policies ;;
  kube-router) build_kube_router ;;
  *) echo "usage: build-netpol.sh kube-network-policies|kube-router" >&2; exit 2 ;;
esac
