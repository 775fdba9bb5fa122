#!/usr/bin/env bash
# The README's "Mixed-precision activations on the example" table: exact weight traces and
# activation sensitivities (`hutch trace --activations`: exact on this piecewise-linear net) on all 450 calibration images
# of the embedded example; uniform plans (--bits B --activation-bits A) and, at the BOPs of the
# uniform W6A8, W4A8 and W4A4 plans, mixed weights with 8-bit activations (--bops-g X,
# candidates 2,3,4,5,6,8) against mixed weights and activations (--act-bits 4,8 --bops-g X).
# Each plan is quantized by `hutch quantize` (min-max activation ranges on the same images);
# accuracy and loss are Hutch's fake-quantized forward, which onnxruntime reproduces
# (Tests/Fixtures/export/joint_onnxruntime_check.txt). Prints the Markdown table and keeps it, with
# date and CPU, in Benchmarks/accuracy/joint-accuracy-DATE.txt.
#   Benchmarks/accuracy/run_joint_accuracy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
HUTCH=.build/release/hutch
[ -x "$HUTCH" ] || swift build -c release --product hutch
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RAW=Benchmarks/accuracy/joint-accuracy-$(date +%Y-%m-%d).txt
"$HUTCH" trace --activations --out "$WORK/sensitivity.json" 2>/dev/null >/dev/null
gbops() { sed -n 's/^ *"bops" : \([0-9.e+]*\),*$/\1/p' "$1" | tail -1 | awk '{ printf "%.9f", $1 / 1e9 }'; }
row() {  # label, plan flags...
  local label=$1; shift
  if ! "$HUTCH" plan --sensitivity "$WORK/sensitivity.json" "$@" --out "$WORK/plan.json" >"$WORK/plan.log" 2>&1; then
    echo "| $label | – | – | – | infeasible: $(sed 's/^hutch: error: //' "$WORK/plan.log" | cut -c1-80)… | – |"; return
  fi
  local out acc loss
  out=$("$HUTCH" quantize --model Examples/digits_resnet.onnx --plan "$WORK/plan.json" --data Examples/digits.npz \
        --out "$WORK/q.onnx" 2>&1)
  acc=$(echo "$out" | sed -n 's/.*fake-quantized accuracy \([0-9.]* %\) loss \([0-9.]*\).*/\1/p')
  loss=$(echo "$out" | sed -n 's/.*fake-quantized accuracy [0-9.]* % loss \([0-9.]*\).*/\1/p')
  local w a
  w=$(grep '"weight_bits"' "$WORK/plan.json" | grep -o '[0-9]*' | paste -sd,)
  a=$(grep '"activation_bits"' "$WORK/plan.json" | tail -n +2 | grep -o '[0-9]*' | paste -sd,)
  echo "| $label | $w | $a | $(gbops "$WORK/plan.json") | $acc | $loss |"
}
budget() {  # the BOPs of a uniform plan, in 10^9
  "$HUTCH" plan --sensitivity "$WORK/sensitivity.json" "$@" --out "$WORK/uniform.json" >/dev/null 2>&1
  gbops "$WORK/uniform.json"
}
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), commit $(git rev-parse --short HEAD)"
  echo "| plan | weight bits (7 layers) | activation bits | GBOPs | accuracy | loss |"
  echo "|---|---|---|---|---|---|"
  row "uniform W8A8" --bits 8 --activation-bits 8
  for uniform in "6 8" "4 8" "4 4"; do
    set -- $uniform
    x=$(budget --bits "$1" --activation-bits "$2")
    [ "$uniform" = "6 8" ] || row "uniform W$1A$2" --bits "$1" --activation-bits "$2"
    row "mixed W, A8, ≤ W$1A$2 BOPs" --bops-g "$x"
    row "mixed W and A (4,8), ≤ W$1A$2 BOPs" --act-bits 4,8 --bops-g "$x"
  done
} | tee "$RAW"
