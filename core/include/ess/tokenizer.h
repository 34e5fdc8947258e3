// Tokenizers of Hugging Face checkpoint folders: turns text into the token ids a model was
// trained on, and token ids back into readable text for axis labels and hover text.
//
// Supported: `tokenizer.json` (the Hugging Face `tokenizers` format) with a byte-level BPE model,
// as GPT-2, Llama-3 and Qwen2 ship it: model.type "BPE" with model.vocab and model.merges
// ("a b" strings or ["a", "b"] pairs), pre_tokenizer ByteLevel or Split with the GPT-2, Llama-3 or
// Qwen2 pattern (alone or in a Sequence), and added_tokens (matched verbatim before pre-tokenization).
// The algorithm is GPT-2's published one (Radford et al. 2019, openai/gpt-2 encoder.py):
// bytes mapped to printable unicode characters, the text pre-split by the GPT-2 regex, then
// adjacent symbol pairs merged lowest merge rank first until no listed pair is left.
// `tokenizer.model` (SentencePiece: Llama-2, Mistral) goes through libsentencepiece only in builds
// with ESS_WITH_SENTENCEPIECE (off: Debian's libsentencepiece clashes with LibTorch's protobuf);
// otherwise opening such a folder says so.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace ess {

class Tokenizer {
 public:
  /// Loads the tokenizer of a checkpoint folder (or of the folder holding a checkpoint file).
  /// Throws InputError when no supported tokenizer file is there (the message lists the files
  /// looked for) or when the file does not parse (the message names the file and the problem).
  static std::unique_ptr<Tokenizer> fromFolder(const std::string& folderOrFile);
  /// Loads a `tokenizer.json` file. Throws InputError naming the file and the problem.
  static std::unique_ptr<Tokenizer> fromJsonFile(const std::string& path);
  /// Loads a SentencePiece `tokenizer.model` (Llama-2, Mistral) through libsentencepiece.
  /// Throws InputError naming the file when it does not load or when this build lacks
  /// libsentencepiece.
  static std::unique_ptr<Tokenizer> fromSentencePieceFile(const std::string& path);
  /// Parses `tokenizer.json` text; `what` names it in errors (InputError).
  static std::unique_ptr<Tokenizer> fromJsonText(const std::string& json, const std::string& what);

  ~Tokenizer();

  /// Token ids of UTF-8 `text` (no special tokens are added). Throws InputError when a piece of
  /// the text has no token in the vocabulary.
  std::vector<long> encode(const std::string& text) const;
  /// The pieces the pre-tokenizer cuts `text` into before BPE (the whole text when it has no
  /// regex split; added tokens are not looked for). Pieces are UTF-8 text, not mapped bytes.
  std::vector<std::string> preTokenize(const std::string& text) const;
  /// The bytes the ids stand for, concatenated (decode(encode(t)) == t for byte-level BPE).
  /// Throws InputError for an id outside the vocabulary.
  std::string decode(const std::vector<long>& ids) const;
  /// One readable label per id: the token's text with whitespace made visible (visibleText);
  /// bytes that are not valid UTF-8 on their own (a piece of a multi-byte character) as <0xNN>.
  std::vector<std::string> pieces(const std::vector<long>& ids) const;
  /// Number of ids: the largest id of the vocabulary and added tokens, plus one.
  int vocabSize() const;
  /// The file it was loaded from.
  const std::string& source() const;

 private:
  Tokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// `bytes` with whitespace made visible for labels: space as '·', newline as '⏎', tab as '→',
/// carriage return as '↵'; bytes that do not form valid UTF-8 as <0xNN>.
std::string visibleText(const std::string& bytes);

}  // namespace ess
