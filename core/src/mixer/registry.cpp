// The mixer registry (see ess/mixer_registry.h): the one list of built-in kinds, registered on
// first use. In the model library (esscore): each registration names its LibTorch factory; the
// table and its lookups are in mixer_table.cpp (essmath).
#include "ess/mixer_registry.h"

namespace ess {

// One per mixer file, each adding its kind and the options it introduces.
void registerSoftmaxAttention(MixerRegistry& r);
void registerLinearAttention(MixerRegistry& r);
void registerGla(MixerRegistry& r);
void registerSlidingWindowAttention(MixerRegistry& r);
void registerRetNet(MixerRegistry& r);
void registerShortConv(MixerRegistry& r);
void registerMamba2(MixerRegistry& r);
void registerHyena(MixerRegistry& r);
void registerLtiSsm(MixerRegistry& r);
void registerDeltaNet(MixerRegistry& r);
void registerMamba(MixerRegistry& r);

MixerRegistry& mixerRegistry() {
  // The order fixes knownMixerKinds() and, through the options each kind introduces, the order
  // of the keys in config.json (window, conv_kernel, state_size, filter_length, expand, dt_rank).
  static MixerRegistry registry = [] {
    MixerRegistry r;
    registerSoftmaxAttention(r);
    registerLinearAttention(r);
    registerGla(r);
    registerSlidingWindowAttention(r);
    registerRetNet(r);
    registerShortConv(r);
    registerMamba2(r);
    registerHyena(r);
    registerLtiSsm(r);
    registerDeltaNet(r);
    registerMamba(r);
    return r;
  }();
  return registry;
}

const std::vector<std::string>& knownMixerKinds() { return mixerRegistry().kindNames(); }

MixerOptions mixerConfigDefaults() {
  MixerOptions o;
  for (const MixerOption& opt : mixerRegistry().options()) o.*opt.field = opt.configDefault();
  return o;
}

}  // namespace ess
