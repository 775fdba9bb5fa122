#!/usr/bin/env bash
# Whether two hutch builds give the same bits: `hutch trace` (Hutchinson, --probes-per-call 4 and 8,
# 2 threads, no quantization errors) on one model and data set with each, and cmp of the two
# sensitivity.json files per setting (every form and trace printed there in full precision).
# Usage: Benchmarks/run_trace_bits_ab.sh BEFORE_HUTCH AFTER_HUTCH MODEL.onnx DATA.npz [PROBES]
#   exit status 1 when any pair differs. Record with record.sh. AFTER_ARGS="...": extra flags for
#   the AFTER runs only (e.g. "--memory 3": one chunk in flight against the default's two).
set -euo pipefail
before=$1 after=$2 model=$3 data=$4 probes=${5:-8}
work=$(mktemp -d /tmp/hutch-bits.XXXXXX)
trap 'rm -rf "$work"' EXIT
status=0
for k in 4 8; do
    for side in before after; do
        bin=$before extra=()
        [[ $side == after ]] && { bin=$after; read -r -a extra <<< "${AFTER_ARGS:-}"; }
        "$bin" trace --model "$model" --data "$data" --method hutchinson --probes "$probes" --probes-per-call "$k" \
            --bits none --threads 2 --out "$work/$side-$k.json" "${extra[@]}" > /dev/null
    done
    echo "probes per call $k: before $(sha256sum < "$work/before-$k.json" | cut -c1-16), after $(sha256sum < "$work/after-$k.json" | cut -c1-16)"
    if cmp -s "$work/before-$k.json" "$work/after-$k.json"; then echo "  byte-identical"; else echo "  DIFFERENT"; status=1; fi
done
exit $status
