#!/usr/bin/env bash
# The README's fine-tuning table on the embedded example. Everything Hutch chooses or learns uses
# the 1,347 training images (Examples/train_example.py --train-split); accuracy is measured by
# onnxruntime on the QDQ models over the 450 held-out images (Examples/digits.npz), never used
# before that. Steps: exact traces + measured loss increases on the training split; plans
# uniform (--bits B) and mixed at --avg-bits B with the hawq-v3 and the measured objective
# (candidates 2,3,4,5,6,8); for each plan, post-training quantization (`hutch quantize`,
# activations calibrated on the training split: the starting point of fine-tuning), then
# `hutch finetune` with its defaults and --order all, and with --order hessian.
# Keeps the table, with date, commit and CPU, in Benchmarks/finetune/finetune-DATE.txt.
#   Benchmarks/finetune/run_finetune.sh
# the repository root, PY (the fixtures' virtualenv) and a release HUTCH
source "$(dirname "$0")/../model-scripts.sh"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RAW=Benchmarks/finetune/finetune-$(date +%Y-%m-%d).txt
"$PY" Examples/train_example.py --train-split "$WORK/train.npz" >/dev/null
"$HUTCH" trace --method exact --measured --data "$WORK/train.npz" --threads 2 --out "$WORK/sensitivity.json" >/dev/null 2>&1
losses() {  # the fine-tuning log's training loss before and of the model written
  "$PY" -c 'import json,sys; l=json.load(open(sys.argv[1])); print("%.4f → %.4f" % (l["before"]["loss"], l["written"]["loss"]))' "$1"; }
ort() { "$PY" Tests/Fixtures/export/check_onnxruntime.py "$1" --data Examples/digits.npz | sed -n 's/.*accuracy \([0-9.]* %\) on.*/\1/p'; }
row() {  # label, plan flags...
  local label=$1; shift
  "$HUTCH" plan --sensitivity "$WORK/sensitivity.json" "$@" --out "$WORK/plan.json" >/dev/null 2>&1
  local out bits
  out=$("$HUTCH" quantize --model Examples/digits_resnet.onnx --plan "$WORK/plan.json" --data "$WORK/train.npz" \
        --out "$WORK/ptq.onnx" --packed "$WORK/q.hutchq" 2>&1)
  bits=$(echo "$out" | sed -n 's/.*weight bits \([0-9,]*\)).*/\1/p')
  local start=$SECONDS
  "$HUTCH" finetune --plan "$WORK/plan.json" --data "$WORK/train.npz" --threads 2 --order all --out "$WORK/all.onnx" >/dev/null 2>&1
  local all_s=$((SECONDS - start)); start=$SECONDS
  "$HUTCH" finetune --plan "$WORK/plan.json" --data "$WORK/train.npz" --threads 2 --order hessian \
        --sensitivity "$WORK/sensitivity.json" --out "$WORK/hessian.onnx" >/dev/null 2>&1
  local hessian_s=$((SECONDS - start))
  echo "| $label | $bits | $(stat -c %s "$WORK/q.hutchq") | $(ort "$WORK/ptq.onnx") | $(ort "$WORK/all.onnx") | $(ort "$WORK/hessian.onnx") | $(losses "$WORK/all.finetune.json") / $(losses "$WORK/hessian.finetune.json") | ${all_s} s / ${hessian_s} s |"
}
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
  echo "| plan | bits per layer (7 layers) | .hutchq bytes | post-training | fine-tuned, --order all | fine-tuned, --order hessian | training loss (all / hessian) | fine-tuning time (all / hessian) |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "| float32 | – | – | $(ort Examples/digits_resnet.onnx) | | | | |"
  for b in 4 3 2.5; do
    case $b in 4|3) row "uniform $b" --bits "$b" ;; 2.5) row "uniform 2" --bits 2 ;; esac
    row "mixed hawq-v3, $b average" --avg-bits "$b"
    row "mixed measured, $b average" --avg-bits "$b" --objective measured
  done
} | tee "$RAW"
