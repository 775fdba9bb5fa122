#!/usr/bin/env bash
# Does onnxruntime compute the accuracy `hutch finetune` prints? Fine-tunes the embedded example's
# mixed 3-bit plan (made by `hutch plan` from the committed sensitivity fixture) with the defaults,
# once with --order all and once with --order hessian, and runs each QDQ model written in
# onnxruntime on the same data (Tests/Fixtures/export/check_onnxruntime.py). Prints Hutch's lines
# and onnxruntime's; keeps them, with date, commit and CPU, in Benchmarks/finetune/check-onnxruntime.txt.
#   Benchmarks/finetune/check_onnxruntime.sh
# the repository root, PY (the fixtures' virtualenv) and a release HUTCH
source "$(dirname "$0")/../model-scripts.sh"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
"$HUTCH" plan --sensitivity Tests/Fixtures/export/digits_sensitivity.json --avg-bits 3 --out "$WORK/plan.json" >/dev/null 2>&1
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, commit $(git rev-parse --short HEAD)"
  for order in all hessian; do
    echo "## hutch finetune --plan (mixed, 3 average) --order $order --threads 2 (defaults otherwise) on Examples/digits.npz"
    "$HUTCH" finetune --plan "$WORK/plan.json" --order "$order" --threads 2 --out "$WORK/q-$order.onnx" 2>&1 | grep -v '^hutch: stage' || true
    "$PY" Tests/Fixtures/export/check_onnxruntime.py "$WORK/q-$order.onnx" --data Examples/digits.npz
  done
} | tee Benchmarks/finetune/check-onnxruntime.txt
