#!/usr/bin/env bash
# The "run" command: runs netcheck-operator as a host process.
#   - against $KUBECONFIG (or ~/.kube/config) when one is set/present: any cluster (kind, k3s, cloud);
#   - otherwise it brings up the local cluster (test/cluster/up.sh) and uses its kubeconfig.
# It installs the CRD first (kubectl apply --server-side), then starts the operator in the foreground
# with node probes allowed from the netcheck-system namespace. Ctrl-C stops it gracefully.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ -z "${KUBECONFIG:-}" ] && [ ! -f "$HOME/.kube/config" ]; then
  echo "No kubeconfig given: starting the local cluster (test/cluster/up.sh)..." >&2
  KUBECONFIG=$(bash test/cluster/up.sh | tail -n1)
  export KUBECONFIG
fi
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund
export PATH="$root/node_modules/.bin:$PATH"
kubectl_bin=$(command -v kubectl || true)
cache=${NETCHECK_CACHE:-$HOME/.cache/netcheck-operator}
. test/cluster/versions.env
[ -x "$cache/k8s-$K8S_VERSION/bin/kubectl" ] && kubectl_bin="$cache/k8s-$K8S_VERSION/bin/kubectl"
[ -n "$kubectl_bin" ] || { echo "kubectl not found; run test/cluster/install-deps.sh" >&2; exit 1; }
echo "Using kubeconfig ${KUBECONFIG:-$HOME/.kube/config}" >&2
"$kubectl_bin" apply --server-side -f crds/netcheck.dev_networkchecks.yaml >&2
"$kubectl_bin" wait --for=condition=Established --timeout=60s crd/networkchecks.netcheck.dev >&2
"$kubectl_bin" create namespace netcheck-system --dry-run=client -o yaml | "$kubectl_bin" apply -f - >&2
exec node operator/main.ts --operator-namespace=netcheck-system --metrics-port="${METRICS_PORT:-8080}" "$@"
