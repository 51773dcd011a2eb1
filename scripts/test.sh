#!/usr/bin/env bash
# The test suite: installs missing system packages, builds, runs every test.
# Tests that need the reference data in ../shared skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build
