#!/usr/bin/env python3
"""Make the ONNX models and PyTorch reference values that Hutch's Swift tests compare against.

Run from anywhere:  /root/hutch-venv/bin/python Tests/Fixtures/make_fixtures.py
Everything is seeded and runs single-threaded, so a re-run rewrites the same bytes.
See README.md next to this file for the file list, the array naming and what is checked.
"""
import contextlib
import copy
import io
import logging
import os
import sys
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper
from torch.func import functional_call
from torch.nn.attention import SDPBackend, sdpa_kernel

HERE = os.path.dirname(os.path.abspath(__file__))

# Tolerances of the script's own checks.
ORT_TOL = 1e-4  # onnxruntime float32 logits vs torch float32 logits (max abs, logits are O(1))
FOLD_TOL = 1e-4  # float64 reference on the ONNX weights vs the unfolded float32 torch model
TRACE_RTOL = 1e-9  # torch.func.hessian trace vs Gauss-Newton trace, float64, piecewise-linear nets
FD_RTOL = 1e-5  # Hv by double backprop vs central differences of the gradient


# ----------------------------------------------------------------------------------------------
# Building blocks and models
# ----------------------------------------------------------------------------------------------


class ConvBN(nn.Module):
    """Conv followed by BatchNorm; fold_bn() replaces the pair by one biased conv."""

    def __init__(self, cin, cout, k, stride=1, padding=0, groups=1, bias=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, groups=groups, bias=bias)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class ResidualPoolBlock(nn.Module):
    """Identity-shortcut residual block with a max pooling (pads included) in its branch."""

    def __init__(self, c):
        super().__init__()
        self.c1 = ConvBN(c, c, 3, padding=1)
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.c2 = ConvBN(c, c, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.c2(self.pool(F.relu(self.c1(x)))))


class DownBlock(nn.Module):
    """Stride-2 residual block whose shortcut is a strided 1x1 conv + BN."""

    def __init__(self, cin, cout):
        super().__init__()
        self.c1 = ConvBN(cin, cout, 3, stride=2, padding=1)
        self.c2 = ConvBN(cout, cout, 3, padding=1)
        self.shortcut = ConvBN(cin, cout, 1, stride=2)

    def forward(self, x):
        return F.relu(self.c2(F.relu(self.c1(x))) + self.shortcut(x))


class ResNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 4, 3, padding=1)
        self.block1 = ResidualPoolBlock(4)
        self.block2 = DownBlock(4, 8)
        self.gap = nn.AdaptiveAvgPool2d(1)  # GlobalAveragePool in the TorchScript export
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.block2(self.block1(F.relu(self.stem(x))))
        return self.fc(torch.flatten(self.gap(x), 1))


class MLP(nn.Module):
    """The middle layer is an explicit x @ W + b so the export has MatMul + Add besides Gemm."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 12)
        bound = 1.0 / np.sqrt(12)
        self.w2 = nn.Parameter(torch.empty(12, 10).uniform_(-bound, bound))
        self.b2 = nn.Parameter(torch.empty(10).uniform_(-bound, bound))
        self.fc3 = nn.Linear(10, 4)

    def forward(self, x):
        # x.size(0) keeps a Shape -> Gather -> Unsqueeze -> Concat -> Reshape subgraph in the
        # TorchScript export when the batch axis is dynamic.
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        x = F.relu(x @ self.w2 + self.b2)
        return self.fc3(x)


class Depthwise(nn.Module):
    """MobileNet-style: conv, depthwise (groups = channels, stride 2), pointwise, ReLU6 = Clip."""

    def __init__(self):
        super().__init__()
        self.c0 = ConvBN(3, 8, 3, padding=1)
        self.dw = ConvBN(8, 8, 3, stride=2, padding=1, groups=8)
        self.pw = ConvBN(8, 12, 1)
        self.pool = nn.AvgPool2d(2)  # AveragePool; AdaptiveAvgPool2d would become ReduceMean in dynamo
        self.fc = nn.Linear(48, 4)

    def forward(self, x):
        x = F.relu6(self.c0(x))
        x = F.relu6(self.dw(x))
        x = F.relu6(self.pw(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class TanhMLP(nn.Module):
    """Not piecewise linear: exact (Gauss-Newton) traces differ from the true Hessian traces."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 10)
        self.fc2 = nn.Linear(10, 8)
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = torch.tanh(self.fc1(x))
        x = torch.sigmoid(self.fc2(x))
        return self.fc3(x)


