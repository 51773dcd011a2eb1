#!/usr/bin/env bash
# Installs Brixia as a service on Debian 12: release binary, the shipped model, man pages and shell
# completions generated from the command-line definitions, a hardened systemd unit, the `brixia` system
# user, its state folders and /etc/brixia/brixia.conf (never overwritten). Then checks the configuration.
#
#   sudo scripts/install.sh                      # build, install under /usr/local, create user and folders
#   scripts/install.sh --destdir /tmp/stage      # stage the files only (no user, folders or systemctl)
#
# Options: --prefix DIR (default /usr/local), --destdir DIR (staging root for packaging),
#          --binary FILE (install this already-built brixia instead of building a release),
#          --no-user (do not create the user and state folders), --help.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

PREFIX=/usr/local
DESTDIR=""
BINARY=""
MAKE_USER=1
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --destdir) DESTDIR=${2:?--destdir needs a folder}; MAKE_USER=0; shift 2 ;;
    --binary) BINARY=${2:?--binary needs a file}; shift 2 ;;
    --no-user) MAKE_USER=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$PREFIX" in /*) ;; *) echo "install.sh: --prefix must be an absolute path, got $PREFIX" >&2; exit 2 ;; esac
if [ -n "$DESTDIR" ]; then mkdir -p "$DESTDIR"; DESTDIR=$(cd "$DESTDIR" && pwd); fi
if [ "$MAKE_USER" = 1 ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: creating the brixia user and /var/lib/brixia needs root (run with sudo, or pass --destdir/--no-user)" >&2
  exit 2
fi

step() { echo "==> $*"; }

scripts/install-deps.sh

# --- binary and the man-page generator (swift-argument-parser's generate-manual, built from the package).
if [ -z "$BINARY" ]; then
  step "building release binary"
  swift build -c release --product brixia
  BINARY="$(swift build -c release --show-bin-path)/brixia"
  CONF=release
else
  [ -x "$BINARY" ] || { echo "install.sh: --binary $BINARY is not an executable file" >&2; exit 2; }
  CONF=debug
fi
GENMAN="$(dirname "$BINARY")/generate-manual"
if [ ! -x "$GENMAN" ]; then
  step "building the man-page generator"
  swift build -c "$CONF" --product generate-manual
  GENMAN="$(swift build -c "$CONF" --show-bin-path)/generate-manual"
fi

ROOT="$DESTDIR$PREFIX"
step "installing into $ROOT"
install -D -m 0755 "$BINARY" "$ROOT/bin/brixia"

# The default model: found by the binary at <prefix>/share/brixia/models (DefaultModel.swift).
MODELS="$ROOT/share/brixia/models"
rm -rf "$MODELS/bsnet-brixia-own"
install -d -m 0755 "$MODELS/bsnet-brixia-own"
install -m 0644 models/bsnet-brixia-own/* "$MODELS/bsnet-brixia-own/"
install -D -m 0644 LICENSE "$ROOT/share/doc/brixia/LICENSE"

step "man pages and shell completions"
MANDIR="$ROOT/share/man/man1"
install -d -m 0755 "$MANDIR"
"$GENMAN" "$ROOT/bin/brixia" --multi-page --section 1 --authors "Brixia authors" -o "$MANDIR"
chmod 0644 "$MANDIR"/*.1
"$ROOT/bin/brixia" --generate-completion-script bash | install -D -m 0644 /dev/stdin "$ROOT/share/bash-completion/completions/brixia"
"$ROOT/bin/brixia" --generate-completion-script zsh | install -D -m 0644 /dev/stdin "$ROOT/share/zsh/site-functions/_brixia"
"$ROOT/bin/brixia" --generate-completion-script fish | install -D -m 0644 /dev/stdin "$ROOT/share/fish/vendor_completions.d/brixia.fish"

step "systemd unit and configuration"
sed "s|@PREFIX@|$PREFIX|g" scripts/service/brixia.service | install -D -m 0644 /dev/stdin "$DESTDIR/etc/systemd/system/brixia.service"
CONFIG="$DESTDIR/etc/brixia/brixia.conf"
if [ -e "$CONFIG" ]; then
  echo "keeping the existing $CONFIG"
else
  install -D -m 0640 scripts/service/brixia.conf "$CONFIG"
fi

if [ "$MAKE_USER" = 1 ]; then
  step "brixia system user and state folders"
  if ! id brixia >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/brixia --no-create-home --shell /usr/sbin/nologin brixia
  fi
  install -d -o brixia -g brixia -m 0750 /var/lib/brixia
  for d in inbox outbox archive quarantine; do install -d -o brixia -g brixia -m 0750 "/var/lib/brixia/$d"; done
  chgrp brixia "$CONFIG"
  step "checking the configuration as the brixia user"
  runuser -u brixia -- "$ROOT/bin/brixia" config check "$CONFIG" || \
    echo "install.sh: fix the failed checks in $CONFIG before starting the service" >&2
  command -v systemctl >/dev/null && systemctl daemon-reload 2>/dev/null || true
fi

cat <<EOF

Installed. Next steps (docs/operations.md, "Install as a service"):
  edit $CONFIG           (model, scp_port/scp_allowed_callers, destination)
  brixia config check /etc/brixia/brixia.conf
  systemctl enable --now brixia
  journalctl -u brixia -f ; brixia status --config /etc/brixia/brixia.conf
EOF
