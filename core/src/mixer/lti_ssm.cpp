// lti_ssm: diagonal linear time-invariant state space model, S4D-style (Gu et al., "On the
// Parameterization and Initialization of Diagonal State Space Models", NeurIPS 2022), one SISO
// system of state size n per channel (MixerOptions::stateSize, config "state_size"):
//   u = v_proj(x),  h_t = A_bar h_{t-1} + B_bar u_t,  y_t = C . h_t + D u_t,  out = o_proj(y)
// with, per channel and state index,
//   A = -exp(log_a_real)              (continuous, REAL and negative: this simplified S4D has no
//                                      imaginary part, so every mode is a plain decay, no oscillation)
//   dt = exp(log_dt)                  (learned step, one per channel)
//   A_bar = exp(dt A) in (0, 1)       (zero-order hold)
//   B_bar = (A_bar - 1) / A * B       (zero-order hold, computed as -expm1(dt A) exp(-log_a_real) B)
// Like short_conv there are no queries, keys or heads in the attention sense: heads() = d_model,
// d_v = 1 (valueDim), d_k = 0, no key shift, and T has shape [D, L, L] (input-invariant, Toeplitz):
//   T[ch, r, c] = sum_n C_n A_bar_n^(r-c) B_bar_n  for c < r,   T[ch, r, r] = sum_n C_n B_bar_n + D.
// Parameters: v_proj.weight [D, D], o_proj.weight [D, D], log_a_real [D, n], log_dt [D],
// B [D, n], C [D, n], D [D]. Initialization (S4D-Real): A_n = -(n+1), dt log-uniform in
// [1e-3, 1e-1], B = 1, C and D uniform in +-1.
// Parameters that give a discrete decay A_bar >= 1 (e.g. dt * exp(log_a_real) underflowing to 0),
// a non-finite or non-positive dt, or non-finite values are rejected with InputError naming the
// channel (EssLm::fromTensors adds the layer).
// Structure: H_s = T[s:, :s] = O R with O[i, n] = C_n A_bar_n^i, R[n, j] = A_bar_n^(s-1-j) B_bar_n,
// a Hankel block of rank <= min(n, s, L-s), with equality when the decays are distinct and every
// C_n B_bar_n != 0 (Vandermonde factors). TSS: n per channel.
// Recurrent form: the state h [n] per channel.
#include <cmath>

#include "ess/error.h"
#include "ess/mixer.h"

namespace ess {
namespace {

class LtiSsm : public Mixer {
 public:
  LtiSsm(int dModel, int stateSize, const at::Generator* gen)
      : Mixer("lti_ssm", dModel, dModel, false, gen, false), stateSize_(stateSize) {
    const auto g = gen ? c10::optional<at::Generator>(*gen) : c10::nullopt;
    auto idx = at::arange(1, stateSize + 1, at::kFloat);  // n + 1
    logAReal_ = register_parameter("log_a_real", at::log(idx).expand({dModel, stateSize}).contiguous());
    auto logDt = at::empty({dModel}, at::kFloat);
    logDt.uniform_(std::log(1e-3), std::log(1e-1), g);
    logDt_ = register_parameter("log_dt", logDt);
    B_ = register_parameter("B", at::ones({dModel, stateSize}, at::kFloat));
    auto c = at::empty({dModel, stateSize}, at::kFloat);
    c.uniform_(-1.0, 1.0, g);
    C_ = register_parameter("C", c);
    auto d = at::empty({dModel}, at::kFloat);
    d.uniform_(-1.0, 1.0, g);
    D_ = register_parameter("D", d);
  }

  int stateSize() const { return stateSize_; }

  /// Discretized parameters in dtype `dt`: dtA = dt * A [D, n] (log of A_bar, <= 0),
  /// B_bar [D, n], C [D, n], D [D]. Throws InputError on unstable or non-finite parameters.
  struct Discrete {
    at::Tensor dtA, bBar, c, d;
  };
  Discrete discretize(at::ScalarType dtype) const {
    checkStable();
    Discrete z;
    auto lar = logAReal_.to(dtype);
    z.dtA = -at::exp(logDt_.to(dtype)).unsqueeze(-1) * at::exp(lar);
    z.bBar = -at::expm1(z.dtA) * at::exp(-lar) * B_.to(dtype);
    z.c = C_.to(dtype);
    z.d = D_.to(dtype);
    return z;
  }

