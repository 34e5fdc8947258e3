// Unicode in the tokenizers (text/unicode.h, text/normalizers.h, ess/tokenizer.h): character
// classes and normalization forms from ICU against Python's unicodedata
// (tests/data/tokenizer/unicode/make_unicode_expected.py); pre-tokenizer pieces and token ids of
// non-Latin scripts and of the NFC / NFD / NFKC / NFKD / StripAccents / Lowercase normalizers
// against Tokenizers.js (npm @huggingface/tokenizers, make_unicode_reference.mjs); the same ids
// whatever the host's locale; a textfile: byte-order mark dropped; unsupported normalizers
// refused.
#include <clocale>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include "ess/error.h"
#include "ess/input_spec.h"
#include "ess/session.h"
#include "ess/tokenizer.h"
#include "test_support.h"
#include "text/normalizers.h"
#include "text/unicode.h"

using namespace ess;
using nlohmann::json;

namespace {

std::string dataPath(const std::string& name) { return std::string(ESS_TEST_DATA_DIR "/") + name; }

json readJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return json::parse(in);
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string idsText(const std::vector<long>& ids) {
  std::string out;
  for (long t : ids) out += std::to_string(t) + " ";
  return out;
}

const char* const kLlama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* const kQwen2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

json splitThenByteLevel(const char* pattern) {
  return {{"type", "Sequence"},
          {"pretokenizers",
           {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
            {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
}

/// The variants of make_unicode_reference.mjs: GPT-2's vocabulary with another pre_tokenizer and
/// normalizer, and the converted SentencePiece files with NFKC first in their normalizer.
std::map<std::string, std::unique_ptr<Tokenizer>> referenceVariants(const json& gpt2) {
  const json byteLevel = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  const json bertLike = {{"type", "Sequence"},
                         {"normalizers", {{{"type", "NFD"}}, {{"type", "StripAccents"}}, {{"type", "Lowercase"}}}}};
  const std::map<std::string, std::pair<json, json>> table = {
      {"gpt2", {byteLevel, nullptr}},
      {"llama3", {splitThenByteLevel(kLlama3), nullptr}},
      {"qwen2", {splitThenByteLevel(kQwen2), {{"type", "NFC"}}}},
      {"nfd", {byteLevel, {{"type", "NFD"}}}},
      {"nfkc", {byteLevel, {{"type", "NFKC"}}}},
      {"nfkd", {byteLevel, {{"type", "NFKD"}}}},
      {"bert_like", {byteLevel, bertLike}}};
  std::map<std::string, std::unique_ptr<Tokenizer>> out;
  for (const auto& [name, parts] : table) {
    json j = gpt2;
    j["pre_tokenizer"] = parts.first;
    j["normalizer"] = parts.second;
    out[name] = Tokenizer::fromJsonText(j.dump(), name + ".json");
  }
  for (const char* layout : {"metaspace", "legacy"}) {
    json j = readJson(dataPath(std::string("tokenizer/spm_tiny_json/") + layout + "/tokenizer.json"));
    json seq = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFKC"}}}}};
    if (!j["normalizer"].is_null()) seq["normalizers"].push_back(j["normalizer"]);
    j["normalizer"] = seq;
    out[std::string("spm_") + layout] = Tokenizer::fromJsonText(j.dump(), std::string("spm_") + layout + ".json");
  }
  return out;
}

}  // namespace

class TestTokenizerUnicode : public QObject {
  Q_OBJECT

 private:
  json gpt2Json_;
  std::map<std::string, std::unique_ptr<Tokenizer>> variants_;

  /// Fails unless every row of unicode_reference.json pre-tokenizes to its pieces and encodes
  /// to its ids; `where` says under which locale.
  void checkReferenceIds(const std::string& where) {
    const json refs = readJson(dataPath("tokenizer/unicode/unicode_reference.json"));
    QVERIFY(refs.size() >= 250);
    std::map<std::string, int> rows;
    for (const auto& r : refs) {
      const std::string variant = r["variant"], text = r["text"];
      const auto want = r["ids"].get<std::vector<long>>();
      const Tokenizer& tok = *variants_.at(variant);
      const auto pieces = r.value("pieces", std::vector<std::string>()), gotPieces = tok.preTokenize(text);
      if (r.contains("pieces") && gotPieces != pieces) {
        std::string g, w;
        for (const auto& x : gotPieces) g += "[" + x + "]";
        for (const auto& x : pieces) w += "[" + x + "]";
        QFAIL((where + " " + variant + " '" + text + "': pieces " + g + " want " + w).c_str());
      }
      const auto got = tok.encode(text);
      if (got != want)
        QFAIL((where + " " + variant + " '" + text + "': got " + idsText(got) + "want " + idsText(want)).c_str());
      ++rows[variant];
    }
    QCOMPARE(rows.size(), variants_.size());  // every variant has reference rows
  }

 private slots:
  void initTestCase() {
    gpt2Json_ = readJson(dataPath("tokenizer/gpt2_tokenizer.json"));
    variants_ = referenceVariants(gpt2Json_);
  }

  void categoriesMatchPythonUnicodedata() {
    const json expected = readJson(dataPath("tokenizer/unicode/unicode_expected.json"));
    QVERIFY(expected["categories"].size() >= 100);
    for (const auto& c : expected["categories"]) {
      const std::string hex = c["cp"], gc = c["gc"];
      const char32_t cp = static_cast<char32_t>(std::stoul(hex, nullptr, 16));
      const std::string what = "U+" + hex + " (" + gc + ")";
      QVERIFY2(text::isLetter(cp) == c["L"].get<bool>(), ("\\p{L} of " + what).c_str());
      QVERIFY2(text::isNumber(cp) == c["N"].get<bool>(), ("\\p{N} of " + what).c_str());
      QVERIFY2(text::isMark(cp) == c["M"].get<bool>(), ("\\p{M} of " + what).c_str());
      QVERIFY2(text::isSpace(cp) == c["space"].get<bool>(), ("\\s of " + what).c_str());
    }
    // The digits the hand-written table missed, and the vowel signs the C library called letters.
    for (char32_t digit : {0x1B52, 0x1E952, 0xA9D2, 0x0DE8}) QVERIFY(text::isNumber(digit) && !text::isLetter(digit));
    for (char32_t sign : {0x093F, 0x0947, 0x0E34, 0x0E48}) QVERIFY(text::isMark(sign) && !text::isLetter(sign));
  }

  void utf8DecodingIsStrict() {
    size_t len;
    bool ok;
    QCOMPARE(text::decodeAt("\xF0\x9E\xA5\x92", 0, len, ok), char32_t(0x1E952));  // an Adlam digit
    QVERIFY(ok && len == 4);
    for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE0\xA4"}) {
      QCOMPARE(text::decodeAt(bad, 0, len, ok), char32_t(static_cast<unsigned char>(bad[0])));
      QVERIFY2(!ok && len == 1, bad);  // overlong '/', a surrogate, past U+10FFFF, cut short
    }
    QCOMPARE(visibleText("\xC0\xAF"), std::string("<0xC0><0xAF>"));
    QCOMPARE(visibleText("\xED\xA0\x80"), std::string("<0xED><0xA0><0x80>"));
  }

  void caseInsensitiveContractionsFoldCase() {
    QVERIFY(text::foldedEqual('S', 's'));
    QVERIFY(text::foldedEqual(0x017F, 's'));  // ſ folds to s (CaseFolding.txt), as Oniguruma's (?i:)
    QVERIFY(!text::foldedEqual('t', 's'));
    QVERIFY(text::foldedEqual(0x212A, 'k'));  // KELVIN SIGN
    // The Llama-3 pattern's contractions in any case, GPT-2's in lower case only.
    QCOMPARE(variants_.at("llama3")->preTokenize("WE'RE we'Ll"), (std::vector<std::string>{"WE", "'RE", " we", "'Ll"}));
    QCOMPARE(variants_.at("gpt2")->preTokenize("WE'RE"), (std::vector<std::string>{"WE", "'", "RE"}));
    // Oniguruma folds case fully: ſ (U+017F) is s, so "'ſ" is a contraction (Tokenizers.js folds
    // ASCII only and keeps "'ſx" whole); U+FEFF is no \s, so " \uFEFF" is one "other" piece.
    QCOMPARE(variants_.at("llama3")->preTokenize("it'\xC5\xBFx"), (std::vector<std::string>{"it", "'\xC5\xBF", "x"}));
    QCOMPARE(variants_.at("gpt2")->preTokenize("a \xEF\xBB\xBF b"),
             (std::vector<std::string>{"a", " \xEF\xBB\xBF", " b"}));
  }

  void normalizersMatchPythonUnicodedata() {
    const json expected = readJson(dataPath("tokenizer/unicode/unicode_expected.json"));
    QVERIFY(expected["normalized"].size() >= 15);
    for (const auto& r : expected["normalized"]) {
      const std::string t = r["text"];
      for (const char* form : {"NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents"}) {
        const std::string got = text::Normalizer::fromJson({{"type", form}}, "n.json").apply(t);
        QVERIFY2(got == r[form].get<std::string>(), (std::string(form) + " of '" + t + "': got '" + got + "'").c_str());
      }
      const json seq = {{"type", "Sequence"},
                        {"normalizers", {{{"type", "NFD"}}, {{"type", "StripAccents"}}, {{"type", "Lowercase"}}}}};
      QCOMPARE(text::Normalizer::fromJson(seq, "n.json").apply(t), r["bert_like"].get<std::string>());
      // Through a whole tokenizer: the bert_like variant encodes the text as GPT-2 encodes its
      // normalized form (this covers the final-sigma and Mc / Me cases Tokenizers.js does
      // differently from the Rust library).
      QCOMPARE(variants_.at("bert_like")->encode(t), variants_.at("gpt2")->encode(r["bert_like"].get<std::string>()));
    }
    // Known values, spelled out: decomposed é composes, ﬁ and ² are compatibility forms, the
    // Rust Lowercase maps each character alone (a final Σ is σ, İ is i + U+0307).
    QCOMPARE(text::normalize("e\xCC\x81", text::NormalForm::NFC), std::string("\xC3\xA9"));
    QCOMPARE(text::normalize("\xC3\xA9", text::NormalForm::NFD), std::string("e\xCC\x81"));
    QCOMPARE(text::normalize("\xEF\xAC\x81x\xC2\xB2", text::NormalForm::NFKC), std::string("fix2"));
    QCOMPARE(text::lowercase("\xCE\x9F\xCE\xA3 \xC4\xB0"), std::string("\xCE\xBF\xCF\x83 i\xCC\x87"));
    QCOMPARE(text::stripMarks("\xE0\xA4\x95\xE0\xA4\xBF"), std::string("\xE0\xA4\x95"));  // कि -> क
    // Bytes that are not UTF-8 are kept, the valid runs around them normalized.
    QCOMPARE(text::normalize("e\xCC\x81\xFF"
                             "e\xCC\x81",
                             text::NormalForm::NFC),
             std::string("\xC3\xA9\xFF\xC3\xA9"));
    QCOMPARE(text::lowercase("A\xFF"
                             "B"),
             std::string("a\xFF"
                         "b"));
  }

  void idsMatchIndependentEncoder() { checkReferenceIds("host locale"); }

  void qwen2AppliesNfc() {
    const Tokenizer& qwen2 = *variants_.at("qwen2");
    QCOMPARE(qwen2.encode("caf"
                          "e\xCC\x81"),
             qwen2.encode("caf\xC3\xA9"));
    QVERIFY(variants_.at("llama3")->encode("cafe\xCC\x81") != variants_.at("llama3")->encode("caf\xC3\xA9"));
    // A normalizer that leaves nothing (StripAccents of marks alone) gives no token.
    const auto strip = Tokenizer::fromJsonText(
        [&] {
          json j = gpt2Json_;
          j["normalizer"] = {{"type", "StripAccents"}};
          return j.dump();
        }(),
        "strip.json");
    QCOMPARE(strip->encode("\xCC\x81\xCC\x88"), std::vector<long>{});
    QCOMPARE(strip->encode("a\xCC\x81"), variants_.at("gpt2")->encode("a"));
  }

  void classesAndIdsIndependentOfLocale() {
    // The same ids under every locale the host has (C and a UTF-8 one at least on Debian); the
    // test also runs as a whole under LC_ALL=C and LC_ALL=C.UTF-8 (tests/CMakeLists.txt).
    const std::string before = std::setlocale(LC_ALL, nullptr);
    int tried = 0;
    for (const char* name : {"C", "POSIX", "C.UTF-8", "C.utf8", "en_US.UTF-8", "tr_TR.UTF-8", "de_DE.UTF-8"}) {
      if (!std::setlocale(LC_ALL, name)) continue;
      ++tried;
      checkReferenceIds(name);
      QVERIFY(!text::isLetter(0x093F) && text::isNumber(0x1B52));
      QCOMPARE(text::lowercase("I"), std::string("i"));  // not the Turkish dotless ı
    }
    std::setlocale(LC_ALL, before.c_str());
    QVERIFY(tried >= 2);
  }

  void textfileByteOrderMarkIsDropped() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("bom.txt").toStdString();
    writeFile(path, "\xEF\xBB\xBFhi \xEF\xBB\xBF");
    QCOMPARE(textOfSpec("textfile:" + path, true), std::string("hi \xEF\xBB\xBF"));  // only the leading one
    QCOMPARE(tokensFromSpec("textfile:" + path, 256, 0), (std::vector<long>{'h', 'i', ' ', 0xEF, 0xBB, 0xBF}));
    writeFile(path, "\xEF\xBB\xBF");
    QCOMPARE(textOfSpec("textfile:" + path, true), std::string());
    QCOMPARE(textOfSpec("text:\xEF\xBB\xBFx", true), std::string("\xEF\xBB\xBFx"));  // text: is taken as typed
    // As a tokenizer sees it: the same ids as without the mark.
    writeFile(path, "\xEF\xBB\xBFHello world");
    QCOMPARE(variants_.at("gpt2")->encode(textOfSpec("textfile:" + path, true)), (std::vector<long>{15496, 995}));
    // And as a Hugging Face session reads a textfile: (tests/data/hf/gpt2_torch, 32 tokens).
    auto session = Session::open(dataPath("hf/gpt2_torch"));
    session->setInput("text:the cat");
    const std::vector<long> plain = session->tokens();
    writeFile(path, "\xEF\xBB\xBFthe cat");
    session->setInput("textfile:" + path);
    QCOMPARE(session->tokens(), plain);
  }

  void unsupportedNormalizerNamesFileAndType() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("tokenizer.json").toStdString();
    const auto refused = [&](const json& normalizer) {
      json j = gpt2Json_;  // a byte-level file: its normalizer used to be ignored
      j["normalizer"] = normalizer;
      writeFile(path, j.dump());
      return inputErrorOf([&] { Tokenizer::fromJsonFile(path); });
    };
    for (const char* type : {"BertNormalizer", "Precompiled", "Strip", "Nmt", "ByteLevel"}) {
      const std::string e = refused({{"type", type}});
      QVERIFY2(contains(e, path) && contains(e, std::string("normalizer type \"") + type + "\"") &&
                   contains(e, "not supported") && contains(e, "NFKC"),
               e.c_str());
    }
    std::string e = refused({{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}, {{"type", "Precompiled"}}}}});
    QVERIFY2(contains(e, path) && contains(e, "normalizer type \"Precompiled\""), e.c_str());
    e = refused({{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", " "}});
    QVERIFY2(contains(e, path) && contains(e, "Replace pattern"), e.c_str());
    e = refused(json::array({1, 2}));
    QVERIFY2(contains(e, path) && contains(e, "string \"type\""), e.c_str());
    e = refused({{"type", "Sequence"}, {"normalizers", "NFC"}});
    QVERIFY2(contains(e, path) && contains(e, "not a list"), e.c_str());
  }
};

QTEST_GUILESS_MAIN(TestTokenizerUnicode)
#include "test_tokenizer_unicode.moc"
