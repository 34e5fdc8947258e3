// mamba: the selective state space block of Mamba (Gu and Dao, "Mamba: Linear-Time Sequence
// Modeling with Selective State Spaces", 2023), S6 with its short convolution and output gate,
// parameter names and layout as in Hugging Face's MambaMixer (so issue-5 checkpoints map 1:1).
// Inner width E = expand * D, state size N, conv length d_conv, dt rank R:
//   [x_in, z] = in_proj(x)                          in_proj.weight [2E, D]
//   u   = silu(conv1d(x_in))  causal, depthwise     conv1d.weight [E, 1, d_conv], conv1d.bias [E]
//   [dt_low, B_t, C_t] = x_proj(u_t)                 x_proj.weight [R + 2N, E]
//   dt_t = softplus(dt_proj(dt_low))  in R^E         dt_proj.weight [E, R], dt_proj.bias [E]
//   A = -exp(A_log)                   [E, N]         A_log [E, N]  (S4D-Real init: log(1..N))
//   per channel e:  h_t = exp(dt_t[e] A[e]) * h_{t-1} + dt_t[e] B_t u_t[e]       (h in R^N)
//                   y_t[e] = (C_t . h_t + D[e] u_t[e]) * silu(z_t[e])             D [E]
//   out = out_proj(y)                                out_proj.weight [D, E]
// SISO view: the conv + SiLU are part of the featurizer (they produce u, the value input that
// the operator multiplies, values() = u as [E, L, 1]); the gate silu(z) scales output rows. So
//   T[e, r, c] = silu(z_r[e]) * C_r . (exp(sum_{t=c+1..r} dt_t[e] A[e]) * dt_c[e] B_c)  (c < r)
//   T[e, r, r] = silu(z_r[e]) * (dt_r[e] C_r . B_r + D[e]),
// exactly the generator form (ess/generators.h) with C[e,r,:] = silu(z_r[e]) C_r,
// B[e,c,:] = dt_c[e] B_c, log_a[e,t,:] = dt_t[e] A[e,:], D[e,r] = silu(z_r[e]) D[e].
// The row scaling does not change ranks: tolerance-ESS <= min(N, s, L-s). TSS: N per channel
// (the state h; the conv's d_conv - 1 inputs are featurizer state, not counted).
// Forms: recurrentHeadOutputs is the selective scan above (an explicit loop over time, as
// Mamba's reference `selective_scan_ref`); headOutputs uses the same scan (it is how Mamba
// trains: materializing T would cost E*L*L per sequence); materialize builds T from the
// generators with decay sums formed directly from the non-positive terms (no cancellation).
// Initialization as in Mamba: dt = softplus(dt_proj.bias) log-uniform in [1e-3, 1e-1],
// A_log = log(1..N), D = 1, linear and conv weights uniform in +-1/sqrt(fan_in).
// Unstable parameters (non-finite A_log, a decay exp(dt A) >= 1) are reported with InputError.
#include <cmath>
#include <limits>

#include "ess/error.h"
#include "ess/mixer.h"
#include "mixer/selective_scan.h"

namespace ess {
namespace {

class Mamba : public Mixer {
 public:
  Mamba(int dModel, int expand, int stateSize, int convKernel, int dtRank, const at::Generator* gen)
      : Mixer("mamba", dModel, dModel, false, gen, false, false),
        inner_(expand * dModel),
        state_(stateSize),
        kernel_(convKernel),
        rank_(dtRank > 0 ? dtRank : (dModel + 15) / 16) {
    setHeadLayout(inner_, 1);
    const auto g = gen ? c10::optional<at::Generator>(*gen) : c10::nullopt;
    inWeight_ = addLinear("in_proj", 2 * inner_, dModel, false, gen).first;
    auto conv = register_module("conv1d", std::make_shared<torch::nn::Module>());
    const double cb = 1.0 / std::sqrt(static_cast<double>(kernel_));
    convWeight_ = conv->register_parameter("weight", at::empty({inner_, 1, kernel_}, at::kFloat).uniform_(-cb, cb, g));
    convBias_ = conv->register_parameter("bias", at::empty({inner_}, at::kFloat).uniform_(-cb, cb, g));
    xWeight_ = addLinear("x_proj", rank_ + 2 * state_, inner_, false, gen).first;
    auto [w, b] = addLinear("dt_proj", inner_, rank_, true, gen);
    dtWeight_ = w;
    dtBias_ = b;
    at::NoGradGuard noGrad;
    auto dt = at::empty({inner_}, at::kFloat).uniform_(std::log(1e-3), std::log(1e-1), g).exp();
    dtBias_.copy_(dt + at::log(-at::expm1(-dt)));  // inverse softplus
    aLog_ = register_parameter(
        "A_log", at::log(at::arange(1, state_ + 1, at::kFloat)).unsqueeze(0).expand({inner_, state_}).contiguous());
    dSkip_ = register_parameter("D", at::ones({inner_}, at::kFloat));
    oWeight_ = addLinear("out_proj", dModel, inner_, false, gen).first;
  }

