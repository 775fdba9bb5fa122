#!/usr/bin/env python3
"""The README's second fine-tuning model: a somewhat larger ResNet-style CNN trained on an
augmented digits set (tens of thousands of images), for Benchmarks/finetune/run_finetune.sh.

    /root/hutch-venv/bin/python Benchmarks/finetune/train_augmented.py OUT_DIR

No dataset can be downloaded here, so the data is scikit-learn's bundled digits, split as the
embedded example splits it (Examples/train_example.py: 1,347 train, 450 held out), each source
image turned into many by random affine warps (rotation ±15°, scale 0.9-1.1, shift ±1 pixel)
and Gaussian pixel noise (σ 0.05), clipped to [0, 1]. Training images come only from the
training sources and test images only from the held-out sources, with different seeds, so no
test image shares a source digit with any training image. Writes to OUT_DIR:
  model.onnx   the trained model (TorchScript exporter, BN folded, opset 17, dynamic batch)
  train.npz    20 warps of each training source (26,940 images): what the model trained on
  tune.npz     the first 2,000 of a seeded permutation of train.npz: what Hutch's traces,
               measured increases, calibration and fine-tuning use (a subset, to keep the
               table's run time to minutes on 2 cores)
  test.npz     10 warps of each held-out source (4,500 images): accuracy only, never used
               for choosing or fine-tuning
Seeded, single-threaded, deterministic algorithms: a re-run writes the same model.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.ndimage import affine_transform

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Examples"))
from train_example import BasicBlock, ConvBN, export, load_split, train  # noqa: E402

SEED = 0
TRAIN_WARPS = 20
TEST_WARPS = 10
TUNE = 2000
EPOCHS = 12
BATCH = 128  # Adam at lr 0.01 with cosine annealing, as the example


class AugmentedDigitsResNet(nn.Module):
    """The example's network with a third (identity) residual block at 4x4: 9 layers."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = ConvBN(1, 16, 3, padding=1)
        self.block1 = BasicBlock(16, 16)
        self.block2 = BasicBlock(16, 32, stride=2)
        self.block3 = BasicBlock(32, 32)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(F.relu(self.stem(x)))))
        return self.fc(torch.flatten(self.gap(x), 1))


def warp(images, labels, copies, seed):
    """`copies` random affine warps plus noise of every [1, 8, 8] image."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(images) * copies, 1, 8, 8), np.float32)
    centre = np.array([3.5, 3.5])
    k = 0
    for image in images:
        for _ in range(copies):
            angle = np.deg2rad(rng.uniform(-15, 15))
            scale = rng.uniform(0.9, 1.1)
            shift = rng.uniform(-1, 1, size=2)
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / scale
            offset = centre - rot @ (centre + shift)
            warped = affine_transform(image[0], rot, offset=offset, order=1, mode="constant")
            out[k, 0] = np.clip(warped + rng.normal(0, 0.05, size=(8, 8)), 0, 1)
            k += 1
    return out, np.repeat(labels, copies)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    x_src, x_held, y_src, y_held = load_split()
    x_train, y_train = warp(x_src, y_src, TRAIN_WARPS, seed=1)
    x_test, y_test = warp(x_held, y_held, TEST_WARPS, seed=2)
    tune = np.random.default_rng(3).permutation(len(x_train))[:TUNE]
    np.savez(os.path.join(out, "train.npz"), x=x_train, y=y_train)
    np.savez(os.path.join(out, "tune.npz"), x=x_train[tune], y=y_train[tune])
    np.savez(os.path.join(out, "test.npz"), x=x_test, y=y_test)

    model = AugmentedDigitsResNet()
    print(f"train {len(x_train)}, tune {TUNE} (of train), test {len(x_test)}, "
          f"parameters {sum(p.numel() for p in model.parameters())}")
    train(model, x_train, y_train, epochs=EPOCHS, batch=BATCH, report_every=1)
    model.eval()
    with torch.no_grad():
        for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            acc = float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())
            print(f"torch {name} accuracy {100 * acc:.2f} %")
    proto = export(model, torch.from_numpy(x_test[:2]), os.path.join(out, "model.onnx"), dynamo=False)
    assert "BatchNormalization" not in [n.op_type for n in proto.graph.node], "BN was not folded"
    return 0


if __name__ == "__main__":
    sys.exit(main())
