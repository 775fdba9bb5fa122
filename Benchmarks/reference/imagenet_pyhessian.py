"""PyTorch side of Benchmarks/run_imagenet_probe.sh (issue 16): one model per invocation.

Models: torchvision's resnet18, resnet50, mobilenet_v2 and, with grouped convolutions,
resnext50_32x4d and regnet_y_400mf, and with 5x5 depthwise convolutions, squeeze-excitation and
SiLU / hard-swish, efficientnet_b0 and mobilenet_v3_large (1000 classes, 3x224x224 inputs) and the CIFAR ResNet-20 of
resnet20_pyhessian.py (10 classes, 3x32x32), random weights from
torch.manual_seed(0) with random BatchNorm statistics, in eval mode, BatchNorm folded into the
convolutions by torch.fx's `fuse` (what the ONNX export does too, so both sides run one network).
Random weights are enough: the cost of a Hessian-vector product does not depend on their values.

  --export DIR   writes DIR/NAME.onnx (TorchScript exporter, opset 17, batch axis dynamic) and
                 DIR/NAME_bB.npz (B random inputs and labels, generator seed 1)
  --time DIR     reads that .npz, rebuilds the same folded model and times what PyHessian does for
                 one Hutchinson probe (pyhessian.hessian.trace with data=(x, y)): the gradient graph
                 built once, then per probe torch.autograd.grad(grads, params, grad_outputs=v) with
                 Rademacher v over all parameters and v_l . (Hv)_l per weight tensor. Prints one JSON
                 line: seconds per probe (median and all), and this process's peak RSS.
"""
import argparse, json, os, resource, sys, time
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch.fx.experimental.optimization import fuse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resnet20_pyhessian import ResNet20, randomize_bn  # noqa: E402

SIZES = {"resnet18": (224, 1000), "resnet50": (224, 1000), "mobilenet_v2": (224, 1000), "resnet20": (32, 10),
         "resnext50_32x4d": (224, 1000), "regnet_y_400mf": (224, 1000),
         "efficientnet_b0": (224, 1000), "mobilenet_v3_large": (224, 1000)}


def folded_model(name):
    torch.manual_seed(0)
    model = randomize_bn(ResNet20() if name == "resnet20" else getattr(torchvision.models, name)(weights=None))
    model.eval()
    folded = fuse(model).eval()
    for p in folded.parameters():
        p.requires_grad_(True)   # fuse gives the new conv biases requires_grad False; PyHessian takes every parameter
    return folded


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=sorted(SIZES))
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--probes", type=int, default=2, help="timed probes (after one warm-up probe)")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--export", metavar="DIR")
    group.add_argument("--time", metavar="DIR")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    hw, classes = SIZES[a.model]
    model = folded_model(a.model)
    if a.export:
        os.makedirs(a.export, exist_ok=True)
        g = torch.Generator().manual_seed(1)
        x = torch.randn(a.batch, 3, hw, hw, generator=g)
        y = torch.randint(0, classes, (a.batch,), generator=g)
        torch.onnx.export(model, (x[:1],), os.path.join(a.export, a.model + ".onnx"), input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=17, dynamo=False)
        np.savez(os.path.join(a.export, f"{a.model}_b{a.batch}.npz"), x=x.numpy(), y=y.numpy().astype(np.int64))
        return
    data = np.load(os.path.join(a.time, f"{a.model}_b{a.batch}.npz"))
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    params = list(model.parameters())
    g = torch.Generator().manual_seed(2)
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    times = []
    for i in range(1 + a.probes):
        v = [torch.randint(0, 2, p.shape, generator=g).float() * 2 - 1 for p in params]
        t = time.perf_counter()
        hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
        forms = [float((vi * hi).sum()) for vi, hi, p in zip(v, hv, params) if p.dim() > 1]
        if i >= 1:
            times.append(time.perf_counter() - t)
    print(json.dumps({
        "model": a.model, "batch": a.batch, "threads": a.threads, "torch": torch.__version__,
        "seconds_per_probe": float(np.median(times)), "seconds_all": times, "weight_tensors": len(forms),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
