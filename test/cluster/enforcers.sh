# shellcheck shell=bash
# The NetworkPolicy enforcer of each node, by NETCHECK_POLICY_ENFORCER (lib.sh POLICY_ENFORCER).
# Sourced by up.sh. Every flavour runs as the host process netpol-enforcer[-nodeN] in the node's network
# namespace, with the client certificate CN=netcheck:netpol-enforcer (manifests/netpol-enforcer-rbac.yaml).
#
#   kube-network-policies  upstream's cmd with netpol/kube-network-policies.patch (xt NFQUEUE, --kubeconfig).
#                          Flags: --netfilter-bug-1766-fix=false (the kernel here is 6.12+, where the conntrack
#                          race is fixed), --disable-nri (the nodes' containerd runs without NRI). Denied packets
#                          are dropped in its userspace verdict: no REJECT.
#   kube-router            --run-firewall=true --run-router=false --run-service-proxy=false: only the
#                          network-policy controller (iptables + ipset). Denied traffic is REJECTed.
#   ours                   netpol/enforcer.ts; it also acknowledges new pods to the CNI plugin
#                          netcheck-policy-wait (see cni/), which the upstream ones know nothing of.
# Ready when its rules are in place: the nft table (kube-network-policies), the KUBE-ROUTER-FORWARD chain
# and a passing /healthz (kube-router), the ready file (ours).

KUBE_ROUTER_HEALTH_PORT=20244

enforcer_binary() { # prints the cached binary of an upstream enforcer, building it on a miss
  case $POLICY_ENFORCER in
    kube-network-policies | kube-router) "$here/build-netpol.sh" "$POLICY_ENFORCER" ;;
    ours) ;;
    *) die "NETCHECK_POLICY_ENFORCER must be kube-network-policies, kube-router or ours, not $POLICY_ENFORCER" ;;
  esac
}

write_enforcer_launcher() {
  local node=$1 binary=$2 kubeconfig="$STATE/kubeconfigs/netpol-enforcer.kubeconfig" name
  name=$(node_name "$node")
  case $POLICY_ENFORCER in
    kube-network-policies)
      node_launcher "$node" netpol-enforcer "$binary" --kubeconfig "$kubeconfig" --hostname-override "$name" \
        --disable-nri --netfilter-bug-1766-fix=false --metrics-bind-address 127.0.0.1:9080 --v 1 ;;
    kube-router)
      node_launcher "$node" netpol-enforcer "$binary" --kubeconfig "$kubeconfig" --hostname-override "$name" \
        --run-firewall=true --run-router=false --run-service-proxy=false \
        --service-cluster-ip-range "$SERVICE_CIDR" --health-port "$KUBE_ROUTER_HEALTH_PORT" --metrics-port 0 --v 1 ;;
    ours)
      node_launcher "$node" netpol-enforcer "$repo/node_modules/.bin/node" "$here/netpol/enforcer.ts" \
        --kubeconfig "$kubeconfig" --node-name "$name" \
        --ready-file "$STATE/run/$(node_component "$node" netpol-enforcer).ready" --cni-state-dir "$CNI_POLICY_DIR" ;;
  esac
}

enforcer_ready() {
  local node=$1
  case $POLICY_ENFORCER in
    kube-network-policies) in_node "$node" nft list table inet kube-network-policies ;;
    kube-router)
      in_node "$node" iptables -w -S KUBE-ROUTER-FORWARD &&
        in_node "$node" curl -fsS --max-time 1 "http://127.0.0.1:$KUBE_ROUTER_HEALTH_PORT/healthz" ;;
    ours) test -f "$STATE/run/$(node_component "$node" netpol-enforcer).ready" ;;
  esac
}

start_netpol_enforcer() {
  local node=$1 enforcer
  enforcer=$(node_component "$node" netpol-enforcer)
  write_enforcer_launcher "$node" "$ENFORCER_BINARY"
  if [ -z "$(pid_of "$enforcer")" ]; then
    rm -f "$STATE/run/$enforcer.ready"
    start_component "$enforcer"
  fi
  wait_for "the NetworkPolicy enforcer ($POLICY_ENFORCER) of $(node_name "$node")" 60 enforcer_ready "$node"
}
