# Writes the PyTorch-made Hugging Face fixtures of tests/core/test_hf_models.cpp with torch.save
# (transformers is not needed: the state dicts are built by hand with HF's tensor names).
#   gpt2_torch/    GPT2LMHeadModel layout ("transformer." prefix, tied lm_head), float32
#   qwen2_torch/   Qwen2ForCausalLM layout ("model." prefix), GQA 4 query / 2 KV heads,
#                  q/k/v biases, bfloat16 weights
#   mamba_torch/   MambaForCausalLM layout ("backbone." prefix, tied lm_head), d_model 16,
#                  E = 32 inner channels, N = 4, conv_kernel 4, time_step_rank 2, float16 weights
#   gpt_neox_torch/      GPTNeoXForCausalLM (Pythia): parallel residual, rotary_pct 0.25, float16,
#                        with the buffers old Pythia files carry
#   gpt_neox_seq_torch/  sequential residual, half of each head rotated (base 500) given in
#                        transformers 5's rope_parameters, float32
#   falcon_mamba_torch/  FalconMambaForCausalLM: the mamba layout with B, C and dt normalized
#                  (mixer_rms_eps 1e-6), bfloat16
#   phi_torch/     PhiForCausalLM (Phi-2): attention and MLP in parallel from input_layernorm,
#                  partial_rotary_factor 0.5, biases, lm_head with bias, bfloat16
#   phi_qk_torch/  qk_layernorm true, 4 query heads on 2 key/value heads, float32
#   qwen3_torch/   Qwen3ForCausalLM: q_norm / k_norm per head, head_dim 8 != d_model / heads,
#                  tied embeddings, bfloat16
#   phi3_torch/    Phi3ForCausalLM: fused qkv_proj and gate_up_proj, partial_rotary_factor 0.75,
#                  sliding_window 5, float32
#   gemma2_torch/  Gemma2ForCausalLM: scaled embeddings, (1 + w) RMSNorms around both sublayers,
#                  soft-capped attention logits, sliding and global layers alternating, float32
#   gemma3_text_torch/  Gemma3ForCausalLM (text): q/k norms, every 3rd layer global, local and
#                  global RoPE bases, linear scaling on the global layer, bfloat16
#   mamba2_torch/  Mamba2ForCausalLM: 4 heads of head_dim 8 on 2 groups of B, C, dt clamped by
#                  time_step_limit, untied lm_head, float32
#   gla_torch/     flash-linear-attention GLAForCausalLM: 4 heads on 2 key/value heads, low-rank
#                  gk_proj, short convolutions on q, k, v, gated RMSNorm per head, float32
#   gla_plain_torch/  GLA with use_output_gate false (the ungated g_norm), use_short_conv false
#                  and feature_map relu, float32
#   retnet_torch/  flash-linear-attention RetNetForCausalLM: RoPE on q, k, decay 1 - 2^(-5-h),
#                  d_v = 2 d_k, bfloat16
#   retnet_options_torch/  RetNet with 4 heads on 2 key/value heads, fuse_norm false and silu
#                  (g_norm, then the gate), elementwise_affine false, sigmoid feature map, float32
#   delta_net_torch/  flash-linear-attention DeltaNetForCausalLM: the delta rule, short
#                  convolutions, L2-normalized q and k, beta from b_proj, float32
#   delta_net_sum_torch/   use_beta false, qk_activation elu, qk_norm sum, use_short_conv false,
#                  use_gate true, float32
#   delta_net_relu_torch/  qk_activation relu (short convolutions without SiLU on q, k), float32
#   gated_deltanet_torch/  GatedDeltaNetForCausalLM: a decay per value head (A_log, dt_bias),
#                  4 value heads on 2 query/key heads (num_v_heads), gated o_norm, bfloat16
#   gated_deltanet_noconv_torch/  use_short_conv false, float32
#   lfm2_torch/    Lfm2ForCausalLM hybrid: gated short-conv, attention, gated short-conv layers,
#                  per-head q/k RMSNorm, GQA 4 on 2, tied embeddings, float32
#   jamba_torch/   JambaForCausalLM hybrid: mamba, attention, mamba, attention layers
#                  (attn_layer_period 2, offset 1), MoE feed-forwards of 4 experts, top 2, on
#                  layers 0 and 2 (expert_layer_period 2, offset 0), weighted RMSNorms of dt, B, C,
#                  GQA 4 on 2 without positional encoding, float32
#   recurrent_gemma_torch/  RecurrentGemmaForCausalLM hybrid: recurrent, recurrent, attention,
#                  recurrent layers (block_types cycled), RG-LRU of width 24 (lru_width != d_model)
#                  with 4 gate blocks, local attention (window 5), GQA 4 on 2, half of each head
#                  rotated, biases, bfloat16
# and expected.pt beside each: the mixer input of every layer and every layer's operator
# (attention probabilities [H, L, L]; for mamba the S6 operator per inner channel [E, L, L] as
# ess/mixer.h defines it, and the residual stream hidden_state.{i} entering every block) for
# fixed tokens, computed by PyTorch in float64 with HF's formulations; for the newer fixtures also
# hidden_state.{i}, the value inputs values.{i} [H, L, d] and the mixer's own head outputs
# mixer_output.{i} [H, L, d] (attention weighted sums formed query by query; for SSMs the scan);
# for the recurrent layers also the SSM-only operator ssm_operator.{i} [H, L, L] (ess/operator_scope.h:
# without the output gate, the norm after the scan and the D skip) and the recurrence's own output
# ssm_output.{i} [H, L, 1] = ssm_operator.{i} values.{i}.
# Run from the repository root:
#   /usr/bin/python3 tests/data/hf/make_fixtures.py            all fixtures
#   /usr/bin/python3 tests/data/hf/make_fixtures.py --expected-only mamba   only expected.pt
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


def mamba(folder="mamba_torch", seed=3, dtype=torch.float16, mixer_rms_eps=None):
    """MambaForCausalLM layout; with mixer_rms_eps FalconMambaForCausalLM's (the same tensors)."""
    g = torch.Generator().manual_seed(seed)
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
    sd = {k: v.to(dtype) for k, v in sd.items()}
    sd["lm_head.weight"] = sd["backbone.embeddings.weight"]  # tied: one shared storage
    cfg = {"model_type": "mamba", "vocab_size": V, "hidden_size": D, "state_size": N, "expand": E // D,
           "conv_kernel": K, "time_step_rank": R, "num_hidden_layers": Lyr, "layer_norm_epsilon": 1e-5,
           "use_bias": False, "use_conv_bias": True, "hidden_act": "silu", "tie_word_embeddings": True}
    if mixer_rms_eps is not None:
        cfg.update({"model_type": "falcon_mamba", "mixer_rms_eps": mixer_rms_eps})
    save(folder, cfg, sd)


def expected_mamba(folder="mamba_torch"):
    """HF MambaMixer.slow_forward and MambaBlock / MambaRMSNorm in float64 (FalconMambaMixer's
    when config.json has mixer_rms_eps: B, C and dt_low RMS-normalized without a weight right
    after x_proj), and the S6 operator
    of ess/mixer.h (kind "mamba"): per inner channel e, with u = silu(conv1d(x_in)) the value
    input and the gate silu(z) scaling rows,
      T[e, r, c] = silu(z_r[e]) * sum_n C_r[n] exp(sum_{t=c+1..r} dt_t[e] A[e, n]) dt_c[e] B_c[n]  (c <= r)
                   + [r == c] silu(z_r[e]) D[e],
    so that the gated scan output y[e] = T[e] u[e]; asserted below."""
    sd = {k: v.double() for k, v in torch.load(os.path.join(HERE, folder, "pytorch_model.bin")).items()}
    cfg = json.load(open(os.path.join(HERE, folder, "config.json")))
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
        if "mixer_rms_eps" in cfg:  # FalconMamba's rms_forward, no weight
            unit = lambda t: t / torch.sqrt(t.pow(2).mean(-1, keepdim=True) + cfg["mixer_rms_eps"])
            dt_low, B, C = unit(dt_low), unit(B), unit(C)
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
        # The SSM-only operator: the recurrence without the D skip and the gate silu(z), the scan's own output.
        Ts, ys_ssm = T.clone(), torch.stack(ys, dim=-1)[0]  # [E, L, L], [E, L]
        assert torch.allclose(torch.matmul(Ts, u[0][:, :, None])[:, :, 0], ys_ssm, rtol=0, atol=1e-12), "ssm y != T u"
        T = (T + torch.diag_embed(sd[m + "D"][:, None].expand(E, L))) * F.silu(z[0])[:, :, None]
        assert torch.allclose(torch.matmul(T, u[0][:, :, None])[:, :, 0], y[0], rtol=0, atol=1e-12), "y != T u"
        out[f"operator.{i}"] = T
        out[f"ssm_operator.{i}"], out[f"ssm_output.{i}"] = Ts, ys_ssm[:, :, None]
        out[f"values.{i}"], out[f"mixer_output.{i}"] = u[0][:, :, None], y[0][:, :, None]
        h = h + F.linear(y.transpose(1, 2), sd[m + "out_proj.weight"])[0]  # out_proj, residual
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    torch.save(out, os.path.join(HERE, folder, "expected.pt"))


def save_expected(folder, out):
    torch.save(out, os.path.join(HERE, folder, "expected.pt"))


def load_fixture(folder):
    sd = {k: v.double() for k, v in torch.load(os.path.join(HERE, folder, "pytorch_model.bin")).items()
          if v.is_floating_point()}
    return sd, json.load(open(os.path.join(HERE, folder, "config.json")))


def rope_by_pairs(x, r, theta):
    """RoPE by its definition on the leading r dims of x [H, L, d]: the pair (i, i + r/2) of
    position p rotated by the angle p * theta^(-2i/r); dims r.. pass through (partial rotary)."""
    y = x.clone()
    L, half = x.shape[1], r // 2
    for p in range(L):
        for i in range(half):
            a = p * theta ** (-2.0 * i / r)
            c, s = math.cos(a), math.sin(a)
            y[:, p, i] = x[:, p, i] * c - x[:, p, i + half] * s
            y[:, p, i + half] = x[:, p, i + half] * c + x[:, p, i] * s
    return y


def rope_scaled(x, r, theta, factor):
    """RoPE with linear scaling: the angle of pair i at position p is p * theta^(-2i/r) / factor."""
    y = x.clone()
    half = r // 2
    for p in range(x.shape[1]):
        for i in range(half):
            a = p * theta ** (-2.0 * i / r) / factor
            c, s = math.cos(a), math.sin(a)
            y[:, p, i] = x[:, p, i] * c - x[:, p, i + half] * s
            y[:, p, i + half] = x[:, p, i + half] * c + x[:, p, i] * s
    return y


def attention_loop(q, k, v, scale, window=0):
    """Causal softmax attention head by head and query by query (explicit normalization), keys
    c with r - c < window only when window > 0: the probabilities [H, L, L] and the head outputs
    [H, L, d]."""
    H, L, _ = q.shape
    P = torch.zeros(H, L, L, dtype=torch.float64)
    for h in range(H):
        for r in range(L):
            c0 = max(0, r - window + 1) if window > 0 else 0
            s = torch.stack([torch.dot(q[h, r], k[h, c]) * scale for c in range(c0, r + 1)])
            e = torch.exp(s - s.max())
            P[h, r, c0: r + 1] = e / e.sum()
    y = torch.stack([torch.stack([sum(P[h, r, c] * v[h, c] for c in range(r + 1)) for r in range(L)])
                     for h in range(H)])
    return P, y


