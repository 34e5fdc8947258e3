// Structured ESS engine: singular values of H_s = F_s P_s^T from the triangular factors of the
// future and past generators, updated split to split by Givens rotations (see structured_ess.h).
#include "ess/structured_ess.h"
#include "ess/structured_channels.h"

#include <Eigen/Dense>

#include <cmath>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__SSE2__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

#include "ess/error.h"
#include "ess/generator_form.h"
#include "metric/lapack_kernels.h"
#include "metric/structured_lanes.h"

namespace ess {
namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::string shapeOf(const Array& t) { return t.shapeText(); }

// Decays make old factor entries tiny; subnormal arithmetic is ~100x slower and those values
// are below 1e-308 of the rest, so workers flush them to zero (restored on exit).
class FlushSubnormals {
 public:
  FlushSubnormals() {
#if defined(__SSE2__)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040);  // FTZ | DAZ
#endif
  }
  ~FlushSubnormals() {
#if defined(__SSE2__)
    _mm_setcsr(saved_);
#endif
  }
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  unsigned saved_ = 0;
};

// Runs task(i, worker) for i in [0, count) on `threads` threads; rethrows the first failure,
// throws Cancelled when `cancel` was raised.
template <typename Task>
void runTasks(long count, int threads, const std::atomic<bool>* cancel, Task&& task) {
  std::atomic<long> next{0};
  std::atomic<bool> stopped{false};
  std::exception_ptr failure;
  std::mutex failureMutex;
  auto worker = [&](int w) {
    FlushSubnormals flush;
    try {
      for (;;) {
        if (stopped.load()) return;
        if (cancel && cancel->load()) return;
        const long i = next.fetch_add(1);
        if (i >= count) return;
        task(i, w);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failureMutex);
      if (!failure) failure = std::current_exception();
      stopped = true;
    }
  };
  threads = std::max(1, static_cast<int>(std::min<long>(threads, count)));
  std::vector<std::thread> pool;
  for (int w = 1; w < threads; ++w) pool.emplace_back(worker, w);
  worker(0);
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
  if (cancel && cancel->load()) throw Cancelled();
}

// One head's generators as raw float64 rows: C, B [L, N]; decays a = exp(logA) [L, N] or [L].
struct Head {
  const double* C = nullptr;
  const double* B = nullptr;
  std::vector<double> a;
  int L = 0, N = 0;
  bool perHead = false;
  const double* row(const double* x, int t) const { return x + static_cast<size_t>(t) * N; }
};

// R <- R diag(a_t): the decay of step t applied to the upper-triangular N x N factor R.
void applyDecay(double* R, const Head& h, int t) {
  const int N = h.N;
  if (h.perHead) {
    const double a = h.a[t];
    if (a == 1.0) return;
    for (int i = 0; i < N; ++i)
      for (int k = i; k < N; ++k) R[i * N + k] *= a;
  } else {
    const double* a = h.a.data() + static_cast<size_t>(t) * N;
    for (int i = 0; i < N; ++i)
      for (int k = i; k < N; ++k) R[i * N + k] *= a[k];
  }
}

// R <- the triangular factor of [R; x^T] (Givens rotations, O(N^2)); `work` holds N doubles.
void appendRow(double* R, const double* x, int N, double* work) {
  std::copy(x, x + N, work);
  for (int j = 0; j < N; ++j) {
    const double bj = work[j];
    if (bj == 0.0) continue;
    double* Rj = R + static_cast<size_t>(j) * N;
    const double r = Rj[j];
    const double sq = r * r + bj * bj;  // std::hypot only where squares could under/overflow
    const double hyp = sq > 1e-290 && sq < 1e290 ? std::sqrt(sq) : std::hypot(r, bj);
    const double c = r / hyp, s = bj / hyp;
    Rj[j] = hyp;
    for (int k = j + 1; k < N; ++k) {
      const double x0 = Rj[k], y0 = work[k];
      Rj[k] = c * x0 + s * y0;
      work[k] = c * y0 - s * x0;
    }
  }
}

bool allFinite(const double* R, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(R[i])) return false;
  return true;
}

