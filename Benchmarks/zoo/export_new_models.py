"""Exports models the zoo did not cover, as a new user would (random weights, both PyTorch
exporters, 2 examples), for run_new_models.sh:

    /root/hutch-venv/bin/python Benchmarks/zoo/export_new_models.py OUT_DIR NAME,NAME,...

NAME is a torchvision classifier (mnasnet1_0, googlenet, ...) or hf_KIND for a Hugging Face model
from its default configuration (hf_distilbert, hf_roberta, hf_albert: 3 labels on 16 token ids;
hf_deit, hf_mobilevit, hf_resnet: 1000 classes). Writes OUT_DIR/NAME_{dynamo,ts}.onnx and
OUT_DIR/NAME_data.npz (x, y). Not run by CI.
"""
import os, sys, traceback, numpy as np, torch, torchvision
out = sys.argv[1]; names = sys.argv[2].split(",")
torch.manual_seed(0)
class Logits(torch.nn.Module):
    def __init__(self, m, arg): super().__init__(); self.m, self.arg = m, arg
    def forward(self, x): return self.m(**{self.arg: x}).logits
def build(name):
    if name.startswith("hf_"):
        import transformers as t
        kind = name[3:]
        if kind in ("distilbert", "roberta", "albert"):
            cfg = {"distilbert": t.DistilBertConfig, "roberta": t.RobertaConfig, "albert": t.AlbertConfig}[kind](num_labels=3)
            model = {"distilbert": t.DistilBertForSequenceClassification, "roberta": t.RobertaForSequenceClassification,
                     "albert": t.AlbertForSequenceClassification}[kind](cfg)
            ids = torch.randint(5, 1000, (2, 16))
            return Logits(model, "input_ids"), ids, np.random.randint(0, 3, 2)
        cfg, cls = {"deit": (t.DeiTConfig, t.DeiTForImageClassification), "mobilevit": (t.MobileViTConfig, t.MobileViTForImageClassification),
                    "resnet": (t.ResNetConfig, t.ResNetForImageClassification)}[kind]
        side = 256 if kind == "mobilevit" else 224
        return Logits(cls(cfg(num_labels=1000)), "pixel_values"), torch.randn(2, 3, side, side), np.random.randint(0, 1000, 2)
    m = getattr(torchvision.models, name)(weights=None, **({"aux_logits": False, "init_weights": True} if name == "googlenet" else {}))
    return m, torch.randn(2, 3, 224, 224), np.random.randint(0, 1000, 2)
for name in names:
    model, x, y = build(name); model.eval()
    np.savez(os.path.join(out, f"{name}_data.npz"), x=x.numpy(), y=np.asarray(y).astype(np.int64))
    for exporter in ("dynamo", "ts"):
        path = os.path.join(out, f"{name}_{exporter}.onnx")
        try:
            if exporter == "dynamo":
                torch.onnx.export(model, (x,), path, dynamo=True, input_names=["x"], output_names=["logits"],
                                  dynamic_shapes=({0: torch.export.Dim("N", min=2, max=1024)},))
            else:
                torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17, input_names=["x"], output_names=["logits"],
                                  dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
            print(name, exporter, "exported", flush=True)
        except Exception as e:
            print(name, exporter, "export failed:", type(e).__name__, str(e).splitlines()[0][:200], flush=True)
