// Direct LAPACK calls of the ESS engines (see lapack_kernels.h).
#include "metric/lapack_kernels.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "ess/error.h"

extern "C" {
void dgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, double* a, const int* lda, double* s,
             double* u, const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* info);
void sgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, float* a, const int* lda, float* s,
             float* u, const int* ldu, float* vt, const int* ldvt, float* work, const int* lwork, int* info);
void dsytrd_(const char* uplo, const int* n, double* a, const int* lda, double* d, double* e, double* tau, double* work,
             const int* lwork, int* info);
void dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k, const double* alpha,
            const double* a, const int* lda, const double* b, const int* ldb, const double* beta, double* c,
            const int* ldc);
void dsymm_(const char* side, const char* uplo, const int* m, const int* n, const double* alpha, const double* a,
            const int* lda, const double* b, const int* ldb, const double* beta, double* c, const int* ldc);
void dsyrk_(const char* uplo, const char* trans, const int* n, const int* k, const double* alpha, const double* a,
            const int* lda, const double* beta, double* c, const int* ldc);
void dsterf_(const int* n, double* d, double* e, int* info);
void dstemr_(const char* jobz, const char* range, const int* n, double* d, double* e, const double* vl,
             const double* vu, const int* il, const int* iu, int* m, double* w, double* z, const int* ldz,
             const int* nzc, int* isuppz, int* tryrac, double* work, const int* lwork, int* iwork, const int* liwork,
             int* info);
void dormtr_(const char* side, const char* uplo, const char* trans, const int* m, const int* n, const double* a,
             const int* lda, const double* tau, double* c, const int* ldc, double* work, const int* lwork, int* info);
void dbdsqr_(const char* uplo, const int* n, const int* ncvt, const int* nru, const int* ncc, double* d, double* e,
             double* vt, const int* ldvt, double* u, const int* ldu, double* c, const int* ldc, double* work,
             int* info);
void dlaqps_(const int* m, const int* n, const int* offset, const int* nb, int* kb, double* a, const int* lda,
             int* jpvt, double* tau, double* vn1, double* vn2, double* auxv, double* f, const int* ldf);
}

