// Pre-tokenizers of tokenizer.json (internal to the core): the regex-like splitters of the
// GPT-2, Llama-3 and Qwen2 patterns (written out by hand, no regex engine; \p{L}, \p{N}, \s and
// (?i:...) from ICU, text/unicode.h), ByteLevel's options, and Metaspace (SentencePiece's "▁"
// for spaces), as the Hugging Face `tokenizers` documentation describes them.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace ess::text {

/// The Split patterns understood (the regex text is what tokenizer.json holds).
enum class SplitPattern { Gpt2, Llama3, Qwen2 };

/// Splits UTF-8 `text` as the regex of `pattern` does (leftmost match, alternatives in order).
/// Invalid bytes count as U+FFFD (one "other" character). The pieces concatenate to `text`.
std::vector<std::string> splitText(const std::string& text, SplitPattern pattern);

/// U+2581 (▁), SentencePiece's space, in UTF-8.
extern const char* const kMetaspace;

/// Metaspace prepend_scheme.
enum class Prepend { Always, First, Never };

/// The Metaspace pre-tokenizer: spaces as `replacement`, `replacement` prepended (as
/// `prependScheme` says), then split before each replacement character when `split`.
struct Metaspace {
  std::string replacement = kMetaspace;  ///< one character, UTF-8
  Prepend prependScheme = Prepend::Always;
  bool split = true;

  /// The words of a (normalized) text segment; `offset` is where the segment starts in the whole
  /// text ("first" prepends at 0 only).
  std::vector<std::string> words(const std::string& segment, size_t offset) const;

  /// prepend_scheme of a Metaspace object (default "always"; the older add_prefix_space false
  /// means "never"). `field` ("pre_tokenizer", "decoder") names it in the InputError.
  static Prepend prependOf(const nlohmann::json& p, const std::string& field, const std::string& what);
  /// replacement of a Metaspace object (default ▁). Throws InputError unless one character.
  static std::string replacementOf(const nlohmann::json& p, const std::string& field, const std::string& what);
};

/// What a tokenizer.json `pre_tokenizer` (ByteLevel, Split, Metaspace, or a Sequence of them)
/// asks for; the reader picks the tokenizer model from it.
struct PreTokenizerSpec {
  bool byteLevel = false;  ///< a ByteLevel pre-tokenizer is there
  bool split = false;      ///< a regex split is applied (ByteLevel use_regex, or Split)
  SplitPattern pattern = SplitPattern::Gpt2;
  bool addPrefixSpace = false;  ///< ByteLevel add_prefix_space
  bool metaspace = false;       ///< a Metaspace pre-tokenizer is there (`meta` holds it)
  Metaspace meta;

  /// Reads `root["pre_tokenizer"]` (absent or null: none). Throws InputError naming `what`, the
  /// field and the type for anything else (other types, Split patterns, prepend schemes).
  static PreTokenizerSpec fromJson(const nlohmann::json& root, const std::string& what);
};

}  // namespace ess::text
