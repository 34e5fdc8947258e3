// Byte-level BPE (text/byte_level_bpe.h).
#include "text/byte_level_bpe.h"

#include <limits>

#include "ess/error.h"
#include "ess/tokenizer.h"
#include "text/unicode.h"

namespace ess::text {

namespace {

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

ByteLevelBpe::ByteLevelBpe(BpeVocab vocab, const PreTokenizerSpec& pre, Normalizer normalizer, std::string source)
    : v_(std::move(vocab)),
      preSplit_(pre.split),
      pattern_(pre.pattern),
      addPrefixSpace_(pre.addPrefixSpace),
      normalizer_(std::move(normalizer)),
      source_(std::move(source)) {
  for (int b = 0; b < 256; ++b) unicodeToByte_[byteToUnicode()[b]] = b;
}

std::vector<long> ByteLevelBpe::bpe(const std::string& word) const {
  {
    std::lock_guard<std::mutex> lock(cacheMutex_);
    auto it = cache_.find(word);
    if (it != cache_.end()) return it->second;
  }
  std::vector<std::string> symbols;
  for (unsigned char b : word) symbols.push_back(byteToUnicode()[b]);
  std::string mapped;
  for (const auto& s : symbols) mapped += s;
  std::vector<long> ids;
  auto whole = v_.vocab.find(mapped);
  if (v_.ignoreMerges && whole != v_.vocab.end()) {
    ids.push_back(whole->second);
  } else {
    while (symbols.size() > 1) {
      int best = std::numeric_limits<int>::max();
      size_t at = 0;
      for (size_t k = 0; k + 1 < symbols.size(); ++k) {
        auto r = v_.mergeRank.find(symbols[k] + " " + symbols[k + 1]);
        if (r != v_.mergeRank.end() && r->second < best) best = r->second, at = k;
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
      auto it = v_.vocab.find(s);
      if (it == v_.vocab.end())
        throw InputError(source_ + ": the piece '" + visibleText(word) + "' has no token in the vocabulary");
      ids.push_back(it->second);
    }
  }
  std::lock_guard<std::mutex> lock(cacheMutex_);
  if (cache_.size() < 100000) cache_.emplace(word, ids);
  return ids;
}

std::string ByteLevelBpe::bytesOf(long id) const {
  auto t = v_.idToToken.find(id);
  if (t == v_.idToToken.end())
    throw InputError(source_ + ": token id " + std::to_string(id) + " is not in the vocabulary");
  std::string out;
  const std::string& s = t->second;
  for (size_t i = 0; i < s.size();) {
    size_t len;
    bool ok;
    decodeAt(s, i, len, ok);
    auto b = unicodeToByte_.find(s.substr(i, len));
    if (b != unicodeToByte_.end())
      out += static_cast<char>(b->second);
    else
      out += s.substr(i, len);
    i += len;
  }
  return out;
}

/// SentencePiece-style BPE of one word (UTF-8, spaces already replaced): its characters,

void ByteLevelBpe::encodeSegment(const std::string& segment, size_t, std::vector<long>& out) const {
  const std::string text = normalizer_.apply(segment);
  if (text.empty()) return;  // e.g. only marks, and StripAccents
  const std::string t = (addPrefixSpace_ && text[0] != ' ') ? " " + text : text;
  if (!preSplit_) {
    auto ids = bpe(t);
    out.insert(out.end(), ids.begin(), ids.end());
    return;
  }
  for (const std::string& w : splitText(t, pattern_)) {
    auto ids = bpe(w);
    out.insert(out.end(), ids.begin(), ids.end());
  }
}

std::vector<std::string> ByteLevelBpe::preTokenize(const std::string& segment) const {
  const std::string text = normalizer_.apply(segment);
  if (!preSplit_) return {text};
  return splitText(text, pattern_);
}

std::string ByteLevelBpe::decode(const std::vector<long>& ids, const AddedTokens& added) const {
  std::string out;
  for (long id : ids) {
    const std::string* content = added.contentOf(id);
    out += content ? *content : bytesOf(id);
  }
  return out;
}

std::string ByteLevelBpe::label(long id) const { return visibleText(bytesOf(id)); }

std::optional<long> ByteLevelBpe::pieceId(const std::string& piece) const {
  auto v = v_.vocab.find(piece);
  if (v == v_.vocab.end()) return std::nullopt;
  return v->second;
}

}  // namespace ess::text
