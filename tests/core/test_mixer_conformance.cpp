// The conformance suite: every registered mixer kind (ess/mixer_registry.h) passes the same
// checks, so a new kind is tested by registering it. Per kind: the recurrent form == the
// parallel form == T(u) u (float64, random weights), T lower triangular, unbatched == batched;
// the generator form == the materialized T for kinds that declare generators and an empty one
// for the others; tolerance-ESS <= TSS / d_v (the SISO theoretical state size) at every split;
// options below their minimum are refused; gradients reach every parameter; an ess-lm of the
// kind survives the checkpoint round trip. A test-only kind (`test_ema`, registered in
// initTestCase) follows the recipe of docs/architecture.md and runs through all of it.
// What is special to one kind stays in test_mixers.cpp, test_mixers_more.cpp, test_mixers_ssm.cpp.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/mixer.h"
#include "ess/model.h"
#include "ess/structured_channels.h"
#include "ess/tensor_engines.h"
#include "mixer_test_util.h"
#include "model_test_util.h"
#include "test_support.h"
// Qt after LibTorch: Qt's `slots` macro clashes with torch/jit headers.
#include <QtTest>

using namespace ess;

namespace {

using mixertest::input;
using mixertest::make;
using mixertest::makeWith;
using mixertest::maxAbs;

const MixerKind& kindOf(const std::string& name) { return *mixerRegistry().findKind(name); }

// The test-only kind: an exponential moving average per channel, y_t = 0.5 y_{t-1} + v_t, so
// T[ch, r, c] = 0.5^(r-c) for c <= r (one SISO operator per channel like short_conv). TSS 1.
class TestEma : public Mixer {
 public:
  TestEma(int dModel, const at::Generator* gen) : Mixer("test_ema", dModel, dModel, false, gen, false) {}

  at::Tensor materialize(const at::Tensor& x) override {
    const int64_t L = x.size(-2);
    auto lag = at::arange(L, x.options()).unsqueeze(1) - at::arange(L, x.options()).unsqueeze(0);  // r - c
    auto T = at::pow(0.5, lag).tril();
    auto sizes = x.sizes().vec();
    sizes.pop_back();
    sizes.pop_back();
    sizes.insert(sizes.end(), {heads(), L, L});
    return T.expand(sizes).contiguous();
  }
  at::Tensor headOutputs(const at::Tensor& x) override { return at::matmul(materialize(x), values(x)); }
  at::Tensor recurrentHeadOutputs(const at::Tensor& x) override {
    auto v = values(x);  // [B, D, L, 1]
    std::vector<at::Tensor> outs;
    at::Tensor state = at::zeros_like(v.narrow(-2, 0, 1));
    for (int64_t t = 0; t < v.size(-2); ++t) {
      state = 0.5 * state + v.narrow(-2, t, 1);
      outs.push_back(state);
    }
    return at::cat(outs, -2);
  }
  double theoreticalStateSize(int) const override { return 1.0; }
  std::string tssFormula() const override { return "1"; }
};

// The one registration line of the recipe (here at run time; built-in kinds are listed in
// core/src/mixer/registry.cpp).
void registerTestEma(MixerRegistry& r) {
  MixerKind kind;
  kind.name = "test_ema";
  kind.make = [](int d, int, const at::Generator* gen, const MixerOptions&) -> std::shared_ptr<Mixer> {
    return std::make_shared<TestEma>(d, gen);
  };
  r.addKind(kind);
}

}  // namespace

