// Mamba-2 (Dao and Gu 2024, HF Mamba2Model, model_type mamba2): RMSNorm, the SSD mixer,
// residual; embeddings backbone.embeddings.weight, final norm backbone.norm_f.weight. The mixer
// as HF's Mamba2Mixer.torch_forward: in_proj to [z, xBC, dt] (E, E + 2 G N, H rows; no d_mlp
// rows), causal depthwise conv1d + SiLU over xBC, split into x [E], B, C [G N]; per head h one
// decay exp(dt_t[h] A[h]) with A = -exp(A_log), dt = clamp(softplus(dt + dt_bias), time_step_limit);
// heads h share B, C of group h / (H / G); D skip per head; MambaRMSNormGated
// n = w * (y * silu(z)) / rms(y * silu(z)) over all E channels (HF's, not grouped); out_proj.
// Operators per inner channel e = h * head_dim + p (the value input x[e]), with the gate and the
// norm's factor of the actual forward pass folded into the rows:
//   T[e, r, c] = s_r[e] (C_r[g] . B_c[g] exp(sum_{t=c+1..r} dt_t[h] A[h]) dt_c[h] + [r == c] D[h]),
//   s_r[e] = w[e] silu(z_r[e]) / sqrt(mean_e'(y_r[e'] silu(z_r[e']))^2 + eps),
// so n[e] = T[e] x[e]. s depends on the input through y, so T describes this forward pass only.
// The SSM-only operator (ess/operator_scope.h) leaves out the gated RMSNorm (s) and the D skip:
//   T_ssm[e, r, c] = C_r[g] . B_c[g] exp(sum_{t=c+1..r} dt_t[h] A[h]) dt_c[h],
// so that the scan's own output (before + D x and the norm) is T_ssm x.
#include <ATen/ATen.h>

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

void readMamba2Config(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size");
  c.hiddenSize = f.integer("hidden_size");
  c.numLayers = f.integer("num_hidden_layers");
  c.stateSize = f.integer("state_size", 128);
  c.expand = f.integer("expand", 2);
  c.numHeads = f.integer("num_heads", 128);
  c.headDim = f.integer("head_dim", 64);
  c.numGroups = f.integer("n_groups", 1);
  c.convKernel = f.integer("conv_kernel", 4);
  c.normEps = f.number("layer_norm_epsilon", 1e-5);
  c.convBias = f.boolean("use_conv_bias", true);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
  if (f.boolean("use_bias", false))
    f.fail("use_bias", "is true; Mamba-2 with in_proj/out_proj biases is not supported");
  c.activation = f.text("hidden_act", "silu");
  if (c.activation != "silu") f.fail("hidden_act", "is \"" + c.activation + "\"; the Mamba-2 mixer uses silu");
  c.intermediateSize = c.expand * c.hiddenSize;
  if (c.numHeads * c.headDim != c.intermediateSize)
    f.fail("num_heads", "times head_dim (" + std::to_string(c.numHeads) + " * " + std::to_string(c.headDim) +
                            ") must equal expand * hidden_size = " + std::to_string(c.intermediateSize));
  if (c.numHeads % c.numGroups != 0)
    f.fail("n_groups",
           "must divide num_heads = " + std::to_string(c.numHeads) + ", got " + std::to_string(c.numGroups));
  if (const json* lim = f.get("time_step_limit")) {
    // A bound is a number or infinity as Python's json writes it (Infinity, quoted by
    // loadCheckpointFiles), as a string, or as transformers 5's {"__float__": "Infinity"}.
    const auto bound = [&](const json& v) {
      const json& s = v.is_object() && v.contains("__float__") ? v["__float__"] : v;
      if (s.is_number()) return s.get<double>();
      if (s.is_string() && (s == "Infinity" || s == "inf")) return std::numeric_limits<double>::infinity();
      f.fail("time_step_limit", "must be [min, max] of numbers, got " + lim->dump());
    };
    if (!lim->is_array() || lim->size() != 2) f.fail("time_step_limit", "must be [min, max], got " + lim->dump());
    c.dtMin = bound((*lim)[0]);
    c.dtMax = bound((*lim)[1]);
    if (!(c.dtMin >= 0) || !(c.dtMax > c.dtMin))
      f.fail("time_step_limit", "must be [min, max] with 0 <= min < max, got " + lim->dump());
  }
  c.maxPositions = 0;
}

