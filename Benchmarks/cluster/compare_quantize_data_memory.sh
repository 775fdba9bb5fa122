#!/usr/bin/env bash
# Peak resident memory of `hutch quantize --data` on torchvision ResNet-18 (224x224, 1000 classes,
# random weights, TorchScript export) with 512 random examples (308 MB of float32, stored .npz):
# the model, data and files run_data_memory.sh makes. Two builds quantize with the same plan
# (--avg-bits 4 from a 2-example, 2-probe Hutchinson trace by the first build), calibrating and
# evaluating on all 512 examples, writing the QDQ model, the annotated plan and the logits; their
# bytes must be identical. Each run's wall time and peak resident memory (/usr/bin/time).
# Raw output: Benchmarks/cluster/quantize-data-memory-DATE.txt (RAW=FILE overrides), with uptime.
#   BEFORE=PATH [AFTER=PATH] Benchmarks/cluster/compare_quantize_data_memory.sh [EXPORT_DIR]
source "$(dirname "$0")/../model-scripts.sh"
BEFORE=${BEFORE:?BEFORE=path of the other build\'s hutch}
AFTER=${AFTER:-$HUTCH}
MODEL="$OUT/resnet18_ts.onnx" DATA="$OUT/big512_stored.npz"
[ -f "$MODEL" ] && [ -f "$DATA" ] || { echo "run Benchmarks/cluster/run_data_memory.sh first (it makes $MODEL and $DATA)"; exit 2; }
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RAW=${RAW:-Benchmarks/cluster/quantize-data-memory-$(date +%Y-%m-%d).txt}
UPTIME_BEFORE=$(uptime)
"$BEFORE" trace --model "$MODEL" --data "$DATA" --samples 2 --batch-size 2 --method hutchinson --probes 2 --out "$WORK/s.json" > /dev/null 2>&1
"$BEFORE" plan --sensitivity "$WORK/s.json" --model "$MODEL" --avg-bits 4 --out "$WORK/p.json" > /dev/null
OUTPUTS=(q.onnx plan-out.json logits.npy)
for side in before after; do
  bin=$BEFORE; [ $side = after ] && bin=$AFTER
  mkdir -p "$WORK/$side"
  /usr/bin/time -f "$side: %e s wall, %M KB peak resident" -o "$WORK/$side.time" \
    "$bin" quantize --model "$MODEL" --plan "$WORK/p.json" --data "$DATA" --out "$WORK/$side/q.onnx" \
    --plan-out "$WORK/$side/plan-out.json" --logits "$WORK/$side/logits.npy" > "$WORK/$side.out" 2> "$WORK/$side.err" \
    || { tail -3 "$WORK/$side.err"; exit 1; }
done
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
  echo "# before: $BEFORE; after: $AFTER"
  echo "# uptime before: $UPTIME_BEFORE"
  echo "# uptime after: $(uptime)"
  echo "# hutch quantize of ResNet-18 (TorchScript export), plan --avg-bits 4, --data $(basename "$DATA") ($(stat -c %s "$DATA") bytes, 512 examples), --plan-out, --logits"
  cat "$WORK/before.time" "$WORK/after.time"
  grep -h "examples of" "$WORK/before.err" | sed 's/^/before: /'
  grep -h "examples of" "$WORK/after.err" | sed 's/^/after: /'
  for f in "${OUTPUTS[@]}"; do
    cmp "$WORK/before/$f" "$WORK/after/$f" && echo "$f: identical bytes, sha256 $(sha256sum < "$WORK/after/$f" | cut -c1-16)"
  done
} | tee "$RAW"
