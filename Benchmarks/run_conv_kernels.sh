#!/usr/bin/env bash
# Convolution kernels on every ResNet-20 conv shape (GFLOP per CPU-second): `BENCH_MODEL=0
# EngineBenchmark` prints sgemm, single kernels and the table of forward paths (direct, Winograd,
# im2col, pointwise, the dispatched choice); run once as the CPU allows (AVX-512 when present) and
# once with HUTCH_AVX512=0 (the direct kernels' AVX2 build; same bits).
# Usage: Benchmarks/run_conv_kernels.sh   (BIN=DIR: an existing release build's directory)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${BIN:-}" ]]; then
    swift build -c release --product EngineBenchmark >&2
    BIN=.build/release
fi
echo "== default (AVX-512 direct kernels when the CPU has AVX-512)"
HUTCH_THREADS=2 BENCH_MODEL=0 "$BIN/EngineBenchmark" Benchmarks/models/resnet20.onnx
echo
echo "== HUTCH_AVX512=0 (AVX2 direct kernels)"
HUTCH_THREADS=2 BENCH_MODEL=0 HUTCH_AVX512=0 "$BIN/EngineBenchmark" Benchmarks/models/resnet20.onnx
