#!/usr/bin/env bash
# Peak memory of `hutch trace --activations` (Hutchinson, 4 probes) at a batch above 8 examples,
# with two hutch builds: before activation forms ran as chunks of 8 examples and after. Prints
# each run's wall seconds and peak RSS, whether the weight traces are byte-identical, and the
# largest relative difference of the activation traces (the chunks' forms are added in chunk
# order, so their last bits move).
# Usage: Benchmarks/run_activation_batch_memory.sh BEFORE_HUTCH AFTER_HUTCH MODEL.onnx DATA.npz
#   Record with record.sh. AFTER_ARGS="...": extra flags for the AFTER run only (e.g. the same
#   build twice with AFTER_ARGS="--memory 2.5": the budget's peak, and whether it changed a bit).
set -euo pipefail
before=$1 after=$2 model=$3 data=$4
work=$(mktemp -d /tmp/hutch-act.XXXXXX)
trap 'rm -rf "$work"' EXIT
for side in before after; do
    bin=$before extra=()
    [[ $side == after ]] && { bin=$after; read -r -a extra <<< "${AFTER_ARGS:-}"; }
    /usr/bin/time -f "$side ($bin ${extra[*]}): %e s wall, peak RSS %M KB" "$bin" trace --model "$model" --data "$data" \
        --method hutchinson --probes 4 --activations --bits none --threads 2 --out "$work/$side.json" "${extra[@]}" 2>&1 >/dev/null | tail -1
done
python3 - "$work/before.json" "$work/after.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["layers"] for p in sys.argv[1:3])
print("weight traces byte-identical:", [l["trace"] for l in a] == [l["trace"] for l in b])
rel = max(abs(x["activation"]["trace"] - y["activation"]["trace"]) / max(abs(x["activation"]["trace"]), 1e-30) for x, y in zip(a, b))
print(f"activation traces: largest relative difference {rel:.3g} over {len(a)} layers")
print("activation traces byte-identical:", [l["activation"] for l in a] == [l["activation"] for l in b])
PY
