#!/usr/bin/env bash
# RouterFloodSoakTests RUNS times for SECONDS each: eight peers flood a coordinator and never
# read. Prints one line per run, "ABORT" when the test process died (libzmq's assertion with ZMTP
# heartbeats on). Raw output of the README's 2-of-40 vs 0-of-40: Benchmarks/results/flood.txt.
#   Benchmarks/run_flood.sh [RUNS] [SECONDS]      (default 40 runs of 3 s)
set -uo pipefail
cd "$(dirname "$0")/.."
swift build -c release -Xswiftc -enable-testing --build-tests >/dev/null || exit 1
LOG=$(mktemp); trap 'rm -f "$LOG"' EXIT
for i in $(seq 1 "${1:-40}"); do
  HUTCH_FLOOD=${2:-3} .build/release/HutchPackageTests.xctest HutchClusterTests.RouterFloodSoakTests > "$LOG" 2>&1; rc=$?
  if grep -q "Assertion" "$LOG" || [ $rc -ne 0 ]; then echo "$i ABORT rc=$rc $(grep -m1 Assertion "$LOG")"; else echo "$i ok"; fi
done
