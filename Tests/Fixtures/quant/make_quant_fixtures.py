#!/usr/bin/env python3
"""Reference values for HutchQuantize, computed independently with numpy.

Writes, next to this script:
  quant_fixtures.json   weights (float32 bit patterns), and per case and width the codes, scales
                        (bit patterns), zero points and squared error ||Q_b(W) - W||^2
  quant_fixture.hutchq  a packed weight file written from Protocols/packed-weights.md alone
  <case>.npy            the weights, for NumPy-reader cross-checks

Conventions (the ones HutchQuantize documents): float32 arithmetic as ONNX QuantizeLinear,
np.round (round half to even), symmetric scale max|w| / (2^(b-1) - 1), 1-bit = sign codes
{-1, +1} with scale mean|w|, asymmetric range widened to include 0 with an integer zero point,
all-zero channel scale 1 (binary: smallest normal float32).

Run: python3 Tests/Fixtures/quant/make_quant_fixtures.py   (numpy only; deterministic)
"""
import json
import os
import struct
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = np.finfo(np.float32).tiny


def make_cases():
    rng = np.random.default_rng(20261121)
    conv = (rng.standard_normal((6, 3, 3, 3)) * 0.05).astype(np.float32)
    conv[2] = 0.0                                   # all-zero output channel
    conv[4] = -np.abs(conv[4])                      # negative-only channel
    gemm = (rng.standard_normal((10, 16)) * 0.1).astype(np.float32)
    gemm[3, 5] = 1.5                                # an outlier
    matmul = rng.laplace(0, 0.03, (16, 7)).astype(np.float32)  # channels on axis 1
    ties = np.array([[127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 126.5, -126.5]], np.float32)
    return [
        ("conv", conv, 0),
        ("gemm", gemm, 0),
        ("matmul", matmul, 1),
        ("gemm_per_tensor", gemm, None),
        ("ties", ties, 0),
    ]


def channel_slices(w, axis):
    """(index tuple, channel) pairs; axis None = the whole tensor."""
    if axis is None:
        return [(slice(None),)]
    return [tuple([slice(None)] * axis + [c]) for c in range(w.shape[axis])]


def quantize_symmetric(w, bits, axis):
    codes = np.zeros(w.shape, np.int32)
    scales, zeros = [], []
    for idx in channel_slices(w, axis):
        x = w[idx]
        if bits == 1:
            mean_abs = np.float32(np.abs(x.astype(np.float64)).mean())
            s = max(mean_abs, TINY)
            q = np.where(x >= 0, 1, -1).astype(np.int32)
        else:
            qmax = 2 ** (bits - 1) - 1
            m = np.abs(x).max()
            s = np.float32(1) if m == 0 else max(np.float32(m / np.float32(qmax)), TINY)
            q = np.clip(np.round(x / s), -qmax - 1, qmax).astype(np.int32)
        codes[idx] = q
        scales.append(np.float32(s))
        zeros.append(0)
    return codes, scales, zeros


def quantize_asymmetric(w, bits, axis):
    codes = np.zeros(w.shape, np.int32)
    scales, zeros = [], []
    qmax = 2 ** bits - 1
    for idx in channel_slices(w, axis):
        x = w[idx]
        lo = min(x.min(), np.float32(0))
        hi = max(x.max(), np.float32(0))
        if hi == lo:
            s = np.float32(1)
        else:
            s = max(np.float32((hi - lo) / np.float32(qmax)), TINY)
        zp = int(np.clip(np.round(-lo / s), 0, qmax))
        q = np.clip(np.round(x / s) + np.float32(zp), 0, qmax).astype(np.int32)
        codes[idx] = q
        scales.append(np.float32(s))
        zeros.append(zp)
    return codes, scales, zeros


def dequantize(codes, scales, zeros, shape, axis):
    out = np.zeros(shape, np.float32)
    for c, idx in enumerate(channel_slices(out, axis)):
        out[idx] = (codes[idx] - zeros[c]).astype(np.float32) * scales[c]
    return out


def bits_of(values):
    return [int(v) for v in np.asarray(values, np.float32).view(np.uint32).ravel()]


def pack(u, bits):
    """Little-endian bitstream of unsigned values, LSB first (Protocols/packed-weights.md)."""
    u = np.asarray(u, np.uint32).ravel()
    stream = ((u[:, None] >> np.arange(bits, dtype=np.uint32)) & 1).astype(np.uint8).ravel()
    return np.packbits(stream, bitorder="little").tobytes()


def packed_layer(name, codes, scales, zeros, shape, axis, bits, scheme):
    if scheme == "symmetric":
        u = (codes + 1) // 2 if bits == 1 else codes + 2 ** (bits - 1)
    else:
        u = codes
    packed = pack(u, bits)
    name_bytes = name.encode("utf-8")
    out = struct.pack("<I", len(name_bytes)) + name_bytes
    out += struct.pack("<BBiI", bits, 0 if scheme == "symmetric" else 1, -1 if axis is None else axis, len(shape))
    out += b"".join(struct.pack("<Q", d) for d in shape)
    out += b"".join(struct.pack("<f", s) for s in scales)
    out += b"".join(struct.pack("<i", z) for z in zeros)
    out += struct.pack("<Q", len(packed)) + packed
    return out


def main():
    cases = []
    layers = []
    for name, w, axis in make_cases():
        np.save(os.path.join(HERE, name + ".npy"), w)
        results = []
        for scheme, fn in (("symmetric", quantize_symmetric), ("asymmetric", quantize_asymmetric)):
            for bits in range(1, 9):
                codes, scales, zeros = fn(w, bits, axis)
                deq = dequantize(codes, scales, zeros, w.shape, axis)
                err = float(np.sum((deq.astype(np.float64) - w.astype(np.float64)) ** 2))
                results.append({
                    "scheme": scheme, "bits": bits, "codes": [int(c) for c in codes.ravel()],
                    "scale_bits": bits_of(scales), "zero_points": zeros, "squared_error": err,
                })
                if (scheme, bits) in (("symmetric", 4), ("asymmetric", 3), ("symmetric", 1)):
                    layers.append(packed_layer(f"{name}/{scheme}{bits}", codes, scales, zeros,
                                               w.shape, axis, bits, scheme))
        cases.append({"name": name, "shape": list(w.shape), "axis": axis,
                      "weight_bits": bits_of(w), "results": results})

    body = b"HUTCHQW\x00" + struct.pack("<II", 1, len(layers))
    payload = b"".join(layers)
    total = len(body) + 8 + len(payload) + 4
    body += struct.pack("<Q", total) + payload
    with open(os.path.join(HERE, "quant_fixture.hutchq"), "wb") as f:
        f.write(body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))
    with open(os.path.join(HERE, "quant_fixtures.json"), "w") as f:
        json.dump({"numpy": np.__version__, "packed_layers": len(layers), "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
