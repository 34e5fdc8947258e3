// model.vocab and model.merges of tokenizer.json (text/bpe_vocab.h).
#include "text/bpe_vocab.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ess/error.h"

namespace ess::text {

BpeVocab BpeVocab::fromJson(const nlohmann::json& model, const std::string& what) {
  BpeVocab m;
  auto vocab = model.find("vocab");
  if (vocab == model.end() || !vocab->is_object()) throw InputError(what + ": model.vocab is missing or not an object");
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<long>() < 0)
      throw InputError(what + ": model.vocab[\"" + it.key() + "\"] is not a non-negative integer id");
    const long id = it.value().get<long>();
    m.vocab[it.key()] = id;
    m.idToToken[id] = it.key();
    m.maxId = std::max(m.maxId, id);
  }
  auto merges = model.find("merges");
  if (merges != model.end() && !merges->is_null()) {
    if (!merges->is_array()) throw InputError(what + ": model.merges is not a list");
    int rank = 0;
    for (const auto& e : *merges) {
      std::string key;
      if (e.is_string()) {
        key = e.get<std::string>();
        if (key.find(' ') == std::string::npos)
          throw InputError(what + ": model.merges[" + std::to_string(rank) + "] \"" + key + "\" is not \"a b\"");
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        key = e[0].get<std::string>() + " " + e[1].get<std::string>();
      } else {
        throw InputError(what + ": model.merges[" + std::to_string(rank) + "] is neither \"a b\" nor [\"a\", \"b\"]");
      }
      m.mergeRank.emplace(key, rank++);
    }
  }
  if (model.contains("ignore_merges") && model["ignore_merges"].is_boolean())
    m.ignoreMerges = model["ignore_merges"].get<bool>();
  return m;
}

}  // namespace ess::text
