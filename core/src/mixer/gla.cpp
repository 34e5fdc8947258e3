// gla: gated linear attention (Yang et al., "Gated Linear Attention Transformers with
// Hardware-Efficient Training", ICML 2024), multi-head, simplified: no output gate, no norm.
// Per-key-channel data-dependent decay a_t in (0,1)^{d_k}, in log space
//   log a_t = logsigmoid(W_a x_t + b_a) / 16     (gate logit normalizer 16, as in GLA/Zoology)
// T[h, r, c] = sum_n q_r[n] * prod_{t=c+1..r} a_t[n] * k_c[n] for c <= r (q scaled by 1/sqrt(d_k)).
// The decay products come from cumulative log sums: prod = exp(b_r - b_c), b = cumsum(log a),
// evaluated chunkwise so that every exponent taken is <= 0 (see glaOperator): nothing overflows,
// for any L.
// Recurrent form: S_t = diag(a_t) S_{t-1} + k_t v_t^T, y_t = q_t S_t. TSS: d_k*d_v.
// Gate bias initialized uniform in [0, 4]: initial decays 0.958 .. 0.999 per step.
#include <cmath>
#include <limits>

#include "ess/mixer.h"

namespace ess {
namespace {

constexpr double kGateNormalizer = 16.0;
constexpr int64_t kChunk = 16;

// T[..., r, c] = sum_n q[r, n] exp(b[r, n] - b[c, n]) k[c, n] for c <= r, 0 above the diagonal,
// computed in row chunks of `chunk` rows starting at s:
//  - columns c < s: exp(b_r - b_c) = exp(b_r - b_{s-1}) * exp(b_{s-1} - b_c), both exponents <= 0
//    (b is non-increasing), so one matmul of rescaled queries and keys, with no overflow;
//  - columns in the chunk: exp(b_r - b_c) directly on a [..., C, C, n] block, masked above the
//    diagonal (exponent <= 0 where kept).
at::Tensor glaOperator(const at::Tensor& q, const at::Tensor& k, const at::Tensor& b, int64_t chunk) {
  const int64_t L = q.size(-2);
  std::vector<at::Tensor> rows;
  for (int64_t s = 0; s < L; s += chunk) {
    const int64_t C = std::min(chunk, L - s);
    auto qi = q.narrow(-2, s, C), ki = k.narrow(-2, s, C), bi = b.narrow(-2, s, C);
    std::vector<at::Tensor> parts;
    if (s > 0) {
      auto ref = b.narrow(-2, s - 1, 1);  // [..., 1, n]
      auto qs = qi * at::exp(bi - ref);
      auto ks = k.narrow(-2, 0, s) * at::exp(ref - b.narrow(-2, 0, s));
      parts.push_back(at::matmul(qs, ks.transpose(-1, -2)));  // [..., C, s]
    }
    auto upper = at::ones({C, C}, q.options().dtype(at::kBool)).triu(1);
    auto diff = bi.unsqueeze(-2) - bi.unsqueeze(-3);  // [..., C(r), C(c), n]
    diff = diff.masked_fill(upper.unsqueeze(-1), -std::numeric_limits<double>::infinity());
    auto w = at::exp(diff) * ki.unsqueeze(-3);                     // [..., C, C, n]
    parts.push_back(at::matmul(w, qi.unsqueeze(-1)).squeeze(-1));  // [..., C, C]
    if (s + C < L) {
      auto sizes = qi.sizes().vec();
      sizes.back() = L - s - C;
      parts.push_back(at::zeros(sizes, q.options()));
    }
    rows.push_back(parts.size() == 1 ? parts[0] : at::cat(parts, -1));
  }
  return rows.size() == 1 ? rows[0] : at::cat(rows, -2);
}

class Gla : public Mixer {
 public:
  Gla(int dModel, int numHeads, bool keyShift, const at::Generator* gen)
      : Mixer("gla", dModel, numHeads, keyShift, gen) {
    auto [w, b] = addLinear("gate_proj", dModel, dModel, true, gen);
    gWeight_ = w;
    gBias_ = b;
    // Gate bias uniform in [0, 4]: initial decays sigmoid(b)^(1/16) from 0.958 to 0.999 per step,
    // a spread of time scales so that long-range recall is reachable from the start.
    at::NoGradGuard noGrad;
    gBias_.uniform_(0.0, 4.0, gen ? c10::optional<at::Generator>(*gen) : c10::nullopt);
  }

  at::Tensor queries(const at::Tensor& x) const {
    return project(x, qWeight_) / std::sqrt(static_cast<double>(keyDim()));
  }
  at::Tensor logDecay(const at::Tensor& x) const {  // [..., H, L, d_k], <= 0
    return at::log_sigmoid(project(x, gWeight_, gBias_)) / kGateNormalizer;
  }

  at::Tensor materialize(const at::Tensor& x) override {
    auto q = queries(x);  // [..., H, L, n]
    auto k = keys(x);
    auto b = at::cumsum(logDecay(x), -2);  // [..., H, L, n], non-increasing along L
    return glaOperator(q, k, b, kChunk);
  }
  at::Tensor headOutputs(const at::Tensor& x) override { return at::matmul(materialize(x), values(x)); }

  /// C = q (scaled), B = k, log a = the data-dependent gate decay, one per key channel.
  Generators generators(const at::Tensor& x) override {
    auto xd = x.to(at::kDouble);
    Generators g;
    g.C = queries(xd).contiguous();
    g.B = keys(xd).contiguous();
    g.logA = logDecay(xd).contiguous();
    return g;
  }

  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto q = queries(x);  // [B, H, L, d_k]
    auto k = keys(x);
    auto v = values(x);
    auto a = at::exp(logDecay(x));
    const int64_t L = q.size(-2);
    auto sizes = q.sizes().vec();
    sizes[sizes.size() - 2] = keyDim();
    sizes.back() = valueDim();
    auto S = at::zeros(sizes, q.options());  // [B, H, d_k, d_v]
    std::vector<at::Tensor> outs;
    for (int64_t t = 0; t < L; ++t) {
      auto kt = k.narrow(-2, t, 1), vt = v.narrow(-2, t, 1);
      auto at_ = a.narrow(-2, t, 1).transpose(-1, -2);  // [B, H, d_k, 1]
      S = at_ * S + at::matmul(kt.transpose(-1, -2), vt);
      outs.push_back(at::matmul(q.narrow(-2, t, 1), S));
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int) const override { return keyValueStateSize(); }
  std::string tssFormula() const override { return keyValueFormula(); }

 private:
  at::Tensor gWeight_, gBias_;
};

}  // namespace

void registerGla(MixerRegistry& r) {
  MixerKind kind;
  kind.name = "gla";
  kind.keyShift = true;
  kind.generators = true;
  kind.make = [](int d, int h, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<Gla>(d, h, o.keyShift, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
