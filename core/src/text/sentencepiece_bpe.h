// SentencePiece-style BPE from tokenizer.json, as Hugging Face converts Llama-2, Mistral and
// TinyLlama (internal to the core). Semantics as the `tokenizers` documentation gives them: per
// text segment between added tokens the normalizer (Prepend, Replace), the Metaspace
// pre-tokenizer, then each character (a piece when in the vocabulary, else its UTF-8 bytes as
// <0xNN> pieces with byte_fallback, else unk_token) merged lowest merge rank first, leftmost
// first. Decoders: Metaspace, or a Sequence of Replace, ByteFallback, Fuse, Strip.
#pragma once
#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "text/bpe_vocab.h"
#include "text/normalizers.h"
#include "text/pre_tokenizers.h"
#include "text/tokenizer_model.h"

namespace ess::text {

class SentencePieceBpe : public TokenizerModel {
 public:
  /// The model of tokenizer.json `root` (its `model` object `model`, read into `vocab`; its
  /// pre-tokenizer `pre`). Reads the normalizer, the unk / byte-fallback pieces and the decoder.
  /// Throws InputError naming `what`, the field and the type for anything not supported.
  static std::unique_ptr<SentencePieceBpe> fromJson(const nlohmann::json& root, const nlohmann::json& model,
                                                    BpeVocab vocab, const PreTokenizerSpec& pre,
                                                    const std::string& what);

  void encodeSegment(const std::string& segment, size_t offset, std::vector<long>& out) const override;
  std::vector<std::string> preTokenize(const std::string& text) const override;
  std::string decode(const std::vector<long>& ids, const AddedTokens& added) const override;
  std::string label(long id) const override;
  std::optional<long> pieceId(const std::string& piece) const override;
  long largestId() const override { return v.maxId; }

 private:
  SentencePieceBpe() = default;
  /// The words of a text segment after the normalizer and Metaspace (spaces as the replacement).
  std::vector<std::string> words(const std::string& text, size_t offset) const;
  /// BPE of one word: its characters (or byte pieces, or unk), merged lowest rank first.
  std::vector<long> bpe(const std::string& word) const;
  /// The text of a vocabulary id: byte pieces as their byte, the replacement as `decodeSpace`
  /// (or dropped: `dropSpace`).
  std::string text(long id, bool dropSpace) const;

  std::string source;
  BpeVocab v;
  Normalizer normalizer;
  bool metaspace = false;  ///< a Metaspace pre-tokenizer (`meta`)
  Metaspace meta;
  std::string replacement = kMetaspace;  ///< the replacement character (UTF-8)
  bool byteFallback = false;             ///< characters absent from the vocabulary as <0xNN>
  bool fuseUnk = false;
  long unkId = -1;
  std::unordered_map<uint64_t, std::pair<int, long>> mergeIds;  ///< (left id, right id) -> rank, merged id
  std::array<long, 256> byteIds;                                ///< id of <0xNN>, -1 when absent
  std::unordered_map<long, int> idToByte;                       ///< inverse of byteIds
  std::string decodeSpace = " ";                                ///< what the replacement decodes to
  bool decodeDropFirst = false;       ///< Metaspace decoder: replacement characters of the first token dropped
  int stripStart = 0, stripStop = 0;  ///< Strip decoder: spaces removed at the start / end
  mutable std::mutex cacheMutex;
  mutable std::unordered_map<std::string, std::vector<long>> cache;
};

}  // namespace ess::text
