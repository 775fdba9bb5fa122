#!/usr/bin/env python3
"""Train and export Hutch's embedded example: a small ResNet-style CNN on scikit-learn's digits.

    /root/hutch-venv/bin/python Examples/train_example.py [--compare-exporters]
    /root/hutch-venv/bin/python Examples/train_example.py --train-split train.npz   # the training split only

Writes Examples/digits_resnet.onnx (TorchScript exporter, eval mode so BatchNorm is folded into
the convs, opset 17, dynamic batch axis) and Examples/digits.npz (the held-out split: `x` float32
[N,1,8,8] in [0,1], `y` int64). Seeded, single-threaded and deterministic: a re-run writes the
same bytes. --compare-exporters also exports with the dynamo exporter to a temporary directory
and prints both graphs' op lists (see README.md).
"""
import argparse
import contextlib
import io
import logging
import os
import sys
import tempfile
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 0
EPOCHS = 40
BATCH = 64
LR = 0.01


class ConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class BasicBlock(nn.Module):
    """Two 3x3 conv+BN; identity shortcut, or a strided 1x1 conv+BN when the shape changes."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.c1 = ConvBN(cin, cout, 3, stride=stride, padding=1)
        self.c2 = ConvBN(cout, cout, 3, padding=1)
        self.shortcut = ConvBN(cin, cout, 1, stride=stride) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        s = x if self.shortcut is None else self.shortcut(x)
        return F.relu(self.c2(F.relu(self.c1(x))) + s)


class DigitsResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = ConvBN(1, 16, 3, padding=1)
        self.block1 = BasicBlock(16, 16)
        self.block2 = BasicBlock(16, 32, stride=2)  # 8x8 -> 4x4, 1x1 shortcut conv
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.block2(self.block1(F.relu(self.stem(x))))
        return self.fc(torch.flatten(self.gap(x), 1))


def load_split():
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # pixel values are 0..16
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=SEED, stratify=y)


def train(model, x, y, epochs=EPOCHS, batch=BATCH, report_every=10):
    """Adam at LR with cosine annealing over `epochs`, seeded shuffles (also Benchmarks/finetune/)."""
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        if epoch % report_every == report_every - 1 or epoch == epochs - 1:
            print(f"epoch {epoch + 1:3d}  train loss {total / len(xt):.4f}")


@contextlib.contextmanager
def quiet():
    out = io.StringIO()
    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                yield
            finally:
                logging.disable(logging.NOTSET)


def export(model, x, path, dynamo):
    with quiet():
        if dynamo:
            torch.onnx.export(model, (x,), path, dynamo=True, external_data=False, opset_version=17,
                              input_names=["input"], output_names=["logits"],
                              dynamic_shapes=({0: torch.export.Dim("batch")},))
        else:
            torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def ort_logits(path, x):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def describe(proto):
    opset = {o.domain: o.version for o in proto.opset_import}.get("")
    ops = [n.op_type for n in proto.graph.node]
    return f"opset {opset}, ir {proto.ir_version}, ops {sorted(set(ops))}, " \
           f"initializers {[i.name for i in proto.graph.initializer][:4]}..."


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare-exporters", action="store_true")
    parser.add_argument("--train-split", metavar="PATH",
                        help="only write the 1,347 training images as .npz (x, y) to PATH, for `hutch finetune`; nothing else")
    args = parser.parse_args()
    if args.train_split:
        x_train, _, y_train, _ = load_split()
        np.savez(args.train_split, x=x_train, y=y_train)
        print(f"wrote {len(x_train)} training examples to {args.train_split}")
        return 0

    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    x_train, x_test, y_train, y_test = load_split()
    model = DigitsResNet()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"train {len(x_train)}, test {len(x_test)}, parameters {n_params}")
    train(model, x_train, y_train)
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x_test)).numpy()
    acc = float((logits.argmax(1) == y_test).mean())
    print(f"torch test accuracy {acc:.4f} ({int(round(acc * len(y_test)))}/{len(y_test)})")

    onnx_path = os.path.join(HERE, "digits_resnet.onnx")
    proto = export(model, torch.from_numpy(x_test[:2]), onnx_path, dynamo=False)
    assert "BatchNormalization" not in [n.op_type for n in proto.graph.node], "BN was not folded"
    ort_out = ort_logits(onnx_path, x_test)
    diff = float(np.abs(ort_out - logits).max())
    ort_acc = float((ort_out.argmax(1) == y_test).mean())
    print(f"onnx: {describe(proto)}")
    print(f"onnxruntime vs torch logits: max abs diff {diff:.3e}; onnxruntime test accuracy {ort_acc:.4f}")
    assert diff < 1e-4 and ort_acc == acc

    np.savez(os.path.join(HERE, "digits.npz"), x=x_test, y=y_test)

    if args.compare_exporters:
        with tempfile.TemporaryDirectory() as tmp:
            for dynamo in (False, True):
                p = os.path.join(tmp, f"dynamo_{dynamo}.onnx")
                try:
                    pr = export(model, torch.from_numpy(x_test[:2]), p, dynamo)
                    d = float(np.abs(ort_logits(p, x_test) - logits).max())
                    print(f"dynamo={dynamo}: {describe(pr)}; max|ort - torch| {d:.2e}")
                except Exception as e:  # report, do not hide: this is the point of the flag
                    print(f"dynamo={dynamo}: export failed: {type(e).__name__}: {str(e).splitlines()[0]}")


if __name__ == "__main__":
    sys.exit(main())
