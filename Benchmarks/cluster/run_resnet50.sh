#!/usr/bin/env bash
# torchvision ResNet-50 (224x224, 1000 classes, random weights, PyTorch's default exporter with its
# .onnx.data) through every phase on a local cluster: a coordinator and 2 workers as separate
# processes, each under /usr/bin/time for its wall time and peak resident memory. Hutchinson
# traces on 8 random examples (2 probes), a 4-bit-average plan, the layers quantized on the
# workers (layer4's 2.36 M-weight convolutions are over the 1 MiB RESULT limit: pulled as blobs).
# Raw output: Benchmarks/cluster/resnet50-DATE.txt (RAW=FILE overrides), with the peaks run.json
# records (each worker's as it reported it on its RESULTs), and `uptime` before and after (the
# machine's load). Needs the fixtures' virtualenv. HUTCH=PATH COMMIT=REV run another build
# (e.g. main's, for a before/after pair; COMMIT names it in the raw output).
# FETCH=1: the workers run with --fetch-blobs (they fetch the model, re-encoded with its tensors
# inside, and the data from the coordinator instead of reading the files; raw output -fetch.txt).
#   Benchmarks/cluster/run_resnet50.sh [EXPORT_DIR]   (default /tmp/hutch-zoo, shared with zoo/)
source "$(dirname "$0")/../model-scripts.sh"
mkdir -p "$OUT"
if [ ! -f "$OUT/resnet50_dynamo.onnx" ] || [ ! -f "$OUT/resnet50_data.npz" ]; then
  "$PY" - "$OUT" <<'PYEOF'
import sys, numpy as np, torch, torchvision
out = sys.argv[1]
torch.manual_seed(0)
m = torchvision.models.resnet50(weights=None).eval()
x = torch.randn(2, 3, 224, 224)
torch.onnx.export(m, (x,), f"{out}/resnet50_dynamo.onnx", dynamo=True, input_names=["x"], output_names=["logits"],
                  dynamic_shapes={"x": {0: torch.export.Dim("N", min=2, max=1024)}})
np.savez(f"{out}/resnet50_data.npz", x=torch.randn(8, 3, 224, 224).numpy(), y=np.random.randint(0, 1000, 8).astype(np.int64))
PYEOF
fi
WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
UPTIME_BEFORE=$(uptime)
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
FETCH_FLAGS=(); [ "${FETCH:-0}" = 1 ] && FETCH_FLAGS=(--fetch-blobs)
RAW=${RAW:-Benchmarks/cluster/resnet50-$(date +%Y-%m-%d)${FETCH_FLAGS:+-fetch}.txt}
TIME="%e s wall, %M KB peak resident"
/usr/bin/time -f "coordinator: $TIME" -o "$WORK/c.time" "$HUTCH" coordinator --bind "tcp://127.0.0.1:$PORT" --workers 2 \
  --model "$OUT/resnet50_dynamo.onnx" --data "$OUT/resnet50_data.npz" --samples 8 --batch-size 4 --method hutchinson \
  --probes 2 --avg-bits 4 --state "$WORK/state" > "$WORK/c.out" 2> "$WORK/c.err" &
COORD=$!
for w in 1 2; do
  /usr/bin/time -f "worker $w: $TIME" -o "$WORK/w$w.time" "$HUTCH" worker --connect "tcp://127.0.0.1:$PORT" --name "w$w" \
    --threads 1 "${FETCH_FLAGS[@]}" 2> "$WORK/w$w.err" &
done
wait $COORD
wait
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), commit ${COMMIT:-$(git rev-parse --short HEAD)}"
  echo "# uptime before: $UPTIME_BEFORE"
  echo "# uptime after: $(uptime)"
  echo "# ResNet-50 (torchvision, random weights, dynamo export with external data), 8 examples, batch 4, 2 probes, --avg-bits 4, 2 workers of 1 thread${FETCH_FLAGS:+ with --fetch-blobs}"
  cat "$WORK/c.time" "$WORK/w1.time" "$WORK/w2.time"
  grep -E "sensitivity complete|plan written|quantize:|run record" "$WORK/c.err" | sed 's/^hutch: //'
  tail -1 "$WORK/c.out"
  cat "$WORK/w1.err" "$WORK/w2.err" | grep -o "worker w[12]: fetched blob.*" || true
  "$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print("run.json: workers", r["workers"], "worker_peak_resident_bytes", r.get("worker_peak_resident_bytes"), "coordinator_peak_resident_bytes", r.get("coordinator_peak_resident_bytes"))' "$WORK/state/run.json"
} | tee "$RAW"
