#!/usr/bin/env bash
# Sensitivity benchmark (issue 3): PyTorch double-backprop reference, then Hutch on the same ResNet-20
# ONNX and 128-example batch with the same thread count. Usage: Benchmarks/run_sensitivity.sh [THREADS]
# (PYTHON defaults to /root/hutch-venv/bin/python; outputs go to .build/sensitivity-bench/;
# BIN=DIR runs DIR/SensitivityBenchmark from an existing release build instead of building it).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${1:-2}"
PYTHON="${PYTHON:-/root/hutch-venv/bin/python}"
OUT=.build/sensitivity-bench
mkdir -p "$OUT"
"$PYTHON" Benchmarks/reference/resnet20_pyhessian.py --threads "$THREADS" --probes 10 --out-dir "$OUT"
if [[ -z "${BIN:-}" ]]; then
    swift build -c release --product SensitivityBenchmark
    BIN=.build/release
fi
"$PYTHON" -c 'import platform, torch; print("python", platform.python_version(), "torch", torch.__version__)'
"$BIN/SensitivityBenchmark" --model "$OUT/resnet20.onnx" --data "$OUT/batch128.npz" \
    --torch "$OUT/pytorch.json" --threads "$THREADS" --out "$OUT/hutch.json"
