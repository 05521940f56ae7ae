#!/usr/bin/env bash
# The pod network between the nodes, built as flannel's vxlan backend builds it (flannel's
# pkg/backend/vxlan), without flannel's daemon: the layout is static, so up.sh writes it once.
#   per node:  a vxlan device flannel.1 (VNI 1, UDP 4789, nolearning, MTU 1450) whose local address is the
#              node's InternalIP, with the node's pod-CIDR network address (10.244.N-1.0/32) on it;
#   per peer:  a route to the peer's pod CIDR via the peer's VTEP address (onlink, dev flannel.1), a
#              permanent neighbour entry for that address (the peer's VTEP MAC) and a static FDB entry that
#              sends frames for that MAC to the peer's InternalIP;
#   per node:  VXLAN is accepted only from the other nodes' InternalIPs (chain NETCHECK-VXLAN in raw
#              PREROUTING), as Calico's Felix does for its VXLAN and as flannel's docs ask of the host firewall;
#   per node:  the flannel annotations (backend-type, backend-data with the VtepMAC, public-ip, ...) that the
#              operator's diagnosis reads (OVERLAY_ADDRESS_ANNOTATIONS).
# The pods' MTU is the overlay's (1450, lib.sh pod_mtu), as flannel's CNI plugin sets it.
#
# Sourced by up.sh (setup_pod_network, annotate_overlay_nodes); also run by the e2e fault helpers:
#   overlay.sh rebuild NODE [LOCAL_ADDRESS]   re-creates NODE's flannel.1, encapsulating from LOCAL_ADDRESS
#                                             (default: the node's InternalIP), and re-annotates the node
# shellcheck shell=bash
overlay_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
[ -n "${cluster_lib_dir:-}" ] || . "$overlay_here/lib.sh"

VXLAN_FILTER_CHAIN=NETCHECK-VXLAN

# in_node NODE COMMAND...: runs a host binary in the node's network namespace (node 1: the host's).
in_node() {
  local node=$1; shift
  if [ "$node" -eq 1 ]; then "$@"; else ip netns exec "$(node_netns "$node")" "$@"; fi
}

# The link that carries the node's InternalIP: the node bridge on node 1, the veth end eth0 elsewhere.
node_uplink() { if [ "$1" -eq 1 ]; then echo "$NODE_BRIDGE"; else echo eth0; fi; }

# setup_vxlan_device NODE [LOCAL]: (re)creates flannel.1 on NODE, encapsulating from LOCAL.
setup_vxlan_device() {
  local node=$1 local_ip=${2:-$(node_ip "$1")}
  in_node "$node" ip link del "$VXLAN_DEVICE" 2>/dev/null || true
  in_node "$node" ip link add "$VXLAN_DEVICE" type vxlan id "$VXLAN_VNI" local "$local_ip" \
    dev "$(node_uplink "$node")" dstport "$VXLAN_PORT" nolearning
  in_node "$node" ip link set "$VXLAN_DEVICE" address "$(node_vtep_mac "$node")" mtu "$VXLAN_MTU"
  in_node "$node" ip addr add "$(node_vtep_ip "$node")/32" dev "$VXLAN_DEVICE"
  in_node "$node" ip link set "$VXLAN_DEVICE" up
  local peer
  for ((peer = 1; peer <= NODE_COUNT; peer++)); do
    [ "$peer" -eq "$node" ] && continue
    in_node "$node" ip route replace "$(node_pod_cidr "$peer")" via "$(node_vtep_ip "$peer")" dev "$VXLAN_DEVICE" onlink
    in_node "$node" ip neigh replace "$(node_vtep_ip "$peer")" lladdr "$(node_vtep_mac "$peer")" dev "$VXLAN_DEVICE" nud permanent
    in_node "$node" bridge fdb replace "$(node_vtep_mac "$peer")" dev "$VXLAN_DEVICE" dst "$(node_ip "$peer")" self permanent
  done
}

# Only the other nodes may send VXLAN to this node: anything else on UDP 4789 is dropped before conntrack.
setup_vxlan_filter() {
  local node=$1 peer
  in_node "$node" iptables -w -t raw -N "$VXLAN_FILTER_CHAIN" 2>/dev/null || in_node "$node" iptables -w -t raw -F "$VXLAN_FILTER_CHAIN"
  for ((peer = 1; peer <= NODE_COUNT; peer++)); do
    [ "$peer" -eq "$node" ] && continue
    in_node "$node" iptables -w -t raw -A "$VXLAN_FILTER_CHAIN" -s "$(node_ip "$peer")/32" -j RETURN
  done
  in_node "$node" iptables -w -t raw -A "$VXLAN_FILTER_CHAIN" -m comment --comment "$RULE_COMMENT: VXLAN only from the nodes" -j DROP
  in_node "$node" iptables -w -t raw -C PREROUTING -p udp --dport "$VXLAN_PORT" -m comment --comment "$RULE_COMMENT: vxlan" -j "$VXLAN_FILTER_CHAIN" 2>/dev/null ||
    in_node "$node" iptables -w -t raw -I PREROUTING 1 -p udp --dport "$VXLAN_PORT" -m comment --comment "$RULE_COMMENT: vxlan" -j "$VXLAN_FILTER_CHAIN"
}

# setup_pod_network: called by up.sh once every node's namespace exists.
setup_pod_network() {
  [ "$NODE_COUNT" -gt 1 ] || return 0
  local node
  case $POD_NETWORK_MODE in
    vxlan)
      for ((node = 1; node <= NODE_COUNT; node++)); do
        [ "$node" -eq 1 ] || ip route del "$(node_pod_cidr "$node")" via "$(node_ip "$node")" 2>/dev/null || true
        setup_vxlan_device "$node"
        setup_vxlan_filter "$node"
      done ;;
    routes)
      # Node 1 routes to node N's pods via node N's address; node N reaches node 1 by its default route.
      for ((node = 2; node <= NODE_COUNT; node++)); do
        ip route replace "$(node_pod_cidr "$node")" via "$(node_ip "$node")" dev "$NODE_BRIDGE"
      done ;;
    *) die "NETCHECK_POD_NETWORK must be vxlan or routes, not $POD_NETWORK_MODE" ;;
  esac
}

# annotate_overlay_node NODE [PUBLIC_IP]: the annotations flannel's kube subnet manager writes.
annotate_overlay_node() {
  local node=$1 public_ip=${2:-$(node_ip "$1")}
  kubectl_admin annotate node "$(node_name "$node")" --overwrite \
    flannel.alpha.coreos.com/backend-type=vxlan \
    "flannel.alpha.coreos.com/backend-data={\"VNI\":$VXLAN_VNI,\"VtepMAC\":\"$(node_vtep_mac "$node")\"}" \
    flannel.alpha.coreos.com/kube-subnet-manager=true \
    "flannel.alpha.coreos.com/public-ip=$public_ip" >/dev/null
}

annotate_overlay_nodes() {
  [ "$POD_NETWORK_MODE" = vxlan ] && [ "$NODE_COUNT" -gt 1 ] || return 0
  local node
  for ((node = 1; node <= NODE_COUNT; node++)); do annotate_overlay_node "$node"; done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case ${1:-} in
    rebuild)
      node=${2:?usage: overlay.sh rebuild NODE [LOCAL_ADDRESS]}
      setup_vxlan_device "$node" "${3:-}"
      annotate_overlay_node "$node" "${3:-}" ;;
    *) echo "usage: overlay.sh rebuild NODE [LOCAL_ADDRESS]" >&2; exit 2 ;;
  esac
fi