  /// What the featurizer computes for x [..., L, D]: u, gate, dt [..., E, L]; B, C [..., L, N].
  struct Features {
    at::Tensor u, gate, dt, B, C;
  };
  Features features(const at::Tensor& x) const {
    const auto dtype = x.scalar_type();
    const int64_t L = x.size(-2), D = x.size(-1);
    auto lead = x.sizes().vec();
    lead.resize(lead.size() - 2);
    auto xz = at::linear(x.reshape({-1, L, D}), inWeight_.to(dtype));  // [Bf, L, 2E]
    auto xin = xz.narrow(-1, 0, inner_).transpose(1, 2);               // [Bf, E, L]
    auto z = xz.narrow(-1, inner_, inner_).transpose(1, 2);
    // Causal depthwise convolution: pad d_conv - 1 zeros in front, keep the first L outputs.
    auto conv =
        at::conv1d(xin, convWeight_.to(dtype), convBias_.to(dtype), {1}, {kernel_ - 1}, {1}, inner_).narrow(-1, 0, L);
    Features f;
    f.u = at::silu(conv);                                             // [Bf, E, L]
    auto xdbl = at::linear(f.u.transpose(1, 2), xWeight_.to(dtype));  // [Bf, L, R + 2N]
    f.dt = at::softplus(at::linear(xdbl.narrow(-1, 0, rank_), dtWeight_.to(dtype), dtBias_.to(dtype)))
               .transpose(1, 2);  // [Bf, E, L]
    f.B = xdbl.narrow(-1, rank_, state_);
    f.C = xdbl.narrow(-1, rank_ + state_, state_);
    f.gate = at::silu(z);
    auto shape = [&](at::Tensor t, int64_t a, int64_t b) {
      auto s = lead;
      s.insert(s.end(), {a, b});
      return t.reshape(s);
    };
    f.u = shape(f.u, inner_, L);
    f.gate = shape(f.gate, inner_, L);
    f.dt = shape(f.dt, inner_, L);
    f.B = shape(f.B, L, state_);
    f.C = shape(f.C, L, state_);
    return f;
  }

  /// A = -exp(A_log) [E, N] in `dtype`; throws InputError on non-finite values.
  at::Tensor stateMatrix(at::ScalarType dtype) const {
    auto A = -at::exp(aLog_.to(dtype));
    auto bad = at::logical_not(at::isfinite(A)).any(-1) | at::logical_not(at::isfinite(dSkip_.to(dtype)));
    if (bad.any().item<bool>()) {
      const int64_t ch = bad.nonzero()[0][0].item<int64_t>();
      throw InputError("mamba: unstable parameters in channel " + std::to_string(ch) +
                       ": A = -exp(A_log) or D is not finite");
    }
    return A;
  }

  at::Tensor values(const at::Tensor& x) const override { return features(x).u.unsqueeze(-1); }

  /// Generators of one sequence x [L, D] (float64), see the file comment.
  Generators generators(const at::Tensor& x) override {
    auto f = features(x.to(at::kDouble));  // u, gate, dt [E, L]; B, C [L, N]
    auto A = stateMatrix(at::kDouble);     // [E, N]
    Generators g;
    g.C = (f.gate.unsqueeze(-1) * f.C.unsqueeze(0)).contiguous();  // [E, L, N]
    g.B = (f.dt.unsqueeze(-1) * f.B.unsqueeze(0)).contiguous();
    g.logA = (f.dt.unsqueeze(-1) * A.unsqueeze(1)).contiguous();
    g.D = (f.gate * dSkip_.to(at::kDouble).unsqueeze(-1)).contiguous();
    checkSteps(f.dt);
    return g;
  }

