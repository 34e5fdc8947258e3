// Lane kernels of the structured ESS engine (see structured_lanes.h). Every loop over `l` runs
// across the kLanes channels and is vectorized (this file is compiled with -fno-math-errno so
// that sqrt vectorizes too).
#include "metric/structured_lanes.h"

#include <cmath>
#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ESS_LANE_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ESS_LANE_KERNEL
#endif
// The lanes of one loop never alias: GCC vectorizes without run-time checks (the sanitizer
// build's clang is left to its own analysis).
#if defined(__clang__)
#define ESS_IVDEP
#else
#define ESS_IVDEP _Pragma("GCC ivdep")
#endif

namespace ess::lanes {
namespace {
constexpr int W = kLanes;
__attribute__((always_inline)) inline size_t at(int i, int k, int N) { return (static_cast<size_t>(i) * N + k) * W; }
}  // namespace

ESS_LANE_KERNEL void applyDecay(double* R, const double* a, int N, bool perHead) {
  for (int i = 0; i < N; ++i)
    for (int k = i; k < N; ++k) {
      double* r = R + at(i, k, N);
      const double* ak = perHead ? a : a + static_cast<size_t>(k) * W;
      for (int l = 0; l < W; ++l) r[l] *= ak[l];
    }
}

ESS_LANE_KERNEL void appendRow(double* R, const double* x, int N, double* work) {
  for (size_t i = 0; i < static_cast<size_t>(N) * W; ++i) work[i] = x[i];
  for (int j = 0; j < N; ++j) {
    double* Rj = R + at(j, 0, N);
    const double* b = work + static_cast<size_t>(j) * W;
    double c[W], s[W], hyp[W], sq[W];
    bool any = false;
    for (int l = 0; l < W; ++l) {
      const double r = Rj[j * W + l];
      sq[l] = r * r + b[l] * b[l];
      hyp[l] = std::sqrt(sq[l]);
      any |= b[l] != 0.0;
    }
    if (!any) continue;
    // std::hypot only where the squares could under/overflow (as in the one-channel kernel).
    for (int l = 0; l < W; ++l)
      if (b[l] != 0.0 && !(sq[l] > 1e-290 && sq[l] < 1e290)) hyp[l] = std::hypot(Rj[j * W + l], b[l]);
    for (int l = 0; l < W; ++l) {
      const double r = Rj[j * W + l];
      const bool skip = b[l] == 0.0;  // no rotation: c = 1, s = 0 leave both rows as they are
      const double h = skip ? 1.0 : hyp[l];
      c[l] = skip ? 1.0 : r / h;
      s[l] = skip ? 0.0 : b[l] / h;
      Rj[j * W + l] = skip ? r : hyp[l];
    }
    for (int k = j + 1; k < N; ++k) {
      double* rk = Rj + static_cast<size_t>(k) * W;
      double* wk = work + static_cast<size_t>(k) * W;
      for (int l = 0; l < W; ++l) {
        const double x0 = rk[l], y0 = wk[l];
        rk[l] = c[l] * x0 + s[l] * y0;
        wk[l] = c[l] * y0 - s[l] * x0;
      }
    }
  }
}

ESS_LANE_KERNEL void product(const double* RF, const double* RP, int N, double* M) {
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      double acc[W] = {};
      for (int k = i > j ? i : j; k < N; ++k) {
        const double* f = RF + at(i, k, N);
        const double* p = RP + at(j, k, N);
        for (int l = 0; l < W; ++l) acc[l] += f[l] * p[l];
      }
      double* m = M + at(i, j, N);
      for (int l = 0; l < W; ++l) m[l] = acc[l];
    }
}

