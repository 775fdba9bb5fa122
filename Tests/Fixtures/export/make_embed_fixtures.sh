#!/bin/sh
# Makes the onnxruntime fixture of an exported embedding table and prints the evidence:
#   sh Tests/Fixtures/export/make_embed_fixtures.sh [NAME]   (from the repository root)
# NAME (default tiny_embed; Tests/Fixtures/make_fixtures.py: Gather of a [20, 8] table by token
# ids, mean, Linear, ReLU, Linear) traced, planned at 4 bits everywhere and quantized by `hutch
# quantize` (8-bit activations calibrated on its reference examples); check_onnxruntime.py runs
# the QDQ model in onnxruntime, unfused and fused, against Hutch's fake-quantized logits and
# writes onnxruntime's logits to NAME_w4a8_ort_logits.npy, which EmbeddingExportTests (and for
# transposed_weights, whose Gemm and head weights are Transposes computed at load,
# ComputedWeightExportTests) compares with. The output of a run is kept in
# embed_onnxruntime_check.txt (transposed_onnxruntime_check.txt).
set -eu
PY=${PY:-/root/hutch-venv/bin/python}
NAME=${1:-tiny_embed}
HERE=Tests/Fixtures/export
MODEL=Tests/Fixtures/$NAME.onnx
DATA=Tests/Fixtures/${NAME}_ref.npz
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "${HUTCH:-}" ]; then   # HUTCH=.build/release/hutch reuses a build
    swift build -c release --product hutch >/dev/null
    HUTCH=.build/release/hutch
fi
$HUTCH trace --model $MODEL --data $DATA --out "$WORK/s.json" 2>/dev/null
$HUTCH plan --sensitivity "$WORK/s.json" --bits 4 --out "$WORK/plan.json" 2>/dev/null
$HUTCH quantize --model $MODEL --plan "$WORK/plan.json" --data $DATA --out "$WORK/w4a8.onnx" \
    --logits "$WORK/w4a8.npy" --packed "$WORK/w4.hutchq"
$PY $HERE/check_onnxruntime.py "$WORK/w4a8.onnx" --data $DATA --hutch-logits "$WORK/w4a8.npy" --float $MODEL
$PY $HERE/check_onnxruntime.py "$WORK/w4a8.onnx" --data $DATA --hutch-logits "$WORK/w4a8.npy" --optimized
$PY $HERE/check_onnxruntime.py "$WORK/w4a8.onnx" --data $DATA --write-expected $HERE/${NAME}_w4a8_ort_logits.npy >/dev/null
