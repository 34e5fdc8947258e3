// Byte-level BPE from tokenizer.json (GPT-2's published algorithm, openai/gpt-2 encoder.py).
#include "ess/tokenizer.h"

#include <locale.h>
#include <algorithm>
#include <clocale>
#include <cwctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>
#ifdef ESS_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

#include "ess/error.h"

namespace ess {

namespace {

namespace fs = std::filesystem;

// ---- UTF-8 ---------------------------------------------------------------------------------

/// Decodes the code point at `i` of `s` and its byte length; invalid bytes decode as
/// themselves with length 1 and `ok` false.
char32_t decodeAt(const std::string& s, size_t i, size_t& len, bool& ok) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  ok = true;
  len = 1;
  if (c < 0x80) return c;
  size_t n = 0;
  char32_t cp = 0;
  if ((c & 0xE0) == 0xC0)
    n = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0)
    n = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0)
    n = 4, cp = c & 0x07;
  else {
    ok = false;
    return c;
  }
  if (i + n > s.size()) {
    ok = false;
    return c;
  }
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      ok = false;
      return c;
    }
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  len = n;
  return cp;
}

std::string encodeUtf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// ---- Unicode classes of the GPT-2 pattern (\s, \p{L}, \p{N}) --------------------------------

/// JavaScript / Oniguruma \s.
bool isSpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 ||
         c == 0xFEFF;
}

locale_t utf8Locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (!l) l = newlocale(LC_CTYPE_MASK, "C.utf8", static_cast<locale_t>(0));
    return l;
  }();
  return loc;
}

/// \p{N}: decimal digits (Nd) of the common scripts, letter numbers (Nl) and other numbers (No)
/// of the common blocks.
bool isNumber(char32_t c) {
  static const std::pair<char32_t, char32_t> ranges[] = {
      {0x30, 0x39},     {0xB2, 0xB3},       {0xB9, 0xB9},      {0xBC, 0xBE},     {0x660, 0x669},   {0x6F0, 0x6F9},
      {0x7C0, 0x7C9},   {0x966, 0x96F},     {0x9E6, 0x9EF},    {0x9F4, 0x9F9},   {0xA66, 0xA6F},   {0xAE6, 0xAEF},
      {0xB66, 0xB6F},   {0xBE6, 0xBF2},     {0xC66, 0xC6F},    {0xCE6, 0xCEF},   {0xD66, 0xD78},   {0xE50, 0xE59},
      {0xED0, 0xED9},   {0xF20, 0xF33},     {0x1040, 0x1049},  {0x1369, 0x137C}, {0x16EE, 0x16F0}, {0x17E0, 0x17E9},
      {0x1810, 0x1819}, {0x2070, 0x2070},   {0x2074, 0x2079},  {0x2080, 0x2089}, {0x2150, 0x2182}, {0x2185, 0x2189},
      {0x2460, 0x249B}, {0x24EA, 0x24FF},   {0x2776, 0x2793},  {0x3007, 0x3007}, {0x3021, 0x3029}, {0x3038, 0x303A},
      {0x3192, 0x3195}, {0x3220, 0x3229},   {0x3248, 0x324F},  {0x3251, 0x325F}, {0x3280, 0x3289}, {0x32B1, 0x32BF},
      {0xFF10, 0xFF19}, {0x1D7CE, 0x1D7FF}, {0x1F100, 0x1F10C}};
  for (const auto& r : ranges)
    if (c >= r.first && c <= r.second) return true;
  return false;
}

/// \p{L}: glibc's Unicode alphabetic class (C.UTF-8) less numbers and combining marks.
bool isLetter(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (isNumber(c)) return false;
  if ((c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) || (c >= 0x1DC0 && c <= 0x1DFF) ||
      (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F))
    return false;
  locale_t loc = utf8Locale();
  return loc && iswalpha_l(static_cast<wint_t>(c), loc);
}

// ---- GPT-2 pre-tokenizer ---------------------------------------------------------------------

/// The pre-tokenizer patterns understood (written out by hand below; the regex text is what
/// tokenizer.json holds).
enum class SplitPattern { Gpt2, Llama3, Qwen2 };

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

bool isOther(char32_t c) { return !isSpace(c) && !isLetter(c) && !isNumber(c); }
bool isNewline(char32_t c) { return c == '\r' || c == '\n'; }

