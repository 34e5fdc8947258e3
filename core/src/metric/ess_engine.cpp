// Dense ESS engine: the singular values of every block H_s of a materialized operator, per
// (head, split) from the band corner, the Gram fast path or a plain SVD (see ess_engine.h),
// spread over all cores (docs/definitions.md sections 1 and 5).
#include "ess/ess_engine.h"
#include "ess/dense_reference.h"
#include "ess/model_backend.h"

#include <Eigen/Dense>

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

#include "ess/error.h"
#include "ess/view_policy.h"
#include "metric/dense_paths.h"
#include "metric/lapack_kernels.h"

namespace ess {

namespace {
std::atomic<long> refinedBlocks{0};
}  // namespace

long detail::denseRefinedBlocks() { return refinedBlocks.load(); }

double toleranceEss(const std::vector<double>& sigma, double tolerance, Normalization n) {
  return toleranceCut(sigma, tolerance, n).count;
}

double entropyEss(const std::vector<double>& sigma) {
  double sum = 0.0;
  for (double v : sigma) sum += std::max(v, 0.0);
  if (sum <= 0.0) return 0.0;  // all-zero H_s
  double h = 0.0;
  for (double v : sigma) {
    const double p = std::max(v, 0.0) / sum;
    if (p > 0.0) h -= p * std::log(p);  // 0 log 0 = 0
  }
  return std::exp(h);
}

std::vector<int> resolveSplits(const SplitRange& range, int length) {
  if (length < 2)
    throw UsageError("splits", {": the operator has length " + std::to_string(length) + ", no split exists"});
  const int last = range.last <= 0 ? length - 1 : range.last;
  if (last < range.first)
    throw UsageError("splits", {": the first split " + std::to_string(range.first) + " comes after the last " +
                                std::to_string(last)});
  if (range.first < 1 || range.first > length - 1 || last > length - 1 || range.step <= 0)
    throw UsageError("splits", {": " + std::to_string(range.first) + ":" + std::to_string(last) + ":" +
                                std::to_string(range.step) + " is outside 1.." + std::to_string(length - 1) +
                                " for an operator of length " + std::to_string(length)});
  std::vector<int> splits;
  for (long long s = range.first; s <= last; s += range.step) splits.push_back(static_cast<int>(s));
  return splits;
}

namespace {
CudaEssFn cudaEss = nullptr;
}  // namespace

void setCudaEss(CudaEssFn fn) { cudaEss = fn; }

bool useSingleThreadedBlas() {
  static bool concurrentCallsSafe = true;
  static std::once_flag once;
  std::call_once(once, [] {
    using SetThreads = void (*)(int);
    using GetParallel = int (*)();
    if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(1);
    // openblas_get_parallel() == 0: a sequential OpenBLAS build, whose buffers are not locked.
    if (auto g = reinterpret_cast<GetParallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel")))
      concurrentCallsSafe = g() != 0;
  });
  return concurrentCallsSafe;
}

namespace {

// Singular values of rows [r0, r0 + rows) x columns [c0, c0 + cols) of the row-major L x L
// head `t`, by LAPACK's SVD (values only) in `dtype`, descending. A row-major block is the
// column-major transpose, which has the same singular values.
std::vector<double> blockSingularValues(const double* t, int L, int r0, int rows, int c0, int cols, DType dtype) {
  std::vector<double> out(std::min(rows, cols));
  if (out.empty()) return out;
  if (dtype == DType::Float32) {
    std::vector<float> a(static_cast<size_t>(rows) * cols), sv(out.size());
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        a[static_cast<size_t>(r) * cols + c] = static_cast<float>(t[static_cast<size_t>(r0 + r) * L + c0 + c]);
    lapack::singularValues(a.data(), cols, rows, cols, sv.data());
    std::copy(sv.begin(), sv.end(), out.begin());
  } else {
    std::vector<double> a(static_cast<size_t>(rows) * cols);
    for (int r = 0; r < rows; ++r)
      std::copy(t + static_cast<size_t>(r0 + r) * L + c0, t + static_cast<size_t>(r0 + r) * L + c0 + cols,
                a.begin() + static_cast<size_t>(r) * cols);
    lapack::singularValues(a.data(), cols, rows, cols, out.data());
  }
  return out;
}

// Singular values of H_s = T[s:, :s] (plain SVD).
std::vector<double> singularValuesOf(const double* t, int L, int s, DType dtype) {
  return blockSingularValues(t, L, s, L - s, 0, s, dtype);
}

// Relative change of entropy-ESS that a certified fast path may cause, half of the 1e-6 the
// tests hold the fast paths to against the plain SVD (docs/definitions.md section 5).
constexpr double kEntropyBound = 5e-7;

// Bound on the integral of max(ln(K / x), ln n) over any segment of length rho inside
// [max(0, s - rho), s + rho]: the integrand decreases, so the lowest segment is the worst;
// from 0 it is rho (ln(K / rho) + 1) (or less, when ln n is the larger term).
double segmentLogBound(double s, double rho, double K, double logCount) {
  if (rho == 0.0) return 0.0;
  const double viaZero = rho * (std::max(std::log(K / rho), logCount) + 1.0);
  const double lowest = s - rho;
  return lowest > 0.0 ? std::min(rho * std::max(std::log(K / lowest), logCount), viaZero) : viaZero;
}

// Whether tolerance-ESS and entropy-ESS of `sigma` (descending approximations of the `count`
// singular values of H_s; missing ones are 0) equal those of the exact values, given per-value
// bounds rho[k] >= |sigma_k(H_s) - sigma_k| (values matched in sorted order, Weyl),
// `rhoMissing` for the missing ones, and delta >= sum_k |sigma_k(H_s) - sigma_k| (Mirsky): the
// count is exact when no interval sigma_k +- rho[k] meets the threshold, whose reference moves
// by rho[0] (max) or delta (sum) too; entropy-ESS moves by at most exp(b) - 1, b the smaller of
// the Fannes-Audenaert bound T ln(count - 1) + h(T), T = delta / (S - delta) (the trace
// distance of the normalized vectors), and the mean-value bound. One rule for every fast path.
bool certified(const std::vector<double>& sigma, const std::vector<double>& rho, double rhoMissing, int count,
               double delta, double tolerance, Normalization n) {
  double sum = 0.0;
  for (double v : sigma) sum += v;
  const double top = sigma.empty() ? 0.0 : sigma.front();
  if (top <= 0.0) return delta == 0.0 && rhoMissing == 0.0;  // exactly zero: both ESS are 0
  const double topRho = rho.front();
  const double refLo = n == Normalization::Max ? top - topRho : n == Normalization::Sum ? sum - delta : 1.0;
  const double refHi = n == Normalization::Max ? top + topRho : n == Normalization::Sum ? sum + delta : 1.0;
  if (!(refLo > 0.0)) return false;
  const double lo = tolerance * refLo, hi = tolerance * refHi;
  const int missing = count - static_cast<int>(sigma.size());
  if (!(rhoMissing <= lo) && missing > 0) return false;  // a zero may exceed it
  for (size_t k = 0; k < sigma.size(); ++k)
    if (!(sigma[k] - rho[k] > hi || sigma[k] + rho[k] <= lo)) return false;
  if (delta <= 0.0) return true;
  if (!(sum > delta)) return false;
  double bound = std::numeric_limits<double>::infinity();
  const double t = delta / (sum - delta);
  if (t < 0.5) bound = t * std::log(std::max(1, count - 1)) - t * std::log(t) - (1.0 - t) * std::log1p(-t);
  // Mean value theorem along the segment from sigma to the exact values: dH/dsigma_j =
  // -(ln p_j + H) / S with |ln p_j + H| <= max(ln(K / sigma_j), ln count), K = S + delta >= the
  // exact sum, and S >= sum - delta on the whole segment.
  const double K = sum + delta, logCount = std::log(std::max(1, count));
  double slope = 0.0;
  for (size_t k = 0; k < sigma.size(); ++k) slope += segmentLogBound(sigma[k], rho[k], K, logCount);
  if (missing > 0) slope += missing * segmentLogBound(0.0, rhoMissing, K, logCount);
  bound = std::min(bound, slope / (sum - delta));
  return std::expm1(bound) <= kEntropyBound;
}

// Singular values of H_s when it is numerically of low rank: a truncated pivoted QR of H_s^T
// (lapack::truncatedPivotedQr) down to ||R22||_F <= 1e-12 ||H_s||_F, then an SVD of the k x n
// factor R; false (sigma unspecified) when more than `maxRank` pivots are needed, in `*overBudget`,
// or when the result is not certified. The rounding of the QR and of the SVD of R (backward
// errors of a few (m + n) eps ||H_s||_F) is added to ||R22||.
bool lowRankSingularValues(const double* t, int L, int s, const EssOptions& options, std::vector<double>& sigma,
                           bool* overBudget) {
  const int rows = s, cols = L - s, count = std::min(rows, cols);  // H_s^T, column-major
  thread_local std::vector<double> a, r;
  a.resize(static_cast<size_t>(rows) * cols);
  for (int c = 0; c < cols; ++c)
    std::copy(t + static_cast<size_t>(s + c) * L, t + static_cast<size_t>(s + c) * L + s,
              a.begin() + static_cast<size_t>(c) * rows);
  const double norm = Eigen::Map<const Eigen::VectorXd>(a.data(), static_cast<Eigen::Index>(a.size())).norm();
  double residual = 0.0;
  const int maxRank = std::max(16, count / 4);
  const int k = lapack::truncatedPivotedQr(a.data(), rows, cols, rows, maxRank, 1e-12 * norm, residual);
  *overBudget = k < 0;
  if (k < 0) return false;
  r.assign(static_cast<size_t>(k) * cols, 0.0);
  for (int c = 0; c < cols; ++c)
    for (int i = 0; i <= std::min(c, k - 1); ++i)
      r[static_cast<size_t>(c) * k + i] = a[static_cast<size_t>(c) * rows + i];
  sigma.assign(std::min(k, cols), 0.0);
  lapack::singularValues(r.data(), k, cols, std::max(1, k), sigma.data());
  const double rounding = 8.0 * (rows + cols) * std::numeric_limits<double>::epsilon() * norm;
  const double rho = residual + rounding;
  const double delta = std::sqrt(static_cast<double>(count - k)) * residual + count * rounding;
  if (!certified(sigma, std::vector<double>(sigma.size(), rho), rho, count, delta, options.tolerance_,
                 options.normalization_))
    return false;
  sigma.resize(count, 0.0);
  return true;
}

using RowMap =
    Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>>;

// The Gram fast path of one head over consecutive splits: G = H_s^T H_s (s <= L - s, indices
// c = 0..s-1) or G = H_s H_s^T (s > L - s, indices r = s..L-1), kept in float64 and updated
// from s to s + 1 in O(L n) instead of being formed again in O(L n^2).
class GramTracker {
 public:
  GramTracker(const double* t, int L) : t_(t), L_(L) {}

  // Moves to split s (incrementally from s - 1 when possible) and returns the singular values
  // of H_s, descending, sigma_k = sqrt(lambda_k(G)), or false when they are not certified
  // (certified()): with e >= ||G_computed - G||_2 (the rounding of forming and updating G,
  // tracked in err_, plus the eigensolver's backward error), each lambda_k lies within e of its
  // computed value, so sigma_k within rho_k = max(sqrt(l + e) - sqrt(l), sqrt(l) - sqrt(l - e)).
  bool singularValues(int s, const EssOptions& options, std::vector<double>& sigma) {
    const bool left = s <= L_ - s;  // G = H^T H of size s, else H H^T of size L - s
    if (s_ > 0 && s == s_ + 1 && left == left_) {
      left ? growColumns(s) : dropRow(s);
    } else {
      form(s, left);
    }
    s_ = s;
    left_ = left;
    const int n = n_;
    work_.resize(static_cast<size_t>(n) * n);
    for (int j = 0; j < n; ++j)
      std::copy(g_.data() + static_cast<size_t>(j) * ld_ + j, g_.data() + static_cast<size_t>(j) * ld_ + n,
                work_.data() + static_cast<size_t>(j) * n + j);
    if (!lapack::gramEigenvalues(work_.data(), n, n, lambda_, n > kKeepFrom ? &tri_ : nullptr)) return false;
    const double top = std::max(std::abs(lambda_.front()), std::abs(lambda_.back()));
    if (!(top < 1e250) || (top > 0.0 && top < 1e-250)) return false;  // squares over- or underflow
    const double e = err_ + (4.0 * n + 10.0) * kEps * top;
    sigma.resize(n);
    rho_.resize(n);
    double delta = 0.0;
    for (int k = 0; k < n; ++k) {
      const double l = std::max(lambda_[k], 0.0);
      sigma[k] = std::sqrt(l);
      rho_[k] = std::max(std::sqrt(l + e) - sigma[k], sigma[k] - std::sqrt(std::max(l - e, 0.0)));
      delta += rho_[k];
    }
    if (certified(sigma, rho_, 0.0, n, delta, options.tolerance_, options.normalization_)) return true;
    return n > kKeepFrom && refineSmall(s, e, options, sigma);
  }

 private:
  static constexpr double kEps = std::numeric_limits<double>::epsilon();
  // Below this size the Gram matrix is reduced by Eigen and not kept; such blocks are cheap to
  // decompose by SVD anyway.
  static constexpr int kKeepFrom = 96;

  // The uncertain small singular values resolved from H_s itself (docs/definitions.md section
  // 5): with V the computed eigenvectors of G's k smallest eigenvalues, the singular values of
  // B = X V (X = H_s or H_s^T, G = X^T X) are found from B's own Gram matrix, whose rounding
  // scales with ||B||^2, not ||H_s||^2. They stand for H_s's k smallest within
  // ||C||^2 / eta (quadratic residual bound), where ||C|| <= ||G V - V W|| / sqrt(1 - omega),
  // omega >= ||V^T V - I||, and eta is the gap between G's other eigenvalues and B's.
  bool refineSmall(int s, double e, const EssOptions& options, std::vector<double>& sigma) {
    const int n = n_;
    const bool left = left_;
    const int m = left ? L_ - s : s;  // rows of X
    // The smallest k whose refinement leaves the rest certifiable: values whose interval meets
    // the threshold, and the mean-value terms above half the entropy budget.
    double sum = 0.0, delta = 0.0;
    for (int j = 0; j < n; ++j) sum += sigma[j], delta += rho_[j];
    if (!(sum > 2.0 * delta) || !(sigma.front() > rho_.front())) return false;
    const double K = sum + delta, logCount = std::log(n), budget = 0.9 * kEntropyBound * (sum - delta);
    const double ref = options.normalization_ == Normalization::Max   ? sigma.front()
                       : options.normalization_ == Normalization::Sum ? sum
                                                                      : 1.0;
    const double slack = options.normalization_ == Normalization::Max   ? rho_.front()
                         : options.normalization_ == Normalization::Sum ? delta
                                                                        : 0.0;
    const double lo = options.tolerance_ * (ref - slack), hi = options.tolerance_ * (ref + slack);
    int kMin = 0;
    double rest = 0.0;
    for (int j = 0; j < n; ++j) {
      rest += segmentLogBound(sigma[j], rho_[j], K, logCount);
      const bool straddles = !(sigma[j] - rho_[j] > hi || sigma[j] + rho_[j] <= lo);
      if (rest > budget || straddles) {
        kMin = n - j;
        break;
      }
    }
    if (kMin <= 0 || kMin >= n) return false;
    // The cut with the widest gap among the next few (eta enters quadratically).
    int k = kMin;
    for (int c = kMin + 1; c <= std::min(n - 1, kMin + std::max(4, n / 64)); ++c)
      if (lambda_[n - c - 1] - lambda_[n - c] > lambda_[n - k - 1] - lambda_[n - k]) k = c;
    // Not when it would cost more than the plain SVD (BLAS-3 products counted at a fifth).
    const double nn = n, mm = m, kk = k;
    const double refineCost =
        (4 * nn * nn * kk + 2 * mm * nn * kk + nn * kk * kk + mm * kk * kk) / 5 + 4 * kk * kk * kk / 3;
    if (refineCost > 4 * nn * nn * (mm - nn / 3)) return false;

    v_.resize(static_cast<size_t>(n) * k);
    if (!lapack::smallestEigenvectors(work_.data(), n, n, tri_, k, v_.data(), w_)) return false;
    // omega: ||V^T V - I||_2 <= its computed Frobenius norm plus the product's rounding.
    aux_.resize(static_cast<size_t>(k) * k);
    lapack::syrkLower(k, n, v_.data(), n, aux_.data());
    double off = 0.0, vf2 = 0.0;
    for (int j = 0; j < k; ++j) {
      vf2 += aux_[static_cast<size_t>(j) * k + j];
      for (int i = j; i < k; ++i) {
        const double d = aux_[static_cast<size_t>(j) * k + i] - (i == j ? 1.0 : 0.0);
        off += (i == j ? 1.0 : 2.0) * d * d;
      }
    }
    const double gammaN = (n + 2.0) * kEps, gammaM = (m + 2.0) * kEps;
    vf2 *= 1.0 + gammaN;
    const double omega = std::sqrt(off) + gammaN * vf2;
    if (!(omega < 0.01)) return false;
    const double vf = std::sqrt(vf2);
    // ||C||: the residual G_c V - V W, its rounding, and G_c's own error err_.
    res_.resize(static_cast<size_t>(n) * k);
    lapack::symmLower(n, k, g_.data(), ld_, v_.data(), res_.data());
    double r2 = 0.0, wMax = 0.0, gf2 = 0.0;
    for (int j = 0; j < k; ++j) {
      wMax = std::max(wMax, std::abs(w_[j]));
      for (int i = 0; i < n; ++i) {
        const double r = res_[static_cast<size_t>(j) * n + i] - v_[static_cast<size_t>(j) * n + i] * w_[j];
        r2 += r * r;
      }
    }
    for (int j = 0; j < n; ++j)
      for (int i = j; i < n; ++i) gf2 += (i == j ? 1.0 : 2.0) * at(i, j) * at(i, j);
    const double residual = std::sqrt(r2) * (1.0 + 2.0 * kEps) + (gammaN + 2.0 * kEps) * (std::sqrt(gf2) + wMax) * vf;
    const double cNorm = (residual + err_ * std::sqrt(1.0 + omega)) / std::sqrt(1.0 - omega);
    // B = X V and its Gram matrix; beta >= ||fl(X V) - X V||_F.
    b_.resize(static_cast<size_t>(m) * k);
    const double* x = t_ + static_cast<size_t>(s) * L_;
    lapack::gemm(left, m, k, n, x, L_, v_.data(), n, b_.data());
    const double xf = std::sqrt(trace() + n * err_);
    const double beta = gammaN * xf * vf;
    aux_.resize(static_cast<size_t>(k) * k);
    lapack::syrkLower(k, m, b_.data(), m, aux_.data());
    double trace2 = 0.0;
    for (int j = 0; j < k; ++j) trace2 += aux_[static_cast<size_t>(j) * k + j];
    if (!lapack::gramEigenvalues(aux_.data(), k, k, mu_)) return false;
    const double e2 = gammaM * trace2 + (4.0 * k + 10.0) * kEps * std::max(std::abs(mu_.front()), std::abs(mu_.back()));
    // Intervals of lambda_j(W^T G W), W = V (V^T V)^(-1/2) orthonormal.
    yLo_.resize(k);
    yHi_.resize(k);
    for (int j = 0; j < k; ++j) {
      const double bHi = std::sqrt(std::max(mu_[j], 0.0) + e2) + beta;
      const double bLo = std::max(std::sqrt(std::max(mu_[j] - e2, 0.0)) - beta, 0.0);
      yHi_[j] = bHi * bHi / (1.0 - omega);
      yLo_[j] = bLo * bLo / (1.0 + omega);
    }
    const double eta = lambda_[n - k - 1] - e - cNorm - yHi_.front();
    if (!(eta > 0.0)) return false;
    const double c = cNorm * cNorm / eta;
    for (int j = 0; j < k; ++j) {
      const double v = std::sqrt(std::max(mu_[j], 0.0));
      const double vLo = std::sqrt(std::max(yLo_[j] - c, 0.0)), vHi = std::sqrt(yHi_[j] + c);
      sigma[n - k + j] = v;
      rho_[n - k + j] = std::max(vHi - v, v - vLo);
    }
    if (sigma[n - k - 1] < sigma[n - k]) return false;  // kept descending (eta > 0 implies it)
    double total = 0.0;
    for (int j = 0; j < n; ++j) total += rho_[j];
    if (!certified(sigma, rho_, 0.0, n, total, options.tolerance_, options.normalization_)) return false;
    refinedBlocks.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  double trace() const {
    double t = 0.0;
    for (int i = 0; i < n_; ++i) t += g_[static_cast<size_t>(i) * ld_ + i];
    return t;
  }

  // Lower triangle of G, column-major, leading dimension ld_ (capacity).
  double& at(int i, int j) { return g_[static_cast<size_t>(j) * ld_ + i]; }

  void reserve(int n) {
    if (n <= ld_) return;
    const int ld = std::max(n, std::min(L_, ld_ * 2 + 16));
    std::vector<double> g(static_cast<size_t>(ld) * ld, 0.0);
    for (int j = 0; j < n_; ++j)
      for (int i = j; i < n_; ++i) g[static_cast<size_t>(j) * ld + i] = at(i, j);
    g_.swap(g);
    ld_ = ld;
  }

  void form(int s, bool left) {
    const int n = left ? s : L_ - s;
    n_ = 0;
    reserve(n);
    n_ = n;
    Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>> G(g_.data(), n, n, Eigen::OuterStride<>(ld_));
    const RowMap H(t_ + static_cast<size_t>(s) * L_, L_ - s, s, Eigen::OuterStride<>(L_));
    G.setZero();
    if (left)
      G.selfadjointView<Eigen::Lower>().rankUpdate(H.transpose());
    else
      G.selfadjointView<Eigen::Lower>().rankUpdate(H);
    // Each entry is a dot product of length m: |error| <= gamma_m (|H|^T |H|), whose 2-norm is
    // at most ||H||_F^2 = trace(G).
    const int m = left ? L_ - s : s;
    err_ = (m + 2.0) * kEps * trace();
  }

  // s - 1 -> s with G = H^T H: remove row s - 1 of T from H (rank-one downdate) and add
  // column s - 1 (a new last row and column of G).
  void growColumns(int s) {
    const int old = n_;  // = s - 1
    reserve(old + 1);
    const double before = trace();
    const double* x = t_ + static_cast<size_t>(s - 1) * L_;  // T[s-1, 0:s-1]
    for (int j = 0; j < old; ++j) {
      const double xj = x[j];
      if (xj == 0.0) continue;
      for (int i = j; i < old; ++i) at(i, j) -= x[i] * xj;
    }
    // New row `old` of G: sum_{r >= s} T[r, c] T[r, s-1] for c = 0..s-1.
    const RowMap H(t_ + static_cast<size_t>(s) * L_, L_ - s, s, Eigen::OuterStride<>(L_));
    col_.noalias() = H.transpose() * H.col(s - 1);
    for (int c = 0; c <= old; ++c) at(old, c) = col_[c];
    n_ = old + 1;
    // Downdate: eps (|G| + 2 |x x^T|) per entry; new row and column: a dot product of length
    // L - s per entry, 2-norm at most gamma ||H||_F ||h|| (counted twice for the symmetric pair).
    double xx = 0.0;
    for (int j = 0; j < old; ++j) xx += x[j] * x[j];
    err_ += kEps * (before + 2.0 * xx) + 2.0 * (L_ - s + 2.0) * kEps * std::sqrt(trace() * std::abs(col_[old]));
  }

  // s - 1 -> s with G = H H^T: drop row s - 1 (the first index) and add column s - 1 of T
  // (rank-one update with u = T[s:, s-1]).
  void dropRow(int s) {
    const int n = n_ - 1;  // = L - s
    for (int j = 0; j < n; ++j)
      for (int i = j; i < n; ++i) at(i, j) = at(i + 1, j + 1);
    const double* u = t_ + static_cast<size_t>(s) * L_ + (s - 1);  // stride L
    for (int j = 0; j < n; ++j) {
      const double uj = u[static_cast<size_t>(j) * L_];
      if (uj == 0.0) continue;
      for (int i = j; i < n; ++i) at(i, j) += u[static_cast<size_t>(i) * L_] * uj;
    }
    n_ = n;
    // A principal submatrix keeps its error; the update adds eps (|G| + 2 |u u^T|) per entry.
    double uu = 0.0;
    for (int j = 0; j < n; ++j) uu += u[static_cast<size_t>(j) * L_] * u[static_cast<size_t>(j) * L_];
    err_ += kEps * (trace() + 2.0 * uu);
  }

  const double* t_;
  int L_;
  int s_ = 0, n_ = 0, ld_ = 0;
  bool left_ = true;
  double err_ = 0.0;  // bound on the 2-norm of G's accumulated rounding
  std::vector<double> g_, work_, lambda_, rho_;
  Eigen::VectorXd col_;
  lapack::Tridiagonal tri_;
  std::vector<double> v_, w_, aux_, res_, b_, mu_, yLo_, yHi_;
};

// `op` as float64 [H, L, L] (a view when it already is float64).
Array asHeads(const Array& op) {
  if (!op.defined()) throw InputError("operator is undefined");
  if (op.dim() == 2) return asHeads(op.reshaped({1, op.size(0), op.size(1)}));
  if (op.dim() != 3)
    throw InputError("operator must have shape [L, L] or [H, L, L], got " + std::to_string(op.dim()) + " dimensions");
  if (op.size(1) != op.size(2))
    throw InputError("operator must be square per head, got [" + std::to_string(op.size(1)) + ", " +
                     std::to_string(op.size(2)) + "]");
  return op.toFloat64();
}

// Smallest w with T[h, r, c] == 0 for all r - c >= w (see detectBandwidth).
int bandwidthOf(const double* t, int H, int L) {
  int w = 0;
  for (int h = 0; h < H; ++h)
    for (int r = 0; r < L; ++r) {
      const double* row = t + (static_cast<size_t>(h) * L + r) * L;
      for (int c = 0; c <= r - w; ++c)
        if (row[c] != 0.0) {
          w = r - c + 1;
          break;
        }
    }
  return w;
}

void checkFinite(const Array& t) {
  const double* p = t.doubles();
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    if (!std::isfinite(p[i])) throw InputError("operator holds NaN or Inf values");
}

}  // namespace

std::vector<double> splitSingularValues(const Array& op, int split, DType dtype) {
  if (!op.defined() || op.dim() != 2 || op.size(0) != op.size(1))
    throw InputError("splitSingularValues: expected an [L, L] operator");
  const int L = op.size(0);
  if (split < 1 || split > L - 1)
    throw UsageError("split " + std::to_string(split) + " is outside 1.." + std::to_string(L - 1));
  const Array t = op.toFloat64();
  checkFinite(t);  // LAPACK is handed finite entries only (lapack_kernels.cpp)
  return singularValuesOf(t.doubles(), L, split, dtype);
}

namespace {
EssCurve denseEss(const Array& op, const EssOptions& options, const ProgressFn& progress,
                  const std::atomic<bool>* cancel, bool exactSvd);
}  // namespace

EssCurve computeEss(const Array& op, const EssOptions& options, const ProgressFn& progress,
                    const std::atomic<bool>* cancel) {
  return denseEss(op, options, progress, cancel, false);
}

EssCurve computeEssBySvd(const Array& op, const EssOptions& options, const ProgressFn& progress,
                         const std::atomic<bool>* cancel) {
  if (options.device_ == Device::Cuda)
    throw UsageError("device", {" cuda: the reference SVD path runs on the CPU only"});
  return denseEss(op, options, progress, cancel, true);
}

namespace {
constexpr double kSmallCurveWork = 2e6;

EssCurve denseEss(const Array& op, const EssOptions& options, const ProgressFn& progress,
                  const std::atomic<bool>* cancel, bool exactSvd) {
  const bool concurrentLapack = useSingleThreadedBlas();
  const Array ops = asHeads(op);
  checkFinite(ops);
  const int H = ops.size(0), L = ops.size(1);
  const std::vector<int> splits = resolveSplits(options.splits_, L);
  if (options.device_ == Device::Cuda) {
    if (!cudaEss) {
      // The model library registers the CUDA path when it loads (ess/model_backend.h).
      try {
        modelBackend();
      } catch (const InputError&) {
      }
    }
    if (!cudaEss)
      throw UsageError("device", {" cuda: the CUDA path needs the model library (LibTorch), which is not loaded; use ",
                                  nameOf("device"), " cpu"});
    return cudaEss(ops, splits, options, progress, cancel);
  }
  const double* base = ops.doubles();
  const int band = bandwidthOf(base, H, L);

  EssCurve curve;
  curve.length = L;
  curve.splits = splits;
  curve.tolerance.assign(H, std::vector<double>(splits.size()));
  curve.entropy.assign(H, std::vector<double>(splits.size()));
  const long total = static_cast<long>(H) * splits.size();
  // Tasks: runs of up to kChunk consecutive evaluated splits of one head, so that the Gram
  // matrix is formed once per run and then updated split by split.
  constexpr size_t kChunk = 32;
  struct Task {
    int head;
    size_t first, last;  // indices into `splits`
  };
  std::vector<Task> tasks;
  for (int h = 0; h < H; ++h)
    for (size_t i = 0; i < splits.size(); i += kChunk) tasks.push_back({h, i, std::min(splits.size(), i + kChunk)});
  // Costliest runs (near L/2) first, so that the dynamic schedule ends evenly.
  auto cost = [&](const Task& k) {
    const int s = splits[(k.first + k.last) / 2];
    return std::min(s, L - s);
  };
  std::stable_sort(tasks.begin(), tasks.end(), [&](const Task& a, const Task& b) { return cost(a) > cost(b); });

  std::atomic<long> next{0}, done{0};
  std::atomic<bool> stopped{false};
  std::exception_ptr failure;
  std::mutex failureMutex;
  auto worker = [&]() {
    try {
      std::vector<double> sigma;
      for (;;) {
        if (stopped.load()) return;
        const long k = next.fetch_add(1);
        if (k >= static_cast<long>(tasks.size())) return;
        const Task& task = tasks[k];
        const double* head = base + static_cast<size_t>(task.head) * L * L;
        GramTracker gram(head, L);
        // Spectra change slowly from split to split: after the Gram path is refused, the
        // truncated QR is tried for the rest of the run, and after it needs too many pivots,
        // plain SVDs.
        enum class Path { Gram, LowRank, Svd } path = exactSvd ? Path::Svd : Path::Gram;
        for (size_t i = task.first; i < task.last; ++i) {
          if (cancel && cancel->load()) {
            stopped = true;
            return;
          }
          const int s = splits[i];
          if (band <= 1) {
            sigma.clear();  // H_s is exactly zero
          } else if (band - 1 < std::min(s, L - s)) {
            // Band corner: rows s .. s+w-2, columns s-w+1 .. s-1.
            const int rows = std::min(band - 1, L - s), cols = std::min(band - 1, s);
            sigma = blockSingularValues(head, L, s, rows, s - cols, cols, options.dtype_);
          } else {
            bool found = false;
            if (path == Path::Gram) {
              found = gram.singularValues(s, options, sigma);
              if (!found) path = Path::LowRank;
            }
            if (!found && path == Path::LowRank) {
              bool overBudget = false;
              found = lowRankSingularValues(head, L, s, options, sigma, &overBudget);
              if (overBudget) path = Path::Svd;
            }
            if (!found) sigma = singularValuesOf(head, L, s, options.dtype_);
          }
          curve.tolerance[task.head][i] = toleranceEss(sigma, options.tolerance_, options.normalization_);
          curve.entropy[task.head][i] = entropyEss(sigma);
          const long d = done.fetch_add(1) + 1;
          if (progress) progress(d, total);
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failureMutex);
      if (!failure) failure = std::current_exception();
      stopped = true;
    }
  };
  int threads = options.threads_ > 0 ? options.threads_ : static_cast<int>(std::thread::hardware_concurrency());
  if (!concurrentLapack) threads = 1;
  // A small curve (the trained demos, L = 64) finishes before a woken worker thread would be
  // scheduled on a busy machine: it runs on the calling thread. Work: min^2 max of each block
  // (the band corner's size when banded), ~ flops / 4.
  double work = 0.0;
  for (int s : splits) {
    const double lo = std::min(s, L - s), hi = std::max(s, L - s);
    const double w = band - 1 < lo ? std::max(band - 1, 0) : lo;
    work += band - 1 < lo ? w * w * w : w * w * hi;
  }
  if (work * H < kSmallCurveWork) threads = 1;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(tasks.size())));
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
  if (cancel && cancel->load()) throw Cancelled();
  return curve;
}
}  // namespace

int detectBandwidth(const Array& op) {
  const Array ops = asHeads(op);
  return bandwidthOf(ops.doubles(), static_cast<int>(ops.size(0)), static_cast<int>(ops.size(1)));
}

}  // namespace ess
