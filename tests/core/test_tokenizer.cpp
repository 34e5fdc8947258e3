// Tokenizers (ess/tokenizer.h): GPT-2's byte-level BPE against ids from an independent encoder
// (npm gpt-3-encoder, tests/data/tokenizer/make_reference.js), round trips, labels, bad files.
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include "ess/error.h"
#include "ess/session.h"
#include "ess/tokenizer.h"

using namespace ess;

namespace {

std::string dataPath(const std::string& name) { return std::string(ESS_TEST_DATA_DIR "/") + name; }

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// The InputError message of `f`, failing the test when none is thrown.
template <class F>
std::string inputErrorOf(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
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
    QVERIFY_EXCEPTION_THROWN(gpt2_->decode({60000}), InputError);
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
    std::unique_ptr<Tokenizer> t;
    try {
      t = Tokenizer::fromFolder(dataPath("tokenizer/spm_tiny"));
    } catch (const InputError& e) {
      QVERIFY2(std::string(e.what()).find("does not link") != std::string::npos, e.what());
      QSKIP("this build has no libsentencepiece");
    }
    QCOMPARE(t->vocabSize(), 320);
    QCOMPARE(t->encode("the cat sat on the mat"),
             (std::vector<long>{283, 300, 319, 259, 266, 259, 300, 308, 305, 283, 295}));
    const std::vector<long> ids = t->encode("dogs ran\nhome");
    QCOMPARE(ids, (std::vector<long>{261, 308, 315, 307, 287, 13, 309, 264, 302}));
    QCOMPARE(t->decode(ids), std::string("dogs ran\nhome"));
    const auto p = t->pieces(ids);
    QCOMPARE(QString::fromStdString(p[0]), QString::fromUtf8("\xC2\xB7"
                                                             "d"));             // ▁d
    QCOMPARE(QString::fromStdString(p[5]), QString::fromUtf8("\xE2\x8F\x8E"));  // <0x0A>
    QCOMPARE(t->pieces({58}), (std::vector<std::string>{"7"}));                 // <0x37>
    QVERIFY_EXCEPTION_THROWN(t->pieces({320}), InputError);
    QTemporaryDir dir;
    const std::string bad = dir.filePath("tokenizer.model").toStdString();
    writeFile(bad, "not a protobuf");
    const std::string e = inputErrorOf([&] { Tokenizer::fromFolder(dir.path().toStdString()); });
    QVERIFY2(e.find(bad) != std::string::npos, e.c_str());
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
