// Tests of the structured ESS engine (generators, no dense operator) and of the dense engine's
// fast paths (band corner, Gram eigenvalues), each against plain SVDs of the blocks
// H_s = T[s:, :s] (docs/definitions.md sections 1 and 5).
// LibTorch before Qt: Qt's `slots` macro breaks ATen headers included after it.
#include <ATen/ATen.h>

#include <QtTest>

#include <atomic>
#include <filesystem>

#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/generators.h"
#include "ess/safetensors.h"
#include "ess/session.h"
#include "ess/structured_channels.h"
#include "ess/structured_ess.h"
#include "ess/tensor_engines.h"
#include "test_support.h"

using namespace ess;

namespace {

// Random generators: decays log a in [-maxDecay, 0], per state or per head, optional D, and
// the B rows listed in `zeroB` set to zero.
Generators makeGenerators(int H, int L, int N, bool perHead, bool withD, double maxDecay, uint64_t seed,
                          const std::vector<int>& zeroB = {}) {
  at::manual_seed(seed);
  Generators g;
  g.C = at::randn({H, L, N}, at::kDouble);
  g.B = at::randn({H, L, N}, at::kDouble);
  g.logA = perHead ? -maxDecay * at::rand({H, L}, at::kDouble) : -maxDecay * at::rand({H, L, N}, at::kDouble);
  if (withD) g.D = at::randn({H, L}, at::kDouble);
  for (int r : zeroB) g.B.select(1, r).zero_();
  return g;
}

// ESS curves from plain float64 SVDs of every block (the definition, docs/definitions.md section 1).
EssCurve svdCurve(const at::Tensor& ops, const EssOptions& o) {
  const at::Tensor t = ops.dim() == 2 ? ops.unsqueeze(0) : ops;
  const int H = t.size(0), L = t.size(1);
  EssCurve c;
  c.splits = resolveSplits(o.splits_, L);
  c.tolerance.assign(H, {});
  c.entropy.assign(H, {});
  for (int h = 0; h < H; ++h)
    for (int s : c.splits) {
      const std::vector<double> sigma = splitSingularValues(t[h], s, DType::Float64);
      c.tolerance[h].push_back(toleranceEss(sigma, o.tolerance_, o.normalization_));
      c.entropy[h].push_back(entropyEss(sigma));
    }
  return c;
}

// Tolerance-ESS identical, entropy-ESS within `entTol` relative (both zero when H_s = 0).
QString compareCurves(const EssCurve& got, const EssCurve& want, double entTol) {
  if (got.splits != want.splits) return "different splits";
  if (got.tolerance.size() != want.tolerance.size()) return "different head counts";
  for (size_t h = 0; h < want.tolerance.size(); ++h)
    for (size_t i = 0; i < want.splits.size(); ++i) {
      const double gt = got.tolerance[h][i], wt = want.tolerance[h][i];
      const double ge = got.entropy[h][i], we = want.entropy[h][i];
      if (!std::isfinite(gt) || !std::isfinite(ge))
        return QString("head %1 split %2: not finite").arg(h).arg(want.splits[i]);
      if (gt != wt)
        return QString("head %1 split %2: tolerance-ESS %3, expected %4").arg(h).arg(want.splits[i]).arg(gt).arg(wt);
      if ((we == 0.0 && ge != 0.0) || (we != 0.0 && relErr(ge, we) > entTol))
        return QString("head %1 split %2: entropy-ESS %3, expected %4")
            .arg(h)
            .arg(want.splits[i])
            .arg(ge, 0, 'g', 17)
            .arg(we, 0, 'g', 17);
    }
  return {};
}

#define COMPARE_CURVES(got, want, tol)                       \
  do {                                                       \
    const QString why = compareCurves((got), (want), (tol)); \
    if (!why.isEmpty()) QFAIL(qPrintable(why));              \
  } while (0)

const EssOptions kStructured = EssOptions().algorithm(Algorithm::Structured);

}  // namespace

