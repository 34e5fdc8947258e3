// The lti_ssm and deltanet mixers (ess/mixer.h): recurrent form == parallel form == T(u) V per
// head in float64 on random weights, the operators against their closed forms (the S4D kernel
// with zero-order hold; the delta-rule product with the latest factor next to the query), the
// exact rank of the LTI Hankel blocks (tolerance-ESS == min(n, s, L-s)), the d_k bound of
// deltanet, unstable-parameter errors, and ess-lm checkpoints with the new kinds; mamba (S6)
// against an explicit scalar recurrence written here from the Mamba equations, its rank bound N,
// and its unstable-parameter errors.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/mixer.h"
#include "ess/model.h"
#include "ess/tensor_engines.h"
#include "mixer_test_util.h"
#include "model_test_util.h"
#include "test_support.h"
// Qt after LibTorch: Qt's `slots` macro clashes with torch/jit headers.
#include <QTemporaryDir>
#include <QtTest>

using namespace ess;

namespace {

using mixertest::input;
using mixertest::makeWith;
using mixertest::maxAbs;

at::Tensor param(torch::nn::Module& m, const std::string& name) {
  for (auto& p : m.named_parameters())
    if (p.key() == name) return p.value();
  return {};
}

at::Tensor tokens(int64_t l, int64_t vocab, uint64_t seed = 3) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return at::randint(vocab, {l}, gen, at::kLong);
}

}  // namespace

