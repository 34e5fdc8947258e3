// The Llama block (Touvron et al. 2023, HF LlamaModel), for model_type llama, mistral, qwen2,
// qwen3 and phi3: RMSNorm, rotary positions (hf_layers.h), grouped-query attention (query head h
// reads key/value head h / (H / H_kv)), SwiGLU MLP down(silu(gate(x)) * up(x)); q/k/v biases for
// qwen2 and where `attention_bias` is true; mistral's and phi3's `sliding_window` masks keys
// older than w - 1. Qwen3 (HF Qwen3Model) normalizes each query and key head with an RMSNorm
// (q_norm, k_norm, weights [head_dim]) before RoPE. Phi-3 (HF Phi3Model) fuses the projections:
// qkv_proj rows are [q (H * d); k (H_kv * d); v (H_kv * d)] and gate_up_proj rows [gate; up], and
// rotates the leading partial_rotary_factor of each head (Phi-4-mini: 0.75).
#include <ATen/ATen.h>

#include <cmath>

#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

using json = nlohmann::json;

void readLlamaConfig(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size");
  c.hiddenSize = f.integer("hidden_size");
  c.numHeads = f.integer("num_attention_heads");
  c.numKvHeads = f.integer("num_key_value_heads", c.numHeads);
  c.numLayers = f.integer("num_hidden_layers");
  c.intermediateSize = f.integer("intermediate_size");
  c.maxPositions = f.integer("max_position_embeddings");
  c.normEps = f.number("rms_norm_eps", c.modelType == "phi3" ? 1e-5 : 1e-6);
  c.activation = f.text("hidden_act", "silu");
  checkActivation(f, "hidden_act", c.activation);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
  if (f.get("head_dim") || c.modelType == "qwen3") {
    c.headDim = f.integer("head_dim", 128);  // Qwen3Config's default
  } else {
    if (c.hiddenSize % c.numHeads != 0)
      f.fail("hidden_size", "(" + std::to_string(c.hiddenSize) + ") is not divisible by num_attention_heads (" +
                                std::to_string(c.numHeads) + ")");
    c.headDim = c.hiddenSize / c.numHeads;
  }
  if (c.headDim % 2 != 0) f.fail("head_dim", "must be even for rotary positions, got " + std::to_string(c.headDim));
  if (c.numHeads % c.numKvHeads != 0)
    f.fail("num_key_value_heads", "(" + std::to_string(c.numKvHeads) + ") must divide num_attention_heads (" +
                                      std::to_string(c.numHeads) + ")");
  if (c.modelType == "qwen2") {
    c.qkvBias = true;
    if (f.boolean("use_sliding_window", false))
      f.fail("use_sliding_window", "is true; Qwen2 sliding-window layers are not supported");
  } else if (c.modelType == "phi3") {
    c.fusedProjections = true;  // Phi3Attention and Phi3MLP have no biases
    c.slidingWindow = f.integer("sliding_window", 0, 0);
  } else {
    c.qkvBias = c.oBias = f.boolean("attention_bias", false);
  }
  if (c.modelType == "llama") c.mlpBias = f.boolean("mlp_bias", false);
  if (c.modelType == "mistral") c.slidingWindow = f.integer("sliding_window", 0, 0);
  if (c.modelType == "qwen3") {
    c.qkNorm = true;
    if (f.boolean("use_sliding_window", false))
      f.fail("use_sliding_window", "is true; Qwen3 sliding-window layers are not supported");
  }
  readRotary(f, c, "rope_theta", c.modelType == "phi3" ? "partial_rotary_factor" : "", 1.0);
}

