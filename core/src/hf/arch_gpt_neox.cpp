// GPT-NeoX (Black et al. 2022; Pythia, Biderman et al. 2023; HF GPTNeoXModel): LayerNorm with
// bias, one fused query_key_value projection whose output is laid out per head [H, 3, head_dim]
// (q, k, v of head h are the three consecutive head_dim slices of block h), rotary positions on
// the leading rotary_pct * head_dim dims of each head (base rotary_emb_base), causal softmax
// scaled by 1/sqrt(head_dim), MLP dense_4h_to_h(act(dense_h_to_4h(x))) with GELU (erf); parallel
// residual h + attn(ln1(h)) + mlp(ln2(h)) when use_parallel_residual (Pythia), else the
// sequential h1 = h + attn(ln1(h)), h1 + mlp(ln2(h1)). Tensors under "gpt_neox.", untied LM
// head embed_out.
#include <ATen/ATen.h>

#include <cmath>

#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

void readGptNeoxConfig(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size");
  c.hiddenSize = f.integer("hidden_size");
  c.numHeads = f.integer("num_attention_heads");
  c.numLayers = f.integer("num_hidden_layers");
  c.intermediateSize = f.integer("intermediate_size");
  c.maxPositions = f.integer("max_position_embeddings", 2048);
  c.normEps = f.number("layer_norm_eps", 1e-5);
  c.activation = f.text("hidden_act", "gelu");
  checkActivation(f, "hidden_act", c.activation);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
  c.parallelResidual = f.boolean("use_parallel_residual", true);
  c.qkvBias = c.oBias = f.boolean("attention_bias", true);
  c.mlpBias = true;
  if (c.hiddenSize % c.numHeads != 0)
    f.fail("hidden_size", "(" + std::to_string(c.hiddenSize) + ") is not divisible by num_attention_heads (" +
                              std::to_string(c.numHeads) + ")");
  c.numKvHeads = c.numHeads;
  c.headDim = c.hiddenSize / c.numHeads;
  readRotary(f, c, "rotary_emb_base", "rotary_pct", 0.25);
}

class GptNeox : public AttentionArchitecture {
 public:
  GptNeox(const HfConfig& c, const std::string& path)
      : AttentionArchitecture(c, path, {"gpt_neox.", "layers.", "embed_in.weight", "embed_out.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, I = c_.intermediateSize;
    std::vector<ExpectedTensor> t = {{"embed_in.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const char* n, std::vector<int64_t> s) { t.push_back({layerTensor(i, n), std::move(s)}); };
      need("input_layernorm.weight", {D});
      need("input_layernorm.bias", {D});
      need("attention.query_key_value.weight", {3 * D, D});
      need("attention.dense.weight", {D, D});
      if (c_.qkvBias) {
        need("attention.query_key_value.bias", {3 * D});
        need("attention.dense.bias", {D});
      }
      need("post_attention_layernorm.weight", {D});
      need("post_attention_layernorm.bias", {D});
      need("mlp.dense_h_to_4h.weight", {I, D});
      need("mlp.dense_h_to_4h.bias", {I});
      need("mlp.dense_4h_to_h.weight", {D, I});
      need("mlp.dense_4h_to_h.bias", {D});
    }
    t.push_back({"final_layer_norm.weight", {D}});
    t.push_back({"final_layer_norm.bias", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embed_in.weight", tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return layerNormOf(w, h, layer, "input_layernorm");
  }

  bool hasRotaryQueries() const override { return true; }

  std::pair<at::Tensor, at::Tensor> queriesKeys(const HfWeights& w, int layer, const at::Tensor& x) const override {
    const at::Tensor qkv = headsQkv(w, layer, x);
    auto [cos, sin] = rotaryCosSin(c_, x.size(0));
    return {applyRotary(qkv.select(2, 0), cos, sin), applyRotary(qkv.select(2, 1), cos, sin)};
  }

  at::Tensor attentionProbabilities(const HfWeights& w, int layer, const at::Tensor& x) const override {
    auto [q, k] = queriesKeys(w, layer, x);
    return causalSoftmax(q, k, 1.0 / std::sqrt(double(c_.headDim)), 0);
  }

  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const override {
    const int64_t L = h.size(0);
    at::Tensor x = layerNormOf(w, h, layer, "input_layernorm");
    at::Tensor v = headsQkv(w, layer, x).select(2, 2);  // [H, L, d]
    at::Tensor o = at::matmul(attentionProbabilities(w, layer, x), v).transpose(0, 1).reshape({L, c_.hiddenSize});
    at::Tensor attn = linear(w, o, layer, "attention.dense", c_.oBias);
    const at::Tensor mlpIn = c_.parallelResidual ? h : h + attn;
    at::Tensor m = layerNormOf(w, mlpIn, layer, "post_attention_layernorm");
    m = linear(w, activate(linear(w, m, layer, "mlp.dense_h_to_4h", true), c_.activation), layer, "mlp.dense_4h_to_h",
               true);
    return h + attn + m;
  }

 private:
  /// The fused projection split per head: [H, L, 3, d] with q, k, v at index 0, 1, 2 of dim 2.
  at::Tensor headsQkv(const HfWeights& w, int layer, const at::Tensor& x) const {
    const int64_t L = x.size(0);
    return linear(w, x, layer, "attention.query_key_value", c_.qkvBias)
        .view({L, c_.numHeads, 3, c_.headDim})
        .transpose(0, 1);
  }
};

std::unique_ptr<HfArchitecture> openGptNeox(const HfConfig& c, const std::string& path) {
  return std::make_unique<GptNeox>(c, path);
}

}  // namespace

const HfFamily kGptNeoxFamily = {&readGptNeoxConfig, &openGptNeox};

}  // namespace ess::hf
