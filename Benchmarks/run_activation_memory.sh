#!/usr/bin/env bash
# Peak memory of `hutch trace` on torchvision ViT-B/16 (dynamo export from Benchmarks/zoo, 2
# examples, Hutchinson, 2 probes): the weight traces alone at 4 probes per call, and with
# --activations at 4 and at 1 probe per call. Record with:
#   BENCH_MAX_LOAD=inf Benchmarks/record.sh activation-memory Benchmarks/run_activation_memory.sh [EXPORT_DIR]
source "$(dirname "$0")/model-scripts.sh"
[ -f "$OUT/vit_b_16_dynamo.onnx" ] || "$PY" Benchmarks/zoo/export_zoo.py "$OUT"
run() {
    /usr/bin/time -f "$1: %e s wall, peak resident %M KB" "$HUTCH" trace --model "$OUT/vit_b_16_dynamo.onnx" \
        --data "$OUT/vit_b_16_data.npz" --samples 2 --batch-size 2 --method hutchinson --probes 2 "${@:2}" --out /dev/null \
        2>&1 >/dev/null | tail -1
}
run "weights, 4 probes per call"
run "weights + activations, 4 probes per call" --activations
run "weights + activations, 1 probe per call" --activations --probes-per-call 1
