#!/usr/bin/env bash
# Standard error per second of exact, sampled GGN and Hutchinson (issue 15) on ResNet-20 (10
# classes, 32x32, Benchmarks/models/resnet20.onnx, 32 random CIFAR-shaped examples) and
# torchvision ResNet-18 (1000 classes, 224x224, random weights, TorchScript export, the 2
# examples export_zoo.py saves). Usage: Benchmarks/run_ggn_efficiency.sh [ZOO_DIR]
# (default /tmp/hutch-zoo; exported there first when missing). Record it with
#   Benchmarks/record.sh ggn-efficiency Benchmarks/run_ggn_efficiency.sh
source "$(dirname "$0")/model-scripts.sh"
[ -f "$OUT/resnet18_ts.onnx" ] || "$PY" Benchmarks/zoo/export_zoo.py "$OUT"
"$PY" -c 'import numpy as np; r = np.random.default_rng(0)
np.savez("'"$OUT"'/resnet20_data.npz", x=r.standard_normal((32, 3, 32, 32)).astype(np.float32), y=r.integers(0, 10, 32))'
"$PY" Benchmarks/ggn/measure_efficiency.py "$HUTCH" Benchmarks/models/resnet20.onnx "$OUT/resnet20_data.npz" --samples 32 --p1 4 --p2 16
"$PY" Benchmarks/ggn/measure_efficiency.py "$HUTCH" "$OUT/resnet18_ts.onnx" "$OUT/resnet18_data.npz" --samples 2 --p1 4 --p2 12
