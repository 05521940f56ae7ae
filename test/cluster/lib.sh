# shellcheck shell=bash disable=SC2034  # sourced: the settings are used by the scripts that source it
# Shared settings and helpers for the local cluster scripts (sourced, not run).
# Every address range below exists only on this machine: nothing else on the host uses them and the
# FORWARD/POSTROUTING guard in up.sh stops any packet to or from them from leaving through another interface.
cluster_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$cluster_lib_dir/versions.env"

NETCHECK_CACHE=${NETCHECK_CACHE:-$HOME/.cache/netcheck-operator}
STATE=${NETCHECK_CLUSTER_DIR:-/tmp/netcheck-cluster}
K8S_BIN="$NETCHECK_CACHE/k8s-$K8S_VERSION/bin"
TRIXIE_ROOT="$NETCHECK_CACHE/trixie-root"
IMAGE_CACHE="$NETCHECK_CACHE/images"
CNI_BIN_DIR=/usr/lib/cni                # Debian's containernetworking-plugins
CNI_PLUGIN_DIR="$STATE/cni-bin"         # what containerd runs: those, plus ours (up.sh install_cni_plugins)
CNI_POLICY_DIR="$STATE/cni-policy"      # netcheck-policy-wait <-> enforcer handshake files

NODE_NAME=netcheck-node-1
# The node network: a port-less bridge holding the node's address (the API server binds here, and the
# kubernetes Service points here). Kept apart from the pod range so node and pod traffic stay distinct.
NODE_BRIDGE=netcheck0
NODE_IP=10.240.0.1
NODE_NETWORK=10.240.0.0/24
POD_BRIDGE=cni0
CLUSTER_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24   # the first /24 the controller-manager hands out: the first node's
POD_GATEWAY=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
APISERVER_PORT=6443
# Non-default etcd ports so that an etcd started by other tests on the usual ports never collides.
ETCD_CLIENT_PORT=12379
ETCD_PEER_PORT=12380
CONTAINERD_SOCKET="$STATE/containerd/containerd.sock"
KUBECONFIG_PATH="$STATE/kubeconfig"
# Comment attached to every iptables rule this project adds outside the components' own chains.
GUARD_CHAIN=NETCHECK-GUARD
RULE_COMMENT=netcheck-cluster

# Nodes: node 1 lives in the host's network namespace; node N > 1 (NETCHECK_NODES, default 2) in its own
# namespace "netcheck-nodeN", wired to the node bridge by a veth, with its own containerd, kubelet,
# kube-proxy and policy enforcer, pod CIDR 10.244.(N-1).0/24 and a host route to it. Nodes after the first
# carry the taint netcheck.dev/extra-node:NoSchedule, so only pods that ask for them land there.
NODE_COUNT=${NETCHECK_NODES:-2}
# The NetworkPolicy enforcer each node runs (up.sh start_netpol_enforcer; README "NetworkPolicy"):
#   kube-network-policies  sigs.k8s.io/kube-network-policies (SIG Network's, what kind ships), patched to
#                          queue with the xt NFQUEUE target (netpol/kube-network-policies.patch)
#   kube-router            the network-policy controller of github.com/cloudnativelabs/kube-router/v2
#   ours                   netpol/enforcer.ts, this repo's (kube-router's rule layout, in TypeScript)
POLICY_ENFORCER=${NETCHECK_POLICY_ENFORCER:-kube-network-policies}
# How nodes reach each other's pods: "vxlan" (flannel's vxlan backend: device flannel.1, VNI 1, UDP 4789,
# MTU 1450; the default with two or more nodes) or "routes" (a plain host route per node, no encapsulation).
POD_NETWORK_MODE=${NETCHECK_POD_NETWORK:-vxlan}
VXLAN_DEVICE=flannel.1
VXLAN_VNI=1
VXLAN_PORT=4789
VXLAN_MTU=1450
# The MTU the pods get: the overlay's (as flannel writes it into subnet.env for its CNI plugin), or the link's.
pod_mtu() { if [ "$POD_NETWORK_MODE" = vxlan ] && [ "$NODE_COUNT" -gt 1 ]; then echo "$VXLAN_MTU"; else echo 1500; fi; }
# A stable VTEP MAC per node (flannel picks a random one and publishes it in a node annotation).
node_vtep_mac() { printf '0e:6e:63:00:00:%02x\n' "$1"; }
# The pod CIDR's network address, which flannel puts on flannel.1 and uses as the next hop to that node.
node_vtep_ip() { echo "10.244.$(( $1 - 1 )).0"; }
EXTRA_NODE_TAINT=netcheck.dev/extra-node
CONTROL_PLANE=(etcd kube-apiserver kube-controller-manager kube-scheduler)
NODE_AGENTS=(containerd kubelet kube-proxy netpol-enforcer)

