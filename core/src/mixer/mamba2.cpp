// mamba2: the scalar-decay multi-head state space dual (SSD) layer of Mamba-2 (Dao and Gu,
// "Transformers are SSMs", ICML 2024), simplified: no input convolution, no gate z, no norm.
// Per head h (value channels d_v = d_model / H, state size N = MixerOptions::stateSize):
//   dt_t = softplus(w_dt[h] . x_t + b_dt[h]) > 0                    (step size, one per head)
//   a_t  = exp(-exp(A_log[h]) * dt_t) in (0, 1)                     (scalar decay per head)
//   B_t  = b_proj(x~_t)[h] in R^N,  C_t = c_proj(x_t)[h] in R^N       (shared by the head's channels)
//   X_t  = v_proj(x_t)[h] in R^{d_v}                                  (the value input)
//   S_t  = a_t S_{t-1} + dt_t B_t X_t^T   (S in R^{N x d_v}),   y_t = S_t^T C_t + D[h] X_t.
// Operator: T[h, r, c] = (C_r . B_c) dt_c prod_{t=c+1..r} a_t for c < r, and
// T[h, r, r] = C_r . B_r dt_r + D[h]. The decay products are exp(sum_{t=c+1..r} log a_t), each
// sum formed directly from the non-positive terms log a_t (a masked cumulative sum, the "segsum"
// of the Mamba-2 reference code) rather than as a difference of prefix sums: every exponent is
// <= 0 and there is no cancellation, for any L.
// Key shift (optional, parameter `k_shift`): B is computed from the shifted input x~ (the key
// analog of SSD, B playing the role of keys); C, dt and X use x_t.
// Parameters: v_proj.weight [D, D], o_proj.weight [D, D], b_proj.weight [H*N, D],
// c_proj.weight [H*N, D], dt_proj.weight [H, D], dt_proj.bias [H] (initialized so that
// softplus(bias) is log-uniform in [1e-3, 1e-1], as in Mamba), A_log [H] (log of uniform [1, 16]),
// D [H] (ones). No q_proj/k_proj: keyDim() is 0.
// TSS per head: N*d_v (the state S); in SISO units N. Each head's H_s = T[s:, :s] factors as
// [C_r prod_{t=s..r} a_t]_{r>=s} [prod_{t=c+1..s-1} a_t dt_c B_c]_{c<s}^T, rank <= min(N, s, L-s).
#include <cmath>
#include <limits>

#include "ess/mixer.h"

namespace ess {
namespace {

class Mamba2 : public Mixer {
 public:
  Mamba2(int dModel, int numHeads, bool keyShift, int stateSize, const at::Generator* gen)
      : Mixer("mamba2", dModel, numHeads, false, gen, false), stateSize_(stateSize) {
    const auto g = gen ? c10::optional<at::Generator>(*gen) : c10::nullopt;
    bWeight_ = addLinear("b_proj", numHeads * stateSize, dModel, false, gen).first;
    cWeight_ = addLinear("c_proj", numHeads * stateSize, dModel, false, gen).first;
    auto [w, b] = addLinear("dt_proj", numHeads, dModel, true, gen);
    dtWeight_ = w;
    dtBias_ = b;
    at::NoGradGuard noGrad;
    // dt = softplus(bias) log-uniform in [1e-3, 1e-1]; bias = inverse softplus(dt).
    auto dt = at::empty({numHeads}, at::kFloat).uniform_(std::log(1e-3), std::log(1e-1), g).exp();
    dtBias_.copy_(dt + at::log(-at::expm1(-dt)));
    aLog_ = register_parameter("A_log", at::empty({numHeads}, at::kFloat).uniform_(1.0, 16.0, g).log());
    dSkip_ = register_parameter("D", at::ones({numHeads}, at::kFloat));
    if (keyShift) shift_ = register_parameter("k_shift", at::full({dModel}, 0.5, at::kFloat));
  }

  int stateSize() const { return stateSize_; }

