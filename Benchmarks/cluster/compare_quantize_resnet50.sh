#!/usr/bin/env bash
# `hutch quantize` of torchvision ResNet-50 (the export run_resnet50.sh makes) by two builds: the
# bytes of quantized.onnx must be identical, and each run's wall time and peak resident memory
# are printed (/usr/bin/time). The plan comes from a short Hutchinson trace by the first build.
# Raw output: Benchmarks/cluster/quantize-resnet50-DATE.txt (RAW=FILE overrides), with uptime.
#   BEFORE=PATH [AFTER=PATH] Benchmarks/cluster/compare_quantize_resnet50.sh [EXPORT_DIR]
source "$(dirname "$0")/../model-scripts.sh"
BEFORE=${BEFORE:?BEFORE=path of the other build\'s hutch}
AFTER=${AFTER:-$HUTCH}
[ -f "$OUT/resnet50_dynamo.onnx" ] || { echo "run Benchmarks/cluster/run_resnet50.sh first (it exports ResNet-50)"; exit 2; }
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RAW=${RAW:-Benchmarks/cluster/quantize-resnet50-$(date +%Y-%m-%d).txt}
UPTIME_BEFORE=$(uptime)
M=(--model "$OUT/resnet50_dynamo.onnx")
"$BEFORE" trace "${M[@]}" --data "$OUT/resnet50_data.npz" --samples 2 --batch-size 2 --method hutchinson --probes 2 --out "$WORK/s.json" 2> /dev/null > /dev/null
"$BEFORE" plan --sensitivity "$WORK/s.json" "${M[@]}" --avg-bits 4 --out "$WORK/p.json" > /dev/null
for side in before after; do
  bin=$BEFORE; [ $side = after ] && bin=$AFTER
  mkdir -p "$WORK/$side"
  /usr/bin/time -f "$side: %e s wall, %M KB peak resident" -o "$WORK/$side.time" \
    "$bin" quantize "${M[@]}" --plan "$WORK/p.json" --data "$OUT/resnet50_data.npz" --out "$WORK/$side/q.onnx" > "$WORK/$side.out" 2> /dev/null
done
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, commit $(git rev-parse --short HEAD)"
  echo "# before: $BEFORE; after: $AFTER"
  echo "# uptime before: $UPTIME_BEFORE"
  echo "# uptime after: $(uptime)"
  echo "# hutch quantize of ResNet-50 (dynamo export, external data), plan --avg-bits 4 from a 2-example, 2-probe Hutchinson trace, calibrated on 8 examples"
  cat "$WORK/before.time" "$WORK/after.time"
  tail -1 "$WORK/after.out"
  ls -l "$WORK/before/q.onnx" "$WORK/after/q.onnx" | awk '{print $5, $NF}' | sed "s|$WORK/||"
  cmp "$WORK/before/q.onnx" "$WORK/after/q.onnx" && echo "quantized.onnx: identical bytes"
} | tee "$RAW"
