// The GPT-2 / Llama-3 / Qwen2 splitters and Metaspace (text/pre_tokenizers.h).
#include "text/pre_tokenizers.h"

#include <functional>
#include <nlohmann/json.hpp>

#include "ess/error.h"
#include "text/unicode.h"

namespace ess::text {

namespace {

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

bool isOther(char32_t c) { return !isSpace(c) && !isLetter(c) && !isNumber(c); }
bool isNewline(char32_t c) { return c == '\r' || c == '\n'; }

}  // namespace

const char* const kMetaspace = "\xE2\x96\x81";

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
  // The contraction's letter at `k`: exact for GPT-2, case-folded for (?i:...) (Llama-3, Qwen2).
  const auto is = [&](size_t k, char32_t want) { return k < n && (gpt2 ? cps[k] == want : foldedEqual(cps[k], want)); };
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
    if (c == '\'') {
      if (is(i + 1, 's') || is(i + 1, 't') || is(i + 1, 'm') || is(i + 1, 'd'))
        j = i + 2;
      else if ((is(i + 1, 'r') && is(i + 2, 'e')) || (is(i + 1, 'v') && is(i + 2, 'e')) ||
               (is(i + 1, 'l') && is(i + 2, 'l')))
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

std::vector<std::string> Metaspace::words(const std::string& segment, size_t offset) const {
  std::string s = replaceAll(segment, " ", replacement);
  const bool prepend = prependScheme == Prepend::Always || (prependScheme == Prepend::First && offset == 0);
  if (prepend && s.compare(0, replacement.size(), replacement) != 0) s = replacement + s;
  if (!split) return {s};
  std::vector<std::string> words;  // each replacement character starts a word
  size_t start = 0;
  for (size_t k = s.find(replacement, 1); k != std::string::npos; k = s.find(replacement, k + 1)) {
    words.push_back(s.substr(start, k - start));
    start = k;
  }
  words.push_back(s.substr(start));
  return words;
}

Prepend Metaspace::prependOf(const nlohmann::json& p, const std::string& field, const std::string& what) {
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
}

std::string Metaspace::replacementOf(const nlohmann::json& p, const std::string& field, const std::string& what) {
  const std::string r = p.value("replacement", std::string(kMetaspace));
  size_t len;
  bool ok;
  if (r.empty() || (decodeAt(r, 0, len, ok), !ok || len != r.size()))
    throw InputError(what + ": " + field + " Metaspace replacement \"" + r + "\" is not one character");
  return r;
}

PreTokenizerSpec PreTokenizerSpec::fromJson(const nlohmann::json& root, const std::string& what) {
  using nlohmann::json;
  PreTokenizerSpec m;
  std::function<void(const json&)> readPre = [&](const json& p) {
    if (p.is_null()) return;
    const std::string pt = p.value("type", std::string());
    if (pt == "ByteLevel") {
      m.byteLevel = true;
      if (p.value("use_regex", true)) m.split = true;
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
      m.split = true;
    } else if (pt == "Metaspace") {
      m.metaspace = true;
      m.meta.replacement = Metaspace::replacementOf(p, "pre_tokenizer", what);
      m.meta.prependScheme = Metaspace::prependOf(p, "pre_tokenizer", what);
      m.meta.split = p.value("split", true);
    } else if (pt == "Sequence") {
      for (const auto& q : p.value("pretokenizers", json::array())) readPre(q);
    } else {
      throw InputError(what + ": pre_tokenizer type \"" + pt +
                       "\" is not supported (ByteLevel, Split, Metaspace, Sequence)");
    }
  };
  if (root.contains("pre_tokenizer")) readPre(root["pre_tokenizer"]);
  return m;
}

}  // namespace ess::text
