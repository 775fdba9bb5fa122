"""ResNet-20 (CIFAR, BN folded) for the engine benchmark.

  engine_torch.py export OUT.onnx   writes the model (random weights, seed 20) as ONNX
  engine_torch.py time OUT.json     times forward, gradient and double-backprop HVP probes
                                    (PyHessian's method) on 2 threads, batch 128; JSON out.
Both modes build the same weights, so Hutch and PyTorch time the same network.
"""
import json, statistics, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

torch.set_num_threads(2)

class Block(nn.Module):
    def __init__(s, cin, cout, stride):
        super().__init__()
        s.c1 = nn.Conv2d(cin, cout, 3, stride, 1); s.c2 = nn.Conv2d(cout, cout, 3, 1, 1)
        s.sc = nn.Conv2d(cin, cout, 1, stride) if (stride != 1 or cin != cout) else None
    def forward(s, x):
        h = F.relu(s.c1(x)); h = s.c2(h)
        return F.relu(h + (s.sc(x) if s.sc is not None else x))

class ResNet20(nn.Module):
    def __init__(s):
        super().__init__()
        s.conv = nn.Conv2d(3, 16, 3, 1, 1)
        layers = []; cin = 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(3):
                layers.append(Block(cin, cout, stride if i == 0 else 1)); cin = cout
        s.layers = nn.Sequential(*layers); s.fc = nn.Linear(64, 10)
    def forward(s, x):
        h = F.relu(s.conv(x)); h = s.layers(h)
        return s.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))

def model():
    torch.manual_seed(20)
    return ResNet20().eval()   # conv biases stand for the folded BN shifts

def timed(f, reps):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); out.append(time.perf_counter() - t0)
    return out

def summary(ts):
    return {"min": min(ts), "median": statistics.median(ts), "runs": ts}

def time_all(path):
    m = model()
    torch.manual_seed(1)
    x = torch.randn(128, 3, 32, 32); y = torch.arange(128) % 10
    weights = [p for n, p in m.named_parameters() if n.endswith("weight")]
    allp = list(m.parameters())
    res = {"threads": torch.get_num_threads(), "torch": torch.__version__}
    with torch.no_grad():
        m(x)
        res["forward"] = summary(timed(lambda: m(x), 5))
    res["forward_with_autograd"] = summary(timed(lambda: m(x), 5))
    def grad():
        torch.autograd.grad(F.cross_entropy(m(x), y), weights)
    grad()
    res["gradient"] = summary(timed(grad, 5))
    for name, params in [("probe_weights", weights), ("probe_all_params", allp)]:
        g = torch.autograd.grad(F.cross_entropy(m(x), y), params, create_graph=True)
        def probe():
            v = [torch.randint_like(p, 2) * 2 - 1 for p in params]
            hv = torch.autograd.grad(g, params, grad_outputs=v, retain_graph=True)
            return [float((a * b).sum()) for a, b in zip(hv, v)]
        probe()
        res[name] = summary(timed(probe, 6))
    # the first probe of a fresh loop also pays the create_graph backward
    def first():
        gg = torch.autograd.grad(F.cross_entropy(m(x), y), weights, create_graph=True)
        v = [torch.randint_like(p, 2) * 2 - 1 for p in weights]
        torch.autograd.grad(gg, weights, grad_outputs=v)
    res["create_graph_plus_probe"] = summary(timed(first, 3))
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps({k: (v["min"] if isinstance(v, dict) else v) for k, v in res.items()}))

def export(path):
    m = model()
    torch.onnx.export(m, torch.zeros(1, 3, 32, 32), path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13,
                      dynamo=False)

if __name__ == "__main__":
    {"export": export, "time": time_all}[sys.argv[1]](sys.argv[2])
