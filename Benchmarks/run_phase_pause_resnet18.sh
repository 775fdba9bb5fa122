#!/usr/bin/env bash
# The ResNet-18 stall of `hutch run --activations` (the quantize phase waited for leases that the
# reconnected workers never held): the same job three times, with no pause between the phases, with
# a 5 s pause inside the step that keeps the workers' links alive (HUTCH_TEST_PHASE_PAUSE_MS=5000),
# and with the coordinator frozen 5 s before the quantize phase (5000:silent, past the workers' 3 s
# liveness window: both reconnect). Prints each run's wall time, exit status and reconnections,
# and whether the three runs' outputs are byte-identical. Usage:
#   Benchmarks/run_phase_pause_resnet18.sh [ZOO_DIR]; record it with
#   Benchmarks/record.sh phase-pause-resnet18 Benchmarks/run_phase_pause_resnet18.sh
source "$(dirname "$0")/model-scripts.sh"
[ -f "$OUT/resnet18_dynamo.onnx" ] || "$PY" Benchmarks/zoo/export_zoo.py "$OUT"
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
for pause in none 5000 5000:silent; do
    dir="$runs/${pause/:/-}"
    start=$(date +%s.%N)
    status=0
    knob=()
    [ "$pause" = none ] || knob=(HUTCH_TEST_PHASE_PAUSE_MS="$pause")
    env "${knob[@]}" timeout 1500 "$HUTCH" run --workers 2 \
        --activations --act-bits 4,8 --avg-bits 4 --samples 2 --method hutchinson --probes 2 \
        --model "$OUT/resnet18_dynamo.onnx" --data "$OUT/resnet18_data.npz" --out "$dir" 2> "$dir.err" > /dev/null || status=$?
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    printf 'pause %-12s exit %d, %6.1f s wall, %d worker reconnection(s), %s\n' "$pause" "$status" "$seconds" \
        "$(grep -c 'coordinator silent' "$dir.err" || true)" "$(grep -o 'quantize: [0-9]* layer tasks' "$dir.err" || echo 'not started')"
done
for f in sensitivity.json plan.json quantized.onnx; do
    if cmp -s "$runs/none/$f" "$runs/5000/$f" && cmp -s "$runs/none/$f" "$runs/5000-silent/$f"; then
        echo "$f: byte-identical in the three runs"
    else
        echo "$f: DIFFERS"
    fi
done