def gpt_neox(folder, seed, parallel, pct, base, dtype, rope_parameters):
    """GPTNeoXForCausalLM layout ("gpt_neox." prefix, untied embed_out), with the buffers old
    Pythia checkpoints carry (attention.bias, masked_bias, rotary_emb.inv_freq)."""
    g = torch.Generator().manual_seed(seed)
    V, D, H, Lyr, I, P = 32, 16, 2, 2, 40, 64
    hd = D // H
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"gpt_neox.embed_in.weight": torch.randn(V, D, generator=g)}
    for i in range(Lyr):
        b = f"gpt_neox.layers.{i}."
        sd[b + "input_layernorm.weight"] = 1 + r(D)
        sd[b + "input_layernorm.bias"] = r(D)
        sd[b + "post_attention_layernorm.weight"] = 1 + r(D)
        sd[b + "post_attention_layernorm.bias"] = r(D)
        sd[b + "attention.bias"] = torch.tril(torch.ones(P, P, dtype=torch.bool)).view(1, 1, P, P)
        sd[b + "attention.masked_bias"] = torch.tensor(-1e9)
        rot = int(hd * pct)
        sd[b + "attention.rotary_emb.inv_freq"] = 1.0 / base ** (torch.arange(0, rot, 2).float() / rot)
        sd[b + "attention.query_key_value.weight"] = r(3 * D, D) * 2
        sd[b + "attention.query_key_value.bias"] = r(3 * D)
        sd[b + "attention.dense.weight"] = r(D, D)
        sd[b + "attention.dense.bias"] = r(D)
        sd[b + "mlp.dense_h_to_4h.weight"] = r(I, D)
        sd[b + "mlp.dense_h_to_4h.bias"] = r(I)
        sd[b + "mlp.dense_4h_to_h.weight"] = r(D, I)
        sd[b + "mlp.dense_4h_to_h.bias"] = r(D)
    sd["gpt_neox.final_layer_norm.weight"] = 1 + r(D)
    sd["gpt_neox.final_layer_norm.bias"] = r(D)
    sd["embed_out.weight"] = r(V, D)
    sd = {k: v.to(dtype) if v.is_floating_point() and "masked_bias" not in k else v for k, v in sd.items()}
    cfg = {"model_type": "gpt_neox", "vocab_size": V, "hidden_size": D, "num_attention_heads": H,
           "num_hidden_layers": Lyr, "intermediate_size": I, "max_position_embeddings": P,
           "layer_norm_eps": 1e-5, "hidden_act": "gelu", "use_parallel_residual": parallel,
           "tie_word_embeddings": False}
    if rope_parameters:  # transformers 5
        cfg["rope_parameters"] = {"rope_type": "default", "rope_theta": base, "partial_rotary_factor": pct}
    else:
        cfg.update({"rotary_pct": pct, "rotary_emb_base": base})
    save(folder, cfg, sd)


def expected_gpt_neox(folder):
    """GPTNeoXLayer in float64: q, k, v the consecutive head_dim slices of each head's block of
    query_key_value, RoPE on the leading rotary_pct * head_dim dims, erf GELU, parallel or
    sequential residual."""
    sd, cfg = load_fixture(folder)
    rp = cfg.get("rope_parameters", {})
    pct, base = rp.get("partial_rotary_factor", cfg.get("rotary_pct")), rp.get("rope_theta", cfg.get("rotary_emb_base"))
    D, H = cfg["hidden_size"], cfg["num_attention_heads"]
    hd, L = D // H, len(TOKENS)
    F = torch.nn.functional
    ln = lambda x, n: F.layer_norm(x, (D,), sd[n + ".weight"], sd[n + ".bias"], cfg["layer_norm_eps"])
    lin = lambda x, n: x @ sd[n + ".weight"].T + sd[n + ".bias"]
    h = sd["gpt_neox.embed_in.weight"][torch.tensor(TOKENS)]
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"gpt_neox.layers.{i}."
        x = ln(h, b + "input_layernorm")
        out[f"mixer_input.{i}"] = x
        qkv = lin(x, b + "attention.query_key_value")  # [L, 3D] = [L, H, (q, k, v), hd]
        q, k, v = [torch.stack([qkv[:, hh * 3 * hd + j * hd: hh * 3 * hd + (j + 1) * hd] for hh in range(H)])
                   for j in range(3)]
        rot = int(hd * pct)
        q, k = rope_by_pairs(q, rot, base), rope_by_pairs(k, rot, base)
        p, y = attention_loop(q, k, v, 1 / math.sqrt(hd))
        out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = p, v, y
        attn = lin(y.transpose(0, 1).reshape(L, D), b + "attention.dense")
        mlp = lambda z: lin(F.gelu(lin(ln(z, b + "post_attention_layernorm"), b + "mlp.dense_h_to_4h")),
                            b + "mlp.dense_4h_to_h")
        h = h + attn + mlp(h) if cfg["use_parallel_residual"] else (h + attn) + mlp(h + attn)
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)


def phi(folder, seed, H, KV, pct, qk_layernorm, dtype):
    """PhiForCausalLM layout ("model." prefix, final_layernorm, lm_head with bias)."""
    g = torch.Generator().manual_seed(seed)
    V, D, Lyr, I = 32, 16, 2, 32
    hd = D // H
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embed_tokens.weight": torch.randn(V, D, generator=g)}
    for i in range(Lyr):
        b = f"model.layers.{i}."
        sd[b + "input_layernorm.weight"] = 1 + r(D)
        sd[b + "input_layernorm.bias"] = r(D)
        for name, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
            sd[b + f"self_attn.{name}_proj.weight"] = r(rows, D) * 2
            sd[b + f"self_attn.{name}_proj.bias"] = r(rows)
        if qk_layernorm:
            for name in ("q", "k"):
                sd[b + f"self_attn.{name}_layernorm.weight"] = 1 + r(hd) * 3
                sd[b + f"self_attn.{name}_layernorm.bias"] = r(hd)
        sd[b + "self_attn.dense.weight"] = r(D, H * hd)
        sd[b + "self_attn.dense.bias"] = r(D)
        sd[b + "mlp.fc1.weight"] = r(I, D)
        sd[b + "mlp.fc1.bias"] = r(I)
        sd[b + "mlp.fc2.weight"] = r(D, I)
        sd[b + "mlp.fc2.bias"] = r(D)
    sd["model.final_layernorm.weight"] = 1 + r(D)
    sd["model.final_layernorm.bias"] = r(D)
    sd["lm_head.weight"] = r(V, D)
    sd["lm_head.bias"] = r(V)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    cfg = {"model_type": "phi", "vocab_size": V, "hidden_size": D, "num_attention_heads": H,
           "num_key_value_heads": KV, "num_hidden_layers": Lyr, "intermediate_size": I,
           "max_position_embeddings": 64, "layer_norm_eps": 1e-5, "hidden_act": "gelu_new",
           "rope_theta": 10000.0, "partial_rotary_factor": pct, "qk_layernorm": qk_layernorm,
           "rope_scaling": None, "tie_word_embeddings": False, "resid_pdrop": 0.1}
    save(folder, cfg, sd)


def expected_phi(folder):
    """PhiDecoderLayer in float64: x = input_layernorm(h), h + dense(attn(x)) + fc2(gelu_tanh(fc1(x))),
    per-head LayerNorm of q and k when qk_layernorm, RoPE on the leading partial_rotary_factor *
    head_dim dims, key/value head h // (H / KV) for query head h."""
    sd, cfg = load_fixture(folder)
    D, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, L, eps = D // H, len(TOKENS), cfg["layer_norm_eps"]
    F = torch.nn.functional
    lin = lambda x, n: x @ sd[n + ".weight"].T + sd[n + ".bias"]
    h = sd["model.embed_tokens.weight"][torch.tensor(TOKENS)]
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"model.layers.{i}."
        x = F.layer_norm(h, (D,), sd[b + "input_layernorm.weight"], sd[b + "input_layernorm.bias"], eps)
        out[f"mixer_input.{i}"] = x
        split = lambda y, n: y.view(L, n, hd).transpose(0, 1)
        q = split(lin(x, b + "self_attn.q_proj"), H)
        k = split(lin(x, b + "self_attn.k_proj"), KV)
        v = split(lin(x, b + "self_attn.v_proj"), KV)
        if cfg["qk_layernorm"]:
            nq, nk = b + "self_attn.q_layernorm", b + "self_attn.k_layernorm"
            q = F.layer_norm(q, (hd,), sd[nq + ".weight"], sd[nq + ".bias"], eps)
            k = F.layer_norm(k, (hd,), sd[nk + ".weight"], sd[nk + ".bias"], eps)
        rot = int(hd * cfg["partial_rotary_factor"])
        q, k = rope_by_pairs(q, rot, cfg["rope_theta"]), rope_by_pairs(k, rot, cfg["rope_theta"])
        group = [hh * KV // H for hh in range(H)]
        k, v = k[group], v[group]
        p, y = attention_loop(q, k, v, 1 / math.sqrt(hd))
        out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = p, v, y
        attn = lin(y.transpose(0, 1).reshape(L, H * hd), b + "self_attn.dense")
        mlp = lin(F.gelu(lin(x, b + "mlp.fc1"), approximate="tanh"), b + "mlp.fc2")
        h = h + attn + mlp
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)


def llama_variant(folder, model_type, seed, H, KV, hd, dtype, extra):
    """Qwen3ForCausalLM (q_norm / k_norm per head) or Phi3ForCausalLM (fused qkv_proj = [q; k; v]
    and gate_up_proj = [gate; up]) layouts, "model." prefix, no biases."""
    g = torch.Generator().manual_seed(seed)
    V, D, Lyr, I = 32, 16, 2, 24
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embed_tokens.weight": torch.randn(V, D, generator=g)}
    for i in range(Lyr):
        b = f"model.layers.{i}."
        sd[b + "input_layernorm.weight"] = 1 + r(D)
        if model_type == "phi3":
            sd[b + "self_attn.qkv_proj.weight"] = r((H + 2 * KV) * hd, D) * 2
            sd[b + "mlp.gate_up_proj.weight"] = r(2 * I, D)
        else:
            for name, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
                sd[b + f"self_attn.{name}_proj.weight"] = r(rows, D) * 2
            sd[b + "self_attn.q_norm.weight"] = 1 + r(hd)
            sd[b + "self_attn.k_norm.weight"] = 1 + r(hd)
            sd[b + "mlp.gate_proj.weight"] = r(I, D)
            sd[b + "mlp.up_proj.weight"] = r(I, D)
        sd[b + "self_attn.o_proj.weight"] = r(D, H * hd)
        sd[b + "post_attention_layernorm.weight"] = 1 + r(D)
        sd[b + "mlp.down_proj.weight"] = r(D, I)
    sd["model.norm.weight"] = 1 + r(D)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    cfg = {"model_type": model_type, "vocab_size": V, "hidden_size": D, "num_attention_heads": H,
           "num_key_value_heads": KV, "head_dim": hd, "num_hidden_layers": Lyr, "intermediate_size": I,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "hidden_act": "silu",
           "tie_word_embeddings": True, "attention_bias": False}
    cfg.update(extra)
    save(folder, cfg, sd)


