#!/usr/bin/env python3
"""Reference solutions for Hutch's joint weight + activation bit allocation (`hutch plan --act-bits`),
from an independent MILP (scipy.optimize.milp / HiGHS). Writes joint_milp_instances.json next to
this script.

The MILP is written from the definitions in Protocols/README.md, not from Hutch's code: binaries
x[l,w] (layer l's weights at w bits) and y[v,a] (activation tensor v at a bits; layers reading the
same tensor share it), z[l,w,a] = x[l,w] * y[v(l),a] linearised by sum_a z[l,w,a] = x[l,w] and
sum_w z[l,w,a] = y[v(l),a]. Objective: sum Omega_w(l,w) x[l,w] + sum_v Tr_a(v) * error_v(a) y[v,a]
(Omega_act = Tr_a / n_a * ||Q_a(a) - a||^2 with error the mean square per entry, once per tensor).
Size = sum parameters*w*x, BOPs = sum MACs*w*a*z, latency = sum table(l,w,a)*z. Weight ties
x[l,w] = x[m,w]; pins restrict the allowed widths. Every optimum is re-checked exactly with
rational arithmetic against the budgets. Needs numpy and scipy >= 1.9:

    python3 Tests/Fixtures/allocation/make_joint_milp_fixtures.py
"""
import json
import os
import sys
from fractions import Fraction

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_milp_fixtures import budget_limits, make_layers, omega, resolve, sensitivity_doc, solve_milp  # noqa: E402


def activation_error(sample, bits):
    """Mean over entries of (Q_b(a) - a)^2, asymmetric min-max over the sample, round to nearest."""
    lo, hi = min(float(sample.min()), 0.0), max(float(sample.max()), 0.0)
    scale = (hi - lo) / (2 ** bits - 1) or 1.0
    zero = np.round(-lo / scale)
    q = (np.clip(np.round(sample / scale) + zero, 0, 2 ** bits - 1) - zero) * scale
    return float(((q - sample) ** 2).mean())


def add_activations(rng, layers, act_bits):
    """Each layer reads its own tensor, except forks: layers i+1 and i+3 (and a 3-way fork) read
    one tensor, which joins them with the weight tie of layers i and i+1."""
    value = [f"/block{i}/input" for i in range(len(layers))]
    for i in range(1, len(layers) - 4, 5):
        value[i + 3] = value[i + 1]
    if len(layers) > 12:
        value[10] = value[9] = value[8]
    numbers = {}
    for i, L in enumerate(layers):
        if value[i] not in numbers:
            sample = np.maximum(rng.normal(0, rng.uniform(0.5, 2), size=512), 0) if i > 0 else rng.uniform(0, 1, 512)
            elements = int(L["shape"][1] * (64 if L["op"] == "Conv" else 1))
            numbers[value[i]] = {"value": value[i], "trace": float(np.exp(rng.uniform(-2, 4))),
                                 "standard_error": 0.01, "probes": 16, "elements": elements,
                                 "quantization_error": {str(b): activation_error(sample, b) for b in act_bits}}
        L["activation"] = dict(numbers[value[i]])