class Mamba2 : public HfArchitecture {
 public:
  Mamba2(const HfConfig& c, const std::string& path)
      : HfArchitecture(c, path, {"backbone.", "layers.", "embeddings.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, E = c_.intermediateSize, H = c_.numHeads;
    const int64_t conv = convChannels();
    std::vector<ExpectedTensor> t = {{"embeddings.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const char* n, std::vector<int64_t> s) { t.push_back({layerTensor(i, n), std::move(s)}); };
      need("norm.weight", {D});
      need("mixer.in_proj.weight", {E + conv + H, D});
      need("mixer.conv1d.weight", {conv, 1, c_.convKernel});
      if (c_.convBias) need("mixer.conv1d.bias", {conv});
      need("mixer.dt_bias", {H});
      need("mixer.A_log", {H});
      need("mixer.D", {H});
      need("mixer.norm.weight", {E});
      need("mixer.out_proj.weight", {D, E});
    }
    t.push_back({"norm_f.weight", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embeddings.weight", tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return rmsNorm(h, w.weight(layerTensor(layer, "norm.weight")), c_.normEps);
  }

  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const override {
    const Features f = features(w, layer, mixerInput(w, layer, h));
    const at::Tensor n = (f.scale * f.y).t();  // [L, E]: the gated, normalized scan output
    return h + rowParallelLinear(n, w.weight(layerTensor(layer, "mixer.out_proj.weight")));
  }

  at::Tensor layerOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return materializeGenerators(layerGenerators(w, layer, x), path_);
  }

  bool hasGenerators() const override { return true; }
  Generators layerGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    const Features f = features(w, layer, x);
    Generators g;
    g.C = (f.scale.unsqueeze(-1) * f.C).contiguous();  // [E, L, N]
    g.B = (f.dt.unsqueeze(-1) * f.B).contiguous();
    g.logA = (f.dt * f.A.unsqueeze(-1)).contiguous();  // [E, L]: one decay per head
    g.D = (f.scale * f.D.unsqueeze(-1)).contiguous();
    return g;
  }

  at::Tensor ssmOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return materializeGenerators(ssmGenerators(w, layer, x), path_);
  }
  Generators ssmGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    const Features f = features(w, layer, x);
    Generators g;
    g.C = f.C.contiguous();  // [E, L, N]
    g.B = (f.dt.unsqueeze(-1) * f.B).contiguous();
    g.logA = (f.dt * f.A.unsqueeze(-1)).contiguous();
    return g;
  }
  std::string ssmRemoves(int) const override {
    return "the gated RMSNorm's factor w silu(z) / rms(y silu(z)) and the D skip";
  }

  std::string mixerKind() const override { return "mamba2"; }
  int heads() const override { return c_.intermediateSize; }
  int valueChannels() const override { return 1; }
  double theoreticalStateSize(int) const override { return c_.stateSize; }
  std::string tssFormula() const override { return "N = " + std::to_string(c_.stateSize); }
  double mixerBytes(double L) const override { return 4.0 * L * c_.intermediateSize * c_.stateSize * 8.0; }

 private:
  int64_t convChannels() const { return c_.intermediateSize + 2 * c_.numGroups * c_.stateSize; }

