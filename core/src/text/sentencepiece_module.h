// SentencePiece `tokenizer.model` files (Llama-2, Mistral) tokenized by libsentencepiece itself,
// through the ess_sentencepiece module (text/sentencepiece_model.h). Internal to the core.
#pragma once
#include <memory>

#include "text/sentencepiece_model.h"
#include "text/tokenizer_model.h"

namespace ess::text {

class SentencePieceModule : public TokenizerModel {
 public:
  /// Loads `path`: the model, its control and unknown pieces as added tokens (typed in the text
  /// they are those tokens, as transformers' LlamaTokenizer splits them off), and as special
  /// tokens BOS / EOS per the folder's tokenizer_config.json add_bos_token (default true) and
  /// add_eos_token (default false). Throws InputError as Tokenizer::fromSentencePieceFile.
  static TokenizerParts open(const std::string& path);

  void encodeSegment(const std::string& segment, size_t offset, std::vector<long>& out) const override;
  std::vector<std::string> preTokenize(const std::string& text) const override;
  std::string decode(const std::vector<long>& ids, const AddedTokens& added) const override;
  std::string label(long id) const override;
  std::optional<long> pieceId(const std::string& piece) const override;
  long largestId() const override { return vocabSize_ - 1; }

 private:
  SentencePieceModule(std::unique_ptr<SentencePieceModel> spm, std::string source);
  void checkId(long id) const;  ///< InputError for an id outside the vocabulary

  std::unique_ptr<SentencePieceModel> spm_;
  std::string source_;
  int vocabSize_;
};

}  // namespace ess::text
