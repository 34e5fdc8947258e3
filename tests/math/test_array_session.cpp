// Sessions on arrays in memory (ess/array_session.h), what the Python module is built on: the
// same curve as the file's session, no copy of a float64 operator, the generator form of a
// layer, the file's checks, and structured curves that do not change from run to run.
#include <QtTest/QtTest>

#include <random>

#include "../core/test_support.h"
#include "ess/array_session.h"
#include "ess/error.h"
#include "ess/safetensors_io.h"
#include "ess/session.h"

using namespace ess;

namespace {

NamedArrays randomGenerators(int H, int L, int N, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Array C(ArrayDType::F64, {H, L, N}), B(ArrayDType::F64, {H, L, N}), A(ArrayDType::F64, {H, L, N});
  for (int64_t i = 0; i < C.numel(); ++i) {
    C.doubles()[i] = normal(rng);
    B.doubles()[i] = normal(rng);
    // Decays from slow to fast across the states: spectra where the Gram path is refused at
    // some splits and taken at others.
    A.doubles()[i] = -(0.01 + 0.6 * double(i % N) / N) * std::abs(normal(rng));
  }
  NamedArrays t;
  t.add("C", C);
  t.add("B", B);
  t.add("log_a", A);
  return t;
}

}  // namespace

class TestArraySession : public QObject {
  Q_OBJECT
 private slots:
  void sameCurveAsTheFile() {
    const std::string path = std::string(ESS_TEST_DATA_DIR) + "/softmax_attention_h2_L64.safetensors";
    NamedArrays t = readSafetensorArrays(path);
    NamedArrays op;
    op.add("operator", *t.find("operator"));
    auto mem = openArraySession(op, "T");
    auto file = Session::open(path);
    const EssCurve a = mem->curve(0, EssOptions()), b = file->curve(0, EssOptions());
    QCOMPARE(a.splits, b.splits);
    QCOMPARE(a.tolerance, b.tolerance);
    QCOMPARE(a.entropy, b.entropy);
    QCOMPARE(mem->info().architecture, std::string("operator"));
    QCOMPARE(mem->info().length, 64);
  }

  void float64OperatorIsNotCopied() {
    Array T(ArrayDType::F64, {8, 8});
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c <= r; ++c) T.doubles()[r * 8 + c] = 1.0 + r - c;
    NamedArrays t;
    t.add("operator", T);
    auto s = openArraySession(t, "T");
    // The session holds the caller's storage (one more owner), and its operator is T's values.
    QVERIFY(T.storage().use_count() > 2);
    QCOMPARE(s->operatorOf(0).values, std::vector<double>(T.doubles(), T.doubles() + 64));
  }

  void generatorsOfALayer() {
    NamedArrays g = randomGenerators(2, 40, 3, 1);
    auto s = openArraySession(g, "generators");
    const GeneratorArrays got = layerGenerators(*s, 0);
    QCOMPARE(got.heads(), 2);
    QCOMPARE(got.stateSize(), 3);
    QCOMPARE(got.C.data(), g.find("C")->data());  // the same arrays, no copy
    QCOMPARE(*s->theoreticalStateSize(0, 0, 5, 40), 3.0);
    QVERIFY_THROWS_EXCEPTION(UsageError, layerGenerators(*s, 1));
    NamedArrays op;
    op.add("operator", Array(ArrayDType::F64, {4, 4}));
    auto dense = openArraySession(op, "T");
    QCOMPARE(layerGenerators(*dense, 0).heads(), 0);
  }

  void theFileChecksApply() {
    NamedArrays op;
    op.add("operator", Array(ArrayDType::F64, {3, 4}));
    QVERIFY_THROWS_EXCEPTION(InputError, openArraySession(op, "T"));
    try {
      NamedArrays nan;
      Array a(ArrayDType::F64, {4, 4});
      a.doubles()[9] = std::nan("");
      nan.add("operator", a);
      openArraySession(nan, "T");
      QFAIL("no error");
    } catch (const InputError& e) {
      QCOMPARE(std::string(e.what()), std::string("T: operator: holds NaN at [0, 2, 1] (head, row, column)"));
    }
  }

  void structuredCurveIsTheSameOnEveryRun() {
    // Whether a split uses the Gram path once depended on what the worker thread had run
    // before, so the last bits changed from run to run on several threads.
    auto s = openArraySession(randomGenerators(2, 400, 6, 2), "generators");
    const EssOptions o = EssOptions().algorithm(Algorithm::Structured).threads(2);
    const EssCurve first = s->curve(0, o);
    for (int run = 0; run < 20; ++run) {
      const EssCurve again = s->curve(0, o);
      QCOMPARE(again.tolerance, first.tolerance);
      QCOMPARE(again.entropy, first.entropy);
    }
  }
};

QTEST_GUILESS_MAIN(TestArraySession)
#include "test_array_session.moc"
