"""Runs a QDQ model written by `hutch quantize` in onnxruntime on Examples/digits.npz and compares
it with Hutch's own fake-quantized logits (`hutch quantize ... --logits hutch.npy`).

    /root/hutch-venv/bin/python Tests/Fixtures/export/check_onnxruntime.py quantized.onnx \
        [--hutch-logits hutch.npy] [--float Examples/digits_resnet.onnx] [--write-expected out.npy]

Prints the model's opset and initializer types, onnxruntime's accuracy, and against Hutch's logits
the max abs difference, the mean abs difference and the fraction of equal argmax predictions.
--float also runs the float model for its accuracy; --write-expected saves onnxruntime's logits
(float32) as the fixture the Swift test compares with. Exit status 1 when onnxruntime cannot load
or run the model.
"""
import argparse
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parents[3]


def run(path, x, optimized=False):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    # Keep the graph as written: no QDQ fusion into integer kernels, so onnxruntime computes
    # exactly DequantizeLinear -> float op, the semantics Hutch's fake-quantized forward has.
    # --optimized lets it fuse (integer kernels where it has them).
    options.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimized
                                        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--data", default=str(ROOT / "Examples" / "digits.npz"))
    parser.add_argument("--hutch-logits")
    parser.add_argument("--float")
    parser.add_argument("--write-expected")
    parser.add_argument("--optimized", action="store_true", help="let onnxruntime fuse QDQ into integer kernels")
    args = parser.parse_args()

    data = np.load(args.data)
    x, y = data["x"], data["y"]
    if x.dtype.kind == "f":  # token ids stay integers
        x = x.astype(np.float32)
    proto = onnx.load(args.model)
    onnx.checker.check_model(proto)
    types = sorted({onnx.TensorProto.DataType.Name(t.data_type) for t in proto.graph.initializer})
    ops = sorted({n.op_type for n in proto.graph.node})
    opset = {o.domain: o.version for o in proto.opset_import}.get("", None)
    print(f"{args.model}: ir {proto.ir_version}, opset {opset}, initializer types {types}, ops {ops}")
    try:
        logits = run(args.model, x, args.optimized)
    except Exception as error:  # noqa: BLE001 - report any onnxruntime failure as one line
        print(f"onnxruntime {ort.__version__} cannot run {args.model}: {error}")
        return 1
    accuracy = float(np.mean(np.argmax(logits, axis=1) == y))
    print(f"onnxruntime {ort.__version__}: accuracy {accuracy * 100:.2f} % on {len(y)} examples")
    if args.float:
        reference = run(args.float, x)
        diff = np.abs(reference.astype(np.float64) - logits.astype(np.float64)).max()
        print(f"float model: accuracy {np.mean(np.argmax(reference, axis=1) == y) * 100:.2f} %; max abs diff to it {diff:.3g}")
    if args.hutch_logits:
        hutch = np.load(args.hutch_logits)
        diff = np.abs(hutch.astype(np.float64) - logits.astype(np.float64))
        agree = float(np.mean(np.argmax(hutch, axis=1) == np.argmax(logits, axis=1)))
        hutch_accuracy = float(np.mean(np.argmax(hutch, axis=1) == y))
        print(f"hutch fake-quantized: accuracy {hutch_accuracy * 100:.2f} %; vs onnxruntime max abs diff {diff.max():.3g}, "
              f"mean abs diff {diff.mean():.3g}, equal argmax {agree * 100:.2f} %, logit range {np.abs(logits).max():.3g}")
    if args.write_expected:
        np.save(args.write_expected, logits.astype(np.float32))
        print(f"wrote {args.write_expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
