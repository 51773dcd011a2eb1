#!/usr/bin/env bash
# Starts a throw-away Orthanc on loopback for tests and manual checks; installs Debian `orthanc` if missing.
# Usage: scripts/orthanc-start.sh DIR DICOM_PORT HTTP_PORT [BRIXIA_AE BRIXIA_PORT] [PACS_AE]
#   DIR         working folder (config, database, log, pid file); created if missing
#   BRIXIA_*    the modality entry "brixia" Orthanc pushes to (default BRIXIA, 11112)
#   ORTHANC_LUA (environment) optional Lua script, e.g. a ReceivedInstanceFilter to make Orthanc refuse objects
# Prints the PID; writes DIR/orthanc.pid. Waits (bounded, 30 s) until both ports answer. Stop with orthanc-stop.sh DIR.
set -euo pipefail
dir=${1:?usage: orthanc-start.sh DIR DICOM_PORT HTTP_PORT [BRIXIA_AE BRIXIA_PORT] [PACS_AE]}
dicom_port=${2:?DICOM port}
http_port=${3:?HTTP port}
brixia_ae=${4:-BRIXIA}
brixia_port=${5:-11112}
pacs_ae=${6:-PACSTEST}

bin=$(command -v Orthanc || true)
if [ -z "$bin" ]; then
  echo "orthanc-start: installing Debian package orthanc" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends orthanc >&2
  bin=$(command -v Orthanc)
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
lua_json=""
[ -n "${ORTHANC_LUA:-}" ] && lua_json="\"$ORTHANC_LUA\""
if [ -f "$dir/orthanc.pid" ] && [ -n "$(ps -o stat= -p "$(cat "$dir/orthanc.pid")" 2>/dev/null | grep -v Z)" ]; then
  echo "orthanc-start: already running (pid $(cat "$dir/orthanc.pid"))" >&2; exit 1
fi
# Relative paths in the config resolve against its folder. No auth, HTTP on localhost only (RemoteAccessAllowed=false;
# Orthanc 1.10 has no DICOM bind-address option), a known modality "brixia" for pushes, and no compression of storage.
cat > "$dir/orthanc.json" <<JSON
{
  "Name": "BRIXIA-TEST-PACS",
  "StorageDirectory": "db", "IndexDirectory": "db",
  "HttpPort": $http_port, "DicomPort": $dicom_port, "DicomAet": "$pacs_ae",
  "DicomCheckCalledAet": true, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomAlwaysAllowStore": true, "DicomAlwaysAllowEcho": true,
  "DicomModalities": { "brixia": [ "$brixia_ae", "127.0.0.1", $brixia_port ] },
  "DicomScuTimeout": 10, "DicomAssociationCloseDelay": 0,
  "Plugins": [], "HttpTimeout": 10, "StableAge": 5,
  "LuaScripts": [ $lua_json ]
}
JSON
"$bin" --logdir="$dir" "$dir/orthanc.json" > "$dir/orthanc.out" 2>&1 &
pid=$!
echo "$pid" > "$dir/orthanc.pid"
for _ in $(seq 1 60); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "orthanc-start: Orthanc exited; log:" >&2; tail -20 "$dir/orthanc.out" >&2; rm -f "$dir/orthanc.pid"; exit 1
  fi
  if curl -fsS -m 2 "http://127.0.0.1:$http_port/system" >/dev/null 2>&1 && (exec 3<>"/dev/tcp/127.0.0.1/$dicom_port") 2>/dev/null; then
    echo "$pid"; exit 0
  fi
  sleep 0.5
done
echo "orthanc-start: Orthanc did not answer within 30 s" >&2
kill "$pid" 2>/dev/null || true; rm -f "$dir/orthanc.pid"; exit 1
