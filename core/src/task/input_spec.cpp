// Parsing of `--input` specs into token sequences.
#include "ess/input_spec.h"

#include <fstream>
#include <sstream>

#include "ess/error.h"
#include "ess/mqar.h"

namespace ess {
namespace {

std::map<std::string, std::string> keyValues(const std::string& body, const std::string& spec) {
  std::map<std::string, std::string> kv;
  std::stringstream ss(body);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw UsageError("--input: expected key=value in '" + spec + "', got '" + item + "'");
    kv[item.substr(0, eq)] = item.substr(eq + 1);
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
    throw UsageError("--input: " + what + " must be an integer in '" + spec + "', got '" + text + "'");
  return v;
}

long field(const std::map<std::string, std::string>& kv, const std::string& key, long fallback,
           const std::string& spec) {
  auto it = kv.find(key);
  return it == kv.end() ? fallback : toLong(it->second, key, spec);
}

void checkKeys(const std::map<std::string, std::string>& kv, const std::vector<std::string>& allowed,
               const std::string& spec) {
  for (const auto& [k, v] : kv)
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      throw UsageError("--input: unknown field '" + k + "' in '" + spec + "'");
}

std::vector<long> bytesOf(const std::string& text, int vocabSize, const std::string& spec) {
  if (vocabSize < 256)
    throw InputError("--input " + spec.substr(0, 16) + "...: text input needs a tokenizer; this model has a vocabulary of " +
                     std::to_string(vocabSize) + " tokens and no byte-level tokenizer (use tokens:, mqar: or random:)");
  std::vector<long> t;
  for (unsigned char c : text) t.push_back(c);
  return t;
}

}  // namespace

std::string defaultInputSpec(int vocabSize, int maxLength) {
  const int len = maxLength > 0 ? std::min(64, maxLength) : 64;
  const int pairs = std::max(1, std::min(8, len / 8));
  return "mqar:seed=0,len=" + std::to_string(len) + ",pairs=" + std::to_string(pairs) +
         ",vocab=" + std::to_string(vocabSize);
}

std::vector<long> tokensFromSpec(const std::string& spec, int vocabSize, int maxLength) {
  const auto colon = spec.find(':');
  if (colon == std::string::npos)
    throw UsageError("--input: expected mqar:..., tokens:..., random:..., text:... or textfile:..., got '" + spec + "'");
  const std::string kind = spec.substr(0, colon), body = spec.substr(colon + 1);
  std::vector<long> tokens;
  if (kind == "mqar") {
    auto kv = keyValues(body, spec);
    checkKeys(kv, {"seed", "len", "pairs", "vocab"}, spec);
    MqarSpec m;
    m.seed = static_cast<uint64_t>(field(kv, "seed", 0, spec));
    m.length = static_cast<int>(field(kv, "len", maxLength > 0 ? std::min(64, maxLength) : 64, spec));
    m.pairs = static_cast<int>(field(kv, "pairs", std::max(1, std::min(8, m.length / 8)), spec));
    m.vocab = static_cast<int>(field(kv, "vocab", vocabSize, spec));
    tokens = makeMqar(m).tokens;
  } else if (kind == "tokens") {
    std::stringstream ss(body);
    std::string item;
    while (std::getline(ss, item, ',')) {
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      while (!item.empty() && item.back() == ' ') item.pop_back();
      if (!item.empty()) tokens.push_back(toLong(item, "token id", spec));
    }
  } else if (kind == "random") {
    auto kv = keyValues(body, spec);
    checkKeys(kv, {"seed", "len"}, spec);
    const long seed = field(kv, "seed", 0, spec), len = field(kv, "len", 64, spec);
    if (len < 1) throw UsageError("--input: len must be positive in '" + spec + "'");
    std::mt19937_64 rng(static_cast<uint64_t>(seed));
    std::uniform_int_distribution<long> dist(0, std::max(0, vocabSize - 1));
    for (long i = 0; i < len; ++i) tokens.push_back(dist(rng));
  } else if (kind == "text") {
    tokens = bytesOf(body, vocabSize, spec);
  } else if (kind == "textfile") {
    std::ifstream in(body, std::ios::binary);
    if (!in) throw InputError(body + ": cannot read the text file");
    std::stringstream ss;
    ss << in.rdbuf();
    tokens = bytesOf(ss.str(), vocabSize, spec);
  } else {
    throw UsageError("--input: unknown kind '" + kind + "' (expected mqar, tokens, random, text or textfile)");
  }
  if (tokens.size() < 2) throw UsageError("--input: '" + spec + "' gives fewer than 2 tokens; ESS needs a split");
  if (maxLength > 0 && static_cast<int>(tokens.size()) > maxLength)
    throw InputError("--input: " + std::to_string(tokens.size()) + " tokens exceed the model's maximum length " +
                     std::to_string(maxLength));
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocabSize)
      throw InputError("--input: token " + std::to_string(tokens[i]) + " at position " + std::to_string(i) +
                       " is outside the vocabulary 0.." + std::to_string(vocabSize - 1));
  return tokens;
}

}  // namespace ess
