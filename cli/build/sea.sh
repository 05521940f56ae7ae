#!/usr/bin/env bash
# Builds cli/dist/kubectl-netcheck: a single-file executable (Node's SEA support) that a user without
# Node drops on PATH; kubectl then runs it for `kubectl netcheck ...`.
#   1. esbuild bundles the plugin into one CommonJS script (cli/build/bundle.ts);
#   2. Node 24 (node_modules/.bin/node, the project's pinned runtime) turns it into a SEA blob;
#   3. postject injects the blob into a copy of that same node binary (Node 24 has no --build-sea).
# The executable runs on machines of the same OS and architecture as the node binary (linux-x64 here).
# Usage: bash cli/build/sea.sh [output]       (default cli/dist/kubectl-netcheck)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${1:-cli/dist/kubectl-netcheck}
node_bin=$(readlink -f node_modules/.bin/node)
"$node_bin" --version | grep -q '^v24\.' || { echo "sea.sh: node_modules/.bin/node must be Node 24" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
"$node_bin" cli/build/bundle.ts >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/sea-config.json" <<JSON
{ "main": "$root/cli/dist/kubectl-netcheck.cjs", "output": "$work/sea.blob", "disableExperimentalSEAWarning": true, "useSnapshot": false, "useCodeCache": true }
JSON
"$node_bin" --experimental-sea-config "$work/sea-config.json" >/dev/null
cp "$node_bin" "$work/kubectl-netcheck"
node_modules/.bin/postject "$work/kubectl-netcheck" NODE_SEA_BLOB "$work/sea.blob" \
  --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null
chmod 0755 "$work/kubectl-netcheck"
mv "$work/kubectl-netcheck" "$out"
"$out" --version >/dev/null
echo "$out"
