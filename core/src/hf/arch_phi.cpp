// Phi (Phi-1.5 and Phi-2, Li et al. 2023; HF PhiModel): one LayerNorm with bias per block
// (input_layernorm) feeding attention and MLP in parallel, h + dense(attn(x)) + fc2(act(fc1(x)));
// q/k/v projections and dense output with biases, optional LayerNorm of each query and key head
// (qk_layernorm), rotary positions on the leading partial_rotary_factor * head_dim dims, causal
// softmax scaled by 1/sqrt(head_dim), grouped-query heads as in Llama (num_key_value_heads),
// MLP activation gelu_new. Tensors under "model.", final norm final_layernorm, LM head with bias.
#include <ATen/ATen.h>

#include <cmath>

#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

void readPhiConfig(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size");
  c.hiddenSize = f.integer("hidden_size");
  c.numHeads = f.integer("num_attention_heads");
  c.numKvHeads = f.integer("num_key_value_heads", c.numHeads);
  c.numLayers = f.integer("num_hidden_layers");
  c.intermediateSize = f.integer("intermediate_size");
  c.maxPositions = f.integer("max_position_embeddings", 2048);
  c.normEps = f.number("layer_norm_eps", 1e-5);
  c.activation = f.text("hidden_act", "gelu_new");
  checkActivation(f, "hidden_act", c.activation);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
  c.qkLayerNorm = f.boolean("qk_layernorm", false);
  c.qkvBias = c.oBias = c.mlpBias = true;
  if (c.hiddenSize % c.numHeads != 0)
    f.fail("hidden_size", "(" + std::to_string(c.hiddenSize) + ") is not divisible by num_attention_heads (" +
                              std::to_string(c.numHeads) + ")");
  c.headDim = f.integer("head_dim", c.hiddenSize / c.numHeads);
  if (c.qkLayerNorm && c.headDim != c.hiddenSize / c.numHeads)
    f.fail("head_dim", "(" + std::to_string(c.headDim) +
                           ") must be hidden_size / num_attention_heads when qk_layernorm is true (HF's q/k "
                           "LayerNorm has that width)");
  if (c.numHeads % c.numKvHeads != 0)
    f.fail("num_key_value_heads", "(" + std::to_string(c.numKvHeads) + ") must divide num_attention_heads (" +
                                      std::to_string(c.numHeads) + ")");
  readRotary(f, c, "rope_theta", "partial_rotary_factor", 0.5);
}

class Phi : public AttentionArchitecture {
 public:
  Phi(const HfConfig& c, const std::string& path)
      : AttentionArchitecture(c, path, {"model.", "layers.", "embed_tokens.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, I = c_.intermediateSize, d = c_.headDim;
    const int64_t Hd = int64_t(c_.numHeads) * d, KVd = int64_t(c_.numKvHeads) * d;
    std::vector<ExpectedTensor> t = {{"embed_tokens.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const char* n, std::vector<int64_t> s) { t.push_back({layerTensor(i, n), std::move(s)}); };
      need("input_layernorm.weight", {D});
      need("input_layernorm.bias", {D});
      need("self_attn.q_proj.weight", {Hd, D});
      need("self_attn.q_proj.bias", {Hd});
      need("self_attn.k_proj.weight", {KVd, D});
      need("self_attn.k_proj.bias", {KVd});
      need("self_attn.v_proj.weight", {KVd, D});
      need("self_attn.v_proj.bias", {KVd});
      need("self_attn.dense.weight", {D, Hd});
      need("self_attn.dense.bias", {D});
      if (c_.qkLayerNorm) {
        need("self_attn.q_layernorm.weight", {d});
        need("self_attn.q_layernorm.bias", {d});
        need("self_attn.k_layernorm.weight", {d});
        need("self_attn.k_layernorm.bias", {d});
      }
      need("mlp.fc1.weight", {I, D});
      need("mlp.fc1.bias", {I});
      need("mlp.fc2.weight", {D, I});
      need("mlp.fc2.bias", {D});
    }
    t.push_back({"final_layernorm.weight", {D}});
    t.push_back({"final_layernorm.bias", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embed_tokens.weight", tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return layerNormOf(w, h, layer, "input_layernorm");
  }

  bool hasRotaryQueries() const override { return true; }

  std::pair<at::Tensor, at::Tensor> queriesKeys(const HfWeights& w, int layer, const at::Tensor& x) const override {
    at::Tensor q = headsOf(w, layer, x, "q_proj", c_.numHeads), k = headsOf(w, layer, x, "k_proj", c_.numKvHeads);
    if (c_.qkLayerNorm) {
      q = layerNormOf(w, q, layer, "self_attn.q_layernorm");
      k = layerNormOf(w, k, layer, "self_attn.k_layernorm");
    }
    auto [cos, sin] = rotaryCosSin(c_, x.size(0));
    return {applyRotary(q, cos, sin), applyRotary(k, cos, sin)};
  }

  at::Tensor attentionProbabilities(const HfWeights& w, int layer, const at::Tensor& x) const override {
    auto [q, k] = queriesKeys(w, layer, x);
    k = k.repeat_interleave(c_.numHeads / c_.numKvHeads, 0);  // GQA as HF's repeat_kv
    return causalSoftmax(q, k, 1.0 / std::sqrt(double(c_.headDim)), 0);
  }

  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const override {
    const int64_t L = h.size(0);
    at::Tensor x = layerNormOf(w, h, layer, "input_layernorm");
    at::Tensor v = headsOf(w, layer, x, "v_proj", c_.numKvHeads).repeat_interleave(c_.numHeads / c_.numKvHeads, 0);
    at::Tensor o = at::matmul(attentionProbabilities(w, layer, x), v)
                       .transpose(0, 1)
                       .reshape({L, int64_t(c_.numHeads) * c_.headDim});
    at::Tensor attn = linear(w, o, layer, "self_attn.dense", true);
    at::Tensor mlp = linear(w, activate(linear(w, x, layer, "mlp.fc1", true), c_.activation), layer, "mlp.fc2", true);
    return h + attn + mlp;
  }

 private:
  /// Projection `n` of block `layer` split into `count` heads, [count, L, d].
  at::Tensor headsOf(const HfWeights& w, int layer, const at::Tensor& x, const char* n, int count) const {
    return linear(w, x, layer, std::string("self_attn.") + n, true)
        .view({x.size(0), count, c_.headDim})
        .transpose(0, 1);
  }
};

std::unique_ptr<HfArchitecture> openPhi(const HfConfig& c, const std::string& path) {
  return std::make_unique<Phi>(c, path);
}

}  // namespace

const HfFamily kPhiFamily = {&readPhiConfig, &openPhi};

}  // namespace ess::hf
