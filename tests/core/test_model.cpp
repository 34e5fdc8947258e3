// ess-lm model (ess/model.h) and MQAR samples (ess/mqar.h): config JSON, checkpoints,
// error messages, layer operators, MQAR sample properties.
#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "ess/error.h"
#include "ess/model.h"
#include "ess/mqar.h"
#include "ess/safetensors.h"
#include "model_test_util.h"
#include "test_support.h"
// Qt after LibTorch: Qt's `slots` macro clashes with torch/jit headers.
#include <QTemporaryDir>
#include <QtTest>

using namespace ess;

namespace {

ModelConfig smallConfig() {
  ModelConfig c;
  c.vocabSize = 32;
  c.dModel = 32;
  c.numHeads = 2;
  c.maxLength = 40;
  c.mlpHidden = 64;
  c.mixers = {"softmax_attention", "gla", "linear_attention"};
  return c;
}

at::Tensor tokens(int64_t l, int64_t vocab, uint64_t seed = 3) { return testutil::mqarTokens(l, vocab, seed); }

}  // namespace

class TestModel : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void configRoundTrip() {
    ModelConfig c = smallConfig();
    c.norm = "layernorm";
    c.keyShift = true;
    const std::string text = c.toJson();
    QVERIFY(contains(text, "\"model_type\": \"ess-lm\""));
    ModelConfig d = ModelConfig::fromJson(text, "x/config.json");
    QCOMPARE(d.vocabSize, c.vocabSize);
    QCOMPARE(d.dModel, c.dModel);
    QCOMPARE(d.numHeads, c.numHeads);
    QCOMPARE(d.maxLength, c.maxLength);
    QCOMPARE(d.mlpHidden, c.mlpHidden);
    QVERIFY(d.mixers == c.mixers);
    QCOMPARE(QString::fromStdString(d.norm), QString("layernorm"));
    QCOMPARE(QString::fromStdString(d.positionEmbedding), QString("learned"));
    QVERIFY(d.keyShift);
    QCOMPARE(d.toJson(), text);
  }

  void configSingleKindRepeats() {
    auto c = ModelConfig::fromJson(
        R"({"model_type":"ess-lm","vocab_size":16,"d_model":8,"num_heads":2,"max_length":8,"num_layers":3,"mixers":["gla"]})",
        "c.json");
    QCOMPARE(c.numLayers(), 3);
    QCOMPARE(c.mlpHidden, 32);
    QVERIFY(!c.keyShift);
  }

  void configErrors() {
    auto msg = errorOf<InputError>([] {
      ModelConfig::fromJson(
          R"({"model_type":"ess-lm","vocab_size":16,"d_model":8,"num_heads":2,"max_length":8,"mixers":["softmax_attention","mamba9"]})",
          "dir/config.json");
    });
    QVERIFY2(contains(msg, "dir/config.json: ") && contains(msg, "mamba9"), msg.c_str());
    for (const auto& k : knownMixerKinds()) QVERIFY2(contains(msg, k), msg.c_str());

    msg = errorOf<InputError>([] { ModelConfig::fromJson(R"({"model_type":"llama","vocab_size":16})", "p.json"); });
    QVERIFY2(contains(msg, "p.json: ") && contains(msg, "llama") && contains(msg, "ess-lm"), msg.c_str());
    msg = errorOf<InputError>([] { ModelConfig::fromJson(R"({"vocab_size":16})", "p.json"); });
    QVERIFY2(contains(msg, "model_type"), msg.c_str());
    msg = errorOf<InputError>([] {
      ModelConfig::fromJson(R"({"model_type":"ess-lm","d_model":8,"num_heads":2,"max_length":8,"mixers":["gla"]})",
                            "p.json");
    });
    QVERIFY2(contains(msg, "p.json: ") && contains(msg, "vocab_size"), msg.c_str());
    msg = errorOf<InputError>([] {
      ModelConfig::fromJson(
          R"({"model_type":"ess-lm","vocab_size":"x","d_model":8,"num_heads":2,"max_length":8,"mixers":["gla"]})",
          "p.json");
    });
    QVERIFY2(contains(msg, "vocab_size"), msg.c_str());
    msg = errorOf<InputError>([] {
      ModelConfig::fromJson(
          R"({"model_type":"ess-lm","vocab_size":16,"d_model":9,"num_heads":2,"max_length":8,"mixers":["gla"]})",
          "p.json");
    });
    QVERIFY2(contains(msg, "divisible"), msg.c_str());
    msg = errorOf<InputError>([] { ModelConfig::fromJson("{not json", "p.json"); });
    QVERIFY2(contains(msg, "p.json: "), msg.c_str());
  }

  void layerInfo() {
    EssLm m(smallConfig(), 1);
    QCOMPARE(m.numLayers(), 3);
    QCOMPARE(QString::fromStdString(m.mixerKind(1)), QString("gla"));
    QCOMPARE(m.heads(0), 2);
    QCOMPARE(m.valueChannels(0), 16);
    QCOMPARE(m.theoreticalStateSize(0, 10), 10.0 * 32);
    QCOMPARE(m.theoreticalStateSizeSiso(0, 10), 10.0 * 32 / 16);
    QCOMPARE(m.theoreticalStateSize(1, 10), 256.0);
    QCOMPARE(m.theoreticalStateSizeSiso(2, 3), 16.0);
    QCOMPARE(QString::fromStdString(m.tssFormula(2)), QString("d_k*d_v = 16*16"));
    QVERIFY(contains(errorOf<InputError>([&] { m.heads(3); }), "layer 3"));
  }

  void forwardShapesAndErrors() {
    EssLm m(smallConfig(), 1);
    auto t = tokens(40, 32);
    auto logits = m.forward(t.unsqueeze(0).repeat({2, 1}));
    QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{2, 40, 32}));
    QCOMPARE(m.forward(t).sizes().vec(), (std::vector<int64_t>{40, 32}));
    QVERIFY(contains(errorOf<InputError>([&] { m.forward(at::full({5}, 32, at::kLong)); }), "vocabulary"));
    QVERIFY(contains(errorOf<InputError>([&] { m.forward(at::zeros({41}, at::kLong)); }), "max_length"));
  }

  void saveLoadRoundTrip() {
    QTemporaryDir tmp;
    const std::string dir = (tmp.path() + "/ckpt").toStdString();
    ModelConfig cfg = smallConfig();
    cfg.keyShift = true;
    EssLm m(cfg, 5);
    QVERIFY(m.stateDict().find("layers.1.mixer.k_shift") != nullptr);
    saveEssLm(m, dir);
    QVERIFY(std::filesystem::exists(dir + "/config.json"));
    QVERIFY(std::filesystem::exists(dir + "/model.safetensors"));
    auto back = loadEssLm(dir);
    auto t = tokens(40, 32);
    at::NoGradGuard ng;
    QVERIFY(at::equal(m.forward(t), back->forward(t)));
    auto a = m.stateDict(), b = back->stateDict();
    QCOMPARE(a.tensors.size(), b.tensors.size());
    for (size_t i = 0; i < a.tensors.size(); ++i) {
      QCOMPARE(a.tensors[i].first, b.tensors[i].first);
      QCOMPARE(a.tensors[i].second.scalar_type(), at::kFloat);
      QVERIFY(at::equal(a.tensors[i].second, b.tensors[i].second));
    }
    // The path of a file inside the directory works too.
    QVERIFY(loadEssLm(dir + "/config.json") != nullptr);
    // Missing directory / missing weights name the file.
    QVERIFY(contains(errorOf<InputError>([&] { loadEssLm(dir + "/nope"); }), "nope"));
    std::filesystem::remove(dir + "/model.safetensors");
    QVERIFY(contains(errorOf<InputError>([&] { loadEssLm(dir); }), "model.safetensors"));
  }

  void stateDictNames() {
    EssLm m(smallConfig(), 1);
    auto sd = m.stateDict();
    for (const char* n : {"embed.weight", "pos_embed.weight", "layers.0.norm1.weight", "layers.0.mixer.q_proj.weight",
                          "layers.1.mixer.gate_proj.weight", "layers.1.mixer.gate_proj.bias", "layers.2.mlp.fc1.weight",
                          "layers.2.mlp.fc2.bias", "layers.2.norm2.weight", "norm_f.weight", "lm_head.weight"})
      QVERIFY2(sd.find(n) != nullptr, n);
    QCOMPARE(sd.find("layers.0.mixer.o_proj.weight")->sizes().vec(), (std::vector<int64_t>{32, 32}));
  }

  void weightErrors() {
    const ModelConfig c = smallConfig();
    EssLm m(c, 1);
    // Shape mismatch names the tensor and both shapes.
    auto sd = m.stateDict();
    for (auto& [n, t] : sd.tensors)
      if (n == "layers.1.mixer.k_proj.weight") t = at::zeros({16, 32});
    auto msg = errorOf<InputError>([&] { EssLm::fromTensors(c, sd, "w.safetensors"); });
    QVERIFY2(contains(msg, "w.safetensors: ") && contains(msg, "layers.1.mixer.k_proj.weight") &&
                 contains(msg, "[16, 32]") && contains(msg, "[32, 32]"),
             msg.c_str());
    // NaN weights.
    sd = m.stateDict();
    for (auto& [n, t] : sd.tensors)
      if (n == "lm_head.weight") t[3][4] = std::nan("");
    msg = errorOf<InputError>([&] { EssLm::fromTensors(c, sd, "w.safetensors"); });
    QVERIFY2(contains(msg, "lm_head.weight") && contains(msg, "NaN"), msg.c_str());
    // Inf weights.
    sd = m.stateDict();
    for (auto& [n, t] : sd.tensors)
      if (n == "embed.weight") t[0][0] = INFINITY;
    msg = errorOf<InputError>([&] { EssLm::fromTensors(c, sd, "w.safetensors"); });
    QVERIFY2(contains(msg, "embed.weight") && contains(msg, "Inf"), msg.c_str());
    // Missing tensor.
    sd = m.stateDict();
    sd.tensors.erase(sd.tensors.begin() + 2);
    msg = errorOf<InputError>([&] { EssLm::fromTensors(c, sd, "w.safetensors"); });
    QVERIFY2(contains(msg, "missing tensor"), msg.c_str());
    // Unexpected tensor.
    sd = m.stateDict();
    sd.add("extra.weight", at::zeros({2}));
    msg = errorOf<InputError>([&] { EssLm::fromTensors(c, sd, "w.safetensors"); });
    QVERIFY2(contains(msg, "extra.weight"), msg.c_str());
    // Other float dtypes are accepted.
    sd = m.stateDict();
    for (auto& [n, t] : sd.tensors) t = t.to(at::kDouble);
    auto m2 = EssLm::fromTensors(c, sd, "w.safetensors");
    QVERIFY(at::equal(m2->forward(tokens(40, 32)), m.forward(tokens(40, 32))));
  }

  // The window and kernel length: read from config.json with defaults when absent (configs
  // written before these fields existed), written back, validated.
  void configWindowAndKernel() {
    auto c = ModelConfig::fromJson(
        R"({"model_type":"ess-lm","vocab_size":16,"d_model":8,"num_heads":2,"max_length":8,"mixers":["gla"]})",
        "p.json");
    QCOMPARE(c.window, 16);
    QCOMPARE(c.convKernel, 4);
    c = ModelConfig::fromJson(
        R"({"model_type":"ess-lm","vocab_size":16,"d_model":8,"num_heads":2,"max_length":8,"window":5,"conv_kernel":3,)"
        R"("mixers":"sliding_window_attention,short_conv,retnet"})",
        "p.json");
    QCOMPARE(c.window, 5);
    QCOMPARE(c.convKernel, 3);
    QCOMPARE(c.numLayers(), 3);
    auto d = ModelConfig::fromJson(c.toJson(), "q.json");
    QCOMPARE(d.window, 5);
    QCOMPARE(d.convKernel, 3);
    QVERIFY(d.mixers == c.mixers);
    auto msg = errorOf<InputError>([] {
      ModelConfig::fromJson(
          R"({"model_type":"ess-lm","vocab_size":16,"d_model":8,"num_heads":2,"max_length":8,"window":0,"mixers":["gla"]})",
          "p.json");
    });
    QVERIFY2(contains(msg, "p.json: ") && contains(msg, "window"), msg.c_str());
    msg = errorOf<InputError>([] {
      ModelConfig::fromJson(
          R"({"model_type":"ess-lm","vocab_size":16,"d_model":8,"num_heads":2,"max_length":8,"conv_kernel":"x","mixers":["gla"]})",
          "p.json");
    });
    QVERIFY2(contains(msg, "conv_kernel"), msg.c_str());
  }

  // config.json as written before the mixer registry: the default configuration byte for byte,
  // and every bundled demo checkpoint's config.json (one per kind, written by train-mqar) read
  // and written back unchanged, and loadable.
  void configBytesUnchanged() {
    const std::string defaults =
        "{\n  \"model_type\": \"ess-lm\",\n  \"architectures\": [\n    \"EssLm\"\n  ],\n  \"vocab_size\": 64,\n"
        "  \"d_model\": 64,\n  \"num_heads\": 2,\n  \"num_layers\": 2,\n  \"max_length\": 64,\n  \"mlp_hidden\": 256,\n"
        "  \"mixers\": [\n    \"softmax_attention\",\n    \"gla\"\n  ],\n  \"norm\": \"rmsnorm\",\n"
        "  \"position_embedding\": \"learned\",\n  \"key_shift\": false,\n  \"window\": 16,\n  \"conv_kernel\": 4,\n"
        "  \"state_size\": 16,\n  \"filter_length\": 0,\n  \"expand\": 2,\n  \"dt_rank\": 0,\n"
        "  \"torch_dtype\": \"float32\"\n}\n";
    QCOMPARE(QString::fromStdString(ModelConfig().toJson()), QString::fromStdString(defaults));
    std::set<std::string> kinds;
    const std::filesystem::path demo = std::filesystem::path(ESS_SOURCE_DIR) / "resources" / "demo";
    for (const auto& entry : std::filesystem::directory_iterator(demo)) {
      const auto path = entry.path() / "config.json";
      if (!std::filesystem::exists(path)) continue;
      std::ifstream in(path, std::ios::binary);
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const ModelConfig c = ModelConfig::fromJson(text, path.string());
      // hybrid/ predates the per-kind options: it loads with their defaults and writes them.
      if (contains(text, "\"dt_rank\"")) QCOMPARE(QString::fromStdString(c.toJson()), QString::fromStdString(text));
      QCOMPARE(QString::fromStdString(ModelConfig::fromJson(c.toJson(), "again").toJson()),
               QString::fromStdString(c.toJson()));
      kinds.insert(c.mixers.begin(), c.mixers.end());
      auto m = loadEssLm(entry.path().string());
      QCOMPARE(m->numLayers(), c.numLayers());
    }
    for (const auto& k : knownMixerKinds()) QVERIFY2(kinds.count(k), k.c_str());
  }

  // Models with the newer kinds (alone and hybrid with softmax attention): layer info, operators,
  // and a save/load round trip that gives identical logits.
  void newKindsModels() {
    for (const std::vector<std::string>& mixers :
         {std::vector<std::string>{"sliding_window_attention"},
          {"retnet"},
          {"short_conv"},
          {"softmax_attention", "sliding_window_attention", "retnet", "short_conv"}}) {
      ModelConfig cfg = smallConfig();
      cfg.mixers = mixers;
      cfg.window = 6;
      cfg.convKernel = 3;
      cfg.keyShift = true;
      EssLm m(cfg, 4);
      auto t = tokens(40, 32);
      std::unique_ptr<EssLm> back;
      testutil::checkSaveLoadRoundTrip(m, t, &back);
      if (QTest::currentTestFailed()) return;
      QCOMPARE(back->config().window, 6);
      QCOMPARE(back->config().convKernel, 3);
      at::NoGradGuard ng;
      for (int layer = 0; layer < m.numLayers(); ++layer) {
        const std::string kind = m.mixerKind(layer);
        auto T = m.layerOperator(layer, t);
        if (kind == "short_conv") {
          QCOMPARE(m.heads(layer), 32);
          QCOMPARE(m.valueChannels(layer), 1);
          QCOMPARE(m.keyChannels(layer), 0);
          QCOMPARE(m.theoreticalStateSizeSiso(layer, 10), 2.0);
          QCOMPARE(QString::fromStdString(m.tssFormula(layer)), QString("k-1 = 3-1"));
          QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{32, 40, 40}));
          QVERIFY(m.stateDict().find("layers." + std::to_string(layer) + ".mixer.conv.weight") != nullptr);
          QVERIFY(m.stateDict().find("layers." + std::to_string(layer) + ".mixer.k_shift") == nullptr);
          QVERIFY(m.stateDict().find("layers." + std::to_string(layer) + ".mixer.q_proj.weight") == nullptr);
        } else {
          QCOMPARE(m.heads(layer), 2);
          QCOMPARE(m.valueChannels(layer), 16);
          QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{2, 40, 40}));
        }
        if (kind == "sliding_window_attention") {
          QCOMPARE(m.theoreticalStateSizeSiso(layer, 3), 3.0 * 32 / 16);
          QCOMPARE(m.theoreticalStateSizeSiso(layer, 20), 6.0 * 32 / 16);
          QCOMPARE(T.tril(-6).abs().max().item<double>(), 0.0);  // window of 6
          QVERIFY((T.sum(-1) - 1.0).abs().max().item<double>() < 1e-12);
        }
        if (kind == "retnet") QCOMPARE(QString::fromStdString(m.tssFormula(layer)), QString("d_k*d_v = 16*16"));
      }
    }
  }

  void layerOperators() {
    EssLm m(smallConfig(), 2);
    auto t = tokens(40, 32);
    for (int layer = 0; layer < 3; ++layer) {
      auto T = m.layerOperator(layer, t);
      QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{2, 40, 40}));
      QCOMPARE(T.scalar_type(), at::kDouble);
      QVERIFY(at::isfinite(T).all().item<bool>());
      QCOMPARE(T.triu(1).abs().max().item<double>(), 0.0);
      QVERIFY(T.abs().max().item<double>() > 0.0);
      if (layer == 0) QVERIFY((T.sum(-1) - 1.0).abs().max().item<double>() < 1e-12);
    }
    // Input-dependent: a different input gives a different operator.
    QVERIFY(!at::allclose(m.layerOperator(1, t), m.layerOperator(1, tokens(40, 32, 99))));
    QVERIFY(contains(errorOf<InputError>([&] { m.layerOperator(5, t); }), "layer 5"));
  }

  void mqarSample_data() {
    QTest::addColumn<int>("seed");
    QTest::addColumn<int>("length");
    QTest::addColumn<int>("pairs");
    QTest::addColumn<int>("vocab");
    QTest::newRow("default") << 0 << 64 << 8 << 64;
    QTest::newRow("seed 7") << 7 << 64 << 8 << 64;
    QTest::newRow("tight") << 3 << 32 << 8 << 16;
    QTest::newRow("odd") << 11 << 37 << 5 << 21;
    QTest::newRow("long") << 5 << 256 << 16 << 128;
  }

  void mqarSample() {
    QFETCH(int, seed);
    QFETCH(int, length);
    QFETCH(int, pairs);
    QFETCH(int, vocab);
    MqarSpec spec{static_cast<uint64_t>(seed), length, pairs, vocab};
    MqarSample s = makeMqar(spec);
    QCOMPARE(int(s.tokens.size()), length);
    QCOMPARE(int(s.targets.size()), length);
    const int half = vocab / 2;
    std::set<long> keys;
    for (int i = 0; i < pairs; ++i) {
      const long k = s.tokens[2 * i], v = s.tokens[2 * i + 1];
      QVERIFY(k >= 0 && k < half);
      QVERIFY(v >= half && v < vocab);
      keys.insert(k);
      QCOMPARE(s.targets[2 * i], kMqarIgnore);
      QCOMPARE(s.targets[2 * i + 1], kMqarIgnore);
    }
    QCOMPARE(int(keys.size()), pairs);  // distinct
    int scored = 0;
    for (int i = 0; i < pairs; ++i) {
      const long k = s.tokens[2 * i], v = s.tokens[2 * i + 1];
      std::vector<int> later;
      for (int p = 2 * pairs; p < length; ++p)
        if (s.tokens[p] == k) later.push_back(p);
      QCOMPARE(int(later.size()), 1);  // each key reappears exactly once
      QCOMPARE(s.targets[later[0]], v);
      if (later[0] + 1 < length) QCOMPARE(s.tokens[later[0] + 1], v);
    }
    for (int p = 0; p < length; ++p) {
      QVERIFY(s.tokens[p] >= 0 && s.tokens[p] < vocab);
      if (s.targets[p] != kMqarIgnore) {
        ++scored;
        QVERIFY(keys.count(s.tokens[p]));
      }
    }
    QCOMPARE(scored, pairs);  // targets only at the queries
    // Deterministic.
    MqarSample again = makeMqar(spec);
    QVERIFY(again.tokens == s.tokens && again.targets == s.targets);
    spec.seed += 1;
    QVERIFY(makeMqar(spec).tokens != s.tokens);
  }

  void mqarShortGapsPreferred() {
    // Power-law gaps: query positions cluster near the start of the query region.
    long early = 0, late = 0;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      MqarSample s = makeMqar({seed, 128, 4, 64});
      for (int p = 8; p < 128; ++p)
        if (s.targets[p] != kMqarIgnore) (p < 68 ? early : late) += 1;
    }
    QVERIFY2(early > late, qPrintable(QString("%1 %2").arg(early).arg(late)));
  }

  void mqarImpossible() {
    QVERIFY(!errorOf<UsageError>([] { makeMqar({0, 31, 8, 64}); }).empty());
    QVERIFY(contains(errorOf<UsageError>([] { makeMqar({0, 31, 8, 64}); }), "len"));
    QVERIFY(contains(errorOf<UsageError>([] { makeMqar({0, 64, 8, 15}); }), "vocab"));
    QVERIFY(contains(errorOf<UsageError>([] { makeMqar({0, 64, 0, 64}); }), "pairs"));
  }

  void mqarBatch() {
    MqarSpec spec{4, 32, 4, 32};
    MqarBatch b = makeMqarBatch(spec, 5, 10);
    QCOMPARE(b.tokens.sizes().vec(), (std::vector<int64_t>{5, 32}));
    QCOMPARE(b.targets.sizes().vec(), (std::vector<int64_t>{5, 32}));
    QCOMPARE(b.tokens.scalar_type(), at::kLong);
    QCOMPARE(b.targets.ne(kMqarIgnore).sum().item<int64_t>(), int64_t(20));
    MqarBatch c = makeMqarBatch(spec, 5, 10);
    QVERIFY(at::equal(b.tokens, c.tokens));
    QVERIFY(!at::equal(b.tokens[0], b.tokens[1]));
  }
};

QTEST_APPLESS_MAIN(TestModel)
#include "test_model.moc"
