// linear_attention: causal linear attention (Katharopoulos et al. 2020), multi-head, with the
// identity feature map (q is scaled by 1/sqrt(d_k)) and no normalizing denominator, so
// T[h, r, c] = q_r . k_c for c <= r is exactly what multiplies V.
// Recurrent form: S_t = S_{t-1} + k_t v_t^T, y_t = q_t S_t (state d_k x d_v). TSS: d_k*d_v.
#include <cmath>

#include "ess/mixer.h"

namespace ess {
namespace {

class LinearAttention : public Mixer {
 public:
  LinearAttention(int dModel, int numHeads, bool keyShift, const at::Generator* gen)
      : Mixer("linear_attention", dModel, numHeads, keyShift, gen) {}

  at::Tensor queries(const at::Tensor& x) const {
    return project(x, qWeight_) / std::sqrt(static_cast<double>(keyDim()));
  }

  at::Tensor materialize(const at::Tensor& x) override {
    auto q = queries(x);
    auto k = keys(x);
    return at::matmul(q, k.transpose(-1, -2)).tril();
  }

  at::Tensor headOutputs(const at::Tensor& x) override { return at::matmul(materialize(x), values(x)); }

  /// C = q (scaled), B = k, no decay (log a = 0, one per head).
  Generators generators(const at::Tensor& x) override {
    auto xd = x.to(at::kDouble);
    Generators g;
    g.C = queries(xd).contiguous();
    g.B = keys(xd).contiguous();
    g.logA = at::zeros({heads(), x.size(-2)}, xd.options());
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
    std::vector<at::Tensor> outs;
    for (int64_t t = 0; t < L; ++t) {
      auto kt = k.narrow(-2, t, 1), vt = v.narrow(-2, t, 1);  // [B, H, 1, d]
      S = S + at::matmul(kt.transpose(-1, -2), vt);
      outs.push_back(at::matmul(q.narrow(-2, t, 1), S));
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int) const override { return keyValueStateSize(); }
  std::string tssFormula() const override { return keyValueFormula(); }
};

}  // namespace

void registerLinearAttention(MixerRegistry& r) {
  MixerKind kind;
  kind.name = "linear_attention";
  kind.keyShift = true;
  kind.generators = true;
  kind.make = [](int d, int h, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<LinearAttention>(d, h, o.keyShift, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