/// Splits `text` as the regex `pattern` does (leftmost match, alternatives in order), each
/// alternative written out by hand:
///   GPT-2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///   Llama-3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
///            ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+   (Qwen2: \p{N} for \p{N}{1,3})
std::vector<std::string> splitText(const std::string& text, SplitPattern pattern) {
  std::vector<char32_t> cps;
  std::vector<size_t> offs;
  for (size_t i = 0; i < text.size();) {
    size_t len;
    bool ok;
    char32_t c = decodeAt(text, i, len, ok);
    cps.push_back(ok ? c : 0xFFFD);
    offs.push_back(i);
    i += len;
  }
  offs.push_back(text.size());
  const size_t n = cps.size();
  const bool gpt2 = pattern == SplitPattern::Gpt2;
  const auto at = [&](size_t k) -> char32_t { return k < n ? cps[k] : 0; };
  const auto lower = [](char32_t c) -> char32_t { return (c >= 'A' && c <= 'Z') ? c + 32 : c; };
  const auto run = [&](size_t k, bool (*cls)(char32_t)) {
    while (k < n && cls(cps[k])) ++k;
    return k;
  };
  std::vector<std::string> out;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    const char32_t c = cps[i];
    // Contractions ('s 't 're 've 'm 'll 'd; any case for Llama-3 and Qwen2).
    if (c == '\'' && i + 1 < n) {
      const char32_t a = gpt2 ? at(i + 1) : lower(at(i + 1)), b = gpt2 ? at(i + 2) : lower(at(i + 2));
      if (a == 's' || a == 't' || a == 'm' || a == 'd')
        j = i + 2;
      else if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        j = i + 3;
    }
    if (j == i && gpt2) {  // ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+'
      const size_t k = (c == ' ' && i + 1 < n) ? i + 1 : i;
      if (isLetter(cps[k]))
        j = run(k, isLetter);
      else if (isNumber(cps[k]))
        j = run(k, isNumber);
      else if (isOther(cps[k]))
        j = run(k, isOther);
    }
    if (j == i && !gpt2) {
      if (isLetter(c)) {  // [^\r\n\p{L}\p{N}]?\p{L}+
        j = run(i, isLetter);
      } else if (!isNewline(c) && !isNumber(c) && isLetter(at(i + 1))) {
        j = run(i + 1, isLetter);
      } else if (isNumber(c)) {  // \p{N}{1,3} or \p{N}
        const size_t most = pattern == SplitPattern::Llama3 ? 3 : 1;
        while (j < n && j - i < most && isNumber(cps[j])) ++j;
      } else {  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        const size_t k = (c == ' ' && i + 1 < n) ? i + 1 : i;
        if (isOther(cps[k])) j = run(run(k, isOther), isNewline);
      }
      if (j == i && isSpace(c)) {  // \s*[\r\n]+ : up to the last newline of the whitespace run
        const size_t k = run(i, isSpace);
        for (size_t p = k; p > i; --p)
          if (isNewline(cps[p - 1])) {
            j = p;
            break;
          }
      }
    }
    if (j == i) {  // \s+(?!\S) then \s+
      const size_t k = run(i, isSpace);
      j = (k == n || k - i == 1) ? k : k - 1;
    }
    if (j == i) j = i + 1;  // not reached: every character matches some alternative
    out.push_back(text.substr(offs[i], offs[j] - offs[i]));
    i = j;
  }
  return out;
}

/// GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to 256 + n.
const std::vector<std::string>& byteToUnicode() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = encodeUtf8(printable ? char32_t(b) : char32_t(256 + n++));
    }
    return t;
  }();
  return table;
}

}  // namespace

struct Tokenizer::Impl {
  std::string source;
  std::unordered_map<std::string, long> vocab;
  std::map<long, std::string> idToToken;
  std::unordered_map<std::string, int> mergeRank;   ///< "a b" -> rank
  std::vector<std::pair<std::string, long>> added;  ///< content, id; longest first
  std::map<long, std::string> addedById;
  std::unordered_map<std::string, int> unicodeToByte;
  bool preSplit = true;  ///< apply `pattern`
  SplitPattern pattern = SplitPattern::Gpt2;
  bool addPrefixSpace = false;  ///< ByteLevel add_prefix_space
  bool ignoreMerges = false;    ///< model.ignore_merges (Llama-3): a pre-token in the vocabulary is one token
  int vocabSize = 0;
#ifdef ESS_HAVE_SENTENCEPIECE
  std::unique_ptr<sentencepiece::SentencePieceProcessor> spm;  ///< set for tokenizer.model
#endif
  mutable std::mutex cacheMutex;
  mutable std::unordered_map<std::string, std::vector<long>> cache;