  /// x [..., L, D] -> T [..., D, L, L] (the same operator for every sequence of the batch).
  at::Tensor materialize(const at::Tensor& x) override {
    const int64_t L = x.size(-2);
    auto z = discretize(x.scalar_type());
    // Kernel K[ch, j] = sum_n C_n exp(j dtA_n) B_bar_n, j = 0 .. L-1 (exponents <= 0).
    auto lags = at::arange(L, x.options());
    auto powers = at::exp(z.dtA.unsqueeze(-1) * lags);                      // [D, n, L]
    auto K = at::matmul((z.c * z.bBar).unsqueeze(-2), powers).squeeze(-2);  // [D, L]
    auto r = at::arange(L, x.options().dtype(at::kLong));
    auto lag = (r.unsqueeze(-1) - r.unsqueeze(0)).clamp_min(0);  // [L, L], r - c (0 above)
    auto T = K.index_select(-1, lag.flatten()).view({heads(), L, L});
    T = T.tril() + z.d.reshape({heads(), 1, 1}) * at::eye(L, x.options());
    auto sizes = x.sizes().vec();
    sizes.pop_back();
    sizes.pop_back();  // batch dims
    sizes.insert(sizes.end(), {heads(), L, L});
    return T.expand(sizes).contiguous();
  }

  /// Time-invariant generators: C_n, B_bar_n and log A_bar_n = dt A_n at every position, D.
  Generators generators(const at::Tensor& x) override {
    const int64_t L = x.size(-2);
    auto z = discretize(at::kDouble);
    Generators g;
    g.C = z.c.unsqueeze(1).expand({heads(), L, stateSize_}).contiguous();
    g.B = z.bBar.unsqueeze(1).expand({heads(), L, stateSize_}).contiguous();
    g.logA = z.dtA.unsqueeze(1).expand({heads(), L, stateSize_}).contiguous();
    g.D = z.d.unsqueeze(1).expand({heads(), L}).contiguous();
    return g;
  }

  /// Parallel form: the causal (Toeplitz) convolution of u with the kernel, u [..., D, L, 1].
  at::Tensor headOutputs(const at::Tensor& x) override { return at::matmul(materialize(x), values(x)); }

  /// Recurrent form: h_t = A_bar h_{t-1} + B_bar u_t, y_t = C . h_t + D u_t, h [..., D, n].
  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto v = values(x);  // [..., D, L, 1]
    const int64_t L = v.size(-2);
    auto z = discretize(x.scalar_type());
    auto aBar = at::exp(z.dtA);
    auto sizes = v.sizes().vec();
    sizes.pop_back();
    sizes.back() = stateSize_;  // [..., D, n]
    auto h = at::zeros(sizes, v.options());
    std::vector<at::Tensor> outs;
    for (int64_t t = 0; t < L; ++t) {
      auto ut = v.select(-2, t);  // [..., D, 1]
      h = aBar * h + z.bBar * ut;
      outs.push_back((z.c * h).sum(-1, true) + z.d.unsqueeze(-1) * ut);  // [..., D, 1]
    }
    return at::stack(outs, -2);  // [..., D, L, 1]
  }

  double theoreticalStateSize(int) const override { return static_cast<double>(stateSize_); }
  std::string tssFormula() const override { return "n = " + std::to_string(stateSize_); }

 private:
  /// Rejects a non-finite or non-positive step dt, or a discrete decay A_bar that is not in [0, 1).
  void checkStable() const {
    at::NoGradGuard ng;
    auto dt = at::exp(logDt_.to(at::kDouble));                                 // [D]
    auto a = at::exp(-dt.unsqueeze(-1) * at::exp(logAReal_.to(at::kDouble)));  // [D, n]
    auto badDt = at::logical_not(at::isfinite(dt)) | (dt <= 0);
    auto badA = (at::logical_not(at::isfinite(a)) | (a >= 1)).any(-1);
    auto badB = at::logical_not(at::isfinite(B_.to(at::kDouble)).all(-1) & at::isfinite(C_.to(at::kDouble)).all(-1) &
                                at::isfinite(D_.to(at::kDouble)));
    auto bad = badDt | badA | badB;
    if (!bad.any().item<bool>()) return;
    const int64_t ch = bad.nonzero()[0][0].item<int64_t>();
    std::string what;
    if (badDt[ch].item<bool>())
      what = "step dt = exp(log_dt) = " + std::to_string(dt[ch].item<double>()) + " is not finite and positive";
    else if (badA[ch].item<bool>())
      what = "discrete decay exp(dt * A) is not in [0, 1) (unstable or non-finite log_a_real / log_dt)";
    else
      what = "B, C or D holds NaN or Inf";
    throw InputError("lti_ssm: unstable parameters in channel " + std::to_string(ch) + ": " + what);
  }

  int stateSize_;
  at::Tensor logAReal_, logDt_, B_, C_, D_;
};

}  // namespace

void registerLtiSsm(MixerRegistry& r) {
  MixerKind kind;
  kind.name = "lti_ssm";
  kind.options = {"state_size"};
  kind.generators = true;
  kind.checksWeights = true;
  kind.make = [](int d, int, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<LtiSsm>(d, o.stateSize, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
