// Mixers (ess/mixer.h) of the attention family and the short convolution: head layouts, softmax
// rows sum to 1, TSS values, and the structural rank bounds of the banded kinds (sliding window,
// short convolution). The checks every kind passes are in test_mixer_conformance.cpp.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/mixer.h"
#include "ess/tensor_engines.h"
#include "mixer_test_util.h"
// Qt after LibTorch: Qt's `slots` macro clashes with torch/jit headers.
#include <QtTest>

using namespace ess;

namespace {

using mixertest::input;
using mixertest::make;
using mixertest::makeWith;
using mixertest::maxAbs;

// Tolerance-ESS (tol 1e-10, max normalization) of every head and split of T [H, L, L].
EssCurve tightEss(const at::Tensor& T) { return computeEss(T, EssOptions().tolerance(1e-10)); }

}  // namespace

class TestMixers : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void kinds() {
    const auto& k = knownMixerKinds();
    QVERIFY(std::find(k.begin(), k.end(), "softmax_attention") != k.end());
    QVERIFY(std::find(k.begin(), k.end(), "linear_attention") != k.end());
    QVERIFY(std::find(k.begin(), k.end(), "gla") != k.end());
    QVERIFY(std::find(k.begin(), k.end(), "sliding_window_attention") != k.end());
    QVERIFY(std::find(k.begin(), k.end(), "retnet") != k.end());
    QVERIFY(std::find(k.begin(), k.end(), "short_conv") != k.end());
    for (const auto& kind : k) QCOMPARE(QString::fromStdString(make(kind)->kind()), QString::fromStdString(kind));
  }

  void badOptions() {
    MixerOptions o;
    o.window = 0;
    QVERIFY_THROWS_EXCEPTION(InputError, makeWith("sliding_window_attention", o));
    o = MixerOptions();
    o.convKernel = 0;
    QVERIFY_THROWS_EXCEPTION(InputError, makeWith("short_conv", o));
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

  // The head layout of every built-in kind, and what the registry declares for it (the
  // recurrent / parallel / T(u) u and generator checks of every kind: test_mixer_conformance.cpp).
  void layouts() {
    for (const std::string k : {"softmax_attention", "linear_attention", "gla", "sliding_window_attention", "retnet",
                                "short_conv", "mamba2", "hyena", "lti_ssm", "deltanet", "mamba"}) {
      const QString kind = QString::fromStdString(k);
      for (const bool shift : {false, true}) {
        auto m = make(k, 32, 2, 1, shift);
        // short_conv has no keys, hence no key shift; it has one SISO head per channel.
        const bool mamba = kind == "mamba";  // E = 2 * d_model channels
        const bool conv =
            kind == "short_conv" || kind == "hyena" || kind == "lti_ssm" || mamba;  // one operator per channel
        QCOMPARE(m->keyShift(), shift && !conv);
        const int64_t H = mamba ? 64 : conv ? 32 : 2, dv = conv ? 1 : 16;
        QCOMPARE(int64_t(m->heads()), H);
        QCOMPARE(int64_t(m->valueDim()), dv);
      }
      const MixerKind& entry = *mixerRegistry().findKind(k);
      const bool conv = kind == "short_conv" || kind == "hyena" || kind == "lti_ssm" || kind == "mamba";
      QCOMPARE(entry.keyShift, !conv);
      const bool structured =
          k == "linear_attention" || k == "gla" || k == "retnet" || k == "lti_ssm" || k == "mamba" || k == "mamba2";
      QCOMPARE(entry.generators, structured);
      QCOMPARE(entry.checksWeights, k == "lti_ssm" || k == "mamba");
    }
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
    auto rn = make("retnet", 32, 4);  // d_k = d_v = 8
    QCOMPARE(rn->theoreticalStateSize(1), 64.0);
    QCOMPARE(rn->theoreticalStateSize(100), 64.0);
    QCOMPARE(QString::fromStdString(rn->tssFormula()), QString("d_k*d_v = 8*8"));
    MixerOptions o;
    o.window = 8;
    auto sw = makeWith("sliding_window_attention", o, 32, 2);  // d_k = d_v = 16
    QCOMPARE(sw->theoreticalStateSize(3), 3.0 * 32);
    QCOMPARE(sw->theoreticalStateSize(8), 8.0 * 32);
    QCOMPARE(sw->theoreticalStateSize(100), 8.0 * 32);
    QCOMPARE(QString::fromStdString(sw->tssFormula()), QString("min(s,w)*(d_k+d_v) = min(s,8)*(16+16)"));
    o.convKernel = 5;
    auto sc = makeWith("short_conv", o, 32, 2);
    QCOMPARE(sc->heads(), 32);
    QCOMPARE(sc->valueDim(), 1);
    QCOMPARE(sc->keyDim(), 0);
    QCOMPARE(sc->theoreticalStateSize(1), 4.0);
    QCOMPARE(sc->theoreticalStateSize(100), 4.0);
    QCOMPARE(QString::fromStdString(sc->tssFormula()), QString("k-1 = 5-1"));
  }

  // Sliding window: zero outside r - w < c <= r, rows sum to 1; w >= L is softmax attention and
  // w = 1 the identity (same seed, same weights).
  void slidingWindowOperator() {
    at::NoGradGuard ng;
    auto x = input(1, 30, 32, 2.0)[0];
    MixerOptions o;
    o.window = 5;
    auto T = makeWith("sliding_window_attention", o)->materialize(x);  // [2, 30, 30]
    auto ones = at::ones({30, 30}, at::kBool);
    auto band = ones.tril().logical_and(ones.triu(-4));  // r - 5 < c <= r
    QCOMPARE(maxAbs(T.masked_fill(band, 0.0)), 0.0);
    QVERIFY(T.masked_select(band.expand_as(T)).min().item<double>() > 0.0);
    QVERIFY(maxAbs(T.sum(-1) - 1.0) < 1e-12);
    o.window = 30;
    auto full = makeWith("sliding_window_attention", o)->materialize(x);
    auto sm = make("softmax_attention")->materialize(x);
    QVERIFY(maxAbs(full - sm) < 1e-14);
    o.window = 1;
    auto id = makeWith("sliding_window_attention", o)->materialize(x);
    QVERIFY(maxAbs(id - at::eye(30, x.options()).expand_as(id)) < 1e-15);
  }

  // The exact structural bound of a window-w operator: H_s = T[s:, :s] is nonzero only in its
  // top-right (w-1) x (w-1) anti-triangular corner (rows s..s+w-2, columns s-w+1..s-1), so
  // tolerance-ESS(s) <= min(s, L-s, w-1); with random weights the bound is attained (softmax
  // weights are positive, the corner's anti-diagonal is nonzero). Hence ESS <= w - 1 < w.
  void slidingWindowEssBound() {
    at::NoGradGuard ng;
    const int L = 40;
    auto x = input(1, L, 32, 1.0, 11)[0];
    for (int w : {1, 2, 3, 6, 10}) {
      MixerOptions o;
      o.window = w;
      auto m = makeWith("sliding_window_attention", o);
      const auto curve = tightEss(m->materialize(x));
      QCOMPARE(int(curve.splits.size()), L - 1);
      for (size_t h = 0; h < curve.tolerance.size(); ++h) {
        for (size_t i = 0; i < curve.splits.size(); ++i) {
          const int s = curve.splits[i];
          const double bound = std::min({s, L - s, w - 1});
          QVERIFY2(curve.tolerance[h][i] <= bound, qPrintable(QString("w %1 head %2 split %3: ESS %4 > %5")
                                                                  .arg(w)
                                                                  .arg(h)
                                                                  .arg(s)
                                                                  .arg(curve.tolerance[h][i])
                                                                  .arg(bound)));
          QVERIFY(curve.tolerance[h][i] <= m->theoreticalStateSize(s) / m->valueDim());
          QCOMPARE(curve.tolerance[h][i], bound);  // attained with random weights
        }
      }
    }
  }

  // RetNet is linear attention times the fixed decay gamma_h^(r-c), gamma_h = 1 - 2^(-5-h)
  // (same seed, same projection weights).
  void retnetIsDecayedLinearAttention() {
    at::NoGradGuard ng;
    auto x = input(1, 25, 32, 1.0, 5)[0];
    auto Tr = make("retnet", 32, 4)->materialize(x);
    auto Tl = make("linear_attention", 32, 4)->materialize(x);
    QCOMPARE(Tr.sizes().vec(), (std::vector<int64_t>{4, 25, 25}));
    for (int h = 0; h < 4; ++h) {
      const double g = 1.0 - std::pow(2.0, -5.0 - h);
      for (int r : {0, 7, 24})
        for (int c = 0; c <= r; ++c) {
          const double want = std::pow(g, r - c) * Tl[h][r][c].item<double>();
          QVERIFY(std::abs(Tr[h][r][c].item<double>() - want) <= 1e-13 * std::max(1.0, std::abs(want)));
        }
    }
    // Semiseparable with inner size d_k: rank H_s <= d_k = 8.
    const auto curve = tightEss(Tr);
    for (const auto& head : curve.tolerance)
      for (double e : head) QVERIFY(e <= 8.0);
  }

  // Short convolution: T[ch, r, c] = w[ch, r-c] for 0 <= r-c < k (banded Toeplitz, the same for
  // every input), and tolerance-ESS(s) <= min(s, L-s, k-1) exactly (H_s is nonzero only in its
  // top-right (k-1) x (k-1) anti-triangular corner, anti-diagonal w[ch, k-1]); attained with
  // random weights.
  void shortConvOperatorAndEssBound() {
    at::NoGradGuard ng;
    const int L = 30;
    for (int k : {1, 2, 4, 7}) {
      MixerOptions o;
      o.convKernel = k;
      auto m = makeWith("short_conv", o, 16, 2);
      at::Tensor w;
      for (auto& p : m->named_parameters())
        if (p.key() == "conv.weight") w = p.value().to(at::kDouble);
      QVERIFY(w.defined());
      QCOMPARE(w.sizes().vec(), (std::vector<int64_t>{16, k}));
      auto x1 = input(1, L, 16, 1.0, 2)[0], x2 = input(1, L, 16, 3.0, 9)[0];
      auto T = m->materialize(x1);
      QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{16, L, L}));
      QVERIFY(at::equal(T, m->materialize(x2)));  // input-invariant
      for (int ch : {0, 15})
        for (int r = 0; r < L; ++r)
          for (int c = 0; c < L; ++c) {
            const double want = (r - c >= 0 && r - c < k) ? w[ch][r - c].item<double>() : 0.0;
            QCOMPARE(T[ch][r][c].item<double>(), want);
          }
      const auto curve = tightEss(T);
      QCOMPARE(int(curve.tolerance.size()), 16);
      QCOMPARE(int(curve.splits.size()), L - 1);
      for (size_t h = 0; h < curve.tolerance.size(); ++h)
        for (size_t i = 0; i < curve.splits.size(); ++i) {
          const int s = curve.splits[i];
          const double bound = std::min({s, L - s, k - 1});
          QVERIFY(curve.tolerance[h][i] <= m->theoreticalStateSize(s));
          QCOMPARE(curve.tolerance[h][i], bound);
        }
    }
  }

  void shortConvParameters() {
    auto m = make("short_conv", 32, 2, 1, true);  // key shift requested: ignored
    std::vector<std::string> names;
    for (auto& p : m->named_parameters()) names.push_back(p.key());
    QCOMPARE(names, (std::vector<std::string>{"v_proj.weight", "o_proj.weight", "conv.weight"}));
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
};

QTEST_APPLESS_MAIN(TestMixers)
#include "test_mixers.moc"
