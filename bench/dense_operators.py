#!/usr/bin/python3
"""Realistic dense operators for the dense-engine benchmark (issue 16 item 4).

Writes operator files (docs/definitions.md section 6: safetensors, tensor `operator`
[1, L, L], F64) into DIR, each generated on first use from a fixed seed:

  random   tril(randn(L, L)), full rank (the Gram fast path's case)
  llama    one causal softmax attention head of a synthetic Llama at initialization:
           x = RMSNorm(embedding) (unit entries), q = RoPE(W_q x), k = RoPE(W_k x), W ~ N(0, 0.02^2)
           of shape 128 x 2048 (Llama's head_dim and a 1B model's hidden size), RoPE theta 500000
  smooth   the same head with scores scaled by 0.1 (near-uniform attention; at the middle
           splits a few hundred singular values lie below 1e-3 sigma_1, the smallest 4.1e-7
           sigma_1 at split 512)
  gla8     a GLA-like semiseparable head of rank 8: T[r, c] = q_r^T diag(prod_{c<t<=r} a_t) k_c,
           d_k = 8, per-state decays a_t in (0.9, 1)

Run: /usr/bin/python3 bench/dense_operators.py DIR [L]   (numpy only)
"""
import json
import os
import struct
import sys

import numpy as np


def write_operator(path, op, note):
    data = np.ascontiguousarray(op[None], dtype="<f8").tobytes()
    header = {"operator": {"dtype": "F64", "shape": [1, op.shape[0], op.shape[1]], "data_offsets": [0, len(data)]},
              "__metadata__": {"note": note}}
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
    os.replace(path + ".tmp", path)


def rope(x, theta=500000.0):
    n, d = x.shape
    half = d // 2
    inv = theta ** (-np.arange(half) / half)
    ang = np.arange(n)[:, None] * inv[None, :]
    c, s = np.cos(ang), np.sin(ang)
    x1, x2 = x[:, :half], x[:, half:]
    return np.concatenate([x1 * c - x2 * s, x1 * s + x2 * c], 1)


def attention(L, scale, rng, hidden=2048, head_dim=128):
    x = rng.standard_normal((L, hidden))
    x /= np.sqrt((x * x).mean(1, keepdims=True))  # RMSNorm of the embeddings
    wq = rng.standard_normal((hidden, head_dim)) * 0.02
    wk = rng.standard_normal((hidden, head_dim)) * 0.02
    q, k = rope(x @ wq), rope(x @ wk)
    s = scale * (q @ k.T) / np.sqrt(head_dim)
    s[np.triu_indices(L, 1)] = -np.inf
    a = np.exp(s - s.max(1, keepdims=True))
    return a / a.sum(1, keepdims=True)


def gla(L, rank, rng):
    q = rng.standard_normal((L, rank))
    k = rng.standard_normal((L, rank))
    log_a = np.log(rng.uniform(0.9, 1.0, (L, rank)))
    cum = np.cumsum(log_a, 0)  # T[r, c] = sum_n q[r,n] k[c,n] exp(cum[r,n] - cum[c,n])
    t = np.zeros((L, L))
    for r in range(L):
        t[r, : r + 1] = (q[r] * np.exp(cum[r] - cum[: r + 1]) * k[: r + 1]).sum(1)
    return t


CLASSES = {
    "random": lambda L, rng: np.tril(rng.standard_normal((L, L))),
    "llama": lambda L, rng: attention(L, 1.0, rng),
    "smooth": lambda L, rng: attention(L, 0.1, rng),
    "gla8": lambda L, rng: gla(L, 8, rng),
}


def ensure(directory, L):
    os.makedirs(directory, exist_ok=True)
    paths = {}
    for name, make in CLASSES.items():
        path = os.path.join(directory, f"{name}_L{L}.safetensors")
        if not os.path.exists(path):
            write_operator(path, make(L, np.random.default_rng(0)), f"bench/dense_operators.py {name} L={L} seed=0")
        paths[name] = path
    return paths


if __name__ == "__main__":
    print("\n".join(ensure(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1024).values()))
