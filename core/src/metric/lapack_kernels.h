// Small dense kernels of the ESS engines, called on raw buffers straight into LAPACK (no ATen
// dispatch, which costs microseconds per call): singular values only (xGESVD with JOBU = JOBVT
// = 'N': bidiagonalization + dqds, high relative accuracy on the bidiagonal) and singular values
// from a Gram matrix (tridiagonalization + DSTERF) with an accuracy guard. Thread-safe: each
// thread keeps its own workspace.
#pragma once
#include <vector>

namespace ess::lapack {

/// Singular values of the m x n column-major matrix `a` (leading dimension lda >= max(1, m)),
/// descending, into sigma[0 .. min(m, n)). Destroys `a`. Throws InputError when LAPACK fails
/// (it does not converge, or `a` holds NaN).
void singularValues(double* a, int m, int n, int lda, double* sigma);
void singularValues(float* a, int m, int n, int lda, float* sigma);

/// Singular values sigma_k = sqrt(lambda_k) of a block X from its Gram matrix G = X^T X (or
/// X X^T), n x n, lower triangle in the column-major `g` (leading dimension ld; destroyed),
/// descending into `sigma` (resized to n). Eigenvalues by Householder tridiagonalization (Eigen
/// for n <= 96, LAPACK DSYTRD above) and DSTERF, in float64. Squaring loses singular values
/// below ~1e-8 sigma_1, so the result is refused (returns false, `sigma` unspecified) unless
/// every lambda_k >= 1e-7 lambda_1 (sigma_k >= ~3e-4 sigma_1, accurate to ~1e-7 relative or
/// better) and lambda_1 lies within 1e-250 .. 1e250 (no underflow or overflow); callers then
/// fall back to singularValues(). (The structured engine's guard; the dense engine certifies
/// gramEigenvalues() instead.)
bool gramSingularValues(double* g, int n, int ld, std::vector<double>& sigma);

/// Eigenvalues of the symmetric n x n matrix whose lower triangle is in the column-major `g`
/// (leading dimension ld; destroyed), descending into `lambda` (resized to n), by the same
/// tridiagonalization and DSTERF as gramSingularValues, with no accuracy guard: each is an exact
/// eigenvalue of g + F, ||F||_2 <= ~n eps ||g||_2 (LAPACK's backward error). False when DSTERF
/// does not converge or a value is not finite.
/// With `keep`, the tridiagonalization is always DSYTRD's (lower), and its T = Q^T g Q (diagonal
/// d, subdiagonal e) and Q (reflectors left in `g`, scalars in tau) are kept for
/// smallestEigenvectors().
struct Tridiagonal {
  std::vector<double> d, e, tau;
};
bool gramEigenvalues(double* g, int n, int ld, std::vector<double>& lambda, Tridiagonal* keep = nullptr);

/// Eigenvectors of the k smallest eigenvalues of the matrix that gramEigenvalues(g, n, ld, ...,
/// &t) reduced (`g` as it left it), orthonormal to working precision: DSTEMR (MRRR) on T, then
/// DORMTR applies Q. Into the column-major n x k `v` (leading dimension n), ascending; their
/// eigenvalues (of T) into `w`. False when DSTEMR fails.
bool smallestEigenvectors(double* g, int n, int ld, const Tridiagonal& t, int k, double* v, std::vector<double>& w);

/// Truncated QR with column pivoting of the m x n column-major `a` (leading dimension lda;
/// overwritten), in blocks of LAPACK DLAQPS as DGEQP3 runs them: a P = Q [R11 R12; 0 R22] with
/// R11 k x k upper triangular. After each block the trailing R22 is formed exactly; the
/// factorization stops at the first k with ||R22||_F <= `stop` (or k = min(m, n)) and returns
/// k, with R = [R11 R12] in the upper triangle of the first k rows of `a` and ||R22||_F in
/// `residual`. Returns -1 (without finishing) once k would exceed `maxRank`. Throws InputError
/// on a LAPACK failure. Cost about 4 m n k flops, against ~4 m n^2 for an SVD.
int truncatedPivotedQr(double* a, int m, int n, int lda, int maxRank, double stop, double& residual);

/// Singular values of the n x n upper bidiagonal matrix with diagonal d[0 .. n) and
/// superdiagonal e[0 .. n-1) (both destroyed), descending into d: LAPACK DBDSQR without vectors
/// (dqds, high relative accuracy), the second half of singularValues(). Throws InputError when
/// it does not converge.
void bidiagonalSingularValues(double* d, double* e, int n);

/// Column-major BLAS-3 products of the dense engine's Gram refinement (each result's leading
/// dimension is its number of rows): the lower triangle of C = A^T A (A rows x n, C n x n);
/// C = G V (G symmetric n x n, lower triangle, leading dimension ldg; V n x k); C = X V (m x k),
/// X m x n given as its transpose (column-major n x m, leading dimension ldx) when `transposed`.
void syrkLower(int n, int rows, const double* a, int lda, double* c);
void symmLower(int n, int k, const double* g, int ldg, const double* v, double* c);
void gemm(bool transposed, int m, int k, int n, const double* x, int ldx, const double* v, int ldv, double* c);

}  // namespace ess::lapack
