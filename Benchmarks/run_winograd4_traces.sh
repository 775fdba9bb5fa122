#!/usr/bin/env bash
# Hutchinson traces of torchvision ResNet-18 (run_imagenet_probe.sh's export) with Winograd
# F(4x4,3x3) on (the default) and off (HUTCH_WINOGRAD4=0: main's paths), the same probes: prints each
# layer's two traces and their relative difference (the error F(4x4,3x3) adds at model level).
# Usage: Benchmarks/run_winograd4_traces.sh [EXPORT_DIR]   (BIN=DIR of a release hutch; SAMPLES=2 PROBES=4)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/root/hutch-venv/bin/python}
BIN=${BIN:-.build/release}
dir=${1:-/tmp/hutch-probe} tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for v in 1 0; do
    HUTCH_WINOGRAD4=$v "$BIN/hutch" trace --model "$dir/resnet18.onnx" --data "$dir/resnet18_b32.npz" --samples "${SAMPLES:-2}" \
        --method hutchinson --probes "${PROBES:-4}" --seed 1 --threads 2 --out "$tmp/on$v.json" > /dev/null
done
"$PY" - "$tmp/on1.json" "$tmp/on0.json" <<'PYEOF'
import json, sys
on, off = (json.load(open(p))["layers"] for p in sys.argv[1:3])
worst = 0.0
print(f"{'layer':28s} {'F(4x4) on':>14s} {'off':>14s} {'relative diff':>14s}")
for a, b in zip(on, off):
    rel = abs(a["trace"] - b["trace"]) / abs(b["trace"]) if b["trace"] else abs(a["trace"])
    worst = max(worst, rel)
    print(f"{a['node']:28s} {a['trace']:14.6e} {b['trace']:14.6e} {rel:14.2e}")
print(f"largest relative difference: {worst:.2e}")
PYEOF