  /// The mixer of `layer` on input x [L, D], per inner channel e: value input u [E, L], step dt
  /// [E, L] and decay rate A [E] of e's head, B and C [E, L, N] of e's group, D [E], and the
  /// row factor s [E, L] of the gate and the norm, computed from the scan output y [E, L]
  /// (with the D skip), so that the mixer's normalized output is s * y.
  struct Features {
    at::Tensor u, dt, A, B, C, D, y, scale;
  };
  Features features(const HfWeights& w, int layer, const at::Tensor& x) const {
    const auto W = [&](const char* n) { return w.weight(layerTensor(layer, std::string("mixer.") + n)); };
    const int64_t L = x.size(0), E = c_.intermediateSize, H = c_.numHeads, P = c_.headDim, N = c_.stateSize;
    const int64_t G = c_.numGroups, conv = convChannels();
    const at::Tensor zxbcdt = rowParallelLinear(x, W("in_proj.weight"));  // [L, E + conv + H]
    const at::Tensor z = zxbcdt.narrow(1, 0, E).t();                      // [E, L]
    // Causal depthwise convolution over xBC: K - 1 zeros in front, the first L outputs.
    const at::Tensor convBias = c_.convBias ? W("conv1d.bias") : at::zeros({conv}, x.options());
    const at::Tensor xBC = at::silu(at::conv1d(zxbcdt.narrow(1, E, conv).t().unsqueeze(0), W("conv1d.weight"), convBias,
                                               {1}, {c_.convKernel - 1}, {1}, conv)
                                        .narrow(-1, 0, L))
                               .squeeze(0);  // [conv, L]
    const at::Tensor dtHead = at::softplus(zxbcdt.narrow(1, E + conv, H) + W("dt_bias")).clamp(c_.dtMin, c_.dtMax);
    const at::Tensor aHead = -at::exp(W("A_log"));  // [H]
    const at::Tensor bad = at::logical_not(at::isfinite(aHead)) | at::logical_not(at::isfinite(dtHead)).any(0);
    if (bad.any().item<bool>())
      throw InputError(path_ + ": layer " + std::to_string(layer) + ": mamba2: unstable parameters in head " +
                       std::to_string(bad.nonzero()[0][0].item<int64_t>()) +
                       ": A = -exp(A_log) or the step dt is not finite, so the decay exp(dt * A) is not in [0, 1]");
    // Channel e belongs to head e / P and to group (e / P) / (H / G).
    const at::Tensor head = at::arange(E, at::kLong).div(P, "floor");
    const at::Tensor group = head.div(H / G, "floor");
    Features f;
    f.u = xBC.narrow(0, 0, E);
    f.B = xBC.narrow(0, E, G * N).reshape({G, N, L}).transpose(1, 2).index_select(0, group);  // [E, L, N]
    f.C = xBC.narrow(0, E + G * N, G * N).reshape({G, N, L}).transpose(1, 2).index_select(0, group);
    f.dt = dtHead.t().index_select(0, head);  // [E, L]
    f.A = aHead.index_select(0, head);
    f.D = W("D").index_select(0, head);
    // The scan y[e] (one state [E, N] carried over positions), then the gated RMSNorm's factor.
    const at::Tensor a = at::exp(f.dt * f.A.unsqueeze(-1));  // [E, L]
    const at::Tensor b = (f.dt * f.u).unsqueeze(-1) * f.B;   // [E, L, N]
    at::Tensor state = at::zeros({E, N}, x.options());
    std::vector<at::Tensor> ys;
    for (int64_t t = 0; t < L; ++t) {
      state = a.select(1, t).unsqueeze(-1) * state + b.select(1, t);
      ys.push_back((state * f.C.select(1, t)).sum(-1));  // [E]
    }
    const at::Tensor gate = at::silu(z);
    f.y = at::stack(ys, 1) + f.D.unsqueeze(-1) * f.u;  // [E, L]
    const at::Tensor gated = f.y * gate;
    const at::Tensor inv = at::rsqrt(gated.pow(2).mean(0, true) + c_.normEps);  // [1, L]
    f.scale = W("norm.weight").unsqueeze(-1) * gate * inv;
    return f;
  }
};

std::unique_ptr<HfArchitecture> openMamba2(const HfConfig& c, const std::string& path) {
  return std::make_unique<Mamba2>(c, path);
}

}  // namespace

const HfFamily kMamba2Family = {&readMamba2Config, &openMamba2};

}  // namespace ess::hf
