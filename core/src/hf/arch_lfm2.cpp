// Liquid AI's LFM2 (HF Lfm2Model, model_type lfm2), a hybrid: per `layer_types` (or the older
// `full_attn_idxs`) each block is a gated short convolution ("conv") or grouped-query attention
// ("full_attention"), after operator_norm (RMSNorm), with a residual; then ffn_norm and the
// SwiGLU feed_forward w2(silu(w1(x)) * w3(x)) (intermediate_size adjusted to 2/3, times
// block_ffn_dim_multiplier and rounded to block_multiple_of, when block_auto_adjust_ff_dim).
// Final norm: embedding_norm.
//  - conv (Lfm2ShortConv): [B; C; x] = in_proj(x), y = C * conv(B * x) with a causal depthwise
//    convolution of conv_L_cache = K taps, out_proj. Per channel d the operator is banded,
//      T[d, r, c] = C_r[d] w[d, K - 1 - (r - c)] B_c[d] for 0 <= r - c < K,
//    i.e. diag(C) Toeplitz(h) diag(B), on the value input x[d]; TSS K - 1 per channel.
//    The SSM-only operator (ess/operator_scope.h) leaves out the output gate C: Toeplitz(h)
//    diag(B), the convolution's own output conv(B * x) on x (B, the input gate, stays).
//  - full_attention (Lfm2Attention): q and k RMSNorm'd per head (q_layernorm, k_layernorm)
//    before RoPE (rope_theta, default 1e6), GQA, scale head_dim^-1/2; attention probabilities
//    per query head, the KV cache as TSS.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ess/error.h"
#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

using json = nlohmann::json;

void readLfm2Config(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size", 65536);
  c.hiddenSize = f.integer("hidden_size", 2560);
  c.numLayers = f.integer("num_hidden_layers", 32);
  c.numHeads = f.integer("num_attention_heads", 32);
  c.numKvHeads = f.integer("num_key_value_heads", 8);
  c.maxPositions = f.integer("max_position_embeddings", 128000);
  c.normEps = f.number("norm_eps", 1e-5);
  c.convKernel = f.integer("conv_L_cache", 3);
  c.tieWordEmbeddings = f.boolean("tie_embedding", f.boolean("tie_word_embeddings", true));
  if (f.boolean("conv_bias", false))
    f.fail("conv_bias", "is true; the biased convolution is affine, not a linear operator, and is not supported");
  if (c.numHeads % c.numKvHeads != 0)
    f.fail("num_key_value_heads", "(" + std::to_string(c.numKvHeads) + ") must divide num_attention_heads (" +
                                      std::to_string(c.numHeads) + ")");
  if (f.get("head_dim")) {
    c.headDim = f.integer("head_dim");
  } else {
    if (c.hiddenSize % c.numHeads != 0)
      f.fail("hidden_size", "(" + std::to_string(c.hiddenSize) + ") is not divisible by num_attention_heads (" +
                                std::to_string(c.numHeads) + ")");
    c.headDim = c.hiddenSize / c.numHeads;
  }
  readRotary(f, c, "rope_theta", "", 1.0);
  if (!f.get("rope_theta") && !f.get("rope_parameters")) c.ropeTheta = 1e6;  // Lfm2Config's default
  // The feed-forward width as Lfm2MLP computes it.
  int inter = f.integer("intermediate_size", 12288);
  if (f.boolean("block_auto_adjust_ff_dim", true)) {
    inter = static_cast<int>(2.0 * inter / 3.0);
    if (f.get("block_ffn_dim_multiplier")) {
      const int multiple = f.integer("block_multiple_of", 256);
      inter = static_cast<int>(f.number("block_ffn_dim_multiplier", 1.0) * inter);
      inter = multiple * ((inter + multiple - 1) / multiple);
    }
  }
  c.intermediateSize = inter;
  // Which layers attend: layer_types, else full_attn_idxs.
  c.slidingLayers.assign(c.numLayers, true);  // true: conv (reused as "not attention")
  if (const json* t = f.get("layer_types")) {
    if (!t->is_array() || int(t->size()) != c.numLayers)
      f.fail("layer_types", "must list num_hidden_layers = " + std::to_string(c.numLayers) + " layer types");
    for (int i = 0; i < c.numLayers; ++i) {
      const json& v = (*t)[i];
      if (v == "full_attention")
        c.slidingLayers[i] = false;
      else if (v != "conv")
        f.fail("layer_types", "has " + v.dump() + " at " + std::to_string(i) + "; supported: conv, full_attention");
    }
  } else if (const json* idx = f.get("full_attn_idxs")) {
    if (!idx->is_array()) f.fail("full_attn_idxs", "must be a list of layer indices, got " + idx->dump());
    for (const json& v : *idx) {
      if (!v.is_number_integer() || v.get<int>() < 0 || v.get<int>() >= c.numLayers)
        f.fail("full_attn_idxs", "has " + v.dump() + "; layers are 0.." + std::to_string(c.numLayers - 1));
      c.slidingLayers[v.get<int>()] = false;
    }
  } else {
    f.fail("layer_types", "is missing (nor is full_attn_idxs given)");
  }
}

