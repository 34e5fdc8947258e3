// Reading config.json fields (internal to the core): typed fields whose errors name the file
// and the field, shared by the architecture families' config readers (arch_*.cpp).
#pragma once
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace ess {
struct HfConfig;
}

namespace ess::hf {

/// Typed fields of a config object; errors (InputError) name the file and the field.
struct ConfigFields {
  const nlohmann::json& j;
  const std::string& path;

  /// The field, or null when absent or JSON null.
  const nlohmann::json* get(const std::string& k) const;
  [[noreturn]] void fail(const std::string& k, const std::string& what) const;
  /// An integer >= `minimum`; `dflt` when absent (absent without a default: an error).
  int integer(const std::string& k, std::optional<int> dflt = std::nullopt, int minimum = 1) const;
  /// A finite number (positive unless `positive` is false); `dflt` when absent.
  double number(const std::string& k, double dflt, bool positive = true) const;
  bool boolean(const std::string& k, bool dflt) const;
  std::string text(const std::string& k, const std::string& dflt) const;
};

/// Rotary positions (RoPE) into c.ropeTheta, c.rotaryDim and c.ropeScaling (c.headDim set
/// before): the base from field `thetaKey` (default 10000), the rotated fraction of head_dim from
/// `fractionKey` (default `fraction`; an empty key: all of it), the scaling from `rope_scaling`;
/// or all three from transformers 5's `rope_parameters` object (rope_theta,
/// partial_rotary_factor, rope_type, factor, ...) when present. Fails naming the field for a
/// rope type other than default, linear and llama3, and for a rotated part that is odd or empty.
void readRotary(const ConfigFields& f, HfConfig& c, const std::string& thetaKey, const std::string& fractionKey,
                double fraction);

/// Fails on field `key` unless `act` is an MLP activation that hf_layers.h's activate() knows.
void checkActivation(const ConfigFields& f, const std::string& key, const std::string& act);

}  // namespace ess::hf
