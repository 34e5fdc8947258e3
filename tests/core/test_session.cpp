// Tests of the Session facade: operator and generator files, input specs, model checkpoints,
// memory budget and bad input (docs/definitions.md sections 3, 4 and 6).
#include <ATen/ATen.h>

#include <QtTest>

#include <QTemporaryDir>

#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/input_spec.h"
#include "ess/model.h"
#include "ess/mqar.h"
#include "ess/safetensors.h"
#include "ess/session.h"
#include "ess/tensor_engines.h"
#include "model_test_util.h"
#include "test_support.h"

using namespace ess;

namespace {
std::string data(const std::string& name) { return std::string(ESS_TEST_DATA_DIR) + "/" + name; }

}  // namespace

class TestSession : public QObject {
  Q_OBJECT
 private slots:
  void operatorFile() {
    auto s = Session::open(data("softmax_attention_h2_L64.safetensors"));
    QCOMPARE(s->info().architecture, std::string("operator"));
    QCOMPARE(int(s->info().layers.size()), 1);
    QCOMPARE(s->info().layers[0].heads, 2);
    QVERIFY(!s->info().needsInput);
    const OperatorData op = s->operatorOf(0);
    QCOMPARE(op.heads, 2);
    QCOMPARE(op.length, 64);
    NamedTensors ref = readSafetensors(data("softmax_attention_h2_L64.safetensors"));
    QCOMPARE(op.at(1, 40, 3), ref.find("operator")->index({1, 40, 3}).item<double>());
    const CurveData c = s->curve(0, EssOptions());
    QCOMPARE(int(c.splits.size()), 63);
    QVERIFY(std::isnan(c.tss[0][0]));  // unknown for an operator file
    const at::Tensor want = *ref.find("expected_tolerance_ess");
    for (int i = 0; i < 63; ++i) QCOMPARE(c.tolerance[1][i], want[1][i].item<double>());
    const std::vector<double> sigma = s->spectrum(0, 1, 20, EssOptions());
    QCOMPARE(int(sigma.size()), 20);
    QCOMPARE(toleranceEss(sigma, 1e-3, Normalization::Max), want[1][19].item<double>());
    QVERIFY_THROWS_EXCEPTION(UsageError, s->curve(1, EssOptions()));
    QVERIFY_THROWS_EXCEPTION(UsageError, s->spectrum(0, 2, 20, EssOptions()));
  }

  void generatorFileEqualsRecurrence() {
    // T from generators must equal the explicit diagonal recurrence
    //   h_t = a_t * h_{t-1} + B_t u_t,   y_t = C_t . h_t + D_t u_t.
    at::manual_seed(7);
    const int H = 2, L = 24, N = 3;
    NamedTensors g;
    g.add("C", at::randn({H, L, N}, at::kDouble));
    g.add("B", at::randn({H, L, N}, at::kDouble));
    g.add("log_a", -at::rand({H, L, N}, at::kDouble));
    g.add("D", at::randn({H, L}, at::kDouble));
    QTemporaryDir dir;
    const std::string path = dir.filePath("gen.safetensors").toStdString();
    writeSafetensors(path, g);
    auto s = Session::open(path);
    QCOMPARE(s->info().architecture, std::string("generators"));
    const OperatorData op = s->operatorOf(0);
    const at::Tensor C = *g.find("C"), B = *g.find("B"), A = g.find("log_a")->exp(), D = *g.find("D");
    const at::Tensor u = at::randn({L}, at::kDouble);
    for (int h = 0; h < H; ++h) {
      at::Tensor state = at::zeros({N}, at::kDouble);
      for (int t = 0; t < L; ++t) {
        state = A[h][t] * state + B[h][t] * u[t];
        const double y = (C[h][t] * state).sum().item<double>() + D[h][t].item<double>() * u[t].item<double>();
        double ty = 0;
        for (int c = 0; c < L; ++c) ty += op.at(h, t, c) * u[c].item<double>();
        QVERIFY2(std::abs(y - ty) < 1e-10 * std::max(1.0, std::abs(y)), qPrintable(QString("h %1 t %2").arg(h).arg(t)));
      }
    }
    // Rank of H_s is at most N: the theoretical state size of the generators.
    const CurveData c = s->curve(0, EssOptions().tolerance(1e-10));
    for (int h = 0; h < H; ++h)
      for (size_t i = 0; i < c.splits.size(); ++i) {
        QVERIFY(c.tolerance[h][i] <= N);
        QCOMPARE(c.tss[h][i], double(N));
      }
  }

