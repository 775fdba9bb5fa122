"""Exports the 13 torchvision classification architectures (random weights, eval mode) with both
PyTorch exporters, for run_zoo.sh:

    /root/hutch-venv/bin/python Benchmarks/zoo/export_zoo.py OUT_DIR

OUT_DIR/NAME_dynamo.onnx (+ .onnx.data: the default exporter writes the weights beside the
model) and OUT_DIR/NAME_ts.onnx (TorchScript exporter, weights inside), a symbolic batch, and
OUT_DIR/NAME_data.npz with 2 random examples and labels. Not run by CI (downloads and size).
"""
import json
import os
import sys
import traceback

import numpy as np
import torch
import torchvision

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "regnet_y_400mf",
          "shufflenet_v2_x1_0", "convnext_tiny", "vit_b_16", "swin_t", "inception_v3", "squeezenet1_1", "densenet121"]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    status = {}
    for name in MODELS:
        kwargs = {"aux_logits": False, "init_weights": True} if name == "inception_v3" else {}
        model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
        side = 299 if name == "inception_v3" else 224
        x = torch.randn(2, 3, side, side)
        np.savez(os.path.join(out, f"{name}_data.npz"), x=x.numpy(), y=np.random.randint(0, 1000, 2).astype(np.int64))
        for exporter in ("dynamo", "ts"):
            path = os.path.join(out, f"{name}_{exporter}.onnx")
            try:
                if exporter == "dynamo":
                    batch = torch.export.Dim("N", min=2, max=1024)
                    torch.onnx.export(model, (x,), path, dynamo=True, input_names=["x"], output_names=["logits"],
                                      dynamic_shapes={"x": {0: batch}})
                else:
                    torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17, input_names=["x"],
                                      output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
                status[f"{name}_{exporter}"] = "exported"
            except Exception as error:  # an export PyTorch itself cannot do is recorded, not fatal
                status[f"{name}_{exporter}"] = f"export failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
                traceback.print_exc()
            print(name, exporter, status[f"{name}_{exporter}"], flush=True)
    with open(os.path.join(out, "exports.json"), "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__, "status": status}, f, indent=1)


if __name__ == "__main__":
    main()
