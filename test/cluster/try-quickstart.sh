#!/usr/bin/env bash
# Tries the README's quick start as a new user would, without a terminal: starts the run command
# (test/cluster/run-operator.sh) with no KUBECONFIG, waits for the two lines it prints for a second
# terminal, then runs the README's second-terminal commands in a clean shell that has only those two
# lines (no KUBECONFIG, no kubectl on PATH of its own), prints what they printed, and stops the operator.
# The local cluster must be reachable the way run-operator.sh reaches it (it reuses one that is up);
# on this machine run it under /work/tools/with-cluster. Exits non-zero when any step fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d)
operator=''
stop() {
  if [ -n "$operator" ] && kill -0 "$operator" 2>/dev/null; then
    kill -TERM "$operator"
    for _ in $(seq 1 30); do kill -0 "$operator" 2>/dev/null || break; sleep 1; done
  fi
  rm -rf "$work"
}
trap stop EXIT

echo "### first terminal: bash test/cluster/run-operator.sh (KUBECONFIG unset)"
env -u KUBECONFIG bash test/cluster/run-operator.sh >"$work/stdout" 2>"$work/stderr" &
operator=$!
for _ in $(seq 1 300); do
  grep -q '^export PATH=' "$work/stdout" 2>/dev/null && break
  kill -0 "$operator" 2>/dev/null || { cat "$work/stderr" "$work/stdout"; echo "run-operator.sh exited before printing the lines"; exit 1; }
  sleep 1
done
grep -q '^export PATH=' "$work/stdout" || { cat "$work/stderr"; echo "run-operator.sh printed no export lines within 300 s"; exit 1; }
grep -v '^{' "$work/stderr" | sed 's/^/  | /'
sed -n '1,/^# The operator/p' "$work/stdout" | sed 's/^/  | /'
grep '^export ' "$work/stdout" > "$work/second-terminal.sh"
# Which kubectl the printed PATH line gives (this machine may have another one in /usr/bin).
echo 'echo "\$ command -v kubectl"; command -v kubectl' >> "$work/second-terminal.sh"

# The README's second-terminal block: the first sh block after the "second terminal" sentence, with
# its example export lines replaced by the ones the run command printed.
awk '/in a second terminal/ { found = 1 } found && /^```sh/ { inside = 1; next } inside && /^```/ { exit } inside' README.md \
  | grep -v '^export ' | grep -v '^\s*$' > "$work/readme-commands"
[ -s "$work/readme-commands" ] || { echo "found no second-terminal commands in README.md"; exit 1; }
while IFS= read -r line; do
  printf 'echo %q\n%s\n' "\$ $line" "$line"
done < "$work/readme-commands" >> "$work/second-terminal.sh"

echo "### second terminal: the two printed lines, then the README's commands"
sed 's/^/  > /' "$work/second-terminal.sh" | grep -v '^  > echo '
env -i HOME="$HOME" PATH=/usr/bin:/bin TERM=dumb bash --noprofile --norc -e "$work/second-terminal.sh"
echo "### the operator logged $(cat "$work/stdout" "$work/stderr" | grep -c '^{' || true) JSON lines; stopping it"
