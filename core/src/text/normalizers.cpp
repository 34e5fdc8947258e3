// The tokenizer.json normalizers (text/normalizers.h).
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
    if (!p.is_object() || !p.contains("type") || !p["type"].is_string())
      throw InputError(what + ": normalizer " + p.dump().substr(0, 80) + " is not an object with a string \"type\"");
    const std::string nt = p["type"].get<std::string>();
    if (nt == "Prepend") {
      out.steps_.push_back({Kind::Prepend, p.value("prepend", std::string()), ""});
    } else if (nt == "Replace") {
      const json pat = p.value("pattern", json::object());
      if (!pat.is_object() || !pat.contains("String") || !pat["String"].is_string() ||
          pat["String"].get<std::string>().empty())
        throw InputError(what + ": normalizer Replace pattern " + pat.dump() +
                         " is not supported (only a non-empty {\"String\": ...})");
      out.steps_.push_back({Kind::Replace, pat["String"].get<std::string>(), p.value("content", std::string())});
    } else if (nt == "NFC") {
      out.steps_.push_back({Kind::NFC, "", ""});
    } else if (nt == "NFD") {
      out.steps_.push_back({Kind::NFD, "", ""});
    } else if (nt == "NFKC") {
      out.steps_.push_back({Kind::NFKC, "", ""});
    } else if (nt == "NFKD") {
      out.steps_.push_back({Kind::NFKD, "", ""});
    } else if (nt == "Lowercase") {
      out.steps_.push_back({Kind::Lowercase, "", ""});
    } else if (nt == "StripAccents") {
      out.steps_.push_back({Kind::StripAccents, "", ""});
    } else if (nt == "Sequence") {
      const json list = p.value("normalizers", json::array());
      if (!list.is_array()) throw InputError(what + ": normalizer Sequence \"normalizers\" is not a list");
      for (const auto& q : list) readNorm(q);
    } else {
      throw InputError(what + ": normalizer type \"" + nt +
                       "\" is not supported (NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Prepend, Replace, "
                       "Sequence)");
    }
  };
  readNorm(normalizer);
  return out;
}

std::string Normalizer::apply(const std::string& segment) const {
  std::string s = segment;
  for (const Step& n : steps_) {
    switch (n.kind) {
      case Kind::Prepend:
        s = s.empty() ? s : n.text + s;
        break;
      case Kind::Replace:
        s = replaceAll(s, n.text, n.with);
        break;
      case Kind::NFC:
        s = normalize(s, NormalForm::NFC);
        break;
      case Kind::NFD:
        s = normalize(s, NormalForm::NFD);
        break;
      case Kind::NFKC:
        s = normalize(s, NormalForm::NFKC);
        break;
      case Kind::NFKD:
        s = normalize(s, NormalForm::NFKD);
        break;
      case Kind::Lowercase:
        s = lowercase(s);
        break;
      case Kind::StripAccents:
        s = stripMarks(s);
        break;
    }
  }
  return s;
}

std::optional<std::string> Normalizer::spaceReplacement() const {
  std::optional<std::string> out;
  for (const Step& n : steps_)
    if (n.kind == Kind::Replace && n.text == " " && !n.with.empty()) out = n.with;
  return out;
}

}  // namespace ess::text
