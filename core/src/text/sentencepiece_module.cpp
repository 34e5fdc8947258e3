// tokenizer.model through libsentencepiece (text/sentencepiece_module.h).
#include "text/sentencepiece_module.h"

#include <algorithm>
#include <filesystem>

#include "ess/error.h"
#include "ess/tokenizer.h"

namespace ess::text {

SentencePieceModule::SentencePieceModule(std::unique_ptr<SentencePieceModel> spm, std::string source)
    : spm_(std::move(spm)), source_(std::move(source)), vocabSize_(spm_->pieceSize()) {}

TokenizerParts SentencePieceModule::open(const std::string& path) {
  TokenizerParts m;
  m.source = path;
  std::unique_ptr<SentencePieceModule> model(new SentencePieceModule(SentencePieceModel::load(path), path));
  const SentencePieceModel& spm = *model->spm_;
  m.vocabSize = spm.pieceSize();
  for (long id = 0; id < m.vocabSize; ++id) {
    const SentencePieceModel::Kind kind = spm.kind(id);
    if (kind == SentencePieceModel::Kind::Control || kind == SentencePieceModel::Kind::Unknown) {
      const std::string piece = spm.piece(id);
      if (!piece.empty()) m.added.longestFirst.emplace_back(piece, id);  // split off, not shown as content
    }
  }
  m.added.sort();
  const TokenizerConfig c = TokenizerConfig::read(std::filesystem::path(path).parent_path());
  const bool addBos = c.addBos.value_or(true), addEos = c.addEos.value_or(false);
  if (addBos && spm.bosId() >= 0) m.special.before.push_back(spm.bosId());
  if (addEos && spm.eosId() >= 0) m.special.after.push_back(spm.eosId());
  m.model = std::move(model);
  return m;
}

void SentencePieceModule::checkId(long id) const {
  if (id < 0 || id >= vocabSize_)
    throw InputError(source_ + ": token id " + std::to_string(id) + " is not in the vocabulary");
}

void SentencePieceModule::encodeSegment(const std::string& segment, size_t, std::vector<long>& out) const {
  // Each segment between special tokens on its own (transformers' legacy Llama).
  const std::vector<long> ids = spm_->encode(segment);
  out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<std::string> SentencePieceModule::preTokenize(const std::string& text) const { return {text}; }

std::string SentencePieceModule::decode(const std::vector<long>& ids, const AddedTokens&) const {
  for (long id : ids) checkId(id);
  return spm_->decode(ids);
}

std::string SentencePieceModule::label(long id) const {
  checkId(id);
  const std::string piece = spm_->piece(id);
  const SentencePieceModel::Kind kind = spm_->kind(id);
  if (kind == SentencePieceModel::Kind::Byte && piece.size() == 6)  // <0xNN>
    return visibleText(std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16))));
  if (kind == SentencePieceModel::Kind::Control || kind == SentencePieceModel::Kind::Unknown) return piece;
  std::string text;  // U+2581 (▁) is SentencePiece's space
  for (size_t i = 0; i < piece.size();)
    if (piece.compare(i, 3, "\xE2\x96\x81") == 0)
      text += ' ', i += 3;
    else
      text += piece[i++];
  return visibleText(text);
}

std::optional<long> SentencePieceModule::pieceId(const std::string& piece) const {
  for (long id = 0; id < vocabSize_; ++id)
    if (spm_->piece(id) == piece) return id;
  return std::nullopt;
}

}  // namespace ess::text
