"""How many of a probe model's ReLU outputs are exact zeros, at the granularities a convolution
kernel could skip (issue 16: the lever left for ResNet-20 at 3x is fewer multiply-adds, and a
convolution's input, input tangent and adjoint are zero where a ReLU cut its input).

Rebuilds the same folded, random-weight model as imagenet_pyhessian.py and runs the .npz batch
that Benchmarks/run_imagenet_probe.sh times. Per ReLU output [N, C, H, W] it prints the fraction
of zero elements, of all-zero planes (one example's channel), of all-zero 16- and 8-column row
segments (the direct kernels' vectors), and of all-zero 16-channel vectors at one position.

Usage: python Benchmarks/reference/relu_zeros.py [--model resnet20] [--batch 128] [--dir /tmp/hutch-probe]
"""
import argparse, os, sys
import numpy as np
import torch
import torch.fx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagenet_pyhessian  # noqa: E402


def zero_fractions(out):
    z = out == 0
    n, c, h, w = z.shape
    def rows(width):
        if w % width:
            return float("nan")
        return z.reshape(n, c, h, w // width, width).all(4).float().mean().item()
    vectors = z.reshape(n, c // 16, 16, h, w).all(2).float().mean().item() if c % 16 == 0 else float("nan")
    return (z.float().mean().item(), z.flatten(2).all(2).float().mean().item(), rows(min(w, 16)), rows(min(w, 8)), vectors)


class ReluRecorder(torch.fx.Interpreter):
    def __init__(self, module):
        super().__init__(module)
        self.rows = []

    def run_node(self, n):
        result = super().run_node(n)
        is_relu = (n.op == "call_function" and "relu" in str(n.target)) or (n.op == "call_method" and n.target == "relu") \
            or (n.op == "call_module" and isinstance(self.module.get_submodule(n.target), torch.nn.ReLU))
        if is_relu and result.dim() == 4:
            self.rows.append((tuple(result.shape), zero_fractions(result)))
        return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet20")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--dir", default="/tmp/hutch-probe")
    a = ap.parse_args()
    model = imagenet_pyhessian.folded_model(a.model)
    x = torch.tensor(np.load(os.path.join(a.dir, f"{a.model}_b{a.batch}.npz"))["x"])
    recorder = ReluRecorder(model)
    with torch.no_grad():
        recorder.run(x)
    print(f"{a.model}, batch {a.batch}: ReLU outputs, fraction zero as elements / whole planes / "
          "16-column rows / 8-column rows / 16-channel vectors")
    for shape, f in recorder.rows:
        print(f"{str(list(shape)):<20} " + " ".join(f"{v:6.3f}" for v in f))
    means = np.nanmean(np.array([f for _, f in recorder.rows]), axis=0)
    print(f"{'mean over ReLUs':<20} " + " ".join(f"{v:6.3f}" for v in means))


if __name__ == "__main__":
    main()
