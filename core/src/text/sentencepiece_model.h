// A SentencePiece model (`tokenizer.model` of Llama-2 / Mistral checkpoints) read by
// libsentencepiece through the ess_sentencepiece module (sentencepiece_abi.h says why a module).
// Internal to the core; ess::Tokenizer is the public face.
#pragma once
#include <memory>
#include <string>
#include <vector>

namespace ess {

class SentencePieceModel {
 public:
  /// Kinds of pieces, as libsentencepiece classifies them.
  enum class Kind { Normal = 0, Byte = 1, Control = 2, Unknown = 3, Unused = 4 };

  /// Loads `path`. Throws InputError naming the file when the module is missing (how to build
  /// it is said) or when libsentencepiece cannot parse the file.
  static std::unique_ptr<SentencePieceModel> load(const std::string& path);
  ~SentencePieceModel();

  /// Token ids of UTF-8 text, without BOS/EOS. Throws InputError naming the file on failure.
  std::vector<long> encode(const std::string& text) const;
  /// Text of ids (0 <= id < pieceSize(), checked by the caller). Throws InputError on failure.
  std::string decode(const std::vector<long>& ids) const;
  /// The piece of an id, as stored (U+2581 for spaces, <0xNN> for byte pieces).
  std::string piece(long id) const;
  Kind kind(long id) const;
  int pieceSize() const;
  /// Id of the beginning-of-sequence piece, or -1 when the model has none.
  int bosId() const;
  int eosId() const;

  /// Where the module was looked for, for messages: $ESS_SENTENCEPIECE_MODULE, next to the
  /// running program, then the build tree.
  static std::vector<std::string> moduleCandidates();

  struct Api;  ///< the module's functions (sentencepiece_model.cpp)

 private:
  SentencePieceModel() = default;
  const Api* api_ = nullptr;
  void* handle_ = nullptr;
  std::string path_;
};

}  // namespace ess
