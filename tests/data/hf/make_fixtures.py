# Writes the PyTorch-made Hugging Face fixtures of tests/core/test_hf_models.cpp with torch.save
# (transformers is not needed: the state dicts are built by hand with HF's tensor names).
#   gpt2_torch/    GPT2LMHeadModel layout ("transformer." prefix, tied lm_head), float32
#   qwen2_torch/   Qwen2ForCausalLM layout ("model." prefix), GQA 4 query / 2 KV heads,
#                  q/k/v biases, bfloat16 weights
#   mamba_torch/   MambaForCausalLM layout ("backbone." prefix, tied lm_head), d_model 16,
#                  E = 32 inner channels, N = 4, conv_kernel 4, time_step_rank 2, float16 weights
# and expected.pt beside each: the mixer input of every layer and every layer's operator
# (attention probabilities [H, L, L]; for mamba the S6 operator per inner channel [E, L, L] as
# ess/mixer.h defines it, and the residual stream hidden_state.{i} entering every block) for
# fixed tokens, computed by PyTorch in float64 with HF's formulations.
# Run from the repository root:
#   /usr/bin/python3 tests/data/hf/make_fixtures.py            all fixtures
#   /usr/bin/python3 tests/data/hf/make_fixtures.py mamba      only the named ones (gpt2, qwen2, mamba)
import argparse
import json
import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def save(folder, config, state):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    with open(os.path.join(HERE, folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    torch.save(state, os.path.join(HERE, folder, "pytorch_model.bin"))


def gpt2():
    g = torch.Generator().manual_seed(1)
    V, D, H, Lyr, P = 32, 16, 2, 2, 16
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"transformer.wte.weight": r(V, D), "transformer.wpe.weight": r(P, D)}
    for i in range(Lyr):
        b = f"transformer.h.{i}."
        sd[b + "ln_1.weight"] = 1 + r(D)
        sd[b + "ln_1.bias"] = r(D)
        sd[b + "attn.bias"] = torch.tril(torch.ones(P, P, dtype=torch.bool)).view(1, 1, P, P)  # HF's mask buffer
        sd[b + "attn.c_attn.weight"] = r(D, 3 * D)  # Conv1D: [in, out]
        sd[b + "attn.c_attn.bias"] = r(3 * D)
        sd[b + "attn.c_proj.weight"] = r(D, D)
        sd[b + "attn.c_proj.bias"] = r(D)
        sd[b + "ln_2.weight"] = 1 + r(D)
        sd[b + "ln_2.bias"] = r(D)
        sd[b + "mlp.c_fc.weight"] = r(D, 4 * D)
        sd[b + "mlp.c_fc.bias"] = r(4 * D)
        sd[b + "mlp.c_proj.weight"] = r(4 * D, D)
        sd[b + "mlp.c_proj.bias"] = r(D)
    sd["transformer.ln_f.weight"] = 1 + r(D)
    sd["transformer.ln_f.bias"] = r(D)
    sd["lm_head.weight"] = sd["transformer.wte.weight"]  # tied: one shared storage
    cfg = {"model_type": "gpt2", "vocab_size": V, "n_embd": D, "n_head": H, "n_layer": Lyr,
           "n_positions": P, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
    save("gpt2_torch", cfg, sd)


def llama_layers(sd, r, D, H, KV, hd, I, layers, biases):
    """Adds the decoder layers of LlamaForCausalLM / Qwen2ForCausalLM ("model." prefix) to `sd`,
    drawing every tensor from `r` in a fixed order; q/k/v biases when `biases` (Qwen2)."""
    for i in range(layers):
        b = f"model.layers.{i}."
        sd[b + "input_layernorm.weight"] = 1 + r(D)
        for name, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
            sd[b + f"self_attn.{name}_proj.weight"] = r(rows, D)
            if biases:
                sd[b + f"self_attn.{name}_proj.bias"] = r(rows)
        sd[b + "self_attn.o_proj.weight"] = r(D, H * hd)
        sd[b + "post_attention_layernorm.weight"] = 1 + r(D)
        sd[b + "mlp.gate_proj.weight"] = r(I, D)
        sd[b + "mlp.up_proj.weight"] = r(I, D)
        sd[b + "mlp.down_proj.weight"] = r(D, I)
    sd["model.norm.weight"] = 1 + r(D)


def llama_state(seed, V, D, H, KV, hd, I, layers, biases):
    """The embeddings and decoder layers of a random Llama-family model ("model." prefix),
    N(0, 0.3^2) weights from `seed`, and the generator's draw function for any further tensors."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embed_tokens.weight": r(V, D)}
    llama_layers(sd, r, D, H, KV, hd, I, layers, biases)
    return sd, r


def qwen2():
    V, D, H, KV, hd, I, Lyr = 32, 16, 4, 2, 4, 24, 2
    sd, r = llama_state(2, V, D, H, KV, hd, I, Lyr, biases=True)
    sd["lm_head.weight"] = r(V, D)
    sd = {k: v.to(torch.bfloat16) for k, v in sd.items()}
    cfg = {"model_type": "qwen2", "vocab_size": V, "hidden_size": D, "num_attention_heads": H,
           "num_key_value_heads": KV, "num_hidden_layers": Lyr, "intermediate_size": I,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
           "tie_word_embeddings": False, "use_sliding_window": False, "hidden_act": "silu"}
    save("qwen2_torch", cfg, sd)


# Expected values computed by PyTorch in float64 with HF's own formulations (GPT2Attention with
# Conv1D, LlamaRotaryEmbedding's rotate_half, repeat_kv): the mixer input of every layer and
# every layer's attention probabilities, saved as expected.pt beside each fixture.
TOKENS = [1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2]


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def causal_softmax(scores):
    L = scores.shape[-1]
    mask = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)


def expected_gpt2():
    sd = {k: v.double() for k, v in torch.load(os.path.join(HERE, "gpt2_torch", "pytorch_model.bin")).items()}
    cfg = json.load(open(os.path.join(HERE, "gpt2_torch", "config.json")))
    D, H = cfg["n_embd"], cfg["n_head"]
    t = torch.tensor(TOKENS)
    h = sd["transformer.wte.weight"][t] + sd["transformer.wpe.weight"][: len(TOKENS)]
    out = {}
    for i in range(cfg["n_layer"]):
        b = f"transformer.h.{i}."
        x = torch.nn.functional.layer_norm(h, (D,), sd[b + "ln_1.weight"], sd[b + "ln_1.bias"], 1e-5)
        out[f"mixer_input.{i}"] = x
        q, k, v = (x @ sd[b + "attn.c_attn.weight"] + sd[b + "attn.c_attn.bias"]).split(D, dim=-1)
        split = lambda y: y.view(len(TOKENS), H, D // H).transpose(0, 1)
        q, k, v = split(q), split(k), split(v)
        p = causal_softmax(q @ k.transpose(-1, -2) / (D // H) ** 0.5)
        out[f"operator.{i}"] = p
        a = (p @ v).transpose(0, 1).reshape(len(TOKENS), D)
        h = h + a @ sd[b + "attn.c_proj.weight"] + sd[b + "attn.c_proj.bias"]
        m = torch.nn.functional.layer_norm(h, (D,), sd[b + "ln_2.weight"], sd[b + "ln_2.bias"], 1e-5)
        m = torch.nn.functional.gelu(m @ sd[b + "mlp.c_fc.weight"] + sd[b + "mlp.c_fc.bias"], approximate="tanh")
        h = h + m @ sd[b + "mlp.c_proj.weight"] + sd[b + "mlp.c_proj.bias"]
    torch.save(out, os.path.join(HERE, "gpt2_torch", "expected.pt"))


def expected_qwen2():
    sd = {k: v.double() for k, v in torch.load(os.path.join(HERE, "qwen2_torch", "pytorch_model.bin")).items()}
    cfg = json.load(open(os.path.join(HERE, "qwen2_torch", "config.json")))
    H, KV = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg["hidden_size"] // H
    L = len(TOKENS)
    rms = lambda x, w: w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg["rms_norm_eps"]))
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(L, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    lin = lambda x, n, bias: x @ sd[n + ".weight"].T + (sd[n + ".bias"] if bias else 0)
    h = sd["model.embed_tokens.weight"][torch.tensor(TOKENS)]
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        b = f"model.layers.{i}."
        x = rms(h, sd[b + "input_layernorm.weight"])
        out[f"mixer_input.{i}"] = x
        q = lin(x, b + "self_attn.q_proj", True).view(L, H, hd).transpose(0, 1)
        k = lin(x, b + "self_attn.k_proj", True).view(L, KV, hd).transpose(0, 1)
        v = lin(x, b + "self_attn.v_proj", True).view(L, KV, hd).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        n_rep = H // KV  # repeat_kv
        k = k[:, None].expand(KV, n_rep, L, hd).reshape(H, L, hd)
        v = v[:, None].expand(KV, n_rep, L, hd).reshape(H, L, hd)
        p = causal_softmax(q @ k.transpose(-1, -2) / hd ** 0.5)
        out[f"operator.{i}"] = p
        h = h + lin((p @ v).transpose(0, 1).reshape(L, H * hd), b + "self_attn.o_proj", False)
        m = rms(h, sd[b + "post_attention_layernorm.weight"])
        m = torch.nn.functional.silu(lin(m, b + "mlp.gate_proj", False)) * lin(m, b + "mlp.up_proj", False)
        h = h + lin(m, b + "mlp.down_proj", False)
    torch.save(out, os.path.join(HERE, "qwen2_torch", "expected.pt"))


def mamba():
    g = torch.Generator().manual_seed(3)
    V, D, E, N, K, R, Lyr = 32, 16, 32, 4, 4, 2, 2
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"backbone.embeddings.weight": torch.randn(V, D, generator=g)}
    for i in range(Lyr):
        b = f"backbone.layers.{i}."
        sd[b + "norm.weight"] = 1 + r(D)
        sd[b + "mixer.in_proj.weight"] = r(2 * E, D)
        sd[b + "mixer.conv1d.weight"] = r(E, 1, K) * 2
        sd[b + "mixer.conv1d.bias"] = r(E) / 3
        sd[b + "mixer.x_proj.weight"] = r(R + 2 * N, E)
        sd[b + "mixer.dt_proj.weight"] = r(E, R) / 2
        # softplus(dt_proj.bias) log-uniform in [0.03, 0.2] (Mamba's dt init, range moved from
        # [1e-3, 1e-1] so that the input-dependent dt stays in (0.01, 0.5)), then the
        # inverse softplus as in MambaMixer's _init_weights.
        dt = torch.exp(torch.rand(E, generator=g) * (math.log(0.2) - math.log(0.03)) + math.log(0.03))
        sd[b + "mixer.dt_proj.bias"] = dt + torch.log(-torch.expm1(-dt))
        sd[b + "mixer.A_log"] = torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(E, 1) + r(E, N) / 3
        sd[b + "mixer.D"] = 1 + r(E)
        sd[b + "mixer.out_proj.weight"] = r(D, E)
    sd["backbone.norm_f.weight"] = 1 + r(D)
    sd = {k: v.to(torch.float16) for k, v in sd.items()}
    sd["lm_head.weight"] = sd["backbone.embeddings.weight"]  # tied: one shared storage
    cfg = {"model_type": "mamba", "vocab_size": V, "hidden_size": D, "state_size": N, "expand": E // D,
           "conv_kernel": K, "time_step_rank": R, "num_hidden_layers": Lyr, "layer_norm_epsilon": 1e-5,
           "use_bias": False, "use_conv_bias": True, "hidden_act": "silu", "tie_word_embeddings": True}
    save("mamba_torch", cfg, sd)


def expected_mamba():
    """HF MambaMixer.slow_forward and MambaBlock / MambaRMSNorm in float64, and the S6 operator
    of ess/mixer.h (kind "mamba"): per inner channel e, with u = silu(conv1d(x_in)) the value
    input and the gate silu(z) scaling rows,
      T[e, r, c] = silu(z_r[e]) * sum_n C_r[n] exp(sum_{t=c+1..r} dt_t[e] A[e, n]) dt_c[e] B_c[n]  (c <= r)
                   + [r == c] silu(z_r[e]) D[e],
    so that the gated scan output y[e] = T[e] u[e]; asserted below."""
    sd = {k: v.double() for k, v in torch.load(os.path.join(HERE, "mamba_torch", "pytorch_model.bin")).items()}
    cfg = json.load(open(os.path.join(HERE, "mamba_torch", "config.json")))
    E, N, R, K = cfg["expand"] * cfg["hidden_size"], cfg["state_size"], cfg["time_step_rank"], cfg["conv_kernel"]
    L = len(TOKENS)
    F = torch.nn.functional
    rms = lambda x, w: w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg["layer_norm_epsilon"]))
    h = sd["backbone.embeddings.weight"][torch.tensor(TOKENS)]
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"backbone.layers.{i}."
        m = b + "mixer."
        x = rms(h, sd[b + "norm.weight"])
        out[f"mixer_input.{i}"] = x
        # slow_forward, batch 1: in_proj -> [x_in, gate]; causal depthwise conv (padding K - 1, first L).
        xz = F.linear(x[None], sd[m + "in_proj.weight"]).transpose(1, 2)  # [1, 2E, L]
        xin, z = xz.chunk(2, dim=1)
        u = F.silu(F.conv1d(xin, sd[m + "conv1d.weight"], sd[m + "conv1d.bias"], padding=K - 1, groups=E)[..., :L])
        ssm = F.linear(u.transpose(1, 2), sd[m + "x_proj.weight"])  # [1, L, R + 2N]
        dt_low, B, C = torch.split(ssm, [R, N, N], dim=-1)
        dt = F.softplus(F.linear(dt_low, sd[m + "dt_proj.weight"], sd[m + "dt_proj.bias"])).transpose(1, 2)  # [1, E, L]
        A = -torch.exp(sd[m + "A_log"])  # [E, N]
        dA = torch.exp(A[None, :, None, :] * dt[:, :, :, None])  # [1, E, L, N]
        dBu = dt[:, :, :, None] * B[:, None, :, :] * u[:, :, :, None]
        assert 0.01 < dt.min() and dt.max() < 0.5, (dt.min(), dt.max())
        assert 0 < dA.min() and dA.max() < 1, (dA.min(), dA.max())
        state = torch.zeros(1, E, N, dtype=torch.float64)
        ys = []
        for t in range(L):
            state = dA[:, :, t, :] * state + dBu[:, :, t, :]
            ys.append(torch.matmul(state, C[:, t, :].unsqueeze(-1))[:, :, 0])
        y = (torch.stack(ys, dim=-1) + u * sd[m + "D"][None, :, None]) * F.silu(z)  # [1, E, L]
        # The operator: decay sums over (c, r] from the cumulative sum of dt * A, masked above the diagonal.
        cs = torch.cumsum(dt[0, :, :, None] * A[:, None, :], dim=1)  # [E, L, N]
        seg = cs[:, :, None, :] - cs[:, None, :, :]  # [E, r, c, N]
        causal = torch.tril(torch.ones(L, L, dtype=torch.bool))
        seg = seg.masked_fill(~causal[None, :, :, None], float("-inf"))
        T = (C[0][None, :, None, :] * B[0][None, None, :, :] * torch.exp(seg)).sum(-1) * dt[0][:, None, :]
        T = (T + torch.diag_embed(sd[m + "D"][:, None].expand(E, L))) * F.silu(z[0])[:, :, None]
        assert torch.allclose(torch.matmul(T, u[0][:, :, None])[:, :, 0], y[0], rtol=0, atol=1e-12), "y != T u"
        out[f"operator.{i}"] = T
        h = h + F.linear(y.transpose(1, 2), sd[m + "out_proj.weight"])[0]  # out_proj, residual
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    torch.save(out, os.path.join(HERE, "mamba_torch", "expected.pt"))


FIXTURES = {"gpt2": (gpt2, expected_gpt2), "qwen2": (qwen2, expected_qwen2), "mamba": (mamba, expected_mamba)}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Writes the PyTorch-made HF fixtures (all unless named).")
    ap.add_argument("names", nargs="*", metavar="NAME", help="gpt2, qwen2 or mamba (default: all)")
    names = ap.parse_args().names or list(FIXTURES)
    for n in names:
        if n not in FIXTURES:
            ap.error(f"unknown fixture {n!r} (known: {', '.join(FIXTURES)})")
    torch.manual_seed(0)
    for n in names:  # weights first: expected.pt is computed from the file as saved
        FIXTURES[n][0]()
        FIXTURES[n][1]()
