// Tokenizers (ess/tokenizer.h): GPT-2's byte-level BPE against ids from an independent encoder
// (npm gpt-3-encoder, tests/data/tokenizer/make_reference.js); SentencePiece-style tokenizer.json
// against libsentencepiece (tests/data/tokenizer/make_spm_json.py); special tokens; round trips,
// labels, bad files.
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include "ess/error.h"
#include "ess/input_spec.h"
#include "ess/session.h"
#include "ess/tokenizer.h"
#include "test_support.h"

using namespace ess;

namespace {

std::string dataPath(const std::string& name) { return std::string(ESS_TEST_DATA_DIR "/") + name; }

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

nlohmann::json readJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return nlohmann::json::parse(in);
}

std::string idsText(const std::vector<long>& ids) {
  std::string out;
  for (long t : ids) out += std::to_string(t) + " ";
  return out;
}

std::vector<long> concat(std::vector<long> a, const std::vector<long>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

class TestTokenizer : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<Tokenizer> gpt2_;

 private slots:
  void initTestCase() { gpt2_ = Tokenizer::fromJsonFile(dataPath("tokenizer/gpt2_tokenizer.json")); }

  void gpt2MatchesIndependentEncoder() {
    std::ifstream in(dataPath("tokenizer/gpt2_reference.json"));
    const auto refs = nlohmann::json::parse(in);
    QVERIFY(refs.size() >= 25);
    for (const auto& r : refs) {
      const std::string text = r["text"].get<std::string>();
      const std::vector<long> want = r["ids"].get<std::vector<long>>();
      const std::vector<long> got = gpt2_->encode(text);
      if (got != want) {
        std::string g, w;
        for (long t : got) g += std::to_string(t) + " ";
        for (long t : want) w += std::to_string(t) + " ";
        QFAIL(("'" + text + "': got " + g + "want " + w).c_str());
      }
      QCOMPARE(gpt2_->decode(got), text);
    }
  }

  void gpt2KnownIdsAndLabels() {
    QCOMPARE(gpt2_->vocabSize(), 50257);
    QCOMPARE(gpt2_->encode("Hello world"), (std::vector<long>{15496, 995}));
    // The added token is matched verbatim between ordinary text.
    QCOMPARE(gpt2_->encode("a<|endoftext|>b"), (std::vector<long>{64, 50256, 65}));
    const auto p = gpt2_->pieces(gpt2_->encode("Hi there\n"));
    QCOMPARE(p.size(), size_t(3));
    QCOMPARE(QString::fromStdString(p[0]), QString("Hi"));
    QCOMPARE(QString::fromStdString(p[1]), QString::fromUtf8("\xC2\xB7there"));
    QCOMPARE(QString::fromStdString(p[2]), QString::fromUtf8("\xE2\x8F\x8E"));
    QCOMPARE(gpt2_->pieces({50256}), (std::vector<std::string>{"<|endoftext|>"}));
    // A token holding part of a multi-byte character is shown by its bytes.
    const auto emoji = gpt2_->encode("😀");
    QVERIFY(emoji.size() > 1);
    QVERIFY(gpt2_->pieces(emoji)[0].find("<0x") != std::string::npos);
    QVERIFY_THROWS_EXCEPTION(InputError, gpt2_->decode({60000}));
  }

  void preTokenizerSplitsMatchJavaScriptRegex() {
    // The Split patterns as tokenizer.json files of GPT-2, Llama-3 and Qwen2 hold them.
    const std::map<std::string, std::string> patterns = {
        {"gpt2", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"},
        {"llama3",
         "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
         "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {"qwen2",
         "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
         "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}};
    std::ifstream in(dataPath("tokenizer/split_reference.json"));
    const auto refs = nlohmann::json::parse(in);
    QVERIFY(refs.size() >= 30);
    for (const auto& [name, pattern] : patterns) {
      nlohmann::json j;
      j["model"] = {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", nlohmann::json::array()}};
      j["pre_tokenizer"] = {{"type", "Sequence"},
                            {"pretokenizers",
                             {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}},
                              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
      auto t = Tokenizer::fromJsonText(j.dump(), name + ".json");
      for (const auto& r : refs) {
        const std::string text = r["text"].get<std::string>();
        const auto want = r[name].get<std::vector<std::string>>();
        const auto got = t->preTokenize(text);
        if (got != want) {
          std::string g, w;
          for (const auto& x : got) g += "[" + visibleText(x) + "]";
          for (const auto& x : want) w += "[" + visibleText(x) + "]";
          QFAIL((name + " '" + visibleText(text) + "': got " + g + " want " + w).c_str());
        }
      }
    }
  }

  void roundTripOfArbitraryBytes() {
    std::string s;
    for (int b = 1; b < 256; ++b) s += static_cast<char>(b);
    QCOMPARE(gpt2_->decode(gpt2_->encode(s)), s);
  }

  void visibleTextOfWhitespace() {
    QCOMPARE(QString::fromStdString(visibleText("a b\tc\n")), QString::fromUtf8("a\xC2\xB7"
                                                                                "b\xE2\x86\x92"
                                                                                "c\xE2\x8F\x8E"));
    QCOMPARE(visibleText(std::string("\xE2\x82", 2)), std::string("<0xE2><0x82>"));
    // Control characters have no glyph: their bytes (C0, DEL, C1 U+0085); printable text stays.
    QCOMPARE(visibleText(std::string("\x05x\x7F\xC2\x85\xC3\xA9", 7)),
             std::string("<0x05>x<0x7F><0xC2><0x85>\xC3\xA9"));
    QCOMPARE(visibleText(std::string(1, '\0')), std::string("<0x00>"));
  }

  void tinyVocabularyWithPairMerges() {
    // Merges as [a, b] pairs; "Ġ" is GPT-2's symbol for the space byte.
    nlohmann::json j;
    j["model"] = {
        {"type", "BPE"},
        {"vocab", {{"a", 0}, {"b", 1}, {"Ġ", 2}, {"ab", 3}, {"Ġab", 4}}},
        {"merges", nlohmann::json::array({nlohmann::json::array({"a", "b"}), nlohmann::json::array({"Ġ", "ab"})})}};
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern",
            {{"Regex", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"}}}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
    const std::string json = j.dump();
    auto t = Tokenizer::fromJsonText(json, "tiny.json");
    // "ab" -> ab; " abba" -> Ġ a b b a -> Ġ ab b a -> Ġab b a.
    QCOMPARE(t->encode("ab abba"), (std::vector<long>{3, 4, 1, 0}));
    QCOMPARE(t->vocabSize(), 5);
    const std::string e = inputErrorOf([&] { t->encode("c"); });
    QVERIFY2(e.find("tiny.json") != std::string::npos && e.find("no token") != std::string::npos, e.c_str());
  }

  void sentencePieceModelThroughLibsentencepiece() {
    // spm_tiny/tokenizer.model: 320 pieces, BPE with byte fallback (make_spm_tiny.cpp; the ids
    // below are the ones libsentencepiece printed when it trained the model).
    // libsentencepiece runs in the ess_sentencepiece module next to LibTorch in this process.
    const std::unique_ptr<Tokenizer> t = Tokenizer::fromFolder(dataPath("tokenizer/spm_tiny"));
    QCOMPARE(t->vocabSize(), 320);
    QCOMPARE(t->encode("the cat sat on the mat"),
             (std::vector<long>{283, 300, 319, 259, 266, 259, 300, 308, 305, 283, 295}));
    const std::vector<long> ids = t->encode("dogs ran\nhome");
    QCOMPARE(ids, (std::vector<long>{261, 308, 315, 307, 287, 13, 309, 264, 302}));
    // Special pieces typed in the text are those tokens (<unk> 0, <s> 1, </s> 2), the text
    // around them encoded on its own, as transformers' (legacy) LlamaTokenizer does.
    std::vector<long> joined = t->encode("the cat sat on the mat");
    joined.push_back(2);
    const std::vector<long> after = t->encode("dogs ran\nhome");
    joined.insert(joined.end(), after.begin(), after.end());
    joined.push_back(1);
    QCOMPARE(t->encode("the cat sat on the mat</s>dogs ran\nhome<s>"), joined);
    QCOMPARE(t->encode("<unk>"), (std::vector<long>{0}));
    QCOMPARE(t->pieces({1, 2}), (std::vector<std::string>{"<s>", "</s>"}));
    QCOMPARE(t->decode(ids), std::string("dogs ran\nhome"));
    const auto p = t->pieces(ids);
    QCOMPARE(QString::fromStdString(p[0]), QString::fromUtf8("\xC2\xB7"
                                                             "d"));             // ▁d
    QCOMPARE(QString::fromStdString(p[5]), QString::fromUtf8("\xE2\x8F\x8E"));  // <0x0A>
    QCOMPARE(t->pieces({58}), (std::vector<std::string>{"7"}));                 // <0x37>
    QVERIFY_THROWS_EXCEPTION(InputError, t->pieces({320}));
    QTemporaryDir dir;
    const std::string bad = dir.filePath("tokenizer.model").toStdString();
    writeFile(bad, "not a protobuf");
    const std::string e = inputErrorOf([&] { Tokenizer::fromFolder(dir.path().toStdString()); });
    QVERIFY2(e.find(bad) != std::string::npos, e.c_str());
  }

  void sentencePieceJsonMatchesLibsentencepiece() {
    // spm_tiny_json/: spm_tiny converted by make_spm_json.py into both tokenizer.json layouts,
    // its tokenizer.model (spm_tiny keeping runs of spaces, as Llama-2's model does) and the
    // ids libsentencepiece gave for a corpus of tricky strings (reference.json).
    const std::string dir = dataPath("tokenizer/spm_tiny_json/");
    const auto legacy = Tokenizer::fromJsonFile(dir + "legacy/tokenizer.json");
    const auto meta = Tokenizer::fromJsonFile(dir + "metaspace/tokenizer.json");
    nlohmann::json split = readJson(dir + "metaspace/tokenizer.json");
    split["pre_tokenizer"]["split"] = true;
    const auto metaSplit = Tokenizer::fromJsonText(split.dump(), "split.json");
    const auto lib = Tokenizer::fromSentencePieceFile(dir + "tokenizer.model");
    QCOMPARE(legacy->vocabSize(), 320);
    QCOMPARE(meta->vocabSize(), 320);
    const auto refs = readJson(dir + "reference.json");
    QVERIFY(refs.size() >= 25);
    int byteFallbacks = 0;
    for (const auto& r : refs) {
      const std::string text = r["text"].get<std::string>();
      const std::vector<long> want = r["ids"].get<std::vector<long>>();
      const std::string name = "'" + visibleText(text) + "': ";
      const auto check = [&](const char* what, const std::vector<long>& got, const std::vector<long>& w) {
        if (got != w) QFAIL((name + what + " gave " + idsText(got) + "want " + idsText(w)).c_str());
      };
      check("libsentencepiece", lib->encode(text), want);
      check("legacy layout", legacy->encode(text), want);
      // Metaspace prepends "▁" only when the text does not already start with one, so a text
      // starting with a space is tokenized as libsentencepiece tokenizes it without that space
      // (" " alone: "▁", id 300).
      const bool leadingSpace = !text.empty() && text[0] == ' ';
      const std::vector<long> wantMeta = !leadingSpace ? want
                                         : text == " " ? std::vector<long>{300}
                                                       : lib->encode(text.substr(1));
      check("metaspace layout", meta->encode(text), wantMeta);
      check("metaspace split", metaSplit->encode(text), wantMeta);
      for (long id : want) byteFallbacks += (id >= 3 && id < 259);
      QCOMPARE(legacy->pieces(want), lib->pieces(want));
      QCOMPARE(legacy->decode(want), lib->decode(want));
      if (text.find("\xE2\x96\x81") == std::string::npos) {  // a literal ▁ decodes as a space
        QCOMPARE(legacy->decode(want), text);
        if (!leadingSpace) QCOMPARE(meta->decode(want), text);
      }
    }
    QVERIFY(byteFallbacks > 30);  // digits, capitals, accents, emoji, CJK
    std::string bytes;            // any bytes round-trip, invalid UTF-8 included (byte fallback)
    for (int b = 1; b < 256; ++b) bytes += static_cast<char>(b);
    QCOMPARE(legacy->decode(legacy->encode(bytes)), bytes);
    QCOMPARE(meta->decode(meta->encode(bytes)), bytes);
  }

  void sentencePieceJsonComponents() {
    const std::string dir = dataPath("tokenizer/spm_tiny_json/");
    const nlohmann::json base = readJson(dir + "metaspace/tokenizer.json");
    const auto& vocab = base["model"]["vocab"];
    const auto id = [&](const char* piece) { return vocab.at(piece).get<long>(); };
    const auto variant = [&](const std::function<void(nlohmann::json&)>& edit) {
      nlohmann::json j = base;
      edit(j);
      return Tokenizer::fromJsonText(j.dump(), "variant.json");
    };
    const auto first = Tokenizer::fromJsonText(base.dump(), "first.json");
    const auto always = variant([](nlohmann::json& j) { j["pre_tokenizer"]["prepend_scheme"] = "always"; });
    const auto never = variant([](nlohmann::json& j) { j["pre_tokenizer"]["prepend_scheme"] = "never"; });
    const auto noPrefix = variant([](nlohmann::json& j) {  // the older field
      j["pre_tokenizer"].erase("prepend_scheme");
      j["pre_tokenizer"]["add_prefix_space"] = false;
    });
    const auto legacy = Tokenizer::fromJsonFile(dir + "legacy/tokenizer.json");
    QCOMPARE(first->encode("at"), (std::vector<long>{id("\xE2\x96\x81"
                                                        "at")}));
    QCOMPARE(never->encode("at"), (std::vector<long>{id("at")}));
    QCOMPARE(noPrefix->encode("at"), (std::vector<long>{id("at")}));
    QCOMPARE(never->encode(" at"), first->encode("at"));
    QCOMPARE(never->decode(never->encode("at at")), std::string("at at"));
    // After an added token: Prepend (legacy) and "always" prepend "▁" again, "first" does not.
    const std::vector<long> at = {id("at")}, spaceAt = {id("\xE2\x96\x81"
                                                           "at")};
    QCOMPARE(legacy->encode("at</s>at"), concat(concat(spaceAt, {2}), spaceAt));
    QCOMPARE(always->encode("at</s>at"), concat(concat(spaceAt, {2}), spaceAt));
    QCOMPARE(first->encode("at</s>at"), concat(concat(spaceAt, {2}), at));
    QCOMPARE(first->encode("</s>at"), concat({2}, at));
    QCOMPARE(first->pieces({1, 2,
                            id("\xE2\x96\x81"
                               "at")}),
             (std::vector<std::string>{"<s>", "</s>",
                                       "\xC2\xB7"
                                       "at"}));
    QCOMPARE(first->preTokenize("at at"), (std::vector<std::string>{" at at"}));
    const auto split = variant([](nlohmann::json& j) { j["pre_tokenizer"]["split"] = true; });
    QCOMPARE(split->preTokenize("at  at"), (std::vector<std::string>{" at", " ", " at"}));

    // Byte fallback: é is <0xC3><0xA9>; labels show each byte, decode joins them.
    const std::vector<long> e = first->encode("\xC3\xA9");
    QCOMPARE(e, (std::vector<long>{id("\xE2\x96\x81"), id("<0xC3>"), id("<0xA9>")}));
    QCOMPARE(first->pieces(e), (std::vector<std::string>{"\xC2\xB7", "<0xC3>", "<0xA9>"}));
    QCOMPARE(first->decode(e), std::string("\xC3\xA9"));
    QCOMPARE(first->pieces(first->encode("7")), (std::vector<std::string>{"\xC2\xB7", "7"}));
    // Without byte fallback: unk, runs fused when fuse_unk.
    const auto unk = variant([](nlohmann::json& j) { j["model"]["byte_fallback"] = false; });
    QCOMPARE(unk->encode("\xC3\xA9\xC3\xA9"), (std::vector<long>{id("\xE2\x96\x81"), 0}));
    const auto unfused = variant([](nlohmann::json& j) {
      j["model"]["byte_fallback"] = false;
      j["model"]["fuse_unk"] = false;
    });
    QCOMPARE(unfused->encode("\xC3\xA9\xC3\xA9"), (std::vector<long>{id("\xE2\x96\x81"), 0, 0}));
    // A byte piece missing: the message names the byte.
    const auto noByte = variant([](nlohmann::json& j) { j["model"]["vocab"].erase("<0xC3>"); });
    std::string err = inputErrorOf([&] { noByte->encode("caf\xC3\xA9"); });
    QVERIFY2(err.find("variant.json") != std::string::npos && err.find("0xC3") != std::string::npos &&
                 err.find("<0xC3>") != std::string::npos,
             err.c_str());
    QCOMPARE(noByte->encode("cafe"), first->encode("cafe"));  // other text still encodes

    // Unsupported components are refused naming the field and the type.
    const auto refused = [&](const std::function<void(nlohmann::json&)>& edit) {
      nlohmann::json j = base;
      edit(j);
      return inputErrorOf([&] { Tokenizer::fromJsonText(j.dump(), "bad.json"); });
    };
    err = refused([](nlohmann::json& j) { j["normalizer"] = {{"type", "BertNormalizer"}}; });
    QVERIFY2(err.find("bad.json") != std::string::npos &&
                 err.find("normalizer type \"BertNormalizer\"") != std::string::npos,
             err.c_str());
    // NFKC is applied (more in test_tokenizer_unicode): fullwidth ａｔ is "at".
    const auto nfkc = variant([](nlohmann::json& j) { j["normalizer"] = {{"type", "NFKC"}}; });
    QCOMPARE(nfkc->encode("\xEF\xBD\x81\xEF\xBD\x94"), first->encode("at"));
    err = refused([](nlohmann::json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; });
    QVERIFY2(err.find("pre_tokenizer type \"Whitespace\"") != std::string::npos, err.c_str());
    err = refused([](nlohmann::json& j) { j["decoder"] = {{"type", "WordPiece"}}; });
    QVERIFY2(err.find("decoder type \"WordPiece\"") != std::string::npos, err.c_str());
    err = refused([](nlohmann::json& j) { j["pre_tokenizer"]["prepend_scheme"] = "sometimes"; });
    QVERIFY2(err.find("prepend_scheme \"sometimes\"") != std::string::npos, err.c_str());
    err = refused([](nlohmann::json& j) { j["model"]["merges"].push_back({"q", "z"}); });
    QVERIFY2(err.find("model.merges[41]") != std::string::npos, err.c_str());
  }

  void specialTokensAsInTraining() {
    // tokenizer.json: the post_processor's single template (<s> $A in spm_tiny_json).
    const std::string dir = dataPath("tokenizer/spm_tiny_json/");
    const auto legacy = Tokenizer::fromJsonFile(dir + "legacy/tokenizer.json");
    QCOMPARE(legacy->encodeWithSpecialTokens("at"), concat({1}, legacy->encode("at")));
    QCOMPARE(legacy->encodeWithSpecialTokens(""), (std::vector<long>{1}));
    QCOMPARE(legacy->pieces(legacy->encodeWithSpecialTokens("at"))[0], std::string("<s>"));
    nlohmann::json j = readJson(dir + "legacy/tokenizer.json");
    j["post_processor"] = {{"type", "Sequence"},
                           {"processors",
                            {{{"type", "ByteLevel"}},
                             {{"type", "TemplateProcessing"},
                              {"single", "<s> $A:0 </s>"},
                              {"special_tokens",
                               {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}},
                                {"</s>", {{"id", "</s>"}, {"ids", {2}}, {"tokens", {"</s>"}}}}}}}}}};
    auto t = Tokenizer::fromJsonText(j.dump(), "seq.json");
    QCOMPARE(t->encodeWithSpecialTokens("at"), concat(concat({1}, t->encode("at")), {2}));
    j["post_processor"] = {{"type", "RobertaProcessing"}, {"cls", {"<s>", 1}}, {"sep", {"</s>", 2}}};
    t = Tokenizer::fromJsonText(j.dump(), "roberta.json");
    QCOMPARE(t->encodeWithSpecialTokens("at"), concat(concat({1}, t->encode("at")), {2}));
    j["post_processor"] = {{"type", "Mystery"}};
    t = Tokenizer::fromJsonText(j.dump(), "mystery.json");
    QCOMPARE(t->encode("at"), legacy->encode("at"));  // plain encoding still works
    const std::string err = inputErrorOf([&] { t->encodeWithSpecialTokens("at"); });
    QVERIFY2(err.find("mystery.json") != std::string::npos &&
                 err.find("post_processor type \"Mystery\"") != std::string::npos,
             err.c_str());
    // GPT-2's file has no post_processor: no special tokens.
    QCOMPARE(gpt2_->encodeWithSpecialTokens("Hello world"), gpt2_->encode("Hello world"));

    // A folder whose tokenizer_config.json names LlamaTokenizerFast: transformers rebuilds the
    // post-processor from add_bos_token / add_eos_token; other classes keep tokenizer.json's.
    {
      QTemporaryDir llamaDir;
      const std::string d = llamaDir.path().toStdString();
      std::filesystem::copy_file(dir + "legacy/tokenizer.json", d + "/tokenizer.json");
      writeFile(d + "/tokenizer_config.json",
                "{\"tokenizer_class\": \"LlamaTokenizerFast\", \"add_bos_token\": false, "
                "\"add_eos_token\": true, \"bos_token\": \"<s>\", \"eos_token\": {\"content\": \"</s>\"}}");
      QCOMPARE(Tokenizer::fromFolder(d)->encodeWithSpecialTokens("at"), concat(legacy->encode("at"), {2}));
      writeFile(d + "/tokenizer_config.json",
                "{\"tokenizer_class\": \"PreTrainedTokenizerFast\", \"add_bos_token\": false}");
      QCOMPARE(Tokenizer::fromFolder(d)->encodeWithSpecialTokens("at"), concat({1}, legacy->encode("at")));
      writeFile(d + "/tokenizer_config.json", "{\"tokenizer_class\": \"LlamaTokenizer\", \"bos_token\": \"<bos>\"}");
      const std::string err = inputErrorOf([&] { Tokenizer::fromFolder(d); });
      QVERIFY2(err.find("tokenizer_config.json") != std::string::npos && err.find("<bos>") != std::string::npos,
               err.c_str());
    }

    // tokenizer.model: tokenizer_config.json add_bos_token (default true), add_eos_token
    // (default false); spm_tiny has no tokenizer_config.json.
    const std::vector<long> cat = {283, 300, 319, 259, 266, 259, 300, 308, 305, 283, 295};
    const auto spm = Tokenizer::fromFolder(dataPath("tokenizer/spm_tiny"));
    QCOMPARE(spm->encodeWithSpecialTokens("the cat sat on the mat"), concat({1}, cat));
    QCOMPARE(spm->pieces({1, 2}), (std::vector<std::string>{"<s>", "</s>"}));
    QTemporaryDir tmp;
    const std::string folder = tmp.path().toStdString();
    std::filesystem::copy_file(dataPath("tokenizer/spm_tiny/tokenizer.model"), folder + "/tokenizer.model");
    writeFile(folder + "/tokenizer_config.json", "{\"add_bos_token\": false, \"add_eos_token\": true}");
    QCOMPARE(Tokenizer::fromFolder(folder)->encodeWithSpecialTokens("the cat sat on the mat"), concat(cat, {2}));
    writeFile(folder + "/tokenizer_config.json", "{\"add_bos_token\": ");
    const std::string bad = inputErrorOf([&] { Tokenizer::fromFolder(folder); });
    QVERIFY2(bad.find("tokenizer_config.json") != std::string::npos, bad.c_str());
  }

  void hfSessionWithSentencePieceAddsBos() {
    // tests/data/hf/llama_spm_torch: the spm_tiny model with add_bos_token true.
    auto session = Session::open(dataPath("hf/llama_spm_torch"));
    session->setInput("text:the cat sat on the mat");
    QCOMPARE(session->tokens(), (std::vector<long>{1, 283, 300, 319, 259, 266, 259, 300, 308, 305, 283, 295}));
    QCOMPARE(session->tokenLabels()[0], std::string("<s>"));
    QCOMPARE(QString::fromStdString(session->tokenLabels()[1]), QString::fromUtf8("\xC2\xB7the"));
  }

  // textfile: inputs are checked before anything is read into memory or tokenized: a
  // directory, a device, a file over kMaxTextFileBytes, bytes that are not UTF-8 (for
  // tokenizers); a text of fewer than 2 tokens is refused (no split); the input stays.
  void textInputsAreCheckedBeforeTokenizing() {
    QTemporaryDir dir;
    const std::string d = dir.path().toStdString();
    auto session = Session::open(dataPath("hf/gpt2_torch"));
    const std::string before = session->input();
    auto refused = [&](const std::string& spec, std::initializer_list<const char*> words) {
      const std::string e = inputErrorOf([&] { session->setInput(spec); });
      for (const char* w : words) QVERIFY2(e.find(w) != std::string::npos, (spec + " -> " + e).c_str());
      QCOMPARE(session->input(), before);
    };
    refused("textfile:" + d, {"is a directory"});
    refused("textfile:/dev/zero", {"/dev/zero", "not a regular file"});
    refused("textfile:" + d + "/absent.txt", {"absent.txt", "does not exist"});
    writeFile(d + "/latin1.txt", "caf\xE9 ok");
    refused("textfile:" + d + "/latin1.txt", {"latin1.txt", "not UTF-8", "0xE9", "offset 3"});
    refused("text:\xC0\xAF", {"not UTF-8", "0xC0"});  // an overlong '/'
    const std::string big = d + "/big.txt";
    std::filesystem::resize_file((std::ofstream(big), big), kMaxTextFileBytes + 1);
    refused("textfile:" + big, {"big.txt", std::to_string(kMaxTextFileBytes + 1).c_str(), "16 MiB"});
    refused("text:t", {"1 token", "at least 2"});
    QVERIFY_THROWS_EXCEPTION(UsageError, session->setInput("text"));       // no colon: not a text spec
    QVERIFY_THROWS_EXCEPTION(UsageError, session->setInput("textfile:"));  // no path
    // The byte-level path of ess-lm models makes the same file checks.
    QVERIFY_THROWS_EXCEPTION(InputError, tokensFromSpec("textfile:" + d, 256, 0));
    QVERIFY(inputErrorOf([&] { tokensFromSpec("text:a", 256, 0); }).find("at least 2") != std::string::npos);
    QCOMPARE(tokensFromSpec("text:\xFF\x01", 256, 0), (std::vector<long>{255, 1}));  // bytes are bytes
  }

  void hfSessionTakesTextAndLabelsTokens() {
    // tests/data/hf/gpt2_torch/tokenizer.json: 32 tokens, merges t h, Ġ th, Ġth e; 16 positions.
    auto session = Session::open(dataPath("hf/gpt2_torch"));
    session->setInput("text:the cat\nthe");
    QCOMPARE(session->tokens(), (std::vector<long>{29, 4, 26, 2, 0, 19, 27, 29, 4}));
    const std::vector<std::string> want = {"th", "e", "\xC2\xB7", "c", "a", "t", "\xE2\x8F\x8E", "th", "e"};
    QCOMPARE(session->tokenLabels(), want);
    const std::string e = inputErrorOf([&] { session->setInput("text:" + std::string(17, 'a')); });
    QVERIFY2(e.find("17 tokens") != std::string::npos && e.find("context of 16") != std::string::npos, e.c_str());
    QVERIFY2(inputErrorOf([&] { session->setInput("text:the Cat"); }).find("no token") != std::string::npos,
             "a character outside the tiny vocabulary");
    QCOMPARE(session->input(), std::string("text:the cat\nthe"));  // unchanged after the errors
  }

  void malformedFilesNameFileAndProblem() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("tokenizer.json").toStdString();
    writeFile(path, "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}");
    std::string e = inputErrorOf([&] { Tokenizer::fromJsonFile(path); });
    QVERIFY2(e.find(path) != std::string::npos && e.find("not valid JSON") != std::string::npos, e.c_str());
    writeFile(path,
              "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [3]},\n"
              "                       \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}");
    e = inputErrorOf([&] { Tokenizer::fromJsonFile(path); });
    QVERIFY2(e.find("model.merges[0]") != std::string::npos, e.c_str());
    writeFile(path, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}");
    e = inputErrorOf([&] { Tokenizer::fromJsonFile(path); });
    QVERIFY2(e.find("WordPiece") != std::string::npos, e.c_str());
    writeFile(
        path,
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}");
    e = inputErrorOf([&] { Tokenizer::fromJsonFile(path); });
    QVERIFY2(e.find("model.vocab[\"a\"]") != std::string::npos, e.c_str());
  }

  void folderWithoutTokenizerSaysWhatWasLookedFor() {
    QTemporaryDir dir;
    const std::string e = inputErrorOf([&] { Tokenizer::fromFolder(dir.path().toStdString()); });
    QVERIFY2(e.find("tokenizer.json") != std::string::npos && e.find("tokenizer.model") != std::string::npos,
             e.c_str());
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
