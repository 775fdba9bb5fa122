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
# With `augmented`, the same table on the second model (Benchmarks/finetune/train_augmented.py,
# trained here first): Hutch uses its 2,000 tuning images (drawn from its training set), accuracy
# is over its 4,500 held-out test images; kept in Benchmarks/finetune/finetune-augmented-DATE.txt.
#   Benchmarks/finetune/run_finetune.sh augmented
# the repository root, PY (the fixtures' virtualenv) and a release HUTCH
SECOND=${1:-}
source "$(dirname "$0")/../model-scripts.sh"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
if [ "$SECOND" = augmented ]; then
  RAW=Benchmarks/finetune/finetune-augmented-$(date +%Y-%m-%d).txt
  "$PY" Benchmarks/finetune/train_augmented.py "$WORK/aug" > "$WORK/training.txt"
  MODEL=$WORK/aug/model.onnx TEST=$WORK/aug/test.npz
  cp "$WORK/aug/tune.npz" "$WORK/train.npz"
else
  RAW=Benchmarks/finetune/finetune-$(date +%Y-%m-%d).txt
  MODEL=Examples/digits_resnet.onnx TEST=Examples/digits.npz
  "$PY" Examples/train_example.py --train-split "$WORK/train.npz" >/dev/null
fi
"$HUTCH" trace --model "$MODEL" --method exact --measured --data "$WORK/train.npz" --threads 2 --out "$WORK/sensitivity.json" >/dev/null 2>&1
losses() {  # the fine-tuning log's training loss before and of the model written
  "$PY" -c 'import json,sys; l=json.load(open(sys.argv[1])); print("%.4f → %.4f" % (l["before"]["loss"], l["written"]["loss"]))' "$1"; }
ort() { "$PY" Tests/Fixtures/export/check_onnxruntime.py "$1" --data "$TEST" | sed -n 's/.*accuracy \([0-9.]* %\) on.*/\1/p'; }
bits_count() { "$PY" -c "import onnx,sys; print(sum(n.op_type in ('Conv', 'Gemm') for n in onnx.load(sys.argv[1]).graph.node))" "$MODEL"; }
row() {  # label, plan flags...
  local label=$1; shift
  "$HUTCH" plan --sensitivity "$WORK/sensitivity.json" "$@" --out "$WORK/plan.json" >/dev/null 2>&1
  local out bits
  out=$("$HUTCH" quantize --model "$MODEL" --plan "$WORK/plan.json" --data "$WORK/train.npz" \
        --out "$WORK/ptq.onnx" --packed "$WORK/q.hutchq" 2>&1)
  bits=$(echo "$out" | sed -n 's/.*weight bits \([0-9,]*\)).*/\1/p')
  local start=$SECONDS
  "$HUTCH" finetune --model "$MODEL" --plan "$WORK/plan.json" --data "$WORK/train.npz" --threads 2 --order all --out "$WORK/all.onnx" >/dev/null 2>&1
  local all_s=$((SECONDS - start)); start=$SECONDS
  "$HUTCH" finetune --model "$MODEL" --plan "$WORK/plan.json" --data "$WORK/train.npz" --threads 2 --order hessian \
        --sensitivity "$WORK/sensitivity.json" --out "$WORK/hessian.onnx" >/dev/null 2>&1
  local hessian_s=$((SECONDS - start))
  echo "| $label | $bits | $(stat -c %s "$WORK/q.hutchq") | $(ort "$WORK/ptq.onnx") | $(ort "$WORK/all.onnx") | $(ort "$WORK/hessian.onnx") | $(losses "$WORK/all.finetune.json") / $(losses "$WORK/hessian.finetune.json") | ${all_s} s / ${hessian_s} s |"
}
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
  [ "$SECOND" = augmented ] && sed 's/^/# /' "$WORK/training.txt"
  echo "| plan | bits per layer ($(bits_count) layers) | .hutchq bytes | post-training | fine-tuned, --order all | fine-tuned, --order hessian | training loss (all / hessian) | fine-tuning time (all / hessian) |"
  echo "|---|---|---|---|---|---|---|---|"
  echo "| float32 | – | – | $(ort "$MODEL") | | | | |"
  for b in 4 3 2.5; do
    case $b in 4|3) row "uniform $b" --bits "$b" ;; 2.5) row "uniform 2" --bits 2 ;; esac
    row "mixed hawq-v3, $b average" --avg-bits "$b"
    row "mixed measured, $b average" --avg-bits "$b" --objective measured
  done
} | tee "$RAW"
