#!/bin/sh
# Makes the onnxruntime fixture of exported weights computed at load and prints the evidence:
#   sh Tests/Fixtures/export/make_transposed_fixtures.sh   (from the repository root)
# transposed_weights (Tests/Fixtures/make_fixtures.py: a Gemm weight Identity(Transpose(fc1.weight))
# and a head MatMul weight Transpose(embed.weight), the table an embedding Gather also reads)
# traced, planned at 4 bits everywhere and quantized by `hutch quantize` (8-bit activations
# calibrated on its 8 reference examples); check_onnxruntime.py runs the QDQ model in
# onnxruntime, unfused and fused, against Hutch's fake-quantized logits and writes onnxruntime's
# logits to transposed_weights_w4a8_ort_logits.npy, which ComputedWeightExportTests compares with.
# The output of a run is kept in transposed_onnxruntime_check.txt.
set -eu
PY=${PY:-/root/hutch-venv/bin/python}
HERE=Tests/Fixtures/export
MODEL=Tests/Fixtures/transposed_weights.onnx
DATA=Tests/Fixtures/transposed_weights_ref.npz
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
$PY $HERE/check_onnxruntime.py "$WORK/w4a8.onnx" --data $DATA --write-expected $HERE/transposed_weights_w4a8_ort_logits.npy >/dev/null
