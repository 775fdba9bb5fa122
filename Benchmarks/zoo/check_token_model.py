"""Runs a model written by `hutch quantize` and its float original in onnxruntime on the zoo's
token ids (x of DATA.npz) and prints: the opset, the DequantizeLinear feeding each Gather (an
embedding table) with its axis, the max |quantized - float| logit difference against the float
logits' range, and the fraction of equal argmax predictions (per token for a language model).

    /root/hutch-venv/bin/python Benchmarks/zoo/check_token_model.py QUANTIZED.onnx FLOAT.onnx DATA.npz
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort


def run(path, x):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def main():
    quantized, original, data = sys.argv[1:4]
    x = np.load(data)["x"].astype(np.int64)
    proto = onnx.load(quantized, load_external_data=False)
    gathered = {n.input[0] for n in proto.graph.node if n.op_type == "Gather"}
    tables = [(n.output[0], {a.name: a.i for a in n.attribute}.get("axis", 1))
              for n in proto.graph.node if n.op_type == "DequantizeLinear" and n.output[0] in gathered]
    opset = {o.domain: o.version for o in proto.opset_import}.get("")
    print(f"{quantized}: opset {opset}, tables dequantized for a Gather (name, axis): {tables}")
    q, f = run(quantized, x), run(original, x)
    print(f"onnxruntime {ort.__version__}: logits {list(q.shape)}, all finite {bool(np.isfinite(q).all())}, "
          f"max |quantized - float| {float(np.abs(q - f).max()):.4g} (float logits within ±{float(np.abs(f).max()):.4g}), "
          f"equal argmax {float((q.argmax(-1) == f.argmax(-1)).mean()) * 100:.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
