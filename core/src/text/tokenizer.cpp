// ess::Tokenizer: finds the tokenizer file of a folder, splits off added tokens, adds special
// tokens, and hands the text between added tokens to its model (text/tokenizer_model.h): byte-level
// BPE or SentencePiece-style BPE from tokenizer.json (text/tokenizer_json.h), or tokenizer.model
// through libsentencepiece (text/sentencepiece_module.h).
#include "ess/tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ess/error.h"
#include "ess/input_file.h"
#include "text/sentencepiece_module.h"
#include "text/tokenizer_json.h"

namespace ess {

namespace fs = std::filesystem;

namespace text {

void AddedTokens::sort() {
  std::sort(longestFirst.begin(), longestFirst.end(),
            [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
}

const std::string* AddedTokens::contentOf(long id) const {
  auto a = byId.find(id);
  return a == byId.end() ? nullptr : &a->second;
}

}  // namespace text

struct Tokenizer::Impl : text::TokenizerParts {
  explicit Impl(text::TokenizerParts parts) : text::TokenizerParts(std::move(parts)) {}
};

Tokenizer::Tokenizer() = default;
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::fromFolder(const std::string& folderOrFile) {
  std::error_code ec;
  const fs::path dir =
      fs::is_directory(folderOrFile, ec) ? fs::path(folderOrFile) : fs::path(folderOrFile).parent_path();
  const fs::path json = dir / "tokenizer.json";
  if (fs::exists(json, ec)) {
    std::unique_ptr<Tokenizer> tok = fromJsonFile(json.string());
    // transformers' LlamaTokenizerFast (and CodeLlama's, Gemma's) rebuilds the post-processor
    // from tokenizer_config.json, whatever tokenizer.json's post_processor says.
    const text::TokenizerConfig c = text::TokenizerConfig::read(dir);
    if (c.rebuildsSpecialTokens()) {
      Impl& m = *tok->impl_;
      m.special = c.specialTokens([&](const std::string& content, const char* field) {
        for (const auto& a : m.added.longestFirst)
          if (a.first == content) return a.second;
        if (const std::optional<long> id = m.model->pieceId(content)) return *id;
        throw InputError((dir / "tokenizer_config.json").string() + ": " + field + " \"" + content +
                         "\" is not a token of " + json.string());
      });
    }
    return tok;
  }
  const fs::path spm = dir / "tokenizer.model";
  if (fs::exists(spm, ec)) return fromSentencePieceFile(spm.string());
  throw InputError(dir.string() +
                   ": text input needs the checkpoint's tokenizer; looked for tokenizer.json and "
                   "tokenizer.model, found neither");
}

std::unique_ptr<Tokenizer> Tokenizer::fromSentencePieceFile(const std::string& path) {
  { const InputFile regular(path, "SentencePiece model file"); }  // refuses a FIFO before libsentencepiece waits on it
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  tok->impl_ = std::make_unique<Impl>(text::SentencePieceModule::open(path));
  return tok;
}

std::unique_ptr<Tokenizer> Tokenizer::fromJsonFile(const std::string& path) {
  // A regular file only (a FIFO would block), read whole; real vocabularies are a few MB.
  return fromJsonText(readRegularFile(path, "tokenizer file", uint64_t(1) << 30), path);
}

std::unique_ptr<Tokenizer> Tokenizer::fromJsonText(const std::string& json, const std::string& what) {
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  tok->impl_ = std::make_unique<Impl>(text::readTokenizerJson(json, what));
  return tok;
}

std::vector<long> Tokenizer::encode(const std::string& text) const {
  std::vector<long> out;
  const auto segment = [&](size_t start, size_t end) {
    if (end > start) impl_->model->encodeSegment(text.substr(start, end - start), start, out);
  };
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const std::pair<std::string, long>* hit = nullptr;
    for (const auto& a : impl_->added.longestFirst)
      if (text.compare(i, a.first.size(), a.first) == 0) {
        hit = &a;
        break;
      }
    if (!hit) {
      ++i;
      continue;
    }
    segment(start, i);
    out.push_back(hit->second);
    i += hit->first.size();
    start = i;
  }
  segment(start, text.size());
  return out;
}

std::vector<long> Tokenizer::encodeWithSpecialTokens(const std::string& text) const {
  const text::SpecialTokens& s = impl_->special;
  if (!s.error.empty()) throw InputError(s.error + " (needed for the special tokens the model was trained with)");
  std::vector<long> out = s.before;
  const std::vector<long> body = encode(text);
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), s.after.begin(), s.after.end());
  return out;
}

std::vector<std::string> Tokenizer::preTokenize(const std::string& text) const {
  return impl_->model->preTokenize(text);
}

std::string Tokenizer::decode(const std::vector<long>& ids) const { return impl_->model->decode(ids, impl_->added); }

std::vector<std::string> Tokenizer::pieces(const std::vector<long>& ids) const {
  std::vector<std::string> out;
  for (long id : ids) {
    const std::string* content = impl_->added.contentOf(id);
    out.push_back(content ? *content : impl_->model->label(id));
  }
  return out;
}

int Tokenizer::vocabSize() const { return impl_->vocabSize; }
const std::string& Tokenizer::source() const { return impl_->source; }

}  // namespace ess