  // Generator files go through the structured engine: the same curves, spectra and heatmap
  // entries as the dense operator.
  void generatorFileStructuredEqualsDense() {
    at::manual_seed(11);
    const int H = 2, L = 40, N = 3;
    NamedTensors g;
    g.add("C", at::randn({H, L, N}, at::kDouble));
    g.add("B", at::randn({H, L, N}, at::kDouble));
    g.add("log_a", -0.3 * at::rand({H, L}, at::kDouble));  // one decay per head
    g.add("D", at::randn({H, L}, at::kDouble));
    QTemporaryDir dir;
    const std::string path = dir.filePath("gen.safetensors").toStdString();
    writeSafetensors(path, g);
    auto s = Session::open(path);
    QCOMPARE(s->info().length, L);
    const CurveData st = s->curve(0, EssOptions().algorithm(Algorithm::Structured));
    const CurveData de = s->curve(0, EssOptions().algorithm(Algorithm::Dense));
    QCOMPARE(st.splits, de.splits);
    for (int h = 0; h < H; ++h)
      for (size_t i = 0; i < st.splits.size(); ++i) {
        QCOMPARE(st.tolerance[h][i], de.tolerance[h][i]);
        QVERIFY(std::abs(st.entropy[h][i] - de.entropy[h][i]) <= 1e-8 * de.entropy[h][i]);
      }
    // Spectrum from the generators (fresh session: no dense operator formed yet) == dense.
    auto fresh = Session::open(path);
    for (int split : {1, 2, 20, 39}) {
      const auto a = fresh->spectrum(0, 1, split, EssOptions());
      const auto b = fresh->spectrum(0, 1, split, EssOptions().algorithm(Algorithm::Dense));
      QCOMPARE(a.size(), b.size());
      for (size_t k = 0; k < a.size(); ++k) QVERIFY(std::abs(a[k] - b[k]) <= 1e-12 * std::max(1.0, b[0]));
    }
    // Tiles: full resolution equals the dense entries; a stepped tile samples every k-th entry.
    auto tiles = Session::open(path);
    const OperatorTile full = tiles->operatorTile(0, 1, TileRequest());
    QCOMPARE(full.rows, L);
    QCOMPARE(full.rowStep, 1);
    const OperatorData op = s->operatorOf(0);
    for (int r = 0; r < L; ++r)
      for (int c = 0; c < L; ++c)
        QVERIFY(std::abs(full.at(r, c) - op.at(1, r, c)) <= 1e-12 * std::max(1.0, std::abs(op.at(1, r, c))));
    TileRequest req;
    req.rowBegin = 5;
    req.rowEnd = 35;
    req.columnBegin = 2;
    req.columnEnd = 40;
    req.maxRows = 10;
    req.maxColumns = 7;
    const OperatorTile part = tiles->operatorTile(0, 0, req);
    QCOMPARE(part.rowStep, 3);
    QCOMPARE(part.rows, 10);
    QCOMPARE(part.columnStep, 6);
    QCOMPARE(part.columns, 7);
    for (int i = 0; i < part.rows; ++i)
      for (int j = 0; j < part.columns; ++j) {
        const double want = op.at(0, 5 + 3 * i, 2 + 6 * j);
        QVERIFY(std::abs(part.at(i, j) - want) <= 1e-12 * std::max(1.0, std::abs(want)));
      }
    QVERIFY_THROWS_EXCEPTION(UsageError, tiles->operatorTile(0, 2, req));
  }

  // A generator file far beyond the dense memory budget still gives curves, spectra and tiles.
  void longGeneratorFileWithoutDenseOperator() {
    at::manual_seed(5);
    const int L = 20000, N = 4;
    NamedTensors g;
    g.add("C", at::randn({1, L, N}, at::kDouble));
    g.add("B", at::randn({1, L, N}, at::kDouble));
    g.add("log_a", -5.0 * at::rand({1, L, N}, at::kDouble));  // strong decay
    QTemporaryDir dir;
    const std::string path = dir.filePath("long.safetensors").toStdString();
    writeSafetensors(path, g);
    auto s = Session::open(path, size_t(1) << 20);  // 1 MiB: a dense operator needs 3 GB
    QCOMPARE(s->info().length, L);
    const std::string e = errorOf<InputError>([&] { s->operatorOf(0); });
    QVERIFY2(e.find("memory budget") != std::string::npos, e.c_str());
    const CurveData c = s->curve(0, EssOptions().splits(parseSplitRange("1::999")));
    QCOMPARE(c.length, L);
    for (size_t i = 0; i < c.splits.size(); ++i) {
      QVERIFY(c.tolerance[0][i] >= 1 && c.tolerance[0][i] <= N);
      QVERIFY(std::isfinite(c.entropy[0][i]));
    }
    QCOMPARE(int(s->spectrum(0, 0, 10000, EssOptions()).size()), 10000);
    TileRequest overview;
    overview.maxRows = overview.maxColumns = 200;
    const OperatorTile t = s->operatorTile(0, 0, overview);
    QCOMPARE(t.rows, 200);
    QCOMPARE(t.rowStep, 100);
    QCOMPARE(t.at(0, 1), 0.0);  // above the diagonal
    QVERIFY(t.at(3, 3) != 0.0);
  }

