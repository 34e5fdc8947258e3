// The vocabulary and merges of a tokenizer.json BPE model (model.type "BPE"), shared by the
// byte-level and the SentencePiece-style BPE (internal to the core).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <map>
#include <string>
#include <unordered_map>

namespace ess::text {

struct BpeVocab {
  std::unordered_map<std::string, long> vocab;     ///< piece -> id
  std::map<long, std::string> idToToken;           ///< id -> piece
  std::unordered_map<std::string, int> mergeRank;  ///< "a b" -> rank (position in model.merges)
  bool ignoreMerges = false;  ///< model.ignore_merges (Llama-3): a pre-token in the vocabulary is one token
  long maxId = -1;            ///< largest id of model.vocab

  /// Reads model.vocab, model.merges ("a b" strings or ["a", "b"] pairs) and ignore_merges.
  /// Throws InputError naming `what` and the entry that is malformed.
  static BpeVocab fromJson(const nlohmann::json& model, const std::string& what);
};

}  // namespace ess::text