node_name() { echo "netcheck-node-$1"; }
node_ip() { echo "10.240.0.$1"; }
node_pod_cidr() { echo "10.244.$(( $1 - 1 )).0/24"; }   # what the controller-manager hands out, in registration order
node_pod_gateway() { echo "10.244.$(( $1 - 1 )).1"; }
node_netns() { [ "$1" -eq 1 ] || echo "netcheck-node$1"; }
node_dir() { if [ "$1" -eq 1 ]; then echo "$STATE"; else echo "$STATE/node$1"; fi; }
node_component() { if [ "$1" -eq 1 ]; then echo "$2"; else echo "$2-node$1"; fi; }
node_containerd_socket() { echo "$(node_dir "$1")/containerd/containerd.sock"; }
node_cgroup_root() { if [ "$1" -eq 1 ]; then echo "/"; else echo "/netcheck-node$1"; fi; }

# Components, in start order. Each has a launcher $STATE/bin/<name>.sh, a pid file $STATE/run/<name>.pid
# and a log $STATE/logs/<name>.log.
COMPONENTS=("${CONTROL_PLANE[@]}")
for ((node = 1; node <= NODE_COUNT; node++)); do
  for agent in "${NODE_AGENTS[@]}"; do COMPONENTS+=("$(node_component "$node" "$agent")"); done
done
unset node agent

log() { printf '%s [cluster] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The machine's own Debian mirror, from its apt sources (never a hard-coded host).
debian_mirror() {
  local mirror
  mirror=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$mirror" ] || mirror=$(grep -hoE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$mirror" ] || die "no Debian mirror found in the apt sources"
  echo "$mirror"
}

debian_suite() { . /etc/os-release && echo "${VERSION_CODENAME:-bookworm}"; }

# A zombie counts as dead: components are orphans reaped by PID 1 whenever it gets round to it.
process_alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

pid_of() { # prints the pid of a running component, or nothing
  local pidfile="$STATE/run/$1.pid" pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && process_alive "$pid"; then echo "$pid"; fi
}

ctr_k8s() { "$TRIXIE_ROOT/usr/bin/ctr" --address "${CTR_SOCKET:-$CONTAINERD_SOCKET}" -n k8s.io "$@"; }
kubectl_admin() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

# write_launcher NAME COMMAND [ARG...]: writes $STATE/bin/NAME.sh, which execs the command with its
# arguments quoted, so component.sh (and the e2e helpers) can restart a component exactly as up.sh did.
write_launcher() {
  local name=$1; shift
  mkdir -p "$STATE/bin"
  {
    echo '#!/usr/bin/env bash'
    echo "# Launcher for $name, written by test/cluster/up.sh."
    printf 'export PATH=%q\n' "$TRIXIE_ROOT/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    printf 'exec'
    printf ' %q' "$@"
    echo
  } > "$STATE/bin/$name.sh"
  chmod +x "$STATE/bin/$name.sh"
}

# start_component NAME: runs its launcher in its own session, output appended to its log.
start_component() {
  local name=$1 pid
  pid=$(pid_of "$name")
  if [ -n "$pid" ]; then return 0; fi
  [ -x "$STATE/bin/$name.sh" ] || die "no launcher for $name (run up.sh first)"
  mkdir -p "$STATE/run" "$STATE/logs"
  # Not a process-group leader here (no job control), so setsid execs in place and $! is the component.
  # 9>&-: the lock up.sh/down.sh hold must not live on in the daemons.
  setsid "$STATE/bin/$name.sh" >> "$STATE/logs/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$STATE/run/$name.pid"
  sleep 0.2
  process_alive "$(cat "$STATE/run/$name.pid")" || die "$name exited at once; see $STATE/logs/$name.log"
}

# stop_component NAME [GRACE_SECONDS]: SIGTERM, then SIGKILL after the grace period.
stop_component() {
  local name=$1 grace=${2:-10} pid i
  pid=$(pid_of "$name")
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do process_alive "$pid" || break; sleep 0.1; done
    if process_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$STATE/run/$name.pid"
}

# wait_for DESCRIPTION TIMEOUT_SECONDS COMMAND [ARG...]: polls until the command succeeds.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${timeout}s waiting for $what"
    sleep 0.5
  done
}
