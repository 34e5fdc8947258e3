// config.json: the fields every family shares and the dispatch to the family's reader
// (hf/hf_config.h, HfConfig::fromJson of ess/hf_model.h).
#include "hf/hf_config.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ess/error.h"
#include "hf/hf_architecture.h"
#include "math/json_text.h"

namespace ess::hf {

using json = nlohmann::json;

const json* ConfigFields::get(const std::string& k) const {
  auto it = j.find(k);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

void ConfigFields::fail(const std::string& k, const std::string& what) const {
  throw InputError(path + ": field \"" + k + "\" " + what);
}

int ConfigFields::integer(const std::string& k, std::optional<int> dflt, int minimum) const {
  const json* v = get(k);
  if (!v) {
    if (dflt) return *dflt;
    fail(k, "is missing");
  }
  if (!v->is_number_integer()) fail(k, "must be an integer, got " + v->dump());
  const long long x = v->get<long long>();
  if (x < minimum || x > (1ll << 31) - 1) fail(k, "must be at least " + std::to_string(minimum) + ", got " + v->dump());
  return static_cast<int>(x);
}

double ConfigFields::number(const std::string& k, double dflt, bool positive) const {
  const json* v = get(k);
  if (!v) return dflt;
  if (!v->is_number()) fail(k, "must be a number, got " + v->dump());
  const double x = v->get<double>();
  if (!std::isfinite(x) || (positive && x <= 0)) fail(k, "must be a positive number, got " + v->dump());
  return x;
}

bool ConfigFields::boolean(const std::string& k, bool dflt) const {
  const json* v = get(k);
  if (!v) return dflt;
  if (!v->is_boolean()) fail(k, "must be true or false, got " + v->dump());
  return v->get<bool>();
}

std::string ConfigFields::text(const std::string& k, const std::string& dflt) const {
  const json* v = get(k);
  if (!v) return dflt;
  if (!v->is_string()) fail(k, "must be a string, got " + v->dump());
  return v->get<std::string>();
}

void checkActivation(const ConfigFields& f, const std::string& key, const std::string& act) {
  static const std::vector<std::string> known = {"gelu_new", "gelu_pytorch_tanh", "gelu", "relu", "silu", "swish"};
  if (std::find(known.begin(), known.end(), act) == known.end())
    f.fail(key, "is \"" + act + "\"; supported: gelu_new, gelu_pytorch_tanh, gelu, relu, silu");
}

void readRotary(const ConfigFields& f, HfConfig& c, const std::string& thetaKey, const std::string& fractionKey,
                double fraction) {
  // transformers 5 keeps theta, the partial fraction and the scaling in one object; older
  // configs have top-level fields and rope_scaling.
  const json* params = f.get("rope_parameters");
  const std::string scalingKey = params ? "rope_parameters" : "rope_scaling";
  const json* rs = params ? params : f.get("rope_scaling");
  if (rs && !rs->is_object()) f.fail(scalingKey, "must be an object, got " + rs->dump());
  const json empty = json::object();
  ConfigFields r{rs ? *rs : empty, f.path};
  c.ropeTheta = params ? r.number("rope_theta", f.number(thetaKey, 10000.0)) : f.number(thetaKey, 10000.0);
  if (!fractionKey.empty()) {
    const std::string key = params && r.get("partial_rotary_factor") ? "partial_rotary_factor" : fractionKey;
    fraction = params && r.get("partial_rotary_factor") ? r.number("partial_rotary_factor", fraction)
                                                        : f.number(fractionKey, fraction);
    if (fraction > 1) f.fail(key, "must be at most 1, got " + std::to_string(fraction));
    c.rotaryDim = static_cast<int>(c.headDim * fraction);  // HF: int(head_dim * fraction)
    if (c.rotaryDim < 2 || c.rotaryDim % 2 != 0)
      f.fail(key, "rotates " + std::to_string(c.rotaryDim) + " of the " + std::to_string(c.headDim) +
                      " dimensions of a head; RoPE needs an even, non-zero number");
  } else {
    c.rotaryDim = c.headDim;
  }
  if (!rs) return;
  std::string type = r.text("rope_type", r.text("type", ""));
  if (type == "default") type = "";
  if (type == "linear" || type == "llama3") {
    c.ropeScaling = type;
    c.ropeFactor = r.number("factor", 0.0);
    if (c.ropeFactor <= 0) f.fail(scalingKey, "needs a positive \"factor\"");
    if (type == "llama3") {
      c.ropeLowFreqFactor = r.number("low_freq_factor", 1.0);
      c.ropeHighFreqFactor = r.number("high_freq_factor", 4.0);
      c.ropeOriginalMaxPositions = r.integer("original_max_position_embeddings", 8192);
      if (c.ropeHighFreqFactor <= c.ropeLowFreqFactor) f.fail(scalingKey, "needs high_freq_factor > low_freq_factor");
    }
  } else if (!type.empty()) {
    f.fail(scalingKey, "has type \"" + type + "\"; supported: linear, llama3 (or none)");
  }
}

}  // namespace ess::hf

namespace ess {

HfConfig HfConfig::fromJson(const std::string& text, const std::string& path) {
  using json = nlohmann::json;
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(path + ": not valid JSON (" + jsonProblem(e) + ")");
  }
  if (!j.is_object()) throw InputError(path + ": expected a JSON object");
  hf::ConfigFields f{j, path};
  HfConfig c;
  c.modelType = f.text("model_type", "");
  const hf::HfFamily* family = hf::findFamily(c.modelType);
  if (!family) {
    std::string types;
    for (const auto& t : HfModel::supportedModelTypes()) types += (types.empty() ? "" : ", ") + t;
    throw InputError(path + ": unsupported model_type \"" + c.modelType + "\" (supported: " + types + ", and ess-lm)");
  }
  family->readConfig(f, c);
  return c;
}

}  // namespace ess
