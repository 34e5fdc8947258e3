// Tokenizers of checkpoint folders: byte-level BPE from tokenizer.json (GPT-2's published
// algorithm, openai/gpt-2 encoder.py), SentencePiece-style BPE from tokenizer.json (the
// Hugging Face `tokenizers` components Prepend, Replace, Metaspace, BPE with byte_fallback, as
// its documentation describes them), and tokenizer.model through libsentencepiece.
#include "ess/tokenizer.h"

#include <locale.h>
#include <algorithm>
#include <array>
#include <clocale>
#include <cstdint>
#include <cwctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "ess/error.h"
#include "text/sentencepiece_model.h"

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

/// `s` with every occurrence of `from` (non-empty) replaced by `to`, left to right.
std::string replaceAll(const std::string& s, const std::string& from, const std::string& to) {
  std::string out;
  size_t i = 0;
  for (size_t k; (k = s.find(from, i)) != std::string::npos; i = k + from.size()) out += s.substr(i, k - i) + to;
  return out + s.substr(i);
}

/// "<0xNN>", the piece SentencePiece's byte fallback uses for byte `b`.
std::string bytePiece(int b) {
  static const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

const char* const kMetaspace = "\xE2\x96\x81";  // U+2581 (▁), SentencePiece's space

/// Metaspace prepend_scheme.
enum class Prepend { Always, First, Never };

/// What tokenizer_config.json (beside the tokenizer file) says about special tokens.
struct TokenizerConfig {
  std::string tokenizerClass;
  std::optional<bool> addBos, addEos;
  std::string bosToken, eosToken;  ///< contents, empty when not given
};

/// Reads `dir`/tokenizer_config.json; an absent file gives an empty config. Throws InputError
/// naming the file when it is not valid JSON.
TokenizerConfig readTokenizerConfig(const fs::path& dir) {
  TokenizerConfig out;
  const fs::path config = dir / "tokenizer_config.json";
  std::error_code ec;
  if (!fs::exists(config, ec)) return out;
  std::ifstream in(config, std::ios::binary);
  nlohmann::json c;
  try {
    c = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw InputError(config.string() + ": not valid JSON: " + e.what());
  }
  if (!c.is_object()) return out;
  auto flag = [&](const char* key) -> std::optional<bool> {
    if (c.contains(key) && c[key].is_boolean()) return c[key].get<bool>();
    return std::nullopt;
  };
  auto token = [&](const char* key) -> std::string {  // "<s>" or {"content": "<s>", ...}
    if (!c.contains(key)) return {};
    const auto& t = c[key];
    if (t.is_string()) return t.get<std::string>();
    if (t.is_object() && t.contains("content") && t["content"].is_string()) return t["content"].get<std::string>();
    return {};
  };
  out.addBos = flag("add_bos_token");
  out.addEos = flag("add_eos_token");
  out.bosToken = token("bos_token");
  out.eosToken = token("eos_token");
  if (c.contains("tokenizer_class") && c["tokenizer_class"].is_string())
    out.tokenizerClass = c["tokenizer_class"].get<std::string>();
  return out;
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
  std::unique_ptr<SentencePieceModel> spm;  ///< set for tokenizer.model

  // SentencePiece-style tokenizer.json (no ByteLevel pre-tokenizer; `sentencePiece` true).
  bool sentencePiece = false;
  struct NormalizerStep {
    bool prepend;  ///< Prepend(`text`) when true, else Replace(`text` -> `with`)
    std::string text, with;
  };
  std::vector<NormalizerStep> normalizers;  ///< applied in order to each text segment
  bool metaspace = false;                   ///< Metaspace pre-tokenizer
  std::string replacement = kMetaspace;     ///< its replacement character (UTF-8)
  Prepend prependScheme = Prepend::Always;
  bool metaspaceSplit = true;  ///< split into words before each replacement character
  bool byteFallback = false;   ///< model.byte_fallback: characters absent from the vocabulary as <0xNN>
  bool fuseUnk = false;
  long unkId = -1;
  std::unordered_map<uint64_t, std::pair<int, long>> mergeIds;  ///< (left id, right id) -> rank, merged id
  std::array<long, 256> byteIds;                                ///< id of <0xNN>, -1 when absent
  std::unordered_map<long, int> idToByte;                       ///< inverse of byteIds
  std::string decodeSpace = " ";                                ///< what the replacement character decodes to
  bool decodeDropFirst = false;       ///< Metaspace decoder: replacement characters of the first token dropped
  int stripStart = 0, stripStop = 0;  ///< Strip decoder: spaces removed at the start / end

  // Special tokens of encodeWithSpecialTokens.
  std::vector<long> specialBefore, specialAfter;
  std::string specialError;  ///< set when the post_processor is not understood
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

  /// SentencePiece-style BPE of one word (UTF-8, spaces already replaced): its characters,
  /// those absent from the vocabulary as byte tokens (byte_fallback) or unk, then merged
  /// lowest rank first, leftmost first among equal ranks (the Hugging Face BPE model).
  std::vector<long> spmBpe(const std::string& word) const {
    const bool cacheable = word.size() <= 256;
    if (cacheable) {
      std::lock_guard<std::mutex> lock(cacheMutex);
      auto it = cache.find(word);
      if (it != cache.end()) return it->second;
    }
    struct Symbol {
      long id;
      int prev, next;
      bool alive;
    };
    std::vector<Symbol> sym;
    for (size_t i = 0; i < word.size();) {
      size_t len;
      bool ok;
      decodeAt(word, i, len, ok);
      const std::string c = word.substr(i, len);
      i += len;
      auto v = vocab.find(c);
      if (v != vocab.end()) {
        sym.push_back({v->second, 0, 0, true});
      } else if (byteFallback) {
        for (unsigned char b : c) {
          if (byteIds[b] < 0)
            throw InputError(source + ": the character '" + visibleText(c) +
                             "' is not in the vocabulary and its byte 0x" + bytePiece(b).substr(3, 2) +
                             " has no byte-fallback piece " + bytePiece(b));
          sym.push_back({byteIds[b], 0, 0, true});
        }
      } else if (unkId >= 0) {
        if (!(fuseUnk && !sym.empty() && sym.back().id == unkId)) sym.push_back({unkId, 0, 0, true});
      } else {
        throw InputError(source + ": the character '" + visibleText(c) +
                         "' has no token in the vocabulary (no byte_fallback, no unk_token)");
      }
    }
    const int n = static_cast<int>(sym.size());
    for (int k = 0; k < n; ++k) sym[k].prev = k - 1, sym[k].next = k + 1 < n ? k + 1 : -1;
    struct Candidate {
      int rank, left, right;
      long leftId, rightId, merged;
      bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    const auto consider = [&](int l, int r) {
      if (l < 0 || r < 0) return;
      auto m = mergeIds.find((static_cast<uint64_t>(sym[l].id) << 32) | static_cast<uint32_t>(sym[r].id));
      if (m != mergeIds.end()) queue.push({m->second.first, l, r, sym[l].id, sym[r].id, m->second.second});
    };
    for (int k = 0; k + 1 < n; ++k) consider(k, k + 1);
    while (!queue.empty()) {
      const Candidate c = queue.top();
      queue.pop();
      Symbol& l = sym[c.left];
      if (!l.alive || l.next != c.right || l.id != c.leftId || sym[c.right].id != c.rightId) continue;  // stale
      l.id = c.merged;
      sym[c.right].alive = false;
      l.next = sym[c.right].next;
      if (l.next >= 0) sym[l.next].prev = c.left;
      consider(l.prev, c.left);
      consider(c.left, l.next);
    }
    std::vector<long> ids;
    for (int k = n > 0 ? 0 : -1; k >= 0; k = sym[k].next) ids.push_back(sym[k].id);
    if (cacheable) {
      std::lock_guard<std::mutex> lock(cacheMutex);
      if (cache.size() < 100000) cache.emplace(word, ids);
    }
    return ids;
  }

  /// The words a SentencePiece-style file cuts a text segment into (after its normalizer and
  /// Metaspace pre-tokenizer; spaces as the replacement character). `offset`: where the
  /// segment starts in the whole text (Metaspace prepend_scheme "first" prepends at 0 only).
  std::vector<std::string> spmWords(const std::string& text, size_t offset) const {
    if (text.empty()) return {};
    std::string s = text;
    for (const NormalizerStep& n : normalizers)
      s = n.prepend ? (s.empty() ? s : n.text + s) : replaceAll(s, n.text, n.with);
    if (!metaspace) return {s};
    s = replaceAll(s, " ", replacement);
    const bool prepend = prependScheme == Prepend::Always || (prependScheme == Prepend::First && offset == 0);
    if (prepend && s.compare(0, replacement.size(), replacement) != 0) s = replacement + s;
    if (!metaspaceSplit) return {s};
    std::vector<std::string> words;  // each replacement character starts a word
    size_t start = 0;
    for (size_t k = s.find(replacement, 1); k != std::string::npos; k = s.find(replacement, k + 1)) {
      words.push_back(s.substr(start, k - start));
      start = k;
    }
    words.push_back(s.substr(start));
    return words;
  }

  /// The text of token `id` of a SentencePiece-style file: added tokens as their content, byte
  /// tokens as their byte, the replacement character as a space (or dropped: `dropSpace`).
  std::string spmText(long id, bool dropSpace) const {
    auto a = addedById.find(id);
    if (a != addedById.end()) return a->second;
    auto b = idToByte.find(id);
    if (b != idToByte.end()) return std::string(1, static_cast<char>(b->second));
    auto t = idToToken.find(id);
    if (t == idToToken.end())
      throw InputError(source + ": token id " + std::to_string(id) + " is not in the vocabulary");
    return replaceAll(t->second, replacement, dropSpace ? "" : decodeSpace);
  }

  void encodeSegment(const std::string& text, std::vector<long>& out, size_t offset) const {
    if (text.empty()) return;
    if (spm) {  // tokenizer.model: each segment between special tokens on its own (transformers' legacy Llama)
      const std::vector<long> ids = spm->encode(text);
      out.insert(out.end(), ids.begin(), ids.end());
      return;
    }
    if (sentencePiece) {
      for (const std::string& w : spmWords(text, offset)) {
        auto ids = spmBpe(w);
        out.insert(out.end(), ids.begin(), ids.end());
      }
      return;
    }
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
  if (fs::exists(json, ec)) {
    std::unique_ptr<Tokenizer> tok = fromJsonFile(json.string());
    // transformers' LlamaTokenizerFast (and CodeLlama's, Gemma's) rebuilds the post-processor
    // from tokenizer_config.json: BOS first when add_bos_token (default true), EOS last when
    // add_eos_token (default false), whatever tokenizer.json's post_processor says.
    const TokenizerConfig c = readTokenizerConfig(dir);
    static const std::set<std::string> rebuilds = {"LlamaTokenizer",     "LlamaTokenizerFast",
                                                   "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
                                                   "GemmaTokenizer",     "GemmaTokenizerFast"};
    if (rebuilds.count(c.tokenizerClass)) {
      Impl& m = *tok->impl_;
      auto idOf = [&](const std::string& content, const char* field) {
        for (const auto& a : m.added)
          if (a.first == content) return a.second;
        auto v = m.vocab.find(content);
        if (v != m.vocab.end()) return v->second;
        throw InputError((dir / "tokenizer_config.json").string() + ": " + field + " \"" + content +
                         "\" is not a token of " + json.string());
      };
      m.specialBefore.clear();
      m.specialAfter.clear();
      m.specialError.clear();
      if (c.addBos.value_or(true) && !c.bosToken.empty()) m.specialBefore.push_back(idOf(c.bosToken, "bos_token"));
      if (c.addEos.value_or(false) && !c.eosToken.empty()) m.specialAfter.push_back(idOf(c.eosToken, "eos_token"));
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
  std::unique_ptr<Tokenizer> tok(new Tokenizer());
  Impl& m = *tok->impl_;
  m.source = path;
  m.spm = SentencePieceModel::load(path);
  m.vocabSize = m.spm->pieceSize();
  m.preSplit = false;
  // Control and unknown pieces typed in the text (<s>, </s>, <unk>) are those tokens, as
  // transformers' LlamaTokenizer splits its special tokens off before SentencePiece runs.
  for (long id = 0; id < m.vocabSize; ++id) {
    const SentencePieceModel::Kind kind = m.spm->kind(id);
    if (kind == SentencePieceModel::Kind::Control || kind == SentencePieceModel::Kind::Unknown) {
      const std::string piece = m.spm->piece(id);
      if (!piece.empty()) m.added.emplace_back(piece, id);
    }
  }
  std::sort(m.added.begin(), m.added.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  // Special tokens: the folder's tokenizer_config.json add_bos_token (default true) and
  // add_eos_token (default false), as transformers' LlamaTokenizer reads them.
  const TokenizerConfig c = readTokenizerConfig(fs::path(path).parent_path());
  const bool addBos = c.addBos.value_or(true), addEos = c.addEos.value_or(false);
  if (addBos && m.spm->bosId() >= 0) m.specialBefore.push_back(m.spm->bosId());
  if (addEos && m.spm->eosId() >= 0) m.specialAfter.push_back(m.spm->eosId());
  return tok;
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
      throw InputError(what + ": model.type \"" + type + "\" is not supported (only \"BPE\")");
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
    // or a Sequence of those; or Metaspace (SentencePiece-style files).
    bool byteLevel = false, split = false;
    const auto prependOf = [&](const json& p, const std::string& field) {
      // prepend_scheme (default "always"); the older add_prefix_space false means "never".
      Prepend scheme = Prepend::Always;
      const std::string ps = p.value("prepend_scheme", std::string("always"));
      if (ps == "first")
        scheme = Prepend::First;
      else if (ps == "never")
        scheme = Prepend::Never;
      else if (ps != "always")
        throw InputError(what + ": " + field + " Metaspace prepend_scheme \"" + ps +
                         "\" is not one of \"first\", \"always\", \"never\"");
      if (p.contains("add_prefix_space") && p["add_prefix_space"].is_boolean() && !p["add_prefix_space"].get<bool>())
        scheme = Prepend::Never;
      return scheme;
    };
    const auto replacementOf = [&](const json& p, const std::string& field) {
      const std::string r = p.value("replacement", std::string(kMetaspace));
      size_t len;
      bool ok;
      if (r.empty() || (decodeAt(r, 0, len, ok), !ok || len != r.size()))
        throw InputError(what + ": " + field + " Metaspace replacement \"" + r + "\" is not one character");
      return r;
    };
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
      } else if (pt == "Metaspace") {
        m.metaspace = true;
        m.replacement = replacementOf(p, "pre_tokenizer");
        m.prependScheme = prependOf(p, "pre_tokenizer");
        m.metaspaceSplit = p.value("split", true);
      } else if (pt == "Sequence") {
        for (const auto& q : p.value("pretokenizers", json::array())) readPre(q);
      } else {
        throw InputError(what + ": pre_tokenizer type \"" + pt +
                         "\" is not supported (ByteLevel, Split, Metaspace, Sequence)");
      }
    };
    if (j.contains("pre_tokenizer")) readPre(j["pre_tokenizer"]);

    // Normalizer: read for SentencePiece-style files only (byte-level files: not applied).
    std::function<void(const json&)> readNorm = [&](const json& p) {
      if (p.is_null()) return;
      const std::string nt = p.value("type", std::string());
      if (nt == "Prepend") {
        m.normalizers.push_back({true, p.value("prepend", std::string()), ""});
      } else if (nt == "Replace") {
        const json pat = p.value("pattern", json::object());
        if (!pat.is_object() || !pat.contains("String") || !pat["String"].is_string() ||
            pat["String"].get<std::string>().empty())
          throw InputError(what + ": normalizer Replace pattern " + pat.dump() +
                           " is not supported (only a non-empty {\"String\": ...})");
        m.normalizers.push_back({false, pat["String"].get<std::string>(), p.value("content", std::string())});
      } else if (nt == "Sequence") {
        for (const auto& q : p.value("normalizers", json::array())) readNorm(q);
      } else {
        throw InputError(what + ": normalizer type \"" + nt + "\" is not supported (Prepend, Replace, Sequence)");
      }
    };
    const bool byteFallback = model->value("byte_fallback", false);
    const json normalizer = j.value("normalizer", json());
    if (!byteLevel && (m.metaspace || byteFallback || !normalizer.is_null())) {
      m.sentencePiece = true;
      if (split)
        throw InputError(what + ": pre_tokenizer Split is not supported in a SentencePiece-style file (Metaspace)");
      readNorm(normalizer);
      if (!m.metaspace) {  // the replacement character is what the normalizer puts for a space
        bool replaced = false;
        for (const auto& n : m.normalizers)
          if (!n.prepend && n.text == " " && !n.with.empty()) m.replacement = n.with, replaced = true;
        if (!replaced)
          throw InputError(what +
                           ": a SentencePiece-style file needs a Metaspace pre_tokenizer or a normalizer "
                           "Replace of \" \"; it has neither");
      }
      m.byteFallback = byteFallback;
      m.fuseUnk = model->value("fuse_unk", false);
      const json unk = model->value("unk_token", json());
      if (unk.is_string()) {
        auto u = m.vocab.find(unk.get<std::string>());
        if (u == m.vocab.end())
          throw InputError(what + ": model.unk_token \"" + unk.get<std::string>() + "\" is not in model.vocab");
        m.unkId = u->second;
      }
      for (const char* field : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (model->contains(field) && !(*model)[field].is_null() && !(*model)[field].get<std::string>().empty())
          throw InputError(what + ": model." + field + " is not supported in a SentencePiece-style file");
      if (model->contains("dropout") && (*model)["dropout"].is_number() && (*model)["dropout"].get<double>() > 0)
        throw InputError(what + ": model.dropout is not supported (it makes tokenization random)");
      for (int b = 0; b < 256; ++b) {
        auto v = m.vocab.find(bytePiece(b));
        m.byteIds[b] = v == m.vocab.end() ? -1 : v->second;
        if (v != m.vocab.end()) m.idToByte[v->second] = b;
      }
      for (const auto& [key, rank] : m.mergeRank) {
        const size_t sp = key.find(' ');
        const std::string l = key.substr(0, sp), r = key.substr(sp + 1);
        auto li = m.vocab.find(l), ri = m.vocab.find(r), mi = m.vocab.find(l + r);
        for (const auto& [name, it] : {std::make_pair(l, li), std::make_pair(r, ri), std::make_pair(l + r, mi)})
          if (it == m.vocab.end())
            throw InputError(what + ": model.merges[" + std::to_string(rank) + "] \"" + key + "\": \"" + name +
                             "\" is not in model.vocab");
        m.mergeIds[(static_cast<uint64_t>(li->second) << 32) | static_cast<uint32_t>(ri->second)] = {rank, mi->second};
      }
      // Decoder: Metaspace, or a Sequence of Replace(replacement -> " "), ByteFallback, Fuse and
      // Strip(" ") (what decode() always does: replacement as space, <0xNN> as its byte).
      std::function<void(const json&)> readDec = [&](const json& p) {
        if (p.is_null()) return;
        const std::string dt = p.value("type", std::string());
        if (dt == "Metaspace") {
          if (replacementOf(p, "decoder") != m.replacement && m.metaspace)
            throw InputError(what + ": decoder Metaspace replacement differs from the pre_tokenizer's");
          m.decodeDropFirst = prependOf(p, "decoder") != Prepend::Never;
        } else if (dt == "Replace") {
          const json pat = p.value("pattern", json::object());
          const std::string from = pat.is_object() ? pat.value("String", std::string()) : std::string();
          if (from != m.replacement)
            throw InputError(what + ": decoder Replace pattern " + pat.dump() +
                             " is not supported (only the replacement character)");
          m.decodeSpace = p.value("content", std::string(" "));
        } else if (dt == "Strip") {
          if (p.value("content", std::string(" ")) != " ")
            throw InputError(what + ": decoder Strip content \"" + p.value("content", std::string()) +
                             "\" is not supported (only \" \")");
          m.stripStart = p.value("start", 0);
          m.stripStop = p.value("stop", 0);
        } else if (dt == "Sequence") {
          for (const auto& q : p.value("decoders", json::array())) readDec(q);
        } else if (dt != "ByteFallback" && dt != "Fuse") {
          throw InputError(what + ": decoder type \"" + dt +
                           "\" is not supported (Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence)");
        }
      };
      readDec(j.value("decoder", json()));
    } else if (!byteLevel) {
      throw InputError(what +
                       ": neither byte-level BPE (a ByteLevel pre_tokenizer) nor SentencePiece-style BPE (a "
                       "Metaspace pre_tokenizer, a Prepend normalizer or model.byte_fallback)");
    } else if (m.metaspace) {
      throw InputError(what + ": pre_tokenizer has both ByteLevel and Metaspace; not supported");
    }
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

    // Post-processor: the special tokens encodeWithSpecialTokens puts around the text (the
    // "single" template). Not understood: encodeWithSpecialTokens says why, encode() still works.
    std::function<void(const json&)> readPost = [&](const json& p) {
      if (p.is_null()) return;
      const std::string pt = p.value("type", std::string());
      std::vector<long> before, after;
      if (pt == "ByteLevel") {
        return;  // offsets only
      } else if (pt == "Sequence") {
        for (const auto& q : p.value("processors", json::array())) readPost(q);
        return;
      } else if (pt == "TemplateProcessing") {
        const json specials = p.value("special_tokens", json::object());
        const auto idsOf = [&](const std::string& name) {
          if (!specials.contains(name) || !specials[name].is_object() || !specials[name].contains("ids") ||
              !specials[name]["ids"].is_array())
            throw InputError(what + ": post_processor TemplateProcessing: special token \"" + name +
                             "\" is not in its special_tokens (with \"ids\")");
          return specials[name]["ids"].get<std::vector<long>>();
        };
        const json single = p.value("single", json());
        // Items: {"SpecialToken": {"id": name}} / {"Sequence": {"id": "A"}}, or the string form
        // "<s> $A" / "<s>:0 $A:0".
        std::vector<std::pair<bool, std::string>> items;  // (is the sequence, special token name)
        if (single.is_string()) {
          std::istringstream words(single.get<std::string>());
          for (std::string w; words >> w;) {
            if (w[0] == '$') {
              const std::string seq =
                  w.substr(1, w.find(':') == std::string::npos ? std::string::npos : w.find(':') - 1);
              if (!seq.empty() && seq != "A" && seq != "0")
                throw InputError(what + ": post_processor TemplateProcessing single holds $" + seq + " (only $A)");
              items.emplace_back(true, "");
            } else {
              const size_t colon = w.rfind(':');
              items.emplace_back(false, colon == std::string::npos ? w : w.substr(0, colon));
            }
          }
        } else if (single.is_array()) {
          for (const auto& item : single) {
            if (item.is_object() && item.contains("Sequence")) {
              const std::string seq = item["Sequence"].value("id", std::string("A"));
              if (seq != "A")
                throw InputError(what + ": post_processor TemplateProcessing single holds $" + seq + " (only $A)");
              items.emplace_back(true, "");
            } else if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].is_object()) {
              items.emplace_back(false, item["SpecialToken"].value("id", std::string()));
            } else {
              throw InputError(what + ": post_processor TemplateProcessing single item " + item.dump() +
                               " is neither a SpecialToken nor a Sequence");
            }
          }
        } else {
          throw InputError(what + ": post_processor TemplateProcessing has no \"single\" template");
        }
        bool seen = false;
        for (const auto& [isSeq, name] : items) {
          if (isSeq) {
            if (seen) throw InputError(what + ": post_processor TemplateProcessing single holds $A twice");
            seen = true;
            continue;
          }
          const std::vector<long> ids = idsOf(name);
          (seen ? after : before).insert((seen ? after : before).end(), ids.begin(), ids.end());
        }
        if (!seen) throw InputError(what + ": post_processor TemplateProcessing single has no $A");
      } else if (pt == "BertProcessing" || pt == "RobertaProcessing") {  // cls $A sep
        for (const char* field : {"cls", "sep"}) {
          const json f = p.value(field, json());
          if (!f.is_array() || f.size() != 2 || !f[1].is_number_integer())
            throw InputError(what + ": post_processor " + pt + "." + field + " is not [\"token\", id]");
          (std::string(field) == "cls" ? before : after).push_back(f[1].get<long>());
        }
      } else {
        throw InputError(what + ": post_processor type \"" + pt +
                         "\" is not supported (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, "
                         "Sequence)");
      }
      // A later processor wraps what the earlier ones gave.
      m.specialBefore.insert(m.specialBefore.begin(), before.begin(), before.end());
      m.specialAfter.insert(m.specialAfter.end(), after.begin(), after.end());
    };
    try {
      readPost(j.value("post_processor", json()));
    } catch (const InputError& e) {
      m.specialError = e.what();
      m.specialBefore.clear();
      m.specialAfter.clear();
    } catch (const std::exception& e) {
      m.specialError = what + ": post_processor: " + e.what();
      m.specialBefore.clear();
      m.specialAfter.clear();
    }
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
    impl_->encodeSegment(text.substr(start, i - start), out, start);
    out.push_back(hit->second);
    i += hit->first.size();
    start = i;
  }
  impl_->encodeSegment(text.substr(start), out, start);
  return out;
}

std::vector<long> Tokenizer::encodeWithSpecialTokens(const std::string& text) const {
  if (!impl_->specialError.empty())
    throw InputError(impl_->specialError + " (needed for the special tokens the model was trained with)");
  std::vector<long> out = impl_->specialBefore;
  const std::vector<long> body = encode(text);
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), impl_->specialAfter.begin(), impl_->specialAfter.end());
  return out;
}

