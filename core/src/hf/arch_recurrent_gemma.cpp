// Google's RecurrentGemma (Griffin, De et al. 2024; HF RecurrentGemmaModel, model_type
// recurrent_gemma), a hybrid: layer i is block_types[i % len] ("recurrent" or "attention").
// Embeddings times sqrt(hidden_size) rounded to bfloat16 (HF's normalizer buffer); each block:
// temporal_pre_norm ((1 + w) RMSNorm), the temporal block, residual; channel_pre_norm, the MLP
// down(act(gate(x)) * up(x)) of width intermediate_size / 2 with biases, residual. Final norm
// final_norm. The logits soft-cap (logits_soft_cap) acts on the logits only, not on the
// hidden states, and is not needed here.
//  - recurrent (RecurrentGemmaRecurrentBlock): y = act(linear_y(x)); u = conv_1d(linear_x(x))
//    (causal depthwise, conv1d_width taps, bias); the RG-LRU per channel w with block-diagonal
//    gates per head, i_t = sigmoid(u_t W_in + b_in), g_t = sigmoid(u_t W_a + b_a),
//    log a_t = -8 g_t softplus(recurrent_param), h_t = a_t h_{t-1} + sqrt(1 - a_t^2) i_t u_t
//    (the factor is 1 at position 0, HF's reset); out = linear_out(h * y). The operator per
//    channel on the value input u (after the convolution), in generator form with N = 1:
//      T[w, r, c] = y_r[w] exp(sum_{t=c+1..r} log a_t[w]) sqrt(1 - a_c[w]^2) i_c[w],
//    the output gate y and the input gate folded in; TSS 1 per channel.
//    The SSM-only operator (ess/operator_scope.h) leaves out the output gate y: the RG-LRU's
//    own output h = T_ssm u with T_ssm[w, r, c] = exp(sum_{t=c+1..r} log a_t[w]) sqrt(1 - a_c[w]^2) i_c[w]
//    (the input gate and the normalization sqrt(1 - a^2) are part of the recurrence).
//  - attention (RecurrentGemmaSdpaAttention): GQA, RoPE on the first half of each head
//    (partial_rotary_factor 0.5), scale head_dim^-1/2, o_proj with bias; local attention over
//    the last attention_window_size keys (Griffin's window, as HF's decoding cache keeps them;
//    HF's own prefill mask is plain causal, so the two agree up to that length).
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

