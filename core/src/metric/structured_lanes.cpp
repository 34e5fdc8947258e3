// Lane kernels of the structured ESS engine (see structured_lanes.h). Every loop over `l` runs
// across the kLanes channels and is vectorized (this file is compiled with -fno-math-errno so
// that sqrt vectorizes too).
#include "metric/structured_lanes.h"

#include <cmath>
#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ESS_LANE_KERNEL __attribute__((target_clones("arch=skylake-avx512", "arch=haswell", "default")))
#else
#define ESS_LANE_KERNEL
#endif

namespace ess::lanes {
namespace {
constexpr int W = kLanes;
inline size_t at(int i, int k, int N) { return (static_cast<size_t>(i) * N + k) * W; }
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
      c[l] = skip ? 1.0 : r / hyp[l];
      s[l] = skip ? 0.0 : b[l] / hyp[l];
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
inline void reflector(double* x, size_t stride, int n, double* beta, double* tau) {
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
    beta[l] = none ? alpha : b;
    tau[l] = none ? 0.0 : (b - alpha) / b;
    scale[l] = none ? 0.0 : 1.0 / (alpha - b);
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

}  // namespace ess::lanes
