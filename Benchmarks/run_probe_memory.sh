#!/usr/bin/env bash
# Peak resident memory of a Hutchinson run at K probes per HVP call (K = 1, 4, 8, 16): ResNet-20
# (Benchmarks/models/resnet20.onnx), one batch of 128 CIFAR-shaped examples (random, seeded: the
# memory depends on the shapes only), `SensitivityBenchmark --only probes --per-call K --probes K`
# (one warm-up call and one timed call), peak RSS of the whole process from /usr/bin/time.
# Usage: Benchmarks/run_probe_memory.sh [THREADS]   (BIN=DIR: an existing release build's directory;
# needs python3 with numpy for the batch; outputs in .build/probe-memory/).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${1:-2}"
OUT=.build/probe-memory
mkdir -p "$OUT"
if [[ -z "${BIN:-}" ]]; then
    swift build -c release --product SensitivityBenchmark >&2
    BIN=.build/release
fi
python3 -c '
import sys, numpy as np
rng = np.random.default_rng(1)
np.savez(sys.argv[1], x=rng.standard_normal((128, 3, 32, 32), dtype=np.float32), y=rng.integers(0, 10, 128).astype(np.int64))
' "$OUT/batch128.npz"
echo "probes per call, peak RSS (MB), seconds per probe"
for k in 1 4 8 16; do
    /usr/bin/time -f '%M' -o "$OUT/rss-$k" "$BIN/SensitivityBenchmark" --model Benchmarks/models/resnet20.onnx \
        --data "$OUT/batch128.npz" --threads "$THREADS" --only probes --per-call "$k" --probes "$k" > "$OUT/out-$k"
    per_probe=$(sed -n 's/.*per HVP call: \([0-9.]*\) s\/probe.*/\1/p' "$OUT/out-$k")
    printf '%2d  %6.0f  %s\n' "$k" "$(echo "$(cat "$OUT/rss-$k") / 1024" | bc -l)" "$per_probe"
done
