#!/usr/bin/env bash
# Applies the demo app (demo.yaml) and waits until its pods are Ready, so the examples' first runs
# probe a running app (probe pods, which carry their source's labels, are left out).
# Used by test/cluster/run-operator.sh and test/e2e/examples.test.ts.
# Usage: apply.sh [kubectl]   (default: kubectl on PATH; KUBECONFIG as usual)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl=${1:-kubectl}
"$kubectl" apply -f "$here/demo.yaml"
"$kubectl" -n shop wait --for=condition=Available deployment --all --timeout=120s
"$kubectl" -n shop wait --for=condition=Ready pod -l "app in (web,backend,frontend,payments),!netcheck.dev/run" --timeout=120s
