#!/usr/bin/env bash
# The test suite: installs missing system packages, builds, runs every Swift test, then the training
# code's tests (PyTorch parity with the authors' Keras outputs, export parity with the Swift engine).
# Tests that need the reference data in ../shared skip with a message when it is absent.
# BRIXIA_SKIP_TRAINING_TESTS=1 runs the Swift tests only.
#   scripts/test.sh --extended   also runs the extended suite: the randomised SIGKILL-and-restart tests (seeded
#                                kill schedules against a real daemon, about 2 minutes); the deterministic
#                                crash-at-every-step tests are part of the normal run.
set -euo pipefail
for arg in "$@"; do
  case "$arg" in
    --extended) export BRIXIA_EXTENDED_TESTS=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
# The man-page generator scripts/install.sh uses (InstallCLITests stages an install with it).
swift build --product generate-manual
# Serial: several suites run real daemons and networks with time limits; on 2 shared cores, running
# every suite at once starves them.
swift test --skip-build --no-parallel
if [ "${BRIXIA_SKIP_TRAINING_TESTS:-0}" != "1" ]; then
  BRIXIA_BIN="$(swift build --show-bin-path)/brixia" .ci/training.sh
fi