namespace {
// LAPACK's DLARFG per lane on x (stride `stride` lanes-blocks, n entries, x[0] = alpha):
// H = I - tau v v^T with v[0] = 1 maps x to (beta, 0, ...); v[1..] overwrite x[1..].
// A lane whose x[1..] is zero gets tau = 0 and beta = alpha.
__attribute__((always_inline)) inline void reflector(double* x, size_t stride, int n, double* beta, double* tau) {
  double xn2[W] = {};
  for (int i = 1; i < n; ++i) {
    const double* xi = x + i * stride;
    for (int l = 0; l < W; ++l) xn2[l] += xi[l] * xi[l];
  }
  double scale[W];
  for (int l = 0; l < W; ++l) {
    const double alpha = x[l];
    const bool none = xn2[l] == 0.0;
    const double b = -std::copysign(std::sqrt(alpha * alpha + xn2[l]), alpha);
    // Divisors replaced by 1 where unused, so that the selects need no branch.
    beta[l] = none ? alpha : b;
    tau[l] = none ? 0.0 : (b - alpha) / (none ? 1.0 : b);
    scale[l] = none ? 0.0 : 1.0 / (none ? 1.0 : alpha - b);
  }
  for (int i = 1; i < n; ++i) {
    double* xi = x + i * stride;
    for (int l = 0; l < W; ++l) xi[l] *= scale[l];
  }
}
}  // namespace

ESS_LANE_KERNEL void bidiagonalize(double* M, int N, double* d, double* e) {
  double beta[W], tau[W], w[W];
  for (int j = 0; j < N; ++j) {
    // Left reflector: column j, rows j..N-1, applied to columns j+1..N-1.
    reflector(M + at(j, j, N), static_cast<size_t>(N) * W, N - j, beta, tau);
    for (int l = 0; l < W; ++l) d[j * W + l] = beta[l];
    for (int c = j + 1; c < N; ++c) {
      for (int l = 0; l < W; ++l) w[l] = M[at(j, c, N) + l];
      for (int i = j + 1; i < N; ++i) {
        const double* v = M + at(i, j, N);
        const double* m = M + at(i, c, N);
        for (int l = 0; l < W; ++l) w[l] += v[l] * m[l];
      }
      for (int l = 0; l < W; ++l) w[l] *= tau[l];
      double* mj = M + at(j, c, N);
      for (int l = 0; l < W; ++l) mj[l] -= w[l];
      for (int i = j + 1; i < N; ++i) {
        const double* v = M + at(i, j, N);
        double* m = M + at(i, c, N);
        for (int l = 0; l < W; ++l) m[l] -= w[l] * v[l];
      }
    }
    if (j + 1 >= N) break;
    // Right reflector: row j, columns j+1..N-1, applied to rows j+1..N-1.
    reflector(M + at(j, j + 1, N), W, N - j - 1, beta, tau);
    for (int l = 0; l < W; ++l) e[j * W + l] = beta[l];
    for (int i = j + 1; i < N; ++i) {
      double* row = M + at(i, 0, N);
      for (int l = 0; l < W; ++l) w[l] = row[(j + 1) * W + l];
      for (int c = j + 2; c < N; ++c) {
        const double* v = M + at(j, c, N);
        for (int l = 0; l < W; ++l) w[l] += row[c * W + l] * v[l];
      }
      for (int l = 0; l < W; ++l) w[l] *= tau[l];
      for (int l = 0; l < W; ++l) row[(j + 1) * W + l] -= w[l];
      for (int c = j + 2; c < N; ++c) {
        const double* v = M + at(j, c, N);
        for (int l = 0; l < W; ++l) row[c * W + l] -= w[l] * v[l];
      }
    }
  }
}

