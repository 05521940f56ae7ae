#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and kubectl
# from the k8s.io/kubernetes Go module through a wrapper module with replace directives.
# Binaries are cached outside the repo, keyed by version: only the first run on a machine pays.
# Usage: build-k8s.sh [binary...]   (default: all six)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache=${NETCHECK_CACHE:-$HOME/.cache/netcheck-operator}
out="$cache/k8s-$K8S_VERSION/bin"
mkdir -p "$out"
all=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
want=("${@:-${all[@]}}")
missing=()
for b in "${want[@]}"; do [ -x "$out/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -eq 0 ]; then echo "$out"; exit 0; fi

mod="$cache/k8s-$K8S_VERSION/wrapper"
mkdir -p "$mod"
staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms
  kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller)
{
  echo "module netcheck.dev/k8s-wrapper"
  echo
  echo "go 1.24"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  for s in "${staging[@]}"; do echo "replace k8s.io/$s => k8s.io/$s $K8S_STAGING_VERSION"; done
} > "$mod/go.mod"
cat > "$mod/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
cd "$mod"
export GOFLAGS=-mod=mod CGO_ENABLED=0
[ -f go.sum ] || go mod tidy -e >/dev/null 2>&1 || true
ver="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitTreeState=clean"
for b in "${missing[@]}"; do
  start=$(date +%s)
  # -p 2: this machine has 2 cores; one build at a time.
  go build -p 2 -tags selinux,notest -trimpath -ldflags "-s -w $ver" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b"
  mv "$out/$b.tmp" "$out/$b"
  echo "built $b in $(( $(date +%s) - start ))s" >&2
done
echo "$out"
