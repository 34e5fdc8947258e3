# Writes the PyTorch-made Hugging Face fixtures of tests/core/test_hf_models.cpp with torch.save
# (transformers is not needed: the state dicts are built by hand with HF's tensor names).
#   gpt2_torch/    GPT2LMHeadModel layout ("transformer." prefix, tied lm_head), float32
#   qwen2_torch/   Qwen2ForCausalLM layout ("model." prefix), GQA 4 query / 2 KV heads,
#                  q/k/v biases, bfloat16 weights
# and expected.pt beside each: the mixer input of every layer and every layer's attention
# probabilities for fixed tokens, computed by PyTorch in float64 with HF's formulations.
# Run: /usr/bin/python3 tests/data/hf/make_fixtures.py   (from the repository root)
import json
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


def qwen2():
    g = torch.Generator().manual_seed(2)
    V, D, H, KV, hd, I, Lyr = 32, 16, 4, 2, 4, 24, 2
    r = lambda *s: torch.randn(*s, generator=g) * 0.3
    sd = {"model.embed_tokens.weight": r(V, D)}
    for i in range(Lyr):
        b = f"model.layers.{i}."
        sd[b + "input_layernorm.weight"] = 1 + r(D)
        sd[b + "self_attn.q_proj.weight"] = r(H * hd, D)
        sd[b + "self_attn.q_proj.bias"] = r(H * hd)
        sd[b + "self_attn.k_proj.weight"] = r(KV * hd, D)
        sd[b + "self_attn.k_proj.bias"] = r(KV * hd)
        sd[b + "self_attn.v_proj.weight"] = r(KV * hd, D)
        sd[b + "self_attn.v_proj.bias"] = r(KV * hd)
        sd[b + "self_attn.o_proj.weight"] = r(D, H * hd)
        sd[b + "post_attention_layernorm.weight"] = 1 + r(D)
        sd[b + "mlp.gate_proj.weight"] = r(I, D)
        sd[b + "mlp.up_proj.weight"] = r(I, D)
        sd[b + "mlp.down_proj.weight"] = r(D, I)
    sd["model.norm.weight"] = 1 + r(D)
    sd["lm_head.weight"] = r(V, D)
    sd = {k: v.to(torch.bfloat16) for k, v in sd.items()}
    cfg = {"model_type": "qwen2", "vocab_size": V, "hidden_size": D, "num_attention_heads": H,
           "num_key_value_heads": KV, "num_hidden_layers": Lyr, "intermediate_size": I,
           "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
           "tie_word_embeddings": False, "use_sliding_window": False, "hidden_act": "silu"}
    save("qwen2_torch", cfg, sd)


if __name__ == "__main__":
    torch.manual_seed(0)
    gpt2()
    qwen2()


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


if __name__ == "__main__":
    expected_gpt2()
    expected_qwen2()
