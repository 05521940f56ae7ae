#!/usr/bin/env bash
# Brings up a real Kubernetes on this machine, from nothing, and prints the kubeconfig path as its last
# line. NETCHECK_NODES nodes (default 2; see lib.sh): node 1 in the host's network namespace, the others in
# namespaces of their own, tainted so that only pods asking for them run there. Idempotent: on a running cluster it only checks health (and restarts a component
# that died); from a stopped or half-torn state it cleans up with down.sh and starts fresh.
#
#   host processes: etcd 3.5 (Debian trixie), kube-apiserver, kube-controller-manager, kube-scheduler,
#                   containerd 1.7 (trixie) + runc, kubelet, kube-proxy (iptables mode), the
#                   NetworkPolicy enforcer (NETCHECK_POLICY_ENFORCER: kube-network-policies by default,
#                   kube-router or ours; enforcers.sh)
#   pods:           CoreDNS (Deployment kube-system/coredns behind Service kube-dns)
#   network:        bridge cni0 (pods, 10.244.0.0/24), bridge netcheck0 (node addresses 10.240.0.N),
#                   node N's pods 10.244.(N-1).0/24, reached over a VXLAN overlay (overlay.sh; or
#                   routed via 10.240.0.N with NETCHECK_POD_NETWORK=routes), services 10.96.0.0/16;
#                   a guard chain drops any of it leaving through another interface
# All state lives in $NETCHECK_CLUSTER_DIR (default /tmp/netcheck-cluster); logs in its logs/ folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
# shellcheck source=overlay.sh
. "$here/overlay.sh"
# shellcheck source=enforcers.sh
. "$here/enforcers.sh"
repo=$(cd "$here/../.." && pwd)
started_at=$(date +%s)

cluster_healthy() {
  local name
  for name in "${COMPONENTS[@]}"; do [ -n "$(pid_of "$name")" ] || return 1; done
  [ -f "$KUBECONFIG_PATH" ] || return 1
  kubectl_admin get --raw /readyz >/dev/null 2>&1 || return 1
  local node
  for ((node = 1; node <= NODE_COUNT; node++)); do node_ready "$(node_name "$node")" || return 1; done
  kubectl_admin -n kube-system get deployment coredns -o jsonpath='{.status.readyReplicas}' 2>/dev/null | grep -qx '[1-9][0-9]*'
}