class TestStructuredEss : public QObject {
  Q_OBJECT
 private slots:
  // The factorization H_s = F_s P_s^T must follow the index convention of
  // materializeGenerators: a hand-computed L = 3, N = 1 case with distinct decays.
  void indexConvention() {
    Generators g;
    g.C = at::tensor({1.0, 2.0, 3.0}, at::kDouble).reshape({1, 3, 1});
    g.B = at::tensor({5.0, 7.0, 11.0}, at::kDouble).reshape({1, 3, 1});
    g.logA = at::tensor({0.0, std::log(0.5), std::log(0.25)}, at::kDouble).reshape({1, 3});
    const at::Tensor T = materializeGenerators(g, "test");
    // T[2, 0] = C_2 a_1 a_2 B_0 = 3 * 0.5 * 0.25 * 5; T[1, 0] = C_1 a_1 B_0; T[2, 1] = C_2 a_2 B_1.
    QCOMPARE(T[0][2][0].item<double>(), 3 * 0.5 * 0.25 * 5);
    QCOMPARE(T[0][1][0].item<double>(), 2 * 0.5 * 5);
    QCOMPARE(T[0][2][1].item<double>(), 3 * 0.25 * 7);
    // Split 1: H_1 = [T10; T20], sigma = norm; split 2: H_2 = [T20 T21].
    const EssCurve c = computeStructuredEss(g, EssOptions().algorithm(Algorithm::Structured).tolerance(0.5));
    QCOMPARE(c.tolerance[0], (std::vector<double>{1, 1}));
    QCOMPARE(c.entropy[0], (std::vector<double>{1, 1}));
    COMPARE_CURVES(c, svdCurve(T, EssOptions().tolerance(0.5)), 1e-12);
  }

  void randomGenerators_data() {
    QTest::addColumn<int>("L");
    QTest::addColumn<int>("N");
    QTest::addColumn<bool>("perHead");
    QTest::addColumn<bool>("withD");
    QTest::addColumn<double>("decay");
    int seed = 1;
    for (int N : {1, 4, 16})
      for (int L : {2, 9, 40, 256})
        for (bool perHead : {false, true}) {
          const bool withD = (seed % 2) == 0;
          QTest::newRow(qPrintable(
              QString("N%1 L%2 %3%4").arg(N).arg(L).arg(perHead ? "per-head" : "per-state").arg(withD ? " D" : "")))
              << L << N << perHead << withD << (L > 100 ? 0.1 : 0.7);
          ++seed;
        }
  }
  void randomGenerators() {
    QFETCH(int, L);
    QFETCH(int, N);
    QFETCH(bool, perHead);
    QFETCH(bool, withD);
    QFETCH(double, decay);
    const std::vector<int> zeroB = L > 8 ? std::vector<int>{0, 3, L / 2, L - 2} : std::vector<int>{};
    const Generators g = makeGenerators(2, L, N, perHead, withD, decay, 100 * L + N + perHead, zeroB);
    const at::Tensor T = materializeGenerators(g, "test");
    const EssCurve want = svdCurve(T, EssOptions());
    COMPARE_CURVES(computeStructuredEss(g, kStructured), want, 1e-6);
    COMPARE_CURVES(computeEss(T, EssOptions()), want, 1e-6);
    // Auto hands N >= L/2 to the dense engine; same answers either way.
    COMPARE_CURVES(computeStructuredEss(g, EssOptions()), want, 1e-6);
    // Other normalizations and a tolerance that cuts deeper into the spectrum.
    const auto sum = EssOptions().normalization(Normalization::Sum).tolerance(1e-4);
    COMPARE_CURVES(computeStructuredEss(g, EssOptions(sum).algorithm(Algorithm::Structured)), svdCurve(T, sum), 1e-6);
  }

  // N > min(s, L - s) for most splits, and H_s of rank < N: the zero rows of the factors.
  void stateLargerThanSplits() {
    const Generators g = makeGenerators(1, 12, 16, false, true, 0.3, 7, {1, 2, 5});
    COMPARE_CURVES(computeStructuredEss(g, kStructured), svdCurve(materializeGenerators(g, "test"), EssOptions()),
                   1e-6);
    Generators lowRank = makeGenerators(1, 60, 8, false, false, 0.2, 8);
    lowRank.C.narrow(2, 0, 5).zero_();  // only 3 states reach the outputs: rank <= 3
    const EssCurve c = computeStructuredEss(lowRank, kStructured);
    for (double v : c.tolerance[0]) QVERIFY(v <= 3);
    COMPARE_CURVES(c, svdCurve(materializeGenerators(lowRank, "test"), EssOptions()), 1e-6);
  }

