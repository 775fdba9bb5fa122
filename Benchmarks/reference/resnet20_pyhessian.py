"""PyTorch reference for Benchmarks/SensitivityBenchmark (issue 3, "Performance").

Builds a CIFAR ResNet-20 (3x32x32 inputs, 16/32/64 channels, 3 basic blocks per stage, 1x1 conv+BN
shortcuts where the shape changes: 19 + 2 convolutions and one Linear, 22 quantizable layers) with
random but fixed weights (torch.manual_seed(0), PyTorch default init, random BN statistics), folds
BatchNorm into the convolutions by hand, and exports the folded network to ONNX for Hutch, together
with one fixed batch of 128 random inputs and labels. Random weights are enough here: the cost of a
Hessian-vector product does not depend on the weights' values.

Then it times what PyHessian does for one Hutchinson probe (pyhessian.hessian.trace with data=(x, y)):
`torch.autograd.grad(grads, params, grad_outputs=v)` on the gradient graph of the same batch, with
Rademacher v over all parameters and the per-layer v_l . (Hv)_l read from the product, with
torch.set_num_threads(--threads). Two figures:
  hvp_seconds_per_probe        double backprop only, the gradient graph built once (PyHessian's
                               single-batch mode: the cheapest PyTorch variant);
  full_seconds_per_probe       forward + backward(create_graph) + double backprop per probe (PyHessian's
                               dataloader mode, what a per-batch or sharded run pays).
Writes resnet20.onnx, batch128.npz and pytorch.json into --out-dir.
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False); self.bn = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(3):
                layers.append(Block(cin, cout, stride if i == 0 else 1)); cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def randomize_bn(model):
    """Random BatchNorm affine parameters and statistics (in place, from torch's global generator)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2); m.running_var.uniform_(0.5, 1.5)
    return model


def fold(model):
    """Replaces every Conv+BN pair by one Conv with bias (eval-mode BN), in place."""
    def fused(conv, bn):
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        out = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
        out.weight.data = conv.weight.data * scale[:, None, None, None]
        out.bias.data = bn.bias.data - bn.running_mean * scale
        return out
    model.conv = fused(model.conv, model.bn); model.bn = nn.Identity()
    for b in model.layers:
        b.c1 = fused(b.c1, b.b1); b.b1 = nn.Identity()
        b.c2 = fused(b.c2, b.b2); b.b2 = nn.Identity()
        if b.short is not None:
            b.short = nn.Sequential(fused(b.short[0], b.short[1]))
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--probes", type=int, default=10, help="timed probes (after 2 warm-up probes)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--out-dir", default=".build/sensitivity-bench")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)

    model = randomize_bn(ResNet20())
    model.eval()
    folded = fold(ResNet20()); folded.load_state_dict({k: v for k, v in fold(model).state_dict().items()})
    folded.eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(a.batch, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (a.batch,), generator=g)
    onnx_path = os.path.join(a.out_dir, "resnet20.onnx")
    torch.onnx.export(folded, (x[:1],), onnx_path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    np.savez(os.path.join(a.out_dir, "batch128.npz"), x=x.numpy().astype(np.float32), y=y.numpy().astype(np.int64))

    params = [p for p in folded.parameters() if p.requires_grad]
    weights = [p for p in params if p.dim() > 1]
    def rademacher():
        return [torch.randint(0, 2, p.shape, generator=g).float() * 2 - 1 for p in params]
    def per_layer(v, hv):
        return [float((vi * hi).sum()) for vi, hi, p in zip(v, hv, params) if p.dim() > 1]

    # PyHessian single-batch mode (gradient graph once, one double backprop per probe) and dataloader
    # mode (forward + backward + double backprop per probe), interleaved so that load from other
    # processes on a shared machine hits both alike; median and minimum reported.
    loss = F.cross_entropy(folded(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    times, full_times = [], []
    for i in range(2 + a.probes):
        v = rademacher()
        t = time.perf_counter()
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
        forms = per_layer(v, hv)
        if i >= 2: times.append(time.perf_counter() - t)
        t = time.perf_counter()
        loss2 = F.cross_entropy(folded(x), y)
        gr = torch.autograd.grad(loss2, params, create_graph=True)
        hv = torch.autograd.grad(gr, params, grad_outputs=v)
        forms = per_layer(v, hv)
        if i >= 2: full_times.append(time.perf_counter() - t)
    hvp, full = float(np.median(times)), float(np.median(full_times))

    # the forward pass alone (no autograd), for comparison with Hutch's forward kernels
    with torch.no_grad():
        folded(x)
        fwd = []
        for _ in range(5):
            t = time.perf_counter(); folded(x); fwd.append(time.perf_counter() - t)
    forward = float(np.median(fwd))

    a1 = torch.randn(1024, 1024); b1 = torch.randn(1024, 1024)
    for _ in range(3): a1 @ b1
    t = time.perf_counter(); reps = 20
    for _ in range(reps): a1 @ b1
    gemm = 2 * 1024 ** 3 * reps / (time.perf_counter() - t) / 1e9

    result = {
        "torch_version": torch.__version__, "threads": a.threads, "batch": a.batch,
        "layers": len(weights), "parameters": sum(p.numel() for p in params),
        "weight_parameters": sum(p.numel() for p in weights),
        "probes_timed": a.probes,
        "hvp_seconds_per_probe": hvp, "hvp_seconds_all": times,
        "hvp_seconds_min": min(times),
        "full_seconds_per_probe": full, "full_seconds_all": full_times, "full_seconds_min": min(full_times),
        "seconds_100_probes": 100 * hvp,
        "forward_seconds": forward,
        "torch_sgemm_1024_gflops": gemm,
        "last_probe_forms": forms,
    }
    with open(os.path.join(a.out_dir, "pytorch.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"PyTorch {torch.__version__}, {a.threads} threads, batch {a.batch}, {len(weights)} layers, "
          f"{result['parameters']} parameters: double backprop {hvp:.3f} s/probe (median of {a.probes}), "
          f"forward+backward+double backprop {full:.3f} s/probe; forward alone {forward:.3f} s; torch 1024^3 GEMM {gemm:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