node_ready() {
  kubectl_admin get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

any_component_running() {
  local name
  for name in "${COMPONENTS[@]}"; do [ -z "$(pid_of "$name")" ] || return 0; done
  return 1
}

# ---------------------------------------------------------------- dependencies and artifacts
prepare_artifacts() {
  "$here/install-deps.sh" >/dev/null
  "$here/build-k8s.sh" >/dev/null
  "$here/build-coredns.sh" >/dev/null
  [ -x "$repo/node_modules/.bin/node" ] || (cd "$repo" && npm install --no-audit --no-fund >&2)
  IMAGE_ARCHIVES=$("$here/build-images.sh")
  ENFORCER_BINARY=$(enforcer_binary)
}

# ---------------------------------------------------------------- host settings and network
save_host_sysctls() {
  # Recorded once per cluster life, restored by down.sh: kubelet, kube-proxy and the bridge plugin
  # change these on the host.
  local file="$STATE/host-sysctls" key
  [ -f "$file" ] && return 0
  for key in net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops \
      kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.bridge.bridge-nf-call-iptables \
      net.ipv4.conf.all.route_localnet net.ipv4.conf.all.send_redirects; do
    echo "$key=$(sysctl -n "$key")"
  done > "$file.tmp"
  [ -d /run/containerd ] && echo "run_containerd_existed=1" >> "$file.tmp"
  [ -d /var/lib/cni ] && echo "var_lib_cni_existed=1" >> "$file.tmp"
  # The nftables tables iptables/ip6tables had before (kube-proxy and the guard create the others).
  echo "nft_tables_before=$(nft list tables 2>/dev/null | awk '{print $2 ":" $3}' | tr '\n' ' ')" >> "$file.tmp"
  mv "$file.tmp" "$file"
}

ensure_bridge() { # ensure_bridge NAME ADDRESS/PREFIX [NETNS]
  local in=(ip); [ -z "${3:-}" ] || in=(ip -n "$3")
  "${in[@]}" link show "$1" >/dev/null 2>&1 || "${in[@]}" link add "$1" type bridge
  "${in[@]}" addr show dev "$1" | grep -q "inet ${2%/*}/" || "${in[@]}" addr add "$2" dev "$1"
  "${in[@]}" link set "$1" up
}

# Node N > 1: its own network namespace on the node bridge, its own pod bridge, a host route to its pods,
# and a cgroup root of its own for its kubelet.
setup_node_netns() {
  local node=$1 netns veth pod_cidr gateway
  netns=$(node_netns "$node") veth="ncnode$node" pod_cidr=$(node_pod_cidr "$node") gateway=$(node_pod_gateway "$node")
  [ -e "/run/netns/$netns" ] || ip netns add "$netns"
  ip link show "$veth" >/dev/null 2>&1 || ip link add "$veth" type veth peer name eth0 netns "$netns"
  ip link set "$veth" master "$NODE_BRIDGE" up
  ip -n "$netns" link set lo up
  ip -n "$netns" addr show dev eth0 | grep -q "inet $(node_ip "$node")/" ||
    ip -n "$netns" addr add "$(node_ip "$node")/${NODE_NETWORK#*/}" dev eth0
  ip -n "$netns" link set eth0 up
  ip -n "$netns" route replace default via "$NODE_IP"
  # /proc/sys/net is per namespace: forwarding and bridge netfilter (policy enforcement) inside the node.
  ip netns exec "$netns" sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  ensure_bridge "$POD_BRIDGE" "$gateway/${pod_cidr#*/}" "$netns"
  no_redirects "$node"
  ip -n "$netns" route replace "$SERVICE_CIDR" dev "$POD_BRIDGE" src "$gateway"
  local controller root
  root=$(node_cgroup_root "$node")
  for controller in /sys/fs/cgroup/*/; do
    [ -f "${controller}cgroup.procs" ] || continue
    mkdir -p "$controller${root#/}"
    if [ -f "${controller}cpuset.cpus" ]; then
      # A new cpuset cgroup has no CPUs or memory nodes until given its parent's.
      [ -n "$(cat "$controller${root#/}/cpuset.cpus")" ] || cat "${controller}cpuset.cpus" > "$controller${root#/}/cpuset.cpus"
      [ -n "$(cat "$controller${root#/}/cpuset.mems")" ] || cat "${controller}cpuset.mems" > "$controller${root#/}/cpuset.mems"
    fi
  done
}

write_cni_config() {
  local node=$1 dir
  dir=$(node_dir "$node")/cni
  mkdir -p "$dir/net.d" "$dir/ipam"
  jq -n --arg bridge "$POD_BRIDGE" --arg subnet "$(node_pod_cidr "$node")" --arg gateway "$(node_pod_gateway "$node")" \
    --arg ipam "$dir/ipam" --arg policy "$CNI_POLICY_DIR" --arg mtu "$(pod_mtu)" '{
      cniVersion: "1.0.0", name: "netcheck",
      plugins: [
        {type: "bridge", bridge: $bridge, isGateway: true, isDefaultGateway: true, ipMasq: false,
         hairpinMode: true, mtu: ($mtu | tonumber),
         ipam: {type: "host-local", dataDir: $ipam, ranges: [[{subnet: $subnet, gateway: $gateway}]]}},
        {type: "portmap", capabilities: {portMappings: true}},
        {type: "netcheck-policy-wait", stateDir: $policy, timeoutSeconds: 10}
      ]}' > "$dir/net.d/10-netcheck.conflist"
}

# The CNI plugins containerd runs: the Debian ones, plus netcheck-policy-wait (cni/), which holds a new
# pod's sandbox until the policy enforcers have its address (see the plugin for why).
install_cni_plugins() {
  mkdir -p "$CNI_PLUGIN_DIR" "$CNI_POLICY_DIR"
  local plugin
  for plugin in "$CNI_BIN_DIR"/*; do ln -sfn "$plugin" "$CNI_PLUGIN_DIR/${plugin##*/}"; done
  ln -sfn "$here/cni/netcheck-policy-wait" "$CNI_PLUGIN_DIR/netcheck-policy-wait"
}

