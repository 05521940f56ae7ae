#!/usr/bin/env bash
# Installs what the tests and the local cluster need on a fresh machine (idempotent):
#  - Debian bookworm packages from apt (runc among them: trixie's runc needs glibc 2.38; gcc and
#    libc6-dev build the static pause and test-server binaries; nftables lets down.sh drop empty tables;
#    lua5.1 and prometheus's promtool are used by unit tests of config/argocd and config/monitoring);
#  - Debian trixie packages (etcd 3.5, containerd 1.7) unpacked with dpkg -x into the cache,
#    because bookworm's etcd 3.4.23 is too old for kube-apiserver 1.34.
# up.sh then builds the Kubernetes binaries (build-k8s.sh) and CoreDNS (build-coredns.sh), cached by version.
# Prints nothing on success but a final "deps ready" line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
cache=${NETCHECK_CACHE:-$HOME/.cache/netcheck-operator}
mkdir -p "$cache"

apt_packages=(openssl iproute2 iptables conntrack ipset jq curl dnsutils iputils-ping iputils-tracepath
  traceroute mtr-tiny tcpdump netcat-openbsd dnsmasq-base mmdebstrap containernetworking-plugins util-linux
  socat ca-certificates runc gcc libc6-dev nftables
  python3 lua5.1 prometheus libxml2-utils tmux)   # test-only: Lua runs the Argo CD health check, promtool checks the alert rules; xmllint validates JUnit, tmux drives the plugin in a terminal
need=()
for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Debian trixie packages into $cache/trixie-root (etcd at $cache/trixie-root/usr/bin/etcd).
root="$cache/trixie-root"
if [ ! -x "$root/usr/bin/etcd" ] || [ ! -x "$root/usr/bin/containerd" ]; then
  work="$cache/trixie-apt"
  mkdir -p "$work/lists/partial" "$work/debs" "$root"
  # Use the machine's own Debian mirror (from its apt sources), only with the trixie suite.
  mirror=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$mirror" ] || mirror=$(grep -hoE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  echo "deb $mirror trixie main" > "$work/sources.list"
  aptopts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  mkdir -p "$work/cache/archives/partial"
  apt-get "${aptopts[@]}" update -qq
  (cd "$work/debs" && apt-get "${aptopts[@]}" download $TRIXIE_PACKAGES >/dev/null)
  for deb in "$work/debs"/*.deb; do dpkg -x "$deb" "$root"; done
fi
echo "deps ready"
