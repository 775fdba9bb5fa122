#!/usr/bin/env bash
# The whole pipeline on exported zoo models, as a new user would run it: `hutch trace` (two-probe
# Hutchinson on the zoo's 2 examples), `hutch plan --avg-bits 4`, `hutch quantize` (8-bit
# activations calibrated on the same examples, `--logits` for Hutch's fake-quantized logits),
# then onnxruntime 1.32 runs the QDQ model on every named input with graph optimizations off and
# its logits are compared with Hutch's. Writes Benchmarks/zoo/quantize-check-DATE.txt (raw output
# with date, CPU and load). Not run by CI: it needs the exports of export_zoo.py.
#   MODELS="hf_bert_mask_ts convnext_tiny_dynamo" [RAW=FILE] Benchmarks/zoo/run_quantize_check.sh [EXPORT_DIR]
source "$(dirname "$0")/../model-scripts.sh"
MODELS=${MODELS:-"hf_bert_mask_ts hf_bert_mask_dynamo convnext_tiny_dynamo swin_t_dynamo"}
RAW=${RAW:-Benchmarks/zoo/quantize-check-$(date +%Y-%m-%d).txt}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
{
    echo "# run_quantize_check.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
    for key in $MODELS; do
        name=${key%_*}
        model="$OUT/$key.onnx" data="$OUT/${name}_data.npz"
        start=$(date +%s.%N)
        "$HUTCH" trace --model "$model" --data "$data" --samples 2 --batch-size 2 --method hutchinson --probes 2 \
            --out "$WORK/$key-sensitivity.json" >/dev/null 2>&1
        "$HUTCH" plan --sensitivity "$WORK/$key-sensitivity.json" --avg-bits 4 --out "$WORK/$key-plan.json" 2>&1 | tail -1
        "$HUTCH" quantize --model "$model" --plan "$WORK/$key-plan.json" --data "$data" --out "$WORK/$key-q.onnx" \
            --logits "$WORK/$key-hutch.npy" 2>&1 | tail -2
        echo "$key: trace, plan and quantize $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $start }") s"
        "$PY" - "$WORK/$key-q.onnx" "$data" "$WORK/$key-hutch.npy" "$key" "$model" <<'PYEOF'
import os, sys
import numpy as np
import onnxruntime as ort
path, data, hutch, key, float_model = sys.argv[1:6]
options = ort.SessionOptions()
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
arrays = np.load(data)
def run(model):
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: arrays[i.name] for i in session.get_inputs()})[0]
# the float model's mean cross-entropy, beside the float loss hutch quantize prints above
z = run(float_model).astype(np.float64)
if z.ndim == 2:   # class logits [N, C]; a language model's [N, T, V] gets no loss line here
    z -= z.max(axis=-1, keepdims=True)
    loss = float(np.mean(np.log(np.exp(z).sum(axis=-1)) - z[np.arange(len(z)), arrays["y"]]))
    print(f"{key}: onnxruntime float model loss {loss:.5f}")
logits = run(path)
def token_loss(z, y):   # mean cross-entropy over the tokens whose label is not -100
    z = z.astype(np.float64) - z.max(axis=-1, keepdims=True)
    keep = y != -100
    picked = np.take_along_axis(z, np.where(keep, y, 0)[..., None], axis=-1)[..., 0]
    return float(((np.log(np.exp(z).sum(axis=-1)) - picked) * keep).sum() / keep.sum())
if not os.path.exists(hutch):   # `hutch quantize --logits` writes class logits [N, C] only
    losses = ""
    if logits.ndim == 3 and "y" in arrays:   # a language model: both exports of one model should agree here
        losses = f", token loss float {token_loss(run(float_model), arrays['y']):.5f} QDQ {token_loss(logits, arrays['y']):.5f}"
    print(f"{key}: onnxruntime {ort.__version__} runs the QDQ model: logits {list(logits.shape)}, finite {bool(np.isfinite(logits).all())}{losses} (no Hutch logits to compare)")
    sys.exit(0)
expected = np.load(hutch)
print(f"{key}: onnxruntime {ort.__version__} runs the QDQ model: logits {list(logits.shape)}, max |onnxruntime - hutch| "
      f"{np.abs(logits - expected).max():.3g} (logit range {np.ptp(expected):.3g}), equal argmax {(logits.argmax(-1) == expected.argmax(-1)).mean() * 100:.0f} %")
# where the argmax differs: how far apart onnxruntime puts the two classes (a near tie when within the difference above)
for i in np.flatnonzero(logits.argmax(-1) != expected.argmax(-1)):
    a, b = logits[i].argmax(), expected[i].argmax()
    print(f"{key}: example {i}: onnxruntime's logits of its class {a} and Hutch's class {b} differ by {logits[i, a] - logits[i, b]:.3g}")
PYEOF
    done
} 2>&1 | tee "$RAW"
echo "raw output: $RAW"
