#!/usr/bin/python3
"""ESS during training: a small gated-linear-attention (GLA) model in plain PyTorch learns
multi-query associative recall (MQAR); every N steps the GLA layer's generators for a fixed
input go to ess_explorer.structured_curve, and the script plots the mean tolerance-ESS and
the utilization (ESS / TSS, TSS = d_k per head) over training, as in Parnichkun et al.
(ICML 2025, section on ESS during training). Tolerance-ESS starts near its generic value
min(s, L - s, d_k); entropy-ESS shows how the spectrum's mass moves as the model learns.

Run from the repository root after building:
    PYTHONPATH=build/python /usr/bin/python3 examples/ess_during_training.py --steps 300
Writes ess_during_training.png (--out) and prints one line per evaluation.
"""
import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

import ess_explorer


def mqar_batch(gen, batch, length, pairs, vocab):
    """MQAR samples: P key-value pairs first (keys from the lower half of the vocabulary,
    values from the upper half), then each key once more at a random later position, where the
    target is its value; other positions hold random tokens and are not scored (-100)."""
    half = vocab // 2
    x = torch.randint(0, vocab, (batch, length), generator=gen)
    y = torch.full((batch, length), -100)
    for b in range(batch):
        keys = torch.randperm(half, generator=gen)[:pairs]
        values = half + torch.randint(0, half, (pairs,), generator=gen)
        x[b, 0:2 * pairs:2], x[b, 1:2 * pairs:2] = keys, values
        where = 2 * pairs + torch.randperm(length - 2 * pairs, generator=gen)[:pairs]
        x[b, where] = keys
        y[b, where] = values
    return x, y


class GLA(torch.nn.Module):
    """Gated linear attention: o_r = sum_{c<=r} q_r^T diag(prod_{t=c+1..r} a_t) k_c v_c with
    per-key-channel decays a_t = sigmoid(.)^(1/16); the semiseparable generators are C = q,
    B = k, log a (docs/definitions.md section 6)."""

    def __init__(self, d_model, heads, d_k):
        super().__init__()
        self.h, self.dk, self.dv = heads, d_k, d_model // heads
        self.q = torch.nn.Linear(d_model, heads * d_k, bias=False)
        self.k = torch.nn.Linear(d_model, heads * d_k, bias=False)
        self.v = torch.nn.Linear(d_model, d_model, bias=False)
        self.g = torch.nn.Linear(d_model, heads * d_k)
        self.o = torch.nn.Linear(d_model, d_model, bias=False)

    def generators(self, x):
        B, L, _ = x.shape
        split = lambda t: t.view(B, L, self.h, -1).transpose(1, 2)  # noqa: E731  [B, H, L, .]
        q, k = split(self.q(x)) / math.sqrt(self.dk), split(self.k(x))
        log_a = F.logsigmoid(split(self.g(x))) / 16.0
        return q, k, log_a

    def forward(self, x):
        q, k, log_a = self.generators(x)
        cum = torch.cumsum(log_a, dim=2)
        decay = torch.exp((cum[:, :, :, None, :] - cum[:, :, None, :, :]).clamp(max=0.0))
        T = torch.einsum("bhrn,bhcn,bhrcn->bhrc", q, k, decay).tril()  # the operator [B, H, L, L]
        B, L, _ = x.shape
        v = self.v(x).view(B, L, self.h, self.dv).transpose(1, 2)
        return self.o((T @ v).transpose(1, 2).reshape(B, L, -1))


class Model(torch.nn.Module):
    def __init__(self, vocab, length, d_model=64, heads=2, d_k=16):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, d_model)
        self.pos = torch.nn.Parameter(0.02 * torch.randn(length, d_model))
        self.norm1, self.norm2 = torch.nn.LayerNorm(d_model), torch.nn.LayerNorm(d_model)
        self.mixer = GLA(d_model, heads, d_k)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(d_model, 4 * d_model), torch.nn.GELU(),
                                       torch.nn.Linear(4 * d_model, d_model))
        self.head = torch.nn.Linear(d_model, vocab)

    def mixer_input(self, x):
        return self.norm1(self.emb(x) + self.pos[: x.shape[1]])

    def forward(self, x):
        h = self.emb(x) + self.pos[: x.shape[1]]
        h = h + self.mixer(self.norm1(h))
        h = h + self.mlp(self.norm2(h))
        return self.head(h)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--every", type=int, default=25, help="ESS every N steps")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--length", type=int, default=64)
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="ess_during_training.png")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)
    model = Model(a.vocab, a.length)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
    probe, _ = mqar_batch(torch.Generator().manual_seed(12345), 1, a.length, a.pairs, a.vocab)
    steps, mean_ess, mean_entropy, utilization, accuracy = [], [], [], [], []
    for step in range(a.steps + 1):
        x, y = mqar_batch(gen, a.batch, a.length, a.pairs, a.vocab)
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, a.vocab), y.view(-1), ignore_index=-100)
        if step % a.every == 0 or step == a.steps:
            with torch.no_grad():
                q, k, log_a = model.mixer.generators(model.mixer_input(probe))
                # [1, H, L, d_k] -> generators [H, L, N]: float64 CPU tensors, read without a copy.
                c = ess_explorer.structured_curve(q[0].double().contiguous(), k[0].double().contiguous(),
                                                  log_a[0].double().contiguous(), threads=a.threads)
                scored = y != -100
                acc = (logits.argmax(-1)[scored] == y[scored]).float().mean().item()
            steps.append(step)
            mean_ess.append(float(c.tolerance_ess.mean()))
            mean_entropy.append(float(c.entropy_ess.mean()))
            utilization.append(float((c.tolerance_ess / c.tss).mean()))
            accuracy.append(acc)
            print(f"step {step:5d}  loss {loss.item():.4f}  accuracy {acc:.3f}  mean tolerance-ESS "
                  f"{mean_ess[-1]:.2f}  entropy-ESS {mean_entropy[-1]:.2f}  utilization {utilization[-1]:.3f}",
                  flush=True)
        if step == a.steps:
            break
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    ax[0].plot(steps, mean_ess, marker="o", label="mean tolerance-ESS")
    ax[0].plot(steps, mean_entropy, marker="^", label="mean entropy-ESS")
    ax[0].axhline(model.mixer.dk, color="grey", ls="--", label="TSS = d_k")
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("ESS (per head, mean over splits)")
    ax[0].legend()
    ax[1].plot(steps, utilization, marker="o", label="utilization ESS / TSS")
    ax[1].plot(steps, accuracy, marker="s", label="MQAR accuracy")
    ax[1].set_xlabel("step")
    ax[1].set_ylim(0, 1.05)
    ax[1].legend()
    fig.suptitle("GLA on MQAR: effective state-size during training")
    fig.savefig(a.out, dpi=120)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
