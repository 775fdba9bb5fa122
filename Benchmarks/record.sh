#!/usr/bin/env bash
# Runs one benchmark command and keeps its raw output with what it was measured on: the date, the
# commit, the CPU (lscpu's model name), the core count and the load average before and after.
# Every number the README quotes comes from such a file in Benchmarks/results/.
#
# Usage: Benchmarks/record.sh NAME COMMAND [ARGS...]
#   writes Benchmarks/results/NAME.txt (and prints it as it goes).
#   BENCH_MAX_LOAD (default 1.5): refuse to start while the 1-minute load average is at or above
#   it (other builds would be measured too); BENCH_WAIT=S waits up to S seconds for it to drop
#   first. BENCH_MAX_LOAD=inf records anyway; the load is in the file either way. BENCH_NOTE=TEXT
#   adds a line (e.g. how the binaries were built).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 2 ]] || { echo "usage: $0 NAME COMMAND [ARGS...]" >&2; exit 2; }
name="$1"; shift
max="${BENCH_MAX_LOAD:-1.5}"
wait_s="${BENCH_WAIT:-0}"
load1() { cut -d' ' -f1 /proc/loadavg; }
waited=0
while [[ "$max" != inf ]] && (( $(echo "$(load1) >= $max" | bc -l) )); do
    if (( waited >= wait_s )); then
        echo "$0: load average $(load1) >= $max: the machine is busy, not measuring (BENCH_WAIT=S to wait)" >&2
        exit 3
    fi
    sleep 15; waited=$((waited + 15))
done
mkdir -p Benchmarks/results
out="Benchmarks/results/$name.txt"
{
    echo "# $name"
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Benchmarks Package.swift || echo ' (with uncommitted changes)')"
    # lscpu's model name alone ("AMD EPYC") does not tell generations apart: family and model do
    echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) cores available, $(grep -o -w -m1 -E 'avx512f' /proc/cpuinfo || echo 'no avx512f'), $(grep -o -w -m1 avx2 /proc/cpuinfo || echo 'no avx2')"
    echo "memory: $(free -g | awk '/^Mem:/ { print $2 " GiB" }')"
    [[ -n "${BENCH_NOTE:-}" ]] && echo "note: $BENCH_NOTE"
    echo "command: $*"
    echo "load before: $(cat /proc/loadavg)"
    echo
} | tee "$out"
start=$(date +%s.%N)
# a failing command still gets its footer (set -e would stop here)
set +e
"$@" 2>&1 | tee -a "$out"
status=${PIPESTATUS[0]}
set -e
{
    echo
    echo "load after: $(cat /proc/loadavg)"
    printf 'wall time of the whole command: %.1f s; exit status %d\n' "$(echo "$(date +%s.%N) - $start" | bc -l)" "$status"
} | tee -a "$out"
exit "$status"