class TestMixersSsm : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void kindsRegistered() {
    const auto& k = knownMixerKinds();
    QVERIFY(std::find(k.begin(), k.end(), "lti_ssm") != k.end());
    QVERIFY(std::find(k.begin(), k.end(), "deltanet") != k.end());
    MixerOptions o;
    o.stateSize = 0;
    QVERIFY(contains(inputErrorOf([&] { makeWith("lti_ssm", o); }), "state_size"));
  }

  void forms_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<double>("scale");
    QTest::addColumn<bool>("shift");
    for (const std::string k : {"lti_ssm", "deltanet"}) {
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
    MixerOptions o;
    o.keyShift = shift;
    o.stateSize = 6;
    auto m = makeWith(kind.toStdString(), o, 32, 2);
    const bool ssm = kind == "lti_ssm";  // one SISO operator per channel, no keys
    QCOMPARE(m->keyShift(), shift && !ssm);
    const int64_t H = ssm ? 32 : 2, dv = ssm ? 1 : 16;
    QCOMPARE(int64_t(m->heads()), H);
    QCOMPARE(int64_t(m->valueDim()), dv);
    QCOMPARE(int64_t(m->keyDim()), ssm ? int64_t(0) : int64_t(16));
    QCOMPARE(m->theoreticalStateSize(7), ssm ? 6.0 : 256.0);
    QCOMPARE(QString::fromStdString(m->tssFormula()), ssm ? QString("n = 6") : QString("d_k*d_v = 16*16"));
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
    QCOMPARE(maxAbs(T.triu(1)), 0.0);
    QVERIFY(maxAbs(T) > 0.0);
    auto T1 = m->materialize(x[1]);
    QCOMPARE(T1.sizes().vec(), (std::vector<int64_t>{H, 41, 41}));
    QVERIFY(maxAbs(T1 - T[1]) <= 1e-12 * std::max(1.0, maxAbs(T1)));
    auto y = m->forward(x);
    QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{3, 41, 32}));
    QVERIFY(at::isfinite(y).all().item<bool>());
    // float32 input: float32 operator, close to the float64 one.
    auto T32 = m->materialize(x[1].to(at::kFloat));
    QCOMPARE(T32.scalar_type(), at::kFloat);
    QVERIFY(maxAbs(T32.to(at::kDouble) - T1) <= 1e-4 * std::max(1.0, maxAbs(T1)));
  }

  void gradientsFlow() {
    for (const std::string kind : {"lti_ssm", "deltanet"}) {
      MixerOptions o;
      o.keyShift = true;
      o.stateSize = 4;
      auto m = makeWith(kind, o, 16, 2);
      auto x = input(2, 10, 16).to(at::kFloat);
      m->forward(x).pow(2).sum().backward();
      for (auto& p : m->named_parameters()) {
        QVERIFY2(p.value().grad().defined(), (kind + " " + p.key()).c_str());
        QVERIFY2(at::isfinite(p.value().grad()).all().item<bool>(), (kind + " " + p.key()).c_str());
      }
    }
  }

  // The materialized operator is the S4D kernel with zero-order hold, computed here in plain doubles.
  void ltiSsmOperator() {
    at::NoGradGuard ng;
    MixerOptions o;
    o.stateSize = 3;
    auto m = makeWith("lti_ssm", o, 4, 1, 5);
    QCOMPARE(m->heads(), 4);
    QCOMPARE(param(*m, "log_a_real").sizes().vec(), (std::vector<int64_t>{4, 3}));
    QCOMPARE(param(*m, "log_dt").sizes().vec(), (std::vector<int64_t>{4}));
    QCOMPARE(param(*m, "B").sizes().vec(), (std::vector<int64_t>{4, 3}));
    QCOMPARE(param(*m, "C").sizes().vec(), (std::vector<int64_t>{4, 3}));
    QCOMPARE(param(*m, "D").sizes().vec(), (std::vector<int64_t>{4}));
    QVERIFY(!param(*m, "q_proj.weight").defined());
    QVERIFY(!param(*m, "k_proj.weight").defined());
    // Random B (the S4D init has B = 1).
    at::Generator gen = at::detail::createCPUGenerator(11);
    param(*m, "B").uniform_(-1.0, 1.0, gen);
    const int L = 20;
    auto T = m->materialize(input(1, L, 4)[0]);
    QVERIFY(at::equal(T, m->materialize(input(1, L, 4, 3.0, 9)[0])));  // input-invariant
    auto lar = param(*m, "log_a_real").to(at::kDouble), ldt = param(*m, "log_dt").to(at::kDouble);
    auto B = param(*m, "B").to(at::kDouble), C = param(*m, "C").to(at::kDouble), D = param(*m, "D").to(at::kDouble);
    double worst = 0.0;
    for (int ch = 0; ch < 4; ++ch)
      for (int r = 0; r < L; ++r)
        for (int c = 0; c < L; ++c) {
          double want = 0.0;
          if (c <= r) {
            const double dt = std::exp(ldt[ch].item<double>());
            for (int n = 0; n < 3; ++n) {
              const double A = -std::exp(lar[ch][n].item<double>());
              const double aBar = std::exp(dt * A), bBar = (aBar - 1.0) / A * B[ch][n].item<double>();
              want += C[ch][n].item<double>() * std::pow(aBar, r - c) * bBar;
            }
            if (r == c) want += D[ch].item<double>();
          }
          worst = std::max(worst, std::abs(T[ch][r][c].item<double>() - want));
        }
    QVERIFY2(worst <= 1e-13, qPrintable(QString::number(worst)));
  }

  // tolerance-ESS (normalization none, tol 1e-10, float64) == min(n, s, L-s) at every split.
  // H_s = O R with Vandermonde factors in the decays, so its rank is exactly min(n, s, L-s) when
  // the decays are distinct and every C_n B_bar_n != 0. Numerically that needs the n-th singular
  // value well above 1e-10 and the (n+1)-th (rounding, ~1e-16 |H|) well below it: the decays are
  // set well separated (0.9 .. 0.1; C, B, D and dt random, C B of order 1), which keeps the
  // smallest nonzero singular value of every split far from the threshold.
  void ltiSsmEssExact() {
    at::NoGradGuard ng;
    const int L = 32;
    for (int n : {3, 5}) {
      MixerOptions o;
      o.stateSize = n;
      auto m = makeWith("lti_ssm", o, 4, 1, 100 + n);
      at::Generator gen = at::detail::createCPUGenerator(n);
      auto ldt = param(*m, "log_dt"), lar = param(*m, "log_a_real");
      auto B = param(*m, "B"), C = param(*m, "C");
      ldt.uniform_(std::log(0.05), std::log(2.0), gen);
      // |C_n|, |B_n| in [0.5, 1.5] with random signs.
      B.uniform_(0.5, 1.5, gen).mul_(at::randint(2, B.sizes(), gen, at::kFloat) * 2 - 1);
      C.uniform_(0.5, 1.5, gen).mul_(at::randint(2, C.sizes(), gen, at::kFloat) * 2 - 1);
      std::vector<double> decays =
          n == 3 ? std::vector<double>{0.85, 0.5, 0.15} : std::vector<double>{0.9, 0.7, 0.5, 0.3, 0.1};
      for (int ch = 0; ch < 4; ++ch) {
        const double dt = std::exp(ldt[ch].item<double>());
        for (int i = 0; i < n; ++i) lar[ch][i] = std::log(-std::log(decays[i]) / dt);
      }
      auto T = m->materialize(input(1, L, 4)[0]);
      const auto curve = computeEss(T, EssOptions().tolerance(1e-10).normalization(Normalization::None));
      QCOMPARE(int(curve.tolerance.size()), 4);
      QCOMPARE(int(curve.splits.size()), L - 1);
      for (size_t h = 0; h < 4; ++h)
        for (size_t i = 0; i < curve.splits.size(); ++i) {
          const int s = curve.splits[i];
          const double want = std::min({n, s, L - s});
          QVERIFY2(curve.tolerance[h][i] == want,
                   qPrintable(
                       QString("n=%1 ch=%2 s=%3: %4 != %5").arg(n).arg(h).arg(s).arg(curve.tolerance[h][i]).arg(want)));
          QVERIFY(curve.tolerance[h][i] <= m->theoreticalStateSize(s));
        }
      // Margins: at every split and channel the smallest kept singular value stays orders of
      // magnitude above the threshold 1e-10 and the largest dropped one orders below it.
      double keptMin = 1e300, droppedMax = 0.0;
      for (int ch = 0; ch < 4; ++ch)
        for (int s = 1; s < L; ++s) {
          const auto sv = splitSingularValues(T[ch], s, DType::Float64);
          const size_t want = std::min({n, s, L - s});
          keptMin = std::min(keptMin, sv[want - 1]);
          if (want < sv.size()) droppedMax = std::max(droppedMax, sv[want]);
        }
      qInfo("n=%d: smallest kept singular value %g, largest dropped %g", n, keptMin, droppedMax);
      QVERIFY2(keptMin > 1e-8, qPrintable(QString::number(keptMin)));
      QVERIFY2(droppedMax < 1e-12, qPrintable(QString::number(droppedMax)));
    }
  }

  void ltiSsmUnstableRejected() {
    at::NoGradGuard ng;
    MixerOptions o;
    o.stateSize = 3;
    auto x = input(1, 8, 4)[0];
    {
      auto m = makeWith("lti_ssm", o, 4, 1);
      param(*m, "log_dt")[2] = -1000.0;  // dt = exp(-1000) = 0: decay 1
      const std::string msg = inputErrorOf([&] { m->materialize(x); });
      QVERIFY2(contains(msg, "lti_ssm") && contains(msg, "channel 2"), msg.c_str());
      QVERIFY(contains(inputErrorOf([&] { m->recurrentHeadOutputs(x.unsqueeze(0)); }), "channel 2"));
      QVERIFY(contains(inputErrorOf([&] { m->forward(x.unsqueeze(0)); }), "channel 2"));
    }
    {
      auto m = makeWith("lti_ssm", o, 4, 1);
      param(*m, "log_dt")[1] = std::numeric_limits<double>::quiet_NaN();
      QVERIFY(contains(inputErrorOf([&] { m->materialize(x); }), "channel 1"));
    }
    {
      auto m = makeWith("lti_ssm", o, 4, 1);
      param(*m, "log_a_real")[3][1] = -800.0;  // dt * A underflows: decay rounds to 1
      const std::string msg = inputErrorOf([&] { m->materialize(x); });
      QVERIFY2(contains(msg, "channel 3") && contains(msg, "decay"), msg.c_str());
    }
    // A checkpoint with such parameters names the layer.
    ModelConfig cfg = testutil::tinyConfig({"softmax_attention", "lti_ssm"}, 8, 12);
    cfg.stateSize = 3;
    EssLm good(cfg, 1);
    auto sd = good.stateDict();
    QVERIFY(EssLm::fromTensors(cfg, sd, "ok.safetensors") != nullptr);
    for (auto& [name, t] : sd.tensors)
      if (name == "layers.1.mixer.log_dt") t = t.clone().fill_(-1000.0);
    const std::string msg = inputErrorOf([&] { EssLm::fromTensors(cfg, sd, "bad.safetensors"); });
    QVERIFY2(contains(msg, "bad.safetensors") && contains(msg, "layer 1") && contains(msg, "lti_ssm"), msg.c_str());
  }

  // T[r, c] = q_r^T P_r P_{r-1} ... P_{c+1} beta_c k_c, P_t = I - beta_t k_t k_t^T, built here from
  // the weights with explicit d_k x d_k products; the reversed order gives a different matrix.
  void deltanetOperatorOrder() {
    at::NoGradGuard ng;
    const int D = 8, Hh = 2, dk = 4, L = 12;
    MixerOptions o;
    auto m = makeWith("deltanet", o, D, Hh, 3);
    QCOMPARE(param(*m, "beta_proj.weight").sizes().vec(), (std::vector<int64_t>{Hh, D}));
    auto x = input(1, L, D, 1.5, 4)[0];
    auto T = m->materialize(x);
    auto Wq = param(*m, "q_proj.weight").to(at::kDouble), Wk = param(*m, "k_proj.weight").to(at::kDouble);
    auto Wb = param(*m, "beta_proj.weight").to(at::kDouble);
    double worst = 0.0, reversedDiff = 0.0;
    for (int h = 0; h < Hh; ++h) {
      auto q = at::matmul(x, Wq.narrow(0, h * dk, dk).t()) / std::sqrt(double(dk));  // [L, d_k]
      auto k = at::matmul(x, Wk.narrow(0, h * dk, dk).t());
      k = k / k.norm(2, {-1}, true);
      auto beta = at::sigmoid(at::matmul(x, Wb[h]));  // [L]
      auto I = at::eye(dk, at::kDouble);
      std::vector<at::Tensor> P;
      for (int t = 0; t < L; ++t) P.push_back(I - beta[t] * at::outer(k[t], k[t]));
      for (int r = 0; r < L; ++r)
        for (int c = 0; c <= r; ++c) {
          auto M = I.clone(), Mrev = I.clone();
          for (int t = r; t > c; --t) M = at::matmul(M, P[t]);             // P_r P_{r-1} ... P_{c+1}
          for (int t = c + 1; t <= r; ++t) Mrev = at::matmul(Mrev, P[t]);  // P_{c+1} ... P_r
          const double want = at::dot(q[r], at::mv(M, beta[c] * k[c])).item<double>();
          const double rev = at::dot(q[r], at::mv(Mrev, beta[c] * k[c])).item<double>();
          worst = std::max(worst, std::abs(T[h][r][c].item<double>() - want));
          reversedDiff = std::max(reversedDiff, std::abs(rev - want));
        }
    }
    QVERIFY2(worst <= 1e-13, qPrintable(QString::number(worst)));
    QVERIFY2(reversedDiff > 1e-3, qPrintable(QString::number(reversedDiff)));
    // Only the delta rule differs from linear attention: with beta -> 0 the state keeps nothing,
    // with a single step (L = 1) T = beta q . k.
    auto T1 = m->materialize(x.narrow(0, 0, 1));
    auto q0 = at::matmul(x[0], Wq.narrow(0, 0, dk).t()) / std::sqrt(double(dk));
    auto k0 = at::matmul(x[0], Wk.narrow(0, 0, dk).t());
    const double b0 = at::sigmoid(at::dot(x[0], Wb[0])).item<double>();
    QVERIFY(std::abs(T1[0][0][0].item<double>() - b0 * at::dot(q0, k0 / k0.norm()).item<double>()) < 1e-14);
  }

  // tolerance-ESS <= d_k per head (the state at a split is d_k x d_v, SISO rank <= d_k), and the
  // bound is reached on random weights.
  void deltanetEssBound() {
    at::NoGradGuard ng;
    const int L = 32;
    for (int h : {2, 4}) {
      const int D = 16, dk = D / h;
      MixerOptions o;
      o.keyShift = true;
      auto m = makeWith("deltanet", o, D, h, 8);
      auto T = m->materialize(input(1, L, D, 1.0, 21)[0]);
      const auto curve = computeEss(T, EssOptions().tolerance(1e-10));
      double top = 0.0;
      for (size_t hh = 0; hh < curve.tolerance.size(); ++hh)
        for (size_t i = 0; i < curve.splits.size(); ++i) {
          const int s = curve.splits[i];
          QVERIFY(curve.tolerance[hh][i] <= dk);
          QVERIFY(curve.tolerance[hh][i] <= std::min(s, L - s));
          QVERIFY(curve.tolerance[hh][i] * m->valueDim() <= m->theoreticalStateSize(s));
          top = std::max(top, curve.tolerance[hh][i]);
        }
      QCOMPARE(top, double(dk));
    }
  }

  // ess-lm checkpoints with the new kinds save and load with identical logits and operators.
  // Mamba's block from its published equations, with scalar loops over channels, states and
  // time (no code shared with the mixer): conv1d causal depthwise + bias, SiLU, x_proj split into
  // (dt_low, B, C), dt = softplus(dt_proj), h = exp(dt A) h + dt B u, y = (C.h + D u) silu(z).
  void mambaExplicitRecurrence() {
    at::NoGradGuard ng;
    const int D = 4, E = 8, N = 3, K = 3, R = 2, L = 11;
    MixerOptions o;
    o.stateSize = N;
    o.convKernel = K;
    o.expand = 2;
    o.dtRank = R;
    auto m = makeWith("mamba", o, D, 1, 5);
    QCOMPARE(m->heads(), E);
    QCOMPARE(m->valueDim(), 1);
    auto x = input(1, L, D, 1.0, 21)[0];  // [L, D]
    auto W = [&](const std::string& n) { return param(*m, n).to(at::kDouble); };
    auto inW = W("in_proj.weight"), cw = W("conv1d.weight"), cb = W("conv1d.bias"), xw = W("x_proj.weight"),
         dw = W("dt_proj.weight"), db = W("dt_proj.bias"), alog = W("A_log"), dskip = W("D");
    auto silu = [](double v) { return v / (1.0 + std::exp(-v)); };
    auto softplus = [](double v) { return std::log1p(std::exp(v)); };
    auto xz = at::matmul(x, inW.t());  // [L, 2E]
    std::vector<std::vector<double>> u(L, std::vector<double>(E)), y(L, std::vector<double>(E));
    for (int t = 0; t < L; ++t)
      for (int e = 0; e < E; ++e) {
        double acc = cb[e].item<double>();
        for (int j = 0; j < K; ++j) {  // tap j multiplies x_{t - (K-1) + j}
          const int src = t - (K - 1) + j;
          if (src >= 0) acc += cw[e][0][j].item<double>() * xz[src][e].item<double>();
        }
        u[t][e] = silu(acc);
      }
    std::vector<std::vector<double>> h(E, std::vector<double>(N, 0.0));
    for (int t = 0; t < L; ++t) {
      std::vector<double> proj(R + 2 * N, 0.0);
      for (int i = 0; i < R + 2 * N; ++i)
        for (int e = 0; e < E; ++e) proj[i] += xw[i][e].item<double>() * u[t][e];
      for (int e = 0; e < E; ++e) {
        double pre = db[e].item<double>();
        for (int r = 0; r < R; ++r) pre += dw[e][r].item<double>() * proj[r];
        const double dt = softplus(pre);
        double out = dskip[e].item<double>() * u[t][e];
        for (int n = 0; n < N; ++n) {
          const double A = -std::exp(alog[e][n].item<double>());
          h[e][n] = std::exp(dt * A) * h[e][n] + dt * proj[R + n] * u[t][e];
          out += proj[R + N + n] * h[e][n];
        }
        y[t][e] = out * silu(xz[t][E + e].item<double>());
      }
    }
    auto got = m->headOutputs(x.unsqueeze(0))[0];  // [E, L, 1]
    at::Tensor gotGrad;
    {  // with autograd on, the scan takes ATen's differentiable path instead of the plain loop
      QVERIFY(param(*m, "A_log").requires_grad());
      at::AutoGradMode grad(true);
      gotGrad = m->headOutputs(x.unsqueeze(0))[0].detach();
    }
    auto T = m->materialize(x);             // [E, L, L]
    auto tu = at::matmul(T, m->values(x));  // [E, L, 1]
    double err = 0, errT = 0, ref = 0;
    for (int t = 0; t < L; ++t)
      for (int e = 0; e < E; ++e) {
        err = std::max(err, std::abs(got[e][t][0].item<double>() - y[t][e]));
        err = std::max(err, std::abs(gotGrad[e][t][0].item<double>() - y[t][e]));
        errT = std::max(errT, std::abs(tu[e][t][0].item<double>() - y[t][e]));
        ref = std::max(ref, std::abs(y[t][e]));
      }
    QVERIFY(ref > 1e-3);
    QVERIFY2(err <= 1e-12 * ref, qPrintable(QString::number(err)));
    QVERIFY2(errT <= 1e-12 * ref, qPrintable(QString::number(errT)));
    // The value input is u itself.
    auto v = m->values(x);
    QCOMPARE(v.sizes().vec(), (std::vector<int64_t>{E, L, 1}));
    QVERIFY(std::abs(v[3][5][0].item<double>() - u[5][3]) < 1e-14);
  }

  // Each channel's H_s is diag(gate) x (future generators) x (past generators): rank <= N,
  // reached at middle splits on random weights.
  void mambaEssBound() {
    at::NoGradGuard ng;
    MixerOptions o;
    o.stateSize = 3;
    auto m = makeWith("mamba", o, 8, 1, 9);
    auto T = m->materialize(input(1, 30, 8, 1.0, 4)[0]);
    auto curve = computeEss(T, EssOptions().tolerance(1e-9));
    double top = 0;
    for (int e = 0; e < m->heads(); ++e)
      for (size_t i = 0; i < curve.splits.size(); ++i) {
        const int s = curve.splits[i];
        QVERIFY(curve.tolerance[e][i] <= std::min({3, s, 30 - s}));
        top = std::max(top, curve.tolerance[e][i]);
      }
    QCOMPARE(top, 3.0);
    QCOMPARE(m->theoreticalStateSize(7), 3.0);
    QCOMPARE(QString::fromStdString(m->tssFormula()), QString("N = 3"));
  }

  void mambaUnstableRejected() {
    at::NoGradGuard ng;
    MixerOptions o;
    o.stateSize = 2;
    auto x = input(1, 6, 4)[0];
    auto m = makeWith("mamba", o, 4, 1);
    param(*m, "A_log")[2][1] = 1000.0;  // A = -exp(1000) = -inf
    const std::string msg = inputErrorOf([&] { m->materialize(x); });
    QVERIFY2(contains(msg, "mamba") && contains(msg, "channel 2"), msg.c_str());
    QVERIFY(contains(inputErrorOf([&] { m->generators(x); }), "channel 2"));
    MixerOptions bad = o;
    bad.expand = 0;
    QVERIFY(contains(inputErrorOf([&] { makeWith("mamba", bad, 4, 1); }), "expand"));
    // A checkpoint with such parameters names the file and the layer.
    ModelConfig cfg = testutil::tinyConfig({"gla", "mamba"}, 8, 12);
    cfg.stateSize = 2;
    EssLm good(cfg, 1);
    auto sd = good.stateDict();
    for (auto& [name, t] : sd.tensors)
      if (name == "layers.1.mixer.A_log") t = t.clone().fill_(1000.0);
    const std::string err = inputErrorOf([&] { EssLm::fromTensors(cfg, sd, "bad.safetensors"); });
    QVERIFY2(contains(err, "bad.safetensors") && contains(err, "layer 1") && contains(err, "mamba"), err.c_str());
  }

  void modelsSaveLoad() {
    for (const std::vector<std::string>& mixers : {std::vector<std::string>{"lti_ssm"},
                                                   {"deltanet"},
                                                   {"mamba"},
                                                   {"lti_ssm", "deltanet", "softmax_attention", "mamba"}}) {
      ModelConfig cfg;
      cfg.vocabSize = 32;
      cfg.dModel = 32;
      cfg.numHeads = 2;
      cfg.maxLength = 40;
      cfg.mlpHidden = 64;
      cfg.mixers = mixers;
      cfg.stateSize = 5;
      cfg.keyShift = true;
      EssLm m(cfg, 4);
      auto t = tokens(40, 32);
      std::unique_ptr<EssLm> back;
      testutil::checkSaveLoadRoundTrip(m, t, &back);
      if (QTest::currentTestFailed()) return;
      QCOMPARE(back->config().stateSize, 5);
      QVERIFY(back->config().mixers == mixers);
      at::NoGradGuard ng;
      for (int layer = 0; layer < m.numLayers(); ++layer) {
        const std::string kind = m.mixerKind(layer);
        const std::string pre = "layers." + std::to_string(layer) + ".mixer.";
        auto T = m.layerOperator(layer, t);
        if (kind == "lti_ssm") {
          QCOMPARE(m.heads(layer), 32);
          QCOMPARE(m.valueChannels(layer), 1);
          QCOMPARE(m.keyChannels(layer), 0);
          QCOMPARE(m.theoreticalStateSizeSiso(layer, 10), 5.0);
          QCOMPARE(QString::fromStdString(m.tssFormula(layer)), QString("n = 5"));
          QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{32, 40, 40}));
          QVERIFY(m.stateDict().find(pre + "log_a_real") != nullptr);
          QVERIFY(m.stateDict().find(pre + "log_dt") != nullptr);
          QVERIFY(m.stateDict().find(pre + "k_shift") == nullptr);
          QVERIFY(m.stateDict().find(pre + "q_proj.weight") == nullptr);
        } else if (kind == "mamba") {
          QCOMPARE(m.heads(layer), 64);  // E = 2 * d_model channels
          QCOMPARE(m.valueChannels(layer), 1);
          QCOMPARE(m.keyChannels(layer), 0);
          QCOMPARE(m.theoreticalStateSizeSiso(layer, 10), 5.0);
          QCOMPARE(QString::fromStdString(m.tssFormula(layer)), QString("N = 5"));
          QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{64, 40, 40}));
          for (const char* n : {"in_proj.weight", "conv1d.weight", "conv1d.bias", "x_proj.weight", "dt_proj.weight",
                                "dt_proj.bias", "A_log", "D", "out_proj.weight"})
            QVERIFY2(m.stateDict().find(pre + n) != nullptr, n);
          QVERIFY(m.stateDict().find(pre + "v_proj.weight") == nullptr);
        } else {
          QCOMPARE(m.heads(layer), 2);
          QCOMPARE(m.valueChannels(layer), 16);
          QCOMPARE(T.sizes().vec(), (std::vector<int64_t>{2, 40, 40}));
        }
        if (kind == "deltanet") {
          QCOMPARE(m.keyChannels(layer), 16);
          QCOMPARE(QString::fromStdString(m.tssFormula(layer)), QString("d_k*d_v = 16*16"));
          QCOMPARE(m.theoreticalStateSizeSiso(layer, 10), 16.0);
          QVERIFY(m.stateDict().find(pre + "beta_proj.weight") != nullptr);
          QVERIFY(m.stateDict().find(pre + "k_shift") != nullptr);
        }
      }
    }
  }

  // Configs written before state_size existed load with the default (16).
  void configStateSizeDefault() {
    const std::string json = R"({"model_type": "ess-lm", "vocab_size": 16, "d_model": 8, "num_heads": 2,
      "max_length": 12, "mixers": ["lti_ssm", "deltanet"]})";
    auto c = ModelConfig::fromJson(json, "config.json");
    QCOMPARE(c.stateSize, 16);
    EssLm m(c, 2);
    QCOMPARE(m.theoreticalStateSizeSiso(0, 3), 16.0);
    auto back = ModelConfig::fromJson(c.toJson(), "config.json");
    QCOMPARE(back.stateSize, 16);
    QVERIFY(back.mixers == c.mixers);
  }
};

QTEST_APPLESS_MAIN(TestMixersSsm)
#include "test_mixers_ssm.moc"
