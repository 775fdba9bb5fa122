#!/bin/sh
# Engine benchmark: PyTorch (2 threads) then Hutch (HUTCH_THREADS=2) back to back on the same
# ResNet-20; the Swift run prints ratios against the JSON the Python run writes just before.
set -e
cd "$(dirname "$0")/.."
PY=${PYTHON:-/root/hutch-venv/bin/python}
OUT=${1:-/tmp/engine_torch.json}
swift build -c release --product EngineBenchmark
cat /proc/loadavg
OMP_NUM_THREADS=2 "$PY" Benchmarks/reference/engine_torch.py time "$OUT"
HUTCH_THREADS=2 .build/release/EngineBenchmark Benchmarks/models/resnet20.onnx "$OUT"
cat /proc/loadavg
