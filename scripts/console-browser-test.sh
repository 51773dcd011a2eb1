#!/usr/bin/env bash
# Headless Chromium on a running Brixia web console: logs in, loads the worklist and a patient page,
# asserts on the rendered DOM and saves screenshots. Run by CLITests.ConsoleCLITests (so by scripts/test.sh
# and .ci/run) against a real `brixia serve`; usable by hand too:
#
#   scripts/console-browser-test.sh http://127.0.0.1:8080 USER PASSWORD [SCREENSHOT_DIR]
#
# Needs Debian's chromium + chromium-driver (scripts/install-deps.sh) and Selenium from PyPI in a small
# cached venv ($BRIXIA_CONSOLE_VENV, default /var/cache/brixia-console-venv, else ~/.cache/...).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[ $# -ge 3 ] || { echo "usage: $0 BASE_URL USER PASSWORD [SCREENSHOT_DIR]" >&2; exit 2; }
for tool in chromium chromedriver; do
  command -v "$tool" >/dev/null || { echo "console browser test: $tool missing (scripts/install-deps.sh installs it)" >&2; exit 3; }
done
venv="${BRIXIA_CONSOLE_VENV:-/var/cache/brixia-console-venv}"
if ! mkdir -p "$(dirname "$venv")" 2>/dev/null || [ ! -w "$(dirname "$venv")" ]; then venv="$HOME/.cache/brixia-console-venv"; fi
# Pinned (selenium 4.27.1 and what it needs): newer selenium wants a certifi newer than PyPI may offer.
req="$here/console-browser-requirements.txt"
stamp="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.brixia-stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$stamp" > "$venv/.brixia-stamp"
fi
# Selenium must use the system chromium/chromedriver, never download a browser.
export SE_OFFLINE=true
exec "$venv/bin/python" "$here/console_browser_test.py" "$@"
