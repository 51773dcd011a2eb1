#!/usr/bin/env bash
# Stops the Orthanc started by orthanc-start.sh DIR, by its recorded PID (clean shutdown, then SIGKILL after 15 s).
set -euo pipefail
dir=${1:?usage: orthanc-stop.sh DIR}
pidfile="$dir/orthanc.pid"
[ -f "$pidfile" ] || { echo "orthanc-stop: no $pidfile" >&2; exit 0; }
pid=$(cat "$pidfile")
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
