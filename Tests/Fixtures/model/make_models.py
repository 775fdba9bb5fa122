"""Makes the small ONNX models that Tests/HutchModelTests load (run from anywhere):

    /root/hutch-venv/bin/python Tests/Fixtures/model/make_models.py

Three eval-mode networks (a ResNet-style CNN with BatchNorm and a 1x1 stride-2 shortcut, an MLP
that reshapes through x.view(x.size(0), -1), a depthwise-conv net with ReLU6), each exported by
the TorchScript exporter (dynamo=False) at opsets 13 and 17 with a symbolic batch, once with a
fixed batch of 2, and by the default (dynamo) exporter. expected.json records, from the PyTorch
modules themselves (forward hooks, not ONNX), every Conv/Linear weight shape and its MACs per
example, and the logits shape, so the Swift tests compare against an independent count.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


class ResNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(8)
        self.c1 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.c2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.short = nn.Conv2d(8, 16, 1, stride=2, bias=False)
        self.bns = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn0(self.stem(x)))
        y = F.relu(self.bn1(self.c1(x)))
        y = self.bn2(self.c2(y))
        y = F.relu(y + self.bns(self.short(x)))
        y = self.pool(y)
        y = F.adaptive_avg_pool2d(y, 1)
        return self.fc(torch.flatten(y, 1))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 12)
        self.fc2 = nn.Linear(12, 12)
        self.fc3 = nn.Linear(12, 5)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = torch.sigmoid(self.fc2(x)).reshape(-1, 3, 4)
        x = torch.flatten(x, 1)
        return self.fc3(F.leaky_relu(x, 0.1))


class Depthwise(nn.Module):
    def __init__(self):
        super().__init__()
        self.c0 = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 16, 1)
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        x = F.relu6(self.c0(x))
        x = F.relu6(self.dw(x))
        x = F.avg_pool2d(F.relu(self.pw(x)), 2)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(x.view(x.size(0), -1))


def expected_layers(model, x):
    rows = []

    def hook(module, inputs, output):
        per_example = output[0].numel()
        if isinstance(module, nn.Conv2d):
            reduction = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        else:
            reduction = module.in_features
        rows.append({"shape": list(module.weight.shape), "macs": per_example * reduction})

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        out = model(x)
    for h in handles:
        h.remove()
    return rows, list(out.shape[1:])


def randomize_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def main():
    models = {"resnetish": (ResNetish(), (2, 3, 8, 8)), "mlp": (MLP(), (2, 1, 4, 4)),
              "depthwise": (Depthwise(), (2, 3, 8, 8))}
    expected = {}
    for name, (model, shape) in models.items():
        randomize_bn(model)
        model.eval()
        x = torch.randn(*shape)
        layers, logits = expected_layers(model, x)
        expected[name] = {"input": list(shape[1:]), "logits": logits, "layers": layers, "files": []}
        for opset in (13, 17):
            path = f"{name}_ts_opset{opset}.onnx"
            torch.onnx.export(model, (x,), os.path.join(HERE, path), dynamo=False, opset_version=opset,
                              input_names=["x"], output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
            expected[name]["files"].append(path)
        path = f"{name}_ts_fixedbatch.onnx"
        torch.onnx.export(model, (x,), os.path.join(HERE, path), dynamo=False, opset_version=13,
                          input_names=["x"], output_names=["logits"])
        expected[name]["files"].append(path)
        path = f"{name}_dynamo.onnx"
        try:
            batch = torch.export.Dim("N", min=2, max=1024)
            torch.onnx.export(model, (x,), os.path.join(HERE, path), dynamo=True, input_names=["x"],
                              output_names=["logits"], dynamic_shapes={"x": {0: batch}}, external_data=False)
            expected[name]["files"].append(path)
        except Exception as error:  # the dynamo exporter is optional: record why it was skipped
            print(f"dynamo export of {name} skipped: {error}")
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