class Lfm2 : public HybridArchitecture {
 public:
  Lfm2(const HfConfig& c, const std::string& path)
      : HybridArchitecture(c, path, {"model.", "layers.", "embed_tokens.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, I = c_.intermediateSize, hd = c_.headDim;
    const int64_t H = c_.numHeads, KV = c_.numKvHeads;
    std::vector<ExpectedTensor> t = {{"embed_tokens.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const std::string& n, std::vector<int64_t> s) {
        t.push_back({layerTensor(i, n), std::move(s)});
      };
      need("operator_norm.weight", {D});
      if (isConv(i)) {
        need("conv.in_proj.weight", {3 * D, D});
        need("conv.conv.weight", {D, 1, c_.convKernel});
        need("conv.out_proj.weight", {D, D});
      } else {
        need("self_attn.q_proj.weight", {H * hd, D});
        need("self_attn.k_proj.weight", {KV * hd, D});
        need("self_attn.v_proj.weight", {KV * hd, D});
        need("self_attn.out_proj.weight", {D, H * hd});
        need("self_attn.q_layernorm.weight", {hd});
        need("self_attn.k_layernorm.weight", {hd});
      }
      need("ffn_norm.weight", {D});
      need("feed_forward.w1.weight", {I, D});
      need("feed_forward.w3.weight", {I, D});
      need("feed_forward.w2.weight", {D, I});
    }
    t.push_back({"embedding_norm.weight", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embed_tokens.weight", tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return rmsNorm(h, w.weight(layerTensor(layer, "operator_norm.weight")), c_.normEps);
  }

  at::Tensor layerOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (!isConv(layer)) return attention(w, layer, x);
    return convOperator(w, layer, x, true);
  }
  at::Tensor ssmOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (!isConv(layer)) return attention(w, layer, x);
    return convOperator(w, layer, x, false);
  }
  std::string ssmRemoves(int layer) const override { return isConv(layer) ? "the output gate C" : ""; }

  double mixerBytes(double L) const override {
    return std::max(3.0 * c_.numHeads * L * L, 2.0 * c_.hiddenSize * L * L) * 8.0;
  }
  std::string layerKind(int layer) const override { return isConv(layer) ? "short_conv" : "softmax_attention"; }
  int layerHeads(int layer) const override { return isConv(layer) ? c_.hiddenSize : c_.numHeads; }
  int layerValueChannels(int layer) const override { return isConv(layer) ? 1 : c_.headDim; }
  double layerTheoreticalStateSize(int layer, int split) const override {
    return isConv(layer) ? c_.convKernel - 1 : split * 2.0 * c_.headDim;
  }
  std::string layerTssFormula(int layer) const override {
    if (isConv(layer)) return "K-1 = " + std::to_string(c_.convKernel - 1);
    const std::string d = std::to_string(c_.headDim);
    return "s*(d_k+d_v) = s*(" + d + "+" + d + ")";
  }

 protected:
  bool isAttention(int layer) const override { return !isConv(layer); }
  at::Tensor attentionOutput(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return linear(w, mergeHeads(at::matmul(attention(w, layer, x), values(w, layer, x))), layer, "self_attn.out_proj",
                  false);
  }
  at::Tensor recurrentOutput(const HfWeights& w, int layer, const at::Tensor& x) const override {
    const Conv f = conv(w, layer, x);
    return linear(w, (f.C * f.y).t(), layer, "conv.out_proj", false);
  }
  at::Tensor feedForward(const HfWeights& w, int layer, const at::Tensor& h1) const override {
    const at::Tensor m = rmsNorm(h1, w.weight(layerTensor(layer, "ffn_norm.weight")), c_.normEps);
    return linear(
        w, at::silu(linear(w, m, layer, "feed_forward.w1", false)) * linear(w, m, layer, "feed_forward.w3", false),
        layer, "feed_forward.w2", false);
  }

 private:
  bool isConv(int layer) const { return c_.slidingLayers.at(layer); }

  /// diag(C) Toeplitz(h) diag(B) per channel [D, L, L] (without diag(C) unless `outputGate`):
  /// lag m = r - c weighs w[d, K - 1 - m].
  at::Tensor convOperator(const HfWeights& w, int layer, const at::Tensor& x, bool outputGate) const {
    const Conv f = conv(w, layer, x);
    const int64_t L = x.size(0), K = c_.convKernel, D = c_.hiddenSize;
    const at::Tensor taps = w.weight(layerTensor(layer, "conv.conv.weight")).select(1, 0);  // [D, K]
    at::Tensor toeplitz = at::zeros({D, L, L}, x.options());
    for (int64_t m = 0; m < std::min(K, L); ++m)
      toeplitz += at::diag_embed(taps.select(1, K - 1 - m).unsqueeze(-1).expand({D, L - m}), -m);
    const at::Tensor op = toeplitz * f.B.unsqueeze(1);
    return (outputGate ? f.C.unsqueeze(-1) * op : op).contiguous();
  }

  /// The conv layer's gates B, C and value input u [D, L], and y = conv(B * u) [D, L].
  struct Conv {
    at::Tensor B, C, u, y;
  };
  Conv conv(const HfWeights& w, int layer, const at::Tensor& x) const {
    const int64_t L = x.size(0), D = c_.hiddenSize;
    const at::Tensor bcx = linear(w, x, layer, "conv.in_proj", false).t();  // [3D, L]
    Conv f;
    f.B = bcx.narrow(0, 0, D);
    f.C = bcx.narrow(0, D, D);
    f.u = bcx.narrow(0, 2 * D, D);
    f.y = at::conv1d((f.B * f.u).unsqueeze(0), w.weight(layerTensor(layer, "conv.conv.weight")), {}, {1},
                     {c_.convKernel - 1}, {1}, D)
              .narrow(-1, 0, L)
              .squeeze(0);
    return f;
  }

  /// Query and key heads after q/k RMSNorm and RoPE, keys repeated to the query heads.
  at::Tensor attention(const HfWeights& w, int layer, const at::Tensor& x) const {
    const int64_t L = x.size(0), hd = c_.headDim;
    at::Tensor q = rmsNorm(toHeads(linear(w, x, layer, "self_attn.q_proj", false), hd),
                           w.weight(layerTensor(layer, "self_attn.q_layernorm.weight")), c_.normEps);
    at::Tensor k = rmsNorm(toHeads(linear(w, x, layer, "self_attn.k_proj", false), hd),
                           w.weight(layerTensor(layer, "self_attn.k_layernorm.weight")), c_.normEps);
    const auto [cos, sin] = rotaryCosSin(c_, L);
    q = applyRotary(q, cos, sin);
    k = applyRotary(k, cos, sin).repeat_interleave(c_.numHeads / c_.numKvHeads, 0);
    return causalSoftmax(q, k, 1.0 / std::sqrt(double(hd)), 0);
  }

  at::Tensor values(const HfWeights& w, int layer, const at::Tensor& x) const {
    return toHeads(linear(w, x, layer, "self_attn.v_proj", false), c_.headDim, c_.numHeads / c_.numKvHeads);
  }
};

std::unique_ptr<HfArchitecture> openLfm2(const HfConfig& c, const std::string& path) {
  return std::make_unique<Lfm2>(c, path);
}

}  // namespace

const HfFamily kLfm2Family = {&readLfm2Config, &openLfm2};

}  // namespace ess::hf