def solve(layers, req):
    n = len(layers)
    wal = [list(req["bits"]) for _ in range(n)]
    values = sorted({L["activation"]["value"] for L in layers})
    aal = {v: list(req["act_bits"]) for v in values}
    vof = [L["activation"]["value"] for L in layers]
    for pin in req["pins"]:
        l = resolve(pin["layer"], layers)
        if pin["weight"]:
            wal[l] = [pin["bits"] if pin["bits"] is not None else max(wal[l])]
        if pin["activation_bits"] is not None or (pin["bits"] is None and pin["weight"]):
            a = pin["activation_bits"] if pin["activation_bits"] is not None else max(req["act_bits"])
            aal[vof[l]] = [a]
    ties = []
    groups = {}
    for L in layers:
        if L.get("tie_group"):
            groups.setdefault(L["tie_group"], []).append(L["index"])
    ties += [g for g in groups.values() if len(g) > 1]
    ties += [[resolve(x, layers) for x in g] for g in req["tie_groups"]]
    latency = {(r[0], r[1], r[2]): r[3] for r in req["latency_table"]}

    var = {}
    for l in range(n):
        for w in wal[l]:
            var[("x", l, w)] = len(var)
    for v in values:
        for a in aal[v]:
            var[("y", v, a)] = len(var)
    for l in range(n):
        for w in wal[l]:
            for a in aal[vof[l]]:
                var[("z", l, w, a)] = len(var)
    nv = len(var)
    c = np.zeros(nv)
    exact = {"size": {}, "bops": {}, "latency": {}}
    first_reader = {}
    for l in range(n):
        first_reader.setdefault(vof[l], l)
    for key, j in var.items():
        if key[0] == "x":
            _, l, w = key
            c[j] = omega(layers[l], w, req["objective"])
            exact["size"][j] = Fraction(layers[l]["parameters"] * w)
        elif key[0] == "y":
            _, v, a = key
            act = layers[first_reader[v]]["activation"]
            c[j] = max(act["trace"], 0) * act["quantization_error"][str(a)]
        else:
            _, l, w, a = key
            exact["bops"][j] = Fraction(layers[l]["macs"] * w * a)
            exact["latency"][j] = Fraction(latency[(layers[l]["node"], w, a)])
    cost = {k: np.array([float(exact[k].get(j, 0)) for j in range(nv)]) for k in exact}
    rows, lo, hi = [], [], []

    def row(entries, low, high):
        r = np.zeros(nv)
        for key, coefficient in entries:
            if key in var:
                r[var[key]] += coefficient
        rows.append(r); lo.append(low); hi.append(high)

    for l in range(n):
        row([(("x", l, w), 1) for w in wal[l]], 1, 1)
        for w in wal[l]:
            row([(("z", l, w, a), 1) for a in aal[vof[l]]] + [(("x", l, w), -1)], 0, 0)
        for a in aal[vof[l]]:
            row([(("z", l, w, a), 1) for w in wal[l]] + [(("y", vof[l], a), -1)], 0, 0)
    for v in values:
        row([(("y", v, a), 1) for a in aal[v]], 1, 1)
    for group in ties:
        for m in group[1:]:
            for w in set(wal[group[0]]) | set(wal[m]):
                row([(("x", group[0], w), 1), (("x", m, w), -1)], 0, 0)
    # --size-frac's lowest/highest put every layer at its lowest/highest width with pins and ties applied
    tied = [list(wal[l]) for l in range(n)]
    for group in ties:
        common = set.intersection(*(set(wal[m]) for m in group))
        for m in group:
            tied[m] = sorted(common)
    lowest = sum(min(tied[l]) * layers[l]["parameters"] for l in range(n))
    highest = sum(max(tied[l]) * layers[l]["parameters"] for l in range(n))
    limits = budget_limits(req["budgets"], sum(L["parameters"] for L in layers), lowest, highest)
    res = solve_milp(c, rows, lo, hi, cost, limits, time_limit=300)
    if res.status == 2:
        return {"status": "infeasible"}
    assert res.status == 0, res.message
    x = np.round(res.x).astype(int)
    bits, act = [None] * n, [None] * n
    for key, j in var.items():
        if key[0] == "z" and x[j] == 1:
            bits[key[1]], act[key[1]] = key[2], key[3]
    for k, limit in limits.items():
        total = sum(exact[k][j] for j in exact[k] if x[j] == 1)
        assert total <= limit, f"MILP answer violates {k} exactly: {total} > {limit}"
    return {"status": "optimal", "omega": float(sum(c[j] for j in range(nv) if x[j] == 1)),
            "bits": bits, "activation_bits": act, "limits": {k: float(v) for k, v in limits.items()}}