[[noreturn]] void overflow() {
  throw InputError(
      "generators: the operator overflows (a decay log_a > 0 makes it grow without bound along the sequence)");
}

// Reusable buffers of one worker.
struct Scratch {
  std::vector<double> blockF;  // K factors R_F, N x N each
  std::vector<double> rp, row, sigma;
  RowMajor f, p;
  Eigen::MatrixXd m, g;
  bool tryGram = true;   // try the Gram fast path at the next split
  int sinceRefusal = 0;  // SVD splits since the Gram path was last refused
};

// Singular values of R_F R_P^T (only the nonzero rows of each factor take part).
void factorSingularValues(const double* Rf, const double* Rp, int N, Scratch& w) {
  auto gather = [N](const double* R, RowMajor& out) {
    int rows = 0;
    for (int i = 0; i < N; ++i) {
      const double* r = R + static_cast<size_t>(i) * N;
      bool nonzero = false;
      for (int k = i; k < N && !nonzero; ++k) nonzero = r[k] != 0.0;
      if (nonzero) ++rows;
    }
    out.setZero(rows, N);
    int o = 0;
    for (int i = 0; i < N; ++i) {
      const double* r = R + static_cast<size_t>(i) * N;
      bool nonzero = false;
      for (int k = i; k < N && !nonzero; ++k) nonzero = r[k] != 0.0;
      if (nonzero) {
        std::copy(r + i, r + N, out.row(o).data() + i);
        ++o;
      }
    }
  };
  gather(Rf, w.f);
  gather(Rp, w.p);
  const int m = static_cast<int>(w.f.rows()), n = static_cast<int>(w.p.rows());
  w.sigma.assign(std::min(m, n), 0.0);
  if (m == 0 || n == 0) return;
  w.m.noalias() = w.f * w.p.transpose();
  if (!allFinite(w.m.data(), w.m.size())) overflow();
  // Scaled to entries <= 1, so that the squares of the Gram path neither overflow nor lose the
  // large singular values to underflow.
  const double scale = w.m.cwiseAbs().maxCoeff();
  if (!(scale > 0.0)) return;  // H_s = 0
  w.m *= 1.0 / scale;
  // Gram fast path (lower triangle of the smaller Gram matrix), refused when squaring costs
  // accuracy; after a refusal the next splits go straight to the SVD for a while.
  if (w.tryGram) {
    const int k = std::min(m, n);
    w.g.setZero(k, k);
    if (n <= m)
      w.g.selfadjointView<Eigen::Lower>().rankUpdate(w.m.transpose());
    else
      w.g.selfadjointView<Eigen::Lower>().rankUpdate(w.m);
    if (lapack::gramSingularValues(w.g.data(), k, k, w.sigma)) {
      for (double& v : w.sigma) v *= scale;
      return;
    }
    w.tryGram = false;
    w.sinceRefusal = 0;
  }
  w.sigma.assign(std::min(m, n), 0.0);
  lapack::singularValues(w.m.data(), m, n, m, w.sigma.data());
  for (double& v : w.sigma) v *= scale;
  if (++w.sinceRefusal >= 16) w.tryGram = true;
}

// The validated float64 generators: C, B, logA, or (shared != nullptr, checked) the shared
// rows and scales they stand for, read only by the batched path.
struct Checked {
  Array C, B, logA;
  int H = 0, L = 0, N = 0;
  bool perHead = false;
  const SharedGeneratorArrays* shared = nullptr;
};

