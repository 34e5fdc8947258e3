// Normalizers of tokenizer.json (internal to the core), alone or in a Sequence: the Unicode
// normalization forms NFC, NFD, NFKC, NFKD (Qwen2 declares NFC), Lowercase and StripAccents,
// all through ICU (text/unicode.h), and Prepend and Replace, as Hugging Face converts
// SentencePiece models (Llama-2, Mistral, TinyLlama). Semantics of the Rust `tokenizers`
// library: Lowercase maps each character on its own (char::to_lowercase), StripAccents removes
// every \p{M} character without decomposing first.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ess::text {

class Normalizer {
 public:
  /// Reads a `normalizer` object (null: none). Throws InputError naming `what` and the type for
  /// other types (BertNormalizer, Precompiled, Strip, NFKC with a regex Replace, ...), for an
  /// object without a string "type", and for a Replace pattern that is not a non-empty
  /// {"String": ...}.
  static Normalizer fromJson(const nlohmann::json& normalizer, const std::string& what);

  /// `segment` (UTF-8) after each step in order (Prepend only to a non-empty text).
  std::string apply(const std::string& segment) const;
  /// Whether there is no step (apply is the identity).
  bool empty() const { return steps_.empty(); }
  /// What a Replace step puts for a space (the last such step), if any: the replacement
  /// character of files without a Metaspace pre-tokenizer.
  std::optional<std::string> spaceReplacement() const;

 private:
  enum class Kind { Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents };
  struct Step {
    Kind kind;
    std::string text, with;  ///< Prepend(`text`); Replace(`text` -> `with`)
  };
  std::vector<Step> steps_;
};

}  // namespace ess::text
