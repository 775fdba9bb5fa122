#!/usr/bin/env python3
"""Reference solutions for Hutch's bit-allocation solvers, from an independent MILP (scipy.optimize.milp / HiGHS).

Writes, next to this script:
  milp_instances.json   instances (a full sensitivity.json document + a plan request) with the MILP optimum
  sample_sensitivity.json, sample_latency.csv   a small ResNet-like example for CLI tests and docs

The MILP is written from the definitions in Protocols/README.md, not from Hutch's code:
one binary x[l,b] per layer and allowed width, sum_b x[l,b] = 1, tied layers get x[l,b] = x[m,b],
pins fix x, budgets are linear rows. Omega_l(b) = trace/parameters * quantization_error[b] (hawq-v3),
top_eigenvalue * error (eigenvalue), trace * 4^-b (trace). Every optimum is re-checked with exact
rational arithmetic against the budgets. Needs numpy and scipy >= 1.9 (system python3 is enough):

    python3 Tests/Fixtures/allocation/make_milp_fixtures.py
"""
import json
import os
from fractions import Fraction

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

HERE = os.path.dirname(os.path.abspath(__file__))


def quant_error(w, bits):
    """||Q_b(W) - W||^2, symmetric per-output-channel min-max, round to nearest (HAWQ-V3 default)."""
    w2 = w.reshape(w.shape[0], -1)
    qmax = 2 ** (bits - 1) - 1
    if qmax == 0:  # 1 bit: sign times mean magnitude is not this scheme; use scale = max|w|, levels {-1, 0}
        qmax = 1
    scale = np.abs(w2).max(axis=1, keepdims=True) / qmax
    scale[scale == 0] = 1
    q = np.clip(np.round(w2 / scale), -(2 ** (bits - 1)), qmax) * scale
    return float(((q - w2) ** 2).sum())


