#!/usr/bin/env bash
# Models beyond the zoo through `hutch trace` (two-probe Hutchinson on 2 examples), both exporters:
# exit status, wall seconds, peak RSS and the last line or the error. Exports with
# export_new_models.py into EXPORT_DIR (default /tmp/hutch-new-models) unless already there.
# Raw output: Benchmarks/zoo/new-models-DATE.txt (date, CPU, load, commit). Not run by CI.
#   [MODELS="mnasnet1_0 hf_roberta"] [HUTCH=.build/release/hutch] Benchmarks/zoo/run_new_models.sh [EXPORT_DIR]
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-/tmp/hutch-new-models}
HUTCH=${HUTCH:-.build/release/hutch}
PY=${PYTHON:-/root/hutch-venv/bin/python}
MODELS=${MODELS:-"mnasnet1_0 googlenet vgg11_bn efficientnet_v2_s maxvit_t wide_resnet50_2 hf_distilbert hf_roberta hf_deit hf_mobilevit hf_resnet"}
RAW=${RAW:-Benchmarks/zoo/new-models-$(date +%Y-%m-%d).txt}
mkdir -p "$OUT"
missing=$(for m in $MODELS; do [[ -f "$OUT/${m}_ts.onnx" ]] || echo -n "$m,"; done)
[[ -n "$missing" ]] && "$PY" Benchmarks/zoo/export_new_models.py "$OUT" "${missing%,}" >&2
{
    echo "# run_new_models.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
    for m in $MODELS; do
        for e in dynamo ts; do
            log=$(mktemp)
            /usr/bin/time -f "%e s, peak RSS %M KB" "$HUTCH" trace --model "$OUT/${m}_$e.onnx" --data "$OUT/${m}_data.npz" --samples 2 \
                --batch-size 2 --method hutchinson --probes 2 --out "$log.json" >"$log" 2>&1
            status=$?
            echo "$m $e: exit $status, $(tail -1 "$log"); $(grep -E '^hutch: error|layers, method' "$log" | head -1 | cut -c1-240)"
            rm -f "$log" "$log.json"
        done
    done
} | tee "$RAW"
echo "raw output: $RAW"
