#!/usr/bin/env bash
# A Hutchinson chunk's bytes by role at its peak (HUTCH_MEMORY_ROLES=1) and the process's peak RSS,
# for each SensitivityBenchmark build given, one run after another (never two at once): 4 probes
# per call, 2 threads, one warm-up call and one timed call.
# Usage: Benchmarks/run_probe_roles.sh MODEL.onnx DATA.npz BIN [BIN...]   (record with record.sh)
set -euo pipefail
model=$1 data=$2; shift 2
for bin in "$@"; do
    echo "## $bin"
    HUTCH_MEMORY_ROLES=1 /usr/bin/time -f "process: %U s user, %S s system, peak RSS %M KB, %R minor page faults" \
        "$bin" --model "$model" --data "$data" --threads 2 --only probes --per-call 4 --probes 4 2>&1 |
        grep -E "memory roles|per HVP call|^process:"
done
