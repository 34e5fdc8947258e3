// flash-linear-attention's model types as their checkpoints store them (fla/models/<name>,
// fla/layers/<name>.py), "model." prefix, embeddings model.embeddings.weight: blocks of
// attn_norm (RMSNorm), the linear-attention layer `attn`, mlp_norm and the GatedMLP
// down(silu(gate(x)) * up(x)), each with a residual.
//   gla     GatedLinearAttention (Yang et al. 2024): q, k, v projections (k and v on H_kv heads,
//           query head h reads key/value head h / (H / H_kv)), optional short convolutions + SiLU
//           on q, k, v, the low-rank gate gk_proj (rank 16) with log a_t = logsigmoid(gk_t) / 16
//           per key channel (clamp_min), optional feature map on q and k;
//   retnet  MultiScaleRetention (Sun et al. 2023): q, k rotated by RoPE (base 10000, whole
//           head), one fixed decay a_h = 1 - 2^(-5-h) per head, no short convolutions (the
//           model class does not pass them).
// Both: S_t = diag(a_t) S_{t-1} + k_t v_t^T per head, o_t = q_t S_t / sqrt(d_k), then the RMSNorm
// per head (weight [d_v] unless elementwise_affine is false) times the output gate
// act(g_proj(x)) (use_output_gate), o_proj. Operators per value channel e = h * d_v + j (the
// value input v[e] after its convolution), the norm's and the gate's factor of the actual forward
// pass folded into the rows:
//   T[e, r, c] = s_r[e] / sqrt(d_k) sum_n q_r[n] k_c[n] exp(sum_{t=c+1..r} log a_t[n]),
//   s_r[e] = w[j] act(g_r[e]) / sqrt(mean_j'(o_r[h, j']^2) + eps),
// in generator form (C = s q / sqrt(d_k), B = k, log a), so n[e] = T[e] v[e]. s depends on the
// input through o, so T describes this forward pass only.
//   delta_net       DeltaNet (Schlag et al. 2021; Yang et al. 2024): short convolutions (SiLU on
//                   q, k only with qk_activation silu; always on v), qk_activation, qk_norm (l2
//                   with eps 1e-6, or sum), beta = sigmoid(b_proj(x)) (use_beta; doubled with
//                   allow_neg_eigval), the head norm o_norm, gated with use_gate;
//   gated_deltanet  Gated DeltaNet (Yang et al. 2025): the same with SiLU short convolutions,
//                   L2-normalized q and k, num_v_heads value heads (value head h reads query/key
//                   head h / (HV / H)), head_dim and expand_v, and a decay per value head
//                   alpha_t = exp(-exp(A_log) softplus(a_proj(x_t) + dt_bias)).
// Both: S_t = alpha_t (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T, o_t = S_t^T q_t / sqrt(d_k):
// the exact operator of the delta rule (not a linear-attention approximation),
//   T[e, r, c] = s_r[e] / sqrt(d_k) q_r^T (prod_{t=r..c+1} alpha_t (I - beta_t k_t k_t^T)) beta_c k_c,
// dense, from the recurrence of the columns (no generator form: the transitions are not diagonal).
// The SSM-only operator of all four (ess/operator_scope.h) leaves out the head norm's and the
// output gate's row factor s: T_ssm[e] = T[e] / s[e], the recurrence's own output o = T_ssm v
// (the 1 / sqrt(d_k) scale of the queries stays, it is part of o).
#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ess/error.h"
#include "ess/generators.h"
#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

using json = nlohmann::json;

constexpr int kGateLowRank = 16;             // GatedLinearAttention's gate_low_rank_dim (not a config field)
constexpr double kGateLogitNormalizer = 16;  // its gate_logit_normalizer

/// A fraction field of the hidden size (expand_k, expand_v) as Python's int(hidden * f).
int expandedDim(const ConfigFields& f, const std::string& key, double dflt, int hidden, int heads) {
  const double e = f.number(key, dflt);
  const int d = static_cast<int>(hidden * e);
  if (d < heads || d % heads != 0)
    f.fail(key, "gives int(hidden_size * " + key + ") = " + std::to_string(d) +
                    ", not a multiple of num_heads = " + std::to_string(heads));
  return d;
}

