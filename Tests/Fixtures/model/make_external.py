"""Makes the external-data fixture that ExternalDataTests loads (run from anywhere):

    /root/hutch-venv/bin/python Tests/Fixtures/model/make_external.py

PyTorch's default exporter (dynamo=True, external_data left at its default) writes the weights
of make_models.py's ResNet-style CNN to resnetish_dynamo_external.onnx.data beside the model.
The onnx package then loads that pair (reading the data file itself) and saves it with every
tensor inside: resnetish_dynamo_external_inlined.onnx, the independent reference for the
weights Hutch reads from the data file.
"""
import os

import onnx
import torch

from make_models import HERE, ResNetish, randomize_bn


def main():
    torch.manual_seed(1)
    model = ResNetish()
    randomize_bn(model)
    model.eval()
    x = torch.randn(2, 3, 8, 8)
    path = os.path.join(HERE, "resnetish_dynamo_external.onnx")
    batch = torch.export.Dim("N", min=2, max=1024)
    torch.onnx.export(model, (x,), path, dynamo=True, input_names=["x"], output_names=["logits"],
                      dynamic_shapes={"x": {0: batch}})
    assert os.path.exists(path + ".data"), "the default exporter wrote no external data file"
    loaded = onnx.load(path)  # reads the .data file
    onnx.save(loaded, os.path.join(HERE, "resnetish_dynamo_external_inlined.onnx"), save_as_external_data=False)


if __name__ == "__main__":
    main()