  /// x [..., L, D] -> T [..., E, L, L]. Per state n, the decay sums seg[r, c] = sum_{t=c+1..r}
  /// dt_t A_n are cumulative sums of the non-positive terms placed below the diagonal.
  at::Tensor materialize(const at::Tensor& x) override {
    auto f = features(x);
    auto A = stateMatrix(x.scalar_type());
    checkSteps(f.dt);
    const int64_t L = x.size(-2);
    auto below = at::ones({L, L}, x.options().dtype(at::kBool)).tril(-1);
    auto above = below.logical_not().triu(1);
    at::Tensor T;
    for (int64_t n = 0; n < state_; ++n) {
      auto la = f.dt * A.select(-1, n).unsqueeze(-1);  // [..., E, L], <= 0
      auto terms = (la.unsqueeze(-1) * at::ones({L}, x.options())).masked_fill(below.logical_not(), 0.0);
      auto seg = at::cumsum(terms, -2).masked_fill(above, -std::numeric_limits<double>::infinity());
      auto cb = f.C.select(-1, n).unsqueeze(-1) * f.B.select(-1, n).unsqueeze(-2);  // [..., L, L]
      auto term = at::exp(seg) * cb.unsqueeze(-3);                                  // [..., E, L, L]
      T = T.defined() ? T + term : term;
    }
    T = T * f.dt.unsqueeze(-2);  // dt_c along the columns
    T = T + at::diag_embed(dSkip_.to(x.scalar_type()).unsqueeze(-1) * at::ones_like(f.dt));
    return T * f.gate.unsqueeze(-1);  // silu(z_r) along the rows
  }

  at::Tensor headOutputs(const at::Tensor& x) override {
    auto f = features(x);
    return scan(f, stateMatrix(x.scalar_type()), dSkip_.to(x.scalar_type()));
  }
  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override { return headOutputs(x); }

  double theoreticalStateSize(int) const override { return static_cast<double>(state_); }
  std::string tssFormula() const override { return "N = " + std::to_string(state_); }

 private:
  /// The selective scan (mixer/selective_scan.h) as [..., E, L, 1].
  static at::Tensor scan(const Features& f, const at::Tensor& A, const at::Tensor& D) {
    return selectiveScan(f.u, f.gate, f.dt, f.B, f.C, A, D).unsqueeze(-1);
  }

  /// Reports steps dt that are not finite (the decay exp(dt A) would not be in [0, 1]), naming
  /// the channel. dt [..., E, L].
  void checkSteps(const at::Tensor& dt) const {
    auto bad = at::logical_not(at::isfinite(dt)).any(-1).reshape({-1, inner_}).any(0);  // [E]
    if (!bad.any().item<bool>()) return;
    const int64_t ch = bad.nonzero()[0][0].item<int64_t>();
    throw InputError("mamba: unstable parameters in channel " + std::to_string(ch) +
                     ": the step dt is not finite, so the decay exp(dt * A) is not in [0, 1]");
  }

  int inner_, state_, kernel_, rank_;
  at::Tensor inWeight_, convWeight_, convBias_, xWeight_, dtWeight_, dtBias_, aLog_, dSkip_;
};

}  // namespace

void registerMamba(MixerRegistry& r) {
  MixerOption expand;
  expand.key = "expand";
  expand.field = &MixerOptions::expand;
  expand.metavar = "E";
  expand.help = "inner width E = expand * d_model";
  r.addOption(expand);
  MixerOption dtRank;
  dtRank.key = "dt_rank";
  dtRank.aliases = {"time_step_rank"};
  dtRank.field = &MixerOptions::dtRank;
  dtRank.minimum = 0;
  dtRank.zeroMeans = "automatic";
  dtRank.metavar = "R";
  dtRank.help = "rank of the dt projection; 0 = ceil(d_model / 16)";
  r.addOption(dtRank);
  MixerKind kind;
  kind.name = "mamba";
  kind.options = {"state_size", "conv_kernel", "expand", "dt_rank"};
  kind.generators = true;
  kind.checksWeights = true;
  kind.make = [](int d, int, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<Mamba>(d, o.expand, o.stateSize, o.convKernel, o.dtRank, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
