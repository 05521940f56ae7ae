#!/usr/bin/env bash
# Tears the local cluster down, leaving no processes, containers, mounts, network namespaces,
# interfaces, routes, iptables rules, ipsets or cgroups behind, and restores the host sysctls up.sh
# recorded. Idempotent: safe on a machine where the cluster never ran. Keeps $STATE/logs for post-mortems.
# Usage: down.sh [--keep-lock]   (--keep-lock: called by up.sh, which already holds the lock)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if [ "${1:-}" != "--keep-lock" ]; then
  exec 9> /tmp/netcheck-cluster.lock
  flock -w 600 9 || die "another up.sh/down.sh holds /tmp/netcheck-cluster.lock"
fi
started_at=$(date +%s)

# Processes whose command line names our state directory: the containerd shims (they carry our
# containerd socket path) and anything else started from our launchers.
processes_of_this_cluster() {
  local dir pid
  for dir in /proc/[0-9]*; do
    pid=${dir#/proc/}
    [ "$pid" = "$$" ] && continue
    { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$STATE/" && echo "$pid"
  done
}

# Node 1's pods live under /kubepods, node N's under /netcheck-nodeN/kubepods (its kubelet's cgroupRoot).
kubepods_cgroups() { find /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/netcheck-node*/kubepods -depth -type d 2>/dev/null; }

# stop_agents NAME...: stops that agent on every node that has a pid file for it (NAME, NAME-node2, ...).
stop_agents() {
  local agent pidfile
  for agent in "$@"; do
    for pidfile in "$STATE/run/$agent.pid" "$STATE/run/$agent"-node*.pid; do
      [ -f "$pidfile" ] && stop_component "$(basename "$pidfile" .pid)" 10
    done
  done
}

kill_containers() {
  # Every container process lives in a kubepods cgroup: these are exactly the cluster's containers.
  local pids
  for _ in 1 2 3 4 5; do
    # shellcheck disable=SC2046  # cgroup paths have no spaces
    pids=$(cat $(kubepods_cgroups | sed 's|$|/cgroup.procs|') 2>/dev/null | sort -u)
    [ -n "$pids" ] || break
    kill -KILL $pids 2>/dev/null
    sleep 0.3
  done
}

# Removes every chain whose name starts with KUBE-, CNI-, NETCHECK- (kube-proxy, kubelet, the CNI
# plugins, the guard and the policy enforcer) and every rule that jumps to one, in every table of both
# address families, by filtering iptables-save output and restoring it.
sweep_iptables() {
  local family save restore table pattern='(KUBE-|CNI-|NETCHECK-)'
  for family in iptables ip6tables; do
    save="$family-save" restore="$family-restore"
    command -v "$save" >/dev/null || continue
    for table in filter nat mangle raw; do
      local current filtered
      current=$("$save" -t "$table" 2>/dev/null) || continue
      grep -qE "$pattern|$RULE_COMMENT" <<< "$current" || continue
      filtered=$(grep -vE "^:$pattern|^-A $pattern|-j $pattern|-g $pattern|$RULE_COMMENT" <<< "$current")
      "$restore" -w -T "$table" <<< "$filtered" || log "could not clean $family table $table"
    done
  done
}

unmount_under() { # unmount_under DIR: every mount at or below DIR, deepest first
  local target
  findmnt -rn -o TARGET | grep -E "^$1(/|$)" | sort -r | while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || log "could not unmount $target"
  done
}

# 1. Stop the node agents first, so nothing restarts containers or rewrites rules while we clean.
stop_agents netpol-enforcer kube-proxy kubelet
# 2. Containers, then containerd and its shims.
kill_containers
stop_agents containerd
for pid in $(processes_of_this_cluster); do kill -KILL "$pid" 2>/dev/null; done
kill_containers
# 3. The control plane.
stop_component kube-scheduler 5
stop_component kube-controller-manager 5
stop_component kube-apiserver 10
stop_component etcd 10
# Anything left that was started from our state directory (e.g. a launcher whose pid file was lost).
for pid in $(processes_of_this_cluster); do kill -KILL "$pid" 2>/dev/null; done

# 4. Mounts (container rootfs, shm, netns, projected volumes) and network namespaces.
unmount_under "$STATE"
# Network namespaces pinned elsewhere by an earlier containerd configuration.
for netns in /var/run/netns/cni-*; do
  [ -e "$netns" ] || continue
  if ip netns pids "$(basename "$netns")" 2>/dev/null | grep -q .; then continue; fi
  umount "$netns" 2>/dev/null; rm -f "$netns"
done

# The namespaces of nodes 2..N (their veths, pod bridges, iptables rules and conntrack go with them).
for netns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^netcheck-node[0-9]+$'); do
  ip netns delete "$netns" 2>/dev/null || log "could not delete network namespace $netns"
done

# 5. Interfaces and routes: veths attached to the pod bridge (normally gone with their namespaces), the bridges.
if ip link show "$POD_BRIDGE" >/dev/null 2>&1; then
  for veth in $(ip -o link show master "$POD_BRIDGE" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip link delete "$veth" 2>/dev/null
  done
  ip link delete "$POD_BRIDGE" 2>/dev/null
fi
ip link delete "$NODE_BRIDGE" 2>/dev/null
ip link delete "$VXLAN_DEVICE" 2>/dev/null   # the overlay's device on node 1 (overlay.sh)
ip route del unreachable "$CLUSTER_CIDR" 2>/dev/null
ip route del "$SERVICE_CIDR" 2>/dev/null

# 6. iptables rules and chains, ipsets, conntrack entries of the cluster ranges.
if [ -x "$K8S_BIN/kube-proxy" ]; then "$K8S_BIN/kube-proxy" --cleanup >/dev/null 2>&1; fi
sweep_iptables
# kube-network-policies keeps its rules in an nftables table of its own; it does not remove it on SIGTERM.
nft delete table inet kube-network-policies 2>/dev/null
for set in $(ipset list -n 2>/dev/null | grep -E '^(KUBE-|NETCHECK-)'); do ipset destroy "$set" 2>/dev/null; done
for range in "$CLUSTER_CIDR" "$SERVICE_CIDR" "$NODE_NETWORK"; do
  conntrack -D -s "$range" >/dev/null 2>&1
  conntrack -D -d "$range" >/dev/null 2>&1
done

# 7. cgroups the kubelet created (empty now).
for dir in $(kubepods_cgroups) $(find /sys/fs/cgroup/*/netcheck-node* -maxdepth 0 -type d 2>/dev/null); do
  rmdir "$dir" 2>/dev/null
done

# 8. Host sysctls back to what they were before up.sh.
if [ -f "$STATE/host-sysctls" ]; then
  while IFS='=' read -r key value; do
    case $key in
      run_containerd_existed | var_lib_cni_existed | nft_tables_before) ;;
      *) [ "$(sysctl -n "$key" 2>/dev/null)" = "$value" ] || sysctl -qw "$key=$value" 2>/dev/null ;;
    esac
  done < "$STATE/host-sysctls"
  if ! grep -q '^run_containerd_existed=1' "$STATE/host-sysctls"; then
    # containerd 1.7 shims put their sockets in /run/containerd/s whatever the configured state dir.
    rm -rf /run/containerd
  fi
  if ! grep -q '^var_lib_cni_existed=1' "$STATE/host-sysctls"; then
    # Created by the CNI plugins for this cluster only (result cache of each pod's attachment).
    rm -rf /var/lib/cni
  fi
  # iptables (nf_tables backend) leaves its tables behind, empty; drop those that did not exist before.
  tables_before=$(sed -n 's/^nft_tables_before=//p' "$STATE/host-sysctls")
  for table in $(nft list tables 2>/dev/null | awk '{print $2 ":" $3}'); do
    case " $tables_before " in *" $table "*) continue ;; esac
    family=${table%%:*} name=${table#*:}
    # Only when it holds no rule at all: a rule there belongs to someone else.
    if ! nft list table "$family" "$name" 2>/dev/null | grep -qvE '^\s*(table|chain|type|policy|\}|$)'; then
      nft delete table "$family" "$name" 2>/dev/null
    fi
  done
fi

# 9. Files outside the state directory: kubelet's /var/log/containers links, the CNI result cache.
for link in /var/log/containers/*.log; do
  [ -L "$link" ] || continue
  case $(readlink "$link") in "$STATE"/*) rm -f "$link" ;; esac
done
rmdir /var/log/containers 2>/dev/null
rm -rf /var/lib/cni/results/netcheck-* 2>/dev/null
rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null

# 10. The state directory itself, except the logs.
if [ -d "$STATE" ]; then
  find "$STATE" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} + 2>/dev/null ||
    log "some files in $STATE could not be removed"
fi
log "cluster down ($(( $(date +%s) - started_at ))s)"
