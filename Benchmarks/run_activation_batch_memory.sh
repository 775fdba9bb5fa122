#!/usr/bin/env bash
# Peak memory of `hutch trace --activations` (Hutchinson, 4 probes) at a batch above 8 examples,
# with two hutch builds: before activation forms ran as chunks of 8 examples and after. Prints
# each run's wall seconds and peak RSS, whether the weight traces are byte-identical, and the
# largest relative difference of the activation traces (the chunks' forms are added in chunk
# order, so their last bits move).
# Usage: Benchmarks/run_activation_batch_memory.sh BEFORE_HUTCH AFTER_HUTCH MODEL.onnx DATA.npz
#   Record with record.sh.
set -euo pipefail
before=$1 after=$2 model=$3 data=$4
work=$(mktemp -d /tmp/hutch-act.XXXXXX)
trap 'rm -rf "$work"' EXIT
for side in before after; do
    bin=$before; [[ $side == after ]] && bin=$after
    /usr/bin/time -f "$side ($bin): %e s wall, peak RSS %M KB" "$bin" trace --model "$model" --data "$data" \
        --method hutchinson --probes 4 --activations --bits none --threads 2 --out "$work/$side.json" 2>&1 >/dev/null | tail -1
done
python3 - "$work/before.json" "$work/after.json" <<'PY'
import json, sys
a, b = (json.load(open(p))["layers"] for p in sys.argv[1:3])
print("weight traces byte-identical:", [l["trace"] for l in a] == [l["trace"] for l in b])
rel = max(abs(x["activation"]["trace"] - y["activation"]["trace"]) / max(abs(x["activation"]["trace"]), 1e-30) for x, y in zip(a, b))
print(f"activation traces: largest relative difference {rel:.3g} over {len(a)} layers")
PY
