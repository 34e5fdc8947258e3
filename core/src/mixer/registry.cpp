// The mixer registry (see ess/mixer_registry.h): the one list of built-in kinds, and the lookups
// that makeMixer, config.json and train-mqar share.
#include "ess/mixer_registry.h"

#include <stdexcept>

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

std::string MixerOption::boundError(const std::string& name, int value, int lowest) const {
  if (value >= lowest) return {};
  std::string s = name + " must be at least " + std::to_string(lowest);
  if (lowest == 0 && !zeroMeans.empty()) s += " (0: " + zeroMeans + ")";
  return s + ", got " + std::to_string(value);
}

void MixerRegistry::addOption(MixerOption option) {
  if (!option.field) throw std::logic_error("mixer option '" + option.key + "' has no field");
  for (const MixerOption& o : options_)
    if (o.key == option.key || o.flag == option.flag || o.field == option.field)
      throw std::logic_error("mixer option '" + option.key + "' is declared twice");
  option.kinds.clear();
  options_.push_back(std::move(option));
}

void MixerRegistry::addKind(MixerKind kind) {
  if (findKind(kind.name)) throw std::logic_error("mixer kind '" + kind.name + "' is registered twice");
  if (!kind.make) throw std::logic_error("mixer kind '" + kind.name + "' has no factory");
  for (const std::string& key : kind.options) {
    bool found = false;
    for (MixerOption& o : options_)
      if (o.key == key) {
        o.kinds.push_back(kind.name);
        found = true;
      }
    if (!found) throw std::logic_error("mixer kind '" + kind.name + "' reads undeclared option '" + key + "'");
  }
  names_.push_back(kind.name);
  kinds_.push_back(std::move(kind));
}

const MixerKind* MixerRegistry::findKind(const std::string& name) const {
  for (const MixerKind& k : kinds_)
    if (k.name == name) return &k;
  return nullptr;
}

const MixerOption* MixerRegistry::findOption(const std::string& key) const {
  for (const MixerOption& o : options_)
    if (o.key == key) return &o;
  return nullptr;
}

std::string MixerRegistry::unknownKindMessage(const std::string& name) const {
  std::string list;
  for (size_t i = 0; i < names_.size(); ++i) list += (i ? ", " : "") + names_[i];
  return "unknown mixer kind '" + name + "' (known kinds: " + list + ")";
}

}  // namespace ess
