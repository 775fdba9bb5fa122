"""Standard error per second of the three trace methods (issue 15): exact, sampled GGN and
Hutchinson, with `hutch trace` on one model and data set.

Each sampled method runs at two sample counts (P1, P2); wall time t(P) = a + b P fits them, and
the relative standard error at P2 gives the samples needed for every layer to reach TOL:
k = P2 (worst / TOL)^2 (SE shrinks like 1/sqrt(k)). Predicted seconds = a + b k. Exact has no
sampling noise, so its time is its cost. Also printed: 1 / (relSE^2 * seconds of sampling), the
"precision per second" per layer (median and worst layer).

usage: measure_efficiency.py HUTCH MODEL DATA --samples N [--p1 4 --p2 12 --tol 0.05 --threads 2]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time


def trace(hutch, model, data, samples, threads, extra):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [hutch, "trace", "--model", model, "--data", data, "--samples", str(samples), "--batch-size", str(samples),
               "--threads", str(threads), "--bits", "none", "--out", out.name] + extra
        start = time.monotonic()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.monotonic() - start
        return seconds, json.load(open(out.name))["layers"], " ".join(cmd[1:]).replace(out.name, "OUT.json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hutch"); ap.add_argument("model"); ap.add_argument("data")
    ap.add_argument("--samples", type=int, required=True)
    ap.add_argument("--p1", type=int, default=4); ap.add_argument("--p2", type=int, default=12)
    ap.add_argument("--tol", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-exact", action="store_true")
    a = ap.parse_args()
    print(f"model {a.model}, {a.samples} examples, {a.threads} threads, target relative SE {a.tol}")
    rows = []
    if not a.skip_exact:
        t, layers, cmd = trace(a.hutch, a.model, a.data, a.samples, a.threads, ["--method", "exact"])
        print(f"  {cmd}: {t:.2f} s")
        rows.append(("exact", t, t, 0.0, 0.0, None, None, None))
    for method in ("ggn", "hutchinson"):
        (t1, _, c1), (t2, layers, c2) = [trace(a.hutch, a.model, a.data, a.samples, a.threads,
                                                ["--method", method, "--probes", str(p), "--seed", "1"]) for p in (a.p1, a.p2)]
        print(f"  {c1}: {t1:.2f} s\n  {c2}: {t2:.2f} s")
        b = (t2 - t1) / (a.p2 - a.p1)
        fixed = t1 - b * a.p1
        # a negative Hutchinson estimate is written as trace 0 with measured_trace beside it
        values = [l.get("measured_trace", l["trace"]) for l in layers]
        rel = [l["standard_error"] / abs(v) if v != 0 else float("inf") for l, v in zip(layers, values)]
        worst, median = max(rel), statistics.median(rel)
        needed = max(2, int(a.p2 * (worst / a.tol) ** 2 + 0.999))
        sampling = b * a.p2
        per_second = sorted(1 / (r * r * sampling) for r in rel)
        rows.append((method, t2, fixed + b * needed, median, worst, needed, per_second[len(per_second) // 2], per_second[0]))
        print(f"  {method}: {b:.3f} s per sample, {fixed:.2f} s fixed; at {a.p2}: relative SE median {median:.3f}, worst {worst:.3f}")
    print()
    print(f"| method | seconds at P2 = {a.p2} | relative SE median / worst layer at P2 | samples for ≤ {a.tol:g} on every layer |"
          f" predicted seconds for that | 1/(relSE²·s) median / worst layer |")
    print("|---|---|---|---|---|---|")
    for method, t, predicted, median, worst, needed, ps_median, ps_worst in rows:
        if method == "exact":
            print(f"| exact | {t:.2f} (all) | 0 / 0 | – | {predicted:.2f} | ∞ |")
        else:
            print(f"| {method} | {t:.2f} | {median:.3f} / {worst:.3f} | {needed} | {predicted:.1f} | {ps_median:.3g} / {ps_worst:.3g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