def expected_llama_variant(folder):
    """Qwen3DecoderLayer / Phi3DecoderLayer in float64: RMSNorm, per-head RMSNorm of q and k
    (qwen3) before RoPE on the leading partial_rotary_factor * head_dim dims (phi3), key/value
    head h // (H / KV), keys within sliding_window (phi3), MLP down(silu(gate) * up)."""
    sd, cfg = load_fixture(folder)
    H, KV, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    L, eps, I = len(TOKENS), cfg["rms_norm_eps"], cfg["intermediate_size"]
    rms = lambda x, w: w * (x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps))
    h = sd["model.embed_tokens.weight"][torch.tensor(TOKENS)]
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"model.layers.{i}."
        x = rms(h, sd[b + "input_layernorm.weight"])
        out[f"mixer_input.{i}"] = x
        if cfg["model_type"] == "phi3":
            qkv = x @ sd[b + "self_attn.qkv_proj.weight"].T
            q, k, v = qkv[:, : H * hd], qkv[:, H * hd: (H + KV) * hd], qkv[:, (H + KV) * hd:]
        else:
            q, k, v = [x @ sd[b + f"self_attn.{n}_proj.weight"].T for n in "qkv"]
        split = lambda y, n: y.view(L, n, hd).transpose(0, 1)
        q, k, v = split(q, H), split(k, KV), split(v, KV)
        if cfg["model_type"] == "qwen3":
            q, k = rms(q, sd[b + "self_attn.q_norm.weight"]), rms(k, sd[b + "self_attn.k_norm.weight"])
        rot = int(hd * cfg.get("partial_rotary_factor", 1.0))
        q, k = rope_by_pairs(q, rot, cfg["rope_theta"]), rope_by_pairs(k, rot, cfg["rope_theta"])
        group = [hh * KV // H for hh in range(H)]
        p, y = attention_loop(q, k[group], v[group], 1 / math.sqrt(hd), cfg.get("sliding_window") or 0)
        out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = p, v[group], y
        h = h + y.transpose(0, 1).reshape(L, H * hd) @ sd[b + "self_attn.o_proj.weight"].T
        m = rms(h, sd[b + "post_attention_layernorm.weight"])
        if cfg["model_type"] == "phi3":
            gu = m @ sd[b + "mlp.gate_up_proj.weight"].T
            gate, up = gu[:, :I], gu[:, I:]
        else:
            gate, up = m @ sd[b + "mlp.gate_proj.weight"].T, m @ sd[b + "mlp.up_proj.weight"].T
        h = h + (torch.nn.functional.silu(gate) * up) @ sd[b + "mlp.down_proj.weight"].T
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)


def gemma2(folder, seed, dtype, gemma3=False):
    """Gemma2ForCausalLM layout ("model." prefix, tied embeddings), 3 layers: sliding, global,
    sliding; with gemma3 Gemma3ForCausalLM's (q_norm, k_norm): sliding, sliding, global."""
    g = torch.Generator().manual_seed(seed)
    V, D, H, KV, hd, Lyr, I = 32, 16, 2, 1, 8, 3, 24
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embed_tokens.weight": torch.randn(V, D, generator=g) * 0.25}
    for i in range(Lyr):
        b = f"model.layers.{i}."
        for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                  "post_feedforward_layernorm"):
            sd[b + n + ".weight"] = r(D)  # Gemma's norms scale by 1 + w
        for name, rows in (("q", H * hd), ("k", KV * hd), ("v", KV * hd)):
            sd[b + f"self_attn.{name}_proj.weight"] = r(rows, D) * 3
        sd[b + "self_attn.o_proj.weight"] = r(D, H * hd)
        if gemma3:
            sd[b + "self_attn.q_norm.weight"] = r(hd)
            sd[b + "self_attn.k_norm.weight"] = r(hd)
        sd[b + "mlp.gate_proj.weight"] = r(I, D)
        sd[b + "mlp.up_proj.weight"] = r(I, D)
        sd[b + "mlp.down_proj.weight"] = r(D, I)
    sd["model.norm.weight"] = r(D)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    cfg = {"model_type": "gemma2", "vocab_size": V, "hidden_size": D, "num_attention_heads": H,
           "num_key_value_heads": KV, "head_dim": hd, "num_hidden_layers": Lyr, "intermediate_size": I,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
           "hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": 16, "attn_logit_softcapping": 2.0,
           "final_logit_softcapping": 30.0, "sliding_window": 4, "attention_bias": False,
           "tie_word_embeddings": True}
    if gemma3:  # 1B-style text model: no soft-capping, every 3rd layer global, local RoPE base
        cfg.update({"model_type": "gemma3_text", "attn_logit_softcapping": None, "final_logit_softcapping": None,
                    "sliding_window_pattern": 3, "rope_theta": 1000000.0, "rope_local_base_freq": 10.0,
                    "rope_scaling": {"rope_type": "linear", "factor": 8.0}})
    save(folder, cfg, sd)


def expected_gemma2(folder):
    """Gemma2DecoderLayer in float64: x * sqrt(D) embeddings, RMSNorm x / rms * (1 + w) before and
    after each sublayer, scores q.k / sqrt(query_pre_attn_scalar) soft-capped cap * tanh(s / cap)
    before the mask, keys within sliding_window on the even layers, MLP down(gelu_tanh(gate) * up)."""
    sd, cfg = load_fixture(folder)
    D, H, KV, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    L, eps, cap = len(TOKENS), cfg["rms_norm_eps"], cfg["attn_logit_softcapping"]
    gemma3 = cfg["model_type"] == "gemma3_text"
    norm = lambda x, n: x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1 + sd[n + ".weight"])
    # Gemma 3: layer i global when (i + 1) % pattern == 0, the others sliding with the local base.
    sliding = [(i + 1) % cfg["sliding_window_pattern"] != 0 if gemma3 else i % 2 == 0
               for i in range(cfg["num_hidden_layers"])]
    h = sd["model.embed_tokens.weight"][torch.tensor(TOKENS)] * math.sqrt(D)
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"model.layers.{i}."
        x = norm(h, b + "input_layernorm")
        out[f"mixer_input.{i}"] = x
        q, k, v = [(x @ sd[b + f"self_attn.{n}_proj.weight"].T).view(L, c, hd).transpose(0, 1)
                   for n, c in (("q", H), ("k", KV), ("v", KV))]
        if gemma3:
            q, k = norm(q, b + "self_attn.q_norm"), norm(k, b + "self_attn.k_norm")
        if gemma3 and sliding[i]:
            q, k = rope_by_pairs(q, hd, cfg["rope_local_base_freq"]), rope_by_pairs(k, hd, cfg["rope_local_base_freq"])
        elif gemma3:  # linear scaling: positions divided by the factor, as theta^(-2i/d) / factor
            f = cfg["rope_scaling"]["factor"]
            q, k = rope_scaled(q, hd, cfg["rope_theta"], f), rope_scaled(k, hd, cfg["rope_theta"], f)
        else:
            q, k = rope_by_pairs(q, hd, cfg["rope_theta"]), rope_by_pairs(k, hd, cfg["rope_theta"])
        group = [hh * KV // H for hh in range(H)]
        k, v = k[group], v[group]
        window = cfg["sliding_window"] if sliding[i] else 0
        P = torch.zeros(H, L, L, dtype=torch.float64)
        for hh in range(H):
            for r in range(L):
                c0 = max(0, r - window + 1) if window else 0
                s = torch.stack([torch.dot(q[hh, r], k[hh, c]) / math.sqrt(cfg["query_pre_attn_scalar"])
                                 for c in range(c0, r + 1)])
                if cap:
                    s = cap * torch.tanh(s / cap)
                e = torch.exp(s - s.max())
                P[hh, r, c0: r + 1] = e / e.sum()
        y = torch.einsum("hrc,hcd->hrd", P, v)
        out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = P, v, y
        h = h + norm(y.transpose(0, 1).reshape(L, H * hd) @ sd[b + "self_attn.o_proj.weight"].T,
                     b + "post_attention_layernorm")
        m = norm(h, b + "pre_feedforward_layernorm")
        m = torch.nn.functional.gelu(m @ sd[b + "mlp.gate_proj.weight"].T, approximate="tanh") * \
            (m @ sd[b + "mlp.up_proj.weight"].T)
        h = h + norm(m @ sd[b + "mlp.down_proj.weight"].T, b + "post_feedforward_layernorm")
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)


def mamba2(folder="mamba2_torch", seed=13, dtype=torch.float32):
    """Mamba2ForCausalLM layout ("backbone." prefix, untied lm_head): 4 heads of head_dim 8 on
    2 groups of B, C (state size 4), in_proj = [z, xBC, dt] without d_mlp rows, dt clamped by
    time_step_limit."""
    g = torch.Generator().manual_seed(seed)
    V, D, H, P, G, N, K, Lyr = 32, 16, 4, 8, 2, 4, 4, 2
    E = H * P
    conv = E + 2 * G * N
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"backbone.embeddings.weight": torch.randn(V, D, generator=g)}
    for i in range(Lyr):
        b = f"backbone.layers.{i}."
        sd[b + "norm.weight"] = 1 + r(D)
        sd[b + "mixer.in_proj.weight"] = r(E + conv + H, D)
        sd[b + "mixer.conv1d.weight"] = r(conv, 1, K) * 2
        sd[b + "mixer.conv1d.bias"] = r(conv) / 3
        dt = torch.exp(torch.rand(H, generator=g) * (math.log(0.2) - math.log(0.03)) + math.log(0.03))
        sd[b + "mixer.dt_bias"] = dt + torch.log(-torch.expm1(-dt))  # inverse softplus (Mamba2's init)
        sd[b + "mixer.A_log"] = torch.log(torch.arange(1, H + 1, dtype=torch.float32)) + r(H) / 3
        sd[b + "mixer.D"] = 1 + r(H)
        sd[b + "mixer.norm.weight"] = 1 + r(E)
        sd[b + "mixer.out_proj.weight"] = r(D, E)
    sd["backbone.norm_f.weight"] = 1 + r(D)
    sd["lm_head.weight"] = r(V, D)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    cfg = {"model_type": "mamba2", "vocab_size": V, "hidden_size": D, "state_size": N, "expand": E // D,
           "num_heads": H, "head_dim": P, "n_groups": G, "conv_kernel": K, "num_hidden_layers": Lyr,
           "layer_norm_epsilon": 1e-5, "use_bias": False, "use_conv_bias": True, "hidden_act": "silu",
           "time_step_limit": [0.0, 0.12], "chunk_size": 256, "rms_norm": True, "tie_word_embeddings": False}
    save(folder, cfg, sd)