  /// Step sizes dt [..., H, L] > 0.
  at::Tensor stepSizes(const at::Tensor& x) const { return at::softplus(project(x, dtWeight_, dtBias_).squeeze(-1)); }
  /// log a [..., H, L] = -exp(A_log) dt <= 0.
  at::Tensor logDecay(const at::Tensor& dt) const { return -aLog_.to(dt.scalar_type()).exp().unsqueeze(-1) * dt; }
  at::Tensor inputB(const at::Tensor& x) const {  // [..., H, L, N]
    if (!shift_.defined()) return project(x, bWeight_);
    const int64_t L = x.size(-2);
    auto prev = at::constant_pad_nd(x.narrow(-2, 0, L - 1), {0, 0, 1, 0});
    return project(x + shift_.to(x.scalar_type()) * (prev - x), bWeight_);
  }
  at::Tensor outputC(const at::Tensor& x) const { return project(x, cWeight_); }  // [..., H, L, N]
  at::Tensor skip(const at::Tensor& x) const { return dSkip_.to(x.scalar_type()).reshape({heads(), 1, 1}); }

  at::Tensor materialize(const at::Tensor& x) override {
    auto dt = stepSizes(x);  // [..., H, L]
    auto la = logDecay(dt);  // [..., H, L], <= 0
    const int64_t L = dt.size(-1);
    // seg[r, c] = sum_{t=c+1..r} log a_t: the term la[t] placed at [t, c] for every c < t, summed
    // down the rows (a sum of non-positive terms, so <= 0); -inf above the diagonal.
    auto below = at::ones({L, L}, x.options().dtype(at::kBool)).tril(-1);
    auto terms = (la.unsqueeze(-1) * at::ones({L}, x.options())).masked_fill(below.logical_not(), 0.0);
    auto seg = at::cumsum(terms, -2).masked_fill(below.logical_not().triu(1), -std::numeric_limits<double>::infinity());
    auto cb = at::matmul(outputC(x), inputB(x).transpose(-1, -2));  // [..., H, L, L], C_r . B_c
    auto T = cb * at::exp(seg) * dt.unsqueeze(-2);                  // dt_c along the columns
    return T + skip(x) * at::eye(L, x.options());
  }

  at::Tensor headOutputs(const at::Tensor& x) override { return at::matmul(materialize(x), values(x)); }

  /// C = C_r, B = dt_c B_c, log a = -exp(A_log) dt (one decay per head), D on the diagonal.
  Generators generators(const at::Tensor& x) override {
    auto xd = x.to(at::kDouble);
    auto dt = stepSizes(xd);  // [H, L]
    Generators g;
    g.C = outputC(xd).contiguous();
    g.B = (inputB(xd) * dt.unsqueeze(-1)).contiguous();
    g.logA = logDecay(dt).contiguous();
    g.D = skip(xd).reshape({heads(), 1}).expand({heads(), x.size(-2)}).contiguous();
    return g;
  }

  /// Recurrent form: S_t = a_t S_{t-1} + dt_t B_t X_t^T, y_t = C_t S_t + D X_t (S [B, H, N, d_v]).
  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto dt = stepSizes(x);  // [B, H, L]
    auto a = at::exp(logDecay(dt));
    auto B = inputB(x), C = outputC(x), X = values(x);
    const int64_t L = X.size(-2);
    auto sizes = X.sizes().vec();
    sizes[sizes.size() - 2] = stateSize_;
    auto S = at::zeros(sizes, X.options());
    const auto D = skip(x);
    std::vector<at::Tensor> outs;
    for (int64_t t = 0; t < L; ++t) {
      auto at_ = a.narrow(-1, t, 1).unsqueeze(-1), dtt = dt.narrow(-1, t, 1).unsqueeze(-1);  // [B, H, 1, 1]
      auto Xt = X.narrow(-2, t, 1);
      S = at_ * S + dtt * at::matmul(B.narrow(-2, t, 1).transpose(-1, -2), Xt);
      outs.push_back(at::matmul(C.narrow(-2, t, 1), S) + D * Xt);
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int) const override { return static_cast<double>(stateSize_) * valueDim(); }
  std::string tssFormula() const override {
    return "N*d_v = " + std::to_string(stateSize_) + "*" + std::to_string(valueDim());
  }

 private:
  int stateSize_;
  at::Tensor bWeight_, cWeight_, dtWeight_, dtBias_, aLog_, dSkip_;
};

}  // namespace

void registerMamba2(MixerRegistry& r) {
  MixerOption state;
  state.key = "state_size";
  state.field = &MixerOptions::stateSize;
  state.metavar = "N";
  state.help = "state size (N per head for mamba2, n per channel for lti_ssm and mamba)";
  r.addOption(state);
  MixerKind kind;
  kind.name = "mamba2";
  kind.options = {"state_size"};
  kind.keyShift = true;
  kind.generators = true;
  kind.make = [](int d, int h, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<Mamba2>(d, h, o.keyShift, o.stateSize, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
