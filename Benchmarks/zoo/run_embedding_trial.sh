#!/usr/bin/env bash
# Hugging Face GPT-2 and BERT-base (TorchScript exports of export_zoo.py, random weights, 2
# examples of 16 tokens) as a user runs them now that token tables are layers: hutch inspect (the
# embedding row), a two-probe Hutchinson trace, plans at --avg-bits 4 and at 8 bits everywhere,
# hutch quantize (--packed), and onnxruntime running each quantized model against the float one
# (check_token_model.py). Random weights: the 4-bit numbers say the export runs, not how accurate
# a trained model would be; the 8-bit ones that the quantized tables and layers compute the model.
#   Benchmarks/zoo/run_embedding_trial.sh [EXPORT_DIR]   (raw output: Benchmarks/zoo/embedding-trial-DATE.txt)
source "$(dirname "$0")/../model-scripts.sh"
RAW=Benchmarks/zoo/embedding-trial-$(date +%Y-%m-%d).txt
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
{
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), hutch $(git rev-parse --short HEAD)"
    for name in hf_gpt2 hf_bert; do
        model="$OUT/${name}_ts.onnx" data="$OUT/${name}_data.npz"
        echo "## $name"
        "$HUTCH" inspect "$model" | grep -E "quantizable layers|embedding|lm_head|classifier"
        start=$(date +%s)
        "$HUTCH" trace --model "$model" --data "$data" --samples 2 --batch-size 2 --method hutchinson --probes 2 \
            --out "$WORK/$name-s.json" 2>&1 | grep -E "embedding|Gather|layers,"
        echo "trace: $(( $(date +%s) - start )) s"
        "$PY" -c "import json, sys; [print('tie_group', l['node'], l['tie_group']) for l in json.load(open(sys.argv[1]))['layers'] if l.get('tie_group')]" "$WORK/$name-s.json"
        for budget in "--avg-bits 4" "--bits 8"; do
            tag=${budget// /}
            # shellcheck disable=SC2086  # the budget is two words
            "$HUTCH" plan --sensitivity "$WORK/$name-s.json" $budget --out "$WORK/$name$tag.json" 2>&1 | tail -1
            start=$(date +%s)
            "$HUTCH" quantize --model "$model" --plan "$WORK/$name$tag.json" --data "$data" --out "$WORK/$name$tag.onnx" \
                --packed "$WORK/$name$tag.hutchq" 2>&1 | tail -1
            echo "quantize: $(( $(date +%s) - start )) s, $(stat -c %s "$WORK/$name$tag.onnx") bytes ONNX, $(stat -c %s "$WORK/$name$tag.hutchq") bytes packed"
            "$PY" Benchmarks/zoo/check_token_model.py "$WORK/$name$tag.onnx" "$model" "$data"
        done
    done
} 2>&1 | tee "$RAW"
echo "raw output: $RAW"
