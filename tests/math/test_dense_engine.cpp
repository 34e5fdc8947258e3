// The dense engine's fast paths (Gram matrix, truncated pivoted QR of numerically low-rank
// blocks) against its plain SVD of every H_s (computeEssBySvd, ess/dense_reference.h), on the operator classes
// of bench/dense_operators.py (random full rank, causal softmax attention with RoPE, a smooth
// attention head with a decaying spectrum, rank-8 GLA), the trained demos of tests/data and
// edge cases: exact rank deficiency, all-zero blocks, singular values straddling the
// threshold, clusters of small singular values that the Gram path refines from H_s, banded
// operators, NaN (docs/definitions.md section 5: tolerance-ESS exact, entropy-ESS 1e-6), and
// the same curves bit for bit on any number of threads.
#include <QtTest/QtTest>

#include <cmath>
#include <limits>
#include <random>

#include "../core/test_support.h"
#include "ess/array.h"
#include "ess/dense_reference.h"
#include "ess/ess_engine.h"
#include "ess/safetensors_io.h"
#include "metric/dense_paths.h"

using namespace ess;

namespace {

Array square(int L, int heads = 1) { return Array(ArrayDType::F64, {heads, L, L}); }
double& at(const Array& a, int L, int r, int c) { return a.doubles()[static_cast<size_t>(r) * L + c]; }

// Both paths on `op`: tolerance-ESS identical, entropy-ESS within 1e-6 relative.
void compareWithSvd(const Array& op, EssOptions options = EssOptions()) {
  const EssCurve fast = computeEss(op, options);
  const EssCurve exact = computeEssBySvd(op, options);
  QCOMPARE(fast.tolerance.size(), exact.tolerance.size());
  for (size_t h = 0; h < fast.tolerance.size(); ++h)
    for (size_t i = 0; i < fast.splits.size(); ++i) {
      const QString where = QString("head %1 split %2").arg(h).arg(fast.splits[i]);
      QVERIFY2(fast.tolerance[h][i] == exact.tolerance[h][i],
               qPrintable(where + QString(": %1 vs %2").arg(fast.tolerance[h][i]).arg(exact.tolerance[h][i])));
      if (exact.entropy[h][i] == 0.0)
        QVERIFY2(fast.entropy[h][i] == 0.0, qPrintable(where));
      else
        QVERIFY2(
            relErr(fast.entropy[h][i], exact.entropy[h][i]) < 1e-6,
            qPrintable(where +
                       QString(": %1 vs %2").arg(fast.entropy[h][i], 0, 'g', 17).arg(exact.entropy[h][i], 0, 'g', 17)));
    }
}

std::vector<double> gaussian(size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> g;
  std::vector<double> v(n);
  for (auto& x : v) x = g(rng);
  return v;
}

// A causal softmax attention head: q, k ~ N(0, 1) of width d, rotated by RoPE, scores
// scale * q.k / sqrt(d).
Array attention(int L, int d, double scale, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> q = gaussian(static_cast<size_t>(L) * d, rng), k = gaussian(static_cast<size_t>(L) * d, rng);
  const int half = d / 2;
  for (int p = 0; p < L; ++p)
    for (int i = 0; i < half; ++i) {
      const double angle = p * std::pow(10000.0, -static_cast<double>(i) / half);
      for (auto* x : {&q, &k}) {
        double& a = (*x)[static_cast<size_t>(p) * d + i];
        double& b = (*x)[static_cast<size_t>(p) * d + i + half];
        const double a0 = a, b0 = b;
        a = a0 * std::cos(angle) - b0 * std::sin(angle);
        b = a0 * std::sin(angle) + b0 * std::cos(angle);
      }
    }
  Array t = square(L);
  for (int r = 0; r < L; ++r) {
    std::vector<double> s(r + 1);
    double top = -std::numeric_limits<double>::infinity(), sum = 0.0;
    for (int c = 0; c <= r; ++c) {
      double dot = 0.0;
      for (int i = 0; i < d; ++i) dot += q[static_cast<size_t>(r) * d + i] * k[static_cast<size_t>(c) * d + i];
      s[c] = scale * dot / std::sqrt(d);
      top = std::max(top, s[c]);
    }
    for (int c = 0; c <= r; ++c) sum += (s[c] = std::exp(s[c] - top));
    for (int c = 0; c <= r; ++c) at(t, L, r, c) = s[c] / sum;
  }
  return t;
}

// T[r, c] = sum_n q[r, n] k[c, n] prod_{c < t <= r} a[t, n], a in (0.9, 1): rank <= n per block.
Array gla(int L, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> decay(0.9, 1.0);
  const std::vector<double> q = gaussian(static_cast<size_t>(L) * n, rng),
                            k = gaussian(static_cast<size_t>(L) * n, rng);
  std::vector<double> cum(static_cast<size_t>(L) * n);
  for (int p = 0; p < L; ++p)
    for (int i = 0; i < n; ++i)
      cum[static_cast<size_t>(p) * n + i] = (p ? cum[static_cast<size_t>(p - 1) * n + i] : 0.0) + std::log(decay(rng));
  Array t = square(L);
  for (int r = 0; r < L; ++r)
    for (int c = 0; c <= r; ++c) {
      double v = 0.0;
      for (int i = 0; i < n; ++i)
        v += q[static_cast<size_t>(r) * n + i] * k[static_cast<size_t>(c) * n + i] *
             std::exp(cum[static_cast<size_t>(r) * n + i] - cum[static_cast<size_t>(c) * n + i]);
      at(t, L, r, c) = v;
    }
  return t;
}

// Orthonormal columns (Gram-Schmidt twice) of a random rows x cols matrix, row-major.
std::vector<double> orthonormal(int rows, int cols, std::mt19937_64& rng) {
  std::vector<double> u = gaussian(static_cast<size_t>(rows) * cols, rng);
  for (int j = 0; j < cols; ++j)
    for (int pass = 0; pass < 2; ++pass) {
      for (int i = 0; i < j; ++i) {
        double dot = 0.0;
        for (int r = 0; r < rows; ++r) dot += u[r * cols + i] * u[r * cols + j];
        for (int r = 0; r < rows; ++r) u[r * cols + j] -= dot * u[r * cols + i];
      }
      double norm = 0.0;
      for (int r = 0; r < rows; ++r) norm += u[r * cols + j] * u[r * cols + j];
      for (int r = 0; r < rows; ++r) u[r * cols + j] /= std::sqrt(norm);
    }
  return u;
}

// A lower-triangular operator whose block at split s0 is exactly U diag(sigma) V^T (dense
// random orthonormal U, V) and whose other entries are zero.
Array withSpectrumAt(int L, int s0, const std::vector<double>& sigma, unsigned seed) {
  std::mt19937_64 rng(seed);
  const int k = static_cast<int>(sigma.size());
  const std::vector<double> u = orthonormal(L - s0, k, rng), v = orthonormal(s0, k, rng);
  Array t = square(L);
  for (int r = s0; r < L; ++r)
    for (int c = 0; c < s0; ++c) {
      double x = 0.0;
      for (int i = 0; i < k; ++i) x += u[(r - s0) * k + i] * sigma[i] * v[c * k + i];
      at(t, L, r, c) = x;
    }
  for (int r = 0; r < L; ++r) at(t, L, r, r) = 1.0;
  return t;
}

}  // namespace