  std::vector<long> bpe(const std::string& word) const {
    {
      std::lock_guard<std::mutex> lock(cacheMutex);
      auto it = cache.find(word);
      if (it != cache.end()) return it->second;
    }
    std::vector<std::string> symbols;
    for (unsigned char b : word) symbols.push_back(byteToUnicode()[b]);
    std::string mapped;
    for (const auto& s : symbols) mapped += s;
    std::vector<long> ids;
    auto whole = vocab.find(mapped);
    if (ignoreMerges && whole != vocab.end()) {
      ids.push_back(whole->second);
    } else {
      while (symbols.size() > 1) {
        int best = std::numeric_limits<int>::max();
        size_t at = 0;
        for (size_t k = 0; k + 1 < symbols.size(); ++k) {
          auto r = mergeRank.find(symbols[k] + " " + symbols[k + 1]);
          if (r != mergeRank.end() && r->second < best) best = r->second, at = k;
        }
        if (best == std::numeric_limits<int>::max()) break;
        // Merge every occurrence of the best pair, left to right (as encoder.py does).
        const std::string a = symbols[at], b = symbols[at + 1];
        std::vector<std::string> next;
        for (size_t k = 0; k < symbols.size(); ++k) {
          if (k + 1 < symbols.size() && symbols[k] == a && symbols[k + 1] == b) {
            next.push_back(a + b);
            ++k;
          } else {
            next.push_back(symbols[k]);
          }
        }
        symbols = std::move(next);
      }
      for (const auto& s : symbols) {
        auto it = vocab.find(s);
        if (it == vocab.end())
          throw InputError(source + ": the piece '" + visibleText(word) + "' has no token in the vocabulary");
        ids.push_back(it->second);
      }
    }
    std::lock_guard<std::mutex> lock(cacheMutex);
    if (cache.size() < 100000) cache.emplace(word, ids);
    return ids;
  }

  /// The bytes token `id` stands for (added tokens: their content).
  std::string bytesOf(long id) const {
    auto a = addedById.find(id);
    if (a != addedById.end()) return a->second;
    auto t = idToToken.find(id);
    if (t == idToToken.end())
      throw InputError(source + ": token id " + std::to_string(id) + " is not in the vocabulary");
    std::string out;
    const std::string& s = t->second;
    for (size_t i = 0; i < s.size();) {
      size_t len;
      bool ok;
      decodeAt(s, i, len, ok);
      auto b = unicodeToByte.find(s.substr(i, len));
      if (b != unicodeToByte.end())
        out += static_cast<char>(b->second);
      else
        out += s.substr(i, len);
      i += len;
    }
    return out;
  }

  void encodeSegment(const std::string& text, std::vector<long>& out) const {
    if (text.empty()) return;
    const std::string t = (addPrefixSpace && text[0] != ' ') ? " " + text : text;
    if (!preSplit) {
      auto ids = bpe(t);
      out.insert(out.end(), ids.begin(), ids.end());
      return;
    }
    for (const std::string& w : splitText(t, pattern)) {
      auto ids = bpe(w);
      out.insert(out.end(), ids.begin(), ids.end());
    }
  }
};

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;

std::unique_ptr<Tokenizer> Tokenizer::fromFolder(const std::string& folderOrFile) {
  std::error_code ec;
  const fs::path dir =
      fs::is_directory(folderOrFile, ec) ? fs::path(folderOrFile) : fs::path(folderOrFile).parent_path();
  const fs::path json = dir / "tokenizer.json";
  if (fs::exists(json, ec)) return fromJsonFile(json.string());
  const fs::path spm = dir / "tokenizer.model";
  if (fs::exists(spm, ec)) return fromSentencePieceFile(spm.string());
  throw InputError(dir.string() +
                   ": text input needs the checkpoint's tokenizer; looked for tokenizer.json and "
                   "tokenizer.model, found neither");
}

std::unique_ptr<Tokenizer> Tokenizer::fromSentencePieceFile(const std::string& path) {
#ifdef ESS_HAVE_SENTENCEPIECE
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  Impl& m = *tok->impl_;
  m.source = path;
  m.spm = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = m.spm->Load(path);
  if (!status.ok()) throw InputError(path + ": not a SentencePiece model: " + status.ToString());
  m.vocabSize = m.spm->GetPieceSize();
  m.preSplit = false;
  return tok;
#else
  throw InputError(path +
                   ": SentencePiece tokenizers need libsentencepiece, which this build does not link; "
                   "add a tokenizer.json (the Hugging Face tokenizers format) to the folder");
#endif
}

