// Parsing of input specs (the CLI's --input, the GUI's Input box) into token sequences.
#include "ess/input_spec.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "ess/error.h"
#include "ess/mqar_sample.h"

namespace ess {
namespace {

std::map<std::string, std::string> keyValues(const std::string& body, const std::string& spec) {
  std::map<std::string, std::string> kv;
  std::stringstream ss(body);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw UsageError("input", {": expected key=value in '" + spec + "', got '" + item + "'"});
    if (!kv.emplace(item.substr(0, eq), item.substr(eq + 1)).second)
      throw UsageError("input", {": '" + item.substr(0, eq) + "' is given twice in '" + spec + "' (give it once)"});
  }
  return kv;
}

long toLong(const std::string& text, const std::string& what, const std::string& spec) {
  size_t used = 0;
  long v = 0;
  try {
    v = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError("input", {": " + what + " must be an integer in '" + spec + "', got '" + text + "'"});
  return v;
}

long field(const std::map<std::string, std::string>& kv, const std::string& key, long fallback,
           const std::string& spec) {
  auto it = kv.find(key);
  return it == kv.end() ? fallback : toLong(it->second, key, spec);
}

// The longest input any spec may ask for: a model without a maximum length still gets its
// length checked before tokens are generated (a dense operator of this length would already
// need 8 TiB; the structured engine handles up to this).
constexpr long kMaxInputTokens = long(1) << 20;

// A length or count from the spec, checked before anything is allocated for it.
int sizeField(const std::map<std::string, std::string>& kv, const std::string& key, long fallback, int maxLength,
              const std::string& spec) {
  const long v = field(kv, key, fallback, spec);
  const long limit = maxLength > 0 ? maxLength : kMaxInputTokens;
  if (v > limit)
    throw InputError("input",
                     {": " + key + "=" + std::to_string(v) + " in '" + spec + "' exceeds " +
                      (maxLength > 0 ? "the model's maximum length " : "the longest input, ") + std::to_string(limit)});
  if (v < 0) throw UsageError("input", {": " + key + " must not be negative in '" + spec + "'"});
  return static_cast<int>(v);
}

void checkKeys(const std::map<std::string, std::string>& kv, const std::vector<std::string>& allowed,
               const std::string& spec) {
  for (const auto& [k, v] : kv)
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      throw UsageError("input", {": unknown field '" + k + "' in '" + spec + "'"});
}

std::vector<long> bytesOf(const std::string& text, int vocabSize, const std::string& spec) {
  if (vocabSize < 256)
    throw InputError(
        "input", {" " + spec.substr(0, 16) + "...: text input needs a tokenizer; this model has a vocabulary of " +
                  std::to_string(vocabSize) + " tokens and no byte-level tokenizer (use tokens:, mqar: or random:)"});
  std::vector<long> t;
  for (unsigned char c : text) t.push_back(c);
  return t;
}

/// Offset of the first byte of `s` that is not part of valid UTF-8 (overlong forms,
/// surrogates and code points above U+10FFFF are invalid), or npos.
size_t firstInvalidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return i;
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string::npos;
}

}  // namespace

std::string textOfSpec(const std::string& spec, bool requireUtf8) {
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon), body = colon == std::string::npos ? "" : spec.substr(colon + 1);
  std::string text;
  std::string field, what;  // what the errors about the text name: the input spec, or the file
  if (kind == "text") {
    text = body;
    field = "input";
    what = " text:...";
  } else if (kind == "textfile") {
    namespace fs = std::filesystem;
    if (body.empty()) throw UsageError("input", {" textfile: needs a path (textfile:PATH)"});
    what = body;
    std::error_code ec;
    const fs::file_status st = fs::status(body, ec);
    if (ec || !fs::exists(st)) throw InputError(body + ": cannot read the text file (it does not exist)");
    if (fs::is_directory(st)) throw InputError(body + ": is a directory, not a text file");
    if (!fs::is_regular_file(st)) throw InputError(body + ": not a regular file (a device or pipe); give a text file");
    const auto size = fs::file_size(body, ec);
    if (!ec && size > kMaxTextFileBytes)
      throw InputError(body + ": the text file has " + std::to_string(size) + " bytes, over the " +
                       std::to_string(kMaxTextFileBytes) + " bytes (16 MiB) a text input may have");
    std::ifstream in(body, std::ios::binary);
    if (!in) throw InputError(body + ": cannot read the text file");
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    // A UTF-8 byte-order mark marks the encoding, it is not text (Python's "utf-8-sig").
    if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  } else {
    throw UsageError("input", {": '" + spec + "' is not a text:... or textfile:... spec"});
  }
  if (requireUtf8) {
    const size_t bad = firstInvalidUtf8(text);
    if (bad != std::string::npos) {
      static const char* hex = "0123456789ABCDEF";
      const unsigned char b = static_cast<unsigned char>(text[bad]);
      throw InputError(field, {what + ": not UTF-8 text (byte 0x" + std::string(1, hex[b >> 4]) + hex[b & 15] +
                               " at offset " + std::to_string(bad) + " is not valid UTF-8)"});
    }
  }
  return text;
}

