#!/usr/bin/env bash
# hutch run --measured against hutch trace --measured on exported torchvision models: the
# sensitivity.json of a local cluster (2 workers of one thread each; the dynamo export's workers
# fetch the model and data as blobs) must be the bytes one process (all cores) writes. Hutchinson
# traces (2 probes) on the exports' 2 examples in batches of 1, measured losses at two widths.
# A check, not a timing: it prints IDENTICAL or DIFFERENT per model and exits 1 on a difference.
# Raw output: Benchmarks/cluster/measured-zoo-DATE.txt (RAW=FILE overrides).
#   Benchmarks/cluster/check_measured_zoo.sh [EXPORT_DIR]   (default /tmp/hutch-zoo: Benchmarks/zoo/export_zoo.py makes it)
source "$(dirname "$0")/../model-scripts.sh"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
RAW=${RAW:-Benchmarks/cluster/measured-zoo-$(date +%Y-%m-%d).txt}
status=0
{
  echo "# hutch run --measured vs hutch trace --measured on exported models"
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "commit: $(git rev-parse --short HEAD)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  for entry in "resnet18_ts resnet18 4,8" "mobilenet_v2_dynamo mobilenet_v2 3,8 --fetch-blobs"; do
    set -- $entry
    model="$OUT/$1.onnx" data="$OUT/$2_data.npz" bits=$3 fetch=${4:-}
    flags=(--model "$model" --data "$data" --batch-size 1 --method hutchinson --probes 2 --bits "$bits" --measured)
    start=$(date +%s)
    "$HUTCH" trace "${flags[@]}" --out "$WORK/$1-trace.json" > /dev/null 2> "$WORK/$1-trace.err"
    middle=$(date +%s)
    "$HUTCH" run --workers 2 $fetch "${flags[@]}" --out "$WORK/$1-run" > /dev/null 2> "$WORK/$1-run.err"
    end=$(date +%s)
    tasks=$(grep -o 'and [0-9]* measured-loss task(s)' "$WORK/$1-run.err" | head -1)
    if cmp -s "$WORK/$1-trace.json" "$WORK/$1-run/sensitivity.json"; then verdict=IDENTICAL; else verdict=DIFFERENT; status=1; fi
    echo "$1 --bits $bits $fetch: trace $((middle - start)) s, run --workers 2 $((end - middle)) s ($tasks): $verdict"
  done
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit $status   # the group's status is the pipeline's (pipefail)
} | tee "$RAW"
