// Byte-level BPE (GPT-2, Llama-3, Qwen2 tokenizer.json), GPT-2's published algorithm (Radford
// et al. 2019, openai/gpt-2 encoder.py): bytes mapped to printable unicode characters, the text
// pre-split by the file's pattern, then adjacent symbol pairs merged lowest merge rank first
// until no listed pair is left. The file's normalizer (Qwen2: NFC) runs first on each segment
// between added tokens. Internal to the core.
#pragma once
#include <mutex>
#include <unordered_map>

#include "text/bpe_vocab.h"
#include "text/normalizers.h"
#include "text/pre_tokenizers.h"
#include "text/tokenizer_model.h"

namespace ess::text {

class ByteLevelBpe : public TokenizerModel {
 public:
  /// `normalizer` is the file's (applied before the pre-tokenizer); `source` names the file in
  /// errors.
  ByteLevelBpe(BpeVocab vocab, const PreTokenizerSpec& pre, Normalizer normalizer, std::string source);

  void encodeSegment(const std::string& segment, size_t offset, std::vector<long>& out) const override;
  std::vector<std::string> preTokenize(const std::string& text) const override;
  std::string decode(const std::vector<long>& ids, const AddedTokens& added) const override;
  std::string label(long id) const override;
  std::optional<long> pieceId(const std::string& piece) const override;
  long largestId() const override { return v_.maxId; }

 private:
  std::vector<long> bpe(const std::string& word) const;  ///< ids of one pre-token (its bytes)
  std::string bytesOf(long id) const;                    ///< the bytes a vocabulary id stands for

  BpeVocab v_;
  bool preSplit_;  ///< apply `pattern_`
  SplitPattern pattern_;
  bool addPrefixSpace_;
  Normalizer normalizer_;
  std::string source_;
  std::unordered_map<std::string, int> unicodeToByte_;
  mutable std::mutex cacheMutex_;
  mutable std::unordered_map<std::string, std::vector<long>> cache_;
};

}  // namespace ess::text
