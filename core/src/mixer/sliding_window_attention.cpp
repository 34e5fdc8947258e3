// sliding_window_attention: causal softmax attention restricted to a window of the last w
// positions (Child et al. 2019; Beltagy et al. 2020, Longformer; Mistral's local layers),
// multi-head. T[h] = softmax(Q_h K_h^T / sqrt(d_k) + mask) with the mask -inf unless
// r - w < c <= r: output r sees inputs max(0, r-w+1) .. r (w positions, the current one included).
// Recurrent form: a KV cache holding at most w entries (the oldest is dropped), one query at a
// time. TSS at split s: min(s, w)*(d_k+d_v) (the cache of the window).
// Structure: H_s = T[s:, :s] is nonzero only in its top-right (w-1) x (w-1) corner (rows s ..
// s+w-2, columns s-w+1 .. s-1, an anti-triangular band), so rank H_s <= min(s, L-s, w-1).
#include <algorithm>
#include <cmath>
#include <limits>

#include "ess/mixer.h"

namespace ess {
namespace {

class SlidingWindowAttention : public Mixer {
 public:
  SlidingWindowAttention(int dModel, int numHeads, bool keyShift, int window, const at::Generator* gen)
      : Mixer("sliding_window_attention", dModel, numHeads, keyShift, gen), window_(window) {}

  int window() const { return window_; }

  at::Tensor materialize(const at::Tensor& x) override {
    auto q = project(x, qWeight_);  // [..., H, L, d_k]
    auto k = keys(x);
    const int64_t L = q.size(-2);
    auto scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(keyDim()));
    // Outside the window: above the diagonal (c > r) or at least w behind (c <= r - w).
    auto ones = at::ones({L, L}, x.options().dtype(at::kBool));
    auto outside = ones.triu(1).logical_or(ones.tril(-window_));
    scores = scores.masked_fill(outside, -std::numeric_limits<double>::infinity());
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
    at::Tensor kCache, vCache;  // [B, H, n, d], n <= w
    for (int64_t t = 0; t < L; ++t) {
      auto kt = k.narrow(-2, t, 1), vt = v.narrow(-2, t, 1);
      kCache = kCache.defined() ? at::cat({kCache, kt}, -2) : kt;
      vCache = vCache.defined() ? at::cat({vCache, vt}, -2) : vt;
      if (kCache.size(-2) > window_) {  // drop the entry that left the window
        kCache = kCache.narrow(-2, 1, window_);
        vCache = vCache.narrow(-2, 1, window_);
      }
      auto s = at::matmul(q.narrow(-2, t, 1), kCache.transpose(-1, -2)) * scale;  // [B, H, 1, n]
      outs.push_back(at::matmul(at::softmax(s, -1), vCache));                     // [B, H, 1, d_v]
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int split) const override {
    return static_cast<double>(std::min(split, window_)) * (keyDim() + valueDim());
  }
  std::string tssFormula() const override {
    return "min(s,w)*(d_k+d_v) = min(s," + std::to_string(window_) + ")*(" + std::to_string(keyDim()) + "+" +
           std::to_string(valueDim()) + ")";
  }

 private:
  int window_;
};

}  // namespace

void registerSlidingWindowAttention(MixerRegistry& r) {
  MixerOption window;
  window.key = "window";
  window.aliases = {"sliding_window"};
  window.field = &MixerOptions::window;
  window.metavar = "W";
  window.help = "positions each output sees, the current one included";
  r.addOption(window);
  MixerKind kind;
  kind.name = "sliding_window_attention";
  kind.options = {"window"};
  kind.keyShift = true;
  kind.make = [](int d, int h, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<SlidingWindowAttention>(d, h, o.keyShift, o.window, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
