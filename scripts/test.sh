#!/usr/bin/env bash
# The test suite: installs missing system packages, builds, runs every Swift test and the training code's tests
# (PyTorch parity with the authors' Keras outputs, export parity with the Swift engine).
# Tests that need the reference data in ../shared skip with a message when it is absent.
# BRIXIA_SKIP_TRAINING_TESTS=1 runs the Swift tests only.
#   scripts/test.sh --extended   also runs the extended suite: the randomised SIGKILL-and-restart tests (seeded
#                                kill schedules against a real daemon, about 2 minutes); the deterministic
#                                crash-at-every-step tests are part of the normal run.
# A single suite: `swift test --skip-build --no-parallel --filter <SuiteName>` after a build.
set -euo pipefail
for arg in "$@"; do
  case "$arg" in
    --extended) export BRIXIA_EXTENDED_TESTS=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
# The man-page generator scripts/install.sh uses (InstallCLITests stages an install with it).
swift build --product generate-manual
bin="$(swift build --show-bin-path)"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# Two jobs at once, each serial inside (several suites run real daemons and networks with time limits; on 2
# shared cores, every suite at once would starve them): the command-line suites, which mostly wait for the child
# processes they start (brixia, Orthanc), followed by the training tests; and every other Swift suite. The Swift
# tests run straight from the test bundle (swift-testing), because two `swift test` processes would wait for each
# other's lock on .build. Each part's output is printed whole when the jobs are done.
swift_tests() { NO_COLOR=1 "$bin/BrixiaPackageTests.xctest" --testing-library swift-testing --no-parallel "$@"; }
run_part() { local name=$1; shift; local rc=0; "$@" > "$logs/$name.log" 2>&1 || rc=$?; echo "$rc" > "$logs/$name.rc"; }
parts=(swift-cli swift-other)
(
  run_part swift-cli swift_tests --filter '^CLITests\.'
  if [ "${BRIXIA_SKIP_TRAINING_TESTS:-0}" != "1" ]; then
    run_part training env BRIXIA_BIN="$bin/brixia" .ci/training.sh
  fi
) &
run_part swift-other swift_tests --skip '^CLITests\.' &
wait
[ "${BRIXIA_SKIP_TRAINING_TESTS:-0}" != "1" ] && parts+=(training)

failed=()
for name in "${parts[@]}"; do
  status="$(cat "$logs/$name.rc" 2>/dev/null || echo missing)"
  echo "=== $name: exit $status"
  cat "$logs/$name.log" 2>/dev/null || true
  [ "$status" = "0" ] || failed+=("$name (exit $status)")
done
echo "=== summary"
grep -h -E "Test run with .* (passed|failed)|^[0-9]+ (passed|failed)" "$logs"/*.log || true
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all tests passed"