std::unique_ptr<Tokenizer> Tokenizer::fromJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read the tokenizer file");
  std::ostringstream s;
  s << in.rdbuf();
  return fromJsonText(s.str(), path);
}

std::unique_ptr<Tokenizer> Tokenizer::fromJsonText(const std::string& text, const std::string& what) {
  using nlohmann::json;
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(what + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw InputError(what + ": expected a JSON object (the Hugging Face tokenizers format)");
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  Impl& m = *tok->impl_;
  m.source = what;
  try {
    auto model = j.find("model");
    if (model == j.end() || !model->is_object()) throw InputError(what + ": no \"model\" object");
    const std::string type = model->value("type", std::string("BPE"));
    if (type != "BPE")
      throw InputError(what + ": model.type \"" + type + "\" is not supported (only byte-level \"BPE\")");
    auto vocab = model->find("vocab");
    if (vocab == model->end() || !vocab->is_object())
      throw InputError(what + ": model.vocab is missing or not an object");
    long maxId = -1;
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<long>() < 0)
        throw InputError(what + ": model.vocab[\"" + it.key() + "\"] is not a non-negative integer id");
      const long id = it.value().get<long>();
      m.vocab[it.key()] = id;
      m.idToToken[id] = it.key();
      maxId = std::max(maxId, id);
    }
    auto merges = model->find("merges");
    if (merges != model->end() && !merges->is_null()) {
      if (!merges->is_array()) throw InputError(what + ": model.merges is not a list");
      int rank = 0;
      for (const auto& e : *merges) {
        std::string key;
        if (e.is_string()) {
          key = e.get<std::string>();
          if (key.find(' ') == std::string::npos)
            throw InputError(what + ": model.merges[" + std::to_string(rank) + "] \"" + key + "\" is not \"a b\"");
        } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
          key = e[0].get<std::string>() + " " + e[1].get<std::string>();
        } else {
          throw InputError(what + ": model.merges[" + std::to_string(rank) + "] is neither \"a b\" nor [\"a\", \"b\"]");
        }
        m.mergeRank.emplace(key, rank++);
      }
    }
    if (model->contains("ignore_merges") && (*model)["ignore_merges"].is_boolean())
      m.ignoreMerges = (*model)["ignore_merges"].get<bool>();

    // Pre-tokenizer: ByteLevel (regex on unless use_regex false), Split with the GPT-2 pattern,
    // or a Sequence of those.
    bool byteLevel = false, split = false;
    std::function<void(const json&)> readPre = [&](const json& p) {
      if (p.is_null()) return;
      const std::string pt = p.value("type", std::string());
      if (pt == "ByteLevel") {
        byteLevel = true;
        if (p.value("use_regex", true)) split = true;
        m.addPrefixSpace = p.value("add_prefix_space", false);
      } else if (pt == "Split") {
        std::string pattern;
        if (p.contains("pattern") && p["pattern"].is_object()) {
          const json& pat = p["pattern"];
          pattern = pat.value("Regex", pat.value("String", std::string()));
        }
        if (pattern == kGpt2Pattern)
          m.pattern = SplitPattern::Gpt2;
        else if (pattern == kLlama3Pattern)
          m.pattern = SplitPattern::Llama3;
        else if (pattern == kQwen2Pattern)
          m.pattern = SplitPattern::Qwen2;
        else
          throw InputError(what + ": pre_tokenizer Split pattern \"" + pattern +
                           "\" is not supported (the GPT-2, Llama-3 and Qwen2 patterns are)");
        split = true;
      } else if (pt == "Sequence") {
        for (const auto& q : p.value("pretokenizers", json::array())) readPre(q);
      } else {
        throw InputError(what + ": pre_tokenizer type \"" + pt + "\" is not supported (ByteLevel, Split, Sequence)");
      }
    };
    if (j.contains("pre_tokenizer")) readPre(j["pre_tokenizer"]);
    if (!byteLevel)
      throw InputError(what + ": only byte-level BPE is supported, and this file has no ByteLevel pre_tokenizer");
    m.preSplit = split;

    for (const auto& a : j.value("added_tokens", json::array())) {
      if (!a.is_object() || !a.contains("id") || !a.contains("content") || !a["id"].is_number_integer() ||
          !a["content"].is_string())
        throw InputError(what + ": an added_tokens entry lacks an integer \"id\" or a string \"content\"");
      const long id = a["id"].get<long>();
      const std::string c = a["content"].get<std::string>();
      if (c.empty()) continue;
      m.added.emplace_back(c, id);
      m.addedById[id] = c;
      maxId = std::max(maxId, id);
    }
    std::sort(m.added.begin(), m.added.end(),
              [](const auto& x, const auto& y) { return x.first.size() > y.first.size(); });
    m.vocabSize = static_cast<int>(maxId + 1);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(what + ": " + e.what());
  }
  for (int b = 0; b < 256; ++b) m.unicodeToByte[byteToUnicode()[b]] = b;
  return tok;
}

