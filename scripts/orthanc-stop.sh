#!/usr/bin/env bash
# Stops the Orthanc started by orthanc-start.sh DIR, by its recorded PID (clean shutdown, then SIGKILL after 15 s).
set -euo pipefail
dir=${1:?usage: orthanc-stop.sh DIR}
pidfile="$dir/orthanc.pid"
[ -f "$pidfile" ] || { echo "orthanc-stop: no $pidfile" >&2; exit 0; }
pid=$(cat "$pidfile")
# A zombie (exited, not yet reaped: in containers PID 1 may never reap) counts as stopped.
alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [ -n "$s" ] && [ "${s:0:1}" != "Z" ]; }
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 30); do alive "$pid" || break; sleep 0.5; done
  if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
fi
rm -f "$pidfile"
