#!/usr/bin/env bash
# netcheck-probe.sh: the probe program of netcheck-operator.
#
# Runs inside the probe image (bash plus dig, curl, ping, ip, iptables, jq, ...), as a probe pod, an
# ephemeral container, or a hostNetwork pod on a node. It runs the probes a NetworkCheck asks for,
# concurrently where they are independent, and writes ONE compact JSON document (schema version 1,
# described by operator/probe/result.ts) to the result file: the container's termination message,
# which Kubernetes cuts at 4096 bytes, so the document is shrunk to fit and marked "truncated":true.
# The untruncated document goes to stdout (the pod log) as one JSON line.
#
# SAFETY: parameters come only from the environment variables below (or a JSON file named by
# NETCHECK_PARAMS_FILE). Every value is validated against a strict format before use and is only
# ever passed as a separate, quoted argument ("$var", arrays, positional parameters of constant
# `bash -c` programs). Nothing is eval'ed, and JSON is only built by jq (--arg/--argjson), never by
# printing user strings into JSON. An invalid value is refused with a structured error document.
#
# Parameters (all optional unless noted):
#   NETCHECK_MODE           pod (default) | node. node adds the node section (ip_forward,
#                           bridge-nf-call-iptables, conntrack, kube-proxy mode, KUBE-SVC rules);
#                           meant for a hostNetwork pod whose command the operator fixes.
#   NETCHECK_PROTOCOL       TCP | UDP | HTTP | HTTPS | ICMP | DNS. Required in pod mode; in node mode
#                           it may be empty (node inspection only).
#                             TCP/UDP:    resolv, dns (when HOST is a name), connect, endpoints
#                             HTTP/HTTPS: resolv, dns, connect (TCP), http, endpoints (TCP)
#                             ICMP:       resolv, dns, icmp
#                             DNS:        resolv, dns (HOST must be a name)
#   NETCHECK_HOST           destination name (resolved like the C library would) or IP literal.
#   NETCHECK_TARGET_IP      IP to connect to (e.g. a Service ClusterIP); skips waiting for DNS.
#                           One of HOST / TARGET_IP is required unless PROTOCOL is empty.
#   NETCHECK_PORT           1-65535. Required for TCP/UDP; HTTP defaults to 80, HTTPS to 443.
#   NETCHECK_TIMEOUT        seconds per probe step, 1-60 (default 5).
#   NETCHECK_ENDPOINTS      space-separated backend endpoints "ip:port" ("[v6]:port"), at most 64;
#                           each is connected directly with the protocol's transport (TCP or UDP).
#   NETCHECK_HTTP_PATH      request path starting with "/" (RFC 3986 characters only), default "/".
#   NETCHECK_HTTP_METHOD    GET (default) | HEAD | POST | PUT | DELETE | OPTIONS | PATCH.
#   NETCHECK_HTTP_HOST      Host header and TLS server name, when it differs from the destination.
#   NETCHECK_HTTP_EXPECTED  comma list of status codes or classes, e.g. "200,204,3xx" (default "2xx,3xx").
#   NETCHECK_TLS_VERIFY     1 (default) verify the server certificate | 0 do not.
#   NETCHECK_DNS_TYPE       A (default) | AAAA: the record type looked up.
#   NETCHECK_PING           1 | 0: also ping the destination (default 1 for ICMP, else 0).
#   NETCHECK_MTU_CHECK      1 | 0 (default): measure local and path MTU with DF pings.
#   NETCHECK_MTU_TARGET     IP to measure the path MTU to (default: the destination IP). Useful
#                           because ClusterIPs do not answer pings; pass a backend pod IP.
#   NETCHECK_ICMP_BLOCKED   SysctlRefused | SysctlForbidden: the operator had to start this pod
#                           without net.ipv4.ping_group_range (admission refused it, or the kubelet
#                           did); ping and the MTU steps then report "skipped" with that reason.
#   NETCHECK_SERVICE_IP     node mode: ClusterIP whose KUBE-SVC rules to look up
#                           (default: TARGET_IP).
#   NETCHECK_RESULT_FILE    absolute path of the result document (default /dev/termination-log).
#   NETCHECK_PARAMS_FILE    absolute path of a JSON object {"NETCHECK_PORT": "80", ...} supplying
#                           any parameter not set in the environment (strings or numbers; unknown
#                           keys are refused).
#
# What the probes can and cannot tell (measured on Linux 6.x, see test/netns/probe-*.test.ts):
#  - TCP: refused = RST; unreachable = ICMP host/net unreachable or no local route (Linux gives up on
#    the answer to the first SYN retransmission, ~1 s in); timeout = nothing came back. Use
#    NETCHECK_TIMEOUT >= 2 so that unreachable is not mistaken for timeout.
#  - UDP: only ICMP port unreachable (refused) and admin-prohibited (unreachable) reach a UDP socket;
#    a silent drop and a host unreachable both show as noReply.
#  - DNS: the lookup follows the GNU C library's rules (search list, ndots, server order); musl-based
#    applications search differently.
#  - The latency of connect and UDP is measured inside the child bash, without process start-up.
#
# Needs a writable TMPDIR, /tmp or /dev/shm (probe results are handed over in files).
#
# Privileges: none, in pod mode. Probe pods run as a non-root user without capabilities (Pod Security
# "restricted"); ping and the DF path-MTU pings use unprivileged ICMP sockets, which the kernel allows
# to the groups in net.ipv4.ping_group_range (the pod sets that safe sysctl). Where ICMP is not
# possible (no such group and no CAP_NET_RAW), the ICMP and MTU steps are reported "skipped" with the
# reason, and every other probe still runs. Capture (tcpdump) and node mode need root and NET_RAW.
#
# Time budget: every external command runs under `timeout`; a watchdog stops any probe still running
# after 5*NETCHECK_TIMEOUT+20 s, so a run ends within about 5*NETCHECK_TIMEOUT+25 s
# (probeRunBudgetSeconds() in result.ts).
#
# Exit status: 0 the probes ran (whatever the network did) and the document was written;
#              2 a parameter was refused (a document with status "invalidInput" was written);
#              1 the program itself could not run (jq missing, result file not writable).

# shellcheck disable=SC2317  # probe functions run indirectly: start_probe <section> <function> ...
# shellcheck disable=SC2016  # the child-bash programs are constant strings, expanded by the child
set -u
set -o pipefail
shopt -s extglob
export LC_ALL=C LANG=C TZ=UTC
# Child bash processes must not source a startup file named by the environment.
unset BASH_ENV ENV
# The tools this program runs are found on a fixed PATH, not one inherited from the caller.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 077

readonly SCHEMA_VERSION=1
readonly RESULT_MAX_BYTES=4096
readonly MAX_ENDPOINTS=64
readonly ENDPOINT_CONCURRENCY=16
readonly MAX_HTTP_PATH_BYTES=2048
readonly MAX_EXPECTED_ITEMS=20
readonly MAX_NAMESERVERS=3          # glibc MAXNS: further nameserver lines are ignored
readonly MAX_SEARCH_DOMAINS=6       # what glibc used to honour; more only amplifies lookups
readonly MAX_ERR_TEXT=200
readonly MAX_DNS_ANSWERS=64
readonly MAX_DNS_CNAMES=16
readonly MAX_DNAME=254              # a name with its trailing dot; longer candidates are not sent
readonly MAX_ERRORS=32
readonly UDP_PAYLOAD='netcheck-probe'
readonly PING_COUNT=3
readonly MTU_PING_WAIT_S=1
readonly MTU_SMALL_PACKET=128
readonly MTU_PROBE_BUDGET_S=25
readonly PROBE_NAME='netcheck-probe'

# Error codes of the "errors" list (kept in sync with ProbeErrorCode in result.ts).
readonly E_INVALID='InvalidParameter'
readonly E_MISSING='MissingParameter'
readonly E_UNKNOWN='UnknownParameter'
readonly E_TOOL='ToolMissing'
readonly E_PROBE_TIMEOUT='ProbeTimeout'
readonly E_PROBE_FAILED='ProbeFailed'

readonly PARAM_NAMES=(
  NETCHECK_MODE NETCHECK_PROTOCOL NETCHECK_HOST NETCHECK_TARGET_IP NETCHECK_PORT NETCHECK_TIMEOUT
  NETCHECK_ENDPOINTS NETCHECK_HTTP_PATH NETCHECK_HTTP_METHOD NETCHECK_HTTP_HOST NETCHECK_HTTP_EXPECTED
  NETCHECK_TLS_VERIFY NETCHECK_DNS_TYPE NETCHECK_PING NETCHECK_MTU_CHECK NETCHECK_MTU_TARGET
  NETCHECK_SERVICE_IP NETCHECK_RESULT_FILE NETCHECK_PARAMS_FILE NETCHECK_CAPTURE_ARGV
  NETCHECK_CAPTURE_SECONDS NETCHECK_ICMP_BLOCKED
)
readonly DEFAULT_RESULT_FILE=/dev/termination-log

# ---------------------------------------------------------------------------------------------
# Formats. Every regex is anchored; bash's =~ anchors ^/$ to the whole string, and no character
# class below admits a newline, so multi-line values never match.
readonly RE_OCTET='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
readonly RE_IPV4="^${RE_OCTET}(\\.${RE_OCTET}){3}\$"
readonly RE_IPV6_CHARS='^[0-9A-Fa-f:.]+$'
readonly RE_LABEL='[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
readonly RE_HOSTNAME="^(${RE_LABEL}\\.)*${RE_LABEL}\\.?\$"
readonly RE_PORT='^[1-9][0-9]{0,4}$'
readonly RE_TIMEOUT='^[1-9][0-9]?$'
readonly RE_HTTP_PATH="^/[A-Za-z0-9._~!\$&'()*+,;=:@%/?-]*\$"
readonly RE_EXPECTED_ITEM='^([1-5][0-9][0-9]|[1-5]xx)$'
readonly RE_ABS_PATH='^/[A-Za-z0-9._/-]+$'
readonly RE_PARAM_NAME='^[A-Za-z_][A-Za-z0-9_]*$'
readonly RE_ENDPOINTS_CHARS='^[][0-9A-Fa-f.: ]*$'