node_pki() { # the kubelet's client and serving certificates of node N
  local node=$1 name kubelet
  name=$(node_name "$node") kubelet=$(node_component "$node" kubelet)
  [ -f "$STATE/kubeconfigs/$kubelet.kubeconfig" ] && return 0
  issue_cert "$kubelet-serving" "/CN=$name" serverAuth "DNS:$name,IP:$(node_ip "$node")"
  issue_cert "$kubelet" "/O=system:nodes/CN=system:node:$name" clientAuth
  write_kubeconfig "$STATE/kubeconfigs/$kubelet.kubeconfig" "$kubelet" "$kubelet"
}

# The guard: nothing from or to the cluster ranges leaves the machine through an interface other than
# ours. It is hooked into mangle POSTROUTING only, the last hook a packet crosses before it leaves, so it
# never pre-empts a verdict of the filter table: an enforcer's REJECT of egress to an outside address, or
# kube-proxy's REJECT, runs first and the pod sees a refusal as on a real cluster. (Hooked into mangle
# FORWARD as well, as it was, it dropped pod traffic headed outside before the filter table's REJECTs.)
# POSTROUTING sees forwarded and local traffic alike, so it guards as much as before.
setup_guard() {
  iptables -t mangle -N "$GUARD_CHAIN" 2>/dev/null || iptables -t mangle -F "$GUARD_CHAIN"
  local iface range
  for iface in "$POD_BRIDGE" "$NODE_BRIDGE" "$VXLAN_DEVICE" lo; do
    iptables -t mangle -A "$GUARD_CHAIN" -o "$iface" -j RETURN
  done
  for range in "$CLUSTER_CIDR" "$NODE_NETWORK"; do
    iptables -t mangle -A "$GUARD_CHAIN" -s "$range" -m comment --comment "$RULE_COMMENT: cluster traffic stays on this machine" -j DROP
    iptables -t mangle -A "$GUARD_CHAIN" -d "$range" -m comment --comment "$RULE_COMMENT: cluster traffic stays on this machine" -j DROP
  done
  iptables -t mangle -A "$GUARD_CHAIN" -d "$SERVICE_CIDR" -m comment --comment "$RULE_COMMENT: cluster traffic stays on this machine" -j DROP
  iptables -t mangle -C POSTROUTING -m comment --comment "$RULE_COMMENT: guard" -j "$GUARD_CHAIN" 2>/dev/null ||
    iptables -t mangle -I POSTROUTING 1 -m comment --comment "$RULE_COMMENT: guard" -j "$GUARD_CHAIN"
}

# The service range is routed into cni0 (above), so a pod's packet to a ClusterIP that kube-proxy does not
# DNAT (a Service without endpoints) leaves by the interface it came in on, and the node answers it with an
# ICMP redirect first. The redirect spends the per-destination ICMP rate limit (icmp_ratelimit, 1 s), so the
# port-unreachable of kube-proxy's REJECT that follows is suppressed (IcmpOutRateLimitHost): the connection
# timed out instead of being refused. On a real node that traffic leaves by another interface and no
# redirect is sent. Nodes here are no routers anyone should learn from: they send no redirects at all
# (all= and the bridge: the kernel ORs the two). Node 1's value is restored by down.sh (host-sysctls).
no_redirects() {
  in_node "$1" sysctl -qw net.ipv4.conf.all.send_redirects=0 "net.ipv4.conf.$POD_BRIDGE.send_redirects=0"
}