  void generatorOverflowIsReported() {
    NamedTensors g;
    g.add("C", at::ones({1, 3000, 2}, at::kDouble));
    g.add("B", at::ones({1, 3000, 2}, at::kDouble));
    g.add("log_a", at::full({1, 3000, 2}, 0.5, at::kDouble));  // grows by e^0.5 per step
    QTemporaryDir dir;
    const std::string path = dir.filePath("grow.safetensors").toStdString();
    writeSafetensors(path, g);
    const std::string e = errorOf<InputError>([&] { Session::open(path); });
    QVERIFY2(e.find("grow.safetensors") != std::string::npos && e.find("overflow") != std::string::npos &&
                 e.find("row 1419") != std::string::npos,
             e.c_str());
  }

  // Model layers with a generator form use the structured engine; others refuse Structured.
  void modelLayersStructured() {
    ModelConfig cfg = testutil::tinyConfig({"softmax_attention", "mamba", "gla"});
    cfg.stateSize = 4;
    EssLm model(cfg, 3);
    QTemporaryDir dir;
    saveEssLm(model, dir.path().toStdString());
    auto s = Session::open(dir.path().toStdString());
    s->setInput("random:seed=3,len=30");
    for (int layer : {1, 2}) {
      const CurveData st = s->curve(layer, EssOptions().algorithm(Algorithm::Structured));
      const CurveData de = s->curve(layer, EssOptions().algorithm(Algorithm::Dense));
      QCOMPARE(int(st.tolerance.size()), s->info().layers[layer].heads);
      for (size_t h = 0; h < st.tolerance.size(); ++h)
        for (size_t i = 0; i < st.splits.size(); ++i) {
          QCOMPARE(st.tolerance[h][i], de.tolerance[h][i]);
          QVERIFY(std::abs(st.entropy[h][i] - de.entropy[h][i]) <= 1e-8 * std::max(1.0, de.entropy[h][i]));
          QCOMPARE(st.tss[h][i], de.tss[h][i]);
        }
    }
    const std::string e = errorOf<UsageError>([&] { s->curve(0, EssOptions().algorithm(Algorithm::Structured)); });
    QVERIFY2(e.find("softmax_attention") != std::string::npos && e.find("no structured form") != std::string::npos,
             e.c_str());
  }

  void generatorShapesAreChecked() {
    NamedTensors g;
    g.add("C", at::ones({1, 8, 2}, at::kDouble));
    g.add("B", at::ones({1, 8, 3}, at::kDouble));
    g.add("log_a", at::zeros({1, 8, 2}, at::kDouble));
    QTemporaryDir dir;
    const std::string path = dir.filePath("bad_gen.safetensors").toStdString();
    writeSafetensors(path, g);
    const std::string e = errorOf<InputError>([&] { Session::open(path); });
    QVERIFY2(e.find("bad_gen.safetensors") != std::string::npos && e.find("[1, 8, 3]") != std::string::npos, e.c_str());
  }

  void badOperators() {
    std::string e = errorOf<InputError>([] { Session::open(data("bad/nan_operator.safetensors")); });
    QVERIFY2(e.find("nan_operator.safetensors") != std::string::npos && e.find("NaN") != std::string::npos, e.c_str());
    e = errorOf<InputError>([] { Session::open(data("bad/operator_not_square.safetensors")); });
    QVERIFY2(e.find("[4, 3]") != std::string::npos, e.c_str());
    e = errorOf<InputError>([] { Session::open(data("pytorch/state_dict_ordered.pt")); });
    QVERIFY2(e.find("no tensor 'operator'") != std::string::npos, e.c_str());
    e = errorOf<InputError>([] { Session::open(data("does_not_exist")); });
    QVERIFY2(e.find("does_not_exist") != std::string::npos, e.c_str());
  }

