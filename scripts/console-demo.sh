#!/usr/bin/env bash
# Opens the web console on the demo's data: after `scripts/demo.sh` (which prints this command), serves
# its work folder with the console on http://127.0.0.1:PORT and a one-off operator account.
#
#   scripts/console-demo.sh WORK_FOLDER [PORT]      # PORT default 8080; Ctrl-C stops it
#   BRIXIA_BIN=.build/debug/brixia scripts/console-demo.sh WORK_FOLDER
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:?usage: scripts/console-demo.sh WORK_FOLDER_OF_scripts/demo.sh [PORT]}"
port="${2:-8080}"
work="$(cd "$work" && pwd)"
[ -f "$work/brixia.sqlite" ] || { echo "$work has no brixia.sqlite: run scripts/demo.sh first" >&2; exit 1; }
# The release binary demo.sh built (BRIXIA_BIN overrides, e.g. a debug build).
bin="${BRIXIA_BIN:-$(cd "$repo" && swift build -c release --show-bin-path)/brixia}"
if [ ! -x "$bin" ]; then
  (cd "$repo" && swift build -c release --product brixia 2>&1 | grep -E "error|Build complete" || true)
fi
conf="$work/console-demo.conf"
{
  echo "work_dir = $work"
  # The model demo.sh used: its imported reference weights when it made them, else the shipped default.
  [ -f "$work/model-reference-NOT-TRAINED/model.json" ] && echo "model = $work/model-reference-NOT-TRAINED"
  echo "http_port = $port"
  echo "http_address = 127.0.0.1"
  echo "http_users_file = $work/console-users.json"
} > "$conf"
password="demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$password" | "$bin" user add demo --role operator --users-file "$work/console-users.json" >/dev/null
cat <<MSG
== Brixia web console on the demo's data
   open   http://127.0.0.1:$port/
   user   demo
   pass   $password
   (AI-generated, not verified by a physician, not for diagnostic use.  Ctrl-C stops the server.)
MSG
exec "$bin" serve --config "$conf" --log-level warning
