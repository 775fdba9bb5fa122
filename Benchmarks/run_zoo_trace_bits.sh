#!/usr/bin/env bash
# Whether two hutch builds give the same sensitivity.json bits on the zoo exports (both exporters; Benchmarks/zoo/export_zoo.py):
# run_trace_bits_ab.sh per model. Usage: Benchmarks/run_zoo_trace_bits.sh BEFORE_HUTCH [AFTER_HUTCH] (ZOO=/tmp/hutch-zoo; MODELS="name ..." a subset)
set -uo pipefail
cd "$(dirname "$0")/.."
for m in ${MODELS:-hf_bert_ts hf_bert_dynamo hf_bert_mask_ts hf_gpt2_dynamo hf_gpt2_ts hf_vit_dynamo hf_swin_ts hf_convnext_dynamo convnext_tiny_ts mobilenet_v3_small_dynamo densenet121_ts shufflenet_v2_x1_0_dynamo squeezenet1_1_ts inception_v3_dynamo efficientnet_b0_ts swin_t_dynamo regnet_y_400mf_dynamo}; do
    base=${m%_ts}; base=${base%_dynamo}
    echo "## $m"
    Benchmarks/run_trace_bits_ab.sh "$1" "${2:-.build/release/hutch}" "${ZOO:-/tmp/hutch-zoo}/$m.onnx" "${ZOO:-/tmp/hutch-zoo}/${base}_data.npz" 8 2>&1 | grep -E '^probes per call|byte-identical|DIFFERENT'
done
