#!/usr/bin/env bash
# Builds the container images of the local cluster from Debian packages and local sources, as OCI
# archives that `ctr images import` loads under their final names: no registry is ever contacted.
#   probe       PROBE_IMAGE       a netshoot-like Debian rootfs with the network tools the probe uses
#   pause       PAUSE_IMAGE       the pod sandbox (images/pause.c, static)
#   testserver  TESTSERVER_IMAGE  HTTP/TCP-echo/UDP-echo backend for tests (images/testserver.c, static)
#   coredns     COREDNS_IMAGE     the CoreDNS binary from build-coredns.sh
# Archives are cached in $NETCHECK_CACHE/images/<name>-<hash of inputs>.tar, so re-runs cost nothing.
# Usage: build-images.sh [name...]  (default: all). Prints one line per image: "<name> <ref> <archive>".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Bump when the archive layout written below changes, so cached archives are rebuilt.
ARCHIVE_FORMAT=1
PROBE_PACKAGES=(bash dnsutils curl iproute2 iputils-ping iputils-tracepath traceroute mtr-tiny tcpdump
  netcat-openbsd iptables conntrack jq ca-certificates procps ethtool socat)
PATH_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

mkdir -p "$IMAGE_CACHE"
work=$(mktemp -d "${TMPDIR:-/tmp}/netcheck-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

sha256_of_file() { sha256sum "$1" | awk '{print $1}'; }
sha256_of_text() { printf '%s' "$1" | sha256sum | awk '{print $1}'; }

# oci_archive REF LAYER_TAR OUT CONFIG_JSON
# Writes an OCI image layout with one uncompressed layer (import is then a plain copy) and the image
# name in the io.containerd.image.name annotation, which ctr import uses as the image's name.
oci_archive() {
  local ref=$1 layer=$2 out=$3 config_fields=$4 dir="$work/oci"
  rm -rf "$dir" && mkdir -p "$dir/blobs/sha256"
  local layer_digest layer_size config config_digest manifest manifest_digest
  layer_digest=$(sha256_of_file "$layer")
  layer_size=$(stat -c %s "$layer")
  mv "$layer" "$dir/blobs/sha256/$layer_digest"
  config=$(jq -cn --argjson fields "$config_fields" --arg diff "sha256:$layer_digest" \
    '{architecture:"amd64", os:"linux", config:$fields, rootfs:{type:"layers", diff_ids:[$diff]},
      history:[{created_by:"netcheck-operator test/cluster/build-images.sh"}]}')
  config_digest=$(sha256_of_text "$config")
  printf '%s' "$config" > "$dir/blobs/sha256/$config_digest"
  manifest=$(jq -cn --arg cd "sha256:$config_digest" --argjson cs "${#config}" \
    --arg ld "sha256:$layer_digest" --argjson ls "$layer_size" \
    '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$cd, size:$cs},
      layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar", digest:$ld, size:$ls}]}')
  manifest_digest=$(sha256_of_text "$manifest")
  printf '%s' "$manifest" > "$dir/blobs/sha256/$manifest_digest"
  jq -cn --arg md "sha256:$manifest_digest" --argjson ms "${#manifest}" --arg ref "$ref" \
    '{schemaVersion:2, manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$md,
      size:$ms, platform:{architecture:"amd64", os:"linux"},
      annotations:{"io.containerd.image.name":$ref, "org.opencontainers.image.ref.name":($ref|split(":")|last)}}]}' \
    > "$dir/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
  tar -C "$dir" -cf "$out.tmp" oci-layout index.json blobs
  mv "$out.tmp" "$out"
  echo "sha256:$manifest_digest" > "$out.digest"
}

