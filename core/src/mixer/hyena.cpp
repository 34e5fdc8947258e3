// hyena: an order-2 Hyena operator (Poli et al., "Hyena Hierarchy", ICML 2023), simplified: a long
// causal depthwise convolution gated multiplicatively on both sides, per channel ch:
//   u = v_proj(x),  g_in = in_gate(x),  g_out = out_gate(x)    (identity gates: plain linear
//                                                                projections, as in Hyena)
//   y_t[ch] = g_out_t[ch] * sum_{j=0..min(t, l_f-1)} h[ch, j] g_in_{t-j}[ch] u_{t-j}[ch]
// so T[ch] = diag(g_out) Toeplitz(h[ch]) diag(g_in), T[ch, r, c] = g_out_r h[ch, r-c] g_in_c for
// 0 <= r-c < l_f. Filter: our choice is an EXPLICIT learned filter of length l_f
// (MixerOptions::filterLength; ess-lm uses filter_length, default max_length) times a fixed
// exponential decay window, h[ch, j] = w[ch, j] * exp(-alpha_ch * j / l_f), with alpha_ch spread
// linearly over [ln(100)/1.5, ln(100)/0.3] across channels (Hyena's ExponentialModulation:
// fast_decay_pct 0.3, slow_decay_pct 1.5, target 1e-2), instead of Hyena's implicit MLP of
// positional features; the window is not a parameter. No short convolutions on the projections.
// One SISO operator per channel, like short_conv: heads() = d_model, d_v = 1, d_k = 0, no key shift.
// Parameters: v_proj.weight, in_gate.weight, out_gate.weight, o_proj.weight [D, D],
// filter.weight [D, l_f] (tap j at lag j, uniform in +-1/sqrt(l_f)).
// Parallel form: FFT convolution (length 2L, no wrap-around). Recurrent form: a buffer of the last
// l_f-1 gated inputs g_in*u per channel.
// TSS per channel at split s: min(s, l_f-1). A causal convolution carries no finite recurrent
// state; what an exact recurrence must store across s is the buffer of past gated inputs, of
// which only the last l_f-1 are still seen (at most s exist). The operator's own bound is
// rank H_s <= min(s, L-s, l_f-1) (the diagonal gates do not raise the rank of the Toeplitz block);
// L-s is not part of the TSS since the layer does not know where the sequence ends.
#include <algorithm>
#include <cmath>

#include "ess/mixer.h"

namespace ess {
namespace {

class Hyena : public Mixer {
 public:
  Hyena(int dModel, int filterLength, const at::Generator* gen)
      : Mixer("hyena", dModel, dModel, false, gen, false), filterLength_(filterLength) {
    inGate_ = addLinear("in_gate", dModel, dModel, false, gen).first;
    outGate_ = addLinear("out_gate", dModel, dModel, false, gen).first;
    filter_ = addLinear("filter", dModel, filterLength, false, gen).first;
  }

  int filterLength() const { return filterLength_; }

  /// The windowed filter h [D, n] (taps 0..n-1, n = min(l_f, L)) in dtype `dt`.
  at::Tensor taps(int64_t L, at::ScalarType dt) const {
    const int64_t n = std::min<int64_t>(filterLength_, L);
    const double lo = std::log(100.0) / 1.5, hi = std::log(100.0) / 0.3;
    auto opts = at::TensorOptions().dtype(dt);
    auto alpha = heads() > 1 ? at::linspace(lo, hi, heads(), opts) : at::full({1}, lo, opts);  // [D]
    auto j = at::arange(n, opts) / static_cast<double>(filterLength_);                         // [n]
    return filter_.to(dt).narrow(1, 0, n) * at::exp(-alpha.unsqueeze(1) * j.unsqueeze(0));
  }

  /// x [..., L, D] -> T [..., D, L, L].
  at::Tensor materialize(const at::Tensor& x) override {
    const int64_t L = x.size(-2);
    auto h = taps(L, x.scalar_type());  // [D, n]
    const int64_t n = h.size(1);
    auto pos = at::arange(L, x.options().dtype(at::kLong));
    auto lag = pos.unsqueeze(1) - pos.unsqueeze(0);  // [L, L], r - c
    auto valid = (lag >= 0).logical_and(lag < n);
    auto toeplitz = h.index_select(1, lag.clamp(0, n - 1).flatten()).view({heads(), L, L}) * valid.to(x.scalar_type());
    return project(x, outGate_) * toeplitz * project(x, inGate_).transpose(-1, -2);
  }

  /// Parallel form: FFT convolution of the gated values with the filter, then the output gate.
  at::Tensor headOutputs(const at::Tensor& x) override {
    auto z = (project(x, inGate_) * values(x)).squeeze(-1);  // [..., D, L]
    const int64_t L = z.size(-1);
    auto h = taps(L, x.scalar_type());
    const int64_t n = 2 * L;
    auto spec = at::fft_rfft(z, n, -1) * at::fft_rfft(h, n, -1);
    auto y = at::fft_irfft(spec, n, -1).narrow(-1, 0, L);
    return project(x, outGate_) * y.unsqueeze(-1);
  }

  /// Recurrent form: buf[j-1] = g_in u at t-j, j = 1..l_f-1.
  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto z = project(x, inGate_) * values(x);  // [B, D, L, 1]
    auto g = project(x, outGate_);
    const int64_t L = z.size(-2);
    auto h = taps(filterLength_, x.scalar_type());  // [D, l_f]
    auto sizes = z.sizes().vec();
    sizes[sizes.size() - 2] = filterLength_ - 1;
    auto buf = at::zeros(sizes, z.options());  // [B, D, l_f-1, 1]
    auto h0 = h.select(1, 0).reshape({heads(), 1, 1});
    auto hRest = h.narrow(1, 1, filterLength_ - 1).unsqueeze(-1);  // [D, l_f-1, 1]
    std::vector<at::Tensor> outs;
    for (int64_t t = 0; t < L; ++t) {
      auto zt = z.narrow(-2, t, 1);
      auto conv = h0 * zt + (hRest * buf).sum(-2, true);
      outs.push_back(g.narrow(-2, t, 1) * conv);
      if (filterLength_ > 1) buf = at::cat({zt, buf.narrow(-2, 0, filterLength_ - 2)}, -2);
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int split) const override {
    return static_cast<double>(std::min(split, filterLength_ - 1));
  }
  std::string tssFormula() const override { return "min(s, l_f-1) = min(s, " + std::to_string(filterLength_) + "-1)"; }

 private:
  int filterLength_;
  at::Tensor inGate_, outGate_, filter_;
};

}  // namespace

void registerHyena(MixerRegistry& r) {
  MixerOption filter;
  filter.key = "filter_length";
  filter.field = &MixerOptions::filterLength;
  filter.zeroIsLength = true;
  filter.metavar = "F";
  filter.help = "long filter length l_f";
  r.addOption(filter);
  MixerKind kind;
  kind.name = "hyena";
  kind.options = {"filter_length"};
  kind.make = [](int d, int, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<Hyena>(d, o.filterLength, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