/// Fails on a field that fla's model classes accept but this build does not compute.
void refuseSet(const ConfigFields& f, const std::string& key, const std::string& what) {
  if (f.get(key)) f.fail(key, "is " + f.get(key)->dump() + "; " + what + " are not supported");
}

void readFlaCommon(const ConfigFields& f, HfConfig& c, int heads, int hiddenRatio) {
  c.vocabSize = f.integer("vocab_size", 32000);
  c.hiddenSize = f.integer("hidden_size", 2048);
  c.numLayers = f.integer("num_hidden_layers", 24);
  c.numHeads = f.integer("num_heads", heads);
  c.normEps = f.number("norm_eps", 1e-6);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
  c.maxPositions = 0;  // no positional limit (max_position_embeddings is for hybrid attention)
  c.activation = f.text("hidden_act", "swish");
  if (c.activation != "swish" && c.activation != "silu")
    f.fail("hidden_act", "is \"" + c.activation + "\"; the GatedMLP and the output gate use swish (silu)");
  // GatedMLP: int(hidden * ratio * 2 / 3) rounded up to a multiple of 256 unless given.
  if (f.get("intermediate_size")) {
    c.intermediateSize = f.integer("intermediate_size");
  } else {
    const int ratio = f.integer("hidden_ratio", hiddenRatio);
    const int i = static_cast<int>(c.hiddenSize * ratio * 2.0 / 3.0);
    c.intermediateSize = 256 * ((i + 255) / 256);
  }
  refuseSet(f, "attn", "hybrid softmax-attention layers (field attn)");
  refuseSet(f, "attnres_block_size", "attention residuals");
  const json* aff = f.j.contains("elementwise_affine") ? &f.j["elementwise_affine"] : nullptr;
  c.normAffine = aff && aff->is_null() ? false : f.boolean("elementwise_affine", true);
}

/// The per-head output norm's module name, as fla's layers choose it.
std::string outputNormName(const HfConfig& c, bool fuseNorm) {
  return c.activation == "swish" && fuseNorm && c.outputGate ? "g_norm_swish_gate" : "g_norm";
}

void readGlaRetnetConfig(const ConfigFields& f, HfConfig& c) {
  const bool gla = c.modelType == "gla";
  readFlaCommon(f, c, gla ? 4 : 8, gla ? 4 : 2);
  c.numKvHeads = f.integer("num_kv_heads", c.numHeads);
  c.numValueHeads = c.numHeads;
  if (c.numHeads % c.numKvHeads != 0)
    f.fail("num_kv_heads",
           "(" + std::to_string(c.numKvHeads) + ") must divide num_heads (" + std::to_string(c.numHeads) + ")");
  c.headDim = expandedDim(f, "expand_k", gla ? 0.5 : 1.0, c.hiddenSize, c.numHeads) / c.numHeads;
  c.valueHeadDim = expandedDim(f, "expand_v", gla ? 1.0 : 2.0, c.hiddenSize, c.numHeads) / c.numHeads;
  c.featureMap = f.text("feature_map", "");
  if (!c.featureMap.empty() && c.featureMap != "relu" && c.featureMap != "silu" && c.featureMap != "swish" &&
      c.featureMap != "sigmoid")
    f.fail("feature_map", "is \"" + c.featureMap + "\"; supported: relu, silu, swish, sigmoid (or null)");
  c.outputGate = f.boolean("use_output_gate", true);
  c.normTensor = outputNormName(c, f.boolean("fuse_norm", true));
  if (gla) {
    c.shortConv = f.boolean("use_short_conv", false);
    c.convKernel = f.integer("conv_size", 4);
    if (const json* m = f.get("clamp_min")) {
      if (!m->is_number()) f.fail("clamp_min", "must be a number or null, got " + m->dump());
      c.clampMin = m->get<double>();
      if (!(c.clampMin <= 0)) f.fail("clamp_min", "must be <= 0 (a log decay), got " + m->dump());
    }
  } else {
    // MultiScaleRetention: RoPE over the whole key head; RetNetConfig's use_short_conv is not
    // passed to the layer, so it has none.
    if (c.headDim % 2 != 0)
      f.fail("expand_k", "gives head_k_dim " + std::to_string(c.headDim) + "; RoPE needs an even one");
    c.ropeTheta = 10000.0;
    c.rotaryDim = c.headDim;
  }
}