class TestDenseEngine : public QObject {
  Q_OBJECT
 private slots:
  void randomFullRank() {
    std::mt19937_64 rng(1);
    const int L = 160;
    Array t = square(L);
    const std::vector<double> g = gaussian(static_cast<size_t>(L) * L, rng);
    for (int r = 0; r < L; ++r)
      for (int c = 0; c <= r; ++c) at(t, L, r, c) = g[static_cast<size_t>(r) * L + c];
    compareWithSvd(t);
    compareWithSvd(t, EssOptions().normalization(Normalization::Sum).tolerance(1e-4));
  }

  void attentionHeads() {
    compareWithSvd(attention(192, 16, 1.0, 2));
    // Near-uniform attention: clusters of singular values far below sigma_1.
    compareWithSvd(attention(192, 16, 0.1, 3));
    compareWithSvd(attention(160, 16, 0.1, 4), EssOptions().tolerance(1e-6));
  }

  void lowRankGla() {
    const Array t = gla(200, 8, 5);
    compareWithSvd(t);
    compareWithSvd(t, EssOptions().normalization(Normalization::None).tolerance(1e-10));
    compareWithSvd(gla(150, 2, 6), EssOptions().splits(parseSplitRange("1::3")));
    // The exact rank: 8 nonzero singular values at most, tolerance 1e-9 counts all of them.
    const EssCurve c = computeEss(t, EssOptions().tolerance(1e-9));
    for (size_t i = 0; i < c.splits.size(); ++i) {
      const int s = c.splits[i];
      QVERIFY2(c.tolerance[0][i] <= std::min({8, s, 200 - s}), qPrintable(QString::number(s)));
    }
    QCOMPARE(c.tolerance[0][99], 8.0);
  }

