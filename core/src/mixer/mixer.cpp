// Mixer base class and factory (see ess/mixer.h).
#include "ess/mixer.h"

#include <cmath>
#include <sstream>

#include "ess/error.h"

namespace ess {

// Defined in one file per mixer family.
std::shared_ptr<Mixer> makeSoftmaxAttention(int dModel, int numHeads, bool keyShift, const at::Generator* gen);
std::shared_ptr<Mixer> makeLinearAttention(int dModel, int numHeads, bool keyShift, const at::Generator* gen);
std::shared_ptr<Mixer> makeGla(int dModel, int numHeads, bool keyShift, const at::Generator* gen);
std::shared_ptr<Mixer> makeSlidingWindowAttention(int dModel, int numHeads, bool keyShift, int window,
                                                  const at::Generator* gen);
std::shared_ptr<Mixer> makeRetNet(int dModel, int numHeads, bool keyShift, const at::Generator* gen);
std::shared_ptr<Mixer> makeShortConv(int dModel, int kernel, const at::Generator* gen);
std::shared_ptr<Mixer> makeMamba2(int dModel, int numHeads, bool keyShift, int stateSize, const at::Generator* gen);
std::shared_ptr<Mixer> makeHyena(int dModel, int filterLength, const at::Generator* gen);
std::shared_ptr<Mixer> makeLtiSsm(int dModel, int stateSize, const at::Generator* gen);
std::shared_ptr<Mixer> makeDeltaNet(int dModel, int numHeads, bool keyShift, const at::Generator* gen);
std::shared_ptr<Mixer> makeMamba(int dModel, int expand, int stateSize, int convKernel, int dtRank,
                                 const at::Generator* gen);

const std::vector<std::string>& knownMixerKinds() {
  static const std::vector<std::string> kinds = {"softmax_attention",        "linear_attention", "gla",
                                                 "sliding_window_attention", "retnet",           "short_conv",
                                                 "mamba2",                   "hyena",            "lti_ssm",
                                                 "deltanet",                 "mamba"};
  return kinds;
}

std::shared_ptr<Mixer> makeMixer(const std::string& kind, int dModel, int numHeads,
                                 const at::Generator* gen, bool keyShift) {
  MixerOptions o;
  o.keyShift = keyShift;
  return makeMixer(kind, dModel, numHeads, gen, o);
}

std::shared_ptr<Mixer> makeMixer(const std::string& kind, int dModel, int numHeads, const at::Generator* gen,
                                 const MixerOptions& o) {
  const bool keyShift = o.keyShift;
  if (kind == "softmax_attention") return makeSoftmaxAttention(dModel, numHeads, keyShift, gen);
  if (kind == "linear_attention") return makeLinearAttention(dModel, numHeads, keyShift, gen);
  if (kind == "gla") return makeGla(dModel, numHeads, keyShift, gen);
  if (kind == "sliding_window_attention") {
    if (o.window < 1) throw InputError("sliding_window_attention: window must be at least 1, got " +
                                       std::to_string(o.window));
    return makeSlidingWindowAttention(dModel, numHeads, keyShift, o.window, gen);
  }
  if (kind == "retnet") return makeRetNet(dModel, numHeads, keyShift, gen);
  if (kind == "short_conv") {
    if (o.convKernel < 1) throw InputError("short_conv: conv_kernel must be at least 1, got " +
                                           std::to_string(o.convKernel));
    return makeShortConv(dModel, o.convKernel, gen);
  }
  if (kind == "mamba2") {
    if (o.stateSize < 1) throw InputError("mamba2: state_size must be at least 1, got " +
                                          std::to_string(o.stateSize));
    return makeMamba2(dModel, numHeads, keyShift, o.stateSize, gen);
  }
  if (kind == "hyena") {
    if (o.filterLength < 1) throw InputError("hyena: filter_length must be at least 1, got " +
                                             std::to_string(o.filterLength));
    return makeHyena(dModel, o.filterLength, gen);
  }
  if (kind == "lti_ssm") {
    if (o.stateSize < 1) throw InputError("lti_ssm: state_size must be at least 1, got " +
                                          std::to_string(o.stateSize));
    return makeLtiSsm(dModel, o.stateSize, gen);
  }
  if (kind == "deltanet") return makeDeltaNet(dModel, numHeads, keyShift, gen);
  if (kind == "mamba") {
    auto bad = [](const std::string& what, int v) {
      return InputError("mamba: " + what + " must be at least 1, got " + std::to_string(v));
    };
    if (o.stateSize < 1) throw bad("state_size", o.stateSize);
    if (o.convKernel < 1) throw bad("conv_kernel", o.convKernel);
    if (o.expand < 1) throw bad("expand", o.expand);
    if (o.dtRank < 0) throw InputError("mamba: dt_rank must be at least 0 (0: automatic), got " +
                                       std::to_string(o.dtRank));
    return makeMamba(dModel, o.expand, o.stateSize, o.convKernel, o.dtRank, gen);
  }
  std::ostringstream os;
  os << "unknown mixer kind '" << kind << "' (known kinds: ";
  for (size_t i = 0; i < knownMixerKinds().size(); ++i) os << (i ? ", " : "") << knownMixerKinds()[i];
  os << ")";
  throw InputError(os.str());
}

Mixer::Mixer(std::string kind, int dModel, int numHeads, bool keyShift, const at::Generator* gen,
             bool queryKey, bool valueOutput)
    : kind_(std::move(kind)), dModel_(dModel), numHeads_(numHeads) {
  if (numHeads <= 0 || dModel <= 0 || dModel % numHeads != 0)
    throw InputError("d_model " + std::to_string(dModel) + " is not a positive multiple of num_heads " +
                     std::to_string(numHeads));
  headDim_ = dModel / numHeads;
  if (queryKey) {
    qWeight_ = addLinear("q_proj", dModel, dModel, false, gen).first;
    kWeight_ = addLinear("k_proj", dModel, dModel, false, gen).first;
  }
  if (valueOutput) {
    vWeight_ = addLinear("v_proj", dModel, dModel, false, gen).first;
    oWeight_ = addLinear("o_proj", dModel, dModel, false, gen).first;
  }
  if (keyShift && queryKey) shift_ = register_parameter("k_shift", at::full({dModel}, 0.5, at::kFloat));
}

Mixer::~Mixer() = default;

std::pair<at::Tensor, at::Tensor> Mixer::addLinear(const std::string& name, int out, int in, bool withBias,
                                                   const at::Generator* gen) {
  auto sub = register_module(name, std::make_shared<torch::nn::Module>());
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  auto w = at::empty({out, in}, at::kFloat);
  w.uniform_(-bound, bound, gen ? c10::optional<at::Generator>(*gen) : c10::nullopt);
  at::Tensor weight = sub->register_parameter("weight", w);
  at::Tensor bias;
  if (withBias) bias = sub->register_parameter("bias", at::zeros({out}, at::kFloat));
  return {weight, bias};
}

at::Tensor Mixer::project(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) const {
  auto y = at::linear(x, weight.to(x.scalar_type()),
                      bias.defined() ? c10::optional<at::Tensor>(bias.to(x.scalar_type())) : c10::nullopt);
  auto sizes = y.sizes().vec();  // [..., L, H*d]
  const int64_t d = sizes.back() / numHeads_;
  sizes.back() = numHeads_;
  sizes.push_back(d);
  return y.view(sizes).transpose(-3, -2);  // [..., H, L, d]
}

at::Tensor Mixer::keys(const at::Tensor& x) const {
  if (!shift_.defined()) return project(x, kWeight_);
  // x_{t-1}, with zeros before the first position: pad one row at the front of the L axis.
  const int64_t L = x.size(-2);
  auto prev = at::constant_pad_nd(x.narrow(-2, 0, L - 1), {0, 0, 1, 0});
  return project(x + shift_.to(x.scalar_type()) * (prev - x), kWeight_);
}

at::Tensor Mixer::values(const at::Tensor& x) const { return project(x, vWeight_); }

Generators Mixer::generators(const at::Tensor&) { return {}; }

at::Tensor Mixer::forward(const at::Tensor& x) {
  auto h = headOutputs(x);                    // [B, H, L, d_v]
  auto y = h.transpose(1, 2).contiguous();    // [B, L, H, d_v]
  y = y.view({y.size(0), y.size(1), -1});
  return at::linear(y, oWeight_.to(y.scalar_type()));
}

}  // namespace ess