def expected_mamba2(folder="mamba2_torch"):
    """HF Mamba2Mixer (torch_forward, batch 1), Mamba2Block and Mamba2RMSNorm in float64, the
    SSD written as its recurrence (state [H, P, N] per position, not HF's chunked form), and the
    operator per inner channel e (head h = e // P, group g = h // (H / G)) with the gated
    RMSNorm's factor s_r[e] = w[e] silu(z_r[e]) / rms_r of the actual forward pass:
      T[e, r, c] = s_r[e] (C_r[g] . B_c[g] exp(sum_{t=c+1..r} dt_t[h] A[h]) dt_c[h] + [r == c] D[h]),
    so that the mixer's normalized output n[e] = T[e] x[e] (x the conv'd value channels)."""
    sd, cfg = load_fixture(folder)
    D, N, K = cfg["hidden_size"], cfg["state_size"], cfg["conv_kernel"]
    H, P, G = cfg["num_heads"], cfg["head_dim"], cfg["n_groups"]
    E, lo, hi, eps = H * P, cfg["time_step_limit"][0], cfg["time_step_limit"][1], cfg["layer_norm_epsilon"]
    L = len(TOKENS)
    F = torch.nn.functional
    rms = lambda x, w: w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
    h = sd["backbone.embeddings.weight"][torch.tensor(TOKENS)]
    out = {}
    clamped = 0
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"backbone.layers.{i}."
        m = b + "mixer."
        x = rms(h, sd[b + "norm.weight"])
        out[f"mixer_input.{i}"] = x
        zxbcdt = x @ sd[m + "in_proj.weight"].T  # [L, E + conv + H]
        z, xBC, dt = torch.split(zxbcdt, [E, E + 2 * G * N, H], dim=-1)
        xBC = F.silu(F.conv1d(xBC.T[None], sd[m + "conv1d.weight"], sd[m + "conv1d.bias"], padding=K - 1,
                              groups=xBC.shape[1])[0, :, :L].T)
        xs, B, C = torch.split(xBC, [E, G * N, G * N], dim=-1)
        xs, B, C = xs.reshape(L, H, P), B.reshape(L, G, N), C.reshape(L, G, N)
        raw = F.softplus(dt + sd[m + "dt_bias"])
        clamped += int((raw > hi).sum())
        dt = raw.clamp(lo, hi)  # [L, H]
        A = -torch.exp(sd[m + "A_log"])  # [H]
        grp = torch.arange(H) // (H // G)
        state = torch.zeros(H, P, N, dtype=torch.float64)
        ys, ys_ssm = [], []
        for t in range(L):
            Bt, Ct = B[t][grp], C[t][grp]  # [H, N]
            state = torch.exp(dt[t] * A)[:, None, None] * state + dt[t][:, None, None] * xs[t][:, :, None] * Bt[:, None, :]
            ys.append((state * Ct[:, None, :]).sum(-1) + sd[m + "D"][:, None] * xs[t])
            ys_ssm.append((state * Ct[:, None, :]).sum(-1))  # the scan before + D x and the gated norm
        y = torch.stack(ys).reshape(L, E)
        gated = y * F.silu(z)
        inv = torch.rsqrt(gated.pow(2).mean(-1, keepdim=True) + eps)  # [L, 1]
        n = sd[m + "norm.weight"] * gated * inv  # MambaRMSNormGated over all E channels
        # The operator per channel, from the decay sums over (c, r] of dt * A per head.
        cs = torch.cumsum(dt * A, dim=0)  # [L, H]
        seg = (cs[:, None, :] - cs[None, :, :]).masked_fill(~torch.tril(torch.ones(L, L, dtype=torch.bool))[:, :, None],
                                                              float("-inf"))  # [r, c, H]
        CB = torch.einsum("rhn,chn->rch", C[:, grp], B[:, grp])  # [r, c, H]
        Th = CB * torch.exp(seg) * dt[None, :, :] + torch.eye(L, dtype=torch.float64)[:, :, None] * sd[m + "D"]
        head = torch.arange(E) // P
        s = sd[m + "norm.weight"] * F.silu(z) * inv  # [L, E]
        T = Th[:, :, head].permute(2, 0, 1) * s.T[:, :, None]  # [E, r, c]
        u = xs.reshape(L, E).T  # [E, L]
        assert torch.allclose(torch.matmul(T, u[:, :, None])[:, :, 0], n.T, rtol=0, atol=1e-12), "n != T x"
        out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = T, u[:, :, None], n.T[:, :, None]
        # The SSM-only operator: without the D skip and the gated RMSNorm.
        Ts = (CB * torch.exp(seg) * dt[None, :, :])[:, :, head].permute(2, 0, 1)  # [E, r, c]
        ys_ssm = torch.stack(ys_ssm).reshape(L, E).T  # [E, L]
        assert torch.allclose(torch.matmul(Ts, u[:, :, None])[:, :, 0], ys_ssm, rtol=0, atol=1e-12), "ssm y != T x"
        out[f"ssm_operator.{i}"], out[f"ssm_output.{i}"] = Ts, ys_ssm[:, :, None]
        h = h + n @ sd[m + "out_proj.weight"].T
    assert clamped > 0, "time_step_limit clamps no step"
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)

