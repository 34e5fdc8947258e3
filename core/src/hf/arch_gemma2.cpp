// Gemma 2 (Gemma Team 2024, HF Gemma2Model): token embeddings scaled by sqrt(hidden_size);
// RMSNorms with (1 + w) weights around both sublayers,
//   h1 = h + post_attention_layernorm(attn(input_layernorm(h))),
//   h2 = h1 + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h1))),
// MLP down(gelu_tanh(gate(x)) * up(x)); grouped-query attention with RoPE over the whole head,
// scores scaled by query_pre_attn_scalar^-1/2 and soft-capped, cap * tanh(scores / cap)
// (attn_logit_softcapping), before the causal mask; layers alternate between a sliding window
// of `sliding_window` keys (layer 0, 2, ...) and global attention, or follow `layer_types`.
// Tensors under "model.", tied LM head.
// Gemma 3 (Gemma Team 2025, HF Gemma3TextModel, model_type gemma3_text): the same block with a
// (1 + w) RMSNorm of each query and key head (q_norm, k_norm) before RoPE, no soft-capping unless
// configured, layer i global when (i + 1) % sliding_window_pattern == 0 (or per layer_types),
// and the sliding layers' RoPE with base rope_local_base_freq and no scaling (the global ones
// use rope_theta and rope_scaling).
#include <ATen/ATen.h>

#include <cmath>

#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

using json = nlohmann::json;

void readGemma2Config(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size");
  c.hiddenSize = f.integer("hidden_size");
  c.numHeads = f.integer("num_attention_heads");
  c.numKvHeads = f.integer("num_key_value_heads", c.numHeads);
  c.numLayers = f.integer("num_hidden_layers");
  c.intermediateSize = f.integer("intermediate_size");
  c.maxPositions = f.integer("max_position_embeddings", c.modelType == "gemma3_text" ? 131072 : 8192);
  c.normEps = f.number("rms_norm_eps", 1e-6);
  c.headDim = f.integer("head_dim", 256);  // Gemma2Config's defaults
  // The MLP reads hidden_activation (hidden_act is the legacy name of the same).
  const std::string actKey = f.get("hidden_activation") ? "hidden_activation" : "hidden_act";
  c.activation = f.text(actKey, "gelu_pytorch_tanh");
  checkActivation(f, actKey, c.activation);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", true);
  c.qkvBias = c.oBias = f.boolean("attention_bias", false);
  c.queryPreAttnScalar = f.number("query_pre_attn_scalar", 256.0);
  const bool gemma3 = c.modelType == "gemma3_text";
  // Absent: Gemma2Config's 50 (Gemma3TextConfig's none); null: no soft-capping.
  c.attnSoftcap = f.j.contains("attn_logit_softcapping") ? f.number("attn_logit_softcapping", 0.0)
                  : gemma3                               ? 0.0
                                                         : 50.0;
  if (gemma3) {
    c.qkNorm = true;
    c.ropeLocalTheta = f.number("rope_local_base_freq", 10000.0);
  }
  c.slidingWindow = f.integer("sliding_window", 4096, 0);
  if (c.numHeads % c.numKvHeads != 0)
    f.fail("num_key_value_heads", "(" + std::to_string(c.numKvHeads) + ") must divide num_attention_heads (" +
                                      std::to_string(c.numHeads) + ")");
  if (c.headDim % 2 != 0) f.fail("head_dim", "must be even for rotary positions, got " + std::to_string(c.headDim));
  c.slidingLayers.assign(c.numLayers, false);
  if (const json* types = f.get("layer_types")) {
    if (!types->is_array() || int(types->size()) != c.numLayers)
      f.fail("layer_types", "must list num_hidden_layers (" + std::to_string(c.numLayers) + ") layer types");
    for (int i = 0; i < c.numLayers; ++i) {
      const json& t = (*types)[i];
      if (t == "sliding_attention")
        c.slidingLayers[i] = true;
      else if (t != "full_attention")
        f.fail("layer_types", "has " + t.dump() + " at " + std::to_string(i) +
                                  "; supported: \"sliding_attention\", \"full_attention\"");
    }
  } else if (gemma3) {
    const int pattern = f.integer("sliding_window_pattern", 6);
    for (int i = 0; i < c.numLayers; ++i) c.slidingLayers[i] = (i + 1) % pattern != 0;
  } else {
    for (int i = 0; i < c.numLayers; i += 2) c.slidingLayers[i] = true;  // Gemma2DecoderLayer.is_sliding
  }
  if (c.slidingWindow == 0) c.slidingLayers.assign(c.numLayers, false);
  // transformers 5 keeps gemma3's RoPE per layer type: rope_parameters {"full_attention": {...},
  // "sliding_attention": {...}}.
  const json* rp = f.get("rope_parameters");
  if (gemma3 && rp && rp->is_object() && rp->contains("full_attention")) {
    json global = f.j;
    global["rope_parameters"] = (*rp)["full_attention"];
    readRotary(ConfigFields{global, f.path}, c, "rope_theta", "", 1.0);
    if (const auto local = rp->find("sliding_attention"); local != rp->end() && local->is_object()) {
      ConfigFields l{*local, f.path};
      c.ropeLocalTheta = l.number("rope_theta", c.ropeLocalTheta);
      const std::string type = l.text("rope_type", "default");
      if (type != "default")
        f.fail("rope_parameters", "has rope_type \"" + type + "\" for sliding_attention; supported: default");
    }
  } else {
    readRotary(f, c, "rope_theta", "", 1.0);
  }
}