  void trainedDemos_data() {
    QTest::addColumn<QString>("file");
    for (const auto& f : referenceFiles())
      QTest::newRow(std::filesystem::path(f).stem().string().c_str()) << QString::fromStdString(f);
  }
  void trainedDemos() {
    QFETCH(QString, file);
    const NamedArrays ref = readSafetensorArrays(file.toStdString());
    compareWithSvd(*ref.find("operator"));
    compareWithSvd(*ref.find("operator"), EssOptions().tolerance(1e-10));
  }

  void exactRankDeficiency() {
    // T = U V^T below the diagonal with U, V of width 3: every H_s has rank min(3, s, L - s).
    std::mt19937_64 rng(7);
    const int L = 120;
    const std::vector<double> u = gaussian(L * 3, rng), v = gaussian(L * 3, rng);
    Array t = square(L);
    for (int r = 0; r < L; ++r)
      for (int c = 0; c <= r; ++c)
        at(t, L, r, c) = u[r * 3] * v[c * 3] + u[r * 3 + 1] * v[c * 3 + 1] + u[r * 3 + 2] * v[c * 3 + 2];
    compareWithSvd(t);
    const EssCurve c = computeEss(t, EssOptions().tolerance(1e-9));
    for (size_t i = 0; i < c.splits.size(); ++i)
      QCOMPARE(c.tolerance[0][i], double(std::min({3, c.splits[i], L - c.splits[i]})));
  }

  void allZeroBlocks() {
    // Columns 0..59 are zero: H_s = 0 for s <= 60 (ESS 0); a rank-2 part after that.
    const int L = 120;
    Array t = square(L, 2);
    std::mt19937_64 rng(8);
    const std::vector<double> g = gaussian(L * 2, rng);
    for (int r = 0; r < L; ++r)
      for (int c = 60; c <= r; ++c) at(t, L, r, c) = g[r] * g[L + c] + (r == c ? 1.0 : 0.0);
    // Head 1 is all zero.
    compareWithSvd(t);
    const EssCurve c = computeEss(t, EssOptions());
    for (size_t i = 0; i < c.splits.size(); ++i) {
      QCOMPARE(c.tolerance[1][i], 0.0);
      QCOMPARE(c.entropy[1][i], 0.0);
      if (c.splits[i] <= 60) QCOMPARE(c.tolerance[0][i], 0.0);
    }
  }

  void straddlingThreshold() {
    // At split 48 the singular values are 1, 1e-3 (1 + d), 1e-3 (1 - d), 1e-5: with the
    // default tolerance 1e-3 (max), exactly two exceed the threshold.
    for (double d : {1e-6, 1e-9, 1e-12}) {
      const Array t = withSpectrumAt(128, 48, {1.0, 1e-3 * (1 + d), 1e-3 * (1 - d), 1e-5}, 9);
      compareWithSvd(t);
      const EssCurve c = computeEss(t, EssOptions().splits({48, 48, 1}));
      QCOMPARE(c.tolerance[0][0], 2.0);
      compareWithSvd(t, EssOptions().tolerance(1e-5 / (1 + d)));
    }
  }

  void decayingSpectra() {
    // Geometric spectra at split 64 from 1 down to 1e-5 (below the old 3e-4 Gram cut-off, within
    // reach of the certified Gram bound), 1e-8 and 1e-12 (only the plain SVD resolves them).
    for (double floor : {1e-5, 1e-8, 1e-12}) {
      const int k = 48;
      std::vector<double> sigma(k);
      for (int i = 0; i < k; ++i) sigma[i] = std::pow(floor, static_cast<double>(i) / (k - 1));
      const Array t = withSpectrumAt(160, 64, sigma, 11);
      compareWithSvd(t);
      compareWithSvd(t, EssOptions().normalization(Normalization::Sum).tolerance(1e-4));
      // At the split itself both ESS are those of `sigma`; the fast paths' certified bound is
      // 5e-7 relative for entropy-ESS.
      const EssCurve c = computeEss(t, EssOptions().splits({64, 64, 1}).tolerance(1e-4));
      QCOMPARE(c.tolerance[0][0], toleranceEss(sigma, 1e-4, Normalization::Max));
      QVERIFY2(relErr(c.entropy[0][0], entropyEss(sigma)) < 5.1e-7,
               qPrintable(QString("%1 vs %2").arg(c.entropy[0][0], 0, 'g', 17).arg(entropyEss(sigma), 0, 'g', 17)));
    }
  }

