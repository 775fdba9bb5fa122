#!/usr/bin/env bash
# Whether `hutch trace` (Hutchinson, 2 probes, 2 per call) gives the same bits at 1 and 2 threads:
# the sha256 of sensitivity.json for each build and thread count.
# Usage: Benchmarks/run_thread_bits.sh MODEL.onnx DATA.npz HUTCH [HUTCH ...]   Record with record.sh.
set -euo pipefail
model=$1 data=$2
shift 2
work=$(mktemp -d /tmp/hutch-threads.XXXXXX)
trap 'rm -rf "$work"' EXIT
for bin in "$@"; do
    for t in 1 2; do
        "$bin" trace --model "$model" --data "$data" --method hutchinson --probes 2 --probes-per-call 2 --bits none \
            --threads "$t" --out "$work/out.json" > /dev/null 2>&1
        echo "$bin --threads $t: $(sha256sum < "$work/out.json" | cut -c1-16)"
    done
done