class Llama : public AttentionArchitecture {
 public:
  Llama(const HfConfig& c, const std::string& path)
      : AttentionArchitecture(c, path, {"model.", "layers.", "embed_tokens.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, I = c_.intermediateSize;
    const int64_t Hd = int64_t(c_.numHeads) * c_.headDim, KVd = int64_t(c_.numKvHeads) * c_.headDim;
    std::vector<ExpectedTensor> t = {{"embed_tokens.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const char* n, std::vector<int64_t> s) { t.push_back({layerTensor(i, n), std::move(s)}); };
      need("input_layernorm.weight", {D});
      if (c_.fusedProjections) {
        need("self_attn.qkv_proj.weight", {Hd + 2 * KVd, D});
      } else {
        need("self_attn.q_proj.weight", {Hd, D});
        need("self_attn.k_proj.weight", {KVd, D});
        need("self_attn.v_proj.weight", {KVd, D});
      }
      if (c_.qkNorm) {
        need("self_attn.q_norm.weight", {c_.headDim});
        need("self_attn.k_norm.weight", {c_.headDim});
      }
      need("self_attn.o_proj.weight", {D, Hd});
      if (c_.qkvBias) {
        need("self_attn.q_proj.bias", {Hd});
        need("self_attn.k_proj.bias", {KVd});
        need("self_attn.v_proj.bias", {KVd});
      }
      if (c_.oBias) need("self_attn.o_proj.bias", {D});
      need("post_attention_layernorm.weight", {D});
      if (c_.fusedProjections) {
        need("mlp.gate_up_proj.weight", {2 * I, D});
      } else {
        need("mlp.gate_proj.weight", {I, D});
        need("mlp.up_proj.weight", {I, D});
      }
      need("mlp.down_proj.weight", {D, I});
      if (c_.mlpBias) {
        need("mlp.gate_proj.bias", {I});
        need("mlp.up_proj.bias", {I});
        need("mlp.down_proj.bias", {D});
      }
    }
    t.push_back({"norm.weight", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embed_tokens.weight", tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return rmsNorm(h, w.weight(layerTensor(layer, "input_layernorm.weight")), c_.normEps);
  }

  bool hasRotaryQueries() const override { return true; }

  std::pair<at::Tensor, at::Tensor> queriesKeys(const HfWeights& w, int layer, const at::Tensor& x) const override {
    auto [cos, sin] = rotaryCosSin(c_, x.size(0));
    at::Tensor q = projection(w, layer, x, 0), k = projection(w, layer, x, 1);
    if (c_.qkNorm) {  // qwen3: per head, before RoPE
      q = rmsNorm(q, w.weight(layerTensor(layer, "self_attn.q_norm.weight")), c_.normEps);
      k = rmsNorm(k, w.weight(layerTensor(layer, "self_attn.k_norm.weight")), c_.normEps);
    }
    return {applyRotary(q, cos, sin), applyRotary(k, cos, sin)};
  }

  at::Tensor attentionProbabilities(const HfWeights& w, int layer, const at::Tensor& x) const override {
    auto [q, k] = queriesKeys(w, layer, x);
    // GQA (HF repeat_kv): query head h reads key/value head h / (H / H_kv).
    k = k.repeat_interleave(c_.numHeads / c_.numKvHeads, 0);
    return causalSoftmax(q, k, 1.0 / std::sqrt(double(c_.headDim)), c_.slidingWindow);
  }

  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const override {
    const int64_t L = h.size(0);
    at::Tensor x = rmsNorm(h, w.weight(layerTensor(layer, "input_layernorm.weight")), c_.normEps);
    at::Tensor p = attentionProbabilities(w, layer, x);
    at::Tensor v = projection(w, layer, x, 2).repeat_interleave(c_.numHeads / c_.numKvHeads, 0);
    at::Tensor o = at::matmul(p, v).transpose(0, 1).reshape({L, int64_t(c_.numHeads) * c_.headDim});
    at::Tensor h1 = h + linear(w, o, layer, "self_attn.o_proj", c_.oBias);
    at::Tensor m = rmsNorm(h1, w.weight(layerTensor(layer, "post_attention_layernorm.weight")), c_.normEps);
    if (c_.fusedProjections) {
      const at::Tensor gu = linear(w, m, layer, "mlp.gate_up_proj", false);
      m = activate(gu.narrow(1, 0, c_.intermediateSize), c_.activation) *
          gu.narrow(1, c_.intermediateSize, c_.intermediateSize);
    } else {
      m = activate(linear(w, m, layer, "mlp.gate_proj", c_.mlpBias), c_.activation) *
          linear(w, m, layer, "mlp.up_proj", c_.mlpBias);
    }
    return h1 + linear(w, m, layer, "mlp.down_proj", c_.mlpBias);
  }

 private:
  /// Queries (which 0), keys (1) or values (2) of block `layer` per head, [heads, L, d]: from
  /// q_proj, k_proj, v_proj, or the rows of phi3's fused qkv_proj.
  at::Tensor projection(const HfWeights& w, int layer, const at::Tensor& x, int which) const {
    const int64_t L = x.size(0), d = c_.headDim, Hd = int64_t(c_.numHeads) * d, KVd = int64_t(c_.numKvHeads) * d;
    const int heads = which == 0 ? c_.numHeads : c_.numKvHeads;
    at::Tensor y;
    if (c_.fusedProjections) {
      const at::Tensor qkv = linear(w, x, layer, "self_attn.qkv_proj", false);
      y = which == 0 ? qkv.narrow(1, 0, Hd) : qkv.narrow(1, Hd + (which - 1) * KVd, KVd);
    } else {
      static const char* const names[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"};
      y = linear(w, x, layer, names[which], c_.qkvBias);
    }
    return y.reshape({L, heads, d}).transpose(0, 1);
  }
};

std::unique_ptr<HfArchitecture> openLlama(const HfConfig& c, const std::string& path) {
  return std::make_unique<Llama>(c, path);
}

}  // namespace

const HfFamily kLlamaFamily = {&readLlamaConfig, &openLlama};

}  // namespace ess::hf
