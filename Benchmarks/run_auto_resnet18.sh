#!/usr/bin/env bash
# What cost-aware `auto` picks on torchvision ResNet-18 (1000 classes, 224x224, random weights,
# TorchScript export, the 2 examples export_zoo.py saves) at the default --tol, and the
# predictions it prints. Usage: Benchmarks/run_auto_resnet18.sh [ZOO_DIR]; record it with
#   Benchmarks/record.sh auto-resnet18 Benchmarks/run_auto_resnet18.sh
source "$(dirname "$0")/model-scripts.sh"
[ -f "$OUT/resnet18_ts.onnx" ] || "$PY" Benchmarks/zoo/export_zoo.py "$OUT"
"$HUTCH" trace --model "$OUT/resnet18_ts.onnx" --data "$OUT/resnet18_data.npz" --threads 2 --bits none \
    --out "$OUT/resnet18_auto_sensitivity.json" 2>&1 | grep -v -E 'round [0-9]+: '
