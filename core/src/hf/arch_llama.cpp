// The Llama block (Touvron et al. 2023, HF LlamaModel), for model_type llama, mistral and qwen2:
// RMSNorm, rotary positions (hf_layers.h), grouped-query attention (query head h reads key/value
// head h / (H / H_kv)), SwiGLU MLP down(silu(gate(x)) * up(x)); q/k/v biases for qwen2 and where
// `attention_bias` is true; mistral's `sliding_window` masks keys older than w - 1.
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
  c.normEps = f.number("rms_norm_eps", 1e-6);
  c.activation = f.text("hidden_act", "silu");
  checkActivation(f, "hidden_act", c.activation);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
  if (f.get("head_dim")) {
    c.headDim = f.integer("head_dim");
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
  } else {
    c.qkvBias = c.oBias = f.boolean("attention_bias", false);
  }
  if (c.modelType == "llama") c.mlpBias = f.boolean("mlp_bias", false);
  if (c.modelType == "mistral") c.slidingWindow = f.integer("sliding_window", 0, 0);
  readRotary(f, c, "rope_theta", "", 1.0);
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
      need("self_attn.q_proj.weight", {Hd, D});
      need("self_attn.k_proj.weight", {KVd, D});
      need("self_attn.v_proj.weight", {KVd, D});
      need("self_attn.o_proj.weight", {D, Hd});
      if (c_.qkvBias) {
        need("self_attn.q_proj.bias", {Hd});
        need("self_attn.k_proj.bias", {KVd});
        need("self_attn.v_proj.bias", {KVd});
      }
      if (c_.oBias) need("self_attn.o_proj.bias", {D});
      need("post_attention_layernorm.weight", {D});
      need("mlp.gate_proj.weight", {I, D});
      need("mlp.up_proj.weight", {I, D});
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
    return w.stored("embed_tokens.weight").index_select(0, tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return rmsNorm(h, w.weight(layerTensor(layer, "input_layernorm.weight")), c_.normEps);
  }

  bool hasRotaryQueries() const override { return true; }

  std::pair<at::Tensor, at::Tensor> queriesKeys(const HfWeights& w, int layer, const at::Tensor& x) const override {
    const int64_t L = x.size(0), d = c_.headDim;
    auto proj = [&](const char* n, int heads) {
      at::Tensor y = linear(w, x, layer, std::string("self_attn.") + n, c_.qkvBias);
      return y.view({L, heads, d}).transpose(0, 1);  // [heads, L, d]
    };
    auto [cos, sin] = rotaryCosSin(c_, L);
    at::Tensor q = proj("q_proj", c_.numHeads), k = proj("k_proj", c_.numKvHeads);
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
    at::Tensor v =
        linear(w, x, layer, "self_attn.v_proj", c_.qkvBias).view({L, c_.numKvHeads, c_.headDim}).transpose(0, 1);
    v = v.repeat_interleave(c_.numHeads / c_.numKvHeads, 0);
    at::Tensor o = at::matmul(p, v).transpose(0, 1).reshape({L, int64_t(c_.numHeads) * c_.headDim});
    at::Tensor h1 = h + linear(w, o, layer, "self_attn.o_proj", c_.oBias);
    at::Tensor m = rmsNorm(h1, w.weight(layerTensor(layer, "post_attention_layernorm.weight")), c_.normEps);
    m = activate(linear(w, m, layer, "mlp.gate_proj", c_.mlpBias), c_.activation) *
        linear(w, m, layer, "mlp.up_proj", c_.mlpBias);
    return h1 + linear(w, m, layer, "mlp.down_proj", c_.mlpBias);
  }
};

std::unique_ptr<HfArchitecture> openLlama(const HfConfig& c, const std::string& path) {
  return std::make_unique<Llama>(c, path);
}

}  // namespace

const HfFamily kLlamaFamily = {&readLlamaConfig, &openLlama};

}  // namespace ess::hf
