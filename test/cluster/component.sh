#!/usr/bin/env bash
# Starts, stops or reports one component of the running local cluster, with the launcher up.sh wrote.
# Used by fault injection in the e2e helpers (e.g. stopping kube-proxy, then restoring it).
# Usage: component.sh start|stop|status NAME   (NAME: one of COMPONENTS in lib.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ $# -eq 2 ] || die "usage: component.sh start|stop|status NAME"
action=$1 name=$2
case " ${COMPONENTS[*]} " in *" $name "*) ;; *) die "unknown component $name (known: ${COMPONENTS[*]})" ;; esac
case $action in
  start) start_component "$name"; echo "$name running, pid $(pid_of "$name")" ;;
  stop) stop_component "$name"; echo "$name stopped" ;;
  status) pid=$(pid_of "$name"); if [ -n "$pid" ]; then echo "$name running, pid $pid"; else echo "$name stopped"; exit 3; fi ;;
  *) die "unknown action $action" ;;
esac
