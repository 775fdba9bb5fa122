#!/usr/bin/env bash
# Where a Hutchinson probe's time goes: `perf record -g` of SensitivityBenchmark --only probes (4 probes
# per call, the imagenet_probe.py setting), summarized by leaf symbol (self time) and by the inclusive
# time of the kernel entry points and sweeps (children), demangled. Shares of samples, so a loaded
# machine changes them little; the s/probe line is wall time and does change. The SensitivityBenchmark
# run also times one cblas_sgemm 1024^3 (its "sgemm_kernel" share is mostly that, not the probe).
# Usage: Benchmarks/profile_probe.sh MODEL.onnx DATA.npz OUT.txt
#   (BIN=DIR: a release build's directory, default .build/release; THREADS=2; PROBES=8;
#   CALLGRAPH=dwarf,16384 FREQ=250: unwinds through OpenBLAS too, whose frames the default frame
#   pointers lose, so its GEMMs count under the convolution that called them; much larger data)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release}
DEMANGLE=${DEMANGLE:-swift-demangle}
data=$(mktemp /tmp/hutch-perf.XXXXXX)
trap 'rm -f "$data"' EXIT
{
    echo "# $(date -u +%FT%TZ) cpu:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) family$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2)" \
         "commit $(git rev-parse --short HEAD) threads ${THREADS:-2}" \
         "call graph ${CALLGRAPH:-fp}"
    echo "# model $1 data $2"
    echo "# uptime before: $(uptime)"
    perf record --call-graph "${CALLGRAPH:-fp}" ${FREQ:+-F "$FREQ"} -o "$data" "$BIN/SensitivityBenchmark" --model "$1" --data "$2" --threads "${THREADS:-2}" \
        --only probes --per-call 4 --probes "${PROBES:-8}" 2>&1 | grep -v '^\[ perf'
    echo "# uptime after: $(uptime)"
    echo "## leaf symbols (self time, top 25)"
    perf report -i "$data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep '%' | sed -n 1,25p | "$DEMANGLE" --simplified
    echo "## inclusive time (children) of the kernel entry points and sweeps"
    perf report -i "$data" --children --sort symbol --stdio -g none 2>/dev/null | grep '%' \
        | grep -E 'Kernels|Executor|QuadraticForms|sgemm|Direct' | sed -n 1,40p | "$DEMANGLE" --simplified
} > "$3"