std::vector<std::string> Tokenizer::preTokenize(const std::string& text) const {
  if (impl_->sentencePiece) {
    std::vector<std::string> words = impl_->spmWords(text, 0);
    for (std::string& w : words) w = replaceAll(w, impl_->replacement, " ");
    return words;
  }
  if (!impl_->preSplit) return {text};
  return splitText(text, impl_->pattern);
}

std::string Tokenizer::decode(const std::vector<long>& ids) const {
  std::string out;
  if (impl_->spm) {
    for (long id : ids)
      if (id < 0 || id >= impl_->vocabSize)
        throw InputError(impl_->source + ": token id " + std::to_string(id) + " is not in the vocabulary");
    return impl_->spm->decode(ids);
  }
  if (impl_->sentencePiece) {
    for (size_t k = 0; k < ids.size(); ++k) out += impl_->spmText(ids[k], k == 0 && impl_->decodeDropFirst);
    int start = 0, stop = 0;
    while (start < impl_->stripStart && start < static_cast<int>(out.size()) && out[start] == ' ') ++start;
    while (stop < impl_->stripStop && start + stop < static_cast<int>(out.size()) && out[out.size() - 1 - stop] == ' ')
      ++stop;
    return out.substr(start, out.size() - start - stop);
  }
  for (long id : ids) out += impl_->bytesOf(id);
  return out;
}

