#!/usr/bin/env bash
# Hutchinson per probe against PyTorch double backprop (PyHessian's method) in the same script:
# torchvision ResNet-18, ResNet-50 and MobileNetV2 at 224x224 with batch 32, and the CIFAR ResNet-20
# with batch 128 (random weights, BN folded, TorchScript export; Benchmarks/reference/imagenet_pyhessian.py),
# 2 threads on both sides, each model's PyTorch run and then Hutch's, each in its own process.
# Prints seconds per probe, the ratio PyTorch / Hutch and both peak RSS; writes the raw output to
# Benchmarks/results/imagenet-probe.json (date, CPU, load before and after each model).
# Takes 10-20 minutes on 2 cores; needs the fixtures' virtualenv (PYTHON, default /root/hutch-venv).
# Usage: Benchmarks/run_imagenet_probe.sh [EXPORT_DIR]   (default /tmp/hutch-probe, reused;
#   BIN=DIR: an existing release build's directory; MODELS=resnet18:32,... a subset; THREADS=2)
# MODELS may also name resnext50_32x4d and regnet_y_400mf (grouped convolutions; not in the default set).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/root/hutch-venv/bin/python}
if [[ -z "${BIN:-}" ]]; then
    swift build -c release --product SensitivityBenchmark >&2
    BIN=.build/release
fi
RAW=${RAW:-Benchmarks/results/imagenet-probe.json}
"$PY" Benchmarks/reference/imagenet_probe.py --bin "$BIN" --dir "${1:-/tmp/hutch-probe}" --raw "$RAW" \
    --threads "${THREADS:-2}" ${MODELS:+--models "$MODELS"}