def fla_linear(folder, kind, seed, dtype, plain=False, options=False):
    """flash-linear-attention's GLAForCausalLM / RetNetForCausalLM layout ("model." prefix,
    untied lm_head): attn_norm, attn (q/k/v/g projections, GLA's low-rank gk_proj and short
    convolutions, the fused gated RMSNorm g_norm_swish_gate per head, o_proj), mlp_norm, GatedMLP.
    gla: 4 query heads on 2 key/value heads, short convolutions on q, k and v; retnet: 2 heads,
    d_v = 2 d_k (expand_v 2). plain (gla): GLA's non-default options, no output gate (no g_proj;
    the ungated RMSNorm g_norm), no short convolutions, the relu feature map on q and k.
    options (retnet): RetNet's non-default options, 4 heads on 2 key/value heads (num_kv_heads),
    fuse_norm false with hidden_act silu (the plain RMSNorm g_norm, then the gate silu(g)),
    elementwise_affine false (no norm weight) and the sigmoid feature map before RoPE."""
    g = torch.Generator().manual_seed(seed)
    if kind == "gla":
        V, D, H, KV, ek, ev, conv = 32, 16, 4, 2, 1.0, 1.0, not plain
    elif options:
        V, D, H, KV, ek, ev, conv = 32, 16, 4, 2, 1.0, 1.0, False
    else:
        V, D, H, KV, ek, ev, conv = 32, 8, 2, 2, 1.0, 2.0, False
    Kd, Vd, Lyr, I, K, R = int(D * ek), int(D * ev), 2, 24, 4, 16
    gr = H // KV
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embeddings.weight": torch.randn(V, D, generator=g)}
    for i in range(Lyr):
        b = f"model.layers.{i}."
        a = b + "attn."
        sd[b + "attn_norm.weight"] = 1 + r(D)
        sd[a + "q_proj.weight"] = r(Kd, D)
        sd[a + "k_proj.weight"] = r(Kd // gr, D)
        sd[a + "v_proj.weight"] = r(Vd // gr, D)
        if not plain:
            sd[a + "g_proj.weight"] = r(Vd, D)
        if conv:
            sd[a + "q_conv1d.weight"] = r(Kd, 1, K) * 2
            sd[a + "k_conv1d.weight"] = r(Kd // gr, 1, K) * 2
            sd[a + "v_conv1d.weight"] = r(Vd // gr, 1, K) * 2
        if kind == "gla":
            sd[a + "gk_proj.0.weight"] = r(R, D)
            sd[a + "gk_proj.1.weight"] = r(Kd // gr, R)
            sd[a + "gk_proj.1.bias"] = torch.rand(Kd // gr, generator=g) * 4 - 2
        if not options:
            sd[a + ("g_norm" if plain else "g_norm_swish_gate") + ".weight"] = 1 + r(Vd // H)
        sd[a + "o_proj.weight"] = r(D, Vd)
        sd[b + "mlp_norm.weight"] = 1 + r(D)
        sd[b + "mlp.gate_proj.weight"] = r(I, D)
        sd[b + "mlp.up_proj.weight"] = r(I, D)
        sd[b + "mlp.down_proj.weight"] = r(D, I)
    sd["model.norm.weight"] = 1 + r(D)
    sd["lm_head.weight"] = r(V, D)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    cfg = {"model_type": kind, "vocab_size": V, "hidden_size": D, "num_hidden_layers": Lyr, "num_heads": H,
           "num_kv_heads": KV if KV != H else None, "expand_k": ek, "expand_v": ev, "hidden_ratio": 4,
           "intermediate_size": I, "hidden_act": "swish", "feature_map": None, "use_output_gate": True,
           "elementwise_affine": True, "norm_eps": 1e-6, "fuse_norm": True, "attn": None,
           "max_position_embeddings": 2048, "tie_word_embeddings": False, "attn_mode": "chunk"}
    if kind == "gla":
        cfg.update({"use_short_conv": True, "conv_size": K, "clamp_min": None, "use_gk": True, "use_gv": False})
    if plain:
        cfg.update({"use_short_conv": False, "use_output_gate": False, "feature_map": "relu"})
    if options:
        cfg.update({"fuse_norm": False, "hidden_act": "silu", "elementwise_affine": False, "feature_map": "sigmoid"})
    save(folder, cfg, sd)


def expected_fla_linear(folder):
    """GLABlock / RetNetBlock in float64, written from the papers' recurrences (not the chunked
    kernels): per head the state S [d_k, d_v], S_t = diag(a_t) S_{t-1} + k_t v_t^T, o_t = q_t S_t / sqrt(d_k),
    with GLA's a_t = sigmoid(gk_t)^(1/16) per key channel and RetNet's a = 1 - 2^(-5-h) per head
    (q, k rotated by RoPE, base 10000, on the whole head); then the gated RMSNorm per head
    n = w * o / rms(o) * silu(g). The operator per value channel e = h * d_v + j (the value input
    v[e] after its short convolution), with the norm's and the gate's row factor of this pass:
      T[e, r, c] = s_r[e] / sqrt(d_k) sum_n q_r[n] k_c[n] prod_{t=c+1..r} a_t[n],
      s_r[e] = w[j] silu(g_r[e]) / rms(o_r[h])."""
    sd, cfg = load_fixture(folder)
    kind, D, H = cfg["model_type"], cfg["hidden_size"], cfg["num_heads"]
    KV = cfg["num_kv_heads"] or H
    Kd, Vd, eps = int(D * cfg["expand_k"]), int(D * cfg["expand_v"]), cfg["norm_eps"]
    dk, dv, gr = Kd // H, Vd // H, H // KV
    L = len(TOKENS)
    F = torch.nn.functional
    rms = lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w
    h = sd["model.embeddings.weight"][torch.tensor(TOKENS)]
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"model.layers.{i}."
        a = b + "attn."
        x = rms(h, sd[b + "attn_norm.weight"])
        out[f"mixer_input.{i}"] = x
        q, k, v = x @ sd[a + "q_proj.weight"].T, x @ sd[a + "k_proj.weight"].T, x @ sd[a + "v_proj.weight"].T
        if cfg.get("use_short_conv"):
            K = cfg["conv_size"]
            cv = lambda y, w: F.silu(F.conv1d(y.T[None], w, padding=K - 1, groups=y.shape[1])[0, :, :L].T)
            q, k, v = cv(q, sd[a + "q_conv1d.weight"]), cv(k, sd[a + "k_conv1d.weight"]), cv(v, sd[a + "v_conv1d.weight"])
        q = q.reshape(L, H, dk).transpose(0, 1)  # [H, L, dk]
        k = k.reshape(L, KV, dk).transpose(0, 1)
        v = v.reshape(L, KV, dv).transpose(0, 1)
        if cfg["feature_map"] == "relu":
            q, k = torch.relu(q), torch.relu(k)
        elif cfg["feature_map"] == "sigmoid":
            q, k = torch.sigmoid(q), torch.sigmoid(k)
        else:
            assert cfg["feature_map"] is None
        if kind == "gla":
            gk = (x @ sd[a + "gk_proj.0.weight"].T) @ sd[a + "gk_proj.1.weight"].T + sd[a + "gk_proj.1.bias"]
            decay = torch.sigmoid(gk.reshape(L, KV, dk).transpose(0, 1)) ** (1 / 16)  # [KV, L, dk]
        else:
            q, k = rope_by_pairs(q, dk, 10000.0), rope_by_pairs(k, dk, 10000.0)
            gamma = 1 - 2.0 ** (-5.0 - torch.arange(H, dtype=torch.float64))
            decay = gamma[:, None, None].expand(H, L, dk)
        kv = torch.arange(H) // gr  # query head h reads key/value head h // (H / KV)
        k, v = k[kv], v[kv]
        if kind == "gla":
            decay = decay[kv]
        scale = dk ** -0.5
        o = torch.zeros(H, L, dv, dtype=torch.float64)
        Th = torch.zeros(H, L, L, dtype=torch.float64)
        for hh in range(H):
            S = torch.zeros(dk, dv, dtype=torch.float64)
            for t in range(L):
                S = decay[hh, t][:, None] * S + k[hh, t][:, None] * v[hh, t][None, :]
                o[hh, t] = scale * q[hh, t] @ S
            for rr in range(L):
                for c in range(rr + 1):
                    prod = torch.ones(dk, dtype=torch.float64)
                    for t in range(c + 1, rr + 1):
                        prod = prod * decay[hh, t]
                    Th[hh, rr, c] = scale * (q[hh, rr] * prod * k[hh, c]).sum()
        assert torch.allclose(Th @ v, o, rtol=0, atol=1e-12), "o != T v"
        # fla's layers fuse norm and gate (g_norm_swish_gate) only for swish with fuse_norm;
        # otherwise the RMSNorm g_norm, then the gate act(g) (silu here); no weight without
        # elementwise_affine.
        fused = cfg["hidden_act"] == "swish" and cfg["fuse_norm"] and cfg["use_output_gate"]
        norm = a + ("g_norm_swish_gate" if fused else "g_norm") + ".weight"
        wn = sd[norm] if cfg["elementwise_affine"] else torch.ones(dv, dtype=torch.float64)
        if cfg["use_output_gate"]:
            gate = F.silu((x @ sd[a + "g_proj.weight"].T).reshape(L, H, dv).transpose(0, 1))  # [H, L, dv]
        else:  # the plain RMSNorm g_norm
            gate = torch.ones(H, L, dv, dtype=torch.float64)
        inv = torch.rsqrt(o.pow(2).mean(-1, keepdim=True) + eps)  # [H, L, 1]
        n = o * inv * wn * gate  # [H, L, dv]
        s = (inv * wn * gate).permute(0, 2, 1).reshape(H * dv, L)  # [E, L]
        T = Th.repeat_interleave(dv, 0) * s[:, :, None]  # [E, r, c]
        u = v.permute(0, 2, 1).reshape(H * dv, L)  # [E, L]
        ne = n.permute(0, 2, 1).reshape(H * dv, L)
        assert torch.allclose(torch.matmul(T, u[:, :, None])[:, :, 0], ne, rtol=0, atol=1e-12), "n != T u"
        out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = T, u[:, :, None], ne[:, :, None]
        # The SSM-only operator: the recurrence's o = T_ssm v, without the head norm and the gate.
        Ts, oe = Th.repeat_interleave(dv, 0), o.permute(0, 2, 1).reshape(H * dv, L)
        assert torch.allclose(torch.matmul(Ts, u[:, :, None])[:, :, 0], oe, rtol=0, atol=1e-12), "ssm o != T u"
        out[f"ssm_operator.{i}"], out[f"ssm_output.{i}"] = Ts, oe[:, :, None]
        h = h + n.transpose(0, 1).reshape(L, H * dv) @ sd[a + "o_proj.weight"].T
        y = rms(h, sd[b + "mlp_norm.weight"])
        h = h + (F.silu(y @ sd[b + "mlp.gate_proj.weight"].T) * (y @ sd[b + "mlp.up_proj.weight"].T)) @ sd[
            b + "mlp.down_proj.weight"].T
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)

def fla_delta(folder, kind, seed, dtype, conv=True, options=None):
    """flash-linear-attention's DeltaNetForCausalLM / GatedDeltaNetForCausalLM layout ("model."
    prefix, untied lm_head): attn_norm, attn (q/k/v projections with short convolutions, b_proj
    for beta; gated_deltanet also a_proj, A_log, dt_bias and g_proj with the gated o_norm),
    mlp_norm, GatedMLP. delta_net: 2 heads of d_k = d_v = 8, no output gate; gated_deltanet:
    2 query/key heads of head_dim 4 read by 4 value heads of d_v = 4 (num_v_heads, expand_v 1). Without conv
    (use_short_conv false) q, k and v are SiLU'd projections. options (delta_net): config fields
    over the defaults (use_beta, qk_activation, qk_norm, use_gate)."""
    g = torch.Generator().manual_seed(seed)
    V, D, Lyr, I, K = 32, 16, 2, 24, 4
    if kind == "delta_net":
        H, HV, dk, dv, gate = 2, 2, 8, 8, (options or {}).get("use_gate", False)
    else:
        H, HV, dk, dv, gate = 2, 4, 4, 4, True
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embeddings.weight": torch.randn(V, D, generator=g)}
    for i in range(Lyr):
        b = f"model.layers.{i}."
        a = b + "attn."
        sd[b + "attn_norm.weight"] = 1 + r(D)
        sd[a + "q_proj.weight"] = r(H * dk, D) * 2
        sd[a + "k_proj.weight"] = r(H * dk, D) * 2
        sd[a + "v_proj.weight"] = r(HV * dv, D)
        if (options or {}).get("use_beta", True):
            sd[a + "b_proj.weight"] = r(HV, D)
        if conv:
            sd[a + "q_conv1d.weight"] = r(H * dk, 1, K) * 2
            sd[a + "k_conv1d.weight"] = r(H * dk, 1, K) * 2
            sd[a + "v_conv1d.weight"] = r(HV * dv, 1, K) * 2
        if kind == "gated_deltanet":
            sd[a + "a_proj.weight"] = r(HV, D)
            sd[a + "A_log"] = torch.log(torch.rand(HV, generator=g) * 4 + 0.5)
            dt = torch.exp(torch.rand(HV, generator=g) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
            sd[a + "dt_bias"] = dt + torch.log(-torch.expm1(-dt))
        if gate:
            sd[a + "g_proj.weight"] = r(HV * dv, D)
        sd[a + "o_norm.weight"] = 1 + r(dv)
        sd[a + "o_proj.weight"] = r(D, HV * dv)
        sd[b + "mlp_norm.weight"] = 1 + r(D)
        sd[b + "mlp.gate_proj.weight"] = r(I, D)
        sd[b + "mlp.up_proj.weight"] = r(I, D)
        sd[b + "mlp.down_proj.weight"] = r(D, I)
    sd["model.norm.weight"] = 1 + r(D)
    sd["lm_head.weight"] = r(V, D)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    cfg = {"model_type": kind, "vocab_size": V, "hidden_size": D, "num_hidden_layers": Lyr, "num_heads": H,
           "hidden_ratio": 4, "intermediate_size": I, "hidden_act": "swish", "norm_eps": 1e-6, "fuse_norm": True,
           "attn": None, "use_short_conv": conv, "conv_size": K, "allow_neg_eigval": False, "use_gate": gate,
           "max_position_embeddings": 2048, "tie_word_embeddings": False, "attn_mode": "chunk"}
    if kind == "delta_net":
        cfg.update({"expand_k": 1.0, "expand_v": 1.0, "use_beta": True, "qk_norm": "l2", "qk_activation": "silu",
                    "use_output_norm": True})
        cfg.update(options or {})
    else:
        cfg.update({"head_dim": dk, "expand_v": dv / dk, "num_v_heads": HV})
    save(folder, cfg, sd)


def expected_fla_delta(folder):
    """DeltaNetBlock / GatedDeltaNetBlock in float64 from the delta rule's recurrence (Schlag et
    al. 2021, Yang et al. 2024/2025), not the chunked kernels: q, k, v after their causal short
    convolutions + SiLU, q and k L2-normalized per head (eps 1e-6), beta = sigmoid(b_proj(x)),
    gated_deltanet's alpha = exp(-exp(A_log) softplus(a_proj(x) + dt_bias)) (delta_net: 1), per
    value head hv (reading query/key head hv // (HV / H)) the state S [d_k, d_v]:
      S_t = alpha_t (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T,   o_t = S_t^T q_t / sqrt(d_k),
    then o_norm per head (RMSNorm, times silu(g_proj(x)) with use_gate). The operator per value
    channel e = hv * d_v + j, with the transition products formed as d_k x d_k matrices:
      T[e, r, c] = s_r[e] / sqrt(d_k) q_r^T (prod_{t=r..c+1} alpha_t (I - beta_t k_t k_t^T)) beta_c k_c."""
    sd, cfg = load_fixture(folder)
    kind, D, H = cfg["model_type"], cfg["hidden_size"], cfg["num_heads"]
    if kind == "delta_net":
        HV, dk, dv = H, int(D * cfg["expand_k"]) // H, int(D * cfg["expand_v"]) // H
    else:
        HV, dk = cfg["num_v_heads"], cfg["head_dim"]
        dv = int(dk * cfg["expand_v"])
    eps, K, L = cfg["norm_eps"], cfg["conv_size"], len(TOKENS)
    F = torch.nn.functional
    rms = lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w
    act = cfg.get("qk_activation", "silu")  # gated_deltanet: always silu
    conv = lambda y, n: F.conv1d(y.T[None], sd[n], padding=K - 1, groups=y.shape[1])[0, :, :L].T
    if cfg["use_short_conv"]:  # SiLU after the q and k convolutions only with qk_activation silu
        cv = lambda y, n: F.silu(conv(y, n))
        cqk = cv if act == "silu" else conv
    else:  # fla: silu(v_proj(x)); q and k SiLU'd only with qk_activation silu
        cv = lambda y, n: F.silu(y)
        cqk = cv if act == "silu" else (lambda y, n: y)
    qk_act = {"silu": lambda t: t, "identity": lambda t: t, "relu": torch.relu,
              "elu": lambda t: F.elu(t) + 1}[act]
    h = sd["model.embeddings.weight"][torch.tensor(TOKENS)]
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"model.layers.{i}."
        a = b + "attn."
        x = rms(h, sd[b + "attn_norm.weight"])
        out[f"mixer_input.{i}"] = x
        q = qk_act(cqk(x @ sd[a + "q_proj.weight"].T, a + "q_conv1d.weight").reshape(L, H, dk))
        k = qk_act(cqk(x @ sd[a + "k_proj.weight"].T, a + "k_conv1d.weight").reshape(L, H, dk))
        v = cv(x @ sd[a + "v_proj.weight"].T, a + "v_conv1d.weight").reshape(L, HV, dv)
        if cfg.get("qk_norm", "l2") == "sum":
            q, k = q / q.sum(-1, keepdim=True), k / k.sum(-1, keepdim=True)
        else:
            q = q / torch.sqrt(q.pow(2).sum(-1, keepdim=True) + 1e-6)
            k = k / torch.sqrt(k.pow(2).sum(-1, keepdim=True) + 1e-6)
        if cfg.get("use_beta", True):
            beta = torch.sigmoid(x @ sd[a + "b_proj.weight"].T)  # [L, HV]
        else:
            beta = torch.ones(L, HV, dtype=torch.float64)
        if kind == "gated_deltanet":
            alpha = torch.exp(-torch.exp(sd[a + "A_log"]) * F.softplus(x @ sd[a + "a_proj.weight"].T + sd[a + "dt_bias"]))
        else:
            alpha = torch.ones(L, HV, dtype=torch.float64)
        scale = dk ** -0.5
        o = torch.zeros(HV, L, dv, dtype=torch.float64)
        Th = torch.zeros(HV, L, L, dtype=torch.float64)
        eye = torch.eye(dk, dtype=torch.float64)
        for hv in range(HV):
            hq = hv // (HV // H)
            S = torch.zeros(dk, dv, dtype=torch.float64)
            for t in range(L):
                kt = k[t, hq]
                S = alpha[t, hv] * (eye - beta[t, hv] * torch.outer(kt, kt)) @ S + beta[t, hv] * torch.outer(kt, v[t, hv])
                o[hv, t] = scale * S.T @ q[t, hq]
            for c in range(L):
                P = eye.clone()
                for rr in range(c, L):
                    if rr > c:
                        kt = k[rr, hq]
                        P = alpha[rr, hv] * (eye - beta[rr, hv] * torch.outer(kt, kt)) @ P
                    Th[hv, rr, c] = scale * q[rr, hq] @ P @ (beta[c, hv] * k[c, hq])
        vh = v.permute(1, 0, 2)  # [HV, L, dv]
        assert torch.allclose(Th @ vh, o, rtol=0, atol=1e-12), "o != T v"
        inv = torch.rsqrt(o.pow(2).mean(-1, keepdim=True) + eps)  # [HV, L, 1]
        fac = inv * sd[a + "o_norm.weight"]
        if cfg["use_gate"]:
            fac = fac * F.silu((x @ sd[a + "g_proj.weight"].T).reshape(L, HV, dv).permute(1, 0, 2))
        n = o * fac  # [HV, L, dv]
        s = fac.expand(HV, L, dv).permute(0, 2, 1).reshape(HV * dv, L)
        T = Th.repeat_interleave(dv, 0) * s[:, :, None]
        u = vh.permute(0, 2, 1).reshape(HV * dv, L)
        ne = n.permute(0, 2, 1).reshape(HV * dv, L)
        assert torch.allclose(torch.matmul(T, u[:, :, None])[:, :, 0], ne, rtol=0, atol=1e-12), "n != T u"
        out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = T, u[:, :, None], ne[:, :, None]
        # The SSM-only operator: the delta rule's o = T_ssm v, without o_norm and the gate.
        Ts, oe = Th.repeat_interleave(dv, 0), o.permute(0, 2, 1).reshape(HV * dv, L)
        assert torch.allclose(torch.matmul(Ts, u[:, :, None])[:, :, 0], oe, rtol=0, atol=1e-12), "ssm o != T u"
        out[f"ssm_operator.{i}"], out[f"ssm_output.{i}"] = Ts, oe[:, :, None]
        h = h + n.transpose(0, 1).reshape(L, HV * dv) @ sd[a + "o_proj.weight"].T
        y = rms(h, sd[b + "mlp_norm.weight"])
        h = h + (F.silu(y @ sd[b + "mlp.gate_proj.weight"].T) * (y @ sd[b + "mlp.up_proj.weight"].T)) @ sd[
            b + "mlp.down_proj.weight"].T
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)

def lfm2(folder="lfm2_torch", seed=18, dtype=torch.float32):
    """Lfm2ForCausalLM layout ("model." prefix, tied lm_head): 3 layers conv, full_attention,
    conv; d_model 16, 4 query heads on 2 key/value heads of head_dim 4, conv_L_cache 3,
    intermediate_size 36 adjusted to int(2 * 36 / 3) = 24."""
    g = torch.Generator().manual_seed(seed)
    V, D, H, KV, hd, K, I = 32, 16, 4, 2, 4, 3, 24
    types = ["conv", "full_attention", "conv"]
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embed_tokens.weight": torch.randn(V, D, generator=g)}
    for i, t in enumerate(types):
        b = f"model.layers.{i}."
        sd[b + "operator_norm.weight"] = 1 + r(D)
        if t == "conv":
            sd[b + "conv.in_proj.weight"] = r(3 * D, D) * 2
            sd[b + "conv.conv.weight"] = r(D, 1, K) * 2
            sd[b + "conv.out_proj.weight"] = r(D, D)
        else:
            sd[b + "self_attn.q_proj.weight"] = r(H * hd, D) * 2
            sd[b + "self_attn.k_proj.weight"] = r(KV * hd, D) * 2
            sd[b + "self_attn.v_proj.weight"] = r(KV * hd, D)
            sd[b + "self_attn.out_proj.weight"] = r(D, H * hd)
            sd[b + "self_attn.q_layernorm.weight"] = 1 + r(hd)
            sd[b + "self_attn.k_layernorm.weight"] = 1 + r(hd)
        sd[b + "ffn_norm.weight"] = 1 + r(D)
        sd[b + "feed_forward.w1.weight"] = r(I, D)
        sd[b + "feed_forward.w3.weight"] = r(I, D)
        sd[b + "feed_forward.w2.weight"] = r(D, I)
    sd["model.embedding_norm.weight"] = 1 + r(D)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    cfg = {"model_type": "lfm2", "vocab_size": V, "hidden_size": D, "num_hidden_layers": len(types),
           "num_attention_heads": H, "num_key_value_heads": KV, "max_position_embeddings": 128, "norm_eps": 1e-5,
           "conv_bias": False, "conv_L_cache": K, "intermediate_size": 36, "block_auto_adjust_ff_dim": True,
           "block_ffn_dim_multiplier": None, "block_multiple_of": 256, "layer_types": types,
           "rope_theta": 1000.0, "tie_embedding": True}
    save(folder, cfg, sd)


def expected_lfm2(folder="lfm2_torch"):
    """Lfm2DecoderLayer in float64: operator_norm, then Lfm2ShortConv (y = C * conv1d(B * x),
    HF's nn.Conv1d with padding K - 1, first L outputs) or Lfm2Attention (per-head RMSNorm of q
    and k, RoPE by pairs, GQA, softmax formed query by query); residual; ffn_norm and the SwiGLU
    MLP. The conv operator per channel d from its definition, entry by entry:
      T[d, r, c] = C_r[d] w[d, K - 1 - (r - c)] B_c[d] for 0 <= r - c < K."""
    sd, cfg = load_fixture(folder)
    D, H, KV, K, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], \
        cfg["conv_L_cache"], cfg["norm_eps"]
    hd = D // H
    L = len(TOKENS)
    F = torch.nn.functional
    rms = lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w
    h = sd["model.embed_tokens.weight"][torch.tensor(TOKENS)]
    out = {}
    for i, t in enumerate(cfg["layer_types"]):
        out[f"hidden_state.{i}"] = h
        b = f"model.layers.{i}."
        x = rms(h, sd[b + "operator_norm.weight"])
        out[f"mixer_input.{i}"] = x
        if t == "conv":
            Bm, Cm, xm = (x @ sd[b + "conv.in_proj.weight"].T).T.chunk(3, dim=0)  # [D, L] each
            w = sd[b + "conv.conv.weight"]
            y = F.conv1d((Bm * xm)[None], w, padding=K - 1, groups=D)[0, :, :L]
            y_ssm = y  # the convolution's own output, before the output gate C
            y = Cm * y  # [D, L]
            T = torch.zeros(D, L, L, dtype=torch.float64)
            for d in range(D):
                for rr in range(L):
                    for c in range(max(0, rr - K + 1), rr + 1):
                        T[d, rr, c] = Cm[d, rr] * w[d, 0, K - 1 - (rr - c)] * Bm[d, c]
            assert torch.allclose(torch.matmul(T, xm[:, :, None])[:, :, 0], y, rtol=0, atol=1e-12), "y != T x"
            out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = T, xm[:, :, None], y[:, :, None]
            # The SSM-only operator: Toeplitz(h) diag(B), without the output gate C.
            Ts = torch.zeros(D, L, L, dtype=torch.float64)
            for rr in range(L):
                for c in range(max(0, rr - K + 1), rr + 1):
                    Ts[:, rr, c] = w[:, 0, K - 1 - (rr - c)] * Bm[:, c]
            assert torch.allclose(torch.matmul(Ts, xm[:, :, None])[:, :, 0], y_ssm, rtol=0, atol=1e-12), "ssm y != T x"
            out[f"ssm_operator.{i}"], out[f"ssm_output.{i}"] = Ts, y_ssm[:, :, None]
            h = h + y.T @ sd[b + "conv.out_proj.weight"].T
        else:
            a = b + "self_attn."
            q = rms((x @ sd[a + "q_proj.weight"].T).reshape(L, H, hd), sd[a + "q_layernorm.weight"]).transpose(0, 1)
            k = rms((x @ sd[a + "k_proj.weight"].T).reshape(L, KV, hd), sd[a + "k_layernorm.weight"]).transpose(0, 1)
            v = (x @ sd[a + "v_proj.weight"].T).reshape(L, KV, hd).transpose(0, 1)
            q, k = rope_by_pairs(q, hd, cfg["rope_theta"]), rope_by_pairs(k, hd, cfg["rope_theta"])
            kv = torch.arange(H) // (H // KV)
            P, o = attention_loop(q, k[kv], v[kv], hd ** -0.5)
            out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = P, v[kv], o
            h = h + o.transpose(0, 1).reshape(L, H * hd) @ sd[a + "out_proj.weight"].T
        m = rms(h, sd[b + "ffn_norm.weight"])
        h = h + (F.silu(m @ sd[b + "feed_forward.w1.weight"].T) * (m @ sd[b + "feed_forward.w3.weight"].T)) @ sd[
            b + "feed_forward.w2.weight"].T
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)


def jamba(folder="jamba_torch", seed=19, dtype=torch.float32):
    """JambaForCausalLM layout ("model." prefix, untied lm_head): 4 layers, attention on the odd
    ones (attn_layer_period 2, offset 1), MoE feed-forwards (4 experts, top 2) on the even ones
    (expert_layer_period 2, offset 0); d_model 16, E = 32 inner channels, N = 4, d_conv 4, dt
    rank 2; 4 query heads on 2 key/value heads of head_dim 4; MLP width 24."""
    g = torch.Generator().manual_seed(seed)
    V, D, E, N, K, R, H, KV, I, X, Lyr = 32, 16, 32, 4, 4, 2, 4, 2, 24, 4, 4
    hd = D // H
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embed_tokens.weight": torch.randn(V, D, generator=g)}
    for i in range(Lyr):
        b = f"model.layers.{i}."
        sd[b + "input_layernorm.weight"] = 1 + r(D)
        if i % 2 == 1:
            sd[b + "self_attn.q_proj.weight"] = r(H * hd, D) * 2
            sd[b + "self_attn.k_proj.weight"] = r(KV * hd, D) * 2
            sd[b + "self_attn.v_proj.weight"] = r(KV * hd, D)
            sd[b + "self_attn.o_proj.weight"] = r(D, H * hd)
        else:
            m = b + "mamba."
            sd[m + "in_proj.weight"] = r(2 * E, D)
            sd[m + "conv1d.weight"] = r(E, 1, K) * 2
            sd[m + "conv1d.bias"] = r(E) / 3
            sd[m + "x_proj.weight"] = r(R + 2 * N, E)
            sd[m + "dt_proj.weight"] = r(E, R) / 4
            dt = torch.exp(torch.rand(E, generator=g) * (math.log(0.2) - math.log(0.03)) + math.log(0.03))
            sd[m + "dt_proj.bias"] = dt + torch.log(-torch.expm1(-dt))
            sd[m + "A_log"] = torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(E, 1) + r(E, N) / 3
            sd[m + "D"] = 1 + r(E)
            sd[m + "out_proj.weight"] = r(D, E)
            sd[m + "dt_layernorm.weight"] = 1 + r(R) / 3
            sd[m + "b_layernorm.weight"] = 1 + r(N)
            sd[m + "c_layernorm.weight"] = 1 + r(N)
        sd[b + "pre_ff_layernorm.weight"] = 1 + r(D)
        ffs = [f"feed_forward.experts.{e}." for e in range(X)] if i % 2 == 0 else ["feed_forward."]
        if i % 2 == 0:
            sd[b + "feed_forward.router.weight"] = r(X, D) * 3
        for p in ffs:
            sd[b + p + "gate_proj.weight"] = r(I, D)
            sd[b + p + "up_proj.weight"] = r(I, D)
            sd[b + p + "down_proj.weight"] = r(D, I)
    sd["model.final_layernorm.weight"] = 1 + r(D)
    sd["lm_head.weight"] = r(V, D)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    cfg = {"model_type": "jamba", "vocab_size": V, "hidden_size": D, "intermediate_size": I,
           "num_hidden_layers": Lyr, "num_attention_heads": H, "num_key_value_heads": KV, "hidden_act": "silu",
           "rms_norm_eps": 1e-6, "sliding_window": None, "max_position_embeddings": 262144,
           "num_experts_per_tok": 2, "num_experts": X, "expert_layer_period": 2, "expert_layer_offset": 0,
           "attn_layer_period": 2, "attn_layer_offset": 1, "use_mamba_kernels": False, "mamba_d_state": N,
           "mamba_d_conv": K, "mamba_expand": E // D, "mamba_dt_rank": R, "mamba_conv_bias": True,
           "mamba_proj_bias": False, "tie_word_embeddings": False}
    save(folder, cfg, sd)


def expected_jamba(folder="jamba_torch"):
    """JambaAttentionDecoderLayer / JambaMambaDecoderLayer in float64: input_layernorm, the mixer
    (attention: GQA without positional encoding, softmax formed query by query; mamba:
    JambaMambaMixer.slow_forward with dt_layernorm, b_layernorm, c_layernorm on the x_proj
    outputs, the scan step by step), residual; pre_ff_layernorm and the SwiGLU MLP, or on MoE
    layers JambaSparseMoeBlock token by token (softmax router, the top-2 experts weighted by
    their probabilities), residual. The mamba operator per inner channel entry by entry:
      T[e, r, c] = silu(z_r[e]) (sum_n C_r[n] prod_{t=c+1..r} exp(dt_t[e] A[e, n]) dt_c[e] B_c[n] + [r == c] D[e])."""
    sd, cfg = load_fixture(folder)
    D, H, KV, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["rms_norm_eps"]
    E, N, R, K = cfg["mamba_expand"] * D, cfg["mamba_d_state"], cfg["mamba_dt_rank"], cfg["mamba_d_conv"]
    X, top = cfg["num_experts"], cfg["num_experts_per_tok"]
    hd = D // H
    L = len(TOKENS)
    F = torch.nn.functional
    rms = lambda x, w: w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
    swiglu = lambda x, p: (F.silu(x @ sd[p + "gate_proj.weight"].T) * (x @ sd[p + "up_proj.weight"].T)) @ sd[
        p + "down_proj.weight"].T
    h = sd["model.embed_tokens.weight"][torch.tensor(TOKENS)]
    out = {}
    routed = set()
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"model.layers.{i}."
        x = rms(h, sd[b + "input_layernorm.weight"])
        out[f"mixer_input.{i}"] = x
        if i % cfg["attn_layer_period"] == cfg["attn_layer_offset"]:
            a = b + "self_attn."
            q = (x @ sd[a + "q_proj.weight"].T).reshape(L, H, hd).transpose(0, 1)
            k = (x @ sd[a + "k_proj.weight"].T).reshape(L, KV, hd).transpose(0, 1)
            v = (x @ sd[a + "v_proj.weight"].T).reshape(L, KV, hd).transpose(0, 1)
            kv = torch.arange(H) // (H // KV)
            P, o = attention_loop(q, k[kv], v[kv], hd ** -0.5)
            out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = P, v[kv], o
            h = h + o.transpose(0, 1).reshape(L, H * hd) @ sd[a + "o_proj.weight"].T
        else:
            m = b + "mamba."
            xz = (x @ sd[m + "in_proj.weight"].T).T  # [2E, L]
            xin, z = xz[:E], xz[E:]
            u = F.silu(F.conv1d(xin[None], sd[m + "conv1d.weight"], sd[m + "conv1d.bias"], padding=K - 1,
                                groups=E)[0, :, :L])  # [E, L]
            dt_low, Bm, Cm = torch.split(u.T @ sd[m + "x_proj.weight"].T, [R, N, N], dim=-1)
            dt_low = rms(dt_low, sd[m + "dt_layernorm.weight"])
            Bm, Cm = rms(Bm, sd[m + "b_layernorm.weight"]), rms(Cm, sd[m + "c_layernorm.weight"])
            dt = F.softplus(dt_low @ sd[m + "dt_proj.weight"].T + sd[m + "dt_proj.bias"]).T  # [E, L]
            A = -torch.exp(sd[m + "A_log"])
            assert 0.005 < dt.min() and dt.max() < 0.8, (dt.min(), dt.max())
            state = torch.zeros(E, N, dtype=torch.float64)
            ys = []
            for t in range(L):
                state = torch.exp(dt[:, t, None] * A) * state + dt[:, t, None] * Bm[t][None] * u[:, t, None]
                ys.append(state @ Cm[t])
            y = (torch.stack(ys, 1) + u * sd[m + "D"][:, None]) * F.silu(z)  # [E, L]
            T = torch.zeros(E, L, L, dtype=torch.float64)
            Ts = torch.zeros(E, L, L, dtype=torch.float64)  # the SSM-only operator: no D skip, no gate
            for rr in range(L):
                for c in range(rr + 1):
                    decay = torch.exp(dt[:, c + 1: rr + 1, None] * A[:, None, :]).prod(1)  # [E, N]
                    T[:, rr, c] = (decay * Cm[rr][None] * Bm[c][None]).sum(-1) * dt[:, c]
                    Ts[:, rr, c] = (decay * Cm[rr][None] * Bm[c][None]).sum(-1) * dt[:, c]
                T[:, rr, rr] += sd[m + "D"]
                T[:, rr, :] *= F.silu(z[:, rr])[:, None]
            assert torch.allclose(torch.matmul(T, u[:, :, None])[:, :, 0], y, rtol=0, atol=1e-12), "y != T u"
            out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = T, u[:, :, None], y[:, :, None]
            ys_ssm = torch.stack(ys, 1)  # the scan before + D u and * silu(z)
            assert torch.allclose(torch.matmul(Ts, u[:, :, None])[:, :, 0], ys_ssm, rtol=0, atol=1e-12), "ssm y != T u"
            out[f"ssm_operator.{i}"], out[f"ssm_output.{i}"] = Ts, ys_ssm[:, :, None]
            h = h + y.T @ sd[m + "out_proj.weight"].T
        f = rms(h, sd[b + "pre_ff_layernorm.weight"])
        if X > 1 and i % cfg["expert_layer_period"] == cfg["expert_layer_offset"]:
            ff = torch.zeros_like(f)
            for t in range(L):
                p = torch.softmax(f[t] @ sd[b + "feed_forward.router.weight"].T, -1)
                w, sel = torch.topk(p, top)
                for wj, e in zip(w, sel.tolist()):
                    routed.add(e)
                    ff[t] += wj * swiglu(f[t][None], b + f"feed_forward.experts.{e}.")[0]
            h = h + ff
        else:
            h = h + swiglu(f, b + "feed_forward.")
    assert len(routed) > 2, routed  # the routing picks different experts for different tokens
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)


def recurrent_gemma(folder="recurrent_gemma_torch", seed=20, dtype=torch.bfloat16):
    """RecurrentGemmaForCausalLM layout ("model." prefix, tied lm_head): 4 layers of block_types
    [recurrent, recurrent, attention] cycled; d_model 16, lru_width 24 in 4 gate blocks of 6,
    conv1d_width 4; 4 query heads on 2 key/value heads of head_dim 4, attention_window_size 5;
    MLP width intermediate_size / 2 = 20."""
    g = torch.Generator().manual_seed(seed)
    V, D, W, H, KV, K, I, Lyr = 32, 16, 24, 4, 2, 4, 40, 4
    hd, bw = D // H, W // H
    types = ["recurrent", "recurrent", "attention"]
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embed_tokens.weight": torch.randn(V, D, generator=g) / 4}
    for i in range(Lyr):
        b = f"model.layers.{i}."
        t = b + "temporal_block."
        sd[b + "temporal_pre_norm.weight"] = r(D)
        if types[i % 3] == "attention":
            sd[t + "q_proj.weight"] = r(H * hd, D) * 2
            sd[t + "k_proj.weight"] = r(KV * hd, D) * 2
            sd[t + "v_proj.weight"] = r(KV * hd, D)
            sd[t + "o_proj.weight"], sd[t + "o_proj.bias"] = r(D, H * hd), r(D)
        else:
            for n, o, k in (("linear_y", W, D), ("linear_x", W, D), ("linear_out", D, W)):
                sd[t + n + ".weight"], sd[t + n + ".bias"] = r(o, k), r(o) / 3
            sd[t + "conv_1d.weight"], sd[t + "conv_1d.bias"] = r(W, 1, K) * 2, r(W) / 3
            # softplus(recurrent_param) so that a^8 ... : a = exp(-8 g softplus(p)) in about [0.5, 1).
            sd[t + "rg_lru.recurrent_param"] = torch.log(torch.expm1(torch.rand(W, generator=g) * 0.08 + 0.01))
            sd[t + "rg_lru.input_gate_weight"], sd[t + "rg_lru.input_gate_bias"] = r(H, bw, bw) * 2, r(H, bw)
            sd[t + "rg_lru.recurrent_gate_weight"], sd[t + "rg_lru.recurrent_gate_bias"] = r(H, bw, bw) * 2, r(H, bw)
        sd[b + "channel_pre_norm.weight"] = r(D)
        for n, o, k in (("gate_proj", I // 2, D), ("up_proj", I // 2, D), ("down_proj", D, I // 2)):
            sd[b + "mlp_block." + n + ".weight"], sd[b + "mlp_block." + n + ".bias"] = r(o, k), r(o) / 3
    sd["model.final_norm.weight"] = r(D)
    sd = {k: v.to(dtype) for k, v in sd.items()}
    sd["lm_head.weight"] = sd["model.embed_tokens.weight"]  # tied: one shared storage
    cfg = {"model_type": "recurrent_gemma", "vocab_size": V, "hidden_size": D, "intermediate_size": I,
           "num_hidden_layers": Lyr, "num_attention_heads": H, "num_key_value_heads": KV, "lru_width": W,
           "attention_window_size": 5, "conv1d_width": K, "logits_soft_cap": 30.0, "rms_norm_eps": 1e-6,
           "hidden_activation": "gelu_pytorch_tanh", "partial_rotary_factor": 0.5, "rope_theta": 10000.0,
           "block_types": types, "attention_bias": False, "tie_word_embeddings": True}
    save(folder, cfg, sd)


def expected_recurrent_gemma(folder="recurrent_gemma_torch"):
    """RecurrentGemmaDecoderLayer in float64: embeddings times bf16(sqrt(d_model)), (1 + w)
    RMSNorms; the recurrent block (y = gelu_tanh(linear_y x), u = conv_1d(linear_x x), the
    RG-LRU gates per head block, a = exp(-8 g softplus(p)), x' = u i sqrt(1 - a^2) with the reset
    at position 0, h_t = a_t h_{t-1} + x'_t step by step, out = linear_out(h y)) or local
    attention (RoPE by pairs on the first half of each head, GQA, keys r - c < window, formed
    query by query); the MLP with biases. The RG-LRU operator per channel entry by entry:
      T[w, r, c] = y_r[w] prod_{t=c+1..r} a_t[w] sqrt(1 - a_c[w]^2) i_c[w]  (factor 1 at c = 0)."""
    sd, cfg = load_fixture(folder)
    D, H, KV, eps, W = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], \
        cfg["rms_norm_eps"], cfg["lru_width"]
    hd, bw, K, win = D // H, W // H, cfg["conv1d_width"], cfg["attention_window_size"]
    L = len(TOKENS)
    F = torch.nn.functional
    rms = lambda x, w: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1 + w)
    act = lambda x: F.gelu(x, approximate="tanh")
    normalizer = torch.tensor(D ** 0.5, dtype=torch.bfloat16).double()
    h = sd["model.embed_tokens.weight"][torch.tensor(TOKENS)] * normalizer
    out = {}
    for i in range(cfg["num_hidden_layers"]):
        out[f"hidden_state.{i}"] = h
        b = f"model.layers.{i}."
        t = b + "temporal_block."
        x = rms(h, sd[b + "temporal_pre_norm.weight"])
        out[f"mixer_input.{i}"] = x
        if cfg["block_types"][i % len(cfg["block_types"])] == "attention":
            q = (x @ sd[t + "q_proj.weight"].T).reshape(L, H, hd).transpose(0, 1)
            k = (x @ sd[t + "k_proj.weight"].T).reshape(L, KV, hd).transpose(0, 1)
            v = (x @ sd[t + "v_proj.weight"].T).reshape(L, KV, hd).transpose(0, 1)
            q, k = rope_by_pairs(q, hd // 2, cfg["rope_theta"]), rope_by_pairs(k, hd // 2, cfg["rope_theta"])
            kv = torch.arange(H) // (H // KV)
            P, o = attention_loop(q, k[kv], v[kv], hd ** -0.5, window=win)
            out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = P, v[kv], o
            h = h + o.transpose(0, 1).reshape(L, H * hd) @ sd[t + "o_proj.weight"].T + sd[t + "o_proj.bias"]
        else:
            lin = lambda z, n: z @ sd[t + n + ".weight"].T + sd[t + n + ".bias"]
            y = act(lin(x, "linear_y")).T  # [W, L]
            u = F.conv1d(lin(x, "linear_x").T[None], sd[t + "conv_1d.weight"], sd[t + "conv_1d.bias"],
                         padding=K - 1, groups=W)[0, :, :L]  # [W, L]
            ig = torch.zeros(W, L, dtype=torch.float64)
            rg = torch.zeros(W, L, dtype=torch.float64)
            for hh in range(H):  # gate block hh: channels hh*bw .. (hh+1)*bw - 1
                blk = slice(hh * bw, (hh + 1) * bw)
                ig[blk] = torch.sigmoid(u[blk].T @ sd[t + "rg_lru.input_gate_weight"][hh] +
                                        sd[t + "rg_lru.input_gate_bias"][hh]).T
                rg[blk] = torch.sigmoid(u[blk].T @ sd[t + "rg_lru.recurrent_gate_weight"][hh] +
                                        sd[t + "rg_lru.recurrent_gate_bias"][hh]).T
            a = torch.exp(-8.0 * rg * F.softplus(sd[t + "rg_lru.recurrent_param"])[:, None])
            assert 0.3 < a.min() and a.max() < 1, (a.min(), a.max())
            mult = torch.sqrt(1 - a * a)
            mult[:, 0] = 1.0
            xn = u * ig * mult
            state = torch.zeros(W, dtype=torch.float64)
            hs = []
            for tt in range(L):
                state = (a[:, tt] if tt > 0 else 0) * state + xn[:, tt]
                hs.append(state)
            yout = torch.stack(hs, 1) * y  # [W, L]
            T = torch.zeros(W, L, L, dtype=torch.float64)
            Ts = torch.zeros(W, L, L, dtype=torch.float64)  # the SSM-only operator: no output gate y
            for rr in range(L):
                for c in range(rr + 1):
                    T[:, rr, c] = y[:, rr] * a[:, c + 1: rr + 1].prod(1) * mult[:, c] * ig[:, c]
                    Ts[:, rr, c] = a[:, c + 1: rr + 1].prod(1) * mult[:, c] * ig[:, c]
            assert torch.allclose(torch.matmul(T, u[:, :, None])[:, :, 0], yout, rtol=0, atol=1e-12), "y != T u"
            out[f"operator.{i}"], out[f"values.{i}"], out[f"mixer_output.{i}"] = T, u[:, :, None], yout[:, :, None]
            hs_ssm = torch.stack(hs, 1)  # the RG-LRU's own output h
            assert torch.allclose(torch.matmul(Ts, u[:, :, None])[:, :, 0], hs_ssm, rtol=0, atol=1e-12), "ssm h != T u"
            out[f"ssm_operator.{i}"], out[f"ssm_output.{i}"] = Ts, hs_ssm[:, :, None]
            h = h + lin(yout.T, "linear_out")
        m = rms(h, sd[b + "channel_pre_norm.weight"])
        mp = b + "mlp_block."
        gate = act(m @ sd[mp + "gate_proj.weight"].T + sd[mp + "gate_proj.bias"])
        h = h + (gate * (m @ sd[mp + "up_proj.weight"].T + sd[mp + "up_proj.bias"])) @ sd[mp + "down_proj.weight"].T \
            + sd[mp + "down_proj.bias"]
    out[f"hidden_state.{cfg['num_hidden_layers']}"] = h
    save_expected(folder, out)


FIXTURES = {
    "gpt2": (gpt2, expected_gpt2),
    "qwen2": (qwen2, expected_qwen2),
    "mamba": (mamba, expected_mamba),
    "falcon_mamba": (lambda: mamba("falcon_mamba_torch", 8, torch.bfloat16, 1e-6),
                     lambda: expected_mamba("falcon_mamba_torch")),
    # Pythia: parallel residual, a quarter of each head rotated, float16.
    "gpt_neox": (lambda: gpt_neox("gpt_neox_torch", 4, True, 0.25, 10000.0, torch.float16, False),
                 lambda: expected_gpt_neox("gpt_neox_torch")),
    # Sequential residual, half of each head rotated with base 500, transformers 5's rope_parameters.
    "gpt_neox_seq": (lambda: gpt_neox("gpt_neox_seq_torch", 5, False, 0.5, 500.0, torch.float32, True),
                     lambda: expected_gpt_neox("gpt_neox_seq_torch")),
    # Phi-2: half of each head rotated, bfloat16.
    "phi": (lambda: phi("phi_torch", 6, 2, 2, 0.5, False, torch.bfloat16), lambda: expected_phi("phi_torch")),
    # q/k LayerNorm per head, 4 query heads on 2 key/value heads.
    "phi_qk": (lambda: phi("phi_qk_torch", 7, 4, 2, 0.5, True, torch.float32), lambda: expected_phi("phi_qk_torch")),
    # Qwen3: q/k RMSNorm per head, head_dim 8 with 4 heads on d_model 16, bfloat16.
    "qwen3": (lambda: llama_variant("qwen3_torch", "qwen3", 9, 4, 2, 8, torch.bfloat16, {"use_sliding_window": False}),
              lambda: expected_llama_variant("qwen3_torch")),
    # Phi-3 / Phi-4-mini: fused qkv_proj and gate_up_proj, 6 of 8 dims rotated, sliding window 5.
    "phi3": (lambda: llama_variant("phi3_torch", "phi3", 10, 2, 1, 8, torch.float32,
                                   {"partial_rotary_factor": 0.75, "sliding_window": 5, "rope_scaling": None,
                                    "tie_word_embeddings": False}),
             lambda: expected_llama_variant("phi3_torch")),
    # Gemma 2: soft-capped logits (cap 2), query_pre_attn_scalar 16 != head_dim, window 4 on
    # layers 0 and 2, float32.
    "gemma2": (lambda: gemma2("gemma2_torch", 11, torch.float32), lambda: expected_gemma2("gemma2_torch")),
    # Gemma 3 text (1B layout): q/k norms, layers 0, 1 sliding with RoPE base 10, layer 2 global
    # with base 1e6 and linear scaling 8, bfloat16.
    "gemma3_text": (lambda: gemma2("gemma3_text_torch", 12, torch.bfloat16, gemma3=True),
                    lambda: expected_gemma2("gemma3_text_torch")),
    # Mamba-2: 4 heads on 2 groups, dt clamped at 0.12 (time_step_limit), float32.
    "mamba2": (mamba2, expected_mamba2),
    # flash-linear-attention GLA: 4 heads on 2 key/value heads, short convolutions, float32.
    "gla": (lambda: fla_linear("gla_torch", "gla", 14, torch.float32), lambda: expected_fla_linear("gla_torch")),
    # GLA's non-default options: no output gate (ungated g_norm), no short convolutions, relu feature map.
    "gla_plain": (lambda: fla_linear("gla_plain_torch", "gla", 21, torch.float32, plain=True),
                  lambda: expected_fla_linear("gla_plain_torch")),
    # flash-linear-attention RetNet: RoPE on q and k, fixed decay per head, d_v = 2 d_k, bfloat16.
    "retnet": (lambda: fla_linear("retnet_torch", "retnet", 15, torch.bfloat16),
               lambda: expected_fla_linear("retnet_torch")),
    # flash-linear-attention DeltaNet: the delta rule, short convolutions, L2-normalized q, k, float32.
    "delta_net": (lambda: fla_delta("delta_net_torch", "delta_net", 16, torch.float32),
                  lambda: expected_fla_delta("delta_net_torch")),
    # RetNet's non-default options: 4 heads on 2 key/value heads, fuse_norm false with silu (g_norm
    # then the gate), no norm weight (elementwise_affine false), the sigmoid feature map, float32.
    "retnet_options": (lambda: fla_linear("retnet_options_torch", "retnet", 23, torch.float32, options=True),
                       lambda: expected_fla_linear("retnet_options_torch")),
    # DeltaNet without beta (use_beta false), elu + 1 and sum-normalized q and k, no short
    # convolutions, the gated o_norm (use_gate), float32.
    "delta_net_sum": (lambda: fla_delta("delta_net_sum_torch", "delta_net", 24, torch.float32, conv=False,
                                        options={"use_beta": False, "qk_activation": "elu", "qk_norm": "sum",
                                                 "use_gate": True}),
                      lambda: expected_fla_delta("delta_net_sum_torch")),
    # DeltaNet with relu q and k (short convolutions without SiLU on them), L2-normalized, float32.
    "delta_net_relu": (lambda: fla_delta("delta_net_relu_torch", "delta_net", 25, torch.float32,
                                         options={"qk_activation": "relu"}),
                       lambda: expected_fla_delta("delta_net_relu_torch")),
    # Gated DeltaNet: decay per value head, 4 value heads on 2 query/key heads, output gate, bfloat16.
    "gated_deltanet": (lambda: fla_delta("gated_deltanet_torch", "gated_deltanet", 17, torch.bfloat16),
                       lambda: expected_fla_delta("gated_deltanet_torch")),
    # Gated DeltaNet without its short convolutions (use_short_conv false: SiLU'd projections), float32.
    "gated_deltanet_noconv": (lambda: fla_delta("gated_deltanet_noconv_torch", "gated_deltanet", 22, torch.float32,
                                                conv=False),
                              lambda: expected_fla_delta("gated_deltanet_noconv_torch")),
    # LFM2 hybrid: conv, attention, conv layers (layer_types), q/k norms, GQA, float32.
    "lfm2": (lfm2, expected_lfm2),
    # Jamba hybrid: mamba and attention layers alternating, MoE (4 experts, top 2) on the mamba
    # layers, weighted RMSNorms of dt, B and C, float32.
    "jamba": (jamba, expected_jamba),
    # RecurrentGemma hybrid: RG-LRU and local attention layers (block_types), lru_width != d_model,
    # window 5 < L, bfloat16.
    "recurrent_gemma": (recurrent_gemma, expected_recurrent_gemma),
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Writes the PyTorch-made HF fixtures (all unless named).")
    ap.add_argument("names", nargs="*", metavar="NAME", help=", ".join(FIXTURES) + " (default: all)")
    ap.add_argument("--expected-only", action="store_true",
                    help="rewrite expected.pt only, from the weights already saved")
    args = ap.parse_args()
    names = args.names or list(FIXTURES)
    for n in names:
        if n not in FIXTURES:
            ap.error(f"unknown fixture {n!r} (known: {', '.join(FIXTURES)})")
    torch.manual_seed(0)
    for n in names:  # weights first: expected.pt is computed from the file as saved
        if not args.expected_only:
            FIXTURES[n][0]()
        FIXTURES[n][1]()