void readDeltaConfig(const ConfigFields& f, HfConfig& c) {
  const bool gated = c.modelType == "gated_deltanet";
  readFlaCommon(f, c, gated ? 6 : 16, 4);
  c.shortConv = f.boolean("use_short_conv", true);
  c.convKernel = f.integer("conv_size", 4);
  c.outputGate = f.boolean("use_gate", gated);
  c.allowNegEigval = f.boolean("allow_neg_eigval", false);
  c.normTensor = "o_norm";
  c.normAffine = true;  // o_norm always has its weight
  if (gated) {
    c.headDim = f.integer("head_dim", 256);
    const double ev = f.number("expand_v", 2.0);
    c.valueHeadDim = static_cast<int>(c.headDim * ev);
    if (c.valueHeadDim < 1 || std::abs(c.valueHeadDim - c.headDim * ev) > 1e-5 * c.headDim * ev)
      f.fail("expand_v", "times head_dim (" + std::to_string(c.headDim) + ") must be a positive integer");
    c.numValueHeads = f.integer("num_v_heads", c.numHeads);
    if (c.numValueHeads % c.numHeads != 0)
      f.fail("num_v_heads", "(" + std::to_string(c.numValueHeads) + ") must be a multiple of num_heads (" +
                                std::to_string(c.numHeads) + ")");
  } else {
    c.headDim = expandedDim(f, "expand_k", 1.0, c.hiddenSize, c.numHeads) / c.numHeads;
    c.valueHeadDim = expandedDim(f, "expand_v", 1.0, c.hiddenSize, c.numHeads) / c.numHeads;
    c.numValueHeads = c.numHeads;
    c.useBeta = f.boolean("use_beta", true);
    c.qkActivation = f.text("qk_activation", "silu");
    if (c.qkActivation != "silu" && c.qkActivation != "relu" && c.qkActivation != "elu" && c.qkActivation != "identity")
      f.fail("qk_activation", "is \"" + c.qkActivation + "\"; supported: silu, relu, elu, identity");
    c.qkNormType = f.text("qk_norm", "l2");
    if (c.qkNormType != "l2" && c.qkNormType != "sum")
      f.fail("qk_norm", "is \"" + c.qkNormType + "\"; supported: l2, sum");
  }
  c.numKvHeads = c.numHeads;
}

