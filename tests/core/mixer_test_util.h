// Helpers the mixer test suites share: a seeded mixer of any kind, a random float64 input
// [B, L, D] and the largest absolute entry of a tensor.
#pragma once
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <memory>
#include <string>

#include "ess/mixer.h"

namespace mixertest {

inline double maxAbs(const at::Tensor& t) { return t.abs().max().item<double>(); }

/// A mixer of `kind` with width `d`, `h` heads and default options, weights drawn from `seed`.
inline std::shared_ptr<ess::Mixer> make(const std::string& kind, int d = 32, int h = 2, uint64_t seed = 1,
                                        bool shift = false) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return ess::makeMixer(kind, d, h, &gen, shift);
}

/// The same with explicit per-kind options (window, state size, ...).
inline std::shared_ptr<ess::Mixer> makeWith(const std::string& kind, const ess::MixerOptions& o, int d = 32, int h = 2,
                                            uint64_t seed = 1) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return ess::makeMixer(kind, d, h, &gen, o);
}

/// A float64 input [b, l, d] with standard normal entries times `scale`.
inline at::Tensor input(int64_t b, int64_t l, int64_t d, double scale = 1.0, uint64_t seed = 7) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::randn({b, l, d}, gen, at::TensorOptions().dtype(at::kDouble)) * scale;
}

}  // namespace mixertest
