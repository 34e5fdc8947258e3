// Mixer base class and factory (see ess/mixer.h).
#include "ess/mixer.h"

#include <cmath>

#include "ess/error.h"

namespace ess {

std::shared_ptr<Mixer> makeMixer(const std::string& kind, int dModel, int numHeads, const at::Generator* gen,
                                 bool keyShift) {
  MixerOptions o;
  o.keyShift = keyShift;
  return makeMixer(kind, dModel, numHeads, gen, o);
}

std::shared_ptr<Mixer> makeMixer(const std::string& kind, int dModel, int numHeads, const at::Generator* gen,
                                 const MixerOptions& o) {
  const MixerRegistry& registry = mixerRegistry();
  const MixerKind* k = registry.findKind(kind);
  if (!k) throw InputError(registry.unknownKindMessage(kind));
  for (const std::string& key : k->options) {
    const MixerOption& opt = *registry.findOption(key);
    const std::string error = opt.boundError(key, o.*opt.field, opt.minimum);
    if (!error.empty()) throw InputError(kind + ": " + error);
  }
  return k->make(dModel, numHeads, gen, o);
}

Mixer::Mixer(std::string kind, int dModel, int numHeads, bool keyShift, const at::Generator* gen, bool queryKey,
             bool valueOutput)
    : kind_(std::move(kind)), numHeads_(numHeads) {
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
  auto h = headOutputs(x);                  // [B, H, L, d_v]
  auto y = h.transpose(1, 2).contiguous();  // [B, L, H, d_v]
  y = y.view({y.size(0), y.size(1), -1});
  return at::linear(y, oWeight_.to(y.scalar_type()));
}

}  // namespace ess