class TiedMLP(nn.Module):
    """One Linear applied three times in a row, as ALBERT shares a layer across depth: its weight
    is one initializer read by three MatMul/Gemm nodes, whose Hessian block has the cross terms
    of the three uses (the logits are not linear in it, so no exact traces)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(16, 8)
        self.shared = nn.Linear(8, 8)
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        for _ in range(3):
            x = torch.tanh(self.shared(x))
        return self.fc3(x)


class SESiLU(nn.Module):
    """EfficientNet-style: SiLU (x * sigmoid(x)) and a squeeze-excite gate, both products of two
    activations, so the Hessian has curvature from Mul and Sigmoid, not only from the loss."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 6, 3, padding=1)
        self.squeeze = nn.Conv2d(6, 3, 1)
        self.excite = nn.Conv2d(3, 6, 1)
        self.head = nn.Conv2d(6, 5, 3, stride=2, padding=1)
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        x = F.silu(self.stem(x))
        gate = torch.sigmoid(self.excite(F.silu(self.squeeze(F.adaptive_avg_pool2d(x, 1)))))
        x = F.silu(self.head(x * gate))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class HardSwishSE(SESiLU):
    """MobileNetV3-style: HardSwish (x * hardsigmoid(x), curved in the middle) and a squeeze-excite
    gate with HardSigmoid (piecewise linear); SESiLU's layers."""

    # PyTorch's hardsigmoid has no double backward: the reference copy computes the same
    # functions with clamp (composed = True), the exported model with the ONNX ops. ONNX's alpha
    # is a float32 attribute, so the float64 reference uses 1/6 rounded to float32 too.
    composed = False
    alpha = float(np.float32(1 / 6))

    def hardsigmoid(self, x):
        return torch.clamp(x * self.alpha + 0.5, 0, 1) if self.composed else F.hardsigmoid(x)

    def hardswish(self, x):
        return x * self.hardsigmoid(x) if self.composed else F.hardswish(x)

    def forward(self, x):
        x = self.hardswish(self.stem(x))
        gate = self.hardsigmoid(self.excite(F.relu(self.squeeze(F.adaptive_avg_pool2d(x, 1)))))
        x = self.hardswish(self.head(x * gate))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class BNKept(nn.Module):
    """Small CNN exported with BatchNormalization nodes left in the graph (inference BN)."""

    def __init__(self):
        super().__init__()
        self.c1 = ConvBN(1, 4, 3, padding=1, bias=True)
        self.c2 = ConvBN(4, 6, 3, stride=2, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        return self.fc(torch.flatten(self.gap(x), 1))


class Unsupported(nn.Module):
    """Two ops Hutch does not support (CumSum, and TopK from a sort), every other op supported."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.fc2 = nn.Linear(6, 5)
        self.fc3 = nn.Linear(5, 3)

    def forward(self, x):
        x = torch.cumsum(self.fc1(x), dim=1)
        x = torch.sort(self.fc2(x), dim=1).values
        return self.fc3(x)


def randomize_norms(model, gen):
    """Random LayerNorm scales and shifts, so every parameter is distinct and really matters."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=gen))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=gen))


class TinyViT(nn.Module):
    """ViT with batch-first attention, as Hugging Face and timm write it: patch conv, class token
    (Expand + Concat), position embedding, LayerNorm, two-head softmax attention (MatMul of two
    activations, q/k/v split off one Linear), exact GELU (Erf), the class token (Gather) and the
    mean of the other tokens (Slice, ReduceMean) into the head."""

    def __init__(self, dim=8, heads=2, classes=3):
        super().__init__()
        gen = torch.Generator().manual_seed(11)
        self.heads = heads
        self.patch = nn.Conv2d(2, dim, 4, stride=4)
        self.cls = nn.Parameter(0.5 * torch.randn(1, 1, dim, generator=gen))
        self.pos = nn.Parameter(0.5 * torch.randn(1, 5, dim, generator=gen))
        self.ln1, self.qkv, self.proj = nn.LayerNorm(dim), nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, dim)
        self.ln, self.head = nn.LayerNorm(dim), nn.Linear(2 * dim, classes)
        randomize_norms(self, gen)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q, k, v = (z.reshape(n, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        attention = torch.softmax((q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5, dim=-1)
        x = x + self.proj((attention @ v).transpose(1, 2).reshape(n, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        x = self.ln(x)
        return self.head(torch.cat([x[:, 0], x[:, 1:].mean(1)], 1))


class TinyEinsumViT(TinyViT):
    """TinyViT with its attention products written as torchvision's MaxViT writes them:
    torch.einsum with spaced, upper-case indices, which both exporters keep as Einsum nodes
    (q k^T as "B H I D, B H J D -> B H I J", attention times v as "B H I J, B H J D -> B H I D"),
    and a third product whose output order needs a transpose ("B H I J, B H J D -> B I H D")."""

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q, k, v = (z.reshape(n, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = torch.einsum("B H I D, B H J D -> B H I J", q, k) * (d // self.heads) ** -0.5
        attention = torch.softmax(scores, dim=-1)
        mixed = torch.einsum("B H I J, B H J D -> B H I D", attention, v).transpose(1, 2)
        mixed = mixed + torch.einsum("B H I J, B H J D -> B I H D", attention, v)
        x = x + self.proj(mixed.reshape(n, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        x = self.ln(x)
        return self.head(torch.cat([x[:, 0], x[:, 1:].mean(1)], 1))


class TinyTorchViT(nn.Module):
    """torchvision's ViT block: PyTorch's MultiheadAttention (batch_first), which moves the batch
    to axis 1 and folds the heads into it ([T, N * heads, d]), then an MLP with GELU."""

    def __init__(self, dim=8, classes=3):
        super().__init__()
        gen = torch.Generator().manual_seed(13)
        self.patch = nn.Conv2d(2, dim, 4, stride=4)
        self.cls = nn.Parameter(0.5 * torch.randn(1, 1, dim, generator=gen))
        self.pos = nn.Parameter(0.5 * torch.randn(1, 5, dim, generator=gen))
        self.ln1, self.attention = nn.LayerNorm(dim), nn.MultiheadAttention(dim, 2, batch_first=True)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, dim)
        self.ln, self.head = nn.LayerNorm(dim), nn.Linear(dim, classes)
        randomize_norms(self, gen)
        with torch.no_grad():  # PyTorch starts the attention biases at zero; make them matter
            self.attention.in_proj_bias.copy_(0.2 * torch.randn(3 * dim, generator=gen))
            self.attention.out_proj.bias.copy_(0.2 * torch.randn(dim, generator=gen))

    # The float64 reference differentiates twice: PyTorch's fused attention kernels have no double
    # backward, so the reference copy (composed = True) runs the math kernel.
    composed = False

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        h = self.ln1(x)
        with sdpa_kernel(SDPBackend.MATH) if self.composed else contextlib.nullcontext():
            x = x + self.attention(h, h, h, need_weights=False)[0]
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return self.head(self.ln(x)[:, 0])


class TinySDPAViT(TinyViT):
    """TinyViT with F.scaled_dot_product_attention and a boolean mask expanded to the batch, as
    Hugging Face writes attention: the dynamo exporter decomposes it into Softmax, an IsNaN guard
    (Where(IsNaN(p), 0, p)) and Where(mask, 0, -inf) added to the scores."""

    composed = False  # the reference copy runs the math kernel (no double backward otherwise)

    def __init__(self):
        super().__init__()
        self.register_buffer("mask", torch.ones(1, 1, 5, 5, dtype=torch.bool))

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q, k, v = (z.reshape(n, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        with sdpa_kernel(SDPBackend.MATH) if self.composed else contextlib.nullcontext():
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=self.mask.expand(n, 1, t, t))
        x = x + self.proj(attended.transpose(1, 2).reshape(n, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        x = self.ln(x)
        return self.head(torch.cat([x[:, 0], x[:, 1:].mean(1)], 1))


def tiny_swin():
    """torchvision's Swin Transformer at toy size: 6x6 input, 2x2 patches, 2x2 windows, so the
    3x3 token grid is padded (Pad on data) and the second block's shifted windows use the
    attention mask torchvision builds from constants (slices written with ScatterND, Not,
    Where); window partition folds the windows into the batch. (Its dynamo export indexes a
    flattened tensor with a Range over the batch, which Hutch refuses: TorchScript only.)"""
    from torchvision.models.swin_transformer import SwinTransformer
    torch.manual_seed(14)
    model = SwinTransformer(patch_size=[2, 2], embed_dim=8, depths=[2], num_heads=[2], window_size=[2, 2],
                            stochastic_depth_prob=0.0, num_classes=3)
    gen = torch.Generator().manual_seed(14)
    randomize_norms(model, gen)
    with torch.no_grad():  # torchvision starts biases and the bias tables at zero: make them matter
        for name, p in model.named_parameters():
            if name.endswith("bias") or name.endswith("bias_table"):
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
    return model


class TinyBERT(nn.Module):
    """A BERT-style classifier on int64 token ids: word embeddings looked up by the ids (Gather
    of a weight by data; an nn.Embedding), position embeddings gathered by constant positions,
    one encoder block (LayerNorm, softmax attention, GELU), a tanh pooler on the first token.
    (Hugging Face's own BERT is in the zoo: its eager attention upcasts the softmax to float32,
    so its float64 double backward is not the float64 Hessian a fixture needs.)"""

    def __init__(self, vocabulary=20, dim=8, tokens=6, heads=2, classes=3):
        super().__init__()
        gen = torch.Generator().manual_seed(15)
        self.heads = heads
        self.words = nn.Embedding(vocabulary, dim)
        self.positions = nn.Parameter(0.5 * torch.randn(tokens, dim, generator=gen))
        self.register_buffer("position_ids", torch.arange(tokens))
        self.ln0, self.ln1, self.qkv, self.proj = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, dim)
        self.pool, self.head = nn.Linear(dim, dim), nn.Linear(dim, classes)
        randomize_norms(self, gen)

    def forward(self, ids, mask=None):
        x = self.ln0(self.words(ids) + self.positions[self.position_ids])
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q, k, v = (z.reshape(n, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        if mask is not None:  # attention_mask (1 token, 0 padding) as Hugging Face BERT adds it
            scores = scores + (1.0 - mask[:, None, None, :].to(x.dtype)) * -10000.0
        attention = torch.softmax(scores, dim=-1)
        x = x + self.proj((attention @ v).transpose(1, 2).reshape(n, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return self.head(torch.tanh(self.pool(x[:, 0])))


class TinyCumSum(nn.Module):
    """RoBERTa's embeddings: the tokens that are not padding (id 1) counted with cumsum along the
    tokens, padding kept at 1, and looked up in a position embedding; token types gathered from a
    buffer of zeros by those positions (GatherElements by data) into a token-type embedding; then
    a running mean over the tokens (cumsum of activations, which carries derivatives) into the head."""

    def __init__(self, vocabulary=20, dim=8, tokens=6, classes=3):
        super().__init__()
        self.words, self.positions = nn.Embedding(vocabulary, dim), nn.Embedding(tokens + 2, dim)
        self.types = nn.Embedding(2, dim)
        self.register_buffer("type_ids", torch.zeros(1, tokens + 2, dtype=torch.long))
        self.fc, self.head = nn.Linear(dim, dim), nn.Linear(dim, classes)

    def forward(self, ids):
        real = ids.ne(1).int()
        positions = (torch.cumsum(real, dim=1).type_as(real) * real).long() + 1
        type_ids = torch.gather(self.type_ids.expand(ids.shape[0], -1), 1, positions)
        x = torch.tanh(self.fc(self.words(ids) + self.positions(positions) + self.types(type_ids)))
        counts = torch.arange(1, x.shape[1] + 1, dtype=x.dtype)[None, :, None]
        running = torch.cumsum(x, dim=1) / counts
        return self.head(running[:, -1] + running[:, 1])


class TinyTagger(nn.Module):
    """Token classification: an embedding, LayerNorm and a tanh-GELU MLP give logits [N, T, tags]
    for every token (loss token-ce, labels [N, T] with -100 on tokens that do not count)."""

    def __init__(self, vocabulary=20, dim=8, tokens=6, tags=5):
        super().__init__()
        gen = torch.Generator().manual_seed(16)
        self.words = nn.Embedding(vocabulary, dim)
        self.positions = nn.Parameter(0.5 * torch.randn(tokens, dim, generator=gen))
        self.ln, self.fc1, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, 2 * dim), nn.Linear(2 * dim, tags)
        randomize_norms(self, gen)

    def forward(self, ids):
        x = self.ln(self.words(ids) + self.positions)
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class TinyRegressor(nn.Module):
    """Regression: a tanh MLP with two real outputs per example (loss mse, float targets [N, 2])."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(12, 10), nn.Linear(10, 6), nn.Linear(6, 2)

    def forward(self, x):
        return self.fc3(torch.tanh(self.fc2(torch.tanh(self.fc1(x.flatten(1))))))


class TinyEmbed(nn.Module):
    """An embedding classifier that is piecewise linear: token vectors (Gather of the table by the
    ids), their mean over the tokens, Linear, ReLU, Linear. Exact and ggn traces apply, and the
    table is a quantizable layer with a per-row scale."""

    def __init__(self, vocabulary=20, dim=8, classes=3):
        super().__init__()
        self.words = nn.Embedding(vocabulary, dim)
        self.fc1, self.fc2 = nn.Linear(dim, 8), nn.Linear(8, classes)

    def forward(self, ids):
        return self.fc2(torch.relu(self.fc1(self.words(ids).mean(dim=1))))


class TinyGPT2(nn.Module):
    """A GPT-2-style decoder: token and position embeddings, one pre-LayerNorm block with causal
    self-attention (the future masked by a lower-triangular constant through Where), a tanh-GELU
    MLP, a final LayerNorm and a language-model head: logits [N, T, V] (loss token-ce; labels
    are the next token, -100 on the last position and on padding)."""

    def __init__(self, vocabulary=20, dim=8, tokens=6, heads=2):
        super().__init__()
        gen = torch.Generator().manual_seed(17)
        self.heads = heads
        self.words = nn.Embedding(vocabulary, dim)
        self.positions = nn.Parameter(0.5 * torch.randn(tokens, dim, generator=gen))
        self.register_buffer("causal", torch.tril(torch.ones(tokens, tokens, dtype=torch.bool)))
        self.ln1, self.qkv, self.proj = nn.LayerNorm(dim), nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.ln_f, self.lm_head = nn.LayerNorm(dim), nn.Linear(dim, vocabulary, bias=False)
        randomize_norms(self, gen)

    def forward(self, ids):
        x = self.words(ids) + self.positions
        n, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q, k, v = (z.reshape(n, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5
        scores = torch.where(self.causal, scores, torch.tensor(-10000.0, dtype=scores.dtype))
        x = x + self.proj((torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(n, t, d))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))
        return self.lm_head(self.ln_f(x))


class TinyConvNeXt(nn.Module):
    """ConvNeXt block: depthwise conv, channels-last LayerNorm (Transpose), pointwise Linears
    exported as MatMul with an [in, out] weight, tanh GELU, layer scale; mean over the spatial
    axes without keepdims, LayerNorm, head. At opset 14 LayerNorm is decomposed (ReduceMean,
    Sub, Pow, Sqrt, Div) and GELU written out with Pow and Tanh."""

    def __init__(self):
        super().__init__()
        gen = torch.Generator().manual_seed(12)
        self.stem = nn.Conv2d(2, 8, 2, stride=2)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.ln, self.pw1, self.pw2 = nn.LayerNorm(8), nn.Linear(8, 16), nn.Linear(16, 8)
        self.gamma = nn.Parameter(0.5 + torch.rand(8, generator=gen))
        self.norm, self.head = nn.LayerNorm(8), nn.Linear(8, 3)
        randomize_norms(self, gen)

    def forward(self, x):
        x = self.stem(x)
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.pw2(F.gelu(self.pw1(self.ln(y)), approximate="tanh")) * self.gamma
        x = (x + y.permute(0, 3, 1, 2)).mean((2, 3))
        return self.head(self.norm(x))


class HFBertMasked(nn.Module):
    """Hugging Face's own BertForSequenceClassification (a tiny config, every parameter random,
    scaled-dot-product attention, which stays float64 in the reference) on input_ids and an
    attention_mask that pads: transformers 5 builds the padding mask from the mask input with
    And, Range over the batch, and Gather (TorchScript) or GatherND and Max (dynamo), and adds it
    through a Where whose condition is data."""

    def __init__(self, vocabulary=20, dim=8, tokens=6, heads=2, classes=3):
        super().__init__()
        import transformers
        gen = torch.Generator().manual_seed(23)
        config = transformers.BertConfig(vocab_size=vocabulary, hidden_size=dim, num_hidden_layers=1, num_attention_heads=heads,
                                         intermediate_size=2 * dim, max_position_embeddings=tokens, num_labels=classes,
                                         attn_implementation="sdpa")
        self.bert = transformers.BertForSequenceClassification(config).eval()
        # true derivatives for every row: nn.Embedding's padding_idx zeroes row 0's gradient
        self.bert.bert.embeddings.word_embeddings.padding_idx = None
        with torch.no_grad():
            for name, p in self.bert.named_parameters():
                scale = 0.5 + torch.rand(p.shape, generator=gen) if name.endswith("LayerNorm.weight") else None
                p.copy_(scale if scale is not None else 0.4 * torch.randn(p.shape, generator=gen))

    composed = False  # the reference copy runs the math kernel (no double backward otherwise)

    def forward(self, ids, mask):
        with sdpa_kernel(SDPBackend.MATH) if self.composed else contextlib.nullcontext():
            return self.bert(input_ids=ids, attention_mask=mask).logits


class TinyMax(nn.Module):
    """The elementwise maximum of two activations (torch.maximum, ONNX Max): piecewise linear."""

    def __init__(self, inputs=6, hidden=5, classes=3):
        super().__init__()
        self.a, self.b, self.head = nn.Linear(inputs, hidden), nn.Linear(inputs, hidden), nn.Linear(hidden, classes)

    def forward(self, x):
        return self.head(torch.maximum(self.a(x), self.b(x)))


class TinyStridedPool(nn.Module):
    """Channels-last LayerNorm before global average pooling, as ConvNeXt and Swin end: the dynamo
    exporter writes the pooled tensor's as_strided as a Gather of the flattened tensor by indices
    built from Range(0, N)."""

    def __init__(self, channels=2, hidden=4, classes=3):
        super().__init__()
        gen = torch.Generator().manual_seed(24)
        self.conv, self.norm = nn.Conv2d(channels, hidden, 3, padding=1), nn.LayerNorm(hidden)
        self.pool, self.head = nn.AdaptiveAvgPool2d(1), nn.Linear(hidden, classes)
        randomize_norms(self, gen)

    def forward(self, x):
        h = self.norm(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return self.head(torch.flatten(self.pool(h), 1))


class TinyShuffle(nn.Module):
    """ShuffleNetV2 unit: channel split (Split or Slice), a branch, Concat, channel shuffle
    (Reshape, Transpose of data, Reshape), a Slice of rows, and a LogSoftmax head (which the
    cross-entropy makes invisible to the loss, so the Hessian stays the Gauss-Newton matrix)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(2, 8, 3, padding=1)
        self.branch = nn.Conv2d(4, 4, 3, padding=1)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        x = F.relu(self.stem(x))
        a, b = x.chunk(2, dim=1)
        x = torch.cat([a, F.relu(self.branch(b))], 1)
        n, c, h, w = x.shape
        x = x.reshape(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)[:, :, 1:, :]
        return F.log_softmax(self.head(x.mean((2, 3))), dim=1)


class TinyGrouped(nn.Module):
    """ResNeXt-style grouped convolutions (several input channels per group): 2 groups of 4 -> 4
    channels at stride 1, then 4 groups of 2 -> 3 at stride 2, on odd widths (the direct kernels'
    masked tails); the stem's gradient runs through both grouped data gradients."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.g1 = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.g2 = nn.Conv2d(8, 12, 3, stride=2, padding=1, groups=4)
        self.head = nn.Linear(12, 3)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = F.relu(self.g1(x))
        x = F.relu(self.g2(x))
        return self.head(x.mean((2, 3)))


class TinyWinograd(nn.Module):
    """3x3 stride-1 convolutions that the kernel path table sends to the per-example Winograd
    kernels: 16 -> 16 channels on a 14x15 plane (F(4x4,3x3): planes from 14x14; partial tiles on
    both edges) and, after a stride-2 convolution, 20 -> 20 on 7x8 (F(2x2,3x3)); their data
    gradients run on the same kernels as the transposed forward."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.a = nn.Conv2d(16, 16, 3, padding=1)
        self.down = nn.Conv2d(16, 20, 3, stride=2, padding=1)
        self.b = nn.Conv2d(20, 20, 3, padding=1)
        self.head = nn.Linear(20, 3)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = F.relu(self.a(x))
        x = F.relu(self.down(x))
        x = F.relu(self.b(x))
        return self.head(x.mean((2, 3)))


# ----------------------------------------------------------------------------------------------
# BatchNorm handling
# ----------------------------------------------------------------------------------------------


def randomize_bn(model, gen):
    """Non-trivial BN statistics so that folding really changes the conv weights."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=gen))
                m.bias.copy_(0.1 * torch.randn(c, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))


def fold_bn(model):
    """A copy of `model` with every ConvBN replaced by a single conv with bias (what eval export does)."""
    model = copy.deepcopy(model)
    for m in model.modules():
        if isinstance(m, ConvBN) and isinstance(m.bn, nn.BatchNorm2d):
            conv, bn = m.conv, m.bn
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
            folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                               padding=conv.padding, groups=conv.groups, bias=True)
            with torch.no_grad():
                folded.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
                folded.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
            m.conv, m.bn = folded, nn.Identity()
    return model


def is_bn_tensor(name, model):
    owner = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
    return isinstance(owner, nn.BatchNorm2d)


# ----------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet():
    """The exporters print progress and deprecation notes; keep the script's output readable."""
    out = io.StringIO()
    logging.disable(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                yield
            finally:
                logging.disable(logging.NOTSET)


def as_args(x):
    """The model's positional inputs: one tensor, or a tuple of them (input_ids, attention_mask)."""
    return x if isinstance(x, tuple) else (x,)


def export(model, x, path, exporter, opset, input_names=("input",), **extra):
    """Export with a dynamic batch axis; inputs `input_names` (one per tensor of x), output 'logits'."""
    args, names = as_args(x), list(input_names)
    with quiet():
        if exporter == "torchscript":
            torch.onnx.export(model, args, path, dynamo=False, opset_version=opset,
                              input_names=names, output_names=["logits"],
                              dynamic_axes={**{n: {0: "batch"} for n in names}, "logits": {0: "batch"}}, **extra)
        elif exporter == "dynamo":
            # external_data=False: the dynamo exporter otherwise writes PATH.data beside the model.
            batch = torch.export.Dim("batch")
            torch.onnx.export(model, args, path, dynamo=True, external_data=False, opset_version=opset,
                              input_names=names, output_names=["logits"],
                              dynamic_shapes=tuple({0: batch} for _ in args), **extra)
        else:
            raise ValueError(exporter)
    proto = onnx.load(path)
    onnx.checker.check_model(proto, full_check=True)
    got = {o.domain: o.version for o in proto.opset_import}.get("", None)
    assert got == opset, f"{path}: exported at opset {got}, wanted {opset}"
    return proto


def ort_logits(path, x):
    """x: one array, or a dict of arrays by input name."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    return sess.run(None, x if isinstance(x, dict) else {sess.get_inputs()[0].name: x})[0]


# ----------------------------------------------------------------------------------------------
# Mapping torch parameters to ONNX initializers
# ----------------------------------------------------------------------------------------------


def map_to_initializers(ref, proto, folded=()):
    """Match every float tensor of `ref` (parameters and BN statistics) to the unique ONNX
    initializer with the same shape and values, then load the exact ONNX values into `ref`.

    Matching by value is robust to the exporters' renaming (onnx::Conv_N in TorchScript,
    original names with folded values in dynamo). A Linear on a rank-3 input is exported as
    MatMul with the weight transposed ([in, out]); such matches are listed in `transposed`.
    Returns torch name -> ONNX name, and the set of transposed torch names.
    """
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    mapping, transposed = {}, set()
    tensors = list(ref.named_parameters()) + [(n, b) for n, b in ref.named_buffers() if b.is_floating_point()]
    def matches(want):
        return [k for k, v in inits.items()
                if v.shape == want.shape and v.dtype.kind == "f" and np.allclose(v, want, rtol=1e-4, atol=1e-6)]
    for name, t in tensors:
        want = t.detach().cpu().numpy()
        hits = matches(want)
        flip = not hits and want.ndim == 2
        if flip:
            hits = matches(want.T)
        if not hits and any(f in name for f in folded):
            continue  # the exporter folded it into another constant
        if len(hits) != 1:
            raise RuntimeError(f"{name}: {len(hits)} ONNX initializers match by value ({hits})")
        mapping[name] = hits[0]
        value = inits[hits[0]].astype(np.float64)
        if flip:
            transposed.add(name)
            value = value.T
        with torch.no_grad():
            t.copy_(torch.from_numpy(value))
    taken = list(mapping.values())
    assert len(set(taken)) == len(taken), f"two torch tensors mapped to one initializer: { {k: v for k, v in mapping.items() if taken.count(v) > 1} }"
    return mapping, transposed


def quantizable_layers(proto):
    """(node name, op, weight initializer, bias initializer or None) for Conv/Gemm/MatMul with an
    initializer weight; the 'bias' of a MatMul is the initializer of the Add that consumes it.
    Embedding tables too: a Gather of a rank-2 float initializer by data (not by constants)."""
    inits = {i.name for i in proto.graph.initializer}
    ranks = {i.name: len(i.dims) for i in proto.graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    constants = inits | {o for n in proto.graph.node if n.op_type == "Constant" for o in n.output}
    layers = []
    for node in proto.graph.node:
        if node.op_type == "Gather" and ranks.get(node.input[0]) == 2 and node.input[1] not in constants:
            layers.append((node.name, node.op_type, node.input[0], None))
        if node.op_type in ("Conv", "Gemm", "MatMul") and len(node.input) > 1 and node.input[1] in inits:
            bias = node.input[2] if len(node.input) > 2 and node.input[2] in inits else None
            if node.op_type == "MatMul":
                for other in proto.graph.node:
                    if other.op_type == "Add" and node.output[0] in other.input:
                        bias = next((i for i in other.input if i in inits), None)
            layers.append((node.name, node.op_type, node.input[1], bias))
    return layers


# ----------------------------------------------------------------------------------------------
# Reference values
# ----------------------------------------------------------------------------------------------


def rademacher(rng, shape):
    return torch.from_numpy(rng.integers(0, 2, size=shape).astype(np.float64) * 2.0 - 1.0)


def gauss_newton_trace(ref, params, name, x, y):
    """(1/N) sum_i sum_c ||grad_W (A_i f_i)_c||^2, A_i = diag(sqrt p_i)(I - 1 p_i^T) (Protocols/README.md, "Exact mode")."""
    w = params[name]

    def logits_of(wv):
        return functional_call(ref, {**params, name: wv}, as_args(x))

    logits = logits_of(w).detach()
    jac = torch.func.jacrev(logits_of)(w)  # [N, C, *w.shape]
    n, c = logits.shape
    jac = jac.reshape(n, c, -1)
    p = torch.softmax(logits, dim=1)
    eye = torch.eye(c, dtype=torch.float64)
    a = torch.sqrt(p)[:, :, None] * (eye[None] - p[:, None, :])  # rows: sqrt(p_c) (e_c - p)^T
    return float(((a @ jac) ** 2).sum() / n)


def loss_function(spec):
    """The fixture's loss head (Protocols/README.md, "Loss"): ce on [N, C], token-ce on [N, T, V]
    with labels [N, T] (-100 ignored, mean over the tokens that count), mse on float targets."""
    kind = spec.get("loss", "ce")
    if kind == "token-ce":
        return lambda logits, y: F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
    if kind == "mse":
        return lambda out, y: F.mse_loss(out, y)
    return F.cross_entropy


def hessian_trace(ref, params, name, x, y, loss=F.cross_entropy):
    """Trace of the Hessian block of the mean loss w.r.t. one weight tensor alone."""
    def loss_of(wv):
        return loss(functional_call(ref, {**params, name: wv}, as_args(x)), y)

    h = torch.func.hessian(loss_of)(params[name])
    k = params[name].numel()
    h = h.reshape(k, k)
    return float(h.diagonal().sum()), h


def references(spec, model, ref, proto, mapping, transposed, x32, y, seed):
    """All reference arrays for one model; keys are ONNX initializer names, and arrays of a
    weight stored transposed in the ONNX file are transposed to match it."""
    x = torch.from_numpy(x32) if "vocabulary" in spec else torch.from_numpy(x32).double()   # token ids stay integers
    if "mask" in spec:
        x = (x, torch.from_numpy(spec["mask"]))
    yt = torch.from_numpy(y) if y.dtype.kind == "i" else torch.from_numpy(y).double()
    loss_of = loss_function(spec)
    params = {n: p.detach().clone() for n, p in ref.named_parameters()}
    # constants to Hutch: BN statistics, and tables the loader folds away (Swin's relative
    # position bias, gathered by a constant index)
    folded = spec.get("folded_parameters", ())
    # parameters whose derivatives vanish identically (a key bias shifts a whole softmax row of
    # scores alike): their reference values would be round-off, so none are written
    vanishing = spec.get("vanishing_parameters", ())
    probe_names = [n for n in params if not is_bn_tensor(n, ref) and not any(f in n for f in folded + vanishing)]
    onnx_name = mapping

    for p in params.values():
        p.requires_grad_(True)
    logits64 = functional_call(ref, params, as_args(x))
    loss = loss_of(logits64, yt)
    names = list(params)
    grads = torch.autograd.grad(loss, [params[n] for n in names], create_graph=True)
    grad = dict(zip(names, grads))
    for n in names:
        if any(f in n for f in vanishing):
            assert float(grad[n].detach().norm()) < 1e-12 * float(max(g.detach().norm() for g in grads)), f"{spec['name']}: {n} has a gradient"

    rng = np.random.default_rng(seed)
    v = [{n: rademacher(rng, tuple(params[n].shape)) for n in probe_names} for _ in range(2)]
    probe_grads = [grad[n] for n in probe_names]
    hv = []
    for vk in v:
        out = torch.autograd.grad(probe_grads, [params[n] for n in probe_names],
                                  grad_outputs=[vk[n] for n in probe_names], retain_graph=True)
        hv.append(dict(zip(probe_names, [o.detach() for o in out])))

    # Self-checks of the HVPs: symmetry, and central differences of the gradient.
    dot = lambda a, b: sum(float((a[n] * b[n]).sum()) for n in probe_names)
    s01, s10 = dot(v[1], hv[0]), dot(v[0], hv[1])
    assert abs(s01 - s10) <= 1e-10 * max(1.0, abs(s01)), f"{spec['name']}: v1.Hv0={s01} != v0.Hv1={s10}"
    eps = 1e-6
    def grad_at(shift):
        shifted = {n: (params[n].detach() + shift * v[0][n] if n in v[0] else params[n].detach())
                   for n in names}
        for t in shifted.values():
            t.requires_grad_(True)
        l = loss_of(functional_call(ref, shifted, as_args(x)), yt)
        g = torch.autograd.grad(l, [shifted[n] for n in probe_names])
        return dict(zip(probe_names, g))
    gp, gm = grad_at(eps), grad_at(-eps)
    fd = torch.cat([((gp[n] - gm[n]) / (2 * eps)).flatten() for n in probe_names])
    exact = torch.cat([hv[0][n].flatten() for n in probe_names])
    fd_err = float((fd - exact).norm() / exact.norm())
    assert fd_err < FD_RTOL, f"{spec['name']}: Hv vs finite differences rel err {fd_err:.2e}"

    def as_onnx(n, t):
        t = t.detach().numpy()
        return t.T if n in transposed else t

    out = {
        **({"input_ids": x32, "attention_mask": spec["mask"]} if "mask" in spec else {"x": x32}),
        "y": y,
        "logits": model(*(torch.from_numpy(a) for a in ((x32, spec["mask"]) if "mask" in spec else (x32,)))).detach().numpy().astype(np.float32),
        "logits64": logits64.detach().numpy(),
        "loss": np.array([float(loss.detach())], dtype=np.float64),
    }
    for n in names:
        if n in onnx_name and not any(f in n for f in vanishing):
            out[f"grad:{onnx_name[n]}"] = as_onnx(n, grad[n])
    for k in range(2):
        for n in probe_names:
            out[f"v{k}:{onnx_name[n]}"] = as_onnx(n, v[k][n])
        for n in probe_names:
            out[f"hv{k}:{onnx_name[n]}"] = as_onnx(n, hv[k][n])

    # Per-layer traces of the quantizable weights.
    detached = {n: p.detach() for n, p in params.items()}
    weight_of = {onnx_name[n]: n for n in names if n in onnx_name}
    report = []
    for node, op, w_init, _ in quantizable_layers(proto):
        tname = weight_of[w_init]
        if any(f in tname for f in folded):   # a table gathered by indices the loader folds: a constant to Hutch
            continue
        t, h = hessian_trace(ref, detached, tname, x, yt, loss_of)
        out[f"trace:{w_init}"] = np.array([t], dtype=np.float64)
        # Layer-restricted HVP H_WW v0_W (Hutchinson `layer` mode), by double backprop, checked
        # against the explicit Hessian block from torch.func.hessian.
        hvl = torch.autograd.grad(grad[tname], params[tname], grad_outputs=v[0][tname], retain_graph=True)[0]
        explicit = h @ v[0][tname].flatten()
        hvl_err = float((explicit - hvl.flatten()).norm() / hvl.flatten().norm())
        assert hvl_err < 1e-10, f"{spec['name']} {w_init}: layer HVP vs explicit Hessian block {hvl_err:.1e}"
        out[f"hvl0:{w_init}"] = as_onnx(tname, hvl)
        gn = gauss_newton_trace(ref, detached, tname, x, yt) if "loss" not in spec else float("nan")   # CE's A_i only
        rel = abs(gn - t) / max(abs(t), 1e-300)
        if spec["piecewise_linear"]:
            assert rel < TRACE_RTOL, f"{spec['name']} {w_init}: hessian trace {t} vs Gauss-Newton {gn}"
        # non-piecewise-linear models too: the sampled GGN estimates this, not the Hessian trace
        out[f"gn_trace:{w_init}"] = np.array([gn], dtype=np.float64)
        report.append((node, op, w_init, tuple(detached[tname].shape), t, gn, rel))
    if not spec["piecewise_linear"] and "loss" not in spec:
        worst = max(r[-1] for r in report)
        assert worst > 1e-6, f"{spec['name']}: Gauss-Newton equals the Hessian trace, model looks linear"
    if spec.get("activation_traces"):
        for weight, trace in activation_traces(ref, x, yt, mapping).items():
            out[f"atrace:{weight}"] = np.array([trace], dtype=np.float64)
    return out, report, fd_err


def activation_traces(ref, x, y, mapping):
    """HAWQ-V2's activation sensitivity: Tr(d^2 L / d a^2) of the mean cross-entropy with respect
    to each Linear/Conv layer's input tensor a (all examples at once; examples do not interact, so
    it is the mean of each example's own trace), by torch.autograd.functional.hessian. a is
    replaced where every reader sees it: at the outermost module whose input is that very tensor
    (a residual block for a fork, whose skip path then sees the replacement too). Keyed by the
    layer's ONNX weight name."""
    inputs = {}
    hooks = [m.register_forward_pre_hook(lambda m, args, name=name: inputs.setdefault(name, args[0]))
             for name, m in ref.named_modules()]
    ref(*as_args(x))
    for h in hooks:
        h.remove()
    modules = dict(ref.named_modules())
    traces = {}
    for name, module in ref.named_modules():
        if not isinstance(module, (nn.Linear, nn.Conv2d)) or f"{name}.weight" not in mapping:
            continue
        a0 = inputs[name].detach()
        # named_modules lists parents before children: the first with the same tensor is outermost
        owner = next(modules[n] for n in modules if n in inputs and inputs[n] is inputs[name])

        def loss_at(a, owner=owner):
            replace = owner.register_forward_pre_hook(lambda m, args: (a,) + tuple(args[1:]))
            try:
                return F.cross_entropy(ref(*as_args(x)), y)
            finally:
                replace.remove()

        h = torch.autograd.functional.hessian(loss_at, a0)
        traces[mapping[f"{name}.weight"]] = float(h.reshape(a0.numel(), a0.numel()).diagonal().sum())
    return traces


# ----------------------------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------------------------

SPECS = [
    dict(name="resnet_small", make=ResNetSmall, input=(3, 8, 8), batch=8, classes=5, activation_traces=True,
         exporter="torchscript", opset=17, fold=True, piecewise_linear=True, x_scale=1.0, seed=101),
    dict(name="mlp", make=MLP, input=(1, 4, 4), batch=12, classes=4, activation_traces=True,
         exporter="torchscript", opset=13, fold=False, piecewise_linear=True, x_scale=1.0, seed=202),
    dict(name="depthwise", make=Depthwise, input=(3, 8, 8), batch=10, classes=4,
         exporter="dynamo", opset=17, fold=True, piecewise_linear=True, x_scale=3.0, seed=303),
    dict(name="tanh_mlp", make=TanhMLP, input=(1, 4, 4), batch=12, classes=3, activation_traces=True,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=404),
    dict(name="tiny_tied", make=TiedMLP, input=(1, 4, 4), batch=12, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=960),
    dict(name="se_silu", make=SESiLU, input=(2, 6, 6), batch=8, classes=3,
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=707),
    dict(name="hard_swish", make=HardSwishSE, input=(2, 6, 6), batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=2.0, seed=808),
    dict(name="tiny_vit", make=TinyViT, input=(2, 8, 8), batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=901),
    dict(name="tiny_vit_dynamo", make=TinyViT, input=(2, 8, 8), batch=8, classes=3,
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=902),
    dict(name="tiny_sdpa_dynamo", make=TinySDPAViT, input=(2, 8, 8), batch=8, classes=3,
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=909),
    dict(name="tiny_einsum", make=TinyEinsumViT, input=(2, 8, 8), batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=950),
    dict(name="tiny_einsum_dynamo", make=TinyEinsumViT, input=(2, 8, 8), batch=8, classes=3,
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=951),
    dict(name="tiny_torch_vit", make=TinyTorchViT, input=(2, 8, 8), batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=907),
    dict(name="tiny_torch_vit_dynamo", make=TinyTorchViT, input=(2, 8, 8), batch=8, classes=3,
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=908),
    dict(name="tiny_swin", make=tiny_swin, input=(3, 6, 6), batch=8, classes=3, folded_parameters=("relative_position_bias_table",),
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=910),
    dict(name="tiny_bert", make=TinyBERT, input=(6,), vocabulary=20, batch=8, classes=3,
         folded_parameters=("positions",),
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=912),
    dict(name="tiny_bert_dynamo", make=TinyBERT, input=(6,), vocabulary=20, batch=8, classes=3,
         folded_parameters=("positions",),
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=913),
    # padding: per example, how many trailing tokens the attention mask hides (the first two,
    # the export's example, differ so the mask is not a constant to the exporter)
    dict(name="tiny_bert_mask", make=TinyBERT, input=(6,), vocabulary=20, batch=8, classes=3,
         padding=(0, 2, 3, 0, 1, 0, 5, 0), folded_parameters=("positions",),
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=916),
    dict(name="tiny_bert_mask_dynamo", make=TinyBERT, input=(6,), vocabulary=20, batch=8, classes=3,
         padding=(0, 2, 3, 0, 1, 0, 5, 0), folded_parameters=("positions",),
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=917),
    # Hugging Face BERT with a padding attention_mask, Max, and the dynamo as_strided of pooling
    dict(name="hf_bert_mask_tiny", make=HFBertMasked, input=(6,), vocabulary=20, batch=8, classes=3,
         padding=(0, 2, 3, 0, 1, 0, 5, 0), folded_parameters=("position_embeddings", "token_type_embeddings"),
         vanishing_parameters=("attention.self.key.bias",), exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=930),
    dict(name="hf_bert_mask_tiny_dynamo", make=HFBertMasked, input=(6,), vocabulary=20, batch=8, classes=3,
         padding=(0, 2, 3, 0, 1, 0, 5, 0), folded_parameters=("position_embeddings", "token_type_embeddings"),
         vanishing_parameters=("attention.self.key.bias",), exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=931),
    dict(name="tiny_max", make=TinyMax, input=(6,), batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=True, x_scale=1.0, seed=932),
    dict(name="tiny_strided_pool_dynamo", make=TinyStridedPool, input=(2, 5, 5), batch=8, classes=3,
         exporter="dynamo", opset=20, fold=False, piecewise_linear=False, x_scale=1.0, seed=933),
    # loss heads: token classification, regression, and a GPT-2-style language model
    dict(name="tiny_cumsum", make=TinyCumSum, input=(6,), vocabulary=20, batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=961),
    dict(name="tiny_cumsum_dynamo", make=TinyCumSum, input=(6,), vocabulary=20, batch=8, classes=3,
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=962),
    dict(name="tiny_tagger", make=TinyTagger, input=(6,), vocabulary=20, batch=6, classes=5, loss="token-ce",
         ignored=((0, 5), (1, 0), (1, 1), (3, 4), (4, 2)), folded_parameters=("positions",),
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=918),
    dict(name="tiny_regressor", make=TinyRegressor, input=(3, 4), batch=10, classes=2, loss="mse",
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=919),
    dict(name="tiny_gpt2", make=TinyGPT2, input=(6,), vocabulary=20, batch=6, classes=20, loss="token-ce",
         next_token=True, ignored=((2, 3), (2, 4), (5, 0)), folded_parameters=("positions",),
         exporter="torchscript", opset=17, fold=False, piecewise_linear=False, x_scale=1.0, seed=920),
    dict(name="tiny_gpt2_dynamo", make=TinyGPT2, input=(6,), vocabulary=20, batch=6, classes=20, loss="token-ce",
         next_token=True, ignored=((2, 3), (2, 4), (5, 0)), folded_parameters=("positions",),
         exporter="dynamo", opset=18, fold=False, piecewise_linear=False, x_scale=1.0, seed=921),
    dict(name="tiny_embed", make=TinyEmbed, input=(6,), vocabulary=20, batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=True, x_scale=1.0, seed=923),
    dict(name="tiny_convnext", make=TinyConvNeXt, input=(2, 8, 8), batch=8, classes=3,
         exporter="torchscript", opset=14, fold=False, piecewise_linear=False, x_scale=1.0, seed=903),
    dict(name="tiny_convnext_dynamo", make=TinyConvNeXt, input=(2, 8, 8), batch=8, classes=3,
         exporter="dynamo", opset=20, fold=False, piecewise_linear=False, x_scale=1.0, seed=904),
    dict(name="tiny_shuffle", make=TinyShuffle, input=(2, 6, 6), batch=8, classes=3,
         exporter="dynamo", opset=18, fold=False, piecewise_linear=True, x_scale=1.0, seed=915),
    dict(name="tiny_shuffle_ts", make=TinyShuffle, input=(2, 6, 6), batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=True, x_scale=1.0, seed=906),
    dict(name="tiny_grouped", make=TinyGrouped, input=(3, 6, 11), batch=6, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=True, x_scale=1.0, seed=941),
    dict(name="tiny_winograd", make=TinyWinograd, input=(3, 14, 15), batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=True, x_scale=1.0, seed=943),
    dict(name="bn_kept", make=BNKept, input=(1, 6, 6), batch=8, classes=3,
         exporter="torchscript", opset=17, fold=False, piecewise_linear=True, x_scale=1.0, seed=505,
         export_extra=dict(training=torch.onnx.TrainingMode.PRESERVE)),
]


def make_model_fixture(spec):
    name = spec["name"]
    torch.manual_seed(spec["seed"])
    gen = torch.Generator().manual_seed(spec["seed"])
    model = spec["make"]()
    randomize_bn(model, gen)
    model.eval()
    if "vocabulary" in spec:  # token ids (int64), named x32 all the same
        x32 = torch.randint(0, spec["vocabulary"], (spec["batch"], *spec["input"]), generator=gen).numpy()
    else:
        x32 = (spec["x_scale"] * torch.randn(spec["batch"], *spec["input"], generator=gen)).numpy().astype(np.float32)
    y = torch.randint(0, spec["classes"], (spec["batch"],), generator=gen).numpy().astype(np.int64)
    if spec.get("loss") == "token-ce" and spec.get("next_token"):  # language modelling: the next token
        y = np.concatenate([x32[:, 1:], np.full((spec["batch"], 1), -100)], axis=1).astype(np.int64)
    elif spec.get("loss") == "token-ce":
        y = torch.randint(0, spec["classes"], (spec["batch"], *spec["input"]), generator=gen).numpy().astype(np.int64)
    elif spec.get("loss") == "mse":
        y = torch.randn(spec["batch"], spec["classes"], generator=gen).numpy().astype(np.float32)
    for i, j in spec.get("ignored", ()):  # tokens that do not count
        y[i, j] = -100
    example = torch.from_numpy(x32[:2])
    inputs32 = x32
    if spec.get("padding"):  # an attention mask: example i keeps its first tokens - padding[i]
        tokens = x32.shape[1]
        spec = dict(spec, mask=np.array([[1] * (tokens - p) + [0] * p for p in spec["padding"]], dtype=np.int64))
        example = (example, torch.from_numpy(spec["mask"][:2]))
        inputs32 = {"input_ids": x32, "attention_mask": spec["mask"]}
        with torch.no_grad():  # the mask really masks: padded examples' logits change without it
            ids = torch.from_numpy(x32)
            change = (model(ids, torch.from_numpy(spec["mask"])) - model(ids, torch.ones_like(ids))).abs().amax(dim=1)
        assert all((float(c) > 1e-3) == (p > 0) for c, p in zip(change, spec["padding"])), f"{name}: the mask does not mask"

    path = os.path.join(HERE, f"{name}.onnx")
    proto = export(model, example, path, spec["exporter"], spec["opset"],
                   input_names=("input_ids", "attention_mask") if "mask" in spec else ("input",),
                   **spec.get("export_extra", {}))
    ops = [n.op_type for n in proto.graph.node]
    if spec.get("fold"):
        assert "BatchNormalization" not in ops, f"{name}: BN was not folded"
    if name == "bn_kept":
        assert ops.count("BatchNormalization") == 2, f"{name}: BN nodes missing: {ops}"
        for n in proto.graph.node:
            if n.op_type == "BatchNormalization":
                tm = [a.i for a in n.attribute if a.name == "training_mode"]
                assert tm in ([], [0]), f"{name}: BN exported in training mode"

    ref = (fold_bn(model) if spec["fold"] else copy.deepcopy(model)).double().eval()
    if hasattr(ref, "composed"):
        ref.composed = True
    mapping, transposed = map_to_initializers(ref, proto, spec.get("folded_parameters", ()))
    for node, op, w, b in quantizable_layers(proto):
        assert w in mapping.values(), f"{name}: weight {w} of {node} not mapped"
        assert b is None or b in mapping.values(), f"{name}: bias {b} of {node} not mapped"

    out, report, fd_err = references(spec, model, ref, proto, mapping, transposed, x32, y, spec["seed"])

    ort_out = ort_logits(path, inputs32)
    d_ort = float(np.abs(ort_out - out["logits"]).max())
    d_fold = float(np.abs(out["logits64"] - out["logits"]).max())
    assert d_ort < ORT_TOL, f"{name}: onnxruntime vs torch logits differ by {d_ort}"
    assert d_fold < FOLD_TOL, f"{name}: float64 reference vs float32 torch logits differ by {d_fold}"

    np.savez(os.path.join(HERE, f"{name}_ref.npz"), **out)
    shape_ops = [o for o in ops if o in ("Shape", "Gather", "Unsqueeze", "Concat", "Constant")]
    print(f"{name}: {spec['exporter']} opset {spec['opset']}, ops {sorted(set(ops))}")
    print(f"  shape-subgraph ops: {shape_ops or 'none'}")
    print(f"  max|ort - torch| = {d_ort:.2e}, max|f64 ref - f32 torch| = {d_fold:.2e}, "
          f"Hv vs FD rel = {fd_err:.2e}, loss = {out['loss'][0]:.6f}")
    for node, op, w, shape, t, gn, rel in report:
        print(f"  {node:28s} {op:6s} {w:22s} {str(shape):16s} trace {t:.6e} gn {gn:.6e} rel {rel:.1e}")
    if name == "depthwise":
        with torch.no_grad():
            print(f"  ReLU6 upper clip active on {float((model.c0(torch.from_numpy(x32)) > 6).float().mean()):.3f}"
                  f" of the first layer's outputs")
    return proto


def make_digits_reference(n=64):
    """Exact per-layer traces of the embedded example (Examples/digits_resnet.onnx) on the first
    `n` examples of Examples/digits.npz, so `hutch trace` on the example can be checked end to end.
    The torch model is rebuilt from the ONNX file: each Conv/Gemm node name (/block1/c1/conv/Conv)
    names the module whose weight and bias are its initializers."""
    examples = os.path.join(os.path.dirname(os.path.dirname(HERE)), "Examples")
    sys.path.insert(0, examples)
    import train_example  # the model definition; nothing runs on import

    proto = onnx.load(os.path.join(examples, "digits_resnet.onnx"))
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    model = train_example.DigitsResNet()
    for m in list(model.modules()):
        if hasattr(m, "conv") and hasattr(m, "bn"):  # BN is folded in the export
            c = m.conv
            m.conv = nn.Conv2d(c.in_channels, c.out_channels, c.kernel_size, stride=c.stride,
                               padding=c.padding, groups=c.groups, bias=True)
            m.bn = nn.Identity()
    model = model.double().eval()
    onnx_name, assigned = {}, set()
    for node in proto.graph.node:
        if node.op_type in ("Conv", "Gemm"):
            path = ".".join(node.name.strip("/").split("/")[:-1])
            for suffix, init in zip(("weight", "bias"), node.input[1:3]):
                t = model.get_parameter(f"{path}.{suffix}")
                assert tuple(t.shape) == inits[init].shape, f"{node.name}: {init} shape"
                with torch.no_grad():
                    t.copy_(torch.from_numpy(inits[init].astype(np.float64)))
                onnx_name[f"{path}.{suffix}"] = init
    assert set(onnx_name) == {k for k, _ in model.named_parameters()}, "digits: unassigned parameters"

    data = np.load(os.path.join(examples, "digits.npz"))
    x32, y = data["x"][:n], data["y"][:n]
    x, yt = torch.from_numpy(x32).double(), torch.from_numpy(y)
    params = {k: p.detach().clone() for k, p in model.named_parameters()}
    logits64 = functional_call(model, params, (x,))
    d_ort = float(np.abs(ort_logits(os.path.join(examples, "digits_resnet.onnx"), x32) - logits64.numpy()).max())
    assert d_ort < ORT_TOL * 10, f"digits: onnxruntime vs float64 torch logits {d_ort}"
    for p in params.values():
        p.requires_grad_(True)
    loss = F.cross_entropy(functional_call(model, params, (x,)), yt)
    grads = dict(zip(params, torch.autograd.grad(loss, list(params.values()))))
    out = {"x": x32, "y": y, "logits64": logits64.detach().numpy(),
           "loss": np.array([float(loss.detach())], dtype=np.float64)}
    for k in params:
        out[f"grad:{onnx_name[k]}"] = grads[k].numpy()
    detached = {k: p.detach() for k, p in params.items()}
    print(f"digits (Examples/digits_resnet.onnx, first {n} of digits.npz): loss {float(loss):.6f}, "
          f"max|ort - f64 torch| {d_ort:.1e}")
    for node in proto.graph.node:
        if node.op_type not in ("Conv", "Gemm"):
            continue
        w = node.input[1]
        tname = next(k for k, v in onnx_name.items() if v == w)
        gn = gauss_newton_trace(model, detached, tname, x, yt)
        out[f"gn_trace:{w}"] = np.array([gn], dtype=np.float64)
        line = f"  {node.name:28s} {w:16s} gn_trace {gn:.6e}"
        if detached[tname].numel() <= 600:  # small enough for torch.func.hessian here
            t, _ = hessian_trace(model, detached, tname, x, yt)
            assert abs(t - gn) <= TRACE_RTOL * abs(t), f"digits {w}: hessian {t} vs Gauss-Newton {gn}"
            out[f"trace:{w}"] = np.array([t], dtype=np.float64)
            line += f"  trace {t:.6e}"
        print(line)
    np.savez(os.path.join(HERE, "digits_ref.npz"), **out)


def make_external_data(mlp_path):
    """The MLP again, with every tensor moved to a side file by the onnx package: Hutch reads it like mlp.onnx."""
    proto = onnx.load(mlp_path)
    path = os.path.join(HERE, "external_data.onnx")
    data = "external_data.onnx.data"
    if os.path.exists(os.path.join(HERE, data)):
        os.remove(os.path.join(HERE, data))  # onnx appends to an existing data file
    onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data, size_threshold=0)
    reloaded = onnx.load(path, load_external_data=False)
    assert all(t.data_location == onnx.TensorProto.EXTERNAL for t in reloaded.graph.initializer)
    print(f"external_data: {len(reloaded.graph.initializer)} initializers in {data}")


def make_hf_gpt2():
    """Hugging Face's own GPT2LMHeadModel (a tiny config, random weights) from both exporters:
    TorchScript writes its causal mask with Trilu and a -inf fill, dynamo with Where. Reference:
    onnxruntime's logits [N, T, V] and PyTorch's float32 next-token loss (-100 on the last token)."""
    import transformers
    torch.manual_seed(922)
    config = transformers.GPT2Config(vocab_size=20, n_positions=6, n_embd=8, n_layer=1, n_head=2)
    model = transformers.GPT2LMHeadModel(config).eval()

    class Logits(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, ids):
            return self.m(input_ids=ids).logits

    wrapped = Logits(model).eval()
    gen = torch.Generator().manual_seed(922)
    x = torch.randint(0, 20, (4, 6), generator=gen)
    y = np.concatenate([x[:, 1:].numpy(), np.full((4, 1), -100)], axis=1).astype(np.int64)
    with torch.no_grad():
        logits = wrapped(x)
    loss = F.cross_entropy(logits.reshape(-1, 20), torch.from_numpy(y).reshape(-1), ignore_index=-100)
    for name, exporter, opset in (("hf_gpt2_tiny", "torchscript", 17), ("hf_gpt2_tiny_dynamo", "dynamo", 18)):
        path = os.path.join(HERE, f"{name}.onnx")
        proto = export(wrapped, x[:2], path, exporter, opset)
        out = ort_logits(path, x.numpy())
        d = float(np.abs(out - logits.numpy()).max())
        assert d < ORT_TOL, f"{name}: onnxruntime vs torch logits differ by {d}"
        np.savez(os.path.join(HERE, f"{name}_ref.npz"), x=x.numpy(), y=y, logits=out,
                 loss=np.array([float(loss)], dtype=np.float64))
        print(f"{name}: {exporter} opset {opset}, ops {sorted({n.op_type for n in proto.graph.node})}, "
              f"max|ort - torch| = {d:.2e}, loss {float(loss):.6f}")


def make_transposed_weights():
    """Weights the file computes from initializers, as the dynamo exporter writes a large GPT-2's
    tied LM head (it folds small ones, so this graph is written by hand): token ids -> Gather of
    the table `embed.weight` [12, 8] -> ReduceMean over the 6 tokens -> Gemm whose weight is
    Identity(Transpose(`fc1.weight` [10, 8])) (untied, read by nothing else) -> Relu -> MatMul by
    the initializer `fc2.weight` [10, 8] -> Relu -> MatMul by Transpose(`embed.weight`) (the head,
    tied by value to the table) -> logits [N, 12]. Reference: PyTorch's float32 logits on the same
    weights, checked against onnxruntime's."""
    from onnx import helper
    rng = np.random.default_rng(931)
    vocabulary, width, hidden, batch, tokens = 12, 8, 10, 8, 6
    weights = {"embed.weight": rng.standard_normal((vocabulary, width)),
               "fc1.weight": 0.5 * rng.standard_normal((hidden, width)), "fc1.bias": 0.1 * rng.standard_normal(hidden),
               "fc2.weight": 0.5 * rng.standard_normal((hidden, width))}
    weights = {k: v.astype(np.float32) for k, v in weights.items()}
    nodes = [
        helper.make_node("Gather", ["embed.weight", "input"], ["embedded"], name="/embed/Gather"),
        helper.make_node("ReduceMean", ["embedded", "token_axis"], ["pooled"], name="/ReduceMean", keepdims=0),
        helper.make_node("Transpose", ["fc1.weight"], ["fc1.weight_t"], name="/fc1/Transpose", perm=[1, 0]),
        helper.make_node("Identity", ["fc1.weight_t"], ["fc1.weight_kn"], name="/fc1/Identity"),
        helper.make_node("Gemm", ["pooled", "fc1.weight_kn", "fc1.bias"], ["h1"], name="/fc1/Gemm"),
        helper.make_node("Relu", ["h1"], ["a1"], name="/Relu"),
        helper.make_node("MatMul", ["a1", "fc2.weight"], ["h2"], name="/fc2/MatMul"),
        helper.make_node("Relu", ["h2"], ["a2"], name="/Relu_1"),
        helper.make_node("Transpose", ["embed.weight"], ["head.weight"], name="/head/Transpose", perm=[1, 0]),
        helper.make_node("MatMul", ["a2", "head.weight"], ["logits"], name="/head/MatMul"),
    ]
    initializers = [numpy_helper.from_array(v, k) for k, v in weights.items()]
    initializers.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "token_axis"))
    graph = helper.make_graph(nodes, "transposed_weights",
                              [helper.make_tensor_value_info("input", onnx.TensorProto.INT64, ["batch", tokens])],
                              [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, ["batch", vocabulary])],
                              initializers)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8,
                              producer_name="make_fixtures.py")
    onnx.checker.check_model(proto, full_check=True)
    path = os.path.join(HERE, "transposed_weights.onnx")
    onnx.save(proto, path)
    gen = torch.Generator().manual_seed(931)
    x = torch.randint(0, vocabulary, (batch, tokens), generator=gen)
    y = torch.randint(0, vocabulary, (batch,), generator=gen).numpy().astype(np.int64)
    w = {k: torch.from_numpy(v) for k, v in weights.items()}
    with torch.no_grad():
        pooled = F.embedding(x, w["embed.weight"]).mean(dim=1)
        a2 = F.relu(F.relu(F.linear(pooled, w["fc1.weight"], w["fc1.bias"])) @ w["fc2.weight"])
        logits = a2 @ w["embed.weight"].t()
    out = ort_logits(path, x.numpy())
    d = float(np.abs(out - logits.numpy()).max())
    assert d < ORT_TOL, f"transposed_weights: onnxruntime vs torch logits differ by {d}"
    np.savez(os.path.join(HERE, "transposed_weights_ref.npz"), x=x.numpy(), y=y, logits=logits.numpy())
    print(f"transposed_weights: ops {[n.op_type for n in nodes]}, max|ort - torch| = {d:.2e}")


def make_unsupported():
    torch.manual_seed(606)
    model = Unsupported().eval()
    path = os.path.join(HERE, "unsupported_ops.onnx")
    x = torch.randn(2, 4)
    proto = export(model, x, path, "torchscript", 17)
    ops = {n.op_type: n.name for n in proto.graph.node}
    assert {"CumSum", "TopK"} <= set(ops) and "Softmax" not in ops, ops
    d = float(np.abs(ort_logits(path, x.numpy()) - model(x).detach().numpy()).max())
    assert d < ORT_TOL
    print(f"unsupported_ops: nodes {[(n.op_type, n.name) for n in proto.graph.node]}")


def main():
    """Makes every fixture; `make_fixtures.py NAME...` remakes only those model fixtures (and
    unsupported_ops.onnx for the name unsupported_ops)."""
    warnings.filterwarnings("ignore", category=FutureWarning)  # torch.jit.script deprecation noise
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    only = set(sys.argv[1:])
    unknown = only - {spec["name"] for spec in SPECS} - {"unsupported_ops", "hf_gpt2_tiny", "transposed_weights"}
    assert not unknown, f"no model fixture named {sorted(unknown)}"
    for spec in SPECS:
        if not only or spec["name"] in only:
            make_model_fixture(spec)
    if "unsupported_ops" in only:
        make_unsupported()
    if "hf_gpt2_tiny" in only:
        make_hf_gpt2()
    if "transposed_weights" in only:
        make_transposed_weights()
    if only:
        return 0
    make_digits_reference()
    make_external_data(os.path.join(HERE, "mlp.onnx"))
    make_unsupported()
    make_hf_gpt2()
    make_transposed_weights()
    total = sum(os.path.getsize(os.path.join(HERE, f)) for f in os.listdir(HERE)
                if f.endswith((".onnx", ".npz", ".data")))
    print(f"total size of models and data: {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
