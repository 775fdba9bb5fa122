#!/usr/bin/env bash
# How far two hutch builds' Hutchinson traces are apart where their bits may differ (a change of
# summation order, not of method): `hutch trace` (Hutchinson, 2 threads, no quantization errors)
# with each on one model and data set, then per layer |after - before| / max(|before|, the largest
# |trace| / 1e6), the largest of them, and the layer it is on, and the largest |after - before| in
# units of the layer's standard error. The same probes on both sides.
# Usage: Benchmarks/run_trace_agreement.sh BEFORE_HUTCH AFTER_HUTCH MODEL.onnx DATA.npz [PROBES]
#   Record with record.sh. Exit 1 when the largest relative difference is over 1e-3 (Float sums in
#   another order differ most on layers whose probes' forms cancel).
set -euo pipefail
before=$1 after=$2 model=$3 data=$4 probes=${5:-4}
work=$(mktemp -d /tmp/hutch-agree.XXXXXX)
trap 'rm -rf "$work"' EXIT
for side in before after; do
    bin=$before; [[ $side == after ]] && bin=$after
    /usr/bin/time -f "$side: %e s wall, peak RSS %M KB" "$bin" trace --model "$model" --data "$data" --method hutchinson \
        --probes "$probes" --bits none --threads 2 --out "$work/$side.json" > /dev/null
done
python3 - "$work/before.json" "$work/after.json" <<'PY'
import json, sys
b, a = (json.load(open(p))["layers"] for p in sys.argv[1:3])
assert [l["weight"] for l in b] == [l["weight"] for l in a], "different layers"
scale = max(abs(l["trace"]) for l in b) / 1e6
rel = [(abs(y["trace"] - x["trace"]) / max(abs(x["trace"]), scale), x["weight"]) for x, y in zip(b, a)]
worst = max(rel)
i = [r for r in rel].index(worst)
print(f"{len(b)} layers; largest relative difference {worst[0]:.3g} (layer {worst[1]}: {b[i]['trace']:.9g} and "
      f"{a[i]['trace']:.9g}, standard error {b[i]['standard_error']:.3g}; largest |trace| {scale * 1e6:.6g}); "
      f"mean {sum(r for r, _ in rel) / len(rel):.3g}")
# the same differences in units of each layer's standard error (what a plan can see of them)
se = [(abs(y["trace"] - x["trace"]) / x["standard_error"], x["weight"]) for x, y in zip(b, a) if x["standard_error"] > 0]
if se:
    print(f"largest difference in standard errors {max(se)[0]:.3g} (layer {max(se)[1]}); mean {sum(r for r, _ in se) / len(se):.3g}")
sys.exit(1 if worst[0] > 1e-3 else 0)
PY
