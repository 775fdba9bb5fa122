#!/usr/bin/env bash
# Peak resident memory of loading a large calibration set: torchvision ResNet-18 (224x224, 1000
# classes, random weights, TorchScript export) with 512 random examples (308 MB of float32) as an
# .npz stored (numpy.savez) and deflated (numpy.savez_compressed). For each file:
#   - `hutch trace` (Hutchinson, 2 examples, 2 probes): the data set is loaded, 2 examples used;
#   - `hutch coordinator` with 2 workers (same job, --avg-bits 4): the coordinator loads the data
#     set and calibrates activation ranges on all 512 examples, each worker loads it for its tasks.
# And the load alone: `hutch trace` of the embedded digits model (8x8 images, a negligible
# computation) on 2,000,000 random examples (x float32 [2000000, 1, 8, 8] = 512 MB, y int64 =
# 16 MB), stored and deflated, whose peak is the data set's load.
# Every process runs under /usr/bin/time for its wall time and peak resident memory. Raw output:
# Benchmarks/cluster/data-memory-DATE-LABEL.txt (RAW=FILE overrides) with the date, CPU, load
# (uptime before and after) and commit. HUTCH=PATH LABEL=before COMMIT=REV run another build (e.g.
# main's, for a before/after pair). Needs the fixtures' virtualenv to make the files.
#   Benchmarks/cluster/run_data_memory.sh [EXPORT_DIR]   (default /tmp/hutch-zoo, shared with zoo/)
source "$(dirname "$0")/../model-scripts.sh"
mkdir -p "$OUT"
MODEL="$OUT/resnet18_ts.onnx"
if [ ! -f "$MODEL" ]; then
  "$PY" - "$MODEL" <<'PYEOF'
import sys, torch, torchvision
torch.manual_seed(0)
m = torchvision.models.resnet18(weights=None).eval()
torch.onnx.export(m, (torch.randn(2, 3, 224, 224),), sys.argv[1], dynamo=False, input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
PYEOF
fi
if [ ! -f "$OUT/big512_stored.npz" ] || [ ! -f "$OUT/big512_deflated.npz" ] || [ ! -f "$OUT/digits2m_stored.npz" ] \
   || [ ! -f "$OUT/digits2m_deflated.npz" ]; then
  "$PY" - "$OUT" <<'PYEOF'
import sys, numpy as np
out = sys.argv[1]
for name, seed, shape, classes in [("big512", 0, (512, 3, 224, 224), 1000), ("digits2m", 1, (2_000_000, 1, 8, 8), 10)]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32) if name == "big512" else rng.random(shape, dtype=np.float32)
    y = rng.integers(0, classes, shape[0]).astype(np.int64)
    np.savez(f"{out}/{name}_stored.npz", x=x, y=y)
    np.savez_compressed(f"{out}/{name}_deflated.npz", x=x, y=y)
PYEOF
fi
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
LABEL=${LABEL:-after}
RAW=${RAW:-Benchmarks/cluster/data-memory-$(date +%Y-%m-%d)-$LABEL.txt}
TIME="%e s wall, %M KB peak resident"
JOB=(--samples 2 --batch-size 2 --method hutchinson --probes 2)
UPTIME_BEFORE=$(uptime)
for kind in stored deflated; do
  /usr/bin/time -f "$kind load (digits model, 2,000,000 examples): $TIME" -o "$WORK/$kind-l.time" "$HUTCH" trace \
    --model Examples/digits_resnet.onnx --data "$OUT/digits2m_$kind.npz" "${JOB[@]}" --threads 1 --out "$WORK/$kind-l.json" \
    > /dev/null 2> "$WORK/$kind-l.err" || { cat "$WORK/$kind-l.err"; exit 1; }
  DATA="$OUT/big512_$kind.npz"
  /usr/bin/time -f "$kind trace: $TIME" -o "$WORK/$kind-t.time" "$HUTCH" trace --model "$MODEL" --data "$DATA" "${JOB[@]}" \
    --threads 1 --out "$WORK/$kind-s.json" > /dev/null 2> "$WORK/$kind-t.err" || { cat "$WORK/$kind-t.err"; exit 1; }
  PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  /usr/bin/time -f "$kind coordinator: $TIME" -o "$WORK/$kind-c.time" "$HUTCH" coordinator --bind "tcp://127.0.0.1:$PORT" --workers 2 \
    --model "$MODEL" --data "$DATA" "${JOB[@]}" --avg-bits 4 --state "$WORK/$kind-state" > /dev/null 2> "$WORK/$kind-c.err" &
  COORD=$!
  for w in 1 2; do
    /usr/bin/time -f "$kind worker $w: $TIME" -o "$WORK/$kind-w$w.time" "$HUTCH" worker --connect "tcp://127.0.0.1:$PORT" \
      --name "w$w" --threads 1 2> "$WORK/$kind-w$w.err" &
  done
  wait $COORD || { tail -5 "$WORK/$kind-c.err"; exit 1; }
  wait
done
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${COMMIT:-commit $(git rev-parse --short HEAD)}, $HUTCH"
  echo "# uptime before: $UPTIME_BEFORE"
  echo "# uptime after: $(uptime)"
  echo "# ResNet-18 (torchvision, random weights, TorchScript export), 512 random examples (x float32 [512, 3, 224, 224] = 308 MB), trace and coordinator: ${JOB[*]}, coordinator --avg-bits 4 with 2 workers of 1 thread"
  ls -l "$OUT/big512_stored.npz" "$OUT/big512_deflated.npz" "$OUT/digits2m_stored.npz" "$OUT/digits2m_deflated.npz" | awk '{ print "# " $5 " bytes " $9 }'
  for kind in stored deflated; do
    cat "$WORK/$kind-l.time" "$WORK/$kind-t.time" "$WORK/$kind-c.time" "$WORK/$kind-w1.time" "$WORK/$kind-w2.time"
    echo "$kind digits sensitivity.json sha256 $(sha256sum < "$WORK/$kind-l.json" | cut -c1-16)"
    echo "$kind sensitivity.json sha256 $(sha256sum < "$WORK/$kind-s.json" | cut -c1-16), cluster plan.json sha256 $(sha256sum < "$WORK/$kind-state/plan.json" | cut -c1-16), quantized.onnx sha256 $(sha256sum < "$WORK/$kind-state/quantized.onnx" | cut -c1-16)"
  done
} | tee "$RAW"
