// AI21's Jamba (Lieber et al. 2024, HF JambaModel, model_type jamba), a hybrid: layer i is
// attention when i % attn_layer_period == attn_layer_offset, else Mamba; its feed-forward is a
// mixture of experts when num_experts > 1 and i % expert_layer_period == expert_layer_offset,
// else a SwiGLU MLP. Each block: input_layernorm (RMSNorm), the mixer, residual;
// pre_ff_layernorm, the feed-forward, residual. Final norm final_layernorm.
//  - attention (JambaAttention): GQA without positional encoding (Jamba has no RoPE), scale
//    head_dim^-1/2, head_dim = hidden_size / num_attention_heads; attention probabilities per
//    query head, the KV cache as TSS.
//  - mamba (JambaMambaMixer.slow_forward): Mamba-1 with weighted RMSNorms of dt_low, B and C
//    (dt_layernorm, b_layernorm, c_layernorm, eps rms_norm_eps) after x_proj; the operator per
//    inner channel e on the value input u = silu(conv1d(x_in)), in generator form:
//      T[e, r, c] = silu(z_r[e]) (C_r . exp(sum_{t=c+1..r} dt_t[e] A[e]) dt_c[e] B_c + [r == c] D[e]).
//    The SSM-only operator (ess/operator_scope.h) leaves out the z gate and the D skip, as
//    mamba's (arch_mamba.cpp); attention layers have the one operator.
//  - MoE (JambaSparseMoeBlock): p = softmax(router(x)), the top num_experts_per_tok experts of
//    each token weighted by their p (not renormalized), summed. MLPs and MoEs are not layers of
//    the tree, but they shape the residual stream every later mixer reads.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ess/error.h"
#include "ess/generators.h"
#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

using json = nlohmann::json;

void readJambaConfig(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size", 65536);
  c.hiddenSize = f.integer("hidden_size", 4096);
  c.intermediateSize = f.integer("intermediate_size", 14336);
  c.numLayers = f.integer("num_hidden_layers", 32);
  c.numHeads = f.integer("num_attention_heads", 32);
  c.numKvHeads = f.integer("num_key_value_heads", c.numHeads);
  c.normEps = f.number("rms_norm_eps", 1e-6);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
  c.activation = f.text("hidden_act", "silu");
  if (c.activation != "silu") f.fail("hidden_act", "is \"" + c.activation + "\"; the Jamba Mamba mixer uses silu");
  if (c.hiddenSize % c.numHeads != 0)
    f.fail("hidden_size", "(" + std::to_string(c.hiddenSize) + ") is not divisible by num_attention_heads (" +
                              std::to_string(c.numHeads) + ")");
  c.headDim = c.hiddenSize / c.numHeads;
  if (c.numHeads % c.numKvHeads != 0)
    f.fail("num_key_value_heads", "(" + std::to_string(c.numKvHeads) + ") must divide num_attention_heads (" +
                                      std::to_string(c.numHeads) + ")");
  if (const json* w = f.get("sliding_window"))
    f.fail("sliding_window", "is " + w->dump() + "; Jamba with sliding-window attention is not supported");
  // The Mamba layers.
  c.stateSize = f.integer("mamba_d_state", 16);
  c.convKernel = f.integer("mamba_d_conv", 4);
  c.expand = f.integer("mamba_expand", 2);
  c.convBias = f.boolean("mamba_conv_bias", true);
  if (f.boolean("mamba_proj_bias", false))
    f.fail("mamba_proj_bias", "is true; Mamba with in_proj/out_proj biases is not supported");
  const json* r = f.get("mamba_dt_rank");
  c.dtRank =
      !r || (r->is_string() && r->get<std::string>() == "auto") ? (c.hiddenSize + 15) / 16 : f.integer("mamba_dt_rank");
  if (int64_t(c.expand) * c.hiddenSize > (1ll << 30))
    f.fail("mamba_expand", "* hidden_size = " + std::to_string(int64_t(c.expand) * c.hiddenSize) + " is too large");
  // Which layers attend, which feed-forwards are experts.
  const auto periodic = [&](const std::string& period, int defaultPeriod, const std::string& offset,
                            int defaultOffset) {
    const int p = f.integer(period, defaultPeriod), o = f.integer(offset, defaultOffset, 0);
    if (o >= p)
      f.fail(offset, "(" + std::to_string(o) + ") must be smaller than " + period + " (" + std::to_string(p) + ")");
    std::vector<bool> on(c.numLayers);
    for (int i = 0; i < c.numLayers; ++i) on[i] = i % p == o;
    return on;
  };
  c.attentionLayers = periodic("attn_layer_period", 8, "attn_layer_offset", 4);
  c.numExperts = f.integer("num_experts", 16);
  c.expertsPerToken = f.integer("num_experts_per_tok", 2);
  if (c.expertsPerToken > c.numExperts)
    f.fail("num_experts_per_tok",
           "(" + std::to_string(c.expertsPerToken) + ") exceeds num_experts (" + std::to_string(c.numExperts) + ")");
  c.moeLayers = periodic("expert_layer_period", 2, "expert_layer_offset", 1);
  if (c.numExperts == 1) c.moeLayers.assign(c.numLayers, false);  // JambaMLP everywhere
  c.maxPositions = 0;                                             // no positional encoding
}

