// The mixer registry's table (see ess/mixer_registry.h): the lookups that makeMixer, config.json
// and train-mqar share. No LibTorch: part of the math library; the built-in kinds are filled in
// by the model library (registry.cpp).
#include "ess/mixer_registry.h"

#include <stdexcept>

namespace ess {

std::string MixerOption::boundError(const std::string& name, int value, int lowest) const {
  if (value >= lowest) return {};
  std::string s = name + " must be at least " + std::to_string(lowest);
  if (lowest == 0 && !zeroMeans.empty()) s += " (0: " + zeroMeans + ")";
  return s + ", got " + std::to_string(value);
}

void MixerRegistry::addOption(MixerOption option) {
  if (!option.field) throw std::logic_error("mixer option '" + option.key + "' has no field");
  for (const MixerOption& o : options_)
    if (o.key == option.key || o.field == option.field)
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