  void memoryBudgetSaysWhatFits() {
    // 2 heads x 64 x 64 doubles = 64 KiB; a 16 KiB budget must refuse and say what fits.
    const std::string e =
        errorOf<InputError>([] { Session::open(data("softmax_attention_h2_L64.safetensors"), 16 * 1024); });
    QVERIFY2(e.find("softmax_attention_h2_L64.safetensors") != std::string::npos, e.c_str());
    QVERIFY2(e.find("at most L = 32 fits") != std::string::npos, e.c_str());
    QVERIFY(Session::open(data("softmax_attention_h2_L64.safetensors"), 64 * 1024));
  }

  void inputSpecs() {
    QCOMPARE(tokensFromSpec("tokens:1, 2,3", 10, 0), (std::vector<long>{1, 2, 3}));
    const auto r1 = tokensFromSpec("random:seed=4,len=30", 10, 0), r2 = tokensFromSpec("random:seed=4,len=30", 10, 0);
    QCOMPARE(r1, r2);
    QCOMPARE(int(r1.size()), 30);
    const auto m = tokensFromSpec("mqar:seed=2,len=32,pairs=4,vocab=16", 16, 64);
    MqarSpec spec;
    spec.seed = 2;
    spec.length = 32;
    spec.pairs = 4;
    spec.vocab = 16;
    QCOMPARE(m, makeMqar(spec).tokens);
    QVERIFY_THROWS_EXCEPTION(UsageError, tokensFromSpec("bogus:1", 10, 0));
    QVERIFY_THROWS_EXCEPTION(UsageError, tokensFromSpec("mqar:seed=x", 10, 0));
    QVERIFY_THROWS_EXCEPTION(UsageError, tokensFromSpec("mqar:colour=3", 10, 0));
    QVERIFY_THROWS_EXCEPTION(UsageError, tokensFromSpec("tokens:1", 10, 0));
    QVERIFY_THROWS_EXCEPTION(InputError, tokensFromSpec("tokens:1,12", 10, 0));
    QVERIFY_THROWS_EXCEPTION(InputError, tokensFromSpec("random:seed=1,len=100", 10, 64));
    QVERIFY_THROWS_EXCEPTION(InputError, tokensFromSpec("text:hello", 64, 0));
  }

  void modelCheckpoint() {
    const ModelConfig cfg = testutil::tinyConfig({"softmax_attention", "linear_attention", "gla"});
    EssLm model(cfg, 3);
    QTemporaryDir dir;
    saveEssLm(model, dir.path().toStdString());
    auto s = Session::open(dir.path().toStdString());
    QCOMPARE(s->info().architecture, std::string("ess-lm"));
    QVERIFY(s->info().needsInput);
    QCOMPARE(int(s->info().layers.size()), 3);
    QCOMPARE(s->info().layers[2].mixer, std::string("gla"));
    s->setInput("tokens:1,2,3,4,5,6,7,8,9,10");
    QCOMPARE(s->input(), std::string("tokens:1,2,3,4,5,6,7,8,9,10"));
    for (int layer = 0; layer < 3; ++layer) {
      const OperatorData op = s->operatorOf(layer);
      QCOMPARE(op.length, 10);
      QCOMPARE(op.heads, 2);
      const at::Tensor want = model.layerOperator(layer, at::arange(1, 11, at::kLong));
      for (int h = 0; h < 2; ++h)
        for (int r = 0; r < 10; ++r)
          for (int c = 0; c < 10; ++c) QCOMPARE(op.at(h, r, c), want[h][r][c].item<double>());
      const CurveData curve = s->curve(layer, EssOptions());
      for (int h = 0; h < 2; ++h)
        for (size_t i = 0; i < curve.splits.size(); ++i) {
          QCOMPARE(curve.tss[h][i], model.theoreticalStateSizeSiso(layer, curve.splits[i]));
          QVERIFY(curve.tolerance[h][i] <= curve.tss[h][i]);
        }
    }
    QVERIFY_THROWS_EXCEPTION(InputError, s->setInput("tokens:1,99"));
    QCOMPARE(s->input(), std::string("tokens:1,2,3,4,5,6,7,8,9,10"));  // a refused input loses nothing
    // ess-lm defines no SSM-only operators (ess/operator_scope.h): --operator ssm is refused.
    QVERIFY(s->info().layers[2].ssmRemoves.empty());
    s->setOperatorScope(OperatorScope::Block);
    const std::string e = errorOf<UsageError>([&] { s->setOperatorScope(OperatorScope::Ssm); });
    QVERIFY2(contains(e, "--operator ssm: " + dir.path().toStdString() + " is an ess-lm checkpoint"), e.c_str());
    QCOMPARE(s->operatorScope(), OperatorScope::Block);
  }
};

QTEST_APPLESS_MAIN(TestSession)
#include "test_session.moc"
