// Mixers (ess/mixer.h): the parallel form, the recurrent form and the materialized operator agree
// (y == T(u) u per head), T is lower triangular, softmax rows sum to 1, TSS values.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "ess/error.h"
#include "ess/mixer.h"
// Qt after LibTorch: Qt's `slots` macro clashes with torch/jit headers.
#include <QtTest>

using namespace ess;

namespace {

double maxAbs(const at::Tensor& t) { return t.abs().max().item<double>(); }

std::shared_ptr<Mixer> make(const std::string& kind, int d = 32, int h = 2, uint64_t seed = 1, bool shift = false) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return makeMixer(kind, d, h, &gen, shift);
}

at::Tensor input(int64_t b, int64_t l, int64_t d, double scale = 1.0, uint64_t seed = 7) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::randn({b, l, d}, gen, at::TensorOptions().dtype(at::kDouble)) * scale;
}

}  // namespace

class TestMixers : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void kinds() {
    const auto& k = knownMixerKinds();
    QVERIFY(std::find(k.begin(), k.end(), "softmax_attention") != k.end());
    QVERIFY(std::find(k.begin(), k.end(), "linear_attention") != k.end());
    QVERIFY(std::find(k.begin(), k.end(), "gla") != k.end());
  }

  void unknownKindListsKinds() {
    try {
      makeMixer("mamba7", 32, 2);
      QFAIL("expected InputError");
    } catch (const InputError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find("mamba7") != std::string::npos, msg.c_str());
      for (const auto& k : knownMixerKinds()) QVERIFY2(msg.find(k) != std::string::npos, msg.c_str());
    }
  }

  void forms_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<double>("scale");
    QTest::addColumn<bool>("shift");
    for (const auto& k : knownMixerKinds()) {
      QTest::newRow((k + " small").c_str()) << QString::fromStdString(k) << 1.0 << false;
      QTest::newRow((k + " large").c_str()) << QString::fromStdString(k) << 4.0 << false;
      QTest::newRow((k + " key shift").c_str()) << QString::fromStdString(k) << 2.0 << true;
    }
  }

  // Recurrent form == parallel form == T(u) @ V, in float64, on random weights.
  void forms() {
    QFETCH(QString, kind);
    QFETCH(double, scale);
    QFETCH(bool, shift);
    auto m = make(kind.toStdString(), 32, 2, 1, shift);
    QCOMPARE(m->keyShift(), shift);
    at::NoGradGuard ng;
    auto x = input(3, 41, 32, scale);
    auto par = m->headOutputs(x);
    auto rec = m->recurrentHeadOutputs(x);
    auto T = m->materialize(x);
    auto V = m->values(x);
    QCOMPARE(par.sizes().vec(), (std::vector<int64_t>{3, 2, 41, 16}));
    QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{3, 2, 41, 41}));
    QCOMPARE(T.scalar_type(), at::kDouble);
    const double ref = std::max(1.0, maxAbs(rec));
    QVERIFY2(maxAbs(par - rec) <= 1e-11 * ref, qPrintable(QString::number(maxAbs(par - rec))));
    auto tu = at::matmul(T, V);
    QVERIFY2(maxAbs(tu - rec) <= 1e-11 * ref, qPrintable(QString::number(maxAbs(tu - rec))));
    // Lower triangular.
    QCOMPARE(maxAbs(T.triu(1)), 0.0);
    // The unbatched operator [H, L, L] is the batched one of that sequence.
    auto T1 = m->materialize(x[1]);
    QCOMPARE(T1.sizes().vec(), (std::vector<int64_t>{2, 41, 41}));
    QVERIFY(maxAbs(T1 - T[1]) <= 1e-12 * std::max(1.0, maxAbs(T1)));
    // The full forward is the output projection of the concatenated heads.
    auto y = m->forward(x);
    QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{3, 41, 32}));
    QVERIFY(at::isfinite(y).all().item<bool>());
  }

  void softmaxRowsSumToOne() {
    auto m = make("softmax_attention");
    at::NoGradGuard ng;
    auto T = m->materialize(input(1, 50, 32, 3.0)[0]);
    QVERIFY(maxAbs(T.sum(-1) - 1.0) < 1e-12);
    QVERIFY(T.min().item<double>() >= 0.0);
    QCOMPARE(T[0][0][0].item<double>(), 1.0);  // the first output sees only the first input
  }

  void linearAttentionIsQK() {
    // With identity feature map and no denominator, T[r, c] for c <= r is the dot product
    // of a query and a key, so T restricted to c <= r has rank <= d_k.
    auto m = make("linear_attention", 16, 2);
    at::NoGradGuard ng;
    auto T = m->materialize(input(1, 30, 16)[0]);  // d_k = 8
    auto full = at::linalg_matrix_rank(T[0].narrow(0, 20, 10).narrow(1, 0, 20));
    QVERIFY(full.item<int64_t>() <= 8);
  }

  // GLA stays finite and exact for long sequences with strong decay (large inputs).
  void glaStableLong() {
    auto m = make("gla", 16, 2);
    at::NoGradGuard ng;
    auto x = input(1, 300, 16, 30.0);
    auto T = m->materialize(x);
    QVERIFY(at::isfinite(T).all().item<bool>());
    auto rec = m->recurrentHeadOutputs(x);
    auto tu = at::matmul(T, m->values(x));
    QVERIFY(maxAbs(tu - rec) <= 1e-10 * std::max(1.0, maxAbs(rec)));
    // float32 path is finite too
    auto T32 = m->materialize(x.to(at::kFloat));
    QVERIFY(at::isfinite(T32).all().item<bool>());
  }

  void theoreticalStateSize() {
    auto sm = make("softmax_attention", 32, 2);  // d_k = d_v = 16
    QCOMPARE(sm->keyDim(), 16);
    QCOMPARE(sm->valueDim(), 16);
    QCOMPARE(sm->theoreticalStateSize(5), 5.0 * 32);
    QCOMPARE(QString::fromStdString(sm->tssFormula()), QString("s*(d_k+d_v) = s*(16+16)"));
    for (const char* k : {"linear_attention", "gla"}) {
      auto m = make(k, 32, 4);  // d_k = d_v = 8
      QCOMPARE(m->heads(), 4);
      QCOMPARE(m->theoreticalStateSize(1), 64.0);
      QCOMPARE(m->theoreticalStateSize(100), 64.0);
      QCOMPARE(QString::fromStdString(m->tssFormula()), QString("d_k*d_v = 8*8"));
    }
  }

  // The key shift changes T (keys see the previous input) but not the values, and the first
  // output sees only the first input either way.
  void keyShiftChangesOperatorOnly() {
    at::NoGradGuard ng;
    auto plain = make("linear_attention", 16, 2, 3, false);
    auto shifted = make("linear_attention", 16, 2, 3, true);
    QCOMPARE(int(shifted->parameters().size()), int(plain->parameters().size()) + 1);
    auto x = input(1, 12, 16)[0];
    QVERIFY(at::equal(plain->values(x), shifted->values(x)));
    auto Tp = plain->materialize(x), Ts = shifted->materialize(x);
    QVERIFY(!at::allclose(Tp, Ts));
    // mu = 1 makes key c exactly the (unshifted) key of input c-1.
    for (auto& p : shifted->named_parameters())
      if (p.key() == "k_shift") p.value().fill_(1.0);
    auto Ts1 = shifted->materialize(x);
    // T_shift[r, c] = q_r . k(x_{c-1}) = T_plain[r, c-1] for 1 <= c <= r.
    auto a = Ts1.narrow(-1, 1, 11).narrow(-2, 1, 11).tril();
    auto b = Tp.narrow(-1, 0, 11).narrow(-2, 1, 11).tril();
    QVERIFY(maxAbs(a - b) < 1e-12 * std::max(1.0, maxAbs(b)));
    QCOMPARE(maxAbs(Ts1.select(-1, 0)), 0.0);  // key 0 sees x_{-1} = 0
  }

  void gradientsFlow() {
    for (const auto& k : knownMixerKinds()) {
      auto m = make(k);
      auto x = input(2, 20, 32).to(at::kFloat);
      m->forward(x).pow(2).sum().backward();
      for (auto& p : m->parameters()) {
        QVERIFY(p.grad().defined());
        QVERIFY(at::isfinite(p.grad()).all().item<bool>());
      }
    }
  }
};

QTEST_APPLESS_MAIN(TestMixers)
#include "test_mixers.moc"