setup_network() {
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.ipv4.ip_forward=1
  ensure_bridge "$NODE_BRIDGE" "$NODE_IP/${NODE_NETWORK#*/}"
  # cni0 is created here, not by the bridge plugin, so the node can reach pods and services before the
  # first pod exists; the plugin adopts it (same name, same gateway address).
  ensure_bridge "$POD_BRIDGE" "$POD_GATEWAY/${NODE_POD_CIDR#*/}"
  # Host-originated packets to the cluster ranges stay on the bridges: services route into cni0 (where
  # kube-proxy's DNAT takes over) and the rest of the pod range is unreachable instead of the default route.
  ip route replace "$SERVICE_CIDR" dev "$POD_BRIDGE" src "$POD_GATEWAY"
  ip route replace unreachable "$CLUSTER_CIDR"
  no_redirects 1

  setup_guard

  local node
  for ((node = 2; node <= NODE_COUNT; node++)); do setup_node_netns "$node"; done
  setup_pod_network
  install_cni_plugins
  for ((node = 1; node <= NODE_COUNT; node++)); do write_cni_config "$node"; done
  # What pods with dnsPolicy Default (and CoreDNS) see: only a local address, never the host's resolvers.
  echo "nameserver 127.0.0.1" > "$STATE/resolv.conf"
}

# ---------------------------------------------------------------- PKI and kubeconfigs
pki="$STATE/pki"

issue_cert() { # issue_cert NAME SUBJECT EXTENDED_USAGE [SUBJECT_ALT_NAMES]
  local name=$1 subject=$2 usage=$3 sans=${4:-}
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$name.key" 2>/dev/null
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } > "$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

write_kubeconfig() { # write_kubeconfig FILE CERT_NAME USER
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: netcheck
  cluster:
    server: https://$NODE_IP:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $3
  user:
    client-certificate-data: $(base64 -w0 "$pki/$2.crt")
    client-key-data: $(base64 -w0 "$pki/$2.key")
contexts:
- name: netcheck
  context: {cluster: netcheck, user: $3}
current-context: netcheck
EOF
  chmod 600 "$1"
}

setup_pki() {
  [ -f "$pki/complete" ] && return 0
  rm -rf "$pki" && mkdir -p "$pki" "$STATE/kubeconfigs"
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=netcheck-cluster-ca" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$pki/ca.crt" 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/service-account.key" 2>/dev/null
  openssl ec -in "$pki/service-account.key" -pubout -out "$pki/service-account.pub" 2>/dev/null
  issue_cert kube-apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,DNS:localhost,IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1"
  issue_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  issue_cert admin "/O=system:masters/CN=netcheck-admin" clientAuth
  issue_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  issue_cert kube-scheduler "/CN=system:kube-scheduler" clientAuth
  issue_cert kube-controller-manager "/CN=system:kube-controller-manager" clientAuth
  issue_cert netpol-enforcer "/CN=netcheck:netpol-enforcer" clientAuth
  write_kubeconfig "$KUBECONFIG_PATH" admin netcheck-admin
  local component
  for component in kube-proxy kube-scheduler kube-controller-manager netpol-enforcer; do
    write_kubeconfig "$STATE/kubeconfigs/$component.kubeconfig" "$component" "$component"
  done
  touch "$pki/complete"
}

# ---------------------------------------------------------------- control plane
start_etcd() {
  write_launcher etcd "$TRIXIE_ROOT/usr/bin/etcd" --name netcheck --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "netcheck=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --log-level warn
  start_component etcd
  wait_for "etcd" 30 curl -fsS "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
}

