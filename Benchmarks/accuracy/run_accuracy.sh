#!/usr/bin/env bash
# The README's "Accuracy on the example" table: exact traces on all 450 calibration images of the
# embedded example, uniform plans (--bits B) and mixed plans (--avg-bits B, hawq-v3, candidates
# 2,3,4,5,6,8), each quantized by `hutch quantize` with 8-bit min-max activations on the same
# images; accuracy and loss are Hutch's fake-quantized forward, sizes the .hutchq files. Prints the
# Markdown table and keeps it, with date and CPU, in Benchmarks/accuracy/accuracy-DATE.txt.
#   Benchmarks/accuracy/run_accuracy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
HUTCH=.build/release/hutch
[ -x "$HUTCH" ] || swift build -c release --product hutch
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RAW=Benchmarks/accuracy/accuracy-$(date +%Y-%m-%d).txt
"$HUTCH" trace --method exact --out "$WORK/sensitivity.json" 2>/dev/null >/dev/null
row() {  # label, plan flags...
  local label=$1; shift
  "$HUTCH" plan --sensitivity "$WORK/sensitivity.json" "$@" --out "$WORK/plan.json" >/dev/null 2>&1
  local out
  out=$("$HUTCH" quantize --model Examples/digits_resnet.onnx --plan "$WORK/plan.json" --data Examples/digits.npz \
        --out "$WORK/q.onnx" --packed "$WORK/q.hutchq" 2>&1)
  local bits acc loss
  bits=$(echo "$out" | sed -n 's/.*weight bits \([0-9,]*\)).*/\1/p')
  acc=$(echo "$out" | sed -n 's/.*fake-quantized accuracy \([0-9.]* %\) loss \([0-9.]*\).*/\1/p')
  loss=$(echo "$out" | sed -n 's/.*fake-quantized accuracy [0-9.]* % loss \([0-9.]*\).*/\1/p')
  echo "| $label | $bits | $acc | $loss | $(stat -c %s "$WORK/q.hutchq") |"
  [ -n "${FLOAT_DONE:-}" ] || { FLOAT_DONE=1; echo "$out" | sed -n 's/.*float accuracy \([0-9.]* %\) loss \([0-9.]*\),.*/| float32 | – | \1 | \2 | '"$(stat -c %s Examples/digits_resnet.onnx)"' (ONNX) |/p' > "$WORK/float"; }
}
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), commit $(git rev-parse --short HEAD)"
  rows=$(for b in 8 6 5 4 3 2; do
    row "uniform $b" --bits "$b"
    [ "$b" = 8 ] || [ "$b" = 2 ] || row "mixed, $b average" --avg-bits "$b"
  done)
  echo "| weights | bits per layer (7 layers) | accuracy | loss | .hutchq bytes |"
  echo "|---|---|---|---|---|"
  cat "$WORK/float" 2>/dev/null || true
  echo "$rows"
} | tee "$RAW"
