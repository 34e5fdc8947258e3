// Tokenizers of Hugging Face checkpoint folders: turns text into the token ids a model was
// trained on, and token ids back into readable text for axis labels and hover text.
//
// Supported:
// - `tokenizer.json` (the Hugging Face `tokenizers` format) with a byte-level BPE model, as
//   GPT-2, Llama-3 and Qwen2 ship it: model.type "BPE" with model.vocab and model.merges
//   ("a b" strings or ["a", "b"] pairs), pre_tokenizer ByteLevel or Split with the GPT-2,
//   Llama-3 or Qwen2 pattern (alone or in a Sequence), and added_tokens (matched verbatim before
//   pre-tokenization). The algorithm is GPT-2's published one (Radford et al. 2019,
//   openai/gpt-2 encoder.py): bytes mapped to printable unicode characters, the text pre-split
//   by the GPT-2 regex, then adjacent symbol pairs merged lowest merge rank first until no
//   listed pair is left. The file's normalizer (Qwen2: NFC) runs before the pre-tokenizer.
// - normalizers (either layout): NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Prepend,
//   Replace (a plain string) and a Sequence of them, applied to each text segment between added
//   tokens, with the Rust `tokenizers` library's semantics (Lowercase maps each character alone;
//   StripAccents removes every \p{M} character). Unicode normalization, the character classes
//   \p{L}, \p{N} and \s of the Split patterns and the case folding of their (?i:...) come from
//   ICU, so ids do not depend on the host's locale. Checked against Tokenizers.js (npm
//   @huggingface/tokenizers) and Python's unicodedata on non-Latin scripts
//   (tests/data/tokenizer/unicode).
// - `tokenizer.json` with a SentencePiece-style BPE model, as Hugging Face converts Llama-2,
//   Mistral and TinyLlama: the older layout (normalizer Sequence[Prepend("▁"), Replace(" ",
//   "▁")], no pre_tokenizer) and the newer one (pre_tokenizer Metaspace with prepend_scheme
//   "first" / "always" / "never" or the older add_prefix_space, split true or false); model BPE
//   with byte_fallback (a character absent from the vocabulary becomes its UTF-8 bytes as <0xNN>
//   tokens), unk_token, fuse_unk; decoder Metaspace or Sequence of Replace, ByteFallback, Fuse,
//   Strip. Semantics as the `tokenizers` documentation gives them: added tokens split off
//   first; then per remaining segment the normalizer (Prepend only to a non-empty segment), the
//   Metaspace pre-tokenizer (spaces as "▁"; "▁" prepended unless the segment already starts
//   with one, for "first" only at the start of the text), then each character (a piece when in
//   the vocabulary, else bytes) merged lowest merge rank first, leftmost first. Checked against
//   libsentencepiece on a converted 320-piece model (tests/data/tokenizer/make_spm_json.py).
// - `tokenizer.model` (SentencePiece: Llama-2, Mistral) through libsentencepiece, which runs in
//   a module of its own (src/text/sentencepiece_model.h); without it opening such a folder
//   says so.
// Anything else (other model types, normalizers such as BertNormalizer or Precompiled,
// pre-tokenizers, decoders, Split patterns) is refused naming the file, the field and the type.
// Each algorithm is a TokenizerModel of its own (src/text/tokenizer_model.h); the tokenizer.json
// reader picks one by model.type and pre-tokenizer (the table in src/text/tokenizer_json.cpp).
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
  /// libsentencepiece, and naming tokenizer_config.json next to it when that is not valid JSON
  /// (it says whether encodeWithSpecialTokens adds BOS / EOS).
  static std::unique_ptr<Tokenizer> fromSentencePieceFile(const std::string& path);
  /// Parses `tokenizer.json` text; `what` names it in errors (InputError).
  static std::unique_ptr<Tokenizer> fromJsonText(const std::string& json, const std::string& what);

  ~Tokenizer();

  /// Token ids of UTF-8 `text` (no special tokens are added). Throws InputError when a piece of
  /// the text has no token in the vocabulary, or (byte_fallback) when a byte needed for a
  /// character absent from the vocabulary has no <0xNN> piece (the message says which byte).
  std::vector<long> encode(const std::string& text) const;
  /// Token ids of `text` with the special tokens the tokenizer itself adds, as Hugging Face
  /// tokenizers do by default (add_special_tokens=True) and so as the model saw text in
  /// training: for tokenizer.json the post_processor's "single" template (TemplateProcessing,
  /// alone or in a Sequence: the special tokens before and after $A; BertProcessing /
  /// RobertaProcessing: cls $A sep; ByteLevel adds none; no post_processor: none), except
  /// when the folder's tokenizer_config.json names a class whose transformers tokenizer
  /// rebuilds it (LlamaTokenizer[Fast], CodeLlamaTokenizer[Fast], GemmaTokenizer[Fast]): then
  /// bos_token first when add_bos_token (default true), eos_token last when add_eos_token; for
  /// tokenizer.model the folder's tokenizer_config.json `add_bos_token` (default true) and
  /// `add_eos_token` (default false) with the model's BOS / EOS ids (Llama-2: BOS <s> = 1 first).
  /// Throws as encode(), and InputError naming the file when its post_processor is of a type not
  /// understood or malformed (encode() still works then).
  std::vector<long> encodeWithSpecialTokens(const std::string& text) const;
  /// The pieces the pre-tokenizer cuts `text`, after the file's normalizer, into before BPE
  /// (the whole normalized text when it has no regex split; added tokens are not looked for).
  /// Pieces are UTF-8 text, not mapped bytes; SentencePiece-style files: the words after the
  /// normalizer and Metaspace, "▁" as a space.
  std::vector<std::string> preTokenize(const std::string& text) const;
  /// The bytes the ids stand for, concatenated (decode(encode(t)) == t for byte-level BPE
  /// whose normalizer, if any, leaves t as it is).
  /// SentencePiece-style: "▁" as a space, <0xNN> as its byte, added tokens as their content,
  /// and the space the encoder prepended removed as the file's decoder says (Strip, or
  /// Metaspace with a prepend scheme). Throws InputError for an id outside the vocabulary.
  std::string decode(const std::vector<long>& ids) const;
  /// One readable label per id: the token's text with whitespace made visible (visibleText);
  /// bytes that are not valid UTF-8 on their own (a piece of a multi-byte character) as <0xNN>;
  /// SentencePiece "▁" as a space (so '·'), byte tokens as their byte; special and added tokens
  /// as their content ("<s>").
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
/// carriage return as '↵'; other control characters (C0, DEL, C1) and bytes that do not form
/// valid UTF-8 as <0xNN> (one per byte).
std::string visibleText(const std::string& bytes);

}  // namespace ess
