// GPT-2 (Radford et al. 2019, HF GPT2Model): learned positions wpe, pre-LayerNorm blocks, Conv1D
// weights stored [in, out] (y = x W + b), causal softmax attention scaled by 1/sqrt(d), MLP with
// GELU (tanh form, "gelu_new"), tied LM head.
#include <ATen/ATen.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>

#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

void readGpt2Config(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size");
  c.hiddenSize = f.integer("n_embd");
  c.numHeads = f.integer("n_head");
  c.numLayers = f.integer("n_layer");
  c.maxPositions = f.integer("n_positions");
  // GPT-2's default n_inner is 4 n_embd; an n_embd whose 4-fold leaves int stays as large as
  // int goes (the weight shape check then refuses it, as for any n_embd the weights do not have).
  c.intermediateSize = f.integer("n_inner", static_cast<int>(std::min<int64_t>(4 * int64_t(c.hiddenSize), INT_MAX)));
  c.normEps = f.number("layer_norm_epsilon", 1e-5);
  c.activation = f.text("activation_function", "gelu_new");
  checkActivation(f, "activation_function", c.activation);
  c.scaleByInverseLayer = f.boolean("scale_attn_by_inverse_layer_idx", false);
  if (!f.boolean("scale_attn_weights", true))
    f.fail("scale_attn_weights", "is false; only scaled attention is supported");
  if (c.hiddenSize % c.numHeads != 0)
    f.fail("n_embd",
           "(" + std::to_string(c.hiddenSize) + ") is not divisible by n_head (" + std::to_string(c.numHeads) + ")");
  c.numKvHeads = c.numHeads;
  c.headDim = c.hiddenSize / c.numHeads;
  c.qkvBias = c.oBias = c.mlpBias = true;
  c.tieWordEmbeddings = true;
}

class Gpt2 : public AttentionArchitecture {
 public:
  Gpt2(const HfConfig& c, const std::string& path)
      : AttentionArchitecture(c, path, {"transformer.", "h.", "wte.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, I = c_.intermediateSize;
    std::vector<ExpectedTensor> t = {{"wte.weight", {V, D}}, {"wpe.weight", {c_.maxPositions, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const char* n, std::vector<int64_t> s) { t.push_back({layerTensor(i, n), std::move(s)}); };
      need("ln_1.weight", {D});
      need("ln_1.bias", {D});
      need("attn.c_attn.weight", {D, 3 * D});
      need("attn.c_attn.bias", {3 * D});
      need("attn.c_proj.weight", {D, D});
      need("attn.c_proj.bias", {D});
      need("ln_2.weight", {D});
      need("ln_2.bias", {D});
      need("mlp.c_fc.weight", {D, I});
      need("mlp.c_fc.bias", {I});
      need("mlp.c_proj.weight", {I, D});
      need("mlp.c_proj.bias", {D});
    }
    t.push_back({"ln_f.weight", {D}});
    t.push_back({"ln_f.bias", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    at::Tensor h = w.rows("wte.weight", tok).to(at::kDouble);
    return h + w.rows("wpe.weight", at::arange(tok.size(0))).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return layerNorm(h, w.weight(layerTensor(layer, "ln_1.weight")), w.weight(layerTensor(layer, "ln_1.bias")),
                     c_.normEps);
  }

  at::Tensor attentionProbabilities(const HfWeights& w, int layer, const at::Tensor& x) const override {
    const int64_t L = x.size(0), d = c_.headDim, H = c_.numHeads;
    double scale = 1.0 / std::sqrt(double(d));
    at::Tensor qkv = at::addmm(w.weight(layerTensor(layer, "attn.c_attn.bias")), x,
                               w.weight(layerTensor(layer, "attn.c_attn.weight")));  // Conv1D: x W + b, [L, 3D]
    at::Tensor q = qkv.narrow(1, 0, c_.hiddenSize).view({L, H, d}).transpose(0, 1);
    at::Tensor k = qkv.narrow(1, c_.hiddenSize, c_.hiddenSize).view({L, H, d}).transpose(0, 1);
    if (c_.scaleByInverseLayer) scale /= double(layer + 1);
    return causalSoftmax(q, k, scale, c_.slidingWindow);
  }

  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const override {
    const int64_t L = h.size(0);
    const auto W = [&](const char* n) { return w.weight(layerTensor(layer, n)); };
    at::Tensor x = layerNorm(h, W("ln_1.weight"), W("ln_1.bias"), c_.normEps);
    at::Tensor p = attentionProbabilities(w, layer, x);
    at::Tensor v = at::addmm(W("attn.c_attn.bias"), x, W("attn.c_attn.weight"))
                       .narrow(1, 2 * c_.hiddenSize, c_.hiddenSize)
                       .view({L, c_.numHeads, c_.headDim})
                       .transpose(0, 1);
    at::Tensor o = at::matmul(p, v).transpose(0, 1).reshape({L, c_.hiddenSize});
    at::Tensor h1 = h + at::addmm(W("attn.c_proj.bias"), o, W("attn.c_proj.weight"));
    at::Tensor m = layerNorm(h1, W("ln_2.weight"), W("ln_2.bias"), c_.normEps);
    m = activate(at::addmm(W("mlp.c_fc.bias"), m, W("mlp.c_fc.weight")), c_.activation);
    return h1 + at::addmm(W("mlp.c_proj.bias"), m, W("mlp.c_proj.weight"));
  }
};

std::unique_ptr<HfArchitecture> openGpt2(const HfConfig& c, const std::string& path) {
  return std::make_unique<Gpt2>(c, path);
}

}  // namespace

const HfFamily kGpt2Family = {&readGpt2Config, &openGpt2};

}  // namespace ess::hf
