// Special tokens (internal to the core): what tokenizer.json's post_processor puts around a
// text, and what the folder's tokenizer_config.json says about BOS / EOS, as transformers reads
// them (encodeWithSpecialTokens of ess/tokenizer.h).
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ess::text {

/// The ids put before and after the text's ids.
struct SpecialTokens {
  std::vector<long> before, after;
  std::string error;  ///< set when the post_processor is not understood (encode() still works)

  /// The "single" template of a `post_processor` (TemplateProcessing, BertProcessing,
  /// RobertaProcessing, ByteLevel, or a Sequence of them; null: none). Never throws: a type not
  /// understood or malformed leaves no tokens and `error` naming `what` and the problem.
  static SpecialTokens fromPostProcessor(const nlohmann::json& postProcessor, const std::string& what);
};

/// What tokenizer_config.json (beside the tokenizer file) says about special tokens.
struct TokenizerConfig {
  std::string tokenizerClass;
  std::optional<bool> addBos, addEos;
  std::string bosToken, eosToken;  ///< contents, empty when not given

  /// Reads `dir`/tokenizer_config.json; an absent file gives an empty config. Throws InputError
  /// naming the file when it is not valid JSON.
  static TokenizerConfig read(const std::filesystem::path& dir);
  /// True when transformers' tokenizer class named here rebuilds the post-processor from this
  /// file (LlamaTokenizer[Fast], CodeLlamaTokenizer[Fast], GemmaTokenizer[Fast]).
  bool rebuildsSpecialTokens() const;
  /// The special tokens such a class adds: bos_token first when add_bos_token (default true),
  /// eos_token last when add_eos_token (default false). `idOf(content, field)` gives a token's id
  /// (it throws when there is none).
  SpecialTokens specialTokens(const std::function<long(const std::string&, const char*)>& idOf) const;
};

}  // namespace ess::text