is_ipv4() { [[ $1 =~ $RE_IPV4 ]]; }

# IPv6 in RFC 4291 text form: 8 groups of 1-4 hex digits, or fewer with one "::", the last 32 bits
# optionally dotted IPv4. No zone index (%eth0) and no brackets.
readonly RE_HEX_GROUP='^[0-9A-Fa-f]{1,4}$'
is_ipv6() {
  local v=$1
  (( ${#v} >= 2 && ${#v} <= 45 )) || return 1
  [[ $v =~ $RE_IPV6_CHARS && $v == *:* ]] || return 1
  local compressed=0 head=$v tail=''
  if [[ $v == *::* ]]; then
    compressed=1 head=${v%%::*} tail=${v#*::}
    [[ $tail == *::* ]] && return 1
  fi
  local -a groups=() part_groups
  local part group
  for part in "$head" "$tail"; do
    [[ -z $part ]] && continue
    [[ $part == :* || $part == *: ]] && return 1
    IFS=: read -r -a part_groups <<<"$part"
    groups+=("${part_groups[@]}")
  done
  local count=${#groups[@]} width=${#groups[@]} i
  for (( i = 0; i < count; i++ )); do
    group=${groups[i]}
    if (( i == count - 1 )) && [[ $group == *.* ]]; then
      is_ipv4 "$group" || return 1
      width=$(( width + 1 ))   # a dotted IPv4 tail stands for two groups
    else
      [[ $group =~ $RE_HEX_GROUP ]] || return 1
    fi
  done
  if (( compressed )); then (( width <= 7 )); else (( width == 8 )); fi
}
is_ip() { is_ipv4 "$1" || is_ipv6 "$1"; }

is_hostname() {
  local v=${1%.}
  (( ${#v} >= 1 && ${#v} <= 253 )) || return 1
  [[ $1 =~ $RE_HOSTNAME ]]
}

is_port() { [[ $1 =~ $RE_PORT ]] && (( 10#$1 <= 65535 )); }

# ---------------------------------------------------------------------------------------------
# Small helpers.

now_ms() { NOW_MS=$(( ${EPOCHREALTIME/./} / 1000 )); }

have() { command -v -- "$1" >/dev/null 2>&1; }

# First line of a tool's message, cut to MAX_ERR_TEXT bytes.
short_text() {
  local s=${1%%$'\n'*}
  printf '%s' "${s:0:MAX_ERR_TEXT}"
}

# A JSON array of the given strings.
json_strings() { jq -cn '$ARGS.positional' --args -- "$@"; }

ERRORS=()   # JSON objects {code, param?, probe?, msg}
add_error() { # code param probe msg
  ERRORS+=("$(jq -cn --arg code "$1" --arg param "$2" --arg probe "$3" --arg msg "$4" \
    '{code: $code} + (if $param != "" then {param: $param} else {} end)
     + (if $probe != "" then {probe: $probe} else {} end) + {msg: $msg}')")
}

# Maps a connect()/read()/write() error text (strerror, C locale) to a status and an errno name.
# Sets CLASS_STATUS and CLASS_ERR.
classify_errno_text() {
  case $1 in
    *'Connection refused'*) CLASS_STATUS=refused; CLASS_ERR=ECONNREFUSED ;;
    *'No route to host'*) CLASS_STATUS=unreachable; CLASS_ERR=EHOSTUNREACH ;;
    *'Network is unreachable'*) CLASS_STATUS=unreachable; CLASS_ERR=ENETUNREACH ;;
    *'Host is down'*) CLASS_STATUS=unreachable; CLASS_ERR=EHOSTDOWN ;;
    *'Connection timed out'*) CLASS_STATUS=timeout; CLASS_ERR=ETIMEDOUT ;;
    *'Connection reset by peer'*) CLASS_STATUS=error; CLASS_ERR=ECONNRESET ;;
    *'Operation not permitted'*) CLASS_STATUS=error; CLASS_ERR=EPERM ;;
    *'Permission denied'*) CLASS_STATUS=error; CLASS_ERR=EACCES ;;
    *'Cannot assign requested address'*) CLASS_STATUS=error; CLASS_ERR=EADDRNOTAVAIL ;;
    *) CLASS_STATUS=error; CLASS_ERR=$(short_text "$1") ;;
  esac
}

is_timeout_exit() { (( $1 == 124 || $1 == 137 || $1 == 143 )); }

# ---------------------------------------------------------------------------------------------
# Parameters.

declare -A P=()

load_parameters() {
  local name
  for name in "${PARAM_NAMES[@]}"; do
    if [[ -n ${!name+set} ]]; then P[$name]=${!name}; fi
  done

  # Report NETCHECK_* variables this program does not know: most likely a typo or a version skew
  # between operator and image. They are ignored, the probes still run.
  local known=" ${PARAM_NAMES[*]} "
  while IFS= read -r name; do
    [[ $name == NETCHECK_* && $known != *" $name "* ]] || continue
    add_error "$E_UNKNOWN" "${name:0:64}" '' 'unknown parameter ignored'
  done < <(compgen -e)

  [[ -n ${P[NETCHECK_PARAMS_FILE]-} ]] || return 0
  local file=${P[NETCHECK_PARAMS_FILE]}
  if ! [[ $file =~ $RE_ABS_PATH && $file != *..* && ${#file} -le 1024 ]]; then
    refuse NETCHECK_PARAMS_FILE 'must be an absolute path of [A-Za-z0-9._/-]'
    return 0
  fi
  if ! jq -e 'type == "object" and ([.[] | type] - ["string", "number"] | length == 0)' \
      -- "$file" >/dev/null 2>&1; then
    refuse NETCHECK_PARAMS_FILE 'must be a readable JSON object of strings or numbers'
    return 0
  fi
  local -a keys
  mapfile -t keys < <(jq -r 'keys[] | @json' -- "$file")
  local key_json key value
  for key_json in "${keys[@]}"; do
    key=$(jq -rn --argjson k "$key_json" '$k')
    if [[ $known != *" $key "* || $key == NETCHECK_PARAMS_FILE || ! $key =~ $RE_PARAM_NAME ]]; then
      if [[ $key =~ $RE_PARAM_NAME && ${#key} -le 64 ]]; then
        add_error "$E_UNKNOWN" "$key" '' 'unknown key in NETCHECK_PARAMS_FILE'
      else
        add_error "$E_UNKNOWN" '' '' 'a key in NETCHECK_PARAMS_FILE is not a parameter name'
      fi
      continue
    fi
    [[ -n ${P[$key]+set} ]] && continue   # the environment wins
    # The trailing "." keeps trailing newlines, which command substitution would strip and which
    # must reach validation to be refused.
    value=$(jq -j --argjson k "$key_json" '(.[$k] | tostring) + "."' -- "$file")
    P[$key]=${value%.}
  done
}

# ---------------------------------------------------------------------------------------------
# Packet capture. NETCHECK_CAPTURE_ARGV holds tcpdump's arguments, one per line, as the operator
# built them (its filter checked against an allowlist grammar). They reach tcpdump as an array,
# never through a shell line, and only the options below are accepted: -w, -z or -r, which write,
# run or read files, can never be smuggled in. The pcap goes to stdout (base64, between markers)
# after the result document, for the operator to read from the pod log.
CAPTURE_ARGS=() CAPTURE_SECONDS=15 CAPTURE_PID='' CAPTURE_TIMER='' CAPTURE_FILE='' CAPTURE_ERR=''
readonly CAPTURE_BEGIN='-----BEGIN NETCHECK PCAP-----' CAPTURE_END='-----END NETCHECK PCAP-----'
readonly RE_CAPTURE_EXPRESSION='^[A-Za-z0-9 ._:/()-]{1,1024}$'
readonly RE_INTERFACE='^[A-Za-z0-9][A-Za-z0-9_.@-]{0,14}$'

validate_capture() {
  local v
  if param_set NETCHECK_CAPTURE_SECONDS; then
    v=${P[NETCHECK_CAPTURE_SECONDS]}
    if [[ $v =~ ^[0-9]{1,3}$ ]] && (( 10#$v >= 1 && 10#$v <= 120 )); then CAPTURE_SECONDS=$(( 10#$v ))
    else refuse NETCHECK_CAPTURE_SECONDS 'must be 1-120'; fi
  fi
  param_set NETCHECK_CAPTURE_ARGV || return 0
  local -a args
  mapfile -t args <<<"${P[NETCHECK_CAPTURE_ARGV]}"
  local i=0 n=${#args[@]} arg problem=''
  while (( i < n )) && [[ -z $problem ]]; do
    arg=${args[i]}
    case $arg in
      -nn|-n|-U|-p|--immediate-mode) i=$(( i + 1 )) ;;
      -i) [[ ${args[i+1]-} =~ $RE_INTERFACE ]] || problem='-i needs an interface name'; i=$(( i + 2 )) ;;
      -s) [[ ${args[i+1]-} =~ ^[0-9]{2,6}$ ]] || problem='-s needs a snap length'; i=$(( i + 2 )) ;;
      -c) [[ ${args[i+1]-} =~ ^[0-9]{1,6}$ ]] || problem='-c needs a packet count'; i=$(( i + 2 )) ;;
      --) (( i == n - 2 )) && [[ ${args[i+1]} =~ $RE_CAPTURE_EXPRESSION ]] || problem='-- must be followed by one filter expression'; i=$n ;;
      *) problem="option ${arg:0:20} is not allowed" ;;
    esac
  done
  [[ -z $problem && ${args[n-2]-} != -- ]] && problem='the argv must end with -- and a filter expression'
  if [[ -n $problem ]]; then refuse NETCHECK_CAPTURE_ARGV "$problem"; return 0; fi
  CAPTURE_ARGS=("${args[@]}")
}

# Starts tcpdump and returns once it listens, so that the probes' first packets are in the capture.
capture_start() {
  (( ${#CAPTURE_ARGS[@]} )) || return 0
  have tcpdump || { CAPTURE_ERR='tcpdump not found'; return 0; }
  CAPTURE_FILE="$WORK/capture.pcap"
  # -Z root: tcpdump would switch to its own user after opening the socket, and this program (whose
  # capabilities do not include KILL) could then no longer stop it. The switch to root is a no-op that
  # still needs SETUID and SETGID. -w - and a redirection: a named file would be chowned (CAP_CHOWN).
  tcpdump -Z root -w - "${CAPTURE_ARGS[@]}" >"$CAPTURE_FILE" 2>"$WORK/capture.err" &
  CAPTURE_PID=$!
  # The duration bound: tcpdump flushes and exits on SIGINT.
  ( sleep "$CAPTURE_SECONDS"; kill -INT "$CAPTURE_PID" ) >/dev/null 2>&1 &
  CAPTURE_TIMER=$!
  local i
  for (( i = 0; i < 100; i++ )); do
    grep -q 'listening on' "$WORK/capture.err" 2>/dev/null && return 0
    kill -0 "$CAPTURE_PID" 2>/dev/null || break
    sleep 0.03
  done
  kill -0 "$CAPTURE_PID" 2>/dev/null || CAPTURE_ERR=$(short_text "$(<"$WORK/capture.err")")
  return 0
}

capture_stop() {
  [[ -n $CAPTURE_PID ]] || return 0
  # Late packets explain failures: the RST, ICMP error or retransmission that follows a timeout.
  sleep 0.3
  kill -INT "$CAPTURE_PID" 2>/dev/null
  wait "$CAPTURE_PID" 2>/dev/null
  kill "$CAPTURE_TIMER" 2>/dev/null
  wait "$CAPTURE_TIMER" 2>/dev/null
  if [[ -z $CAPTURE_ERR && ! -s $CAPTURE_FILE ]]; then
    CAPTURE_ERR=$(short_text "$(<"$WORK/capture.err")")
    [[ -n $CAPTURE_ERR ]] || CAPTURE_ERR='tcpdump wrote no file'
  fi
}

capture_json() {
  local packets bytes=0
  packets=$(sed -n 's/^\([0-9][0-9]*\) packets\{0,1\} captured.*/\1/p' "$WORK/capture.err" 2>/dev/null | head -n 1)
  [[ -s $CAPTURE_FILE ]] && bytes=$(stat -c %s -- "$CAPTURE_FILE")
  jq -cn --arg err "$CAPTURE_ERR" --arg packets "$packets" --argjson bytes "$bytes" \
    '{status: (if $err == "" then "ok" else "failed" end), bytes: $bytes}
     + (if $packets == "" then {} else {packets: ($packets | tonumber)} end)
     + (if $err == "" then {} else {err: $err} end)'
}

capture_emit() {
  [[ -z $CAPTURE_ERR && -n $CAPTURE_FILE && -s $CAPTURE_FILE ]] || return 0
  printf '%s\n' "$CAPTURE_BEGIN"
  base64 -w 76 -- "$CAPTURE_FILE"
  printf '%s\n' "$CAPTURE_END"
}

# Validated settings (globals, set by validate_parameters).
MODE=pod PROTOCOL='' HOST='' TARGET_IP='' PORT='' TIMEOUT_S=5 HTTP_PATH=/ HTTP_METHOD=GET
HTTP_HOST='' HTTP_EXPECTED='2xx,3xx' TLS_VERIFY=1 DNS_TYPE=A PING=0 MTU_CHECK=0 MTU_TARGET=''
SERVICE_IP='' RESULT_FILE=$DEFAULT_RESULT_FILE RESULT_FILE_OK=1 ICMP_BLOCKED=''
ENDPOINT_IPS=() ENDPOINT_PORTS=()
INVALID=0

refuse() { # param message
  add_error "$E_INVALID" "$1" '' "$2"
  INVALID=1
}

param_set() { [[ -n ${P[$1]-} ]]; }

validate_parameters() {
  local v
  if param_set NETCHECK_RESULT_FILE; then
    v=${P[NETCHECK_RESULT_FILE]}
    if [[ $v =~ $RE_ABS_PATH && $v != *..* && ${#v} -le 1024 ]]; then RESULT_FILE=$v
    else RESULT_FILE_OK=0; refuse NETCHECK_RESULT_FILE 'must be an absolute path of [A-Za-z0-9._/-]'; fi
  fi

  if param_set NETCHECK_MODE; then
    case ${P[NETCHECK_MODE]} in
      pod|node) MODE=${P[NETCHECK_MODE]} ;;
      *) MODE=''; refuse NETCHECK_MODE 'must be pod or node' ;;
    esac
  fi

  if param_set NETCHECK_PROTOCOL; then
    case ${P[NETCHECK_PROTOCOL]} in
      TCP|UDP|HTTP|HTTPS|ICMP|DNS) PROTOCOL=${P[NETCHECK_PROTOCOL]} ;;
      *) PROTOCOL=''; refuse NETCHECK_PROTOCOL 'must be one of TCP, UDP, HTTP, HTTPS, ICMP, DNS' ;;
    esac
  elif [[ $MODE != node ]]; then
    add_error "$E_MISSING" NETCHECK_PROTOCOL '' 'required in pod mode'; INVALID=1
  fi

  if param_set NETCHECK_TIMEOUT; then
    v=${P[NETCHECK_TIMEOUT]}
    if [[ $v =~ $RE_TIMEOUT ]] && (( 10#$v <= 60 )); then TIMEOUT_S=$((10#$v))
    else refuse NETCHECK_TIMEOUT 'must be an integer number of seconds, 1-60'; fi
  fi

  if param_set NETCHECK_HOST; then
    v=${P[NETCHECK_HOST]}
    if is_ip "$v" || is_hostname "$v"; then HOST=$v
    else refuse NETCHECK_HOST 'must be an IP address or a DNS name (RFC 1123, at most 253 characters)'; fi
  fi

  if param_set NETCHECK_TARGET_IP; then
    v=${P[NETCHECK_TARGET_IP]}
    if is_ip "$v"; then TARGET_IP=$v; else refuse NETCHECK_TARGET_IP 'must be an IPv4 or IPv6 address'; fi
  fi

  if param_set NETCHECK_PORT; then
    v=${P[NETCHECK_PORT]}
    if is_port "$v"; then PORT=$((10#$v)); else refuse NETCHECK_PORT 'must be an integer 1-65535'; fi
  fi

  if param_set NETCHECK_ENDPOINTS; then
    v=${P[NETCHECK_ENDPOINTS]}
    if [[ ${#v} -gt 4096 || ! $v =~ $RE_ENDPOINTS_CHARS ]]; then
      refuse NETCHECK_ENDPOINTS 'must be space-separated ip:port or [ipv6]:port entries'
    else
      local -a tokens
      read -r -a tokens <<<"$v"
      local token ip port bad=0
      if (( ${#tokens[@]} > MAX_ENDPOINTS )); then
        refuse NETCHECK_ENDPOINTS "at most $MAX_ENDPOINTS endpoints"; bad=1
      fi
      for token in "${tokens[@]}"; do
        (( bad )) && break
        if [[ $token == \[*\]:* ]]; then ip=${token#\[}; ip=${ip%%\]*}; port=${token##*\]:}; is_ipv6 "$ip" || bad=1
        else ip=${token%:*}; port=${token##*:}; [[ $token == *:* ]] && is_ipv4 "$ip" || bad=1; fi
        is_port "$port" || bad=1
        (( bad )) && { refuse NETCHECK_ENDPOINTS 'must be space-separated ip:port or [ipv6]:port entries'; break; }
        ENDPOINT_IPS+=("$ip"); ENDPOINT_PORTS+=("$((10#$port))")
      done
      (( bad )) && { ENDPOINT_IPS=(); ENDPOINT_PORTS=(); }
    fi
  fi

  if param_set NETCHECK_HTTP_PATH; then
    v=${P[NETCHECK_HTTP_PATH]}
    if [[ ${#v} -le $MAX_HTTP_PATH_BYTES && $v =~ $RE_HTTP_PATH ]]; then HTTP_PATH=$v
    else refuse NETCHECK_HTTP_PATH "must start with / and use only RFC 3986 path/query characters (at most $MAX_HTTP_PATH_BYTES)"; fi
  fi

  if param_set NETCHECK_HTTP_METHOD; then
    case ${P[NETCHECK_HTTP_METHOD]} in
      GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) HTTP_METHOD=${P[NETCHECK_HTTP_METHOD]} ;;
      *) refuse NETCHECK_HTTP_METHOD 'must be one of GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH' ;;
    esac
  fi

  if param_set NETCHECK_HTTP_HOST; then
    v=${P[NETCHECK_HTTP_HOST]}
    if is_hostname "$v" || is_ip "$v"; then HTTP_HOST=$v
    else refuse NETCHECK_HTTP_HOST 'must be a DNS name or an IP address'; fi
  fi

  if param_set NETCHECK_HTTP_EXPECTED; then
    v=${P[NETCHECK_HTTP_EXPECTED]}
    local -a items
    local item ok=1
    if (( ${#v} > 200 )) || [[ $v == *$'\n'* || $v == ,* || $v == *, || $v == *,,* ]]; then ok=0
    else
      IFS=, read -r -a items <<<"$v"
      (( ${#items[@]} >= 1 && ${#items[@]} <= MAX_EXPECTED_ITEMS )) || ok=0
      for item in "${items[@]}"; do [[ $item =~ $RE_EXPECTED_ITEM ]] || ok=0; done
    fi
    if (( ok )); then HTTP_EXPECTED=$v
    else refuse NETCHECK_HTTP_EXPECTED 'must be a comma list of status codes (100-599) or classes like 2xx'; fi
  fi

  validate_flag NETCHECK_TLS_VERIFY TLS_VERIFY
  validate_flag NETCHECK_MTU_CHECK MTU_CHECK
  [[ $PROTOCOL == ICMP ]] && PING=1
  validate_flag NETCHECK_PING PING

  if param_set NETCHECK_DNS_TYPE; then
    case ${P[NETCHECK_DNS_TYPE]} in
      A|AAAA) DNS_TYPE=${P[NETCHECK_DNS_TYPE]} ;;
      *) refuse NETCHECK_DNS_TYPE 'must be A or AAAA' ;;
    esac
  fi

  if param_set NETCHECK_MTU_TARGET; then
    v=${P[NETCHECK_MTU_TARGET]}
    if is_ip "$v"; then MTU_TARGET=$v; else refuse NETCHECK_MTU_TARGET 'must be an IPv4 or IPv6 address'; fi
  fi

  if param_set NETCHECK_ICMP_BLOCKED; then
    case ${P[NETCHECK_ICMP_BLOCKED]} in
      SysctlRefused|SysctlForbidden) ICMP_BLOCKED=${P[NETCHECK_ICMP_BLOCKED]} ;;
      *) refuse NETCHECK_ICMP_BLOCKED 'must be SysctlRefused or SysctlForbidden' ;;
    esac
  fi

  if param_set NETCHECK_SERVICE_IP; then
    v=${P[NETCHECK_SERVICE_IP]}
    if is_ip "$v"; then SERVICE_IP=$v; else refuse NETCHECK_SERVICE_IP 'must be an IPv4 or IPv6 address'; fi
  fi
  [[ -z $SERVICE_IP && -n $TARGET_IP ]] && SERVICE_IP=$TARGET_IP

  validate_capture

  (( INVALID )) && return 0

  # Cross-parameter requirements.
  if [[ -n $PROTOCOL && -z $HOST && -z $TARGET_IP ]]; then
    add_error "$E_MISSING" NETCHECK_HOST '' 'NETCHECK_HOST or NETCHECK_TARGET_IP is required'; INVALID=1
  fi
  if [[ $PROTOCOL == DNS ]] && ! { [[ -n $HOST ]] && ! is_ip "$HOST"; }; then
    add_error "$E_MISSING" NETCHECK_HOST '' 'protocol DNS needs a name in NETCHECK_HOST'; INVALID=1
  fi
  if [[ ( $PROTOCOL == TCP || $PROTOCOL == UDP ) && -z $PORT ]]; then
    add_error "$E_MISSING" NETCHECK_PORT '' "protocol $PROTOCOL needs NETCHECK_PORT"; INVALID=1
  fi
  [[ $PROTOCOL == HTTP && -z $PORT ]] && PORT=80
  [[ $PROTOCOL == HTTPS && -z $PORT ]] && PORT=443
  return 0
}

validate_flag() { # param variable
  param_set "$1" || return 0
  case ${P[$1]} in
    0|1) printf -v "$2" '%s' "${P[$1]}" ;;
    *) refuse "$1" 'must be 0 or 1' ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Probes. Each prints one JSON object on stdout (its section of the document).

# resolv.conf: nameservers, search list, ndots, timeout, attempts - as the C library reads it.
RESOLV_NS=() RESOLV_SEARCH=() RESOLV_NDOTS=1 RESOLV_TIMEOUT=5 RESOLV_ATTEMPTS=2 RESOLV_ERR=''
read_resolv_conf() {
  local file=/etc/resolv.conf key rest opt n domain
  if [[ ! -r $file ]]; then RESOLV_ERR='cannot read /etc/resolv.conf'; return 0; fi
  while read -r key rest; do
    case $key in
      nameserver)
        rest=${rest%%[[:space:]]*}
        is_ip "$rest" && (( ${#RESOLV_NS[@]} < MAX_NAMESERVERS )) && RESOLV_NS+=("$rest") ;;
      search|domain)
        RESOLV_SEARCH=()
        local -a domains
        read -r -a domains <<<"$rest"
        for domain in "${domains[@]}"; do
          is_hostname "$domain" && (( ${#RESOLV_SEARCH[@]} < MAX_SEARCH_DOMAINS )) && RESOLV_SEARCH+=("${domain%.}")
        done ;;
      options)
        local -a opts
        read -r -a opts <<<"$rest"
        for opt in "${opts[@]}"; do
          n=${opt#*:}
          [[ $n =~ ^[0-9]{1,3}$ ]] || continue
          case $opt in
            ndots:*) RESOLV_NDOTS=$(( 10#$n > 15 ? 15 : 10#$n )) ;;
            timeout:*) RESOLV_TIMEOUT=$(( 10#$n > 30 ? 30 : 10#$n )) ;;
            attempts:*) RESOLV_ATTEMPTS=$(( 10#$n > 5 ? 5 : 10#$n )) ;;
          esac
        done ;;
    esac
  done < "$file"
}

probe_resolv() {
  jq -cn --argjson ns "$(json_strings "${RESOLV_NS[@]}")" \
    --argjson search "$(json_strings "${RESOLV_SEARCH[@]}")" \
    --argjson ndots "$RESOLV_NDOTS" --argjson timeout "$RESOLV_TIMEOUT" \
    --argjson attempts "$RESOLV_ATTEMPTS" --arg err "$RESOLV_ERR" \
    '{ns: $ns, search: $search, ndots: $ndots, timeout: $timeout, attempts: $attempts}
     + (if $err != "" then {err: $err} else {} end)'
}

# One dig query to one server. Sets Q_STATUS (an rcode such as NOERROR, or timeout / unreachable /
# error), Q_ERR, Q_MS, Q_SERVER, Q_ADDRS (array), Q_CNAMES (array).
dig_query() { # server qname
  local server=$1 qname=$2 out rc line
  Q_STATUS=error Q_ERR='' Q_MS=0 Q_SERVER='' Q_ADDRS=() Q_CNAMES=()
  now_ms; local t0=$NOW_MS
  out=$(timeout -k 1 $((TIMEOUT_S + 2)) dig -r "@$server" +tries=1 +retry=0 "+time=$TIMEOUT_S" \
    +nosearch +noall +comments +answer +stats -q "$qname" -t "$DNS_TYPE" 2>&1)
  rc=$?
  now_ms; Q_MS=$(( NOW_MS - t0 ))
  if is_timeout_exit "$rc"; then Q_STATUS=timeout; Q_ERR='no reply'; return 0; fi
  while IFS= read -r line; do
    case $line in
      *'->>HEADER<<-'*'status: '*)
        Q_STATUS=${line#*status: }; Q_STATUS=${Q_STATUS%%,*} ;;
      ';; SERVER: '*)
        Q_SERVER=${line#';; SERVER: '}; Q_SERVER=${Q_SERVER%%#*}
        is_ip "$Q_SERVER" || Q_SERVER='' ;;
      ';; Query time: '*' msec')
        local qt=${line#';; Query time: '}; qt=${qt%' msec'}
        [[ $qt =~ ^[0-9]+$ ]] && Q_MS=$((10#$qt)) ;;
      ';;'*'timed out'*) Q_STATUS=timeout; Q_ERR='no reply' ;;
      ';;'*'connection refused'*) Q_STATUS=unreachable; Q_ERR='port unreachable (ICMP)' ;;
      ';;'*'host unreachable'*|';;'*'network unreachable'*) Q_STATUS=unreachable; Q_ERR=$(short_text "${line#;; }") ;;
      ';'*|'') ;;
      *)
        local -a f
        read -r -a f <<<"$line"
        if (( ${#f[@]} >= 5 )); then
          # Only well-formed values, and bounded lists: the server's answer is not trusted.
          case ${f[3]} in
            A|AAAA) is_ip "${f[4]}" && (( ${#Q_ADDRS[@]} < MAX_DNS_ANSWERS )) && Q_ADDRS+=("${f[4]}") ;;
            CNAME) is_hostname "${f[4]}" && (( ${#Q_CNAMES[@]} < MAX_DNS_CNAMES )) && Q_CNAMES+=("${f[4]%.}") ;;
          esac
        fi ;;
    esac
  done <<<"$out"
  [[ $Q_STATUS =~ ^[A-Z]{1,12}$ || $Q_STATUS == timeout || $Q_STATUS == unreachable ]] || Q_STATUS=error
  if [[ $Q_STATUS == error && -z $Q_ERR ]]; then Q_ERR=$(short_text "${out:-dig exited with $rc}"); fi
  return 0
}

# Looks the destination up the way the GNU C library's resolver does (res_nsearch):
#  - a name ending in "." is tried as is; one with at least ndots dots is tried as is first, then
#    with each search domain; a shorter one with each search domain first, then as is;
#  - each candidate goes to the nameservers in order, moving on after a timeout, an unreachable
#    server, SERVFAIL, REFUSED or NOTIMP (res_send);
#  - the search goes on after NXDOMAIN, NODATA (NOERROR without answers) and SERVFAIL, and stops at
#    the first answer, a timeout or any other error.
# "queries" counts every query sent, which is what search-path amplification costs.
probe_dns() {
  local name=$HOST
  if ! have dig; then
    jq -cn --arg name "$name" '{status: "error", name: $name, qname: null, rcode: null, answers: [],
      cnames: [], ms: 0, server: null, queries: 0, tries: [], err: "dig not found"}'
    return 0
  fi
  local -a candidates=() servers=("${RESOLV_NS[@]}")
  local candidate
  (( ${#servers[@]} == 0 )) && servers=(127.0.0.1)   # the C library's default
  local base=${name%.} domain dots
  dots=${base//[!.]/}
  if [[ $name == *. ]]; then candidates=("$name")
  elif (( ${#dots} >= RESOLV_NDOTS )); then
    candidates=("$base.")
    for domain in "${RESOLV_SEARCH[@]}"; do candidates+=("$base.$domain."); done
  else
    for domain in "${RESOLV_SEARCH[@]}"; do candidates+=("$base.$domain."); done
    candidates+=("$base.")
  fi

  # Like the C library, names that would be too long are not sent.
  local -a sendable=()
  for candidate in "${candidates[@]}"; do (( ${#candidate} <= MAX_DNAME )) && sendable+=("$candidate"); done
  candidates=("${sendable[@]}")

  local -a tries=() answers=() cnames=()
  local queries=0 total_ms=0 final_status='' final_rcode='' final_server='' final_qname='' final_err=''
  local got_nodata=0 got_servfail=0 server stop=0
  now_ms; local deadline=$(( NOW_MS + 2 * TIMEOUT_S * 1000 ))
  for candidate in "${candidates[@]}"; do
    now_ms
    if (( NOW_MS >= deadline )); then final_status=timeout; final_err='lookup budget exhausted'; break; fi
    for server in "${servers[@]}"; do
      dig_query "$server" "$candidate"
      queries=$(( queries + 1 ))
      total_ms=$(( total_ms + Q_MS ))
      case $Q_STATUS in NOERROR|NXDOMAIN) break ;; esac
    done
    tries+=("$(jq -cn --arg q "$candidate" --arg s "$Q_STATUS" --argjson ms "$Q_MS" --arg srv "${Q_SERVER:-$server}" \
      '{qname: $q, result: $s, ms: $ms, server: $srv}')")
    final_qname=$candidate final_server=${Q_SERVER} final_err=$Q_ERR
    case $Q_STATUS in
      NOERROR)
        if (( ${#Q_ADDRS[@]} > 0 )); then
          answers=("${Q_ADDRS[@]}"); cnames=("${Q_CNAMES[@]}"); final_status=ok; final_rcode=NOERROR; break
        fi
        got_nodata=1; final_rcode=NOERROR ;;
      NXDOMAIN) final_rcode=NXDOMAIN ;;
      SERVFAIL) got_servfail=1; final_rcode=SERVFAIL ;;
      timeout|unreachable|error) final_status=$Q_STATUS; final_rcode=''; stop=1 ;;
      *) final_status=$( [[ $Q_STATUS == REFUSED ]] && echo refused || echo error ); final_rcode=$Q_STATUS; stop=1 ;;
    esac
    (( stop )) && break
  done
  if [[ -z $final_status ]]; then
    if (( got_nodata )); then final_status=nodata; final_rcode=NOERROR
    elif (( got_servfail )); then final_status=servfail; final_rcode=SERVFAIL
    else final_status=nxdomain; final_rcode=NXDOMAIN; fi
  fi
  local tries_json
  tries_json=$(printf '%s\n' "${tries[@]}" | jq -cs '.')
  jq -cn --arg status "$final_status" --arg name "$name" --arg qname "$final_qname" \
    --arg rcode "$final_rcode" --argjson answers "$(json_strings "${answers[@]}")" \
    --argjson cnames "$(json_strings "${cnames[@]}")" --argjson ms "$total_ms" \
    --arg server "$final_server" --argjson queries "$queries" --argjson tries "$tries_json" \
    --arg err "$final_err" --arg type "$DNS_TYPE" \
    '{status: $status, name: $name, type: $type,
      qname: (if $qname == "" then null else $qname end),
      rcode: (if $rcode == "" then null else $rcode end),
      answers: $answers, cnames: $cnames, ms: $ms,
      server: (if $server == "" then null else $server end),
      queries: $queries, tries: $tries}
     + (if $err != "" and $status != "ok" then {err: $err} else {} end)'
}

# TCP connect through bash's /dev/tcp in a child bash (a constant program; address and port are
# positional parameters). The child times the connect itself, so process start-up is not counted.
# Sets C_STATUS, C_ERR, C_MS.
readonly CONNECT_PROGRAM='
  t0=${EPOCHREALTIME/./}
  : 3<>"/dev/tcp/$1/$2"
  rc=$?
  printf "\nelapsed_us=%s\n" "$(( ${EPOCHREALTIME/./} - t0 ))"
  exit "$rc"'
tcp_connect() { # ip port
  local out rc
  now_ms; local t0=$NOW_MS
  out=$(timeout -k 1 "$TIMEOUT_S" "$BASH" -c "$CONNECT_PROGRAM" "$PROBE_NAME" "$1" "$2" 2>&1)
  rc=$?
  now_ms; C_MS=$(( NOW_MS - t0 )); C_ERR=''
  elapsed_from "$out"
  if (( rc == 0 )); then C_STATUS=ok
  elif is_timeout_exit "$rc"; then C_STATUS=timeout; C_ERR='no answer to SYN'
  else classify_errno_text "$out"; C_STATUS=$CLASS_STATUS; C_ERR=$CLASS_ERR; fi
}

# Replaces C_MS with the child's own measurement when it printed one.
elapsed_from() { # output
  if [[ $1 =~ elapsed_us=([0-9]+) ]]; then C_MS=$(( BASH_REMATCH[1] / 1000 )); fi
}

# UDP: send a datagram on a connected socket and wait for any reply, up to 3 times. A connected UDP
# socket reports an ICMP port unreachable (and admin-prohibited) as ECONNREFUSED/EHOSTUNREACH on the
# next read; a host/net unreachable is not reported to UDP sockets by Linux and shows as noReply.
readonly UDP_PROGRAM='
  exec 3<>"/dev/udp/$1/$2" || exit 90
  t0=${EPOCHREALTIME/./}
  for ((i = 0; i < $3; i++)); do
    printf "%s\n" "$5" >&3 || exit 91
    IFS= read -r -t "$4" -N 1 _ <&3
    rc=$?
    if (( rc == 0 )); then
      printf "\nelapsed_us=%s\n" "$(( ${EPOCHREALTIME/./} - t0 ))"
      exit 0
    fi
    (( rc > 128 )) || exit 92   # >128: read timed out; otherwise a socket error (ICMP)
  done
  exit 93'
udp_exchange() { # ip port
  local out rc attempts=3 wait_ms wait_s
  wait_ms=$(( TIMEOUT_S * 1000 / attempts ))
  printf -v wait_s '%d.%03d' $(( wait_ms / 1000 )) $(( wait_ms % 1000 ))
  now_ms; local t0=$NOW_MS
  out=$(timeout -k 1 $(( TIMEOUT_S + 1 )) "$BASH" -c "$UDP_PROGRAM" \
    "$PROBE_NAME" "$1" "$2" "$attempts" "$wait_s" "$UDP_PAYLOAD" 2>&1)
  rc=$?
  now_ms; C_MS=$(( NOW_MS - t0 )); C_ERR=''
  elapsed_from "$out"
  case $rc in
    0) C_STATUS=ok ;;
    93|124|137|143) C_STATUS=noReply; C_ERR='no reply and no ICMP error' ;;
    *) classify_errno_text "$out"; C_STATUS=$CLASS_STATUS; C_ERR=$CLASS_ERR ;;
  esac
}

connect_once() { # transport ip port
  if [[ $1 == UDP ]]; then udp_exchange "$2" "$3"; else tcp_connect "$2" "$3"; fi
}

connect_json() { # transport ip port (uses C_*)
  jq -cn --arg proto "$1" --arg ip "$2" --argjson port "$3" --arg status "$C_STATUS" \
    --argjson ms "$C_MS" --arg err "$C_ERR" \
    '{proto: $proto, ip: $ip, port: $port, status: $status, ms: $ms}
     + (if $err != "" then {err: $err} else {} end)'
}

transport() { [[ $PROTOCOL == UDP ]] && echo UDP || echo TCP; }

probe_connect() { # ip
  local proto
  proto=$(transport)
  connect_once "$proto" "$1" "$PORT"
  connect_json "$proto" "$1" "$PORT"
}

# Every backend endpoint, at most ENDPOINT_CONCURRENCY at a time; results keep the input order.
probe_endpoints() {
  local proto dir i running=0
  proto=$(transport)
  dir=$(mktemp -d "$WORK/endpoints.XXXXXX")
  for i in "${!ENDPOINT_IPS[@]}"; do
    if (( running >= ENDPOINT_CONCURRENCY )); then wait -n; running=$(( running - 1 )); fi
    ( connect_once "$proto" "${ENDPOINT_IPS[i]}" "${ENDPOINT_PORTS[i]}"
      connect_json "$proto" "${ENDPOINT_IPS[i]}" "${ENDPOINT_PORTS[i]}" ) >"$dir/$i.json" &
    running=$(( running + 1 ))
  done
  wait
  local -a files=()
  for i in "${!ENDPOINT_IPS[@]}"; do files+=("$dir/$i.json"); done
  cat -- "${files[@]}" | jq -cs '{total: length, ok: (map(select(.status == "ok")) | length),
    items: map(del(.proto))}'
}

# The curl exit codes that mean the TLS handshake or the certificate failed.
readonly CURL_TLS_EXITS=' 35 51 53 54 58 59 60 64 66 77 80 82 83 90 91 98 '

probe_http() { # ip (may be empty: curl then resolves the name itself)
  local ip=$1 scheme url_host url out rc err_file
  scheme=$( [[ $PROTOCOL == HTTPS ]] && echo https || echo http )
  url_host=${HTTP_HOST:-${HOST:-$ip}}
  url_host=${url_host%.}
  is_ipv6 "$url_host" && url_host="[$url_host]"
  local url="$scheme://$url_host:$PORT$HTTP_PATH"
  if ! have curl; then
    jq -cn --arg url "$url" '{url: $url, status: "error", code: null, curlExit: null, ms: null, err: "curl not found"}'
    return 0
  fi
  # -v: curl 7.x only says "Couldn't connect to server" on exit 7; the verbose trace carries the
  # socket error ("connect to 10.0.0.1 port 80 failed: Connection refused").
  local -a args=(-q -sS -v -o /dev/null --noproxy '*' --max-time "$TIMEOUT_S" --connect-timeout "$TIMEOUT_S"
    --proto '=http,https' --max-redirs 0 --path-as-is
    -w '%{http_code} %{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}')
  if [[ -n $ip ]]; then
    local to_host=$ip
    is_ipv6 "$ip" && to_host="[$ip]"
    args+=(--connect-to "$url_host:$PORT:$to_host:$PORT")
  fi
  case $HTTP_METHOD in
    GET) ;;
    HEAD) args+=(--head) ;;
    *) args+=(-X "$HTTP_METHOD") ;;
  esac
  [[ $TLS_VERIFY == 0 ]] && args+=(-k)
  err_file="$WORK/curl.err"
  out=$(timeout -k 1 $(( TIMEOUT_S + 2 )) curl "${args[@]}" -- "$url" 2>"$err_file")
  rc=$?
  local err_text='' connect_error='' line
  while IFS= read -r line; do
    case $line in
      'curl: ('*) err_text=${line#curl: \(+([0-9])\) } ;;
      '* '*' failed: '*) connect_error=${line##* failed: } ;;
    esac
  done <"$err_file"
  local code=0 t_dns=0 t_connect=0 t_tls=0 t_ttfb=0 t_total=0 status rc_status=
  read -r code t_dns t_connect t_tls t_ttfb t_total <<<"$out"
  [[ $code =~ ^[0-9]{3}$ ]] || code=0
  code=$((10#$code))
  if (( code != 0 && ( code < 100 || code > 599 ) )); then
    err_text="invalid HTTP status code $code"; code=0; rc_status=protocolError
  fi
  if [[ -n ${rc_status:-} ]]; then status=$rc_status
  elif (( rc == 0 )); then
    if http_code_expected "$code"; then status=ok; else status=unexpectedStatus; fi
  elif is_timeout_exit "$rc" || (( rc == 28 )); then status=timeout
  elif [[ $CURL_TLS_EXITS == *" $rc "* ]]; then status=tlsError
  elif (( rc == 6 )); then status=dnsError
  elif (( rc == 7 )); then
    classify_errno_text "${connect_error:-$err_text}"
    status=$CLASS_STATUS
    [[ -n $connect_error ]] && err_text="connect failed: $connect_error"
    [[ $status == error && $err_text == *'Timeout'* ]] && status=timeout
  elif (( rc == 8 || rc == 16 || rc == 18 || rc == 47 || rc == 52 || rc == 56 || rc == 92 )); then status=protocolError
  else status=error; fi
  jq -cn --arg url "${url:0:300}" --arg status "$status" --argjson code "$code" --argjson rc "$rc" \
    --arg t_dns "${t_dns:-0}" --arg t_connect "${t_connect:-0}" --arg t_tls "${t_tls:-0}" \
    --arg t_ttfb "${t_ttfb:-0}" --arg t_total "${t_total:-0}" --arg err "$(short_text "$err_text")" \
    --arg method "$HTTP_METHOD" \
    'def ms: (tonumber? // 0) * 1000 | round;
     {url: $url, method: $method, status: $status, code: (if $code == 0 then null else $code end), curlExit: $rc,
      ms: {dns: ($t_dns | ms), connect: ($t_connect | ms), tls: ($t_tls | ms),
           ttfb: ($t_ttfb | ms), total: ($t_total | ms)}}
     + (if $err != "" and $status != "ok" then {err: $err} else {} end)'
}

http_code_expected() { # code
  local -a items
  local item
  IFS=, read -r -a items <<<"$HTTP_EXPECTED"
  for item in "${items[@]}"; do
    if [[ $item == ?xx ]]; then (( $1 / 100 == ${item:0:1} )) && return 0
    else (( $1 == 10#$item )) && return 0; fi
  done
  return 1
}

# ICMP without privileges. ping opens an ICMP datagram socket, which needs no capability when one of
# the process's groups is in net.ipv4.ping_group_range, or else a raw socket (CAP_NET_RAW). Sets
# PING_BIN, or ICMP_UNAVAILABLE to the reason why neither is possible here.
PING_BIN='' ICMP_UNAVAILABLE=''
icmp_setup() {
  case $ICMP_BLOCKED in
    SysctlRefused) ICMP_UNAVAILABLE="ICMP unavailable: the cluster refused the probe pod's net.ipv4.ping_group_range sysctl, which unprivileged ping needs"; return 0 ;;
    SysctlForbidden) ICMP_UNAVAILABLE="ICMP unavailable: the kubelet refused the probe pod's net.ipv4.ping_group_range sysctl (SysctlForbidden), which unprivileged ping needs"; return 0 ;;
  esac
  if ! have ping; then ICMP_UNAVAILABLE='ICMP unavailable: ping not found in the probe image'; return 0; fi
  if ! has_net_raw && ! in_ping_group_range; then
    local range
    range=$(tr -s '\t ' ' ' < /proc/sys/net/ipv4/ping_group_range 2>/dev/null)
    ICMP_UNAVAILABLE="ICMP unavailable: no CAP_NET_RAW, and no group of the probe ($(id -G 2>/dev/null)) is in net.ipv4.ping_group_range (${range:-unreadable})"
    return 0
  fi
  PING_BIN=$(command -v ping)
  # A ping with file capabilities (Debian sets cap_net_raw=ep on it) cannot even be executed in a
  # container whose bounding set lacks NET_RAW: execve fails with EPERM (exit 126). An ICMP socket
  # needs no capability, so run a copy of it, which carries none.
  "$PING_BIN" -V >/dev/null 2>&1
  (( $? == 126 )) || return 0
  if cp -- "$PING_BIN" "$WORK/ping" 2>/dev/null && "$WORK/ping" -V >/dev/null 2>&1; then PING_BIN=$WORK/ping
  else ICMP_UNAVAILABLE='ICMP unavailable: ping has file capabilities this container may not hold, and a copy of it cannot be executed here'; fi
}

has_net_raw() { # CAP_NET_RAW (bit 13) in this process's effective set
  local key value
  while read -r key value; do
    [[ $key == CapEff: && $value =~ ^[0-9a-f]{16}$ ]] && { (( (16#$value >> 13) & 1 )); return; }
  done < /proc/self/status
  return 1
}

in_ping_group_range() {
  local lo hi gid
  read -r lo hi < /proc/sys/net/ipv4/ping_group_range 2>/dev/null || return 1
  [[ $lo =~ ^[0-9]+$ && $hi =~ ^[0-9]+$ ]] || return 1
  for gid in $(id -G 2>/dev/null); do
    [[ $gid =~ ^[0-9]+$ ]] && (( gid >= lo && gid <= hi )) && return 0
  done
  return 1
}

# The section of a step that needs ICMP and cannot have it.
icmp_unavailable_json() { jq -cn --arg err "$ICMP_UNAVAILABLE" '{status: "skipped", err: $err}'; }

probe_icmp() { # ip
  local ip=$1 out rc
  if [[ -n $ICMP_UNAVAILABLE ]]; then icmp_unavailable_json; return 0; fi
  out=$(timeout -k 1 $(( TIMEOUT_S + 2 )) "$PING_BIN" -n -c "$PING_COUNT" -i 0.2 -W "$TIMEOUT_S" -w "$(( TIMEOUT_S + 1 ))" -- "$ip" 2>&1)
  rc=$?
  local sent=0 received=0 errors=0 loss=100 rmin='' ravg='' rmax='' line unreach='' err=''
  while IFS= read -r line; do
    case $line in
      *' packets transmitted, '*)
        [[ $line =~ ^([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]] && { sent=${BASH_REMATCH[1]}; received=${BASH_REMATCH[2]}; }
        [[ $line =~ \+([0-9]+)\ errors ]] && errors=${BASH_REMATCH[1]}
        [[ $line =~ ([0-9.]+)%\ packet\ loss ]] && loss=${BASH_REMATCH[1]} ;;
      'rtt '*|'round-trip '*)
        [[ $line =~ =\ ([0-9.]+)/([0-9.]+)/([0-9.]+) ]] && { rmin=${BASH_REMATCH[1]}; ravg=${BASH_REMATCH[2]}; rmax=${BASH_REMATCH[3]}; } ;;
      *'Unreachable'*|*'unreachable'*|*'Prohibited'*) [[ -z $unreach ]] && unreach=$(short_text "$line") ;;
      'ping: '*) [[ -z $err ]] && err=$(short_text "${line#ping: }") ;;
    esac
  done <<<"$out"
  local status
  if (( sent == 0 )); then status=error; err=${err:-"ping exited with $rc"}
  elif (( received == sent )); then status=ok
  elif (( received > 0 )); then status=partialLoss
  elif (( errors > 0 )) || [[ -n $unreach ]]; then status=unreachable; err=${unreach:-$err}
  else status=loss; fi
  jq -cn --arg ip "$ip" --arg status "$status" --argjson sent "$sent" --argjson received "$received" \
    --arg loss "$loss" --arg rmin "$rmin" --arg ravg "$ravg" --arg rmax "$rmax" --arg err "$err" \
    '{ip: $ip, status: $status, sent: $sent, received: $received, lossPct: ($loss | tonumber),
      rtt: (if $ravg == "" then null else {min: ($rmin | tonumber), avg: ($ravg | tonumber), max: ($rmax | tonumber)} end)}
     + (if $err != "" and $status != "ok" then {err: $err} else {} end)'
}

# One DF ping of a whole packet size (IP header included). Sets DF_RESULT: ok | frag | lost | error,
# DF_MTU (the MTU a frag-needed / local "message too long" named), DF_ERR.
df_ping() { # ip packet_size header_bytes
  local payload=$(( $2 - $3 )) out rc
  DF_MTU=0 DF_ERR=''
  out=$(timeout -k 1 $(( MTU_PING_WAIT_S + 2 )) "$PING_BIN" -n -M "do" -c 1 -W "$MTU_PING_WAIT_S" -s "$payload" -- "$1" 2>&1)
  rc=$?
  MTU_PINGS=$(( MTU_PINGS + 1 ))
  if [[ $out =~ (mtu\ =\ |mtu=)([0-9]+) ]]; then DF_RESULT=frag; DF_MTU=${BASH_REMATCH[2]}
  elif [[ $out == *' bytes from '* ]]; then DF_RESULT=ok
  elif (( rc == 1 )) || is_timeout_exit "$rc"; then DF_RESULT=lost
  else
    DF_RESULT=error
    local line
    while IFS= read -r line; do [[ $line == 'ping: '* ]] && { DF_ERR=$(short_text "${line#ping: }"); break; }; done <<<"$out"
    DF_ERR=${DF_ERR:-"ping exited with $rc"}
  fi
}

# Local MTU of the interface the route to the target leaves by, and the path MTU found with DF
# pings: a frag-needed (or the kernel's cached PMTU from one) names it directly; packets that vanish
# silently above some size are a black hole, located by bisection.
probe_mtu() { # ip
  local ip=$1 iface='' local_mtu=0 header=28 line
  if [[ -n $ICMP_UNAVAILABLE ]]; then icmp_unavailable_json; return 0; fi
  MTU_PINGS=0
  is_ipv6 "$ip" && header=48
  local route
  route=$(timeout 3 ip -o route get "$ip" 2>&1 | head -n 1)   # validated IP; ip(8) takes no "--" here
  [[ $route =~ \ dev\ ([^ ]+) ]] && iface=${BASH_REMATCH[1]}
  if [[ -n $iface ]]; then
    line=$(timeout 3 ip -o link show dev "$iface" 2>/dev/null)
    [[ $line =~ \ mtu\ ([0-9]+) ]] && local_mtu=${BASH_REMATCH[1]}
  fi
  local status='' path=0 largest_ok=0 smallest_lost=0 frag_seen=0 err=''
  now_ms; local deadline=$(( NOW_MS + MTU_PROBE_BUDGET_S * 1000 ))
  if (( local_mtu == 0 )); then status=error; err=$(short_text "no route to the target: $route")
  else
    df_ping "$ip" "$MTU_SMALL_PACKET" "$header"
    if [[ $DF_RESULT != ok ]]; then
      status=$( [[ $DF_RESULT == error ]] && echo error || echo unreachable )
      err=${DF_ERR:-'no reply to a small DF ping: the path MTU cannot be measured'}
    else
      largest_ok=$MTU_SMALL_PACKET
      local size=$local_mtu guard=0
      # Walk down frag-needed hints (a path can have several lowered hops).
      while (( guard++ < 5 )); do
        df_ping "$ip" "$size" "$header"
        case $DF_RESULT in
          ok) largest_ok=$size; break ;;
          frag)
            frag_seen=1
            if (( DF_MTU > 0 && DF_MTU < size && DF_MTU >= MTU_SMALL_PACKET )); then size=$DF_MTU
            else smallest_lost=$size; break; fi ;;
          *) smallest_lost=$size; break ;;
        esac
      done
      if (( smallest_lost > 0 )); then
        # Bisection between the largest size that passed and the smallest that vanished.
        local lo=$largest_ok hi=$smallest_lost mid
        while (( hi - lo > 1 )); do
          now_ms
          if (( NOW_MS >= deadline )); then err="budget of ${MTU_PROBE_BUDGET_S}s used up: path MTU between $lo and $hi"; break; fi
          mid=$(( (lo + hi) / 2 ))
          df_ping "$ip" "$mid" "$header"
          case $DF_RESULT in
            ok) lo=$mid ;;
            frag) frag_seen=1; hi=$mid ;;
            *) hi=$mid ;;
          esac
        done
        largest_ok=$lo smallest_lost=$hi
      fi
      path=$largest_ok
      if (( smallest_lost == 0 && largest_ok == local_mtu && frag_seen == 0 )); then status=ok
      elif (( smallest_lost == 0 )); then status=fragNeeded
      else status=blackhole; fi
    fi
  fi
  jq -cn --arg ip "$ip" --arg iface "$iface" --argjson local "$local_mtu" --argjson path "$path" \
    --arg status "$status" --argjson frag "$frag_seen" --argjson ok "$largest_ok" \
    --argjson lost "$smallest_lost" --argjson pings "$MTU_PINGS" --arg err "$err" \
    'def nz: if . == 0 then null else . end;
     {ip: $ip, status: $status, iface: (if $iface == "" then null else $iface end),
      local: ($local | nz), path: ($path | nz), fragNeeded: ($frag == 1),
      largestOk: ($ok | nz), smallestLost: ($lost | nz), pings: $pings}
     + (if $err != "" then {err: $err} else {} end)'
}

read_int_file() { # path -> prints the integer or "null"
  local v=''
  [[ -r $1 ]] && read -r v < "$1" 2>/dev/null
  if [[ $v =~ ^[0-9]{1,15}$ ]]; then echo "$((10#$v))"; else echo null; fi
}

# Node vantage point: forwarding, bridge netfilter, conntrack fill, kube-proxy mode and the
# Service's rules. Runs only the fixed commands below.
probe_node() {
  local ip_forward bridge ct_count ct_max
  ip_forward=$(read_int_file /proc/sys/net/ipv4/ip_forward)
  bridge=$(read_int_file /proc/sys/net/bridge/bridge-nf-call-iptables)
  ct_count=$(read_int_file /proc/sys/net/netfilter/nf_conntrack_count)
  ct_max=$(read_int_file /proc/sys/net/netfilter/nf_conntrack_max)

  local nat='' filter='' save err='' tool
  for tool in iptables-save iptables-legacy-save; do
    have "$tool" || continue
    if save=$(timeout 5 "$tool" -t nat 2>&1); then
      if [[ -z $nat || $save == *':KUBE-SERVICES '* ]]; then nat=$save; filter=$(timeout 5 "$tool" -t filter 2>/dev/null); fi
      [[ $nat == *':KUBE-SERVICES '* ]] && break
    else err=$(short_text "$tool: $save"); fi
  done
  [[ -n $nat ]] && err=''

  local mode
  # Not grep -q: with pipefail, an early grep exit could fail ipvsadm with SIGPIPE.
  # shellcheck disable=SC2143
  if { have ipvsadm && [[ -n $(timeout 5 ipvsadm -Ln 2>/dev/null | grep -m 1 -E '^(TCP|UDP|SCTP) ') ]]; } \
      || ip -o link show dev kube-ipvs0 >/dev/null 2>&1; then mode=ipvs
  elif [[ $nat == *':KUBE-SERVICES '* ]]; then mode=iptables
  elif have nft && timeout 5 nft list table ip kube-proxy >/dev/null 2>&1; then mode=nftables
  elif [[ -z $nat && -n $err ]]; then mode=unknown
  else mode=none; fi

  local svc_json=null
  if [[ -n $SERVICE_IP ]]; then
    local suffix=/32
    is_ipv6 "$SERVICE_IP" && suffix=/128
    local needle="-d $SERVICE_IP$suffix "
    local -a rules chains
    mapfile -t rules < <(grep -F -- "$needle" <<<"$nat")
    mapfile -t chains < <(printf '%s\n' "${rules[@]}" | grep -oE -- '-j KUBE-(SVC|SVL|EXT|FW|XLB)-[A-Z0-9]{1,30}' | sed 's/^-j //' | sort -u)
    local endpoints=0 chain
    for chain in "${chains[@]}"; do
      [[ $chain == KUBE-SVC-* || $chain == KUBE-SVL-* ]] || continue
      endpoints=$(( endpoints + $(grep -cE -- "^-A $chain .*-j KUBE-SEP-" <<<"$nat") ))
    done
    local rejects
    rejects=$(grep -F -- "$needle" <<<"$filter" | grep -cE -- '-j (REJECT|DROP)')
    (( ${#rules[@]} == 1 )) && [[ -z ${rules[0]} ]] && rules=()
    svc_json=$(jq -cn --arg ip "$SERVICE_IP" --argjson rules "${#rules[@]}" \
      --argjson chains "$(json_strings "${chains[@]}")" --argjson endpoints "$endpoints" \
      --argjson rejects "${rejects:-0}" \
      '{ip: $ip, rules: $rules, chains: $chains, endpoints: $endpoints, rejectRules: $rejects}')
  fi
  jq -cn --argjson fwd "$ip_forward" --argjson bridge "$bridge" --argjson count "$ct_count" \
    --argjson max "$ct_max" --arg mode "$mode" --argjson svc "$svc_json" --arg err "$err" \
    '{ipForward: $fwd, bridgeNfCallIptables: $bridge, conntrackCount: $count, conntrackMax: $max,
      proxyMode: $mode} + (if $svc != null then {svc: $svc} else {} end)
     + (if $err != "" then {err: $err} else {} end)'
}

# ---------------------------------------------------------------------------------------------
# Running the probes.

declare -A JOB_PIDS=()

start_probe() { # section function args...
  local section=$1; shift
  set -m   # own process group per probe, so the watchdog can stop a probe with all its children
  ( "$@" ) >"$WORK/$section.json" 2>"$WORK/$section.log" &
  JOB_PIDS[$section]=$!
  set +m
}

stop_probe_group() { kill -TERM -- "-$1" 2>/dev/null; }

first_address() { # section file -> first answer of the dns section
  jq -r '.answers[0] // empty' -- "$1" 2>/dev/null
}

run_probes() {
  local budget_s=$(( 5 * TIMEOUT_S + 20 )) dest_ip=''
  now_ms; local deadline=$(( NOW_MS + budget_s * 1000 ))

  read_resolv_conf
  start_probe resolv probe_resolv
  [[ $MODE == node ]] && start_probe node probe_node
  if [[ -n $PROTOCOL ]]; then
    (( ${#ENDPOINT_IPS[@]} > 0 )) && [[ $PROTOCOL != DNS && $PROTOCOL != ICMP ]] && start_probe endpoints probe_endpoints
    if [[ -n $HOST ]] && ! is_ip "$HOST"; then start_probe dns probe_dns; fi
    if [[ -n $TARGET_IP ]]; then dest_ip=$TARGET_IP
    elif [[ -n $HOST ]] && is_ip "$HOST"; then dest_ip=$HOST
    elif [[ $PROTOCOL != DNS ]]; then
      # The destination address comes from the DNS probe: wait for it (bounded by its own budget).
      local dns_pid=${JOB_PIDS[dns]}
      wait_until "$deadline" "$dns_pid"
      dest_ip=$(first_address "$WORK/dns.json")
    fi
    start_destination_probes "$dest_ip"
  fi

  # Watchdog: stop whatever still runs at the deadline.
  now_ms
  local remaining=$(( (deadline - NOW_MS + 999) / 1000 ))
  (( remaining < 1 )) && remaining=1
  local -a groups=("${JOB_PIDS[@]}")
  set -m
  ( sleep "$remaining"; for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done ) >/dev/null 2>&1 &
  local watchdog=$!
  set +m
  local section
  for section in "${!JOB_PIDS[@]}"; do wait "${JOB_PIDS[$section]}" 2>/dev/null; done
  stop_probe_group "$watchdog"
  wait "$watchdog" 2>/dev/null
  return 0
}

# Waits for one job, but not past the deadline (ms); a job still running then is stopped.
wait_until() { # deadline_ms pid
  while kill -0 "$2" 2>/dev/null; do
    now_ms
    if (( NOW_MS >= $1 )); then stop_probe_group "$2"; break; fi
    sleep 0.05
  done
  wait "$2" 2>/dev/null
  return 0
}

start_destination_probes() { # ip (empty when unknown)
  local ip=$1
  case $PROTOCOL in
    DNS) return 0 ;;
    TCP|UDP) start_probe connect skippable probe_connect "$ip" ;;
    HTTP|HTTPS)
      start_probe connect skippable probe_connect "$ip"
      start_probe http probe_http "$ip" ;;
  esac
  (( PING )) && start_probe icmp skippable probe_icmp "$ip"
  if (( MTU_CHECK )); then
    local mtu_ip=${MTU_TARGET:-$ip}
    start_probe mtu skippable probe_mtu "$mtu_ip"
  fi
}

# Runs a destination probe, or reports it skipped when no destination address is known.
skippable() { # function [args...] (last arg: ip)
  local ip=${*: -1}
  if [[ -z $ip ]]; then
    jq -cn '{status: "skipped", err: "no destination address (DNS lookup failed)"}'
    return 0
  fi
  "$@"
}

# ---------------------------------------------------------------------------------------------
# The document.

STARTED_AT='' T0_MS=0

target_json() {
  jq -cn --arg host "$HOST" --arg ip "$TARGET_IP" --arg port "$PORT" \
    '(if $host != "" then {host: $host} else {} end) + (if $ip != "" then {ip: $ip} else {} end)
     + (if $port != "" then {port: ($port | tonumber)} else {} end)'
}

errors_json() {
  if (( ${#ERRORS[@]} == 0 )); then echo '[]'; else printf '%s\n' "${ERRORS[@]:0:MAX_ERRORS}" | jq -cs '.'; fi
}

assemble_document() { # status
  local doc section file
  now_ms
  doc=$(jq -cn --argjson v "$SCHEMA_VERSION" --arg status "$1" --arg mode "$MODE" \
    --arg proto "$PROTOCOL" --argjson target "$(target_json)" --arg started "$STARTED_AT" \
    --argjson ms $(( NOW_MS - T0_MS )) \
    '{v: $v, status: $status, mode: (if $mode == "" then null else $mode end),
      proto: (if $proto == "" then null else $proto end), target: $target,
      startedAt: $started, ms: $ms, truncated: false}')
  if [[ $1 == "done" ]]; then
    for section in resolv dns connect http icmp endpoints mtu node; do
      [[ -n ${JOB_PIDS[$section]-} ]] || continue
      file="$WORK/$section.json"
      if [[ -s $file ]] && jq -e 'type == "object"' -- "$file" >/dev/null 2>&1; then
        doc=$(jq -c --arg k "$section" --slurpfile s "$file" '. + {($k): $s[0]}' <<<"$doc")
      else
        local log=''
        [[ -s $WORK/$section.log ]] && log=$(short_text "$(<"$WORK/$section.log")")
        if [[ -z $log ]]; then add_error "$E_PROBE_TIMEOUT" '' "$section" 'probe stopped at the run deadline'
        else add_error "$E_PROBE_FAILED" '' "$section" "$log"; fi
      fi
    done
  fi
  if [[ $1 == "done" ]] && (( ${#CAPTURE_ARGS[@]} )); then
    doc=$(jq -c --argjson c "$(capture_json)" '. + {capture: $c}' <<<"$doc")
  fi
  jq -c --argjson errors "$(errors_json)" '. + {errors: $errors}' <<<"$doc"
}

# Shrinks the document until it fits in RESULT_MAX_BYTES. Steps only shorten lists and free text
# (failed endpoints are kept in preference to healthy ones) and drop optional detail, so every step
# still satisfies the schema; required fields are short and bounded, so the third step always fits.
readonly SHRINK_DEFS='
  def cut(p; n): if getpath(p) != null then setpath(p; getpath(p)[:n]) else . end;
  def errs(n): walk(if type == "object" and (.err | type) == "string" then .err |= .[:n] else . end);
  def dropErrs: walk(if type == "object" and (.err | type) == "string" then del(.err) else . end);
  def failedFirst: if .endpoints != null
    then .endpoints.items |= (map(select(.status != "ok")) + map(select(.status == "ok"))) else . end;'
readonly -a SHRINK_STEPS=(
  'failedFirst | cut(["endpoints","items"]; 32) | cut(["dns","answers"]; 8) | cut(["dns","cnames"]; 4)
   | cut(["dns","tries"]; 4) | cut(["node","svc","chains"]; 4) | cut(["errors"]; 8)'
  'cut(["endpoints","items"]; 12) | cut(["dns","answers"]; 3) | cut(["dns","cnames"]; 1)
   | cut(["dns","tries"]; 2) | cut(["resolv","search"]; 3) | .errors |= map(.msg |= .[:60]) | cut(["errors"]; 4)
   | errs(60)'
  'cut(["endpoints","items"]; 0) | cut(["dns","answers"]; 1) | cut(["dns","cnames"]; 0)
   | cut(["dns","tries"]; 0) | cut(["node","svc","chains"]; 0) | cut(["resolv","search"]; 0)
   | (if .http != null then del(.http.url) else . end) | .errors |= map(.msg |= .[:20]) | cut(["errors"]; 2)
   | dropErrs'
)

fit_document() { # doc -> prints the doc that fits (C locale: ${#} counts bytes)
  local doc=$1 step
  if (( ${#doc} <= RESULT_MAX_BYTES )); then printf '%s' "$doc"; return 0; fi
  doc=$(jq -c '.truncated = true' <<<"$doc")
  for step in "${SHRINK_STEPS[@]}"; do
    doc=$(jq -c "$SHRINK_DEFS $step" <<<"$doc")
    if (( ${#doc} <= RESULT_MAX_BYTES )); then printf '%s' "$doc"; return 0; fi
  done
  # Not reachable with bounded fields; kept so that an oversized document can never be written.
  jq -c '{v, status, mode, proto, target: {}, startedAt, ms, truncated: true, errors: []}' <<<"$doc"
}

write_result() { # doc
  local fitted
  fitted=$(fit_document "$1")
  printf '%s\n' "$1"   # the full document, for the pod log
  if (( ! RESULT_FILE_OK )); then
    echo "$PROBE_NAME: result file refused; the document is only on stdout" >&2
    return 0
  fi
  if ! printf '%s' "$fitted" > "$RESULT_FILE"; then
    echo "$PROBE_NAME: cannot write the result to $RESULT_FILE" >&2
    return 1
  fi
}

main() {
  if ! have jq; then
    echo "$PROBE_NAME: jq is required but not found; no result written" >&2
    exit 1
  fi
  printf -v STARTED_AT '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  now_ms; T0_MS=$NOW_MS
  # Probes hand their results over in files: a writable TMPDIR, /tmp or /dev/shm is needed (with
  # readOnlyRootFilesystem, mount an emptyDir on /tmp).
  local dir
  WORK=''
  for dir in "${TMPDIR:-/tmp}" /tmp /dev/shm; do
    WORK=$(mktemp -d "$dir/netcheck-probe.XXXXXX" 2>/dev/null) && break
    WORK=''
  done
  [[ -n $WORK ]] || { echo "$PROBE_NAME: no writable temporary directory (TMPDIR, /tmp, /dev/shm)" >&2; exit 1; }
  trap 'rm -rf -- "$WORK"' EXIT

  load_parameters
  validate_parameters
  if (( INVALID )); then
    write_result "$(assemble_document invalidInput)" || exit 1
    exit 2
  fi
  local tool
  for tool in timeout ip; do have "$tool" || add_error "$E_TOOL" '' '' "$tool not found"; done
  (( PING || MTU_CHECK )) && icmp_setup
  capture_start
  run_probes
  capture_stop
  write_result "$(assemble_document "done")" || exit 1
  capture_emit
  exit 0
}

main "$@"
