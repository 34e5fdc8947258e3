// softmax_attention: causal softmax attention (Vaswani et al. 2017), multi-head.
// T[h] = softmax(Q_h K_h^T / sqrt(d_k) + causal mask); rows sum to 1.
// Recurrent form: a growing KV cache, one query at a time. TSS at split s: s*(d_k+d_v).
#include <cmath>
#include <limits>

#include "ess/mixer.h"

namespace ess {
namespace {

class SoftmaxAttention : public Mixer {
 public:
  SoftmaxAttention(int dModel, int numHeads, bool keyShift, const at::Generator* gen)
      : Mixer("softmax_attention", dModel, numHeads, keyShift, gen) {}

  at::Tensor materialize(const at::Tensor& x) override {
    auto q = project(x, qWeight_);  // [..., H, L, d_k]
    auto k = keys(x);
    const int64_t L = q.size(-2);
    auto scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(keyDim()));
    auto upper = at::ones({L, L}, x.options().dtype(at::kBool)).triu(1);
    scores = scores.masked_fill(upper, -std::numeric_limits<double>::infinity());
    return at::softmax(scores, -1);
  }

  at::Tensor headOutputs(const at::Tensor& x) override { return at::matmul(materialize(x), values(x)); }

  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto q = project(x, qWeight_);  // [B, H, L, d]
    auto k = keys(x);
    auto v = values(x);
    const int64_t L = q.size(-2);
    const double scale = 1.0 / std::sqrt(static_cast<double>(keyDim()));
    std::vector<at::Tensor> outs;
    at::Tensor kCache, vCache;  // [B, H, t, d]
    for (int64_t t = 0; t < L; ++t) {
      auto kt = k.narrow(-2, t, 1), vt = v.narrow(-2, t, 1);
      kCache = kCache.defined() ? at::cat({kCache, kt}, -2) : kt;
      vCache = vCache.defined() ? at::cat({vCache, vt}, -2) : vt;
      auto s = at::matmul(q.narrow(-2, t, 1), kCache.transpose(-1, -2)) * scale;  // [B, H, 1, t+1]
      outs.push_back(at::matmul(at::softmax(s, -1), vCache));                     // [B, H, 1, d_v]
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int split) const override { return static_cast<double>(split) * (keyDim() + valueDim()); }
  std::string tssFormula() const override {
    return "s*(d_k+d_v) = s*(" + std::to_string(keyDim()) + "+" + std::to_string(valueDim()) + ")";
  }
};

}  // namespace

void registerSoftmaxAttention(MixerRegistry& r) {
  MixerKind kind;
  kind.name = "softmax_attention";
  kind.keyShift = true;
  kind.make = [](int d, int h, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<SoftmaxAttention>(d, h, o.keyShift, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