start_apiserver() {
  write_launcher kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
    --tls-cert-file "$pki/kube-apiserver.crt" --tls-private-key-file "$pki/kube-apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --authorization-mode Node,RBAC \
    --kubelet-preferred-address-types InternalIP \
    --enable-admission-plugins NodeRestriction --allow-privileged=true \
    --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file "$pki/service-account.pub" --service-account-signing-key-file "$pki/service-account.key" \
    --profiling=false --v 1
  start_component kube-apiserver
  wait_for "kube-apiserver /readyz" 90 kubectl_admin get --raw /readyz
}

start_controllers() {
  write_launcher kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$STATE/kubeconfigs/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/kubeconfigs/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/kubeconfigs/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false \
    --allocate-node-cidrs=true --cluster-cidr "$CLUSTER_CIDR" --node-cidr-mask-size 24 \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/service-account.key" \
    --use-service-account-credentials=true --profiling=false --v 1
  write_launcher kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$STATE/kubeconfigs/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/kubeconfigs/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/kubeconfigs/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false --v 1
  start_component kube-controller-manager
  start_component kube-scheduler
}

# ---------------------------------------------------------------- nodes
# node_launcher NODE COMPONENT COMMAND...: a launcher that runs inside the node's network namespace
# (nsenter --net only: the mount namespace, and so /sys/fs/cgroup, stays the host's).
node_launcher() {
  local node=$1 component=$2; shift 2
  if [ "$node" -eq 1 ]; then
    write_launcher "$(node_component "$node" "$component")" "$@"
  else
    write_launcher "$(node_component "$node" "$component")" nsenter "--net=/run/netns/$(node_netns "$node")" -- "$@"
  fi
}

start_containerd() {
  local node=$1 dir socket
  dir=$(node_dir "$node")/containerd socket=$(node_containerd_socket "$node")
  mkdir -p "$dir"
  cat > "$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$socket"
[ttrpc]
  address = "$socket.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root lacks CAP_SYS_RESOURCE here: never try to lower a container's oom_score_adj below ours.
  restrict_oom_score_adj = true
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$(command -v runc)"
        Root = "$dir/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_PLUGIN_DIR"
    conf_dir = "$(node_dir "$node")/cni/net.d"
    max_conf_num = 1
EOF
  node_launcher "$node" containerd "$TRIXIE_ROOT/usr/bin/containerd" --config "$dir/config.toml" --log-level warn
  start_component "$(node_component "$node" containerd)"
  CTR_SOCKET=$socket wait_for "containerd of $(node_name "$node")" 30 ctr_k8s version
}

import_images() {
  local node=$1 name ref archive want have
  export CTR_SOCKET
  CTR_SOCKET=$(node_containerd_socket "$node")
  while read -r name ref archive; do
    want=$(cat "$archive.digest")
    have=$(ctr_k8s images ls "name==$ref" 2>/dev/null | awk 'NR > 1 {print $3}')
    if [ "$have" != "$want" ]; then
      ctr_k8s images import --no-unpack=false "$archive" >/dev/null
      log "imported $name as $ref into $(node_name "$node")"
    fi
    # Also by digest (repo@sha256:...), as a registry pull would name it: pods may pin the image by
    # digest (the operator's probe image is pinned so), and the kubelet looks the image up by that name.
    ctr_k8s images tag --force "$ref" "${ref%:*}@$want" >/dev/null
  done <<< "$IMAGE_ARCHIVES"
  unset CTR_SOCKET
}

start_kubelet() {
  local node=$1 name ip dir kubelet taints=""
  name=$(node_name "$node") ip=$(node_ip "$node") kubelet=$(node_component "$node" kubelet)
  dir=$(node_dir "$node")/kubelet
  mkdir -p "$dir" "$(node_dir "$node")/pod-logs"
  [ "$node" -eq 1 ] || taints="registerWithTaints: [{key: \"$EXTRA_NODE_TAINT\", value: \"true\", effect: NoSchedule}]"
  cat > "$dir/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$pki/ca.crt"}