class FlaLinear : public HfArchitecture {
 public:
  FlaLinear(const HfConfig& c, const std::string& path)
      : HfArchitecture(c, path, {"model.", "layers.", "embeddings.weight"}),
        gla_(c.modelType == "gla"),
        delta_(c.modelType == "delta_net" || c.modelType == "gated_deltanet"),
        gated_(c.modelType == "gated_deltanet") {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, I = c_.intermediateSize, HV = c_.numValueHeads;
    const int64_t Kd = keyDim(), Vd = valueDim(), G = c_.numHeads / c_.numKvHeads, K = c_.convKernel;
    std::vector<ExpectedTensor> t = {{"embeddings.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const std::string& n, std::vector<int64_t> s) {
        t.push_back({layerTensor(i, n), std::move(s)});
      };
      need("attn_norm.weight", {D});
      need("attn.q_proj.weight", {Kd, D});
      need("attn.k_proj.weight", {Kd / G, D});
      need("attn.v_proj.weight", {Vd / G, D});
      if (c_.outputGate) need("attn.g_proj.weight", {Vd, D});
      if (c_.shortConv) {
        need("attn.q_conv1d.weight", {Kd, 1, K});
        need("attn.k_conv1d.weight", {Kd / G, 1, K});
        need("attn.v_conv1d.weight", {Vd / G, 1, K});
      }
      if (gla_) {
        need("attn.gk_proj.0.weight", {kGateLowRank, D});
        need("attn.gk_proj.1.weight", {Kd / G, kGateLowRank});
        need("attn.gk_proj.1.bias", {Kd / G});
      }
      if (delta_ && (c_.useBeta || gated_)) need("attn.b_proj.weight", {HV, D});
      if (gated_) {
        need("attn.a_proj.weight", {HV, D});
        need("attn.A_log", {HV});
        need("attn.dt_bias", {HV});
      }
      if (c_.normAffine) need("attn." + c_.normTensor + ".weight", {c_.valueHeadDim});
      need("attn.o_proj.weight", {D, Vd});
      need("mlp_norm.weight", {D});
      need("mlp.gate_proj.weight", {I, D});
      need("mlp.up_proj.weight", {I, D});
      need("mlp.down_proj.weight", {D, I});
    }
    t.push_back({"norm.weight", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embeddings.weight", tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return rmsNorm(h, w.weight(layerTensor(layer, "attn_norm.weight")), c_.normEps);
  }

  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const override {
    const Features f = features(w, layer, mixerInput(w, layer, h), false);
    const at::Tensor n = (f.scale * f.y).t();  // [L, E]: the normalized, gated layer output
    const at::Tensor h1 = h + linear(w, n, layer, "attn.o_proj", false);
    const at::Tensor x = rmsNorm(h1, w.weight(layerTensor(layer, "mlp_norm.weight")), c_.normEps);
    const at::Tensor m =
        at::silu(linear(w, x, layer, "mlp.gate_proj", false)) * linear(w, x, layer, "mlp.up_proj", false);
    return h1 + linear(w, m, layer, "mlp.down_proj", false);
  }

  at::Tensor layerOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (!delta_) return materializeGenerators(layerGenerators(w, layer, x), path_);
    const Features f = features(w, layer, x, true);
    return (f.scale.unsqueeze(-1) * f.op.repeat_interleave(c_.valueHeadDim, 0)).contiguous();
  }

  bool hasGenerators() const override { return !delta_; }
  Generators layerGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    const Features f = features(w, layer, x, false);
    Generators g;
    g.C = (f.scale.unsqueeze(-1) * perChannel(f.q)).contiguous();  // [E, L, d_k]
    g.B = perChannel(f.k);
    g.logA = perChannel(f.logA);  // gla [E, L, d_k], retnet [E, L]
    return g;
  }