  // Every reference vector, through the exact generator form of its dense operator.
  void referenceVectors_data() {
    QTest::addColumn<QString>("file");
    for (const auto& f : referenceFiles())
      QTest::newRow(std::filesystem::path(f).stem().string().c_str()) << QString::fromStdString(f);
  }
  void referenceVectors() {
    QFETCH(QString, file);
    NamedTensors ref = readSafetensors(file.toStdString());
    QVERIFY(ref.find("operator"));
    const at::Tensor op = ref.find("operator")->to(at::kDouble);
    const Generators g = denseAsGenerators(op);
    QCOMPARE(materializeGenerators(g, "test").equal(op.dim() == 2 ? op.unsqueeze(0).tril() : op.tril()), true);
    const at::Tensor wantTol = ref.find("expected_tolerance_ess")->to(at::kDouble).reshape({g.heads(), -1});
    const at::Tensor wantEnt = ref.find("expected_entropy_ess")->to(at::kDouble).reshape({g.heads(), -1});
    EssCurve want;
    for (int s = 1; s < g.length(); ++s) want.splits.push_back(s);
    for (int h = 0; h < g.heads(); ++h) {
      const at::Tensor t = wantTol[h].contiguous(), e = wantEnt[h].contiguous();
      want.tolerance.emplace_back(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
      want.entropy.emplace_back(e.data_ptr<double>(), e.data_ptr<double>() + e.numel());
    }
    COMPARE_CURVES(computeStructuredEss(g, kStructured), want, 1e-6);
    COMPARE_CURVES(computeStructuredEss(g, EssOptions(kStructured).threads(1)), want, 1e-6);
    COMPARE_CURVES(computeEss(op, EssOptions()), want, 1e-6);
  }

  // Strong decay: products of decays underflow long before L = 4096; the step-by-step
  // updates must stay finite and agree with the dense engine where it is feasible.
  void strongDecay() {
    for (bool perHead : {false, true}) {
      Generators g = makeGenerators(1, 512, 4, perHead, false, 0.0, 11);
      g.logA.fill_(-5.0);
      const at::Tensor T = materializeGenerators(g, "test");
      const EssCurve want = svdCurve(T, EssOptions());
      COMPARE_CURVES(computeStructuredEss(g, kStructured), want, 1e-6);
      COMPARE_CURVES(computeEss(T, EssOptions()), want, 1e-6);
    }
    Generators g = makeGenerators(2, 4096, 8, false, true, 0.0, 12);
    g.logA = -5.0 - 10.0 * at::rand({2, 4096, 8}, at::kDouble);
    const EssCurve c = computeStructuredEss(g, kStructured);
    QCOMPARE(int(c.splits.size()), 4095);
    for (int h = 0; h < 2; ++h)
      for (size_t i = 0; i < c.splits.size(); ++i) {
        QVERIFY(std::isfinite(c.tolerance[h][i]) && std::isfinite(c.entropy[h][i]));
        QVERIFY(c.tolerance[h][i] >= 1 && c.tolerance[h][i] <= 8);
        QVERIFY(c.entropy[h][i] >= 1.0 - 1e-12 && c.entropy[h][i] <= 8.0);
      }
    // Each split only sees a few steps back (e^-5 per step): compare windows of the long
    // operator with the same generators on a short one ending at the same place.
    Generators tail{g.C.narrow(1, 3584, 512), g.B.narrow(1, 3584, 512), g.logA.narrow(1, 3584, 512), {}};
    const EssCurve shortCurve = computeStructuredEss(tail, kStructured);
    for (int h = 0; h < 2; ++h)
      for (int s = 100; s < 400; ++s) {
        QCOMPARE(c.tolerance[h][3584 + s - 1], shortCurve.tolerance[h][s - 1]);
        QVERIFY(relErr(c.entropy[h][3584 + s - 1], shortCurve.entropy[h][s - 1]) < 1e-9);
      }
  }

  void growingDecayOverflows() {
    Generators g = makeGenerators(1, 2000, 2, true, false, 0.0, 13);
    g.logA.fill_(1.0);
    QVERIFY_THROWS_EXCEPTION(InputError, computeStructuredEss(g, kStructured));
  }

  void badShapes() {
    Generators g = makeGenerators(1, 10, 3, false, false, 0.1, 14);
    g.B = at::randn({1, 10, 4}, at::kDouble);
    QVERIFY_THROWS_EXCEPTION(InputError, computeStructuredEss(g, kStructured));
    g = makeGenerators(1, 10, 3, false, false, 0.1, 14);
    g.logA = at::zeros({1, 9}, at::kDouble);
    QVERIFY_THROWS_EXCEPTION(InputError, computeStructuredEss(g, kStructured));
    g = makeGenerators(1, 10, 3, false, false, 0.1, 14);
    g.C[0][2][1] = std::nan("");
    QVERIFY_THROWS_EXCEPTION(InputError, computeStructuredEss(g, kStructured));
    g = makeGenerators(1, 10, 3, false, false, 0.1, 14);
    QVERIFY_THROWS_EXCEPTION(UsageError, computeStructuredEss(g, EssOptions(kStructured).splits({3, 12, 1})));
  }

  void stridedSplits() {
    const Generators g = makeGenerators(2, 300, 6, false, true, 0.05, 15);
    const EssCurve full = computeStructuredEss(g, kStructured);
    const EssCurve strided = computeStructuredEss(g, EssOptions(kStructured).splits(parseSplitRange("3:290:7")));
    QCOMPARE(strided.splits.front(), 3);
    QCOMPARE(strided.splits.back(), 290);
    for (int h = 0; h < 2; ++h)
      for (size_t i = 0; i < strided.splits.size(); ++i) {
        const int s = strided.splits[i];
        QCOMPARE(strided.tolerance[h][i], full.tolerance[h][s - 1]);
        QCOMPARE(strided.entropy[h][i], full.entropy[h][s - 1]);
      }
    const EssCurve one = computeStructuredEss(g, EssOptions(kStructured).splits(parseSplitRange("150")));
    QCOMPARE(one.tolerance[1][0], full.tolerance[1][149]);
    // The dense Gram path restarts its update when splits are not consecutive.
    const at::Tensor T = materializeGenerators(g, "test");
    const auto strideOpts = EssOptions().splits(parseSplitRange("3:290:7"));
    COMPARE_CURVES(computeEss(T, strideOpts), svdCurve(T, strideOpts), 1e-6);
  }

  void progressAndCancel() {
    const Generators g = makeGenerators(3, 200, 5, true, false, 0.1, 16);
    std::atomic<long> last{0}, total{0};
    computeStructuredEss(g, kStructured, [&](long d, long n) {
      long prev = last.load();
      while (d > prev && !last.compare_exchange_weak(prev, d)) {
      }
      total = n;
    });
    QCOMPARE(total.load(), 3L * 199);
    QCOMPARE(last.load(), 3L * 199);
    std::atomic<bool> cancel{true};
    QVERIFY_THROWS_EXCEPTION(Cancelled, computeStructuredEss(g, kStructured, {}, &cancel));
    std::atomic<bool> later{false};
    QVERIFY_THROWS_EXCEPTION(Cancelled, computeStructuredEss(
                                            g, kStructured,
                                            [&](long d, long) {
                                              if (d >= 50) later = true;
                                            },
                                            &later));
  }

  void bandwidth() {
    QCOMPARE(detectBandwidth(at::zeros({6, 6}, at::kDouble)), 0);
    QCOMPARE(detectBandwidth(at::eye(6, at::kDouble)), 1);
    at::Tensor corner = at::zeros({2, 6, 6}, at::kDouble);
    corner[1][5][0] = 1e-300;
    QCOMPARE(detectBandwidth(corner), 6);
    corner[1][0][5] = 1.0;  // the upper triangle does not count
    QCOMPARE(detectBandwidth(corner), 6);
    at::manual_seed(17);
    QCOMPARE(detectBandwidth(at::randn({9, 9}, at::kDouble).tril()), 9);
    const at::Tensor conv =
        *readSafetensors(std::string(ESS_TEST_DATA_DIR) + "/conv_k5_L64.safetensors").find("operator");
    QCOMPARE(detectBandwidth(conv), 5);
  }

  // The band corner gives the same curves as SVDs of the whole blocks.
  void bandCorner_data() {
    QTest::addColumn<int>("width");
    QTest::addColumn<int>("L");
    for (int w : {2, 3, 7, 20}) QTest::newRow(qPrintable(QString("w%1").arg(w))) << w << 90;
  }
  void bandCorner() {
    QFETCH(int, width);
    QFETCH(int, L);
    at::manual_seed(18 + width);
    const at::Tensor T = at::randn({2, L, L}, at::kDouble).tril().triu(-(width - 1));
    QCOMPARE(detectBandwidth(T), width);
    for (auto o : {EssOptions(), EssOptions().tolerance(1e-8).normalization(Normalization::None)})
      COMPARE_CURVES(computeEss(T, o), svdCurve(T, o), 1e-9);
    const at::Tensor conv =
        *readSafetensors(std::string(ESS_TEST_DATA_DIR) + "/conv_k5_L64.safetensors").find("operator");
    COMPARE_CURVES(computeEss(conv, EssOptions()), svdCurve(conv.to(at::kDouble), EssOptions()), 1e-9);
  }

  // The Gram fast path (eigenvalues of the smaller Gram matrix, updated split to split) gives
  // the SVD answers; rank-deficient blocks fall back to the SVD.
  void denseGramPath() {
    at::manual_seed(19);
    const at::Tensor T = at::randn({2, 160, 160}, at::kDouble).tril();
    COMPARE_CURVES(computeEss(T, EssOptions()), svdCurve(T, EssOptions()), 1e-9);
    COMPARE_CURVES(computeEss(T, EssOptions().threads(1)), svdCurve(T, EssOptions()), 1e-9);
    const auto sum = EssOptions().normalization(Normalization::Sum).tolerance(2e-3);
    COMPARE_CURVES(computeEss(T, sum), svdCurve(T, sum), 1e-9);
    // float32: the Gram path runs in float64 anyway; SVD fallbacks in float32 stay within 1e-5.
    COMPARE_CURVES(computeEss(T, EssOptions().dtype(DType::Float32)), svdCurve(T, EssOptions()), 1e-5);
    // Low rank (rank <= 5), tight absolute tolerance: every split needs the SVD fallback.
    const at::Tensor lowRank = materializeGenerators(makeGenerators(1, 120, 5, false, false, 0.05, 20), "test");
    const auto tight = EssOptions().tolerance(1e-10).normalization(Normalization::None);
    const EssCurve c = computeEss(lowRank, tight);
    COMPARE_CURVES(c, svdCurve(lowRank, tight), 1e-9);
    QCOMPARE(c.tolerance[0][59], 5.0);
  }

  // The channels batched to SIMD groups (the default) against the one-channel path
  // (computeStructuredEssPerChannel): tolerance-ESS identical, entropy-ESS within 1e-10 relative, for
  // per-state and per-head decays, head counts that leave padded lanes, zero B rows and states
  // larger than some splits, strong and weak decays, one thread and several (groups spread
  // over the threads, or one group's blocks spread over them).
  void batchedMatchesPerChannel_data() {
    QTest::addColumn<int>("H");
    QTest::addColumn<int>("L");
    QTest::addColumn<int>("N");
    QTest::addColumn<bool>("perHead");
    QTest::addColumn<double>("decay");
    int row = 0;
    for (int H : {2, 13, 17, 33})
      for (int N : {1, 4, 16, 24})
        for (bool perHead : {false, true}) {
          const int L = (row % 3 == 0) ? 9 : (row % 3 == 1 ? 60 : 300);
          const double decay = (row % 4 == 0) ? 3.0 : 0.15;
          QTest::newRow(qPrintable(QString("H%1 N%2 L%3 %4 decay%5")
                                       .arg(H)
                                       .arg(N)
                                       .arg(L)
                                       .arg(perHead ? "per-head" : "per-state")
                                       .arg(decay)))
              << H << L << N << perHead << decay;
          ++row;
        }
  }
  void batchedMatchesPerChannel() {
    QFETCH(int, H);
    QFETCH(int, L);
    QFETCH(int, N);
    QFETCH(bool, perHead);
    QFETCH(double, decay);
    const std::vector<int> zeroB = L > 8 ? std::vector<int>{0, 3, L / 2, L - 2} : std::vector<int>{};
    const Generators g = makeGenerators(H, L, N, perHead, false, decay, 1000 * H + 10 * N + perHead, zeroB);
    for (int threads : {1, 3})
      for (const EssOptions& o : {EssOptions(), EssOptions().normalization(Normalization::Sum).tolerance(1e-4),
                                  EssOptions().normalization(Normalization::None).tolerance(1e-8)}) {
        const EssOptions batched = EssOptions(o).algorithm(Algorithm::Structured).threads(threads);
        const EssCurve want = computeStructuredEssPerChannel(toArrays(g), batched);
        COMPARE_CURVES(computeStructuredEss(g, batched), want, 1e-10);
      }
  }

  // Batched and one-channel paths on strided splits, and progress counting every head.
  void batchedStridedAndProgress() {
    const Generators g = makeGenerators(11, 200, 16, false, false, 0.1, 31);
    const auto o = EssOptions().algorithm(Algorithm::Structured).splits(SplitRange{3, 190, 7});
    std::atomic<long> last{0}, calls{0}, badTotals{0};  // called from the worker threads
    const EssCurve c = computeStructuredEss(g, o, [&](long done, long total) {
      if (total != 11L * 27) ++badTotals;
      long seen = last.load();
      while (done > seen && !last.compare_exchange_weak(seen, done)) {
      }
      ++calls;
    });
    QCOMPARE(badTotals.load(), 0L);
    QCOMPARE(last.load(), 11L * 27);
    // One call per split of each group of heads: fewer calls than (head, split) pairs.
    QVERIFY(calls.load() >= 27 && calls.load() < 11L * 27);
    COMPARE_CURVES(c, computeStructuredEssPerChannel(toArrays(g), o), 1e-10);
  }

  // Shared rows and scales (Mamba's S6, ess/generator_form.h) give the curve of the generators
  // they stand for, formed by the test itself: identical where the channels are batched (the
  // same products), within 1e-10 through the fallbacks (one channel; N close to L, dense).
  void sharedMatchesFormed() {
    for (auto [H, L, N] : {std::tuple<int, int, int>{17, 200, 16}, {40, 61, 4}, {1, 90, 8}, {3, 12, 8}}) {
      at::manual_seed(100 * H + N);
      const at::Tensor Cs = at::randn({L, N}, at::kDouble), Bs = at::randn({L, N}, at::kDouble);
      const at::Tensor gate = at::randn({H, L}, at::kDouble), dt = 0.2 * at::rand({H, L}, at::kDouble);
      const at::Tensor rate = -at::rand({H, N}, at::kDouble) - 0.5 * at::arange(N, at::kDouble).unsqueeze(0);
      SharedGeneratorArrays sh{toArray(Cs), toArray(Bs), toArray(gate), toArray(dt), toArray(dt), toArray(rate), {}};
      Generators formed;
      formed.C = gate.unsqueeze(-1) * Cs.unsqueeze(0);
      formed.B = dt.unsqueeze(-1) * Bs.unsqueeze(0);
      formed.logA = dt.unsqueeze(-1) * rate.unsqueeze(1);
      const GeneratorArrays expanded = expandSharedGenerators(sh);
      QVERIFY(at::equal(toTensor(expanded.C), formed.C) && at::equal(toTensor(expanded.logA), formed.logA));
      QVERIFY(at::allclose(toTensor(expandSharedGenerators(sh, H - 1, 1).B), formed.B.narrow(0, H - 1, 1)));
      for (int threads : {1, 2}) {
        const auto o = EssOptions().algorithm(Algorithm::Structured).threads(threads);
        const EssCurve got = computeStructuredEss(sh, o);
        COMPARE_CURVES(got, computeStructuredEss(formed, o), H > 1 && 2 * N < L ? 0.0 : 1e-10);
        COMPARE_CURVES(got, computeStructuredEssPerChannel(toArrays(formed), o), 1e-10);
      }
    }
    // Shapes that disagree and values that are not finite are named.
    const at::Tensor rows = at::randn({8, 2}, at::kDouble), scales = at::rand({3, 8}, at::kDouble);
    SharedGeneratorArrays bad{toArray(rows),
                              toArray(rows),
                              toArray(scales),
                              toArray(scales),
                              toArray(scales),
                              toArray(at::randn({3, 5}, at::kDouble)),
                              {}};
    QVERIFY(contains(inputErrorOf([&] { computeStructuredEss(bad, EssOptions()); }), "rate [3, 5]"));
    bad.rate = toArray(at::full({3, 2}, std::nan(""), at::kDouble));
    QVERIFY(contains(inputErrorOf([&] { computeStructuredEss(bad, EssOptions()); }), "rate holds NaN"));
  }

  void algorithmOption() {
    QVERIFY(parseAlgorithm("auto") == Algorithm::Auto);
    QVERIFY(parseAlgorithm("dense") == Algorithm::Dense);
    QVERIFY(parseAlgorithm("structured") == Algorithm::Structured);
    QVERIFY_THROWS_EXCEPTION(UsageError, parseAlgorithm("fast"));
    QCOMPARE(toString(Algorithm::Structured), std::string("structured"));
    QVERIFY(EssOptions().algorithm_ == Algorithm::Auto);
    const Generators g = makeGenerators(1, 64, 4, false, false, 0.2, 21);
    const EssCurve want = svdCurve(materializeGenerators(g, "test"), EssOptions());
    COMPARE_CURVES(computeStructuredEss(g, EssOptions().algorithm(Algorithm::Dense)), want, 1e-6);
    COMPARE_CURVES(computeStructuredEss(g, EssOptions().algorithm(Algorithm::Auto)), want, 1e-6);
  }
};

QTEST_APPLESS_MAIN(TestStructuredEss)
#include "test_structured_ess.moc"
