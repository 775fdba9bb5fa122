#!/usr/bin/env bash
# The torchvision zoo and five Hugging Face models through hutch, as a new user would: each
# exported by both PyTorch exporters (export_zoo.py), then `hutch inspect` and, for the accepted
# ones, two Hutchinson `hutch trace` runs on 2 examples at 224x224 (299 for Inception-V3), with
# --probes 2 and --probes 4 and everything else equal: (t4 - t2) / 2 is the seconds of one probe,
# as loading, quantization errors and writing cancel; `hutch inspect`'s wall seconds stand for the
# load. Both the wall seconds and the traces' CPU seconds (user + system, from the children's
# rusage) are recorded: on a shared machine the wall difference can even come out negative, while
# the CPU seconds of a probe change little with the load (on an idle machine, wall ≈ CPU / threads). Prints a Markdown table (and the README's two-exporter one) and writes
# Benchmarks/zoo/zoo-DATE.json (raw output, with date, CPU and the load average before and after
# each model's traces: the machine is shared). Not run by CI: it needs PyTorch (see
# Tests/Fixtures/README.md) and ~2 GB of exports.
#   Benchmarks/zoo/run_zoo.sh [EXPORT_DIR]     (default /tmp/hutch-zoo; exports are reused)
#   ONLY="hf_gpt2" Benchmarks/zoo/run_zoo.sh   runs only those models (raw output zoo-DATE-hf_gpt2.json)
#   RAW=FILE Benchmarks/zoo/run_zoo.sh          writes the raw output there instead
source "$(dirname "$0")/../model-scripts.sh"
"$PY" Benchmarks/zoo/export_zoo.py "$OUT"   # exports what exports.json does not list yet
ONLY=${ONLY:-}
RAW=${RAW:-Benchmarks/zoo/zoo-$(date +%Y-%m-%d)${ONLY:+-${ONLY// /-}}.json}
export ONLY
"$PY" - "$OUT" "$HUTCH" "$RAW" <<'PYEOF'
import json, os, platform, resource, subprocess, sys, tempfile, time
out, hutch, raw = sys.argv[1:4]
# outputs go to a scratch directory, apart from the exports
scratch = tempfile.mkdtemp()
exports = json.load(open(os.path.join(out, "exports.json")))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
rows = []
load_at_start = os.getloadavg()
hutch_version = subprocess.run([hutch, "version"], capture_output=True, text=True).stdout.strip()
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
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
    start = time.time()
    r = subprocess.run([hutch, "inspect", model, "--json"], capture_output=True, text=True)
    inspect_seconds = time.time() - start
    if r.returncode != 0:
        row["refusal"] = r.stderr.strip().splitlines()[-1][:300] if r.stderr.strip() else f"exit {r.returncode}"
        rows.append(row); continue
    row["accepted"] = True
    row["inspect_seconds"] = round(inspect_seconds, 2)
    info = json.loads(r.stdout)
    row["layers"] = len(info["layers"])
    macs = [l["macs_per_example"] for l in info["layers"]]
    row["gmacs_per_example"] = round(sum(macs) / 1e9, 3) if None not in macs else None
    row["load_average_before"] = round(os.getloadavg()[0], 2)
    def children_cpu():
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        return u.ru_utime + u.ru_stime
    for probes in (2, 4):
        start, cpu_start = time.time(), children_cpu()
        t = subprocess.run([hutch, "trace", "--model", model, "--data", os.path.join(out, name + "_data.npz"), "--samples", "2",
                            "--batch-size", "2", "--method", "hutchinson", "--probes", str(probes), "--out", os.path.join(scratch, "sensitivity.json")],
                           capture_output=True, text=True)
        row[f"trace_seconds_{probes}_probes"] = round(time.time() - start, 2)
        row[f"trace_cpu_seconds_{probes}_probes"] = round(children_cpu() - cpu_start, 2)
        if t.returncode != 0:
            row["trace_error"] = t.stderr.strip().splitlines()[-1][:300] if t.stderr.strip() else f"exit {t.returncode}"
            break
    row["load_average_after"] = round(os.getloadavg()[0], 2)
    if "trace_error" not in row:
        row["seconds_per_probe"] = round((row["trace_seconds_4_probes"] - row["trace_seconds_2_probes"]) / 2, 2)
        row["cpu_seconds_per_probe"] = round((row["trace_cpu_seconds_4_probes"] - row["trace_cpu_seconds_2_probes"]) / 2, 2)
    rows.append(row)
doc = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cpu": cpu, "cores": os.cpu_count(), "load": os.getloadavg(),
       "load_at_start": load_at_start, "hutch": hutch_version, "commit": commit,
       "torch": exports["torch"], "torchvision": exports["torchvision"], "transformers": exports.get("transformers"),
       "rows": rows}
json.dump(doc, open(raw, "w"), indent=1)
def cell(r):
    if not r.get("accepted"):
        return "no: " + r.get("refusal", "").replace("hutch: error: ", "").split(": ", 1)[-1][:140]
    if "trace_error" in r:
        return f"yes: {r['layers']} layers, trace error: {r['trace_error']}"
    return (f"yes: {r['layers']} layers, {r['gmacs_per_example']} GMAC, {r['cpu_seconds_per_probe']} CPU s/probe "
            f"(load {r['inspect_seconds']} s)")
print("| model | exporter | accepted | layers | GMAC/example | load (s) | trace, 2 probes (s) | trace, 4 probes (s) | s/probe | CPU s/probe | load avg | refusal |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    refusal = r.get("refusal", "").replace("hutch: error: ", "").split(": ", 1)[-1][:140]
    print(f"| {r['model']} | {r['exporter']} | {'yes' if r['accepted'] else 'no'} | {r.get('layers', '')} | {r.get('gmacs_per_example', '')} | "
          f"{r.get('inspect_seconds', '')} | {r.get('trace_seconds_2_probes', '')} | {r.get('trace_seconds_4_probes', '')} | "
          f"{r.get('seconds_per_probe', r.get('trace_error', ''))} | {r.get('cpu_seconds_per_probe', '')} | {r.get('load_average_before', '')}-{r.get('load_average_after', '')} | {refusal} |")
print()
print("| model | TorchScript exporter | dynamo exporter |")
print("|---|---|---|")
by_key = {(r["model"], r["exporter"]): r for r in rows}
for model in dict.fromkeys(r["model"] for r in rows):
    print(f"| {model} | {cell(by_key[(model, 'ts')]) if (model, 'ts') in by_key else ''} | "
          f"{cell(by_key[(model, 'dynamo')]) if (model, 'dynamo') in by_key else ''} |")
print(f"raw output: {raw} ({doc['date']}, {cpu}, load {load_at_start[0]:.1f} at the start, {doc['load'][0]:.1f} at the end)")
PYEOF
