// Conformance of every fixture language model through one interface (ess/language_model.h,
// issue 10): the Hugging Face fixtures (tests/data/hf/*_torch: gpt2, llama with SentencePiece,
// mamba, qwen2, gpt_neox, phi, falcon_mamba, qwen3, phi3, gemma2, gemma3_text, mamba2, gla, retnet, delta_net,
// gated_deltanet, lfm2, jamba, recurrent_gemma) and the ess-lm demo checkpoints
// (resources/demo: every mixer kind and a hybrid). Per model: the layer count of config.json, the session's layers and
// heads equal to the model's, and per layer an operator [H, L, L] of finite values that is causal, whose head count is
// the model's, equal to its generator form where it has one, and y == T(u) v for the mixer's own outputs where the
// model exposes them (ess-lm).
#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/generators.h"
#include "ess/input_spec.h"
#include "ess/language_model.h"
#include "ess/session.h"
#include "test_support.h"

#include <QtTest>

using namespace ess;
namespace fs = std::filesystem;

namespace {

/// Every fixture model folder: tests/data/hf/*_torch and resources/demo/*, sorted.
std::vector<std::string> fixtureModels() {
  std::vector<std::string> dirs;
  for (const std::string& root :
       {std::string(ESS_TEST_DATA_DIR) + "/hf", std::string(ESS_SOURCE_DIR) + "/resources/demo"})
    for (const auto& e : fs::directory_iterator(root))
      if (e.is_directory() && fs::exists(e.path() / "config.json")) dirs.push_back(e.path().string());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

nlohmann::json configOf(const std::string& dir) {
  std::ifstream in(dir + "/config.json");
  return nlohmann::json::parse(in);
}

/// The layer count config.json states: n_layer (gpt2), num_hidden_layers (llama, qwen2, mamba),
/// num_layers or the mixers list (ess-lm).
int configLayers(const nlohmann::json& j) {
  for (const char* key : {"n_layer", "num_hidden_layers", "num_layers"})
    if (j.contains(key)) return j[key].get<int>();
  return j.contains("mixers") ? int(j["mixers"].size()) : -1;
}

}  // namespace

class TestLanguageModels : public QObject {
  Q_OBJECT
 private slots:
  void fixturesArePresent() {
    const std::vector<std::string> dirs = fixtureModels();
    QVERIFY2(dirs.size() >= 23, qPrintable(QString::number(dirs.size())));
    std::set<std::string> architectures;
    for (const std::string& dir : dirs)
      architectures.insert(openLanguageModel(loadCheckpointFiles(dir))->architecture());
    for (const char* a :
         {"ess-lm",       "gpt2",      "llama",          "mamba",  "qwen2",       "gpt_neox",       "phi",
          "falcon_mamba", "qwen3",     "phi3",           "gemma2", "gemma3_text", "mamba2",         "gla",
          "retnet",       "delta_net", "gated_deltanet", "lfm2",   "jamba",       "recurrent_gemma"})
      QVERIFY2(architectures.count(a), a);
  }

  void everyModelConforms() {
    int checkedOutputs = 0;  // layers whose y == T(u) v was checked
    for (const std::string& dir : fixtureModels()) {
      const std::string name = fs::path(dir).filename().string();
      std::unique_ptr<LanguageModel> m = openLanguageModel(loadCheckpointFiles(dir));
      const nlohmann::json cfg = configOf(dir);
      QVERIFY2(m->numLayers() >= 1, name.c_str());
      QCOMPARE(m->numLayers(), configLayers(cfg));
      QCOMPARE(m->vocabSize(), cfg["vocab_size"].get<int>());
      // The session sees the same layers and heads.
      auto session = Session::open(dir);
      QCOMPARE(session->info().architecture, m->architecture());
      QCOMPARE(int(session->info().layers.size()), m->numLayers());
      const int L = 8;
      const std::vector<long> ids = tokensFromSpec("random:seed=3,len=8", m->vocabSize(), m->maxLength());
      const at::Tensor tokens = at::tensor(std::vector<int64_t>(ids.begin(), ids.end()), at::kLong);
      for (int layer = 0; layer < m->numLayers(); ++layer) {
        const std::string where = name + " layer " + std::to_string(layer);
        QCOMPARE(session->info().layers[layer].heads, m->heads(layer));
        QCOMPARE(session->info().layers[layer].mixer, m->mixerKind(layer));
        const at::Tensor T = m->layerOperator(layer, tokens);
        QVERIFY2(T.dim() == 3 && T.size(0) == m->heads(layer) && T.size(1) == L && T.size(2) == L, where.c_str());
        QVERIFY2(T.scalar_type() == at::kDouble, where.c_str());
        QVERIFY2(at::isfinite(T).all().item<bool>(), where.c_str());
        QVERIFY2(T.abs().sum().item<double>() > 0, where.c_str());
        QCOMPARE(at::triu(T, 1).abs().max().item<double>(), 0.0);  // causal
        const Generators g = m->layerGenerators(layer, tokens);
        if (g.heads() > 0) {
          const at::Tensor G = materializeGenerators(g, dir);
          const double err = (G - T).abs().max().item<double>() / std::max(1.0, T.abs().max().item<double>());
          QVERIFY2(err < 1e-9, (where + ": generators differ by " + std::to_string(err)).c_str());
        }
        at::Tensor y, v;
        if (m->headOutputs(layer, tokens, &y, &v)) {  // y == T(u) v, head by head
          QVERIFY2(y.size(0) == T.size(0) && y.size(1) == L, where.c_str());
          const double err =
              (at::matmul(T, v) - y).abs().max().item<double>() / std::max(1.0, y.abs().max().item<double>());
          QVERIFY2(err < 1e-9, (where + ": y differs from T(u) v by " + std::to_string(err)).c_str());
          ++checkedOutputs;
        }
        const at::Tensor x = m->mixerInput(layer, tokens);
        QVERIFY2(x.dim() == 2 && x.size(0) == L && at::isfinite(x).all().item<bool>(), where.c_str());
        QVERIFY2(m->valueChannels(layer) >= 1 && !m->tssFormula(layer).empty(), where.c_str());
        QVERIFY2(std::isfinite(m->theoreticalStateSizeSiso(layer, L / 2)), where.c_str());
      }
      // Layers outside the model are a usage error on field "layer".
      try {
        m->layerOperator(m->numLayers(), tokens);
        QFAIL((name + ": expected UsageError").c_str());
      } catch (const UsageError& e) {
        QCOMPARE(e.field(), std::string("layer"));
      } catch (const InputError& e) {
        QFAIL((name + ": InputError instead of UsageError: " + e.what()).c_str());
      }
    }
    QVERIFY2(checkedOutputs >= 24, qPrintable(QString::number(checkedOutputs)));  // every ess-lm demo layer
  }
};

QTEST_APPLESS_MAIN(TestLanguageModels)
#include "test_language_models.moc"