std::vector<long> Tokenizer::encode(const std::string& text) const {
  std::vector<long> out;
#ifdef ESS_HAVE_SENTENCEPIECE
  if (impl_->spm) {
    std::vector<int> ids;
    const auto status = impl_->spm->Encode(text, &ids);
    if (!status.ok()) throw InputError(impl_->source + ": cannot encode the text: " + status.ToString());
    return std::vector<long>(ids.begin(), ids.end());
  }
#endif
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const std::pair<std::string, long>* hit = nullptr;
    for (const auto& a : impl_->added)
      if (text.compare(i, a.first.size(), a.first) == 0) {
        hit = &a;
        break;
      }
    if (!hit) {
      ++i;
      continue;
    }
    impl_->encodeSegment(text.substr(start, i - start), out);
    out.push_back(hit->second);
    i += hit->first.size();
    start = i;
  }
  impl_->encodeSegment(text.substr(start), out);
  return out;
}

std::vector<std::string> Tokenizer::preTokenize(const std::string& text) const {
  if (!impl_->preSplit) return {text};
  return splitText(text, impl_->pattern);
}

std::string Tokenizer::decode(const std::vector<long>& ids) const {
  std::string out;
#ifdef ESS_HAVE_SENTENCEPIECE
  if (impl_->spm) {
    std::vector<int> v;
    for (long id : ids) {
      if (id < 0 || id >= impl_->vocabSize)
        throw InputError(impl_->source + ": token id " + std::to_string(id) + " is not in the vocabulary");
      v.push_back(static_cast<int>(id));
    }
    const auto status = impl_->spm->Decode(v, &out);
    if (!status.ok()) throw InputError(impl_->source + ": cannot decode: " + status.ToString());
    return out;
  }
#endif
  for (long id : ids) out += impl_->bytesOf(id);
  return out;
}

std::vector<std::string> Tokenizer::pieces(const std::vector<long>& ids) const {
  std::vector<std::string> out;
#ifdef ESS_HAVE_SENTENCEPIECE
  if (impl_->spm) {
    const auto& p = *impl_->spm;
    for (long id : ids) {
      if (id < 0 || id >= impl_->vocabSize)
        throw InputError(impl_->source + ": token id " + std::to_string(id) + " is not in the vocabulary");
      const std::string& piece = p.IdToPiece(static_cast<int>(id));
      if (p.IsByte(static_cast<int>(id)) && piece.size() == 6) {  // <0xNN>
        out.push_back(visibleText(std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)))));
      } else if (p.IsControl(static_cast<int>(id)) || p.IsUnknown(static_cast<int>(id))) {
        out.push_back(piece);
      } else {
        std::string text;  // U+2581 (▁) is SentencePiece's space
        for (size_t i = 0; i < piece.size();)
          if (piece.compare(i, 3, "\xE2\x96\x81") == 0)
            text += ' ', i += 3;
          else
            text += piece[i++];
        out.push_back(visibleText(text));
      }
    }
    return out;
  }
#endif
  for (long id : ids) {
    if (impl_->addedById.count(id))
      out.push_back(impl_->addedById.at(id));
    else
      out.push_back(visibleText(impl_->bytesOf(id)));
  }
  return out;
}

int Tokenizer::vocabSize() const { return impl_->vocabSize; }
const std::string& Tokenizer::source() const { return impl_->source; }

std::string visibleText(const std::string& bytes) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (size_t i = 0; i < bytes.size();) {
    size_t len;
    bool ok;
    const char32_t c = decodeAt(bytes, i, len, ok);
    if (!ok) {
      const unsigned char b = static_cast<unsigned char>(bytes[i]);
      out += std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
    } else if (c == ' ') {
      out += "\xC2\xB7";  // ·
    } else if (c == '\n') {
      out += "\xE2\x8F\x8E";  // ⏎
    } else if (c == '\t') {
      out += "\xE2\x86\x92";  // →
    } else if (c == '\r') {
      out += "\xE2\x86\xB5";  // ↵
    } else {
      out += bytes.substr(i, len);
    }
    i += len;
  }
  return out;
}

}  // namespace ess