Checked check(const GeneratorArrays& g) {
  if (!g.C.defined() || !g.B.defined() || !g.logA.defined())
    throw InputError("generators: C, B and log_a must all be given");
  Checked c;
  c.C = g.C.toFloat64();
  c.B = g.B.toFloat64();
  c.logA = g.logA.toFloat64();
  if (c.C.dim() != 3 || c.B.shape() != c.C.shape())
    throw InputError("generators: C " + shapeOf(c.C) + " and B " + shapeOf(c.B) + " must both be [H, L, N]");
  c.H = static_cast<int>(c.C.size(0));
  c.L = static_cast<int>(c.C.size(1));
  c.N = static_cast<int>(c.C.size(2));
  const bool perState = c.logA.dim() == 3 && c.logA.size(0) == c.H && c.logA.size(1) == c.L && c.logA.size(2) == c.N;
  c.perHead = c.logA.dim() == 2 && c.logA.size(0) == c.H && c.logA.size(1) == c.L;
  if (!perState && !c.perHead)
    throw InputError("generators: log_a " + shapeOf(c.logA) + " must be [H, L, N] or [H, L] to match C " +
                     shapeOf(c.C));
  if (g.D.defined() && (g.D.dim() != 2 || g.D.size(0) != c.H || g.D.size(1) != c.L))
    throw InputError("generators: D " + shapeOf(g.D) + " must be [H, L] to match C " + shapeOf(c.C));
  for (auto [name, x] : {std::pair<const char*, const Array*>{"C", &c.C}, {"B", &c.B}, {"log_a", &c.logA}})
    if (!allFinite(x->doubles(), static_cast<size_t>(x->numel())))
      throw InputError(std::string("generators: ") + name + " holds NaN or Inf values");
  return c;
}

// ---- Channels batched: lanes::kLanes heads per group, one SIMD lane each -------------------

constexpr int kW = lanes::kLanes;

// Reusable buffers of one worker of the batched path (every array lane-interleaved).
struct LaneScratch {
  std::vector<double> blockF, rp, R, row, m, d, e, d0, e0, dl, el;
  std::vector<double> sigma[kW];
};

// Nonzero rows of each lane's upper-triangular factor R (the one-channel path drops the others).
void nonzeroRows(const double* R, int N, int* rows) {
  bool fullRank = true;  // every diagonal entry nonzero (the usual case): every row is
  for (int i = 0; i < N; ++i)
    for (int l = 0; l < kW; ++l) fullRank &= R[(static_cast<size_t>(i) * N + i) * kW + l] != 0.0;
  for (int l = 0; l < kW; ++l) rows[l] = fullRank ? N : 0;
  if (fullRank) return;
  for (int i = 0; i < N; ++i) {
    bool nz[kW] = {};
    for (int k = i; k < N; ++k) {
      const double* r = R + (static_cast<size_t>(i) * N + k) * kW;
      for (int l = 0; l < kW; ++l) nz[l] |= r[l] != 0.0;
    }
    for (int l = 0; l < kW; ++l) rows[l] += nz[l];
  }
}

// Singular values of each lane's R_F R_P^T into w.sigma[l] (min(rows of R_F, rows of R_P) of
// them, as the one-channel path): scaled to entries <= 1, bidiagonalized across the lanes,
// then the lanes' bidiagonals by lockstep QR (DBDSQR for a lane that does not converge).
void laneSingularValues(const double* Rf, const double* Rp, int N, LaneScratch& w) {
  const size_t NNW = static_cast<size_t>(N) * N * kW;
  int rowsF[kW], rowsP[kW];
  nonzeroRows(Rf, N, rowsF);
  nonzeroRows(Rp, N, rowsP);
  w.m.resize(NNW);
  lanes::product(Rf, Rp, N, w.m.data());
  double scale[kW] = {}, inv[kW];
  bool bad = false;
  for (size_t i = 0; i < NNW; i += kW)
    for (int l = 0; l < kW; ++l) {
      const double v = std::fabs(w.m[i + l]);
      bad |= !(v <= std::numeric_limits<double>::max());
      scale[l] = std::max(scale[l], v);
    }
  if (bad) overflow();
  for (int l = 0; l < kW; ++l) inv[l] = scale[l] > 0.0 ? 1.0 / scale[l] : 1.0;
  for (size_t i = 0; i < NNW; i += kW)
    for (int l = 0; l < kW; ++l) w.m[i + l] *= inv[l];
  const size_t NW = static_cast<size_t>(N) * kW;
  w.d.resize(NW);
  w.e.assign(NW, 0.0);  // e[N-1]: padding of the lane QR
  lanes::bidiagonalize(w.m.data(), N, w.d.data(), w.e.data());
  w.d0 = w.d;
  w.e0 = w.e;
  const unsigned failed = lanes::bidiagonalSingularValues(w.d.data(), w.e.data(), N);
  w.dl.resize(N);
  w.el.resize(N);
  for (int l = 0; l < kW; ++l) {
    const int k = std::min(rowsF[l], rowsP[l]);
    w.sigma[l].assign(k, 0.0);
    if (k == 0 || !(scale[l] > 0.0)) continue;  // H_s = 0
    const std::vector<double>& d = (failed >> l) & 1u ? w.d0 : w.d;
    for (int i = 0; i < N; ++i) w.dl[i] = d[static_cast<size_t>(i) * kW + l];
    if ((failed >> l) & 1u) {  // no convergence in lockstep: DBDSQR for this lane
      for (int i = 0; i + 1 < N; ++i) w.el[i] = w.e0[static_cast<size_t>(i) * kW + l];
      lapack::bidiagonalSingularValues(w.dl.data(), w.el.data(), N);
    } else {
      std::sort(w.dl.begin(), w.dl.end(), std::greater<double>());
    }
    for (int i = 0; i < k; ++i) w.sigma[l][i] = w.dl[i] * scale[l];
  }
}