  void nearUniformAttention() {
    // Scores scaled by 0.1 (bench/dense_operators.py's `smooth`): at the middle splits hundreds
    // of singular values lie between ~1e-7 and 1e-3 sigma_1, too uncertain from the Gram matrix
    // alone; the refinement from H_s must run, and agree with the plain SVD.
    const long before = detail::denseRefinedBlocks();
    compareWithSvd(attention(288, 16, 0.1, 21));
    compareWithSvd(attention(320, 16, 0.1, 22));
    compareWithSvd(attention(320, 16, 0.1, 22), EssOptions().normalization(Normalization::Sum).tolerance(1e-5));
    QVERIFY2(detail::denseRefinedBlocks() > before, "no block took the refinement");
  }

  void sameCurvesOnAnyThreads() {
    // Runs of splits are fixed before threads take them, so the curves do not depend on the
    // number of threads, bit for bit.
    for (const Array& t : {attention(320, 16, 0.1, 23), gla(256, 8, 24)}) {
      const EssCurve one = computeEss(t, EssOptions().threads(1));
      for (int n : {2, 3, 8}) {
        const EssCurve c = computeEss(t, EssOptions().threads(n));
        QVERIFY2(c.tolerance == one.tolerance, qPrintable(QString("%1 threads").arg(n)));
        QVERIFY2(c.entropy == one.entropy, qPrintable(QString("%1 threads").arg(n)));
      }
    }
  }

  void clusteredSmallValues() {
    // At split 128 of L = 256: 24 values from 1 down to 1e-2, a tight cluster of 60 at
    // 1e-5 (1 - spread i), 30 at 1e-7 (1 - 10 spread i) and 14 exact zeros (rank 114 of 128);
    // spread 1e-9: clusters all but degenerate.
    for (double spread : {1e-4, 1e-9}) {
      std::vector<double> sigma;
      for (int i = 0; i < 24; ++i) sigma.push_back(std::pow(1e-2, i / 23.0));
      for (int i = 0; i < 60; ++i) sigma.push_back(1e-5 * (1.0 - spread * i));
      for (int i = 0; i < 30; ++i) sigma.push_back(1e-7 * (1.0 - 10 * spread * i));
      const Array t = withSpectrumAt(256, 128, sigma, 25);
      compareWithSvd(t, EssOptions().splits({120, 136, 1}));
      compareWithSvd(t, EssOptions().splits({128, 128, 1}).tolerance(1e-6));
      const EssCurve c = computeEss(t, EssOptions().splits({128, 128, 1}).tolerance(1e-6));
      QCOMPARE(c.tolerance[0][0], 84.0);
      QVERIFY2(relErr(c.entropy[0][0], entropyEss(sigma)) < 5.1e-7,
               qPrintable(QString("%1 vs %2").arg(c.entropy[0][0], 0, 'g', 17).arg(entropyEss(sigma), 0, 'g', 17)));
    }
  }

  void bandedNearUniform() {
    // Near-uniform attention in a window of 200 at L = 256: the band corner is the whole block
    // at the middle splits, so the Gram path and its refinement decide there.
    Array t = attention(256, 16, 0.1, 26);
    const int L = 256, w = 200;
    for (int r = 0; r < L; ++r) {
      double sum = 0.0;
      for (int c = 0; c <= r; ++c) {
        if (r - c >= w) at(t, L, r, c) = 0.0;
        sum += at(t, L, r, c);
      }
      for (int c = 0; c <= r; ++c) at(t, L, r, c) /= sum;
    }
    QCOMPARE(detectBandwidth(t), w);
    compareWithSvd(t);
  }

  void nanRefused() {
    Array t = gla(64, 4, 10);
    at(t, 64, 40, 3) = std::numeric_limits<double>::quiet_NaN();
    QVERIFY_THROWS_EXCEPTION(InputError, computeEss(t, EssOptions()));
    QVERIFY_THROWS_EXCEPTION(InputError, computeEssBySvd(t, EssOptions()));
    at(t, 64, 40, 3) = std::numeric_limits<double>::infinity();
    QVERIFY_THROWS_EXCEPTION(InputError, computeEss(t, EssOptions()));
  }
};

QTEST_GUILESS_MAIN(TestDenseEngine)
#include "test_dense_engine.moc"