class TestMixerConformance : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() { registerTestEma(mixerRegistry()); }

  // The registry lists each kind once, in registration order, and makeMixer builds that kind.
  void registry() {
    const auto& names = knownMixerKinds();
    QCOMPARE(names.size(), mixerRegistry().kinds().size());
    QVERIFY(names.back() == "test_ema");
    for (const auto& k : mixerRegistry().kinds()) {
      QCOMPARE(std::count(names.begin(), names.end(), k.name), std::ptrdiff_t(1));
      QCOMPARE(QString::fromStdString(make(k.name)->kind()), QString::fromStdString(k.name));
    }
    // Every option is read by some kind, names a flag and a field, and lists its readers.
    for (const auto& opt : mixerRegistry().options()) {
      QVERIFY2(!opt.kinds.empty(), opt.key.c_str());
      // The train-mqar flag is the key's (app/usage/cli_flag.h): a lower-case snake_case key.
      QVERIFY2(!opt.key.empty() && opt.key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos &&
                   !opt.help.empty(),
               opt.key.c_str());
      for (const auto& k : opt.kinds) {
        const auto& uses = kindOf(k).options;
        QVERIFY(std::find(uses.begin(), uses.end(), opt.key) != uses.end());
      }
    }
    // Registering twice, or reading an undeclared option, is a programming error.
    QVERIFY_THROWS_EXCEPTION(std::logic_error, registerTestEma(mixerRegistry()));
    MixerKind bad = kindOf("test_ema");
    bad.name = "test_bad";
    bad.options = {"no_such_option"};
    QVERIFY_THROWS_EXCEPTION(std::logic_error, mixerRegistry().addKind(bad));
    QVERIFY(!mixerRegistry().findKind("test_bad"));
    // An unknown kind lists every registered one.
    const std::string msg = inputErrorOf([] { makeMixer("mamba7", 32, 2); });
    QVERIFY2(contains(msg, "unknown mixer kind 'mamba7'"), msg.c_str());
    for (const auto& k : names) QVERIFY2(contains(msg, k), msg.c_str());
  }

  // Each kind refuses each option it reads below that option's minimum, naming kind and key.
  void optionBounds() {
    for (const auto& k : mixerRegistry().kinds())
      for (const auto& key : k.options) {
        const MixerOption& opt = *mixerRegistry().findOption(key);
        MixerOptions o;
        o.*opt.field = opt.minimum - 1;
        const std::string msg = inputErrorOf([&] { makeWith(k.name, o); });
        QVERIFY2(contains(msg, k.name + ": " + key + " must be at least " + std::to_string(opt.minimum)), msg.c_str());
        o.*opt.field = opt.minimum;
        makeWith(k.name, o);  // the minimum itself is accepted
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
    QCOMPARE(m->keyShift(), shift && kindOf(kind.toStdString()).keyShift);
    const int64_t H = m->heads(), dv = m->valueDim();
    at::NoGradGuard ng;
    auto x = input(3, 41, 32, scale);
    auto par = m->headOutputs(x);
    auto rec = m->recurrentHeadOutputs(x);
    auto T = m->materialize(x);
    auto V = m->values(x);
    QCOMPARE(par.sizes().vec(), (std::vector<int64_t>{3, H, 41, dv}));
    QCOMPARE(rec.sizes().vec(), (std::vector<int64_t>{3, H, 41, dv}));
    QCOMPARE(V.sizes().vec(), (std::vector<int64_t>{3, H, 41, dv}));
    QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{3, H, 41, 41}));
    QCOMPARE(T.scalar_type(), at::kDouble);
    const double ref = std::max(1.0, maxAbs(rec));
    QVERIFY2(maxAbs(par - rec) <= 1e-11 * ref, qPrintable(QString::number(maxAbs(par - rec))));
    auto tu = at::matmul(T, V);
    QVERIFY2(maxAbs(tu - rec) <= 1e-11 * ref, qPrintable(QString::number(maxAbs(tu - rec))));
    // Lower triangular, and not zero.
    QCOMPARE(maxAbs(T.triu(1)), 0.0);
    QVERIFY(maxAbs(T) > 0.0);
    // The unbatched operator [H, L, L] is the batched one of that sequence.
    auto T1 = m->materialize(x[1]);
    QCOMPARE(T1.sizes().vec(), (std::vector<int64_t>{H, 41, 41}));
    QVERIFY(maxAbs(T1 - T[1]) <= 1e-12 * std::max(1.0, maxAbs(T1)));
    // The full forward is the output projection of the concatenated heads.
    auto y = m->forward(x);
    QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{3, 41, 32}));
    QVERIFY(at::isfinite(y).all().item<bool>());
  }

  void generators_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<bool>("shift");
    for (const auto& k : knownMixerKinds()) {
      QTest::newRow(k.c_str()) << QString::fromStdString(k) << false;
      QTest::newRow((k + " key shift").c_str()) << QString::fromStdString(k) << true;
    }
  }

  // The structured (generator) form equals the materialized operator, float64, random weights,
  // for the kinds that declare one; the others say so with an empty Generators.
  void generators() {
    QFETCH(QString, kind);
    QFETCH(bool, shift);
    const std::string k = kind.toStdString();
    auto m = make(k, 32, 2, 3, shift);
    at::NoGradGuard ng;
    auto x = input(1, 37, 32, 1.5, 11)[0];  // [L, D]
    const Generators g = m->generators(x);
    const bool structured = kindOf(k).generators;
    QCOMPARE(g.heads() > 0, structured);
    if (!structured) return;
    QCOMPARE(g.heads(), m->heads());
    QCOMPARE(g.length(), 37);
    QCOMPARE(g.C.scalar_type(), at::kDouble);
    QCOMPARE(g.B.sizes(), g.C.sizes());
    QVERIFY(g.logA.max().item<double>() <= 0.0);  // stable: decays in (0, 1]
    auto T = m->materialize(x);
    auto Tg = materializeGenerators(g, k);
    QCOMPARE(Tg.sizes(), T.sizes());
    const double err = maxAbs(Tg - T), ref = maxAbs(T);
    QVERIFY2(ref > 0 && err <= 1e-11 * ref, qPrintable(QString("%1 vs %2").arg(err).arg(ref)));
    // The structured engine's channels batched to SIMD groups (the default) against one at a time:
    // tolerance-ESS identical, entropy-ESS within 1e-10 relative, at every split of every head.
    for (const auto& o : {EssOptions(), EssOptions().tolerance(1e-8).normalization(Normalization::None)}) {
      const EssOptions structured = EssOptions(o).algorithm(Algorithm::Structured);
      const EssCurve batched = computeStructuredEss(g, structured);
      const EssCurve single = computeStructuredEssPerChannel(toArrays(g), structured);
      QCOMPARE(batched.splits, single.splits);
      for (int h = 0; h < g.heads(); ++h)
        for (size_t i = 0; i < single.splits.size(); ++i) {
          QCOMPARE(batched.tolerance[h][i], single.tolerance[h][i]);
          const double a = batched.entropy[h][i], b = single.entropy[h][i];
          QVERIFY2(std::abs(a - b) <= 1e-10 * std::abs(b), qPrintable(QString("head %1 split %2: %3 vs %4")
                                                                          .arg(h)
                                                                          .arg(single.splits[i])
                                                                          .arg(a, 0, 'g', 17)
                                                                          .arg(b, 0, 'g', 17)));
        }
    }
  }

  // Tolerance-ESS (tol 1e-10) <= TSS / d_v at every split of every head, with small sizes
  // (d_k = 4, state 3, window 4, kernel 3, filter 5) so that the bounds bind below L / 2.
  void tssBound_data() {
    QTest::addColumn<QString>("kind");
    for (const auto& k : knownMixerKinds()) QTest::newRow(k.c_str()) << QString::fromStdString(k);
  }
  void tssBound() {
    QFETCH(QString, kind);
    MixerOptions o;
    o.stateSize = 3;
    o.window = 4;
    o.convKernel = 3;
    o.filterLength = 5;
    o.expand = 1;
    auto m = makeWith(kind.toStdString(), o, 16, 4, 5);
    at::NoGradGuard ng;
    auto T = m->materialize(input(1, 24, 16, 1.0, 13)[0]);
    const EssCurve curve = computeEss(T, EssOptions().tolerance(1e-10));
    QCOMPARE(int64_t(curve.tolerance.size()), int64_t(m->heads()));
    for (size_t i = 0; i < curve.splits.size(); ++i) {
      const int s = curve.splits[i];
      const double bound = m->theoreticalStateSize(s) / m->valueDim();
      for (int h = 0; h < m->heads(); ++h)
        QVERIFY2(curve.tolerance[h][i] <= bound + 1e-9,
                 qPrintable(
                     QString("head %1 split %2: ESS %3 > TSS %4").arg(h).arg(s).arg(curve.tolerance[h][i]).arg(bound)));
    }
  }

  void gradientsFlow() {
    for (const auto& k : knownMixerKinds()) {
      auto m = make(k);
      auto x = input(2, 20, 32).to(at::kFloat);
      m->forward(x).pow(2).sum().backward();
      for (auto& p : m->named_parameters()) {
        QVERIFY2(p.value().grad().defined(), (k + " " + p.key()).c_str());
        QVERIFY2(at::isfinite(p.value().grad()).all().item<bool>(), (k + " " + p.key()).c_str());
      }
    }
  }

  // An ess-lm of each kind: config.json names it, the checkpoint round trip keeps logits and
  // operators, and the layer's generators exist exactly for the kinds that declare them.
  void models() {
    for (const auto& k : knownMixerKinds()) {
      ModelConfig cfg = testutil::tinyConfig({k, "softmax_attention"});
      cfg.keyShift = kindOf(k).keyShift;
      QVERIFY(ModelConfig::fromJson(cfg.toJson(), "config.json").mixers == cfg.mixers);
      EssLm m(cfg, 2);
      std::unique_ptr<EssLm> back;
      const auto t = testutil::mqarTokens(20, 16);
      testutil::checkSaveLoadRoundTrip(m, t, &back);
      if (QTest::currentTestFailed()) return;
      QCOMPARE(m.layerGenerators(0, t).heads() > 0, kindOf(k).generators);
      QCOMPARE(int64_t(m.layerOperator(0, t).size(0)), int64_t(m.heads(0)));
    }
  }
};

QTEST_APPLESS_MAIN(TestMixerConformance)
#include "test_mixer_conformance.moc"
