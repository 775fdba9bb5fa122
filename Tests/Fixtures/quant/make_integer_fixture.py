#!/usr/bin/env python3
"""What onnxruntime computes on Hutch's QDQ export of the example, for the integer network to match.

`hutch plan --bits 4` on Tests/Fixtures/export/digits_sensitivity.json and `hutch quantize` on
Examples/digits_resnet.onnx with 8-bit activations calibrated min-max on Examples/digits.npz
(the model IntegerOnnxRuntimeTests rebuilds in Swift); then every QuantizeLinear output is made
a graph output and onnxruntime runs the model on all 450 images, single-threaded, with graph
optimizations off (no QDQ fusion: exactly QuantizeLinear -> DequantizeLinear -> float op).

Writes digits_w4a8_ort_codes.npz (savez_compressed, ~90 kB):
  logits                 float32 [450, 10]  onnxruntime's logits
  codes:NAME             uint8   [32, ...]  the codes QuantizeLinear gives activation NAME on the
                                            first 32 images ('/' in NAME written as '~')
Made with onnxruntime 1.32.0 (the virtualenv's; requirements.txt pins 1.31.1, whose export
fixtures agree with it on the logits up to one rounding-boundary example, 0.019 apart).
Run from the repository root after `swift build -c release --product hutch`:
  /root/hutch-venv/bin/python Tests/Fixtures/quant/make_integer_fixture.py [--hutch .build/release/hutch]
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SUFFIX = "_hutch_quantized"
CODED_EXAMPLES = 32  # all 450 would be ~1 MB


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hutch", default=os.path.join(ROOT, ".build", "release", "hutch"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        plan, qdq = os.path.join(work, "plan.json"), os.path.join(work, "w4a8.onnx")
        subprocess.run([args.hutch, "plan", "--sensitivity", os.path.join(ROOT, "Tests/Fixtures/export/digits_sensitivity.json"),
                        "--bits", "4", "--out", plan], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([args.hutch, "quantize", "--model", os.path.join(ROOT, "Examples/digits_resnet.onnx"), "--plan", plan,
                        "--data", os.path.join(ROOT, "Examples/digits.npz"), "--out", qdq], check=True, stdout=subprocess.DEVNULL)
        model = onnx.load(qdq)
    quantized = [n.output[0] for n in model.graph.node if n.op_type == "QuantizeLinear"]
    assert quantized and all(name.endswith(SUFFIX) for name in quantized), quantized
    for name in quantized:
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.UINT8, None))

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    data = np.load(os.path.join(ROOT, "Examples/digits.npz"))
    x = data["x"].astype(np.float32)
    outputs = session.run(None, {session.get_inputs()[0].name: x})
    arrays = {"logits": outputs[0].astype(np.float32)}
    for name, codes in zip(quantized, outputs[1:]):
        assert codes.dtype == np.uint8 and codes.shape[0] == len(x)
        arrays["codes:" + name[:-len(SUFFIX)].replace("/", "~")] = codes[:CODED_EXAMPLES]
    out = os.path.join(HERE, "digits_w4a8_ort_codes.npz")
    np.savez_compressed(out, **arrays)
    accuracy = float(np.mean(np.argmax(arrays["logits"], axis=1) == data["y"]))
    print(f"onnxruntime {ort.__version__}: accuracy {accuracy * 100:.2f} %; {len(quantized)} activations "
          f"{sorted(arrays)}; wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