# A layer from a directory: fixed owners and times so equal inputs give an equal layer.
layer_from_dir() { tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$1" -cf "$2" .; }

static_c_rootfs() { # static_c_rootfs SOURCE BINARY_NAME ROOTFS
  mkdir -p "$3/etc" "$3/tmp"
  gcc -static -Os -Wall -Wextra -Werror -o "$3/$2" "$1"
  strip "$3/$2"
}

build_pause() {
  local rootfs="$work/pause-root"
  static_c_rootfs "$here/images/pause.c" pause "$rootfs"
  layer_from_dir "$rootfs" "$work/layer.tar"
  oci_archive "$PAUSE_IMAGE" "$work/layer.tar" "$1" '{"Entrypoint":["/pause"],"User":"65535:65535"}'
}

build_testserver() {
  local rootfs="$work/testserver-root"
  static_c_rootfs "$here/images/testserver.c" testserver "$rootfs"
  layer_from_dir "$rootfs" "$work/layer.tar"
  oci_archive "$TESTSERVER_IMAGE" "$work/layer.tar" "$1" \
    '{"Entrypoint":["/testserver"],"Env":["HTTP_PORT=8080","TCP_ECHO_PORT=9000","UDP_ECHO_PORT=9001"],"ExposedPorts":{"8080/tcp":{},"9000/tcp":{},"9001/udp":{}}}'
}

build_coredns() {
  local rootfs="$work/coredns-root" binary
  binary=$("$here/build-coredns.sh")
  mkdir -p "$rootfs/etc/coredns" "$rootfs/tmp"
  cp "$binary" "$rootfs/coredns"
  layer_from_dir "$rootfs" "$work/layer.tar"
  oci_archive "$COREDNS_IMAGE" "$work/layer.tar" "$1" '{"Entrypoint":["/coredns"],"ExposedPorts":{"53/udp":{},"53/tcp":{},"9153/tcp":{}}}'
}

build_probe() {
  local include mirror
  include=$(IFS=,; echo "${PROBE_PACKAGES[*]}")
  mirror=$(debian_mirror)
  # Documentation, man pages and translations are dropped: the image is for tools only.
  mmdebstrap --quiet --variant=essential --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    "$(debian_suite)" "$work/layer.tar" "$mirror" >&2
  oci_archive "$PROBE_IMAGE" "$work/layer.tar" "$1" "{\"Env\":[\"$PATH_ENV\"],\"Cmd\":[\"/bin/bash\"],\"WorkingDir\":\"/\"}"
}

# The cache key of each image: everything that goes into it.
image_key() {
  case $1 in
    pause) sha256_of_text "$ARCHIVE_FORMAT $PAUSE_IMAGE $(sha256_of_file "$here/images/pause.c") $(gcc -dumpfullversion)" ;;
    testserver) sha256_of_text "$ARCHIVE_FORMAT $TESTSERVER_IMAGE $(sha256_of_file "$here/images/testserver.c") $(gcc -dumpfullversion)" ;;
    coredns) sha256_of_text "$ARCHIVE_FORMAT $COREDNS_IMAGE $COREDNS_VERSION" ;;
    probe) sha256_of_text "$ARCHIVE_FORMAT $PROBE_IMAGE $(debian_suite) ${PROBE_PACKAGES[*]}" ;;
    *) die "unknown image $1" ;;
  esac
}

image_ref() {
  case $1 in
    pause) echo "$PAUSE_IMAGE" ;; testserver) echo "$TESTSERVER_IMAGE" ;;
    coredns) echo "$COREDNS_IMAGE" ;; probe) echo "$PROBE_IMAGE" ;;
  esac
}

if [ $# -gt 0 ]; then names=("$@"); else names=(pause testserver coredns probe); fi
for name in "${names[@]}"; do
  key=$(image_key "$name")
  archive="$IMAGE_CACHE/$name-${key:0:16}.tar"
  if [ ! -s "$archive" ] || [ ! -s "$archive.digest" ]; then
    start=$(date +%s)
    "build_$name" "$archive"
    log "built image $name ($(image_ref "$name")) in $(( $(date +%s) - start ))s"
    # Older archives of this image are stale now.
    find "$IMAGE_CACHE" -maxdepth 1 -name "$name-*.tar*" ! -name "$name-${key:0:16}.tar*" -delete
  fi
  echo "$name $(image_ref "$name") $archive"
done