namespace ess::lapack {
namespace {

template <typename T>
std::vector<T>& workspace(size_t size) {
  thread_local std::vector<T> w;
  if (w.size() < size) w.resize(size);
  return w;
}

// Every caller hands LAPACK finite entries (operators and generators are checked for NaN and
// Inf first), so a failure means values that overflow double precision on the way.
constexpr const char* kOverflow =
    " block of finite entries, which overflow double precision in the factorization (scale the operator down)";

void check(int info, const char* routine, int m, int n) {
  if (info != 0)
    throw InputError(std::string("LAPACK ") + routine + " failed (info " + std::to_string(info) + ") on a " +
                     std::to_string(m) + " x " + std::to_string(n) + kOverflow);
}

}  // namespace

// Workspace: xGESVD with JOBU = JOBVT = 'N' needs max(3 min + max, 5 min); the blocked
// bidiagonalization runs faster with (m + n) * 64 more.
void singularValues(double* a, int m, int n, int lda, double* sigma) {
  if (m <= 0 || n <= 0) return;
  const int lwork = std::max(3 * std::min(m, n) + std::max(m, n), 5 * std::min(m, n)) + (m + n) * 64;
  auto& work = workspace<double>(lwork);
  int info = 0, one = 1;
  dgesvd_("N", "N", &m, &n, a, &lda, sigma, nullptr, &one, nullptr, &one, work.data(), &lwork, &info);
  check(info, "dgesvd", m, n);
}

void singularValues(float* a, int m, int n, int lda, float* sigma) {
  if (m <= 0 || n <= 0) return;
  const int lwork = std::max(3 * std::min(m, n) + std::max(m, n), 5 * std::min(m, n)) + (m + n) * 64;
  auto& work = workspace<float>(lwork);
  int info = 0, one = 1;
  sgesvd_("N", "N", &m, &n, a, &lda, sigma, nullptr, &one, nullptr, &one, work.data(), &lwork, &info);
  check(info, "sgesvd", m, n);
}

bool gramEigenvalues(double* g, int n, int ld, std::vector<double>& lambda, Tridiagonal* keep) {
  lambda.resize(std::max(n, 0));
  if (n <= 0) return false;
  thread_local std::vector<double> d, e, tau;
  d.resize(n);
  e.resize(std::max(1, n - 1));
  if (n <= 96 && !keep) {
    Eigen::Map<Eigen::MatrixXd, 0, Eigen::OuterStride<>> G(g, n, n, Eigen::OuterStride<>(ld));
    if (n > 1) {
      thread_local Eigen::VectorXd h;
      h.resize(n - 1);
      Eigen::internal::tridiagonalization_inplace(G, h);
    }
    for (int i = 0; i < n; ++i) d[i] = G(i, i);
    for (int i = 0; i + 1 < n; ++i) e[i] = G(i + 1, i);
  } else {
    tau.resize(n);
    const int lwork = 64 * n;
    auto& work = workspace<double>(lwork);
    int info = 0;
    dsytrd_("L", &n, g, &ld, d.data(), e.data(), tau.data(), work.data(), &lwork, &info);
    check(info, "dsytrd", n, n);
    if (keep) {
      keep->d.assign(d.begin(), d.end());
      keep->e.assign(e.begin(), e.begin() + n - 1);
      keep->tau = tau;
    }
  }
  int info = 0;
  dsterf_(&n, d.data(), e.data(), &info);
  if (info != 0) return false;
  // DSTERF sorts ascending.
  if (!std::isfinite(d[n - 1]) || !std::isfinite(d[0])) return false;
  for (int k = 0; k < n; ++k) lambda[k] = d[n - 1 - k];
  return true;
}

bool smallestEigenvectors(double* g, int n, int ld, const Tridiagonal& t, int k, double* v, std::vector<double>& w) {
  if (k <= 0 || k > n || static_cast<int>(t.d.size()) != n) return false;
  thread_local std::vector<double> d, e, z;
  thread_local std::vector<int> isuppz, iwork;
  d = t.d;
  e.assign(n, 0.0);  // DSTEMR wants length n (the last entry is workspace)
  std::copy(t.e.begin(), t.e.end(), e.begin());
  w.resize(n);
  z.resize(static_cast<size_t>(n) * n);
  isuppz.resize(2 * static_cast<size_t>(n));
  // All of them (RANGE = 'A': dqds for the values; a subset would be found by bisection, which
  // costs more than the vectors), then Q applied to the k wanted ones only.
  const double vl = 0.0, vu = 0.0;
  const int il = 0, iu = 0;
  int found = 0, tryrac = 1, info = 0, query = -1, liwork = 0;
  double lwork = 0.0;
  dstemr_("V", "A", &n, d.data(), e.data(), &vl, &vu, &il, &iu, &found, w.data(), z.data(), &n, &n, isuppz.data(),
          &tryrac, &lwork, &query, &liwork, &query, &info);
  if (info != 0) return false;
  const int lw = static_cast<int>(lwork) + 1, liw = liwork + 1;
  auto& work = workspace<double>(std::max(lw, 64 * k));
  iwork.resize(liw);
  tryrac = 1;
  dstemr_("V", "A", &n, d.data(), e.data(), &vl, &vu, &il, &iu, &found, w.data(), z.data(), &n, &n, isuppz.data(),
          &tryrac, work.data(), &lw, iwork.data(), &liw, &info);
  if (info != 0 || found != n) return false;
  w.resize(k);  // ascending
  std::copy(z.begin(), z.begin() + static_cast<size_t>(n) * k, v);
  const int lwq = 64 * k;
  dormtr_("L", "L", "N", &n, &k, g, &ld, t.tau.data(), v, &n, work.data(), &lwq, &info);
  check(info, "dormtr", n, k);
  return true;
}

bool gramSingularValues(double* g, int n, int ld, std::vector<double>& sigma) {
  if (!gramEigenvalues(g, n, ld, sigma)) return false;
  const double top = sigma.front(), low = sigma.back();
  if (!(top > 1e-250) || !(top < 1e250) || !(low >= 1e-7 * top)) return false;
  for (double& v : sigma) v = std::sqrt(v);
  return true;
}

int truncatedPivotedQr(double* a, int m, int n, int lda, int maxRank, double stop, double& residual) {
  const int minmn = std::min(m, n);
  residual = 0.0;
  if (minmn <= 0) return 0;
  constexpr int kBlock = 16;
  thread_local std::vector<int> jpvt;
  thread_local std::vector<double> tau, vn1, vn2, auxv, f;
  jpvt.resize(n);
  tau.resize(minmn);
  vn1.resize(n);
  vn2.resize(n);
  auxv.resize(kBlock);
  f.resize(static_cast<size_t>(n) * kBlock);
  for (int j = 0; j < n; ++j) {
    jpvt[j] = j + 1;
    const Eigen::Map<const Eigen::VectorXd> col(a + static_cast<size_t>(j) * lda, m);
    vn1[j] = vn2[j] = col.norm();
  }
  int k = 0;
  for (;;) {
    // ||R22||_F of the trailing block, exactly (DLAQPS has applied every reflector to it).
    const Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>> r22(a + static_cast<size_t>(k) * lda + k, m - k,
                                                                         n - k, Eigen::OuterStride<>(lda));
    residual = k < minmn ? r22.norm() : 0.0;
    if (!std::isfinite(residual))
      throw InputError("LAPACK dlaqps produced a non-finite residual on a " + std::to_string(m) + " x " +
                       std::to_string(n) + kOverflow);
    if (residual <= stop || k >= minmn) return k;
    if (k >= maxRank) return -1;
    const int jb = std::min(kBlock, minmn - k), cols = n - k, ldf = cols;
    int done = 0;
    dlaqps_(&m, &cols, &k, &jb, &done, a + static_cast<size_t>(k) * lda, &lda, jpvt.data() + k, tau.data() + k,
            vn1.data() + k, vn2.data() + k, auxv.data(), f.data(), &ldf);
    if (done <= 0)
      throw InputError("LAPACK dlaqps made no progress on a " + std::to_string(m) + " x " + std::to_string(n) +
                       " block");
    k += done;
  }
}

void bidiagonalSingularValues(double* d, double* e, int n) {
  if (n <= 0) return;
  auto& work = workspace<double>(4 * static_cast<size_t>(n));
  int info = 0, zero = 0, one = 1;
  dbdsqr_("U", &n, &zero, &zero, &zero, d, e, nullptr, &one, nullptr, &one, nullptr, &one, work.data(), &info);
  check(info, "dbdsqr", n, n);
}

// Column-major BLAS-3 products of the Gram refinement; each result's leading dimension is its
// number of rows. Lower triangle of C = A^T A, A `rows` x n, C n x n.
void syrkLower(int n, int rows, const double* a, int lda, double* c) {
  const double one = 1.0, zero = 0.0;
  dsyrk_("L", "T", &n, &rows, &one, a, &lda, &zero, c, &n);
}
// C = G V, G symmetric n x n (lower triangle, leading dimension ldg), V n x k.
void symmLower(int n, int k, const double* g, int ldg, const double* v, double* c) {
  const double one = 1.0, zero = 0.0;
  dsymm_("L", "L", &n, &k, &one, g, &ldg, v, &n, &zero, c, &n);
}
// C = X V (m x k) with X m x n stored as its transpose (column-major n x m, leading dimension
// ldx) when `transposed`, else column-major m x n.
void gemm(bool transposed, int m, int k, int n, const double* x, int ldx, const double* v, int ldv, double* c) {
  const double one = 1.0, zero = 0.0;
  dgemm_(transposed ? "T" : "N", "N", &m, &k, &n, &one, x, &ldx, v, &ldv, &zero, c, &m);
}

}  // namespace ess::lapack