authorization: {mode: Webhook}
address: "$ip"
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: "$pki/$kubelet-serving.crt"
tlsPrivateKeyFile: "$pki/$kubelet-serving.key"
containerRuntimeEndpoint: "unix://$(node_containerd_socket "$node")"
# No systemd and cgroup v1 on these machines.
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: "$(node_cgroup_root "$node")"
# Root lacks CAP_SYS_RESOURCE: the kubelet may not lower its own oom_score_adj below 0.
oomScoreAdj: 0
clusterDomain: "$CLUSTER_DOMAIN"
clusterDNS: ["$DNS_SERVICE_IP"]
resolvConf: "$STATE/resolv.conf"
podLogsDir: "$(node_dir "$node")/pod-logs"
# Images are imported, never pulled: garbage collection must never remove them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
failSwapOn: false
rotateCertificates: false
serializeImagePulls: false
shutdownGracePeriod: 0s
maxPods: 110
$taints
EOF
  node_launcher "$node" kubelet "$K8S_BIN/kubelet" --config "$dir/config.yaml" \
    --kubeconfig "$STATE/kubeconfigs/$kubelet.kubeconfig" --root-dir "$dir" --cert-dir "$dir/pki" \
    --hostname-override "$name" --node-ip "$ip" --v 1
  start_component "$kubelet"
  wait_for "node $name to register" 60 kubectl_admin get node "$name"
  wait_for "a pod CIDR for $name" 30 node_has_pod_cidr "$name"
  local pod_cidr
  pod_cidr=$(kubectl_admin get node "$name" -o jsonpath='{.spec.podCIDR}')
  [ "$pod_cidr" = "$(node_pod_cidr "$node")" ] || die "node $name got pod CIDR $pod_cidr, its CNI config uses $(node_pod_cidr "$node")"
}

node_has_pod_cidr() { [ -n "$(kubectl_admin get node "$1" -o jsonpath='{.spec.podCIDR}')" ]; }

start_kube_proxy() {
  local node=$1 dir
  dir=$(node_dir "$node")/kube-proxy
  mkdir -p "$dir"
  cat > "$dir/config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "$STATE/kubeconfigs/kube-proxy.kubeconfig"}
hostnameOverride: "$(node_name "$node")"
mode: iptables
clusterCIDR: "$CLUSTER_CIDR"
detectLocalMode: ClusterCIDR
nodePortAddresses: ["$(node_ip "$node")/32"]
healthzBindAddress: "127.0.0.1:10256"
metricsBindAddress: "127.0.0.1:10249"
oomScoreAdj: 0
# Zeros leave the host's conntrack sysctls alone; no localhost NodePorts, so route_localnet stays off.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
# A short minSyncPeriod: tests create Services and use them at once.
iptables: {localhostNodePorts: false, masqueradeAll: false, minSyncPeriod: 100ms, syncPeriod: 30s}
EOF
  node_launcher "$node" kube-proxy "$K8S_BIN/kube-proxy" --config "$dir/config.yaml" --v 1
  start_component "$(node_component "$node" kube-proxy)"
}

start_node() {
  local node=$1
  node_pki "$node"
  start_containerd "$node"
  import_images "$node"
  start_kubelet "$node"
  start_kube_proxy "$node"
}

apply_addons() {
  sed -e "s|@COREDNS_IMAGE@|$COREDNS_IMAGE|g" -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|g" \
    -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|g" "$here/manifests/coredns.yaml" | kubectl_admin apply -f - >/dev/null
  kubectl_admin apply -f "$here/manifests/netpol-enforcer-rbac.yaml" >/dev/null
}

