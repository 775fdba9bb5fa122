#!/usr/bin/env python3
"""What onnxruntime's QuantizeLinear / DequantizeLinear give, for HutchQuantize to match.

The QDQ model Hutch exports must agree with Hutch's own fake-quantized forward pass, so the
per-value arithmetic (float32 x / scale, round half to even, + zero point, saturate; then
(q - zero point) * scale) is checked here against onnxruntime itself on values placed exactly
at and a few ulps around rounding ties, for INT8, UINT8, INT4, UINT4, INT16, UINT16, per tensor
and per axis. (Multiplying by 1/scale instead of dividing disagrees with onnxruntime on a few
percent of these values; the script asserts that too, so the fixture is sensitive to it.)

Writes ort_quantize_linear.json (floats as uint32 bit patterns).
Run: /root/hutch-venv/bin/python Tests/Fixtures/quant/make_ort_fixtures.py
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))

TYPES = {  # ONNX type: (scheme, bits) of the matching QuantizationGrid
    "INT8": ("symmetric", 8), "UINT8": ("asymmetric", 8),
    "INT4": ("symmetric", 4), "UINT4": ("asymmetric", 4),
    "INT16": ("symmetric", 16), "UINT16": ("asymmetric", 16),
}


def near_ties(scales, zeros, lo, hi):
    """Values (k + 0.5) * scale, and 1-3 ulps either side, for k near 0 and near both
    saturation points (k + zero point = lo or hi)."""
    rows = []
    for s, z in zip(np.atleast_1d(scales), np.atleast_1d(zeros)):
        k = np.concatenate([np.arange(-12, 12), np.arange(lo - z - 4, lo - z + 4),
                            np.arange(hi - z - 4, hi - z + 4)])
        base = ((k + 0.5).astype(np.float32) * np.float32(s)).astype(np.float32)
        vals = [base]
        for direction in (np.inf, -np.inf):
            b = base
            for _ in range(3):
                b = np.nextafter(b, np.float32(direction)).astype(np.float32)
                vals.append(b)
        rows.append(np.concatenate(vals))
    return np.stack(rows).astype(np.float32)


def run(x, scale, zero, onnx_type, axis):
    ztype = getattr(TensorProto, onnx_type)
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(x.shape))
    s = numpy_helper.from_array(np.asarray(scale, np.float32), "s")
    zshape = list(np.shape(scale))
    z = helper.make_tensor("z", ztype, zshape, list(np.atleast_1d(zero)) if zshape else [int(zero)])
    attrs = {} if axis is None else {"axis": axis}
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], **attrs),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], **attrs)]
    outputs = [Y]
    if onnx_type in ("INT8", "UINT8", "INT16", "UINT16"):
        nodes.append(helper.make_node("Cast", ["q"], ["codes"], to=TensorProto.INT32))
        outputs.append(helper.make_tensor_value_info("codes", TensorProto.INT32, list(x.shape)))
    graph = helper.make_graph(nodes, "qdq", [X], outputs, [s, z])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)
    onnx.checker.check_model(model)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"x": x})
    return out[0], (out[1] if len(out) > 1 else None)


def bits_of(a):
    return [int(v) for v in np.asarray(a, np.float32).view(np.uint32).ravel()]


def main():
    cases = []
    mul_disagreements = 0
    specs = [
        ("INT8", np.float32(0.0123), 0, None), ("INT8", np.float32(1 / 3), 5, None),
        ("UINT8", np.float32(0.007), 130, None), ("INT4", np.float32(2 / 7), 0, None),
        ("UINT4", np.float32(0.1), 3, None), ("INT16", np.float32(3.1e-5), 0, None),
        ("UINT16", np.float32(0.0021), 40000, None),
        ("INT8", np.array([0.0123, 2 / 7, 1e-3], np.float32), np.array([0, 0, 0]), 0),
        ("UINT8", np.array([0.05, 0.2], np.float32), np.array([7, 200]), 0),
    ]
    for onnx_type, scale, zero, axis in specs:
        scheme, bits = TYPES[onnx_type]
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if scheme == "symmetric" else (0, 2 ** bits - 1)
        x = near_ties(scale, zero, lo, hi)
        if axis is None:
            x = x.ravel()
        y, codes = run(x, scale, zero, onnx_type, axis)
        s = np.asarray(scale, np.float32).reshape(-1, 1) if axis is not None else np.float32(scale)
        z = np.asarray(zero).reshape(-1, 1) if axis is not None else zero
        ref = np.clip(np.round(x / s) + z, lo, hi)
        assert np.array_equal(((ref - z).astype(np.float32) * s).astype(np.float32), y), onnx_type
        mul = np.clip(np.round(x * (np.float32(1) / s)) + z, lo, hi)
        mul_disagreements += int((mul != ref).sum())
        cases.append({
            "onnx_type": onnx_type, "scheme": scheme, "bits": bits,
            "axis": axis, "shape": list(x.shape),
            "scale_bits": bits_of(scale), "zero_points": [int(v) for v in np.atleast_1d(zero)],
            "x_bits": bits_of(x), "dequantized_bits": bits_of(y),
            "codes": None if codes is None else [int(v) for v in codes.ravel()],
        })
    assert mul_disagreements > 0
    with open(os.path.join(HERE, "ort_quantize_linear.json"), "w") as f:
        json.dump({"onnxruntime": ort.__version__, "onnx": onnx.__version__,
                   "multiply_by_reciprocal_disagreements": mul_disagreements, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
