#!/bin/sh
# Makes the export fixtures and prints the onnxruntime evidence for the embedded example.
#   sh Tests/Fixtures/export/make_fixtures.sh        (from the repository root)
# 1. digits_sensitivity.json (make_sensitivity.py: exact traces from digits_ref.npz)
# 2. uniform 8/4/3/2-bit plans with `hutch plan --bits B` (one candidate width = uniform)
# 3. `hutch quantize` each (8-bit activations calibrated min-max on Examples/digits.npz), and
#    check_onnxruntime.py runs each QDQ model in onnxruntime against Hutch's fake-quantized logits
# 4. digits_w4a8_ort_logits.npy: onnxruntime's logits of the 4-bit-weight, 8-bit-activation model,
#    which HutchQuantizeTests compares with Hutch's own fake-quantized forward
# 5. digits_resnet_reencoded.onnx: the encoder's output for the example (ReencodedFixtureTests)
set -eu
PY=${PY:-/root/hutch-venv/bin/python}
HERE=Tests/Fixtures/export
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
swift build -c release --product hutch >/dev/null
HUTCH=.build/release/hutch
$PY $HERE/make_sensitivity.py
$PY $HERE/compare_perturbation.py --measured-json $HERE/digits_measured.json
for b in 8 4 3 2; do
    $HUTCH plan --sensitivity $HERE/digits_sensitivity.json --bits $b --out "$WORK/uniform$b.json"
    $HUTCH quantize --model Examples/digits_resnet.onnx --plan "$WORK/uniform$b.json" --data Examples/digits.npz \
        --out "$WORK/w${b}a8.onnx" --logits "$WORK/w${b}a8.npy" --packed "$WORK/w$b.hutchq"
    $PY $HERE/check_onnxruntime.py "$WORK/w${b}a8.onnx" --hutch-logits "$WORK/w${b}a8.npy"
    ls -l "$WORK/w${b}a8.onnx" "$WORK/w$b.hutchq"
done
$PY $HERE/check_onnxruntime.py "$WORK/w4a8.onnx" --write-expected $HERE/digits_w4a8_ort_logits.npy >/dev/null
HUTCH_WRITE_EXPORT_FIXTURES=1 swift test --filter ReencodedFixtureTests >/dev/null
$PY $HERE/check_onnxruntime.py $HERE/digits_resnet_reencoded.onnx --float Examples/digits_resnet.onnx
# 6. Evidence only (nothing committed): every loadable fixture model exported at W4A8 on seeded
#    random inputs, run in onnxruntime against Hutch's fake-quantized logits.
HUTCH_EXPORT_DIR="$WORK" swift test --filter FixtureModelExportTests >/dev/null
for onnx in "$WORK"/*_w4a8.onnx; do
    stem=${onnx%_w4a8.onnx}
    case "$stem" in */w[0-9]a8) continue ;; esac
    $PY $HERE/check_onnxruntime.py "$onnx" --data "${stem}_x.npz" --hutch-logits "${stem}_w4a8.npy" | grep "hutch fake"
done