class Gemma2 : public AttentionArchitecture {
 public:
  Gemma2(const HfConfig& c, const std::string& path)
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
        need("self_attn.o_proj.bias", {D});
      }
      if (c_.qkNorm) {
        need("self_attn.q_norm.weight", {c_.headDim});
        need("self_attn.k_norm.weight", {c_.headDim});
      }
      need("post_attention_layernorm.weight", {D});
      need("pre_feedforward_layernorm.weight", {D});
      need("mlp.gate_proj.weight", {I, D});
      need("mlp.up_proj.weight", {I, D});
      need("mlp.down_proj.weight", {D, I});
      need("post_feedforward_layernorm.weight", {D});
    }
    t.push_back({"norm.weight", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embed_tokens.weight", tok).to(at::kDouble) * std::sqrt(double(c_.hiddenSize));
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return norm(w, h, layer, "input_layernorm");
  }

  bool hasRotaryQueries() const override { return true; }

  std::pair<at::Tensor, at::Tensor> queriesKeys(const HfWeights& w, int layer, const at::Tensor& x) const override {
    at::Tensor q = headsOf(w, layer, x, "q_proj", c_.numHeads), k = headsOf(w, layer, x, "k_proj", c_.numKvHeads);
    if (c_.qkNorm) {  // gemma3: per head, before RoPE
      q = norm(w, q, layer, "self_attn.q_norm");
      k = norm(w, k, layer, "self_attn.k_norm");
    }
    HfConfig rope = c_;
    if (c_.ropeLocalTheta > 0 && windowOf(layer) > 0) {  // gemma3's sliding layers
      rope.ropeTheta = c_.ropeLocalTheta;
      rope.ropeScaling.clear();
    }
    auto [cos, sin] = rotaryCosSin(rope, x.size(0));
    return {applyRotary(q, cos, sin), applyRotary(k, cos, sin)};
  }

  at::Tensor attentionProbabilities(const HfWeights& w, int layer, const at::Tensor& x) const override {
    auto [q, k] = queriesKeys(w, layer, x);
    k = k.repeat_interleave(c_.numHeads / c_.numKvHeads, 0);  // GQA as HF's repeat_kv
    return causalSoftmax(q, k, 1.0 / std::sqrt(c_.queryPreAttnScalar), windowOf(layer), c_.attnSoftcap);
  }

  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const override {
    const int64_t L = h.size(0);
    at::Tensor x = norm(w, h, layer, "input_layernorm");
    at::Tensor v = headsOf(w, layer, x, "v_proj", c_.numKvHeads).repeat_interleave(c_.numHeads / c_.numKvHeads, 0);
    at::Tensor o = at::matmul(attentionProbabilities(w, layer, x), v)
                       .transpose(0, 1)
                       .reshape({L, int64_t(c_.numHeads) * c_.headDim});
    at::Tensor h1 = h + norm(w, linear(w, o, layer, "self_attn.o_proj", c_.oBias), layer, "post_attention_layernorm");
    at::Tensor m = norm(w, h1, layer, "pre_feedforward_layernorm");
    m = activate(linear(w, m, layer, "mlp.gate_proj", false), c_.activation) *
        linear(w, m, layer, "mlp.up_proj", false);
    return h1 + norm(w, linear(w, m, layer, "mlp.down_proj", false), layer, "post_feedforward_layernorm");
  }

 private:
  at::Tensor norm(const HfWeights& w, const at::Tensor& x, int layer, const char* n) const {
    return gemmaRmsNorm(x, w.weight(layerTensor(layer, std::string(n) + ".weight")), c_.normEps);
  }
  /// Projection `n` of block `layer` split into `count` heads, [count, L, d].
  at::Tensor headsOf(const HfWeights& w, int layer, const at::Tensor& x, const char* n, int count) const {
    return linear(w, x, layer, std::string("self_attn.") + n, c_.qkvBias)
        .view({x.size(0), count, c_.headDim})
        .transpose(0, 1);
  }
};

std::unique_ptr<HfArchitecture> openGemma2(const HfConfig& c, const std::string& path) {
  return std::make_unique<Gemma2>(c, path);
}

}  // namespace

const HfFamily kGemma2Family = {&readGemma2Config, &openGemma2};  // and gemma3_text

}  // namespace ess::hf
