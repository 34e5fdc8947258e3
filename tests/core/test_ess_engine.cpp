// Tests of the dense ESS engine against the reference vectors and explicit cases
// (docs/definitions.md section 1).
// LibTorch before Qt: Qt's `slots` macro breaks ATen headers included after it.
#include <ATen/ATen.h>

#include <QtTest>

#include <filesystem>

#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/safetensors.h"
#include "ess/session.h"
#include "ess/tensor_engines.h"
#include "test_support.h"

using namespace ess;

namespace {
// T with H_2 = [[3, 0], [0, 1]] for L = 4: singular values (3, 1) at split 2.
at::Tensor knownOperator() {
  at::Tensor t = at::zeros({4, 4}, at::kDouble);
  t[0][0] = 1;
  t[1][1] = 1;
  t[2][2] = 1;
  t[3][3] = 1;
  t[2][0] = 3;
  t[3][1] = 1;
  return t;
}
}  // namespace

class TestEssEngine : public QObject {
  Q_OBJECT
 private slots:
  void referenceVectors_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("dtype");
    for (const auto& f : referenceFiles()) {
      const QString name = QString::fromStdString(std::filesystem::path(f).stem().string());
      QTest::newRow(qPrintable(name + " float64")) << QString::fromStdString(f) << int(DType::Float64);
      QTest::newRow(qPrintable(name + " float32")) << QString::fromStdString(f) << int(DType::Float32);
    }
  }
  void referenceVectors() {
    QFETCH(QString, file);
    QFETCH(int, dtype);
    NamedTensors ref = readSafetensors(file.toStdString());
    QVERIFY(ref.find("operator"));
    QCOMPARE(ref.metadata.at("tolerance"), std::string("0.001"));
    QCOMPARE(ref.metadata.at("normalization"), std::string("max"));
    const at::Tensor op = *ref.find("operator");
    const at::Tensor wantTol = ref.find("expected_tolerance_ess")->to(at::kDouble);
    const at::Tensor wantEnt = ref.find("expected_entropy_ess")->to(at::kDouble);
    const EssCurve c = computeEss(op, EssOptions().dtype(static_cast<DType>(dtype)));
    const int H = op.size(0), L = op.size(1);
    QCOMPARE(int(c.splits.size()), L - 1);
    QCOMPARE(int(c.tolerance.size()), H);
    const double entTol = dtype == int(DType::Float64) ? 1e-6 : 1e-5;
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < L - 1; ++i) {
        QCOMPARE(c.splits[i], i + 1);
        const double wt = wantTol[h][i].item<double>(), we = wantEnt[h][i].item<double>();
        if (c.tolerance[h][i] != wt)
          QFAIL(qPrintable(QString("head %1 split %2: tolerance-ESS %3, expected %4")
                               .arg(h)
                               .arg(i + 1)
                               .arg(c.tolerance[h][i])
                               .arg(wt)));
        if (we == 0.0) {
          QCOMPARE(c.entropy[h][i], 0.0);
        } else if (relErr(c.entropy[h][i], we) > entTol) {
          QFAIL(qPrintable(QString("head %1 split %2: entropy-ESS %3, expected %4")
                               .arg(h)
                               .arg(i + 1)
                               .arg(c.entropy[h][i], 0, 'g', 17)
                               .arg(we, 0, 'g', 17)));
        }
      }
  }

  void normalizations() {
    const std::vector<double> sigma = splitSingularValues(knownOperator(), 2, DType::Float64);
    QCOMPARE(int(sigma.size()), 2);
    QVERIFY(std::abs(sigma[0] - 3.0) < 1e-12);
    QVERIFY(std::abs(sigma[1] - 1.0) < 1e-12);
    QCOMPARE(toleranceEss(sigma, 0.5, Normalization::Max), 1.0);   // 1 > 1.5? no
    QCOMPARE(toleranceEss(sigma, 0.3, Normalization::Max), 2.0);   // 1 > 0.9
    QCOMPARE(toleranceEss(sigma, 0.3, Normalization::Sum), 1.0);   // ref 4: 1 > 1.2? no
    QCOMPARE(toleranceEss(sigma, 0.2, Normalization::Sum), 2.0);   // 1 > 0.8
    QCOMPARE(toleranceEss(sigma, 2.0, Normalization::None), 1.0);  // ref 1: 3 > 2, 1 > 2? no
    QCOMPARE(toleranceEss(sigma, 0.5, Normalization::None), 2.0);
    const double p0 = 0.75, p1 = 0.25;
    QVERIFY(relErr(entropyEss(sigma), std::exp(-(p0 * std::log(p0) + p1 * std::log(p1)))) < 1e-14);
    // The engine applies the same rules at every split.
    const EssCurve c =
        computeEss(knownOperator(), EssOptions().tolerance(0.2).normalization(Normalization::Sum).splits({2, 2, 1}));
    QCOMPARE(c.splits, std::vector<int>{2});
    QCOMPARE(c.tolerance[0][0], 2.0);
  }

  void zeroBlocksGiveZero() {
    QCOMPARE(toleranceEss({0.0, 0.0}, 1e-3, Normalization::Max), 0.0);
    QCOMPARE(toleranceEss({}, 1e-3, Normalization::None), 0.0);
    QCOMPARE(entropyEss({0.0, 0.0, 0.0}), 0.0);
    const EssCurve c = computeEss(at::eye(8, at::kDouble), EssOptions());
    for (double v : c.tolerance[0]) QCOMPARE(v, 0.0);
    for (double v : c.entropy[0]) QCOMPARE(v, 0.0);
  }

  void lowRankOperatorHasItsRank() {
    // T = tril(U V^T) restricted below the diagonal has rank <= r in every H_s; with generic
    // factors the rank is exactly min(r, s, L - s).
    at::manual_seed(3);
    const int L = 40, r = 5;
    at::Tensor u = at::randn({L, r}, at::kDouble), v = at::randn({L, r}, at::kDouble);
    at::Tensor t = at::matmul(u, v.t()).tril();
    const EssCurve c = computeEss(t, EssOptions().tolerance(1e-9).normalization(Normalization::Max));
    for (size_t i = 0; i < c.splits.size(); ++i) {
      const int s = c.splits[i];
      QCOMPARE(c.tolerance[0][i], double(std::min({r, s, L - s})));
    }
  }

  void splitRanges() {
    QCOMPARE(resolveSplits(parseSplitRange("2:10:4"), 16), (std::vector<int>{2, 6, 10}));
    QCOMPARE(resolveSplits(parseSplitRange("14:"), 16), (std::vector<int>{14, 15}));
    QCOMPARE(resolveSplits(parseSplitRange(":"), 4), (std::vector<int>{1, 2, 3}));
    QCOMPARE(resolveSplits(parseSplitRange("5"), 16), (std::vector<int>{5}));
    QVERIFY_THROWS_EXCEPTION(UsageError, resolveSplits(parseSplitRange("0:5"), 16));
    QVERIFY_THROWS_EXCEPTION(UsageError, resolveSplits(parseSplitRange("1:16"), 16));
    QVERIFY_THROWS_EXCEPTION(UsageError, parseSplitRange("1:2:0"));
    QVERIFY_THROWS_EXCEPTION(UsageError, parseSplitRange("a:b"));
    QVERIFY_THROWS_EXCEPTION(UsageError, parseNormalization("mean"));
    QVERIFY_THROWS_EXCEPTION(UsageError, parseDType("float16"));
    // A strided curve holds exactly the values of the full curve at its splits.
    at::manual_seed(1);
    at::Tensor t = at::randn({2, 30, 30}, at::kDouble).tril();
    const EssCurve full = computeEss(t, EssOptions());
    const EssCurve strided = computeEss(t, EssOptions().splits(parseSplitRange("1:29:7")));
    for (int h = 0; h < 2; ++h)
      for (size_t i = 0; i < strided.splits.size(); ++i) {
        QCOMPARE(strided.tolerance[h][i], full.tolerance[h][strided.splits[i] - 1]);
        QCOMPARE(strided.entropy[h][i], full.entropy[h][strided.splits[i] - 1]);
      }
  }

  void threadsGiveIdenticalResults() {
    at::manual_seed(2);
    at::Tensor t = at::randn({3, 48, 48}, at::kDouble).tril();
    const EssCurve one = computeEss(t, EssOptions().threads(1));
    const EssCurve two = computeEss(t, EssOptions().threads(2));
    QCOMPARE(one.tolerance, two.tolerance);
    QCOMPARE(one.entropy, two.entropy);
  }

  void progressAndCancel() {
    at::Tensor t = at::randn({2, 20, 20}, at::kDouble).tril();
    std::atomic<long> last{0}, total{0};
    computeEss(t, EssOptions(), [&](long d, long n) {
      last = std::max<long>(last, d);
      total = n;
    });
    QCOMPARE(long(total), 38L);
    QCOMPARE(long(last), 38L);
    std::atomic<bool> cancel{true};
    QVERIFY_THROWS_EXCEPTION(Cancelled, computeEss(t, EssOptions(), {}, &cancel));
  }

  void nonFiniteIsRefused() {
    at::Tensor t = at::eye(6, at::kDouble);
    t[3][1] = std::nan("");
    QVERIFY_THROWS_EXCEPTION(InputError, computeEss(t, EssOptions()));
  }

  void cudaWithoutCudaIsAClearError() {
    if (cudaAvailable()) QSKIP("this LibTorch has CUDA; the refusal path is not reachable");
    try {
      computeEss(at::eye(4, at::kDouble), EssOptions().device(Device::Cuda));
      QFAIL("expected UsageError");
    } catch (const UsageError& e) {
      QVERIFY(ess::cli::cliMessage(e).find("--device cuda") != std::string::npos);
      QCOMPARE(e.field(), std::string("device"));
    }
  }
};

QTEST_APPLESS_MAIN(TestEssEngine)
#include "test_ess_engine.moc"