ESS_LANE_KERNEL unsigned bidiagonalSingularValues(double* d, double* e, int N) {
  constexpr double eps = 2.220446049250313e-16;
  double tiny[W] = {};
  for (int i = 0; i < N; ++i)
    for (int l = 0; l < W; ++l) {
      tiny[l] = std::fmax(tiny[l], std::fabs(d[i * W + l]));
      if (i + 1 < N) tiny[l] = std::fmax(tiny[l], std::fabs(e[i * W + l]));
    }
  for (int l = 0; l < W; ++l) tiny[l] *= 0.01 * eps;  // below the normwise rounding of |B|
  unsigned failed = 0;
  int lo[W], hi[W];
  double y[W] = {}, z[W] = {}, mu[W] = {};
  for (int iteration = 0;; ++iteration) {
    // Deflation: negligible superdiagonal entries split the matrix.
    for (int k = 0; k + 1 < N; ++k)
      for (int l = 0; l < W; ++l) {
        double& ek = e[k * W + l];
        if (std::fabs(ek) <= eps * (std::fabs(d[k * W + l]) + std::fabs(d[(k + 1) * W + l])) ||
            std::fabs(ek) <= tiny[l])
          ek = 0.0;
      }
    // Each lane's bottom unreduced block [lo, hi] (hi = lo: the lane is done).
    int kmin = N, kmax = 0;
    for (int l = 0; l < W; ++l) {
      int h = N - 1;
      while (h > 0 && e[(h - 1) * W + l] == 0.0) --h;
      int a = h;
      while (a > 0 && e[(a - 1) * W + l] != 0.0) --a;
      lo[l] = a;
      hi[l] = h;
      if (h > a) {
        kmin = kmin < a ? kmin : a;
        kmax = kmax > h ? kmax : h;
      }
    }
    if (kmax == 0) break;
    if (iteration >= 30 * N) {
      for (int l = 0; l < W; ++l)
        if (hi[l] > lo[l]) failed |= 1u << l;
      break;
    }
    // Wilkinson shift: the eigenvalue of the trailing 2 x 2 of B^T B nearer its last entry.
    for (int l = 0; l < W; ++l) {
      if (hi[l] == lo[l]) continue;
      const int h = hi[l];
      const double dm = d[(h - 1) * W + l], dh = d[h * W + l], em = e[(h - 1) * W + l];
      const double ep = h - 1 > lo[l] ? e[(h - 2) * W + l] : 0.0;
      const double a = dm * dm + ep * ep, b = dm * em, c = dh * dh + em * em;
      const double delta = 0.5 * (a - c);
      const double denom = delta + std::copysign(std::sqrt(delta * delta + b * b), delta);
      mu[l] = denom != 0.0 ? c - b * b / denom : c;
    }
    // One Golub-Kahan step per lane over its block, the bulge chased down by Givens rotations.
    for (int k = kmin; k < kmax; ++k) {
      double* dk = d + k * W;
      double* ek = e + k * W;
      double* dk1 = d + (k + 1) * W;
      double* ek1 = e + (k + 1) * W;  // e[N-1] is padding
      double* ekm = k > 0 ? e + (k - 1) * W : e;
      ESS_IVDEP
      for (int l = 0; l < W; ++l) {
        const bool in = (k >= lo[l]) & (k < hi[l]), first = k == lo[l], last = k + 1 == hi[l];
        const double yy = first ? dk[l] * dk[l] - mu[l] : y[l];
        const double zz = first ? dk[l] * ek[l] : z[l];
        const double r = std::sqrt(yy * yy + zz * zz), ir = 1.0 / (r > 0.0 ? r : 1.0);
        const double c = r > 0.0 ? yy * ir : 1.0, s = zz * ir;
        const double y1 = c * dk[l] + s * ek[l], e1 = c * ek[l] - s * dk[l];
        const double z1 = s * dk1[l], d1 = c * dk1[l];
        const double r2 = std::sqrt(y1 * y1 + z1 * z1), ir2 = 1.0 / (r2 > 0.0 ? r2 : 1.0);
        const double c2 = r2 > 0.0 ? y1 * ir2 : 1.0, s2 = z1 * ir2;
        const double y2 = c2 * e1 + s2 * d1, d2 = c2 * d1 - s2 * e1;
        const double z2 = s2 * ek1[l], e2 = c2 * ek1[l];
        const double oldEkm = ekm[l], oldEk = ek[l], oldDk = dk[l], oldDk1 = dk1[l], oldEk1 = ek1[l];
        ekm[l] = (in & !first) ? r : oldEkm;
        dk[l] = in ? r2 : oldDk;
        ek[l] = in ? (last ? y2 : e1) : oldEk;
        dk1[l] = in ? d2 : oldDk1;
        ek1[l] = (in & !last) ? e2 : oldEk1;
        y[l] = in ? y2 : y[l];
        z[l] = in ? z2 : z[l];
      }
    }
  }
  for (int i = 0; i < N; ++i)
    for (int l = 0; l < W; ++l) d[i * W + l] = std::fabs(d[i * W + l]);
  return failed;
}

}  // namespace ess::lanes