// Doubles one worker of the batched path holds for a group: checkpoints, block factors, decays.
double batchedDoubles(int L, int N, long K, int blocks, int inner, bool perHead) {
  const double NNW = double(N) * N * kW;
  return (2.0 * blocks + double(inner) * K) * NNW + double(L) * (perHead ? 1 : N) * kW;
}

long batchedBlockLength(int L, int N, int inner) {
  const size_t NNW = static_cast<size_t>(N) * N * kW;
  long K = std::max<long>(static_cast<long>(std::ceil(std::sqrt(double(L)))), N);
  K = std::min<long>(K, std::max<long>(1, (1L << 21) / std::max<size_t>(NNW, 1)));
  K = std::min<long>(K, std::max<long>(1, (L - 1) / (4L * inner)));
  return std::max<long>(K, 1);
}

// The batched path: groups of kW heads spread over the threads when there are enough of them,
// else one group after another with its splits cut into blocks as in the one-channel path.
EssCurve batchedCurve(const Checked& c, const std::vector<int>& splits, const EssOptions& options, int threads,
                      const ProgressFn& progress, const std::atomic<bool>* cancel) {
  const int H = c.H, L = c.L, N = c.N;
  const size_t NNW = static_cast<size_t>(N) * N * kW;
  const int groups = (H + kW - 1) / kW;
  const int outer = groups >= threads ? threads : 1;
  const int inner = groups >= threads ? 1 : threads;
  const long K = batchedBlockLength(L, N, inner);
  const int blocks = static_cast<int>((L - 1 + K - 1) / K);

  EssCurve curve;
  curve.length = L;
  curve.splits = splits;
  curve.tolerance.assign(H, std::vector<double>(splits.size()));
  curve.entropy.assign(H, std::vector<double>(splits.size()));
  std::vector<int> column(L, -1);
  for (size_t i = 0; i < splits.size(); ++i) column[splits[i]] = static_cast<int>(i);
  auto blockStart = [&](int b) { return static_cast<int>(1 + b * K); };
  auto blockEnd = [&](int b) { return static_cast<int>(std::min<long>(1 + (b + 1) * K, L)); };
  std::vector<int> work;
  for (int b = 0; b < blocks; ++b)
    for (int s = blockStart(b); s < blockEnd(b); ++s)
      if (column[s] >= 0) {
        work.push_back(b);
        break;
      }
  const long total = static_cast<long>(H) * splits.size();
  std::atomic<long> done{0};
  const size_t stepDecays = c.perHead ? kW : static_cast<size_t>(N) * kW;

  // Buffers of each outer worker, reused from group to group: fresh ones (megabytes a group)
  // cost page faults, 8% of a Falcon-Mamba layer's profile on one machine.
  struct GroupBuffers {
    std::vector<double> a, cpP, cpF;
    std::vector<LaneScratch> scratch;
  };
  std::vector<GroupBuffers> buffers(outer);
  runTasks(groups, outer, cancel, [&](long group, int ow) {
    GroupBuffers& gb = buffers[ow];
    int head[kW];
    const int valid = std::min<int>(kW, H - static_cast<int>(group) * kW);
    for (int l = 0; l < kW; ++l) head[l] = static_cast<int>(group) * kW + std::min(l, valid - 1);  // pad: repeat
    // Decays a = exp(log a), lane-interleaved: [L][N][kW] or [L][kW].
    std::vector<double>& a = gb.a;
    a.resize(static_cast<size_t>(L) * stepDecays);
    const size_t perHeadDecays = c.perHead ? static_cast<size_t>(L) : static_cast<size_t>(L) * N;
    const SharedGeneratorArrays* sh = c.shared;
    for (int l = 0; l < kW; ++l) {
      if (sh) {  // log a[h,t,n] = step[h,t] rate[h,n], the product expandSharedGenerators forms
        const double *step = sh->step.doubles() + static_cast<size_t>(head[l]) * L,
                     *rate = sh->rate.doubles() + static_cast<size_t>(head[l]) * N;
        for (int t = 0; t < L; ++t)
          for (int n = 0; n < N; ++n) a[(static_cast<size_t>(t) * N + n) * kW + l] = std::exp(step[t] * rate[n]);
        continue;
      }
      const double* logA = c.logA.doubles() + head[l] * perHeadDecays;
      for (size_t i = 0; i < perHeadDecays; ++i) a[i * kW + l] = std::exp(logA[i]);
    }
    auto decay = [&](double* R, int t) { lanes::applyDecay(R, a.data() + t * stepDecays, N, c.perHead); };
    // Row t of C (future) or B (past) of every lane, [N][kW].
    auto gather = [&](bool future, int t, double* out) {
      if (sh) {
        const Array &rows = future ? sh->Cshared : sh->Bshared, &scales = future ? sh->cScale : sh->bScale;
        const double* x = rows.doubles() + static_cast<size_t>(t) * N;
        for (int l = 0; l < kW; ++l) {
          const double w = scales.doubles()[static_cast<size_t>(head[l]) * L + t];
          for (int n = 0; n < N; ++n) out[static_cast<size_t>(n) * kW + l] = w * x[n];
        }
        return;
      }
      const Array& X = future ? c.C : c.B;
      for (int l = 0; l < kW; ++l) {
        const double* x = X.doubles() + (static_cast<size_t>(head[l]) * L + t) * N;
        for (int n = 0; n < N; ++n) out[static_cast<size_t>(n) * kW + l] = x[n];
      }
    };
    std::vector<double>&cpP = gb.cpP, &cpF = gb.cpF;
    cpP.resize(blocks * NNW);
    cpF.resize(blocks * NNW);

    // Pass 1: R_P forward and R_F backward, kept at every block start.
    runTasks(2, std::min(inner, 2), cancel, [&](long which, int) {
      std::vector<double> R(NNW, 0.0), x(static_cast<size_t>(N) * kW), tmp(static_cast<size_t>(N) * kW);
      if (which == 0) {
        for (int s = 1; s < L; ++s) {
          gather(false, s - 1, x.data());
          lanes::appendRow(R.data(), x.data(), N, tmp.data());
          decay(R.data(), s);
          if ((s - 1) % K == 0) std::copy(R.begin(), R.end(), cpP.begin() + ((s - 1) / K) * NNW);
          if ((s & 255) == 0 && cancel && cancel->load()) return;
        }
        if (!allFinite(cpP.data(), cpP.size())) overflow();
      } else {
        for (int s = L - 1; s >= 1; --s) {
          if (s < L - 1) decay(R.data(), s + 1);
          gather(true, s, x.data());
          lanes::appendRow(R.data(), x.data(), N, tmp.data());
          if ((s - 1) % K == 0) std::copy(R.begin(), R.end(), cpF.begin() + ((s - 1) / K) * NNW);
          if ((s & 255) == 0 && cancel && cancel->load()) return;
        }
        if (!allFinite(cpF.data(), cpF.size())) overflow();
      }
    });

    // Pass 2: per block, R_F backward from the next checkpoint, then R_P forward with the
    // factorizations at the evaluated splits.
    std::vector<LaneScratch>& scratch = gb.scratch;
    scratch.resize(inner);
    runTasks(static_cast<long>(work.size()), inner, cancel, [&](long task, int wi) {
      LaneScratch& w = scratch[wi];
      const int b = work[task], s0 = blockStart(b), s1 = blockEnd(b);
      w.blockF.resize(static_cast<size_t>(K) * NNW);
      w.row.resize(static_cast<size_t>(N) * kW);
      w.R.assign(NNW, 0.0);
      std::vector<double> x(static_cast<size_t>(N) * kW);
      if (b + 1 < blocks) std::copy(cpF.begin() + (b + 1) * NNW, cpF.begin() + (b + 2) * NNW, w.R.begin());
      for (int s = s1 - 1; s >= s0; --s) {
        if (s < L - 1) decay(w.R.data(), s + 1);
        gather(true, s, x.data());
        lanes::appendRow(w.R.data(), x.data(), N, w.row.data());
        std::copy(w.R.begin(), w.R.end(), w.blockF.begin() + (s - s0) * NNW);
      }
      w.rp.assign(cpP.begin() + b * NNW, cpP.begin() + (b + 1) * NNW);
      for (int s = s0; s < s1; ++s) {
        if (column[s] >= 0) {
          if (cancel && cancel->load()) return;
          laneSingularValues(w.blockF.data() + (s - s0) * NNW, w.rp.data(), N, w);
          for (int l = 0; l < valid; ++l) {
            curve.tolerance[head[l]][column[s]] = toleranceEss(w.sigma[l], options.tolerance_, options.normalization_);
            curve.entropy[head[l]][column[s]] = entropyEss(w.sigma[l]);
          }
          const long d = done.fetch_add(valid) + valid;
          if (progress) progress(d, total);
        }
        if (s + 1 < s1) {
          gather(false, s, x.data());
          lanes::appendRow(w.rp.data(), x.data(), N, w.row.data());
          decay(w.rp.data(), s + 1);
        }
      }
    });
  });
  return curve;
}

}  // namespace

