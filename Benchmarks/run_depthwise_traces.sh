#!/usr/bin/env bash
# Hutchinson traces of torchvision MobileNetV2 (run_imagenet_probe.sh's export), the same probes, from
# main's hutch (MAIN=DIR of its release build), this build with the depthwise loops
# (HUTCH_DEPTHWISE_VECTOR=0) and with the depthwise vector kernels (the default): prints each layer's
# traces and the relative differences of the vector kernels' against main's and the loops' (FMA chains
# instead of mul + add: the bits change, the values may not move beyond Float rounding).
# Usage: Benchmarks/run_depthwise_traces.sh [EXPORT_DIR]   (BIN=DIR of a release hutch; MAIN; SAMPLES=2 PROBES=4)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-/root/hutch-venv/bin/python}
BIN=${BIN:-.build/release} MAIN=${MAIN:-/tmp/hutch-main}
dir=${1:-/tmp/hutch-probe} tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() {  # OUT BINDIR VECTOR
    HUTCH_DEPTHWISE_VECTOR=$3 "$2/hutch" trace --model "$dir/mobilenet_v2.onnx" --data "$dir/mobilenet_v2_b32.npz" \
        --samples "${SAMPLES:-2}" --method hutchinson --probes "${PROBES:-4}" --seed 1 --threads 2 --out "$tmp/$1.json" 2> /dev/null > /dev/null
}
run main "$MAIN" 1
run loops "$BIN" 0
run vector "$BIN" 1
"$PY" - "$tmp/main.json" "$tmp/loops.json" "$tmp/vector.json" <<'PYEOF'
import json, sys
main, loops, vector = (json.load(open(p))["layers"] for p in sys.argv[1:4])
rel = lambda a, b: abs(a - b) / abs(b) if b else abs(a)
print(f"{'layer':34s} {'main':>14s} {'loops':>14s} {'vector':>14s} {'vector/main':>12s} {'vector/loops':>12s}")
worst = {"main": 0.0, "loops": 0.0}
same = True
for m, l, v in zip(main, loops, vector):
    same &= m["trace"] == l["trace"]
    a, b = rel(v["trace"], m["trace"]), rel(v["trace"], l["trace"])
    worst["main"], worst["loops"] = max(worst["main"], a), max(worst["loops"], b)
    print(f"{m['node']:34s} {m['trace']:14.6e} {l['trace']:14.6e} {v['trace']:14.6e} {a:12.2e} {b:12.2e}")
print(f"largest relative difference of the vector kernels' traces: {worst['main']:.2e} to main's, {worst['loops']:.2e} to the loops'")
print(f"loops' traces bit-identical to main's: {same}")
PYEOF