std::vector<std::string> Tokenizer::pieces(const std::vector<long>& ids) const {
  std::vector<std::string> out;
  if (impl_->spm) {
    const SentencePieceModel& p = *impl_->spm;
    for (long id : ids) {
      if (id < 0 || id >= impl_->vocabSize)
        throw InputError(impl_->source + ": token id " + std::to_string(id) + " is not in the vocabulary");
      const std::string piece = p.piece(id);
      const SentencePieceModel::Kind kind = p.kind(id);
      if (kind == SentencePieceModel::Kind::Byte && piece.size() == 6) {  // <0xNN>
        out.push_back(visibleText(std::string(1, static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)))));
      } else if (kind == SentencePieceModel::Kind::Control || kind == SentencePieceModel::Kind::Unknown) {
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
  for (long id : ids) {
    if (impl_->addedById.count(id))
      out.push_back(impl_->addedById.at(id));
    else if (impl_->sentencePiece)
      out.push_back(visibleText(impl_->spmText(id, false)));
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
    if (!ok || (c < 0x20 && c != '\n' && c != '\t' && c != '\r') || (c >= 0x7F && c < 0xA0)) {
      // Invalid UTF-8, and control characters (no glyph: fonts draw a box) as their bytes.
      for (size_t k = 0; k < len; ++k) {
        const unsigned char b = static_cast<unsigned char>(bytes[i + k]);
        out += std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
      }
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
