#!/bin/sh
# Engine benchmark: PyTorch (2 threads) then Hutch (HUTCH_THREADS=2) back to back on the same
# ResNet-20; the Swift runs print ratios against the JSON the Python run writes just before.
# BASELINE=1 adds a Hutch run with the Winograd and transposed-data-gradient paths off.
set -e
cd "$(dirname "$0")/.."
PY=${PYTHON:-/root/hutch-venv/bin/python}
OUT=${1:-/tmp/engine_torch.json}
swift build -c release --product EngineBenchmark
echo "load before: $(cat /proc/loadavg)"
OMP_NUM_THREADS=2 "$PY" Benchmarks/reference/engine_torch.py time "$OUT"
if [ "${BASELINE:-0}" = 1 ]; then
    echo "== Hutch, im2col only (HUTCH_WINOGRAD=0 HUTCH_CONV_TRANSPOSE=0)"
    HUTCH_WINOGRAD=0 HUTCH_CONV_TRANSPOSE=0 HUTCH_THREADS=2 .build/release/EngineBenchmark Benchmarks/models/resnet20.onnx "$OUT"
fi
echo "== Hutch"
HUTCH_THREADS=2 .build/release/EngineBenchmark Benchmarks/models/resnet20.onnx "$OUT"
echo "load after: $(cat /proc/loadavg)"