GeneratorArrays denseAsGenerators(const Array& op) {
  const Array ops = op.dim() == 2 ? op.reshaped({1, op.size(0), op.size(1)}) : op;
  if (ops.dim() != 3 || ops.size(1) != ops.size(2))
    throw InputError("denseAsGenerators: expected an operator [L, L] or [H, L, L], got " + shapeOf(op));
  const int64_t H = ops.size(0), L = ops.size(1);
  const Array t = ops.toFloat64();
  GeneratorArrays g;
  g.C = Array(ArrayDType::F64, {H, L, L});
  g.B = Array(ArrayDType::F64, {H, L, L});
  g.logA = Array(ArrayDType::F64, {H, L});
  const double* src = t.doubles();
  double *pc = g.C.doubles(), *pb = g.B.doubles();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t r = 0; r < L; ++r) {
      const size_t row = static_cast<size_t>((h * L + r) * L);
      std::copy(src + row, src + row + r + 1, pc + row);  // lower triangle
      pb[row + r] = 1.0;
    }
  return g;
}

namespace {

EssCurve structuredCurve(const Checked& c, const EssOptions& options, const ProgressFn& progress,
                         const std::atomic<bool>* cancel, bool batchChannels) {
  const bool concurrentLapack = useSingleThreadedBlas();
  // Where the shared form cannot be read in place (every path but the batched one), it is formed.
  auto expanded = [&] {
    return structuredCurve(check(expandSharedGenerators(*c.shared)), options, progress, cancel, batchChannels);
  };
  const int H = c.H, L = c.L, N = c.N;
  const std::vector<int> splits = resolveSplits(options.splits_, L);
  int threads = options.threads_ > 0 ? options.threads_ : static_cast<int>(std::thread::hardware_concurrency());
  if (!concurrentLapack) threads = 1;
  threads = std::max(1, threads);
  // Block length K: ~sqrt(L) and >= N keeps the checkpoints (2 L / K factors) within O(L N);
  // capped so each worker's K factors stay within 2^21 doubles (16 MiB), and short enough to
  // give every thread several blocks.
  const size_t NN = static_cast<size_t>(N) * N;
  long K = std::max<long>(static_cast<long>(std::ceil(std::sqrt(double(L)))), N);
  K = std::min<long>(K, std::max<long>(1, (1L << 21) / std::max<size_t>(NN, 1)));
  K = std::min<long>(K, std::max<long>(1, (L - 1) / (4L * threads)));
  K = std::max<long>(K, 1);
  const int blocks = static_cast<int>((L - 1 + K - 1) / K);  // block b: splits 1 + bK .. min(1 + (b+1)K, L) - 1
  // Checkpoints and block factors, in doubles; when they outgrow the dense operator (N close to
  // L), the dense engine is both smaller and faster.
  const double factorDoubles = (2.0 * blocks + double(threads) * K) * double(NN);
  const bool denseSmaller = factorDoubles > double(L) * L + double(1 << 24);
  if (options.algorithm_ == Algorithm::Dense || (options.algorithm_ == Algorithm::Auto && 2 * N >= L) || denseSmaller) {
    if (c.shared) return expanded();
    GeneratorArrays d{c.C, c.B, c.logA, Array()};
    EssOptions dense = options;
    dense.algorithm(Algorithm::Dense);
    return computeEss(materializeGenerators(d, "generators"), dense, progress, cancel);
  }

  // Several heads: batched across the channels while the per-worker buffers stay small.
  if (batchChannels && H >= 2) {
    const int inner = (H + kW - 1) / kW >= threads ? 1 : threads;
    const long KB = batchedBlockLength(L, N, inner);
    const int blocksB = static_cast<int>((L - 1 + KB - 1) / KB);
    if (batchedDoubles(L, N, KB, blocksB, inner, c.perHead) <= double(1 << 24))
      return batchedCurve(c, splits, options, threads, progress, cancel);
  }
  if (c.shared) return expanded();

  EssCurve curve;
  curve.length = L;
  curve.splits = splits;
  curve.tolerance.assign(H, std::vector<double>(splits.size()));
  curve.entropy.assign(H, std::vector<double>(splits.size()));
  std::vector<int> column(L, -1);  // index in `splits` of each evaluated split
  for (size_t i = 0; i < splits.size(); ++i) column[splits[i]] = static_cast<int>(i);

  auto blockStart = [&](int b) { return static_cast<int>(1 + b * K); };
  auto blockEnd = [&](int b) { return static_cast<int>(std::min<long>(1 + (b + 1) * K, L)); };
  std::vector<int> work;  // blocks holding at least one evaluated split
  for (int b = 0; b < blocks; ++b)
    for (int s = blockStart(b); s < blockEnd(b); ++s)
      if (column[s] >= 0) {
        work.push_back(b);
        break;
      }

  std::vector<double> cpP(blocks * NN), cpF(blocks * NN);  // R_P and R_F at each block start
  std::vector<Scratch> scratch(threads);
  const long total = static_cast<long>(H) * splits.size();
  std::atomic<long> done{0};

  for (int hd = 0; hd < H; ++hd) {
    Head head;
    head.C = c.C.doubles() + static_cast<size_t>(hd) * L * N;
    head.B = c.B.doubles() + static_cast<size_t>(hd) * L * N;
    head.L = L;
    head.N = N;
    head.perHead = c.perHead;
    const size_t decays = c.perHead ? static_cast<size_t>(L) : static_cast<size_t>(L) * N;
    const double* logA = c.logA.doubles() + hd * decays;
    head.a.resize(decays);
    for (size_t i = 0; i < decays; ++i) head.a[i] = std::exp(logA[i]);

    // Pass 1: the forward sweep stores R_P and the backward sweep R_F at every block start.
    runTasks(2, std::min(threads, 2), cancel, [&](long which, int) {
      std::vector<double> R(NN, 0.0), tmp(N);
      if (which == 0) {
        for (int s = 1; s < L; ++s) {  // R = R_P(s): rows B_c prod_{t=c+1..s} a_t, c < s
          appendRow(R.data(), head.row(head.B, s - 1), N, tmp.data());
          applyDecay(R.data(), head, s);
          if ((s - 1) % K == 0) std::copy(R.begin(), R.end(), cpP.begin() + ((s - 1) / K) * NN);
          if ((s & 1023) == 0 && cancel && cancel->load()) return;
        }
        if (!allFinite(cpP.data(), cpP.size())) overflow();
      } else {
        for (int s = L - 1; s >= 1; --s) {  // R = R_F(s): rows C_r prod_{t=s+1..r} a_t, r >= s
          if (s < L - 1) applyDecay(R.data(), head, s + 1);
          appendRow(R.data(), head.row(head.C, s), N, tmp.data());
          if ((s - 1) % K == 0) std::copy(R.begin(), R.end(), cpF.begin() + ((s - 1) / K) * NN);
          if ((s & 1023) == 0 && cancel && cancel->load()) return;
        }
        if (!allFinite(cpF.data(), cpF.size())) overflow();
      }
    });

    // Pass 2: each block recomputes its R_F backward from the next checkpoint, then walks R_P
    // forward through the block and decomposes R_F R_P^T at the evaluated splits.
    runTasks(static_cast<long>(work.size()), threads, cancel, [&](long task, int wi) {
      Scratch& w = scratch[wi];
      const int b = work[task], s0 = blockStart(b), s1 = blockEnd(b);
      // Each block starts on the Gram path whichever worker runs it (and whatever that worker
      // ran before), so a curve is the same from run to run.
      w.tryGram = true;
      w.sinceRefusal = 0;
      w.blockF.resize(static_cast<size_t>(K) * NN);
      w.row.resize(N);
      std::vector<double> R(NN, 0.0);
      if (b + 1 < blocks) std::copy(cpF.begin() + (b + 1) * NN, cpF.begin() + (b + 2) * NN, R.begin());
      for (int s = s1 - 1; s >= s0; --s) {
        if (s < L - 1) applyDecay(R.data(), head, s + 1);
        appendRow(R.data(), head.row(head.C, s), N, w.row.data());
        std::copy(R.begin(), R.end(), w.blockF.begin() + (s - s0) * NN);
      }
      w.rp.assign(cpP.begin() + b * NN, cpP.begin() + (b + 1) * NN);
      for (int s = s0; s < s1; ++s) {
        if (column[s] >= 0) {
          if (cancel && cancel->load()) return;
          factorSingularValues(w.blockF.data() + (s - s0) * NN, w.rp.data(), N, w);
          curve.tolerance[hd][column[s]] = toleranceEss(w.sigma, options.tolerance_, options.normalization_);
          curve.entropy[hd][column[s]] = entropyEss(w.sigma);
          const long d = done.fetch_add(1) + 1;
          if (progress) progress(d, total);
        }
        if (s + 1 < s1) {
          appendRow(w.rp.data(), head.row(head.B, s), N, w.row.data());
          applyDecay(w.rp.data(), head, s + 1);
        }
      }
    });
  }
  return curve;
}

}  // namespace

EssCurve computeStructuredEss(const GeneratorArrays& g, const EssOptions& options, const ProgressFn& progress,
                              const std::atomic<bool>* cancel) {
  return structuredCurve(check(g), options, progress, cancel, true);
}

EssCurve computeStructuredEss(const SharedGeneratorArrays& g, const EssOptions& options, const ProgressFn& progress,
                              const std::atomic<bool>* cancel) {
  checkSharedGenerators(g);
  Checked c;
  c.H = g.heads();
  c.L = g.length();
  c.N = g.stateSize();
  c.shared = &g;
  return structuredCurve(c, options, progress, cancel, true);
}

EssCurve computeStructuredEssPerChannel(const GeneratorArrays& g, const EssOptions& options, const ProgressFn& progress,
                                        const std::atomic<bool>* cancel) {
  return structuredCurve(check(g), options, progress, cancel, false);
}

}  // namespace ess
