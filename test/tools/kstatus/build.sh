#!/usr/bin/env bash
# Builds the kstatus helper (main.go) against the cli-utils version pinned in go.mod, cached outside
# the repo by that version: ~/.cache/netcheck-operator/kstatus-<version>/bin/kstatus. A stamp of the
# sources' hash rebuilds it when main.go or go.mod/go.sum change. Prints the binary's path.
# Usage: build.sh [--cached-only]   (--cached-only: never build; exit 1 when the binary is not cached)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(awk '$1 == "sigs.k8s.io/cli-utils" { print $2 }' "$here/go.mod")
[ -n "$version" ] || { echo "build.sh: no sigs.k8s.io/cli-utils version in $here/go.mod" >&2; exit 1; }
cache=${NETCHECK_CACHE:-$HOME/.cache/netcheck-operator}
out="$cache/kstatus-$version/bin"
sources=$(cat "$here/main.go" "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)
if [ -x "$out/kstatus" ] && [ "$(cat "$out/kstatus.sources" 2>/dev/null)" = "$sources" ]; then echo "$out/kstatus"; exit 0; fi
if [ "${1:-}" = --cached-only ]; then
  echo "the kstatus helper is not built: run 'bash test/tools/kstatus/build.sh' (test/run-all.sh does)" >&2; exit 1
fi
mkdir -p "$out"
start=$(date +%s)
cd "$here"
# -p 2: this machine has 2 cores.
CGO_ENABLED=0 go build -p 2 -trimpath -ldflags "-s -w" -o "$out/kstatus.tmp" .
mv "$out/kstatus.tmp" "$out/kstatus"
echo "$sources" > "$out/kstatus.sources"
echo "built kstatus $version in $(( $(date +%s) - start ))s" >&2
echo "$out/kstatus"
