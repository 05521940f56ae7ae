#!/usr/bin/env bash
# The test command: installs everything it needs on a fresh machine, then runs every tier.
#   unit         pure logic (fake clock, builders)                     npm run test:unit
#   netns        the probe program and packet capture against real faults in network namespaces
#   integration  a real etcd + kube-apiserver started by test/support/apiserver.ts
#   e2e          the real local cluster (two nodes, VXLAN overlay, kube-network-policies): up.sh ... down.sh
#   e2e-kube-router  the policy suites again on a cluster whose enforcer is kube-router
#                (smoke, operator, upstream's NetworkPolicy matrix)
# Prints one closing line "tests: N passed, N failed" and exits non-zero on any failure.
# NETCHECK_TIERS="unit integration" runs a subset.
set -uo pipefail
cd "$(dirname "$0")/.."
tiers=${NETCHECK_TIERS:-"unit netns integration e2e e2e-kube-router"}
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
passed=0 failed=0 status=0
started=$(date +%s)
stamp() { echo "=== $(date +%H:%M:%S) (+$(( $(date +%s) - started ))s) $*"; }

stamp "installing dependencies"
bash test/cluster/install-deps.sh || { echo "install-deps failed"; exit 1; }
bash test/cluster/build-k8s.sh >/dev/null || { echo "Kubernetes build failed"; exit 1; }
case " $tiers " in *" integration "*)
  stamp "building the kstatus helper (GitOps health tests)"
  bash test/tools/kstatus/build.sh >/dev/null || { echo "kstatus helper build failed"; exit 1; } ;;
esac
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund 2>&1 | grep -v 'Unknown user config' | tail -3
fi
export PATH="$PWD/node_modules/.bin:$PATH"
node --version | grep -q '^v24\.' || { echo "Node 24 from node_modules is required"; exit 1; }

stamp "type check"
if ! tsc --noEmit -p tsconfig.json; then echo "type check failed"; failed=$((failed + 1)); status=1; fi

# Runs mocha on a glob when it matches files, adding its counts to the totals.
run_tier() {
  local name=$1; shift
  local out; out=$(mktemp)
  stamp "tier $name"
  mocha --reporter spec "$@" 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(grep -Eo '^ +[0-9]+ passing' "$out" | grep -Eo '[0-9]+' | tail -1)
  f=$(grep -Eo '^ +[0-9]+ failing' "$out" | grep -Eo '[0-9]+' | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then status=1; [ -z "$f" ] && failed=$((failed + 1)); fi
  rm -f "$out"
}
has_files() { compgen -G "$1" >/dev/null; }

# run_cluster_tier NAME ENFORCER FILES...: brings a local cluster up with that NetworkPolicy enforcer, runs
# the e2e files against it, and tears it down.
run_cluster_tier() {
  local name=$1 enforcer=$2; shift 2
  stamp "bringing the local cluster up ($enforcer)"
  if kubeconfig=$(NETCHECK_POLICY_ENFORCER=$enforcer bash test/cluster/up.sh | tail -n1) && [ -f "$kubeconfig" ]; then
    KUBECONFIG=$kubeconfig run_tier "$name" --timeout 300000 "$@"
  else
    echo "cluster bring-up failed"; failed=$((failed + 1)); status=1
  fi
  stamp "tearing the local cluster down"
  bash test/cluster/down.sh || { echo "cluster tear-down failed"; status=1; }
}

for tier in $tiers; do
  case $tier in
    unit) run_tier unit 'test/unit/**/*.test.ts' 'test/cluster/**/*.test.ts' ;;
    netns) has_files 'test/netns/*.test.ts' && run_tier netns --timeout 120000 'test/netns/**/*.test.ts' ;;
    integration) run_tier integration --timeout 120000 --require test/integration/hooks.ts 'test/integration/**/*.test.ts' ;;
    e2e) has_files 'test/e2e/*.test.ts' && run_cluster_tier e2e kube-network-policies 'test/e2e/**/*.test.ts' ;;
    e2e-kube-router) run_cluster_tier e2e-kube-router kube-router test/e2e/smoke.test.ts test/e2e/operator.test.ts test/e2e/netpol-upstream.test.ts ;;
    *) echo "unknown tier $tier"; status=1 ;;
  esac
done

stamp "done"
echo "tests: $passed passed, $failed failed"
exit $status