std::string defaultInputSpec(int vocabSize, int maxLength) {
  const int len = maxLength > 0 ? std::min(64, maxLength) : 64;
  const int pairs = std::max(1, std::min(8, len / 8));
  return "mqar:seed=0,len=" + std::to_string(len) + ",pairs=" + std::to_string(pairs) +
         ",vocab=" + std::to_string(vocabSize);
}

bool mqarSpecOf(const std::string& spec, int vocabSize, int maxLength, MqarSpec* out) {
  if (spec.rfind("mqar:", 0) != 0) return false;
  const std::string body = spec.substr(5);
  auto kv = keyValues(body, spec);
  checkKeys(kv, {"seed", "len", "pairs", "vocab"}, spec);
  MqarSpec m;
  m.seed = static_cast<uint64_t>(field(kv, "seed", 0, spec));
  m.length = sizeField(kv, "len", maxLength > 0 ? std::min(64, maxLength) : 64, maxLength, spec);
  m.pairs = sizeField(kv, "pairs", std::max(1, std::min(8, m.length / 8)), maxLength, spec);
  const long vocab = field(kv, "vocab", vocabSize, spec);
  if (vocab > vocabSize || vocab < 0)
    throw InputError("input", {": vocab=" + std::to_string(vocab) + " in '" + spec +
                               "' is outside the model's vocabulary of " + std::to_string(vocabSize) + " tokens"});
  m.vocab = static_cast<int>(vocab);
  *out = m;
  return true;
}

std::vector<long> tokensFromSpec(const std::string& spec, int vocabSize, int maxLength) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos)
    throw UsageError("input",
                     {": expected mqar:..., tokens:..., random:..., text:... or textfile:..., got '" + spec + "'"});
  const std::string kind = spec.substr(0, colon), body = spec.substr(colon + 1);
  std::vector<long> tokens;
  if (kind == "mqar") {
    MqarSpec m;
    mqarSpecOf(spec, vocabSize, maxLength, &m);
    tokens = makeMqar(m).tokens;
  } else if (kind == "tokens") {
    std::stringstream ss(body);
    std::string item;
    while (std::getline(ss, item, ',')) {
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (item.empty()) throw UsageError("input", {": an empty token id in '" + spec + "' (two commas in a row?)"});
      tokens.push_back(toLong(item, "token id", spec));
    }
  } else if (kind == "random") {
    auto kv = keyValues(body, spec);
    checkKeys(kv, {"seed", "len"}, spec);
    const long seed = field(kv, "seed", 0, spec), len = field(kv, "len", 64, spec);
    if (len < 1) throw UsageError("input", {": len must be positive in '" + spec + "'"});
    (void)sizeField(kv, "len", 64, maxLength, spec);
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    std::uniform_int_distribution<long> dist(0, std::max(0, vocabSize - 1));
    for (long i = 0; i < len; ++i) tokens.push_back(dist(rng));
  } else if (kind == "text" || kind == "textfile") {
    tokens = bytesOf(textOfSpec(spec, false), vocabSize, spec);  // byte-level models read any bytes
    if (tokens.size() < 2)
      throw InputError("input", {" " + spec.substr(0, 40) + ": the text gives " + std::to_string(tokens.size()) +
                                 " token(s); ESS needs at least 2 (a split between them)"});
  } else {
    throw UsageError("input", {": unknown kind '" + kind + "' (expected mqar, tokens, random, text or textfile)"});
  }
  if (tokens.size() < 2) throw UsageError("input", {": '" + spec + "' gives fewer than 2 tokens; ESS needs a split"});
  if (maxLength > 0 && static_cast<int>(tokens.size()) > maxLength)
    throw InputError("input", {": " + std::to_string(tokens.size()) + " tokens exceed the model's maximum length " +
                               std::to_string(maxLength)});
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocabSize)
      throw InputError("input", {": token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                                 " is outside the vocabulary 0.." + std::to_string(vocabSize - 1)});
  return tokens;
}

}  // namespace ess
