#!/usr/bin/env bash
# Hutchinson under `--memory` (issue 16): per MODEL and GB, one `SensitivityBenchmark --only probes
# --per-call 4 --probes 8 --threads 2 --memory GB` (joint mode, one batch; one warm-up call and
# two timed calls of 4 probes), run alone, under /usr/bin/time: the chunk plan it chose, wall and
# CPU seconds per probe, and the whole process's peak RSS, user and system seconds.
# Usage: Benchmarks/run_probe_memory_budget.sh NAME:BATCH:GB[,GB...] ...   e.g. resnet50:32:24,5
#   models and data from EXPORT_DIR (default /tmp/hutch-probe: NAME.onnx, NAME_bBATCH.npz, made by
#   run_imagenet_probe.sh); BIN=DIR: an existing release build's directory.
set -euo pipefail
cd "$(dirname "$0")/.."
EXPORT_DIR="${EXPORT_DIR:-/tmp/hutch-probe}"
if [[ -z "${BIN:-}" ]]; then
    swift build -c release --product SensitivityBenchmark >&2
    BIN=.build/release
fi
[[ $# -ge 1 ]] || { echo "usage: $0 NAME:BATCH:GB[,GB...] ..." >&2; exit 2; }
for spec in "$@"; do
    IFS=: read -r name batch gbs <<< "$spec"
    for gb in ${gbs//,/ }; do
        echo "== $name batch $batch, --memory $gb"
        /usr/bin/time -f "process: %U s user, %S s system, %e s wall, peak RSS %M KB, %R minor page faults" \
            "$BIN/SensitivityBenchmark" --model "$EXPORT_DIR/$name.onnx" --data "$EXPORT_DIR/${name}_b$batch.npz" \
            --threads 2 --only probes --per-call 4 --probes 8 --memory "$gb" 2>&1
    done
done
