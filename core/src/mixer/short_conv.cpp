// short_conv: causal depthwise convolution of length k on the value projection, as in the short
// convolutions of H3 (Fu et al. 2023), Hyena (Poli et al. 2023) and Mamba (Gu and Dao 2023):
//   v = v_proj(x),  y_t[ch] = sum_{j=0..k-1} w[ch, j] v_{t-j}[ch]   (v_{<0} = 0),  out = o_proj(y).
// There are no queries, keys or heads in the attention sense: each channel is its own SISO
// operator, so heads() = d_model, d_v = 1 (valueDim), d_k = 0, and T has shape [D, L, L] with
// T[ch, r, c] = w[ch, r-c] for 0 <= r-c < k (input-invariant, banded Toeplitz).
// Parameters: v_proj.weight [D, D], o_proj.weight [D, D], conv.weight [D, k] (tap j multiplies
// the input j steps back), uniform in +-1/sqrt(k). No key shift (there are no keys).
// Recurrent form: a buffer of the last k-1 inputs per channel. TSS: k-1 per channel.
// Structure: H_s = T[s:, :s] is nonzero only in its top-right (k-1) x (k-1) corner, an
// anti-triangular Hankel block with w[ch, k-1] on its anti-diagonal, so
// rank H_s <= min(s, L-s, k-1), with equality when w[ch, k-1] != 0.
#include <algorithm>

#include "ess/mixer.h"

namespace ess {
namespace {

class ShortConv : public Mixer {
 public:
  ShortConv(int dModel, int kernel, const at::Generator* gen)
      : Mixer("short_conv", dModel, dModel, false, gen, false), kernel_(kernel) {
    convWeight_ = addLinear("conv", dModel, kernel, false, gen).first;
  }

  int kernel() const { return kernel_; }

  /// x [..., L, D] -> T [..., D, L, L] (the same operator for every sequence of the batch).
  at::Tensor materialize(const at::Tensor& x) override {
    const int64_t L = x.size(-2);
    auto w = convWeight_.to(x.scalar_type());  // [D, k]
    auto T = at::zeros({heads(), L, L}, x.options());
    for (int64_t j = 0; j < std::min<int64_t>(kernel_, L); ++j) {
      auto band = at::ones({L - j}, x.options()).diag(-j);  // ones at r - c == j
      T = T + w.select(1, j).reshape({heads(), 1, 1}) * band;
    }
    auto sizes = x.sizes().vec();
    sizes.pop_back();
    sizes.pop_back();  // batch dims
    sizes.insert(sizes.end(), {heads(), L, L});
    return T.expand(sizes).contiguous();
  }

  /// Parallel form: the sum of k shifted copies of the values, v [..., D, L, 1].
  at::Tensor headOutputs(const at::Tensor& x) override {
    auto v = values(x);
    const int64_t L = v.size(-2);
    auto w = convWeight_.to(x.scalar_type());
    auto y = at::zeros_like(v);
    for (int64_t j = 0; j < std::min<int64_t>(kernel_, L); ++j) {
      auto shifted = at::constant_pad_nd(v.narrow(-2, 0, L - j), {0, 0, j, 0});  // v_{t-j}
      y = y + w.select(1, j).reshape({heads(), 1, 1}) * shifted;
    }
    return y;
  }

  /// Recurrent form: the state is the last k-1 value inputs per channel.
  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto v = values(x);  // [B, D, L, 1]
    const int64_t L = v.size(-2);
    auto w = convWeight_.to(x.scalar_type());
    auto sizes = v.sizes().vec();
    sizes[sizes.size() - 2] = kernel_ - 1;
    auto buf = at::zeros(sizes, v.options());  // [B, D, k-1, 1]: buf[j-1] = v_{t-j}
    std::vector<at::Tensor> outs;
    for (int64_t t = 0; t < L; ++t) {
      auto vt = v.narrow(-2, t, 1);  // [B, D, 1, 1]
      auto yt = w.select(1, 0).reshape({heads(), 1, 1}) * vt;
      for (int64_t j = 1; j < kernel_; ++j)
        yt = yt + w.select(1, j).reshape({heads(), 1, 1}) * buf.narrow(-2, j - 1, 1);
      outs.push_back(yt);
      if (kernel_ > 1) buf = at::cat({vt, buf.narrow(-2, 0, kernel_ - 2)}, -2);
    }
    return at::cat(outs, -2);
  }

  double theoreticalStateSize(int) const override { return static_cast<double>(kernel_ - 1); }
  std::string tssFormula() const override { return "k-1 = " + std::to_string(kernel_) + "-1"; }

 private:
  int kernel_;
  at::Tensor convWeight_;
};

}  // namespace

void registerShortConv(MixerRegistry& r) {
  MixerOption kernel;
  kernel.key = "conv_kernel";
  kernel.field = &MixerOptions::convKernel;
  kernel.metavar = "K";
  kernel.help = "causal convolution length (short_conv's kernel, mamba's d_conv)";
  r.addOption(kernel);
  MixerKind kind;
  kind.name = "short_conv";
  kind.options = {"conv_kernel"};
  kind.make = [](int d, int, const at::Generator* gen, const MixerOptions& o) -> std::shared_ptr<Mixer> {
    return std::make_shared<ShortConv>(d, o.convKernel, gen);
  };
  r.addKind(kind);
}

}  // namespace ess
