// The post_processor's template and tokenizer_config.json's BOS / EOS (text/special_tokens.h).
#include "text/special_tokens.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ess/error.h"
#include "ess/input_file.h"
#include "math/json_text.h"

namespace ess::text {

namespace fs = std::filesystem;

SpecialTokens SpecialTokens::fromPostProcessor(const nlohmann::json& postProcessor, const std::string& what) {
  using nlohmann::json;
  SpecialTokens m;
  std::function<void(const json&)> readPost = [&](const json& p) {
    if (p.is_null()) return;
    const std::string pt = p.value("type", std::string());
    std::vector<long> before, after;
    if (pt == "ByteLevel") {
      return;  // offsets only
    } else if (pt == "Sequence") {
      for (const auto& q : p.value("processors", json::array())) readPost(q);
      return;
    } else if (pt == "TemplateProcessing") {
      const json specials = p.value("special_tokens", json::object());
      const auto idsOf = [&](const std::string& name) {
        if (!specials.contains(name) || !specials[name].is_object() || !specials[name].contains("ids") ||
            !specials[name]["ids"].is_array())
          throw InputError(what + ": post_processor TemplateProcessing: special token \"" + name +
                           "\" is not in its special_tokens (with \"ids\")");
        return specials[name]["ids"].get<std::vector<long>>();
      };
      const json single = p.value("single", json());
      // Items: {"SpecialToken": {"id": name}} / {"Sequence": {"id": "A"}}, or the string form
      // "<s> $A" / "<s>:0 $A:0".
      std::vector<std::pair<bool, std::string>> items;  // (is the sequence, special token name)
      if (single.is_string()) {
        std::istringstream words(single.get<std::string>());
        for (std::string w; words >> w;) {
          if (w[0] == '$') {
            const std::string seq = w.substr(1, w.find(':') == std::string::npos ? std::string::npos : w.find(':') - 1);
            if (!seq.empty() && seq != "A" && seq != "0")
              throw InputError(what + ": post_processor TemplateProcessing single holds $" + seq + " (only $A)");
            items.emplace_back(true, "");
          } else {
            const size_t colon = w.rfind(':');
            items.emplace_back(false, colon == std::string::npos ? w : w.substr(0, colon));
          }
        }
      } else if (single.is_array()) {
        for (const auto& item : single) {
          if (item.is_object() && item.contains("Sequence")) {
            const std::string seq = item["Sequence"].value("id", std::string("A"));
            if (seq != "A")
              throw InputError(what + ": post_processor TemplateProcessing single holds $" + seq + " (only $A)");
            items.emplace_back(true, "");
          } else if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].is_object()) {
            items.emplace_back(false, item["SpecialToken"].value("id", std::string()));
          } else {
            throw InputError(what + ": post_processor TemplateProcessing single item " + item.dump() +
                             " is neither a SpecialToken nor a Sequence");
          }
        }
      } else {
        throw InputError(what + ": post_processor TemplateProcessing has no \"single\" template");
      }
      bool seen = false;
      for (const auto& [isSeq, name] : items) {
        if (isSeq) {
          if (seen) throw InputError(what + ": post_processor TemplateProcessing single holds $A twice");
          seen = true;
          continue;
        }
        const std::vector<long> ids = idsOf(name);
        (seen ? after : before).insert((seen ? after : before).end(), ids.begin(), ids.end());
      }
      if (!seen) throw InputError(what + ": post_processor TemplateProcessing single has no $A");
    } else if (pt == "BertProcessing" || pt == "RobertaProcessing") {  // cls $A sep
      for (const char* field : {"cls", "sep"}) {
        const json f = p.value(field, json());
        if (!f.is_array() || f.size() != 2 || !f[1].is_number_integer())
          throw InputError(what + ": post_processor " + pt + "." + field + " is not [\"token\", id]");
        (std::string(field) == "cls" ? before : after).push_back(f[1].get<long>());
      }
    } else {
      throw InputError(what + ": post_processor type \"" + pt +
                       "\" is not supported (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, "
                       "Sequence)");
    }
    // A later processor wraps what the earlier ones gave.
    m.before.insert(m.before.begin(), before.begin(), before.end());
    m.after.insert(m.after.end(), after.begin(), after.end());
  };
  try {
    readPost(postProcessor);
  } catch (const InputError& e) {
    m.error = e.what();
    m.before.clear();
    m.after.clear();
  } catch (const std::exception& e) {
    m.error = what + ": post_processor: " + e.what();
    m.before.clear();
    m.after.clear();
  }
  return m;
}

TokenizerConfig TokenizerConfig::read(const fs::path& dir) {
  TokenizerConfig out;
  const fs::path config = dir / "tokenizer_config.json";
  std::error_code ec;
  if (!fs::exists(config, ec)) return out;
  const std::string text = readRegularFile(config.string(), "JSON file", uint64_t(64) << 20);
  nlohmann::json c;
  try {
    c = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(config.string() + ": not valid JSON: " + jsonProblem(e));
  }
  if (!c.is_object()) return out;
  auto flag = [&](const char* key) -> std::optional<bool> {
    if (c.contains(key) && c[key].is_boolean()) return c[key].get<bool>();
    return std::nullopt;
  };
  auto token = [&](const char* key) -> std::string {  // "<s>" or {"content": "<s>", ...}
    if (!c.contains(key)) return {};
    const auto& t = c[key];
    if (t.is_string()) return t.get<std::string>();
    if (t.is_object() && t.contains("content") && t["content"].is_string()) return t["content"].get<std::string>();
    return {};
  };
  out.addBos = flag("add_bos_token");
  out.addEos = flag("add_eos_token");
  out.bosToken = token("bos_token");
  out.eosToken = token("eos_token");
  if (c.contains("tokenizer_class") && c["tokenizer_class"].is_string())
    out.tokenizerClass = c["tokenizer_class"].get<std::string>();
  return out;
}

bool TokenizerConfig::rebuildsSpecialTokens() const {
  static const std::set<std::string> rebuilds = {"LlamaTokenizer",         "LlamaTokenizerFast", "CodeLlamaTokenizer",
                                                 "CodeLlamaTokenizerFast", "GemmaTokenizer",     "GemmaTokenizerFast"};
  return rebuilds.count(tokenizerClass) > 0;
}

SpecialTokens TokenizerConfig::specialTokens(const std::function<long(const std::string&, const char*)>& idOf) const {
  SpecialTokens out;
  if (addBos.value_or(true) && !bosToken.empty()) out.before.push_back(idOf(bosToken, "bos_token"));
  if (addEos.value_or(false) && !eosToken.empty()) out.after.push_back(idOf(eosToken, "eos_token"));
  return out;
}

}  // namespace ess::text