void readRecurrentGemmaConfig(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size", 256000);
  c.hiddenSize = f.integer("hidden_size", 2560);
  c.intermediateSize = f.integer("intermediate_size", 3 * 2560);
  c.numLayers = f.integer("num_hidden_layers", 26);
  c.numHeads = f.integer("num_attention_heads", 10);
  c.numKvHeads = f.integer("num_key_value_heads", c.numHeads);
  c.normEps = f.number("rms_norm_eps", 1e-6);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", true);
  c.qkvBias = f.boolean("attention_bias", false);
  c.activation = f.text("hidden_activation", "gelu_pytorch_tanh");
  checkActivation(f, "hidden_activation", c.activation);
  c.convKernel = f.integer("conv1d_width", 4);
  c.slidingWindow = f.integer("attention_window_size", 2048);
  c.lruWidth = f.integer("lru_width", c.hiddenSize);
  if (c.hiddenSize % c.numHeads != 0)
    f.fail("hidden_size", "(" + std::to_string(c.hiddenSize) + ") is not divisible by num_attention_heads (" +
                              std::to_string(c.numHeads) + ")");
  c.headDim = c.hiddenSize / c.numHeads;
  if (c.numHeads % c.numKvHeads != 0)
    f.fail("num_key_value_heads", "(" + std::to_string(c.numKvHeads) + ") must divide num_attention_heads (" +
                                      std::to_string(c.numHeads) + ")");
  if (c.lruWidth % c.numHeads != 0)
    f.fail("lru_width", "(" + std::to_string(c.lruWidth) + ") is not divisible by num_attention_heads (" +
                            std::to_string(c.numHeads) + "), the RG-LRU's gate blocks");
  if (c.intermediateSize < 2) f.fail("intermediate_size", "must be at least 2 (the MLP is intermediate_size / 2 wide)");
  // HF splits each head into int(1 / factor) chunks and rotates the first: only 0.5 works there.
  const double factor = f.number("partial_rotary_factor", 0.5);
  if (factor != 0.5)
    f.fail("partial_rotary_factor", "is " + std::to_string(factor) + "; RecurrentGemma's attention supports 0.5");
  readRotary(f, c, "rope_theta", "partial_rotary_factor", 0.5);
  if (!c.ropeScaling.empty())
    f.fail(f.get("rope_parameters") ? "rope_parameters" : "rope_scaling",
           "has type \"" + c.ropeScaling + "\"; RecurrentGemma supports only the default RoPE");
  // Which layers attend: block_types repeated over the layers.
  const json* t = f.get("block_types");
  std::vector<std::string> types = {"recurrent", "recurrent", "attention"};
  if (t) {
    if (!t->is_array() || t->empty()) f.fail("block_types", "must be a non-empty list, got " + t->dump());
    types.clear();
    for (const json& v : *t) {
      if (v != "recurrent" && v != "attention")
        f.fail("block_types", "has " + v.dump() + "; supported: recurrent, attention");
      types.push_back(v.get<std::string>());
    }
  }
  c.attentionLayers.assign(c.numLayers, false);
  for (int i = 0; i < c.numLayers; ++i) c.attentionLayers[i] = types[i % types.size()] == "attention";
  c.maxPositions = 0;  // local attention and a recurrence: no context limit
}

