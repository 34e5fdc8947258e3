// tokenizer.json: which model reads the file, then added tokens and the post-processor
// (text/tokenizer_json.h).
#include "text/tokenizer_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ess/error.h"
#include "math/json_text.h"
#include "text/bpe_vocab.h"
#include "text/byte_level_bpe.h"
#include "text/normalizers.h"
#include "text/pre_tokenizers.h"
#include "text/sentencepiece_bpe.h"

namespace ess::text {

namespace {

using nlohmann::json;

/// Which pre-tokenizer family a file uses, which tells its model apart.
enum class PreTokenizerFamily {
  ByteLevel,  ///< a ByteLevel pre-tokenizer (GPT-2, Llama-3, Qwen2)
  Metaspace,  ///< SentencePiece-style: Metaspace, or a Prepend / Replace normalizer, or byte_fallback
};

/// What a model reader gets: the whole file, its model object, its pre-tokenizer, and the
/// vocabulary its row's readVocab read (empty when the row has none).
struct ModelInput {
  const json& root;
  const json& model;
  BpeVocab& vocab;
  const PreTokenizerSpec& pre;
  const std::string& what;
};

std::unique_ptr<TokenizerModel> readByteLevelBpe(const ModelInput& in) {
  return std::make_unique<ByteLevelBpe>(std::move(in.vocab), in.pre,
                                        Normalizer::fromJson(in.root.value("normalizer", json()), in.what), in.what);
}
std::unique_ptr<TokenizerModel> readSentencePieceBpe(const ModelInput& in) {
  return SentencePieceBpe::fromJson(in.root, in.model, std::move(in.vocab), in.pre, in.what);
}

/// The tokenizer models of tokenizer.json, by model.type and pre-tokenizer family. `readVocab`
/// (may be null) reads model.vocab and model.merges before the pre-tokenizer is looked at, so that
/// errors come in the order of the file's fields; rows of one model.type share it.
struct ModelRow {
  const char* type;
  PreTokenizerFamily family;
  BpeVocab (*readVocab)(const json& model, const std::string& what);
  std::unique_ptr<TokenizerModel> (*read)(const ModelInput&);
};
const ModelRow kModels[] = {
    {"BPE", PreTokenizerFamily::ByteLevel, &BpeVocab::fromJson, &readByteLevelBpe},
    {"BPE", PreTokenizerFamily::Metaspace, &BpeVocab::fromJson, &readSentencePieceBpe},
};

/// The family of a file; throws InputError when it is neither or both.
PreTokenizerFamily familyOf(const json& root, const json& model, const PreTokenizerSpec& pre, const std::string& what) {
  const bool byteFallback = model.value("byte_fallback", false);
  const json normalizer = root.value("normalizer", json());
  if (!pre.byteLevel && (pre.metaspace || byteFallback || !normalizer.is_null())) return PreTokenizerFamily::Metaspace;
  if (!pre.byteLevel)
    throw InputError(what +
                     ": neither byte-level BPE (a ByteLevel pre_tokenizer) nor SentencePiece-style BPE (a "
                     "Metaspace pre_tokenizer, a Prepend normalizer or model.byte_fallback)");
  if (pre.metaspace) throw InputError(what + ": pre_tokenizer has both ByteLevel and Metaspace; not supported");
  return PreTokenizerFamily::ByteLevel;
}

}  // namespace

TokenizerParts readTokenizerJson(const std::string& text, const std::string& what) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(what + ": not valid JSON: " + jsonProblem(e));
  }
  if (!j.is_object()) throw InputError(what + ": expected a JSON object (the Hugging Face tokenizers format)");
  TokenizerParts m;
  m.source = what;
  try {
    auto model = j.find("model");
    if (model == j.end() || !model->is_object()) throw InputError(what + ": no \"model\" object");
    const std::string type = model->value("type", std::string("BPE"));
    const ModelRow* typeRow = nullptr;
    std::string types;
    for (const ModelRow& r : kModels) {
      if (!typeRow && type == r.type) typeRow = &r;
      if (types.find(std::string("\"") + r.type + "\"") == std::string::npos)
        types += (types.empty() ? "" : ", ") + std::string("\"") + r.type + "\"";
    }
    if (!typeRow) throw InputError(what + ": model.type \"" + type + "\" is not supported (only " + types + ")");
    BpeVocab vocab = typeRow->readVocab ? typeRow->readVocab(*model, what) : BpeVocab();
    const PreTokenizerSpec pre = PreTokenizerSpec::fromJson(j, what);
    const PreTokenizerFamily family = familyOf(j, *model, pre, what);
    for (const ModelRow& r : kModels)
      if (type == r.type && family == r.family) m.model = r.read({j, *model, vocab, pre, what});
    if (!m.model) throw InputError(what + ": model.type \"" + type + "\" is not supported with this pre_tokenizer");
    long maxId = m.model->largestId();

    for (const auto& a : j.value("added_tokens", json::array())) {
      if (!a.is_object() || !a.contains("id") || !a.contains("content") || !a["id"].is_number_integer() ||
          !a["content"].is_string())
        throw InputError(what + ": an added_tokens entry lacks an integer \"id\" or a string \"content\"");
      const long id = a["id"].get<long>();
      const std::string c = a["content"].get<std::string>();
      if (c.empty()) continue;
      m.added.longestFirst.emplace_back(c, id);
      m.added.byId[id] = c;
      maxId = std::max(maxId, id);
    }
    m.added.sort();
    m.vocabSize = static_cast<int>(maxId + 1);
    // The special tokens encodeWithSpecialTokens puts around the text; not understood:
    // encodeWithSpecialTokens says why, encode() still works.
    m.special = SpecialTokens::fromPostProcessor(j.value("post_processor", json()), what);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(what + ": " + jsonProblem(e));
  }
  return m;
}

}  // namespace ess::text
