#!/usr/bin/env bash
# The torchvision zoo and five Hugging Face models through hutch, as a new user would: each
# exported by both PyTorch exporters (export_zoo.py), then `hutch inspect` and, for
# the accepted ones, a two-probe Hutchinson `hutch trace` on 2 examples at 224x224 (299 for Inception-V3).
# Prints a Markdown table and writes Benchmarks/zoo/zoo-DATE.json (raw output, with date, CPU and
# load). Not run by CI: it needs PyTorch (see Tests/Fixtures/README.md) and ~2 GB of exports.
#   Benchmarks/zoo/run_zoo.sh [EXPORT_DIR]     (default /tmp/hutch-zoo; exports are reused)
#   ONLY="hf_gpt2" Benchmarks/zoo/run_zoo.sh   runs only those models (raw output zoo-DATE-hf_gpt2.json)
source "$(dirname "$0")/../model-scripts.sh"
"$PY" Benchmarks/zoo/export_zoo.py "$OUT"   # exports what exports.json does not list yet
ONLY=${ONLY:-}
RAW=Benchmarks/zoo/zoo-$(date +%Y-%m-%d)${ONLY:+-${ONLY// /-}}.json
export ONLY
"$PY" - "$OUT" "$HUTCH" "$RAW" <<'PYEOF'
import json, os, platform, subprocess, sys, tempfile, time
out, hutch, raw = sys.argv[1:4]
# outputs go to a scratch directory, apart from the exports
scratch = tempfile.mkdtemp()
exports = json.load(open(os.path.join(out, "exports.json")))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
rows = []
only = os.environ.get("ONLY", "").split()
for key, status in exports["status"].items():
    name, exporter = key.rsplit("_", 1)
    if only and name not in only:
        continue
    row = {"model": name, "exporter": exporter, "accepted": False}
    if status != "exported":
        row["refusal"] = status
        rows.append(row); continue
    model = os.path.join(out, key + ".onnx")
    r = subprocess.run([hutch, "inspect", model, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        row["refusal"] = r.stderr.strip().splitlines()[-1][:300] if r.stderr.strip() else f"exit {r.returncode}"
        rows.append(row); continue
    row["accepted"] = True
    info = json.loads(r.stdout)
    row["layers"] = len(info["layers"])
    macs = [l["macs_per_example"] for l in info["layers"]]
    row["gmacs_per_example"] = round(sum(macs) / 1e9, 3) if None not in macs else None
    start = time.time()
    t = subprocess.run([hutch, "trace", "--model", model, "--data", os.path.join(out, name + "_data.npz"), "--samples", "2",
                        "--batch-size", "2", "--method", "hutchinson", "--probes", "2", "--out", os.path.join(scratch, "sensitivity.json")],
                       capture_output=True, text=True)
    row["trace_seconds"] = round(time.time() - start, 2)
    if t.returncode != 0:
        row["trace_error"] = t.stderr.strip().splitlines()[-1][:300] if t.stderr.strip() else f"exit {t.returncode}"
    rows.append(row)
doc = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpu": cpu, "cores": os.cpu_count(), "load": os.getloadavg(),
       "torch": exports["torch"], "torchvision": exports["torchvision"], "transformers": exports.get("transformers"),
       "rows": rows}
json.dump(doc, open(raw, "w"), indent=1)
print(f"| model | exporter | accepted | layers | GMAC/example | hutch trace, 2 probes, 2 examples (s) | refusal |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    refusal = r.get("refusal", "").replace("hutch: error: ", "").split(": ", 1)[-1][:140]
    print(f"| {r['model']} | {r['exporter']} | {'yes' if r['accepted'] else 'no'} | {r.get('layers', '')} | {r.get('gmacs_per_example', '')} | "
          f"{r.get('trace_seconds', '') if 'trace_error' not in r else 'error: ' + r['trace_error']} | {refusal} |")
print(f"raw output: {raw} ({doc['date']}, {cpu}, load {doc['load'][0]:.1f})")
PYEOF
