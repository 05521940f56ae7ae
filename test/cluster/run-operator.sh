#!/usr/bin/env bash
# The "run" command (npm run local): runs netcheck-operator as a host process.
#   - against $KUBECONFIG when it is set, else ~/.kube/config when it exists (it names the context it
#     is about to use): any cluster (kind, k3s, cloud);
#   - otherwise against the local two-node cluster of test/cluster/up.sh, which it brings up, or
#     reuses when it is already up (up.sh returns at once on a healthy cluster).
# It installs the CRD, creates the netcheck-system namespace, applies the demo app the examples point
# at (examples/demo/; by default only on the local cluster, NETCHECK_DEMO=1 or 0 to choose), prints the
# two lines a second terminal needs (KUBECONFIG and kubectl on PATH), then starts the operator in the
# foreground with node probes allowed from netcheck-system. Ctrl-C stops it gracefully.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
say() { echo "[run-operator] $*" >&2; }
local_cluster=0 fallback=0
if [ -n "${KUBECONFIG:-}" ]; then
  say "Using KUBECONFIG=$KUBECONFIG"
elif [ -f "$HOME/.kube/config" ]; then
  KUBECONFIG=$HOME/.kube/config
  export KUBECONFIG
  fallback=1
else
  [ "$(id -u)" = 0 ] || { say "The local cluster needs root (it runs containerd, the kubelet and iptables); set KUBECONFIG to use another cluster."; exit 1; }
  say "No kubeconfig given: bringing the local cluster up, or reusing it when it is up (test/cluster/up.sh)..."
  KUBECONFIG=$(bash test/cluster/up.sh | tail -n1)
  export KUBECONFIG
fi
# The local cluster's kubeconfig, whichever way it was reached.
[ "$(realpath -m "${KUBECONFIG%%:*}")" = "$(realpath -m "${NETCHECK_CLUSTER_DIR:-/tmp/netcheck-cluster}/kubeconfig")" ] && local_cluster=1

[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
export PATH="$root/node_modules/.bin:$PATH"
kubectl_bin=$(command -v kubectl || true)
cache=${NETCHECK_CACHE:-$HOME/.cache/netcheck-operator}
. test/cluster/versions.env
[ -x "$cache/k8s-$K8S_VERSION/bin/kubectl" ] && kubectl_bin="$cache/k8s-$K8S_VERSION/bin/kubectl"
[ -n "$kubectl_bin" ] || { say "kubectl not found: run bash test/cluster/build-k8s.sh kubectl, or install kubectl"; exit 1; }
if [ "$fallback" = 1 ]; then
  context=$("$kubectl_bin" config current-context 2>/dev/null || true)
  say "No KUBECONFIG given: falling back to $KUBECONFIG, context '${context:-<none set>}' ($("$kubectl_bin" config view --minify -o jsonpath='{.clusters[0].cluster.server}' 2>/dev/null || true)). Set KUBECONFIG to use another cluster."
fi
"$kubectl_bin" apply --server-side -f crds/netcheck.dev_networkchecks.yaml >&2
"$kubectl_bin" wait --for=condition=Established --timeout=60s crd/networkchecks.netcheck.dev >&2
"$kubectl_bin" create namespace netcheck-system --dry-run=client -o yaml | "$kubectl_bin" apply -f - >&2
if [ "${NETCHECK_DEMO:-$local_cluster}" = 1 ]; then
  say "Applying the demo app (examples/demo/: namespaces shop and untrusted) and waiting for its pods..."
  bash examples/demo/apply.sh "$kubectl_bin" >&2
else
  say "Not applying the demo app on this cluster (NETCHECK_DEMO=1 applies examples/demo/; its image is built locally)."
fi

# Absolute paths, so the lines work from any directory.
kubeconfig_abs=$(IFS=:; for f in $KUBECONFIG; do printf '%s:' "$(realpath -m "$f")"; done)
cat <<EOF
# In a second terminal, paste these two lines; then, in the repository: kubectl apply -f examples/01-pod-to-service-tcp.yaml
export KUBECONFIG=${kubeconfig_abs%:}
export PATH=$(dirname "$(realpath "$kubectl_bin")"):\$PATH
# The operator's logs follow (JSON); Ctrl-C stops it.
EOF
exec node operator/main.ts --operator-namespace=netcheck-system --metrics-port="${METRICS_PORT:-8080}" "$@"