def main():
    rng = np.random.default_rng(20261206)
    specs = [
        # name, layers, weight bits, activation bits, budgets, pins, explicit weight ties
        ("joint-bops-30", 30, [2, 3, 4, 5, 6, 8], [4, 8], ["bops_g"], [], []),
        ("joint-avg-bops-40-pins", 40, [2, 3, 4, 5, 6, 8], [4, 8],
         ["avg_bits", "bops_g"], [{"layer": "first", "bits": 8, "activation_bits": 8, "weight": True},
                                  {"layer": "last", "bits": None, "activation_bits": None, "weight": True}], []),
        ("joint-three-budgets-40", 40, [2, 4, 6, 8], [2, 4, 6, 8], ["avg_bits", "bops_g", "latency_ms"],
         [{"layer": "/block5/Conv", "bits": None, "activation_bits": 4, "weight": False}], [["/block20/Conv", "/block21/Conv"]]),
        ("joint-frac-bops-60", 60, [2, 3, 4, 5, 6, 8], [4, 6, 8], ["size_frac", "bops_g"],
         [{"layer": "/block12/Conv", "bits": 4, "activation_bits": None, "weight": True}], []),
        ("joint-bops-latency-50", 50, [3, 4, 5, 6, 8], [4, 8], ["bops_g", "latency_ms"], [], [["/block30/Conv", "/block33/Conv"]]),
        ("joint-infeasible-bops-20", 20, [2, 4, 8], [4, 8], ["bops_g"], [], []),
    ]
    instances = []
    for name, count, bits, act_bits, kinds, pins, ties in specs:
        layers = make_layers(rng, count, bits)
        add_activations(rng, layers, act_bits)
        table = []
        for L in layers:
            base = rng.uniform(0.01, 0.1)
            for w in bits:
                for a in act_bits:
                    ms = base + L["macs"] * w * a * 1e-9 * rng.uniform(0.8, 1.2)
                    table.append([L["node"], w, a, round(ms * 64) / 64 + 1 / 64])
        macs = sum(L["macs"] for L in layers)
        lat_lo = sum(min(r[3] for r in table if r[0] == L["node"]) for L in layers)
        lat_hi = sum(max(r[3] for r in table if r[0] == L["node"]) for L in layers)
        budgets = []
        for kind in kinds:
            f = rng.uniform(0.3, 0.6)
            if kind == "avg_bits":
                budgets.append({"kind": kind, "value": round(min(bits) + f * (max(bits) - min(bits)), 3)})
            elif kind == "size_frac":
                budgets.append({"kind": kind, "value": round(f, 3)})
            elif kind == "bops_g":
                lo_b, hi_b = min(bits) * min(act_bits), max(bits) * max(act_bits)
                budgets.append({"kind": kind, "value": round(macs * (lo_b + f * (hi_b - lo_b)) / 1e9, 6)})
            elif kind == "latency_ms":
                budgets.append({"kind": kind, "value": round(lat_lo + f * (lat_hi - lat_lo), 4)})
        if name.startswith("joint-infeasible"):
            budgets = [{"kind": "bops_g", "value": round(macs * min(bits) * min(act_bits) * 0.9 / 1e9, 6)}]
        request = {"bits": bits, "act_bits": act_bits, "objective": "hawq-v3", "budgets": budgets, "pins": pins,
                   "tie_groups": ties, "latency_table": table}
        expected = solve(layers, request)
        instances.append({"name": name, "sensitivity": sensitivity_doc(layers, bits), "request": request, "expected": expected})
        print(name, expected["status"], expected.get("omega"))
    with open(os.path.join(HERE, "joint_milp_instances.json"), "w") as f:
        json.dump({"generator": "make_joint_milp_fixtures.py (scipy %s, HiGHS via scipy.optimize.milp)" % __import__("scipy").__version__,
                   "instances": instances}, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
