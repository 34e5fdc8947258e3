// The algorithm behind an ess::Tokenizer (internal to the core): one TokenizerModel subclass per
// tokenization algorithm (byte_level_bpe.h, sentencepiece_bpe.h, sentencepiece_module.h). The
// Tokenizer itself splits off added tokens and adds the special tokens; a model sees only the
// text between added tokens.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "text/special_tokens.h"

namespace ess::text {

/// Tokens matched verbatim in the text before the model runs (tokenizer.json added_tokens;
/// control pieces of a SentencePiece module).
struct AddedTokens {
  std::vector<std::pair<std::string, long>> longestFirst;  ///< content, id; longest content first
  std::map<long, std::string> byId;                        ///< decoded and labelled as their content

  /// Sorts `longestFirst` (stable: among equal lengths, the order they were added in).
  void sort();
  /// The content of `id` when it is an added token shown as its content, else null.
  const std::string* contentOf(long id) const;
};

class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  /// Appends the ids of `segment` (text between added tokens, non-empty) to `out`; `offset` is
  /// where it starts in the whole text. Throws InputError as Tokenizer::encode.
  virtual void encodeSegment(const std::string& segment, size_t offset, std::vector<long>& out) const = 0;
  /// Tokenizer::preTokenize.
  virtual std::vector<std::string> preTokenize(const std::string& text) const = 0;
  /// Tokenizer::decode; `added` are the tokenizer's added tokens.
  virtual std::string decode(const std::vector<long>& ids, const AddedTokens& added) const = 0;
  /// The label of `id` (Tokenizer::pieces) when it is not an added token.
  virtual std::string label(long id) const = 0;
  /// The id of a vocabulary piece, if there is one.
  virtual std::optional<long> pieceId(const std::string& piece) const = 0;
  /// The largest id of the vocabulary (-1 when empty); added tokens may lie beyond it.
  virtual long largestId() const = 0;
};

/// What a Tokenizer holds: the model, its added and special tokens.
struct TokenizerParts {
  std::string source;
  std::unique_ptr<TokenizerModel> model;
  AddedTokens added;
  SpecialTokens special;
  int vocabSize = 0;
};

}  // namespace ess::text
