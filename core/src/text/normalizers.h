// Normalizers of tokenizer.json (internal to the core): Prepend and Replace, alone or in a
// Sequence, as Hugging Face converts SentencePiece models (Llama-2, Mistral, TinyLlama).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ess::text {

class Normalizer {
 public:
  /// Reads a `normalizer` object (null: none). Throws InputError naming `what` and the type for
  /// other types, and for a Replace pattern that is not a non-empty {"String": ...}.
  static Normalizer fromJson(const nlohmann::json& normalizer, const std::string& what);

  /// `segment` after each step in order (Prepend only to a non-empty text).
  std::string apply(const std::string& segment) const;
  /// What a Replace step puts for a space (the last such step), if any: the replacement
  /// character of files without a Metaspace pre-tokenizer.
  std::optional<std::string> spaceReplacement() const;

 private:
  struct Step {
    bool prepend;  ///< Prepend(`text`) when true, else Replace(`text` -> `with`)
    std::string text, with;
  };
  std::vector<Step> steps_;
};

}  // namespace ess::text
