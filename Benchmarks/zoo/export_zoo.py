"""Exports 14 torchvision classification architectures and nine Hugging Face `transformers`
models (random weights from their default configurations, eval mode) with both PyTorch
exporters, for run_zoo.sh:

    /root/hutch-venv/bin/python Benchmarks/zoo/export_zoo.py OUT_DIR

OUT_DIR/NAME_dynamo.onnx (+ .onnx.data: the default exporter writes the weights beside the
model) and OUT_DIR/NAME_ts.onnx (TorchScript exporter, weights inside), a symbolic batch, and
OUT_DIR/NAME_data.npz with 2 random examples and labels. Exports already listed in
OUT_DIR/exports.json are kept. Not run by CI (downloads and size).
"""
import json
import os
import sys
import traceback

import numpy as np
import torch
import torchvision

# Hugging Face models, built from their default configurations (no download): image classifiers
# at 224x224 with 1000 classes, and a BERT classifier and a GPT-2 language model on 16 tokens.
# hf_bert_mask: the BERT classifier again with its attention_mask as a second input (the second
# example pads its last 4 tokens), inputs named input_ids and attention_mask.
HF_MODELS = ["hf_vit", "hf_convnext", "hf_swin", "hf_bert", "hf_gpt2", "hf_bert_mask", "hf_roberta", "hf_distilbert", "hf_deit",
             "hf_mobilevit"]

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "regnet_y_400mf",
          "shufflenet_v2_x1_0", "convnext_tiny", "vit_b_16", "swin_t", "inception_v3", "squeezenet1_1", "densenet121",
          "maxvit_t"]


class MaskedLogits(torch.nn.Module):
    """A Hugging Face text classifier as a function of its token ids and attention mask."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


class Logits(torch.nn.Module):
    """A Hugging Face model as a function of one tensor that returns its logits."""

    def __init__(self, model, argument):
        super().__init__()
        self.model, self.argument = model, argument

    def forward(self, x):
        return self.model(**{self.argument: x}).logits


def hf_model(name):
    """(model, example input, labels) for one of HF_MODELS."""
    import transformers as t
    if name == "hf_bert":
        config = t.BertConfig(num_labels=2)
        ids = torch.randint(0, config.vocab_size, (2, 16))
        return Logits(t.BertForSequenceClassification(config), "input_ids"), ids, np.random.randint(0, 2, 2)
    if name == "hf_bert_mask":
        config = t.BertConfig(num_labels=2)
        ids = torch.randint(0, config.vocab_size, (2, 16))
        mask = torch.tensor([[1] * 16, [1] * 12 + [0] * 4])
        return MaskedLogits(t.BertForSequenceClassification(config)), (ids, mask), np.random.randint(0, 2, 2)
    if name in ("hf_roberta", "hf_distilbert"):
        config, model = {"hf_roberta": (t.RobertaConfig, t.RobertaForSequenceClassification),
                         "hf_distilbert": (t.DistilBertConfig, t.DistilBertForSequenceClassification)}[name]
        ids = torch.randint(5, 1000, (2, 16))
        return Logits(model(config(num_labels=2)), "input_ids"), ids, np.random.randint(0, 2, 2)
    if name == "hf_gpt2":
        config = t.GPT2Config()
        ids = torch.randint(0, config.vocab_size, (2, 16))
        return Logits(t.GPT2LMHeadModel(config), "input_ids"), ids, ids.numpy()
    config, model = {"hf_vit": (t.ViTConfig, t.ViTForImageClassification),
                      "hf_convnext": (t.ConvNextConfig, t.ConvNextForImageClassification),
                      "hf_swin": (t.SwinConfig, t.SwinForImageClassification),
                      "hf_deit": (t.DeiTConfig, t.DeiTForImageClassification),
                      "hf_mobilevit": (t.MobileViTConfig, t.MobileViTForImageClassification)}[name]
    side = 256 if name == "hf_mobilevit" else 224
    return Logits(model(config(num_labels=1000)), "pixel_values"), torch.randn(2, 3, side, side), np.random.randint(0, 1000, 2)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    listing = os.path.join(out, "exports.json")
    status = json.load(open(listing))["status"] if os.path.exists(listing) else {}
    for name in MODELS + HF_MODELS:
        if all(f"{name}_{exporter}" in status for exporter in ("dynamo", "ts")):
            continue
        if name in HF_MODELS:
            model, x, y = hf_model(name)
            model.eval()
        else:
            kwargs = {"aux_logits": False, "init_weights": True} if name == "inception_v3" else {}
            model = getattr(torchvision.models, name)(weights=None, **kwargs).eval()
            side = 299 if name == "inception_v3" else 224
            x, y = torch.randn(2, 3, side, side), np.random.randint(0, 1000, 2)
        names = ["input_ids", "attention_mask"] if isinstance(x, tuple) else ["x"]
        args = x if isinstance(x, tuple) else (x,)
        np.savez(os.path.join(out, f"{name}_data.npz"), **{n: a.numpy() for n, a in zip(names, args)}, y=np.asarray(y).astype(np.int64))
        for exporter in ("dynamo", "ts"):
            path = os.path.join(out, f"{name}_{exporter}.onnx")
            try:
                if exporter == "dynamo":
                    batch = torch.export.Dim("N", min=2, max=1024)
                    torch.onnx.export(model, args, path, dynamo=True, input_names=names, output_names=["logits"],
                                      dynamic_shapes=tuple({0: batch} for _ in args))
                else:
                    torch.onnx.export(model, args, path, dynamo=False, opset_version=17, input_names=names,
                                      output_names=["logits"], dynamic_axes={**{n: {0: "N"} for n in names}, "logits": {0: "N"}})
                status[f"{name}_{exporter}"] = "exported"
            except Exception as error:  # an export PyTorch itself cannot do is recorded, not fatal
                status[f"{name}_{exporter}"] = f"export failed: {type(error).__name__}: {str(error).splitlines()[0][:200]}"
                traceback.print_exc()
            print(name, exporter, status[f"{name}_{exporter}"], flush=True)
    import transformers
    with open(listing, "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
                   "transformers": transformers.__version__, "status": status}, f, indent=1)


if __name__ == "__main__":
    main()
