#!/bin/sh
# Makes the joint weight + activation fixtures of the embedded example and checks the QDQ export
# of per-layer activation widths (UINT4 / UINT8 pairs at opset 21) in onnxruntime.
#   sh Tests/Fixtures/export/make_joint_fixtures.sh > Tests/Fixtures/export/joint_onnxruntime_check.txt
# (from the repository root; needs /root/hutch-venv with onnx and onnxruntime)
# 1. digits_activation_sensitivity.json: `hutch trace --activations` on the embedded example
# 2. digits_joint_plan.json: `hutch plan --act-bits 4,8 --bops-g 0.01` on it
# 3. `hutch quantize` under that plan (min-max calibration on Examples/digits.npz), with 4-bit
#    activations as UINT8 pairs behind a Clip (default) and as UINT4 pairs (--narrow-activations);
#    onnxruntime runs each QDQ model (graph optimizations off, then on) against Hutch's
#    fake-quantized logits; `--integer-check` runs the plan in integers only (HAWQ-V3)
# 4. digits_joint_ort_logits.npy: onnxruntime's logits of the default export (optimizations off), which
#    HutchQuantizeTests compares with Hutch's own fake-quantized forward under the plan's widths
set -eu
PY=${PY:-/root/hutch-venv/bin/python}
HERE=Tests/Fixtures/export
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') ($(nproc) cores)"
HUTCH=.build/release/hutch
$HUTCH trace --activations --out $HERE/digits_activation_sensitivity.json >/dev/null
$HUTCH plan --sensitivity $HERE/digits_activation_sensitivity.json --act-bits 4,8 --bops-g 0.01 --out $HERE/digits_joint_plan.json
$PY -c "import json,sys; p=json.load(open(sys.argv[1])); print('plan weight bits', [l['weight_bits'] for l in p['layers']], 'activation bits', [l['activation_bits'] for l in p['layers']])" $HERE/digits_joint_plan.json
for variant in uint8 uint4; do
    flag=""; [ $variant = uint4 ] && flag=--narrow-activations
    echo "== hutch quantize $flag"
    $HUTCH quantize --model Examples/digits_resnet.onnx --plan $HERE/digits_joint_plan.json --data Examples/digits.npz \
        --out "$WORK/$variant.onnx" --logits "$WORK/$variant.npy" --integer-check "$WORK/$variant-integer.json" $flag
    $PY -c "
import onnx, sys
m = onnx.load(sys.argv[1])
zp = {t.name: onnx.TensorProto.DataType.Name(t.data_type) for t in m.graph.initializer}
clipped = {n.output[0] for n in m.graph.node if n.op_type == 'Clip'}
for n in m.graph.node:
    if n.op_type == 'QuantizeLinear':
        print('activation pair', n.input[0], zp[n.input[2]], 'after a Clip' if n.input[0] in clipped else '')
" "$WORK/$variant.onnx"
    echo "onnxruntime, graph optimizations off:"
    $PY $HERE/check_onnxruntime.py "$WORK/$variant.onnx" --hutch-logits "$WORK/$variant.npy"
    echo "onnxruntime, graph optimizations on (its default):"
    $PY $HERE/check_onnxruntime.py "$WORK/$variant.onnx" --hutch-logits "$WORK/$variant.npy" --optimized || true
done
$PY $HERE/check_onnxruntime.py "$WORK/uint8.onnx" --write-expected $HERE/digits_joint_ort_logits.npy >/dev/null