class RecurrentGemma : public HybridArchitecture {
 public:
  RecurrentGemma(const HfConfig& c, const std::string& path)
      : HybridArchitecture(c, path, {"model.", "layers.", "embed_tokens.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, I = c_.intermediateSize / 2, hd = c_.headDim;
    const int64_t H = c_.numHeads, KV = c_.numKvHeads, W = c_.lruWidth, bw = W / H;
    std::vector<ExpectedTensor> t = {{"embed_tokens.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const std::string& n, std::vector<int64_t> s) {
        t.push_back({layerTensor(i, n), std::move(s)});
      };
      const auto linearOf = [&](const std::string& n, int64_t out, int64_t in, bool bias) {
        need(n + ".weight", {out, in});
        if (bias) need(n + ".bias", {out});
      };
      need("temporal_pre_norm.weight", {D});
      if (isAttention(i)) {
        linearOf("temporal_block.q_proj", H * hd, D, c_.qkvBias);
        linearOf("temporal_block.k_proj", KV * hd, D, c_.qkvBias);
        linearOf("temporal_block.v_proj", KV * hd, D, c_.qkvBias);
        linearOf("temporal_block.o_proj", D, H * hd, true);
      } else {
        linearOf("temporal_block.linear_y", W, D, true);
        linearOf("temporal_block.linear_x", W, D, true);
        linearOf("temporal_block.linear_out", D, W, true);
        need("temporal_block.conv_1d.weight", {W, 1, c_.convKernel});
        need("temporal_block.conv_1d.bias", {W});
        need("temporal_block.rg_lru.recurrent_param", {W});
        need("temporal_block.rg_lru.input_gate_weight", {H, bw, bw});
        need("temporal_block.rg_lru.input_gate_bias", {H, bw});
        need("temporal_block.rg_lru.recurrent_gate_weight", {H, bw, bw});
        need("temporal_block.rg_lru.recurrent_gate_bias", {H, bw});
      }
      need("channel_pre_norm.weight", {D});
      linearOf("mlp_block.gate_proj", I, D, true);
      linearOf("mlp_block.up_proj", I, D, true);
      linearOf("mlp_block.down_proj", D, I, true);
    }
    t.push_back({"final_norm.weight", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    // HF keeps the normalizer sqrt(hidden_size) as a bfloat16 buffer.
    const double normalizer =
        at::scalar_tensor(std::sqrt(double(c_.hiddenSize)), at::kFloat).to(at::kBFloat16).item<double>();
    return w.rows("embed_tokens.weight", tok).to(at::kDouble) * normalizer;
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return gemmaRmsNorm(h, w.weight(layerTensor(layer, "temporal_pre_norm.weight")), c_.normEps);
  }

  at::Tensor layerOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (isAttention(layer)) return attention(w, layer, x);
    return materializeGenerators(layerGenerators(w, layer, x), path_);
  }

  // Attention layers have none (layerHasGenerators): HfModel forms their operators densely.
  bool hasGenerators() const override { return true; }
  Generators layerGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (isAttention(layer)) return {};
    const Lru f = lru(w, layer, x);
    Generators g;
    g.C = f.y.unsqueeze(-1).contiguous();  // [W, L, 1]
    g.B = f.b.unsqueeze(-1).contiguous();
    g.logA = f.logA.contiguous();  // [W, L]: one decay per channel
    return g;
  }

  at::Tensor ssmOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (isAttention(layer)) return attention(w, layer, x);
    return materializeGenerators(ssmGenerators(w, layer, x), path_);
  }
  Generators ssmGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    Generators g = layerGenerators(w, layer, x);
    if (g.C.defined()) g.C = at::ones_like(g.C);  // the rows without the output gate y
    return g;
  }
  std::string ssmRemoves(int layer) const override { return isAttention(layer) ? "" : "the output gate y"; }

  double mixerBytes(double L) const override {
    return std::max(3.0 * c_.numHeads * L * L, 4.0 * L * double(c_.lruWidth)) * 8.0;
  }
  std::string layerKind(int layer) const override { return isAttention(layer) ? "sliding_window_attention" : "rg_lru"; }
  int layerHeads(int layer) const override { return isAttention(layer) ? c_.numHeads : c_.lruWidth; }
  int layerValueChannels(int layer) const override { return isAttention(layer) ? c_.headDim : 1; }
  double layerTheoreticalStateSize(int layer, int split) const override {
    return isAttention(layer) ? std::min(split, c_.slidingWindow) * 2.0 * c_.headDim : 1.0;
  }
  std::string layerTssFormula(int layer) const override {
    if (!isAttention(layer)) return "1 (one RG-LRU state per channel)";
    const std::string d = std::to_string(c_.headDim), s = "min(s," + std::to_string(c_.slidingWindow) + ")";
    return s + "*(d_k+d_v) = " + s + "*(" + d + "+" + d + ")";
  }

 protected:
  bool isAttention(int layer) const override { return c_.attentionLayers.at(layer); }
  at::Tensor attentionOutput(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return linear(w, mergeHeads(at::matmul(attention(w, layer, x), values(w, layer, x))), layer,
                  "temporal_block.o_proj", true);
  }
  at::Tensor recurrentOutput(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return linear(w, scan(w, layer, x).t(), layer, "temporal_block.linear_out", true);
  }
  at::Tensor feedForward(const HfWeights& w, int layer, const at::Tensor& h1) const override {
    const at::Tensor m = gemmaRmsNorm(h1, w.weight(layerTensor(layer, "channel_pre_norm.weight")), c_.normEps);
    const at::Tensor gate = activate(linear(w, m, layer, "mlp_block.gate_proj", true), c_.activation);
    return linear(w, gate * linear(w, m, layer, "mlp_block.up_proj", true), layer, "mlp_block.down_proj", true);
  }

 private:
  /// Query and key heads after RoPE on the first half of each head, keys repeated to the
  /// query heads; the probabilities over the last attention_window_size keys.
  at::Tensor attention(const HfWeights& w, int layer, const at::Tensor& x) const {
    const int64_t L = x.size(0), hd = c_.headDim;
    const auto [cos, sin] = rotaryCosSin(c_, L);
    const at::Tensor q = applyRotary(toHeads(linear(w, x, layer, "temporal_block.q_proj", c_.qkvBias), hd), cos, sin);
    const at::Tensor k = applyRotary(toHeads(linear(w, x, layer, "temporal_block.k_proj", c_.qkvBias), hd), cos, sin)
                             .repeat_interleave(c_.numHeads / c_.numKvHeads, 0);
    return causalSoftmax(q, k, 1.0 / std::sqrt(double(hd)), c_.slidingWindow);
  }

  at::Tensor values(const HfWeights& w, int layer, const at::Tensor& x) const {
    return toHeads(linear(w, x, layer, "temporal_block.v_proj", c_.qkvBias), c_.headDim, c_.numHeads / c_.numKvHeads);
  }

  /// The recurrent block's featurization of mixer input x [L, D], each [W, L]: the value input u
  /// (after the convolution), the output gate y, the input generator b = sqrt(1 - a^2) i (1 at
  /// position 0) and log a.
  struct Lru {
    at::Tensor u, y, b, logA;
  };
  Lru lru(const HfWeights& w, int layer, const at::Tensor& x) const {
    const auto W = [&](const std::string& n) { return w.weight(layerTensor(layer, "temporal_block." + n)); };
    const int64_t L = x.size(0), width = c_.lruWidth, H = c_.numHeads, bw = width / H;
    Lru f;
    f.y = activate(linear(w, x, layer, "temporal_block.linear_y", true), c_.activation).t();  // [W, L]
    const at::Tensor xb = linear(w, x, layer, "temporal_block.linear_x", true).t().unsqueeze(0);
    f.u = at::conv1d(xb, W("conv_1d.weight"), W("conv_1d.bias"), {1}, {c_.convKernel - 1}, {1}, width)
              .narrow(-1, 0, L)
              .squeeze(0);  // [W, L]
    // Block-diagonal gates: head h's channels times its [bw, bw] matrix (u W, not W^T).
    const at::Tensor uh = f.u.t().reshape({L, H, bw}).transpose(0, 1);  // [H, L, bw]
    const auto gate = [&](const char* n) {
      const at::Tensor z = at::baddbmm(W(std::string("rg_lru.") + n + "_bias").unsqueeze(1), uh,
                                       W(std::string("rg_lru.") + n + "_weight"));  // [H, L, bw]
      return at::sigmoid(z.transpose(0, 1).reshape({L, width})).t();                // [W, L]
    };
    const at::Tensor input = gate("input_gate");
    f.logA = -8.0 * gate("recurrent_gate") * at::softplus(W("rg_lru.recurrent_param")).unsqueeze(1);
    at::Tensor scale = at::sqrt(1 - at::exp(2 * f.logA));
    scale.select(1, 0).fill_(1.0);  // HF's reset at position 0
    f.b = scale * input;
    if (!at::isfinite(f.logA).all().item<bool>())
      throw InputError(path_ + ": layer " + std::to_string(layer) +
                       ": the RG-LRU's recurrent_param or gates are not finite, so its decay a is not in [0, 1]");
    return f;
  }

  /// The gated recurrence output h * y [W, L], one step per position.
  at::Tensor scan(const HfWeights& w, int layer, const at::Tensor& x) const {
    const Lru f = lru(w, layer, x);
    const at::Tensor a = at::exp(f.logA), bu = f.b * f.u;
    at::Tensor state = at::zeros({f.u.size(0)}, x.options());
    std::vector<at::Tensor> hs;
    for (int64_t t = 0; t < x.size(0); ++t) {
      state = a.select(1, t) * state + bu.select(1, t);
      hs.push_back(state);
    }
    return at::stack(hs, 1) * f.y;
  }
};

std::unique_ptr<HfArchitecture> openRecurrentGemma(const HfConfig& c, const std::string& path) {
  return std::make_unique<RecurrentGemma>(c, path);
}

}  // namespace

const HfFamily kRecurrentGemmaFamily = {&readRecurrentGemmaConfig, &openRecurrentGemma};

}  // namespace ess::hf
