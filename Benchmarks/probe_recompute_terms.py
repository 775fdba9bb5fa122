#!/usr/bin/env python3
"""What recomputing conv(x, V) in the reverse sweep (QuadraticForms.recomputeUpTo) trades, per
model: the share of the convolutions' outputs whose k-block terms a Hutchinson chunk no longer
holds at its peak, against the extra multiply-adds (those layers' forward MACs once more, per
probe; a probe costs about 4 forward passes). Layers recompute when their multiply-adds per
output (input channels per group x kernel taps) are at most T.
Usage: probe_recompute_terms.py MODEL.onnx T[,T...]   (needs onnx and numpy)"""
import sys

import numpy as np
import onnx
from onnx import shape_inference

model = shape_inference.infer_shapes(onnx.load(sys.argv[1], load_external_data=False))
shapes = {vi.name: [d.dim_value if d.dim_value > 0 else 1 for d in vi.type.tensor_type.shape.dim]
          for vi in list(model.graph.value_info) + list(model.graph.output) + list(model.graph.input)}
weights = {i.name: list(i.dims) for i in model.graph.initializer}
convs = []   # (MACs per output, outputs per example)
for node in model.graph.node:
    if node.op_type == "Conv":
        convs.append((int(np.prod(weights[node.input[1]][1:])), int(np.prod(shapes[node.output[0]][1:]))))
outputs, macs = sum(o for _, o in convs), sum(p * o for p, o in convs)
for t in (int(x) for x in sys.argv[2].split(",")):
    chosen = [(p, o) for p, o in convs if p <= t]
    o, m = sum(o for _, o in chosen), sum(p * o for p, o in chosen)
    print(f"T={t}: terms not held {100 * o / outputs:.0f}% of conv outputs ({o / 1e6:.2f}M per example), "
          f"extra MACs {100 * m / macs:.1f}% of a forward pass (about +{100 * m / macs / 4:.1f}% per probe)")