def make_layers(rng, count, bits, residual=True):
    layers = []
    channels = 8
    hw = 16
    for i in range(count):
        kind = rng.choice(["conv3", "conv3", "conv1"]) if i > 0 else "conv3"
        cin = channels
        if rng.random() < 0.25 and channels < 64:
            channels *= 2
            hw = max(2, hw // 2)
        cout = channels
        if i == count - 1:
            shape = [10, cin]
            op = "Gemm"
            macs = 10 * cin
        else:
            k = 3 if kind == "conv3" else 1
            shape = [cout, cin, k, k]
            op = "Conv"
            macs = cout * hw * hw * cin * k * k
        params = int(np.prod(shape))
        w = rng.normal(0, 1 / np.sqrt(params / shape[0]), size=shape)
        trace = float(np.exp(rng.uniform(-3, 3)))
        layers.append({
            "index": i, "node": f"/block{i}/{op}", "weight": f"onnx::{op}_{100 + i}", "op": op,
            "shape": shape, "parameters": params, "macs": int(macs),
            "trace": trace, "trace_per_parameter": trace / params,
            "standard_error": None, "probes": None, "exact": True, "method": "exact",
            "top_eigenvalue": float(trace * rng.uniform(0.05, 0.5)),
            "quantization_error": {str(b): quant_error(w, b) for b in bits},
            "tie_group": None,
        })
    if residual:
        # Shortcut conv i+1 tied with main-path conv i (both feed the same Add) for a few pairs.
        for i in range(1, count - 2, 5):
            layers[i]["tie_group"] = f"/block{i}/Add"
            layers[i + 1]["tie_group"] = f"/block{i}/Add"
    return layers


def sensitivity_doc(layers, bits):
    return {
        "format": "hutch.sensitivity", "version": 1,
        "job": {"model_digest": "sha256:" + "ab" * 32, "data_digest": "sha256:" + "cd" * 32, "samples": 256,
                "batch_size": 128, "seed": 7, "method": "exact", "mode": None, "tool_version": "fixture"},
        "quantization": {"scheme": "symmetric_per_channel_minmax", "bits": bits},
        "layers": layers,
    }


def omega(layer, b, objective):
    if objective == "hawq-v3":
        return layer["trace"] / layer["parameters"] * layer["quantization_error"][str(b)]
    if objective == "eigenvalue":
        return max(layer["top_eigenvalue"], 0) * layer["quantization_error"][str(b)]
    return layer["trace"] * 4.0 ** (-b)


def resolve(name, layers):
    if name == "first":
        return 0
    if name == "last":
        return len(layers) - 1
    for l in layers:
        if l["node"] == name or l["weight"] == name:
            return l["index"]
    raise KeyError(name)


def budget_limits(budgets, parameters, lowest, highest):
    """Absolute limits per cost kind, exactly (Protocols/README.md, "Costs and budgets")."""
    limits = {}
    for budget in budgets:
        kind, x = budget["kind"], budget["value"]
        if kind == "size_mb":
            limits["size"] = Fraction(x) * 8_000_000
        elif kind == "avg_bits":
            limits["size"] = Fraction(x) * parameters
        elif kind == "size_frac":
            limits["size"] = Fraction(int(np.floor(lowest + x * (highest - lowest))))
        elif kind == "bops_g":
            limits["bops"] = Fraction(x) * 1_000_000_000
        elif kind == "latency_ms":
            limits["latency"] = Fraction(x)
    return limits


def solve_milp(c, rows, lo, hi, cost, limits, time_limit):
    """HiGHS on min c.x with the given rows plus one row per budget, x binary."""
    for k, limit in limits.items():
        rows.append(cost[k]); lo.append(-np.inf); hi.append(float(limit))
    # HiGHS stops at an absolute gap of 1e-6 as well as the relative one: scale Omega to O(1000).
    scale = 1000.0 / c.max()
    return milp(c * scale, constraints=[LinearConstraint(np.array(rows), lo, hi)], integrality=np.ones(len(c)),
                bounds=Bounds(0, 1), options={"mip_rel_gap": 0, "time_limit": time_limit})


def solve(layers, req):
    n = len(layers)
    allowed = [list(req["bits"]) for _ in range(n)]
    for name, bits in req.get("layer_bits", []):
        allowed[resolve(name, layers)] = sorted(set(bits))
    for name, b in req.get("pins", []):
        l = resolve(name, layers)
        allowed[l] = [b if b is not None else max(allowed[l])]
    ties = []
    if req["ties"]["auto"]:
        groups = {}
        for l in layers:
            if l.get("tie_group"):
                groups.setdefault(l["tie_group"], []).append(l["index"])
        ties += [g for g in groups.values() if len(g) > 1]
    ties += [[resolve(x, layers) for x in g] for g in req["ties"]["groups"]]
    act = req.get("activation_bits", 8)
    latency = {(r[0], r[1]): r[2] for r in req.get("latency_table", [])}

    var = {}
    for l in range(n):
        for b in allowed[l]:
            var[(l, b)] = len(var)
    nv = len(var)
    c = np.zeros(nv)
    cost = {"size": np.zeros(nv), "bops": np.zeros(nv), "latency": np.zeros(nv)}
    exact_cost = {"size": {}, "bops": {}, "latency": {}}
    for (l, b), j in var.items():
        L = layers[l]
        c[j] = omega(L, b, req["objective"])
        exact_cost["size"][j] = Fraction(L["parameters"] * b)
        exact_cost["bops"][j] = Fraction(L["macs"] * b * act)
        exact_cost["latency"][j] = Fraction(latency.get((L["node"], b), 0.0))
        for k in cost:
            cost[k][j] = float(exact_cost[k][j])
    rows, lo, hi = [], [], []
    for l in range(n):
        r = np.zeros(nv)
        for b in allowed[l]:
            r[var[(l, b)]] = 1
        rows.append(r); lo.append(1); hi.append(1)
    for group in ties:
        for m in group[1:]:
            for b in set(allowed[group[0]]) | set(allowed[m]):
                r = np.zeros(nv)
                if (group[0], b) in var:
                    r[var[(group[0], b)]] = 1
                if (m, b) in var:
                    r[var[(m, b)]] -= 1
                rows.append(r); lo.append(0); hi.append(0)
    lowest = sum(min(cost["size"][var[(l, b)]] for b in allowed[l]) for l in range(n))
    highest = sum(max(cost["size"][var[(l, b)]] for b in allowed[l]) for l in range(n))
    # lowest/highest with ties: the group's common widths; fixtures only use size_frac without
    # per-layer width differences inside a tie group, so per-layer min/max is the same thing.
    limits = budget_limits(req["budgets"], sum(L["parameters"] for L in layers), lowest, highest)
    res = solve_milp(c, rows, lo, hi, cost, limits, time_limit=120)
    minimum_alone = {k: float(sum(min(cost[k][var[(l, b)]] for b in allowed[l]) for l in range(n))) for k in limits}
    if res.status == 2:
        return {"status": "infeasible", "minimum_alone": minimum_alone}
    assert res.status == 0, res.message
    x = np.round(res.x).astype(int)
    chosen = [None] * n
    for (l, b), j in var.items():
        if x[j] == 1:
            chosen[l] = b
    for k, limit in limits.items():
        total = sum(exact_cost[k][j] for j in range(nv) if x[j] == 1)
        assert total <= limit, f"MILP answer violates {k} exactly: {total} > {limit}"
    value = float(sum(c[j] for j in range(nv) if x[j] == 1))
    return {"status": "optimal", "omega": value, "bits": chosen,
            "limits": {k: float(v) for k, v in limits.items()}}


def main():
    rng = np.random.default_rng(20261121)
    instances = []
    specs = [
        # name, layers, bits, budgets (fractions of the range, turned into absolute values below), pins, explicit ties
        ("size-only-30", 30, [2, 3, 4, 5, 6, 8], ["size_mb"], [], []),
        ("avg-bits-30-pins", 30, [2, 3, 4, 5, 6, 8], ["avg_bits"], [["first", 8], ["last", 8]], []),
        ("size-frac-bops-40", 40, [2, 3, 4, 5, 6, 8], ["size_frac", "bops_g"], [["first", None]], []),
        ("three-budgets-40", 40, [2, 3, 4, 5, 6, 7, 8], ["size_mb", "bops_g", "latency_ms"], [["last", 8]], [["/block3/Conv", "/block4/Conv"]]),
        ("three-budgets-60-ties", 60, [2, 3, 4, 5, 6, 8], ["size_mb", "bops_g", "latency_ms"], [["first", 8], ["/block9/Conv", 4]], [["/block20/Conv", "/block21/Conv", "/block22/Conv"]]),
        ("three-budgets-50-eigen", 50, [2, 3, 4, 6, 8], ["avg_bits", "bops_g", "latency_ms"], [], []),
        ("two-budgets-50-trace", 50, [2, 3, 4, 5, 6, 8], ["size_mb", "latency_ms"], [["last", None]], []),
        ("three-budgets-150-large", 150, [2, 3, 4, 5, 6, 7, 8], ["size_mb", "bops_g", "latency_ms"], [["first", 8], ["last", 8]], [["/block40/Conv", "/block41/Conv"]]),
        ("three-budgets-120-avg", 120, [2, 3, 4, 5, 6, 8], ["avg_bits", "bops_g", "latency_ms"], [["/block7/Conv", None]], []),
        ("infeasible-latency-20", 20, [2, 4, 8], ["size_mb", "latency_ms"], [], []),
    ]
    objectives = ["hawq-v3", "hawq-v3", "hawq-v3", "hawq-v3", "hawq-v3", "eigenvalue", "trace", "hawq-v3", "hawq-v3", "hawq-v3"]
    for (name, count, bits, budget_kinds, pins, ties), objective in zip(specs, objectives):
        layers = make_layers(rng, count, bits)
        for l in layers:  # give conv names their op; the generator names them /blockI/Op
            pass
        table = []
        for L in layers:
            base = rng.uniform(0.01, 0.2)
            for b in bits:
                ms = base + L["macs"] * b * 1e-8 * rng.uniform(0.8, 1.2)
                table.append([L["node"], b, round(ms * 64) / 64 + 1 / 64])  # multiples of 1/64: exact in binary
        total_params = sum(L["parameters"] for L in layers)
        lo_size = total_params * min(bits); hi_size = total_params * max(bits)
        macs = sum(L["macs"] for L in layers)
        lat_lo = sum(min(r[2] for r in table if r[0] == L["node"]) for L in layers)
        lat_hi = sum(max(r[2] for r in table if r[0] == L["node"]) for L in layers)
        budgets = []
        for kind in budget_kinds:
            f = rng.uniform(0.3, 0.7)
            if kind == "size_mb":
                budgets.append({"kind": kind, "value": round((lo_size + f * (hi_size - lo_size)) / 8e6, 6)})
            elif kind == "avg_bits":
                budgets.append({"kind": kind, "value": round(min(bits) + f * (max(bits) - min(bits)), 3)})
            elif kind == "size_frac":
                budgets.append({"kind": kind, "value": round(f, 3)})
            elif kind == "bops_g":
                budgets.append({"kind": kind, "value": round(macs * 8 * (min(bits) + f * (max(bits) - min(bits))) / 1e9, 6)})
            elif kind == "latency_ms":
                budgets.append({"kind": kind, "value": round(lat_lo + f * (lat_hi - lat_lo), 4)})
        if name.startswith("infeasible"):
            # A latency budget below the all-lowest latency (costs rise with bits, so every budget is
            # smallest at the all-lowest assignment and infeasibility is always per budget).
            budgets = [{"kind": "size_mb", "value": round(lo_size * 1.02 / 8e6, 6)},
                       {"kind": "latency_ms", "value": round(lat_lo - 1 / 64, 4)}]
        request = {"bits": bits, "objective": objective, "budgets": budgets, "pins": pins,
                   "ties": {"auto": True, "groups": ties}, "activation_bits": 8, "latency_table": table}
        expected = solve(layers, request)
        instances.append({"name": name, "sensitivity": sensitivity_doc(layers, bits), "request": request, "expected": expected})
        print(name, expected["status"], expected.get("omega"))
    with open(os.path.join(HERE, "milp_instances.json"), "w") as f:
        json.dump({"generator": "make_milp_fixtures.py (scipy %s, HiGHS via scipy.optimize.milp)" % __import__("scipy").__version__,
                   "instances": instances}, f, separators=(",", ":"))

    # A small ResNet-like example for the CLI and docs.
    layers = make_layers(np.random.default_rng(5), 20, [2, 3, 4, 5, 6, 8])
    with open(os.path.join(HERE, "sample_sensitivity.json"), "w") as f:
        json.dump(sensitivity_doc(layers, [2, 3, 4, 5, 6, 8]), f, indent=1)
    with open(os.path.join(HERE, "sample_latency.csv"), "w") as f:
        f.write("layer,bits,milliseconds\n")
        for L in layers:
            for b in [2, 3, 4, 5, 6, 8]:
                f.write(f"{L['node']},{b},{0.05 + L['macs'] * b * 1e-8:.6f}\n")


if __name__ == "__main__":
    main()
