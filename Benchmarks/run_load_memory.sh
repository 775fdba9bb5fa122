#!/usr/bin/env bash
# Peak resident memory of loading a large model, BEFORE (another build, e.g. main's) against this
# build, alternated, REPEAT times (default 2): `hutch inspect` (loading only) on torchvision
# ViT-B/16 and ResNet-50, each as a TorchScript export (weights inside the .onnx) and a dynamo
# export (weights in .onnx.data), and a short `hutch trace` on ResNet-50 (TorchScript, 2 examples,
# Hutchinson, 2 probes; its peak includes the computation). Each pair's outputs must be
# byte-identical (checked with cmp). Record with:
#   BEFORE=PATH BENCH_MAX_LOAD=inf Benchmarks/record.sh load-memory Benchmarks/run_load_memory.sh [EXPORT_DIR]
source "$(dirname "$0")/model-scripts.sh"
BEFORE=${BEFORE:?BEFORE=PATH: the hutch build to compare with, e.g. the release binary of main}
REPEAT=${REPEAT:-2}
for m in resnet50 vit_b_16; do
    [ -f "$OUT/${m}_ts.onnx" ] && [ -f "$OUT/${m}_dynamo.onnx" ] || "$PY" Benchmarks/zoo/export_zoo.py "$OUT"
done
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
# peak NAME BINARY ARGS...: prints the peak in MB; stdout goes to $WORK/NAME.out
peak() {
    local name=$1 binary=$2; shift 2
    /usr/bin/time -f "%M" -o "$WORK/$name.time" "$binary" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" \
        || { echo "$name failed:" >&2; cat "$WORK/$name.err" >&2; return 1; }
    echo $(( $(cat "$WORK/$name.time") / 1024 ))
}
compare() {
    local what=$1; shift
    for r in $(seq "$REPEAT"); do
        local before after
        before=$(peak before "$BEFORE" "$@")
        after=$(peak after "$HUTCH" "$@")
        local same=identical
        cmp -s "$WORK/before.out" "$WORK/after.out" || same=DIFFERENT
        echo "$what, run $r: peak resident before $before MB, after $after MB (after/before $(echo "scale=2; $after / $before" | bc)); outputs $same"
    done
}
for model in vit_b_16_ts vit_b_16_dynamo resnet50_ts resnet50_dynamo; do
    data=0; [ -f "$OUT/$model.onnx.data" ] && data=$(stat -c %s "$OUT/$model.onnx.data")
    size=$(( ($(stat -c %s "$OUT/$model.onnx") + data) / 1000000 ))
    compare "inspect $model.onnx ($size MB with its data)" inspect "$OUT/$model.onnx"
done
TRACE=(trace --model "$OUT/resnet50_ts.onnx" --data "$OUT/resnet50_data.npz" --samples 2 --batch-size 2 --method hutchinson --probes 2 --seed 1)
for r in $(seq "$REPEAT"); do
    before=$(peak before "$BEFORE" "${TRACE[@]}" --out "$WORK/before.json")
    after=$(peak after "$HUTCH" "${TRACE[@]}" --out "$WORK/after.json")
    same=identical; cmp -s "$WORK/before.json" "$WORK/after.json" || same=DIFFERENT
    echo "trace resnet50_ts.onnx (2 examples, Hutchinson, 2 probes), run $r: peak resident before $before MB, after $after MB (after/before $(echo "scale=2; $after / $before" | bc)); sensitivity.json $same"
done
