"""Writes digits_sensitivity.json for the embedded example (Examples/digits_resnet.onnx) without
`hutch trace`: exact Hessian-block traces come from Tests/Fixtures/digits_ref.npz (`gn_trace:W`,
equal to the Hessian trace for this piecewise-linear net, on its first 64 examples), and
quantization errors ||Q_b(W) - W||^2 are computed here with Hutch's default quantizer (symmetric,
per output channel, min-max, round half to even, clamp to [-2^(b-1), 2^(b-1)-1], float32).

    /root/hutch-venv/bin/python Tests/Fixtures/export/make_sensitivity.py
"""
import hashlib
import json
import pathlib

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

ROOT = pathlib.Path(__file__).resolve().parents[3]
MODEL = ROOT / "Examples" / "digits_resnet.onnx"
REF = ROOT / "Tests" / "Fixtures" / "digits_ref.npz"
OUT = pathlib.Path(__file__).resolve().parent / "digits_sensitivity.json"
BITS = [2, 3, 4, 5, 6, 8]


def quantization_error(w, bits, axis):
    w = w.astype(np.float32)
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    levels = np.float32(2 ** (bits - 1) - 1)
    scale = np.abs(moved).max(axis=1, keepdims=True).astype(np.float32) / levels
    scale = np.where(scale == 0, np.float32(1), scale).astype(np.float32)
    codes = np.clip(np.round(moved / scale), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return float(np.sum((codes.astype(np.float64) * scale.astype(np.float64) - moved.astype(np.float64)) ** 2))


def main():
    data = MODEL.read_bytes()
    model = onnx.load_from_string(data)
    inferred = shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value if d.HasField("dim_value") else None for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    ref = np.load(REF)
    layers = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.input) < 2 or node.input[1] not in inits:
            continue
        w = inits[node.input[1]]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        axis = 0 if node.op_type == "Conv" or (node.op_type == "Gemm" and attrs.get("transB", 0)) else w.ndim - 1
        out = shapes.get(node.output[0])
        per_example = int(np.prod(out[1:])) if out and all(d for d in out[1:]) else None
        reduction = int(np.prod(w.shape[1:])) if node.op_type == "Conv" else int(w.shape[1 - axis])
        trace = float(ref["gn_trace:" + node.input[1]][0])
        layers.append({
            "index": len(layers), "node": node.name, "weight": node.input[1], "op": node.op_type,
            "shape": list(w.shape), "parameters": int(w.size),
            "macs": per_example * reduction if per_example else None,
            "trace": trace, "trace_per_parameter": trace / w.size, "standard_error": None, "probes": None,
            "exact": True, "method": "exact", "top_eigenvalue": None,
            "quantization_error": {str(b): quantization_error(w, b, axis) for b in BITS},
            "tie_group": None,
        })
    report = {
        "format": "hutch.sensitivity", "version": 1,
        "job": {"model_digest": "sha256:" + hashlib.sha256(data).hexdigest(), "data_digest": None,
                "samples": int(ref["x"].shape[0]), "batch_size": None, "seed": None, "method": "exact",
                "mode": None, "tool_version": "Tests/Fixtures/export/make_sensitivity.py"},
        "quantization": {"scheme": "symmetric_per_channel_minmax", "bits": BITS},
        "layers": layers,
    }
    OUT.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {OUT} ({len(layers)} layers)")


if __name__ == "__main__":
    main()
