// Prepend and Replace normalizers (text/normalizers.h).
#include "text/normalizers.h"

#include <functional>
#include <nlohmann/json.hpp>

#include "ess/error.h"
#include "text/unicode.h"

namespace ess::text {

Normalizer Normalizer::fromJson(const nlohmann::json& normalizer, const std::string& what) {
  using nlohmann::json;
  Normalizer out;
  std::function<void(const json&)> readNorm = [&](const json& p) {
    if (p.is_null()) return;
    const std::string nt = p.value("type", std::string());
    if (nt == "Prepend") {
      out.steps_.push_back({true, p.value("prepend", std::string()), ""});
    } else if (nt == "Replace") {
      const json pat = p.value("pattern", json::object());
      if (!pat.is_object() || !pat.contains("String") || !pat["String"].is_string() ||
          pat["String"].get<std::string>().empty())
        throw InputError(what + ": normalizer Replace pattern " + pat.dump() +
                         " is not supported (only a non-empty {\"String\": ...})");
      out.steps_.push_back({false, pat["String"].get<std::string>(), p.value("content", std::string())});
    } else if (nt == "Sequence") {
      for (const auto& q : p.value("normalizers", json::array())) readNorm(q);
    } else {
      throw InputError(what + ": normalizer type \"" + nt + "\" is not supported (Prepend, Replace, Sequence)");
    }
  };
  readNorm(normalizer);
  return out;
}

std::string Normalizer::apply(const std::string& segment) const {
  std::string s = segment;
  for (const Step& n : steps_) s = n.prepend ? (s.empty() ? s : n.text + s) : replaceAll(s, n.text, n.with);
  return s;
}

std::optional<std::string> Normalizer::spaceReplacement() const {
  std::optional<std::string> out;
  for (const Step& n : steps_)
    if (!n.prepend && n.text == " " && !n.with.empty()) out = n.with;
  return out;
}

}  // namespace ess::text