class Jamba : public HybridArchitecture {
 public:
  Jamba(const HfConfig& c, const std::string& path)
      : HybridArchitecture(c, path, {"model.", "layers.", "embed_tokens.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, I = c_.intermediateSize, hd = c_.headDim;
    const int64_t H = c_.numHeads, KV = c_.numKvHeads, E = inner(), N = c_.stateSize, R = c_.dtRank;
    std::vector<ExpectedTensor> t = {{"embed_tokens.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const std::string& n, std::vector<int64_t> s) {
        t.push_back({layerTensor(i, n), std::move(s)});
      };
      need("input_layernorm.weight", {D});
      if (isAttention(i)) {
        need("self_attn.q_proj.weight", {H * hd, D});
        need("self_attn.k_proj.weight", {KV * hd, D});
        need("self_attn.v_proj.weight", {KV * hd, D});
        need("self_attn.o_proj.weight", {D, H * hd});
      } else {
        need("mamba.in_proj.weight", {2 * E, D});
        need("mamba.conv1d.weight", {E, 1, c_.convKernel});
        if (c_.convBias) need("mamba.conv1d.bias", {E});
        need("mamba.x_proj.weight", {R + 2 * N, E});
        need("mamba.dt_proj.weight", {E, R});
        need("mamba.dt_proj.bias", {E});
        need("mamba.A_log", {E, N});
        need("mamba.D", {E});
        need("mamba.out_proj.weight", {D, E});
        need("mamba.dt_layernorm.weight", {R});
        need("mamba.b_layernorm.weight", {N});
        need("mamba.c_layernorm.weight", {N});
      }
      need("pre_ff_layernorm.weight", {D});
      const auto mlp = [&](const std::string& p) {
        need(p + "gate_proj.weight", {I, D});
        need(p + "up_proj.weight", {I, D});
        need(p + "down_proj.weight", {D, I});
      };
      if (c_.moeLayers.at(i)) {
        need("feed_forward.router.weight", {c_.numExperts, D});
        for (int e = 0; e < c_.numExperts; ++e) mlp("feed_forward.experts." + std::to_string(e) + ".");
      } else {
        mlp("feed_forward.");
      }
    }
    t.push_back({"final_layernorm.weight", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embed_tokens.weight", tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return rmsNorm(h, w.weight(layerTensor(layer, "input_layernorm.weight")), c_.normEps);
  }

  at::Tensor layerOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (isAttention(layer)) return attention(w, layer, x);
    return materializeGenerators(layerGenerators(w, layer, x), path_);
  }

  // Attention layers have none (layerHasGenerators): HfModel forms their operators densely.
  bool hasGenerators() const override { return true; }
  Generators layerGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (isAttention(layer)) return {};
    return mamba1Generators(features(w, layer, x), false);
  }

  at::Tensor ssmOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (isAttention(layer)) return attention(w, layer, x);
    return materializeGenerators(ssmGenerators(w, layer, x), path_);
  }
  Generators ssmGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (isAttention(layer)) return {};
    return mamba1Generators(features(w, layer, x), true);
  }
  SharedGenerators sharedGenerators(const HfWeights& w, int layer, const at::Tensor& x, bool ssm) const override {
    if (isAttention(layer)) return {};
    return mamba1SharedGenerators(features(w, layer, x), ssm);
  }
  std::string ssmRemoves(int layer) const override {
    return isAttention(layer) ? "" : "the z gate silu(z) and the D skip";
  }

  double mixerBytes(double L) const override {
    return std::max(3.0 * c_.numHeads * L * L, 4.0 * L * double(inner()) * c_.stateSize) * 8.0;
  }
  std::string layerKind(int layer) const override { return isAttention(layer) ? "softmax_attention" : "mamba"; }
  int layerHeads(int layer) const override { return isAttention(layer) ? c_.numHeads : inner(); }
  int layerValueChannels(int layer) const override { return isAttention(layer) ? c_.headDim : 1; }
  double layerTheoreticalStateSize(int layer, int split) const override {
    return isAttention(layer) ? split * 2.0 * c_.headDim : c_.stateSize;
  }
  std::string layerTssFormula(int layer) const override {
    if (!isAttention(layer)) return "N = " + std::to_string(c_.stateSize);
    const std::string d = std::to_string(c_.headDim);
    return "s*(d_k+d_v) = s*(" + d + "+" + d + ")";
  }

 protected:
  bool isAttention(int layer) const override { return c_.attentionLayers.at(layer); }
  at::Tensor attentionOutput(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return linear(w, mergeHeads(at::matmul(attention(w, layer, x), values(w, layer, x))), layer, "self_attn.o_proj",
                  false);
  }
  at::Tensor recurrentOutput(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return linear(w, scan(w, layer, x).t(), layer, "mamba.out_proj", false);
  }
  /// The MLP, or the top-k routed experts, of block `layer` after pre_ff_layernorm.
  at::Tensor feedForward(const HfWeights& w, int layer, const at::Tensor& h1) const override {
    return routedFeedForward(w, layer,
                             rmsNorm(h1, w.weight(layerTensor(layer, "pre_ff_layernorm.weight")), c_.normEps));
  }

 private:
  int inner() const { return c_.expand * c_.hiddenSize; }

  at::Tensor attention(const HfWeights& w, int layer, const at::Tensor& x) const {
    const int64_t hd = c_.headDim;
    const at::Tensor q = toHeads(linear(w, x, layer, "self_attn.q_proj", false), hd);
    const at::Tensor k = toHeads(linear(w, x, layer, "self_attn.k_proj", false), hd, c_.numHeads / c_.numKvHeads);
    return causalSoftmax(q, k, 1.0 / std::sqrt(double(hd)), 0);
  }

  at::Tensor values(const HfWeights& w, int layer, const at::Tensor& x) const {
    return toHeads(linear(w, x, layer, "self_attn.v_proj", false), c_.headDim, c_.numHeads / c_.numKvHeads);
  }

  /// The SwiGLU MLP `p` (gate_proj, up_proj, down_proj) of block `layer` on x [n, D].
  at::Tensor mlp(const HfWeights& w, int layer, const std::string& p, const at::Tensor& x) const {
    return linear(w, at::silu(linear(w, x, layer, p + "gate_proj", false)) * linear(w, x, layer, p + "up_proj", false),
                  layer, p + "down_proj", false);
  }

  /// The MLP, or the top-k routed experts, of block `layer` on m [L, D].
  at::Tensor routedFeedForward(const HfWeights& w, int layer, const at::Tensor& m) const {
    if (!c_.moeLayers.at(layer)) return mlp(w, layer, "feed_forward.", m);
    const at::Tensor p = at::softmax(linear(w, m, layer, "feed_forward.router", false), -1);  // [L, X]
    const auto [weight, expert] = at::topk(p, c_.expertsPerToken, -1);                        // [L, k]
    at::Tensor out = at::zeros_like(m);
    for (int e = 0; e < c_.numExperts; ++e) {
      const at::Tensor routed = (expert == e).to(at::kDouble) * weight;  // [L, k]: e's weight in its slot
      const at::Tensor rows = routed.sum(-1).nonzero().squeeze(-1);
      if (rows.numel() == 0) continue;
      const at::Tensor y = mlp(w, layer, "feed_forward.experts." + std::to_string(e) + ".", m.index_select(0, rows));
      out.index_add_(0, rows, y * routed.sum(-1).index_select(0, rows).unsqueeze(-1));
    }
    return out;
  }

  /// Mamba-1's featurization of mixer input x [L, D], with the weighted RMSNorms of dt_low, B, C.
  Mamba1Features features(const HfWeights& w, int layer, const at::Tensor& x) const {
    const auto weight = [&](const std::string& n) { return w.weight(layerTensor(layer, "mamba." + n)); };
    return mamba1Features(weight, x, c_, inner(), Mamba1Norm::Weighted, c_.normEps,
                          path_ + ": layer " + std::to_string(layer));
  }

  /// The gated scan output [E, L] of the Mamba layer (HF slow_forward).
  at::Tensor scan(const HfWeights& w, int layer, const at::Tensor& x) const {
    return mamba1Scan(features(w, layer, x));
  }
};

std::unique_ptr<HfArchitecture> openJamba(const HfConfig& c, const std::string& path) {
  return std::make_unique<Jamba>(c, path);
}

}  // namespace

const HfFamily kJambaFamily = {&readJambaConfig, &openJamba};

}  // namespace ess::hf
