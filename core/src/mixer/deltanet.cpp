// deltanet: linear attention with the delta-rule update (Schlag et al., "Linear Transformers Are
// Secretly Fast Weight Programmers", ICML 2021; Yang et al., "Parallelizing Linear Transformers
// with the Delta Rule over Sequence Length", NeurIPS 2024), multi-head, simplified: no short
// convolutions, no output norm or gate.
// Per head, with keys L2-normalized (k_t / max(|k_t|, 1e-12)), queries scaled by 1/sqrt(d_k) and
// a per-head write strength beta_t = sigmoid(w_beta . x_t) in (0, 1) (parameter
// beta_proj.weight [H, D], no bias), the state S [d_v, d_k] follows
//   S_t = S_{t-1} (I - beta_t k_t k_t^T) + beta_t v_t k_t^T,   o_t = S_t q_t.
// Unrolled, o_r = sum_{c <= r} T[r, c] v_c with
//   T[r, c] = q_r^T P_r P_{r-1} ... P_{c+1} beta_c k_c,   P_t = I - beta_t k_t k_t^T,
// i.e. the product over t = c+1 .. r with the LATEST factor next to q_r (P_t is symmetric, so
// the transposed state of the recurrence applies P_r last); T[r, r] = beta_r q_r . k_r.
// Materialized column-parallel: W [d_k, L] holds, for every source c < r, the vector
// P_r ... P_{c+1} beta_c k_c; each step applies P_r to all of W (rank-one update) and appends
// beta_r k_r as column r; row r of T is q_r^T W. Cost O(L^2 d_k) per head.
// Stable: with |k_t| = 1 and beta in (0, 1), P_t has eigenvalues 1 - beta_t and 1 (norm <= 1).
// Recurrent form: the state S (stored transposed, [d_k, d_v]). TSS: d_k*d_v.
// Structure: H_s = T[s:, :s] factors through the d_k-dimensional state at the split
// (rows q_r^T P_r..P_s, columns P_{s-1}..P_{c+1} beta_c k_c), so tolerance-ESS <= d_k per head.
#include <cmath>

#include "ess/mixer.h"

namespace ess {
namespace {

class DeltaNet : public Mixer {
 public:
  DeltaNet(int dModel, int numHeads, bool keyShift, const at::Generator* gen)
      : Mixer("deltanet", dModel, numHeads, keyShift, gen) {
    betaWeight_ = addLinear("beta_proj", numHeads, dModel, false, gen).first;
  }

  at::Tensor queries(const at::Tensor& x) const {
    return project(x, qWeight_) / std::sqrt(static_cast<double>(keyDim()));
  }
  /// L2-normalized keys [..., H, L, d_k].
  at::Tensor unitKeys(const at::Tensor& x) const {
    auto k = keys(x);
    return k / k.norm(2, {-1}, true).clamp_min(1e-12);
  }
  /// beta [..., H, L, 1] = sigmoid(w_beta . x_t) per head.
  at::Tensor betas(const at::Tensor& x) const {
    auto b = at::sigmoid(at::linear(x, betaWeight_.to(x.scalar_type())));  // [..., L, H]
    return b.transpose(-1, -2).unsqueeze(-1);
  }

  at::Tensor materialize(const at::Tensor& x) override {
    auto q = queries(x);  // [..., H, L, d_k]
    auto k = unitKeys(x);
    auto beta = betas(x);  // [..., H, L, 1]
    const int64_t L = q.size(-2);
    auto wSizes = q.sizes().vec();
    wSizes[wSizes.size() - 2] = keyDim();
    wSizes.back() = L;
    auto W = at::zeros(wSizes, q.options());  // [..., H, d_k, L]
    auto onehot = at::eye(L, q.options());    // row r: e_r
    std::vector<at::Tensor> rows;
    for (int64_t r = 0; r < L; ++r) {
      auto kr = k.narrow(-2, r, 1).transpose(-1, -2);                    // [..., H, d_k, 1]
      auto br = beta.narrow(-2, r, 1);                                   // [..., H, 1, 1]
      W = W - br * at::matmul(kr, at::matmul(kr.transpose(-1, -2), W));  // P_r W
      W = W + (br * kr) * onehot.narrow(0, r, 1);                        // column r = beta_r k_r
      rows.push_back(at::matmul(q.narrow(-2, r, 1), W));                 // [..., H, 1, L]
    }
    return at::cat(rows, -2);
  }

  at::Tensor headOutputs(const at::Tensor& x) override { return at::matmul(materialize(x), values(x)); }

  /// S' = S^T [..., H, d_k, d_v]: S'_t = (I - beta k k^T) S'_{t-1} + beta k v^T, o_t = q_t^T S'_t.
  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto q = queries(x);
    auto k = unitKeys(x);
    auto beta = betas(x);
    auto v = values(x);  // [..., H, L, d_v]
    const int64_t L = q.size(-2);
    auto sizes = q.sizes().vec();
    sizes[sizes.size() - 2] = keyDim();
    sizes.back() = valueDim();
    auto S = at::zeros(sizes, q.options());
    std::vector<at::Tensor> outs;
    for (int64_t t = 0; t < L; ++t) {
      auto kt = k.narrow(-2, t, 1), vt = v.narrow(-2, t, 1);  // [..., H, 1, d]
      auto bt = beta.narrow(-2, t, 1);
      auto ktT = kt.transpose(-1, -2);  // [..., H, d_k, 1]
      // S k_t = (what the state returns for k_t); delta rule: replace it by v_t with strength beta.
      S = S + bt * at::matmul(ktT, vt - at::matmul(kt, S));
      outs.push_back(at::matmul(q.narrow(-2, t, 1), S));
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int) const override { return keyValueStateSize(); }
  std::string tssFormula() const override { return keyValueFormula(); }

 private:
  at::Tensor betaWeight_;
};

}  // namespace

void registerDeltaNet(MixerRegistry& r) {
  MixerKind kind;
  kind.name = "deltanet";
  kind.keyShift = true;
  kind.make = [](int d, int h, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<DeltaNet>(d, h, o.keyShift, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
