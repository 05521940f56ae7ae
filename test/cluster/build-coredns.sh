#!/usr/bin/env bash
# Builds CoreDNS (github.com/coredns/coredns at COREDNS_VERSION) with only the plugins the local
# cluster uses, through a small wrapper module. Upstream's main imports every plugin (cloud SDKs for
# route53, azure, clouddns, ...), which triples the build time on a 2-core machine for code we never run.
# The binary is static (CGO_ENABLED=0) and cached outside the repo, keyed by version.
# Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache=${NETCHECK_CACHE:-$HOME/.cache/netcheck-operator}
out="$cache/coredns-$COREDNS_VERSION/bin/coredns"
if [ -x "$out" ]; then echo "$out"; exit 0; fi

mod="$cache/coredns-$COREDNS_VERSION/wrapper"
mkdir -p "$mod" "$(dirname "$out")"
cat > "$mod/go.mod" <<EOF
module netcheck.dev/coredns-wrapper

go 1.24.0

require github.com/coredns/coredns $COREDNS_VERSION
EOF
# The plugin order comes from CoreDNS's own directive list (core/dnsserver/zdirectives.go);
# importing a plugin only registers it, so a subset keeps the upstream order.
cat > "$mod/main.go" <<'GO'
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/template"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func main() {
	coremain.Run()
}
GO
cd "$mod"
export GOFLAGS=-mod=mod CGO_ENABLED=0
start=$(date +%s)
go mod tidy >/dev/null
# -p 2: this machine has 2 cores.
go build -p 2 -trimpath -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" -o "$out.tmp" .
mv "$out.tmp" "$out"
echo "built coredns $COREDNS_VERSION in $(( $(date +%s) - start ))s" >&2
echo "$out"