write_cluster_env() {
  # What other tools (test/support/cluster.ts, the operator demo) need to find this cluster.
  cat > "$STATE/cluster.env" <<EOF
KUBECONFIG=$KUBECONFIG_PATH
NODE_NAME=$NODE_NAME
NODE_IP=$NODE_IP
NODE_COUNT=$NODE_COUNT
CLUSTER_CIDR=$CLUSTER_CIDR
NODE_POD_CIDR=$NODE_POD_CIDR
SERVICE_CIDR=$SERVICE_CIDR
DNS_SERVICE_IP=$DNS_SERVICE_IP
CLUSTER_DOMAIN=$CLUSTER_DOMAIN
POD_BRIDGE=$POD_BRIDGE
NODE_BRIDGE=$NODE_BRIDGE
CONTAINERD_SOCKET=$CONTAINERD_SOCKET
CTR=$TRIXIE_ROOT/usr/bin/ctr
KUBECTL=$K8S_BIN/kubectl
COMPONENT_SCRIPT=$here/component.sh
OVERLAY_SCRIPT=$here/overlay.sh
POLICY_ENFORCER=$POLICY_ENFORCER
POD_NETWORK_MODE=$POD_NETWORK_MODE
VXLAN_DEVICE=$VXLAN_DEVICE
VXLAN_PORT=$VXLAN_PORT
VXLAN_MTU=$VXLAN_MTU
POD_MTU=$(pod_mtu)
EOF
  # Per node n: NODE_<n>_NAME, _IP, _POD_CIDR, _NETNS (empty for node 1), _CONTAINERD_SOCKET,
  # _COMPONENT_SUFFIX (component names: kube-proxy, kube-proxy-node2, ...).
  local node
  for ((node = 1; node <= NODE_COUNT; node++)); do
    cat >> "$STATE/cluster.env" <<EOF
NODE_${node}_NAME=$(node_name "$node")
NODE_${node}_IP=$(node_ip "$node")
NODE_${node}_POD_CIDR=$(node_pod_cidr "$node")
NODE_${node}_NETNS=$(node_netns "$node")
NODE_${node}_CONTAINERD_SOCKET=$(node_containerd_socket "$node")
NODE_${node}_COMPONENT_SUFFIX=$(node_component "$node" "")
EOF
  done
}

# ---------------------------------------------------------------- main
[ "$(id -u)" -eq 0 ] || die "up.sh must run as root (it starts a kubelet and changes iptables)"
exec 9> /tmp/netcheck-cluster.lock
flock -w 600 9 || die "another up.sh/down.sh holds /tmp/netcheck-cluster.lock"

if cluster_healthy; then
  write_cluster_env
  log "cluster already up ($(( $(date +%s) - started_at ))s)"
  echo "$KUBECONFIG_PATH"
  exit 0
fi

prepare_artifacts
if ! any_component_running; then
  # Cold start: clear whatever a crashed or half-finished earlier run left, then start clean.
  "$here/down.sh" --keep-lock >/dev/null
  rm -rf "$STATE/logs"
fi
mkdir -p "$STATE/logs" "$STATE/run"
save_host_sysctls
setup_network
setup_pki
start_etcd
start_apiserver
start_controllers
# Nodes register one after the other, so node N gets pod CIDR 10.244.(N-1).0/24 from the controller-manager.
for ((node = 1; node <= NODE_COUNT; node++)); do start_node "$node"; done
apply_addons
annotate_overlay_nodes
for ((node = 1; node <= NODE_COUNT; node++)); do start_netpol_enforcer "$node"; done
write_cluster_env
for ((node = 1; node <= NODE_COUNT; node++)); do wait_for "node $(node_name "$node") Ready" 120 node_ready "$(node_name "$node")"; done
kubectl_admin -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null ||
  die "CoreDNS did not become ready; see kubectl -n kube-system describe pod -l k8s-app=kube-dns"
cluster_healthy || die "cluster is not healthy after bring-up; logs are in $STATE/logs"
log "cluster up in $(( $(date +%s) - started_at ))s"
echo "$KUBECONFIG_PATH"
