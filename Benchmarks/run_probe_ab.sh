#!/usr/bin/env bash
# Hutch per probe on the ImageNet exports of run_imagenet_probe.sh, two SensitivityBenchmark builds
# in alternated rounds (run_ab.sh): 4 probes per call, 2 threads, each run's wall seconds per probe
# and its process CPU seconds (user + system, loading included), peak RSS and minor page faults from /usr/bin/time,
# the steadier measure on a shared machine. Ratios: Benchmarks/probe_ab_ratio.py on the output.
# Usage: Benchmarks/run_probe_ab.sh BEFORE_BIN AFTER_BIN [ROUNDS] [MODELS]
#   MODELS: name:batch,... (default resnet18:32); EXPORT_DIR (default /tmp/hutch-probe)
set -euo pipefail
cd "$(dirname "$0")/.."
before=$1 after=$2 rounds=${3:-2} models=${4:-resnet18:32}
dir=${EXPORT_DIR:-/tmp/hutch-probe}
for spec in ${models//,/ }; do
    name=${spec%:*} batch=${spec#*:}
    echo "## model $name batch $batch"
    Benchmarks/run_ab.sh "$rounds" "$before" "$after" bash -c \
        '/usr/bin/time -f "process: %U s user, %S s system, peak RSS %M KB, %R minor page faults" "$BIN" --model "$0" --data "$1" --threads 2 \
            --only probes --per-call 4 --probes 4 2>&1 | grep -E "per HVP call|^process:"' \
        "$dir/$name.onnx" "$dir/${name}_b$batch.npz"
done
