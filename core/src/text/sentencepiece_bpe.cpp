// SentencePiece-style BPE from tokenizer.json (text/sentencepiece_bpe.h).
#include "text/sentencepiece_bpe.h"

#include <functional>
#include <nlohmann/json.hpp>
#include <queue>

#include "ess/error.h"
#include "ess/tokenizer.h"
#include "text/unicode.h"

namespace ess::text {

std::unique_ptr<SentencePieceBpe> SentencePieceBpe::fromJson(const nlohmann::json& root, const nlohmann::json& model,
                                                             BpeVocab vocab, const PreTokenizerSpec& pre,
                                                             const std::string& what) {
  using nlohmann::json;
  std::unique_ptr<SentencePieceBpe> out(new SentencePieceBpe());
  SentencePieceBpe& m = *out;
  m.source = what;
  m.v = std::move(vocab);
  m.metaspace = pre.metaspace;
  m.meta = pre.meta;
  if (pre.metaspace) m.replacement = pre.meta.replacement;
  const bool byteFallback = model.value("byte_fallback", false);
  const json normalizer = root.value("normalizer", json());
  if (pre.split)
    throw InputError(what + ": pre_tokenizer Split is not supported in a SentencePiece-style file (Metaspace)");
  m.normalizer = Normalizer::fromJson(normalizer, what);
  if (!m.metaspace) {  // the replacement character is what the normalizer puts for a space
    const std::optional<std::string> r = m.normalizer.spaceReplacement();
    if (r) m.replacement = *r;
    if (!r)
      throw InputError(what +
                       ": a SentencePiece-style file needs a Metaspace pre_tokenizer or a normalizer "
                       "Replace of \" \"; it has neither");
  }
  m.byteFallback = byteFallback;
  m.fuseUnk = model.value("fuse_unk", false);
  const json unk = model.value("unk_token", json());
  if (unk.is_string()) {
    auto u = m.v.vocab.find(unk.get<std::string>());
    if (u == m.v.vocab.end())
      throw InputError(what + ": model.unk_token \"" + unk.get<std::string>() + "\" is not in model.vocab");
    m.unkId = u->second;
  }
  for (const char* field : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (model.contains(field) && !model[field].is_null() && !model[field].get<std::string>().empty())
      throw InputError(what + ": model." + field + " is not supported in a SentencePiece-style file");
  if (model.contains("dropout") && model["dropout"].is_number() && model["dropout"].get<double>() > 0)
    throw InputError(what + ": model.dropout is not supported (it makes tokenization random)");
  for (int b = 0; b < 256; ++b) {
    auto v = m.v.vocab.find(bytePiece(b));
    m.byteIds[b] = v == m.v.vocab.end() ? -1 : v->second;
    if (v != m.v.vocab.end()) m.idToByte[v->second] = b;
  }
  for (const auto& [key, rank] : m.v.mergeRank) {
    const size_t sp = key.find(' ');
    const std::string l = key.substr(0, sp), r = key.substr(sp + 1);
    auto li = m.v.vocab.find(l), ri = m.v.vocab.find(r), mi = m.v.vocab.find(l + r);
    for (const auto& [name, it] : {std::make_pair(l, li), std::make_pair(r, ri), std::make_pair(l + r, mi)})
      if (it == m.v.vocab.end())
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
      if (Metaspace::replacementOf(p, "decoder", what) != m.replacement && m.metaspace)
        throw InputError(what + ": decoder Metaspace replacement differs from the pre_tokenizer's");
      m.decodeDropFirst = Metaspace::prependOf(p, "decoder", what) != Prepend::Never;
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
  readDec(root.value("decoder", json()));
  return out;
}

std::vector<long> SentencePieceBpe::bpe(const std::string& word) const {
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
    auto found = v.vocab.find(c);
    if (found != v.vocab.end()) {
      sym.push_back({found->second, 0, 0, true});
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

std::vector<std::string> SentencePieceBpe::words(const std::string& segment, size_t offset) const {
  if (segment.empty()) return {};
  const std::string s = normalizer.apply(segment);
  if (!metaspace) return {s};
  return meta.words(s, offset);
}

std::string SentencePieceBpe::text(long id, bool dropSpace) const {
  auto b = idToByte.find(id);
  if (b != idToByte.end()) return std::string(1, static_cast<char>(b->second));
  auto t = v.idToToken.find(id);
  if (t == v.idToToken.end())
    throw InputError(source + ": token id " + std::to_string(id) + " is not in the vocabulary");
  return replaceAll(t->second, replacement, dropSpace ? "" : decodeSpace);
}

void SentencePieceBpe::encodeSegment(const std::string& segment, size_t offset, std::vector<long>& out) const {
  for (const std::string& w : words(segment, offset)) {
    auto ids = bpe(w);
    out.insert(out.end(), ids.begin(), ids.end());
  }
}

std::vector<std::string> SentencePieceBpe::preTokenize(const std::string& text) const {
  std::vector<std::string> out = words(text, 0);
  for (std::string& w : out) w = replaceAll(w, replacement, " ");
  return out;
}

std::string SentencePieceBpe::decode(const std::vector<long>& ids, const AddedTokens& added) const {
  std::string out;
  for (size_t k = 0; k < ids.size(); ++k) {
    const std::string* content = added.contentOf(ids[k]);
    out += content ? *content : text(ids[k], k == 0 && decodeDropFirst);
  }
  int start = 0, stop = 0;
  while (start < stripStart && start < static_cast<int>(out.size()) && out[start] == ' ') ++start;
  while (stop < stripStop && start + stop < static_cast<int>(out.size()) && out[out.size() - 1 - stop] == ' ') ++stop;
  return out.substr(start, out.size() - start - stop);
}

std::string SentencePieceBpe::label(long id) const { return visibleText(text(id, false)); }

std::optional<long> SentencePieceBpe::pieceId(const std::string& piece) const {
  auto it = v.vocab.find(piece);
  if (it == v.vocab.end()) return std::nullopt;
  return it->second;
}

}  // namespace ess::text
