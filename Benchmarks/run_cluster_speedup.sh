#!/usr/bin/env bash
# Cluster speed-up (issue 6): `hutch run` with 1 worker and with 2 workers, one compute thread each,
# on the embedded example (Hutchinson, fixed probes), alternated back to back REPS times. Checks that
# every sensitivity.json is byte-identical, then prints the wall times, their medians and the ratio,
# with the CPU time they used and /proc/loadavg before and after (other work on the machine lowers
# the speed-up; the CPU times show the cluster's own overhead whatever the load).
# Usage: Benchmarks/run_cluster_speedup.sh [REPS] [PROBES]   (outputs in .build/cluster-speedup/;
# HUTCH=path/to/hutch skips the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS="${1:-3}"
PROBES="${2:-120}"
OUT=.build/cluster-speedup
if [[ -z "${HUTCH:-}" ]]; then
    swift build -c release --product hutch >&2
    HUTCH="$(swift build -c release --show-bin-path)/hutch"
fi
rm -rf "$OUT"
mkdir -p "$OUT"

echo "load before: $(cat /proc/loadavg)"
declare -A times=([1]="" [2]="") cpu=([1]="" [2]="")
for rep in $(seq 1 "$REPS"); do
    for workers in 1 2; do
        dir="$OUT/w$workers-r$rep"
        # wall time, and CPU time of the coordinator and its workers (user + system)
        /usr/bin/time -f '%e %U %S' -o "$dir.time" \
            "$HUTCH" run --workers "$workers" --threads 1 --method hutchinson --probes "$PROBES" --out "$dir" \
            > "$dir.stdout" 2> "$dir.stderr" \
            || { echo "FAIL: hutch run --workers $workers failed; see $dir.stderr:" >&2; tail -5 "$dir.stderr" >&2; exit 1; }
        read -r t user sys < "$dir.time"
        times[$workers]+="$t "
        cpu[$workers]+="$(echo "$user + $sys" | bc -l) "
        printf 'rep %d, %d worker(s): %.2f s wall, %.2f s CPU\n' "$rep" "$workers" "$t" "$(echo "$user + $sys" | bc -l)"
        if ! cmp -s "$OUT/w1-r1/sensitivity.json" "$dir/sensitivity.json"; then
            echo "FAIL: $dir/sensitivity.json differs from $OUT/w1-r1/sensitivity.json" >&2
            exit 1
        fi
    done
done
echo "load after: $(cat /proc/loadavg)"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m1=$(echo "${times[1]}" | median)
m2=$(echo "${times[2]}" | median)
echo "all $((REPS * 2)) sensitivity.json files are byte-identical"
printf 'median CPU time 1 worker: %.2f s, 2 workers: %.2f s (the cluster overhead)\n' "$(echo "${cpu[1]}" | median)" "$(echo "${cpu[2]}" | median)"
printf 'median 1 worker: %.2f s, 2 workers: %.2f s, speed-up %.2fx\n' "$m1" "$m2" "$(echo "$m1 / $m2" | bc -l)"
