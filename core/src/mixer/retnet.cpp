// retnet: retention (Sun et al., "Retentive Network: A Successor to Transformer for Large
// Language Models", 2023), multi-head, simplified: no xPos rotation, no group norm, no swish
// gate. Each head has a fixed decay (not learned, as in RetNet)
//   gamma_h = 1 - 2^(-5-h),  h = 0 .. H-1     (0.96875, 0.984375, ...)
// and T[h, r, c] = gamma_h^(r-c) q_r . k_c for c <= r (q scaled by 1/sqrt(d_k)).
// Recurrent form: S_t = gamma S_{t-1} + k_t v_t^T, y_t = q_t S_t (state d_k x d_v). TSS: d_k*d_v.
#include <cmath>

#include "ess/mixer.h"

namespace ess {
namespace {

class RetNet : public Mixer {
 public:
  RetNet(int dModel, int numHeads, bool keyShift, const at::Generator* gen)
      : Mixer("retnet", dModel, numHeads, keyShift, gen) {}

  /// gamma_h = 1 - 2^(-5-h).
  double decay(int head) const { return 1.0 - std::pow(2.0, -5.0 - head); }

  at::Tensor queries(const at::Tensor& x) const {
    return project(x, qWeight_) / std::sqrt(static_cast<double>(keyDim()));
  }

  /// [H, L, L]: gamma_h^(r-c) for c <= r, 0 above the diagonal (exponents >= 0, no overflow).
  at::Tensor decayMatrix(int64_t L, const at::TensorOptions& opts) const {
    auto idx = at::arange(L, opts);
    auto lag = (idx.unsqueeze(-1) - idx.unsqueeze(0)).clamp_min(0.0);  // [L, L], r - c
    std::vector<double> logGamma(heads());
    for (int h = 0; h < heads(); ++h) logGamma[h] = std::log(decay(h));
    auto lg = at::tensor(logGamma, opts).view({heads(), 1, 1});
    return at::exp(lg * lag.unsqueeze(0)).tril();
  }

  at::Tensor materialize(const at::Tensor& x) override {
    auto q = queries(x);  // [..., H, L, d_k]
    auto k = keys(x);
    return at::matmul(q, k.transpose(-1, -2)).tril() * decayMatrix(q.size(-2), q.options());
  }

  at::Tensor headOutputs(const at::Tensor& x) override { return at::matmul(materialize(x), values(x)); }

  /// C = q (scaled), B = k, log a = log gamma_h at every position (one decay per head).
  Generators generators(const at::Tensor& x) override {
    auto xd = x.to(at::kDouble);
    Generators g;
    g.C = queries(xd).contiguous();
    g.B = keys(xd).contiguous();
    std::vector<double> logGamma(heads());
    for (int h = 0; h < heads(); ++h) logGamma[h] = std::log(decay(h));
    g.logA = at::tensor(logGamma, xd.options()).unsqueeze(1).expand({heads(), x.size(-2)}).contiguous();
    return g;
  }

  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto q = queries(x);  // [B, H, L, d_k]
    auto k = keys(x);
    auto v = values(x);  // [B, H, L, d_v]
    const int64_t L = q.size(-2);
    auto sizes = q.sizes().vec();
    sizes[sizes.size() - 2] = keyDim();
    sizes.back() = valueDim();
    auto S = at::zeros(sizes, q.options());  // [B, H, d_k, d_v]
    std::vector<double> g(heads());
    for (int h = 0; h < heads(); ++h) g[h] = decay(h);
    auto gamma = at::tensor(g, q.options()).view({heads(), 1, 1});  // broadcasts over B
    std::vector<at::Tensor> outs;
    for (int64_t t = 0; t < L; ++t) {
      auto kt = k.narrow(-2, t, 1), vt = v.narrow(-2, t, 1);  // [B, H, 1, d]
      S = gamma * S + at::matmul(kt.transpose(-1, -2), vt);
      outs.push_back(at::matmul(q.narrow(-2, t, 1), S));
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int) const override { return keyValueStateSize(); }
  std::string tssFormula() const override { return keyValueFormula(); }
};

}  // namespace

void registerRetNet(MixerRegistry& r) {
  MixerKind kind;
  kind.name = "retnet";
  kind.keyShift = true;
  kind.generators = true;
  kind.make = [](int d, int h, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<RetNet>(d, h, o.keyShift, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