  at::Tensor ssmOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    if (!delta_) return materializeGenerators(ssmGenerators(w, layer, x), path_);
    return features(w, layer, x, true).op.repeat_interleave(c_.valueHeadDim, 0).contiguous();
  }
  Generators ssmGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    const Features f = features(w, layer, x, false);
    Generators g;
    g.C = perChannel(f.q);  // the rows without s
    g.B = perChannel(f.k);
    g.logA = perChannel(f.logA);
    return g;
  }
  std::string ssmRemoves(int) const override {
    const std::string norm = "the head RMSNorm's factor" + std::string(c_.normAffine ? " w / rms(o)" : " 1 / rms(o)");
    return c_.outputGate ? norm + " and the output gate silu(g_proj(x))" : norm;
  }

  std::string mixerKind() const override { return c_.modelType; }
  int heads() const override { return c_.numValueHeads * c_.valueHeadDim; }
  int valueChannels() const override { return 1; }
  double theoreticalStateSize(int) const override { return c_.headDim; }
  std::string tssFormula() const override { return "d_k = " + std::to_string(c_.headDim); }
  double mixerBytes(double L) const override {
    const double E = heads(), dk = c_.headDim, HV = c_.numValueHeads;
    if (delta_) return (2.0 * E * L * L + HV * L * (L + 2 * dk)) * 8.0;  // T, its rows' factor, the columns' state
    return (3.0 * E * L * dk + 2.0 * E * L * L) * 8.0;                   // C, B, log a and the dense T
  }

 private:
  /// Per value head [HV, ...] -> per value channel [E, ...] (each head's d_v channels in a row).
  at::Tensor perChannel(const at::Tensor& t) const { return t.repeat_interleave(c_.valueHeadDim, 0).contiguous(); }
  int64_t keyDim() const { return int64_t(c_.numHeads) * c_.headDim; }
  int64_t valueDim() const { return int64_t(c_.numValueHeads) * c_.valueHeadDim; }

  /// Causal depthwise convolution of p [L, C] with block `layer`'s attn.`n`.weight [C, 1, K],
  /// then SiLU when `silu`.
  at::Tensor shortConv(const HfWeights& w, int layer, const std::string& n, const at::Tensor& p, bool silu) const {
    const int64_t L = p.size(0), C = p.size(1);
    const at::Tensor k = w.weight(layerTensor(layer, "attn." + n + ".weight"));
    const at::Tensor y =
        at::conv1d(p.t().unsqueeze(0), k, {}, {1}, {c_.convKernel - 1}, {1}, C).narrow(-1, 0, L).squeeze(0).t();
    return silu ? at::silu(y) : y;
  }

  at::Tensor featureMap(const at::Tensor& x) const {
    if (c_.featureMap == "relu") return at::relu(x);
    if (c_.featureMap == "silu" || c_.featureMap == "swish") return at::silu(x);
    if (c_.featureMap == "sigmoid") return at::sigmoid(x);
    return x;
  }

  /// DeltaNet's q and k after the projection (and convolution): activation and normalization.
  at::Tensor deltaQk(const at::Tensor& x) const {
    at::Tensor y = x;
    if (c_.qkActivation == "silu" && !c_.shortConv) y = at::silu(y);  // (the convolution applied it)
    if (c_.qkActivation == "relu") y = at::relu(y);
    if (c_.qkActivation == "elu") y = at::elu(y) + 1;
    if (c_.qkNormType == "sum") return y / y.sum(-1, true);
    return y * at::rsqrt(y.pow(2).sum(-1, true) + 1e-6);  // fla's l2norm
  }

  /// Layer `layer` on input x [L, D], per value head hv (query/key heads repeated to it):
  /// q / sqrt(d_k) and k [HV, L, d_k]; gla, retnet: log decays logA ([HV, L, d_k] or [HV, L]);
  /// delta rule: the dense head operator op [HV, L, L] when `withOperator`; the scan output o
  /// as y [E, L], the value input v [E, L] and the row factor s [E, L] of norm and gate, per
  /// value channel e = hv * d_v + j.
  struct Features {
    at::Tensor q, k, logA, v, y, scale, op;
  };
  Features features(const HfWeights& w, int layer, const at::Tensor& x, bool withOperator) const {
    const int64_t L = x.size(0), H = c_.numHeads, KV = c_.numKvHeads, HV = c_.numValueHeads;
    const int64_t dk = c_.headDim, dv = c_.valueHeadDim;
    at::Tensor q = linear(w, x, layer, "attn.q_proj", false);
    at::Tensor k = linear(w, x, layer, "attn.k_proj", false);
    at::Tensor v = linear(w, x, layer, "attn.v_proj", false);
    const bool qkSilu = !delta_ || c_.qkActivation == "silu";  // (gated_deltanet: always silu)
    if (c_.shortConv) {
      q = shortConv(w, layer, "q_conv1d", q, qkSilu);
      k = shortConv(w, layer, "k_conv1d", k, qkSilu);
      v = shortConv(w, layer, "v_conv1d", v, true);
    } else if (delta_) {
      v = at::silu(v);  // (q and k: deltaQk)
    }
    const auto heads = [&](const at::Tensor& t, int64_t n, int64_t d) { return t.reshape({L, n, d}).transpose(0, 1); };
    // Key head of each value head: GQA for gla / retnet (H_kv under H), GVA for gated_deltanet.
    const at::Tensor keyHead =
        delta_ ? at::arange(HV, at::kLong).div(HV / H, "floor") : at::arange(H, at::kLong).div(H / KV, "floor");
    Features f;
    at::Tensor beta;  // [HV, L]
    if (delta_) {
      q = deltaQk(heads(q, H, dk));
      k = deltaQk(heads(k, H, dk));
      v = heads(v, HV, dv);
      beta = c_.useBeta || gated_ ? at::sigmoid(linear(w, x, layer, "attn.b_proj", false)).t()
                                  : at::ones({HV, L}, x.options());
      if (c_.allowNegEigval) beta = beta * 2;
      f.logA =
          gated_
              ? (-at::exp(w.weight(layerTensor(layer, "attn.A_log"))) *
                 at::softplus(linear(w, x, layer, "attn.a_proj", false) + w.weight(layerTensor(layer, "attn.dt_bias"))))
                    .t()
              : at::zeros({HV, L}, x.options());
      if (!at::isfinite(f.logA).all().item<bool>())
        throw InputError(path_ + ": layer " + std::to_string(layer) + ": " + c_.modelType +
                         ": the decay exp(-exp(A_log) softplus(a_proj(x) + dt_bias)) is not finite");
    } else {
      q = featureMap(heads(q, H, dk));
      k = featureMap(heads(k, KV, dk));
      v = heads(v, KV, dv).index_select(0, keyHead);
      if (gla_) {
        const at::Tensor gk = linear(w, linear(w, x, layer, "attn.gk_proj.0", false), layer, "attn.gk_proj.1", true);
        f.logA =
            (at::log_sigmoid(heads(gk, KV, dk)) / kGateLogitNormalizer).clamp_min(c_.clampMin).index_select(0, keyHead);
      } else {
        const auto [cos, sin] = rotaryCosSin(c_, L);
        q = applyRotary(q, cos, sin);
        k = applyRotary(k, cos, sin);
        const at::Tensor gamma = 1 - at::pow(2.0, -5.0 - at::arange(H, x.options()));  // [H]
        f.logA = at::log(gamma).unsqueeze(-1).expand({H, L}).contiguous();
      }
    }
    f.q = (delta_ ? q.index_select(0, keyHead) : q) / std::sqrt(static_cast<double>(dk));
    f.k = k.index_select(0, keyHead);
    // The scan per value head: state [HV, d_k, d_v]; with `withOperator` the delta rule's columns
    // M [HV, d_k, L] (column c: the state the unit input v_c = 1 leaves), T[:, t, :] = q_t^T M_t.
    const at::Tensor a = at::exp(f.logA.dim() == 2 ? f.logA.unsqueeze(-1).expand({HV, L, dk}) : f.logA);
    at::Tensor state = at::zeros({HV, dk, dv}, x.options());
    at::Tensor cols = withOperator ? at::zeros({HV, dk, L}, x.options()) : at::Tensor();
    std::vector<at::Tensor> os, rows;
    for (int64_t t = 0; t < L; ++t) {
      const at::Tensor kt = f.k.select(1, t).unsqueeze(-1);  // [HV, d_k, 1]
      const at::Tensor at_ = a.select(1, t).unsqueeze(-1);
      if (delta_) {
        const at::Tensor bt = beta.select(1, t).view({HV, 1, 1});
        // alpha (I - beta k k^T) S + beta k v^T
        state = at_ * (state - bt * kt * (kt * state).sum(1, true)) + bt * kt * v.select(1, t).unsqueeze(1);
        if (withOperator) {
          cols = at_ * (cols - bt * kt * (kt * cols).sum(1, true));
          cols.select(2, t).add_(bt.view({HV, 1}) * kt.squeeze(-1));
          rows.push_back((f.q.select(1, t).unsqueeze(-1) * cols).sum(1));  // [HV, L]
        }
      } else {
        state = at_ * state + kt * v.select(1, t).unsqueeze(1);
      }
      os.push_back((f.q.select(1, t).unsqueeze(-1) * state).sum(1));  // [HV, d_v]
    }
    const at::Tensor o = at::stack(os, 1);                           // [HV, L, d_v]
    at::Tensor s = at::rsqrt(o.pow(2).mean(-1, true) + c_.normEps);  // [HV, L, 1]
    if (c_.normAffine) s = s * w.weight(layerTensor(layer, "attn." + c_.normTensor + ".weight"));
    if (c_.outputGate) s = s * at::silu(heads(linear(w, x, layer, "attn.g_proj", false), HV, dv));
    s = s.expand({HV, L, dv});
    if (withOperator) f.op = at::stack(rows, 1);  // [HV, L, L]
    f.y = o.permute({0, 2, 1}).reshape({HV * dv, L});
    f.scale = s.permute({0, 2, 1}).reshape({HV * dv, L});
    f.v = v.permute({0, 2, 1}).reshape({HV * dv, L});  // the value input per channel
    return f;
  }

  bool gla_, delta_, gated_;
};

std::unique_ptr<HfArchitecture> openFla(const HfConfig& c, const std::string& path) {
  return std::make_unique<FlaLinear>(c, path);
}

}  // namespace

const HfFamily kGlaFamily = {&readGlaRetnetConfig, &openFla};
const HfFamily kDeltaNetFamily = {&readDeltaConfig, &openFla};

}  // namespace ess::hf
