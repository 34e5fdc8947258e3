// The shared Session machinery on arrays: see session_base.h.
#include "math/session_base.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <new>
#include <sstream>

#include "ess/cancel.h"
#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/structured_ess.h"
#include "math/parallel.h"
#include "metric/lapack_kernels.h"

namespace ess {

Session::~Session() = default;

const char* operatorScopeName(OperatorScope scope) { return scope == OperatorScope::Ssm ? "ssm" : "block"; }

OperatorScope parseOperatorScope(const std::string& text) {
  if (text == "block") return OperatorScope::Block;
  if (text == "ssm") return OperatorScope::Ssm;
  throw UsageError("operator", {": expected block or ssm, got '" + text + "'"});
}

void Session::setOperatorScope(OperatorScope scope) {
  if (scope == OperatorScope::Ssm)
    throw UsageError("operator", {" ssm: " + info().path +
                                  " holds one operator per layer; the SSM-only operator is defined for the "
                                  "Hugging Face checkpoints' recurrent layers (README \"Mixer kinds\")"});
  scope_ = scope;
}

std::vector<std::string> Session::tokenLabels() const {
  std::vector<std::string> labels;
  for (long t : tokens()) labels.push_back(std::to_string(t));
  return labels;
}

namespace {

std::string gib(double bytes) {
  std::ostringstream o;
  o.precision(3);
  o << bytes / double(1ull << 30) << " GiB";
  return o.str();
}

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The upper-triangular R (min(rows, N) x N) of a QR factorization of `x` [rows, N].
Eigen::MatrixXd qrR(const Eigen::MatrixXd& x) {
  const Eigen::Index k = std::min(x.rows(), x.cols());
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(x);
  return qr.matrixQR().topRows(k).triangularView<Eigen::Upper>();
}

/// Singular values of H_s = T[h][s:, :s] of a generator-form operator, descending, padded with
/// zeros to min(s, L-s): H_s = F P^T with F rows C_r exp(sum_{t=s+1..r} log a_t) (r >= s) and
/// P rows B_c exp(sum_{t=c+1..s} log a_t) (c < s); each exponent is a sum of terms taken outward
/// from s (no differences of prefix sums), and the singular values come from the triangular
/// factors of F and P (at most N x N). O(L N^2).
std::vector<double> generatorSpectrum(const GeneratorArrays& g, int head, int split) {
  const int64_t L = g.length(), N = g.stateSize(), s = split;
  if (s < 1 || s >= L) throw UsageError("split " + std::to_string(s) + " is outside 1.." + std::to_string(L - 1));
  const double* C = g.C.doubles() + head * L * N;
  const double* B = g.B.doubles() + head * L * N;
  const bool perHead = g.perHeadDecay();
  const double* la = g.logA.doubles() + head * L * (perHead ? 1 : N);
  auto logA = [&](int64_t t, int64_t n) { return perHead ? la[t] : la[t * N + n]; };
  Eigen::MatrixXd F(L - s, N), P(s, N);
  for (int64_t n = 0; n < N; ++n) {
    double e = 0.0;  // future: exponent of row r = s + i is sum_{t=s+1..r} la[t]
    for (int64_t r = s; r < L; ++r) {
      if (r > s) e += logA(r, n);
      F(r - s, n) = C[r * N + n] * std::exp(e);
    }
    e = 0.0;  // past: exponent of column c is sum_{t=c+1..s} la[t]
    for (int64_t c = s - 1; c >= 0; --c) {
      e += logA(c + 1, n);
      P(c, n) = B[c * N + n] * std::exp(e);
    }
  }
  Eigen::MatrixXd M = qrR(F) * qrR(P).transpose();
  std::vector<double> out(static_cast<size_t>(std::min(s, L - s)), 0.0);
  std::vector<double> sv(static_cast<size_t>(std::min(M.rows(), M.cols())));
  if (!sv.empty())
    lapack::singularValues(M.data(), static_cast<int>(M.rows()), static_cast<int>(M.cols()),
                           static_cast<int>(std::max<Eigen::Index>(1, M.rows())), sv.data());
  std::copy(sv.begin(), sv.begin() + std::min(sv.size(), out.size()), out.begin());
  return out;
}

/// The sampling grid of `req` on an L x L operator (rows and columns clamped to 0..L).
OperatorTile tileGrid(const TileRequest& req, int L) {
  auto clampRange = [L](int b, int e, const char* what) {
    b = std::max(0, b);
    e = e < 0 ? L : std::min(e, L);
    if (b >= e)
      throw UsageError(std::string("tile: empty ") + what + " range " + std::to_string(b) + ".." + std::to_string(e));
    return std::pair<int, int>{b, e};
  };
  const auto [r0, r1] = clampRange(req.rowBegin, req.rowEnd, "row");
  const auto [c0, c1] = clampRange(req.columnBegin, req.columnEnd, "column");
  OperatorTile t;
  t.firstRow = r0;
  t.firstColumn = c0;
  t.rowStep = std::max(1, (r1 - r0 + std::max(1, req.maxRows) - 1) / std::max(1, req.maxRows));
  t.columnStep = std::max(1, (c1 - c0 + std::max(1, req.maxColumns) - 1) / std::max(1, req.maxColumns));
  t.rows = (r1 - r0 + t.rowStep - 1) / t.rowStep;
  t.columns = (c1 - c0 + t.columnStep - 1) / t.columnStep;
  return t;
}

/// Samples T[head] of generators `g` on the grid of `t`: T[r, c] = sum_n C[r,n]
/// exp(cum[r,n] - cum[c,n]) B[c,n] (+ D[r] on the diagonal), cum = prefix sums of log a in
/// float64 (the difference loses ~|cum| * 1e-16 in the exponent: display accuracy).
void fillTileFromGenerators(const GeneratorArrays& g, int head, OperatorTile& t) {
  const int64_t L = g.length(), N = g.stateSize();
  const double* pC = g.C.doubles() + head * L * N;
  const double* pB = g.B.doubles() + head * L * N;
  const bool perHead = g.perHeadDecay();
  const double* la = g.logA.doubles() + head * L * (perHead ? 1 : N);
  std::vector<double> cum(static_cast<size_t>(L * N));
  for (int64_t n = 0; n < N; ++n) {
    double s = 0.0;
    for (int64_t r = 0; r < L; ++r) {
      s += perHead ? la[r] : la[r * N + n];
      cum[static_cast<size_t>(r * N + n)] = s;
    }
  }
  const double* pD = g.D.defined() ? g.D.doubles() + head * L : nullptr;
  const double* pcum = cum.data();
  t.values.assign(static_cast<size_t>(t.rows) * t.columns, 0.0);
  const std::atomic<bool>* cancel = currentCancelFlag();  // the workers below have none of their own
  parallelFor(0, t.rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if ((i & 15) == 0 && cancel && cancel->load()) return;
      const int64_t r = t.firstRow + i * t.rowStep;
      const double *cr = pC + r * N, *cumr = pcum + r * N;
      for (int64_t j = 0; j < t.columns; ++j) {
        const int64_t c = t.firstColumn + j * t.columnStep;
        if (c > r) break;
        const double *bc = pB + c * N, *cumc = pcum + c * N;
        double v = 0.0;
        for (int64_t n = 0; n < N; ++n) v += cr[n] * std::exp(cumr[n] - cumc[n]) * bc[n];
        if (c == r && pD) v += pD[r];
        t.values[static_cast<size_t>(i) * t.columns + j] = v;
      }
    }
  });
  checkCancelled("tile");
}

/// Head `head` of an [H, L, L] float64 operator as an [L, L] view.
Array headOf(const Array& op, int head) {
  const int64_t L = op.size(1);
  return Array(ArrayDType::F64, {L, L}, op.doubles() + static_cast<size_t>(head) * L * L, op.storage());
}

}  // namespace

void checkBudget(const std::string& what, int64_t heads, int64_t length, size_t budget) {
  const double bytes = double(heads) * double(length) * double(length) * 8.0;
  if (bytes > double(budget)) {
    const int64_t fits = static_cast<int64_t>(std::sqrt(double(budget) / (8.0 * std::max<int64_t>(heads, 1))));
    throw InputError(what + ": a dense operator of " + std::to_string(heads) + " x " + std::to_string(length) + " x " +
                     std::to_string(length) + " float64 values needs " + gib(bytes) + ", over the memory budget of " +
                     gib(double(budget)) + "; at most L = " + std::to_string(fits) + " fits");
  }
}

void checkFiniteOperator(const Array& op, const std::string& what) {
  const double* p = op.doubles();
  const int64_t L = op.size(1);
  for (int64_t i = 0, n = op.numel(); i < n; ++i)
    if (!std::isfinite(p[i]))
      throw InputError(what + ": holds " + std::string(std::isnan(p[i]) ? "NaN" : "Inf") + " at [" +
                       std::to_string(i / (L * L)) + ", " + std::to_string(i / L % L) + ", " + std::to_string(i % L) +
                       "] (head, row, column)");
}

void SessionBase::checkLayer(int layer) const {
  if (layer < 0 || layer >= static_cast<int>(info_.layers.size()))
    throw UsageError("layer", {" " + std::to_string(layer) + " is outside 0.." +
                               std::to_string(static_cast<int>(info_.layers.size()) - 1) + " (" + info_.path + ")"});
}

[[noreturn]] void throwLibraryError(const std::string& work, const std::exception& e) {
  const std::string what = e.what();
  // LibTorch reports a failed allocation as c10::Error ("can't allocate memory"), the C++
  // library as std::bad_alloc.
  if (dynamic_cast<const std::bad_alloc*>(&e) || what.find("can't allocate memory") != std::string::npos ||
      what.find("out of memory") != std::string::npos)
    throw InputError(work + ": not enough memory on this machine; lower the budget or use a shorter input");
  throw InputError(work + ": the computation failed in the model library (the file may be damaged or not supported)");
}

std::string SessionBase::workText(int layer, const std::string& doing) const {
  std::string s = info_.path;
  if (layer >= 0 && layer < static_cast<int>(info_.layers.size()))
    s += ": layer " + std::to_string(layer) + " (" + info_.layers[static_cast<size_t>(layer)].mixer + ")";
  s += ", " + doing;
  const std::string in = input();
  if (!in.empty()) s += ", input " + inputText(in);
  return s;
}

std::string SessionBase::inputText(const std::string& spec) {
  if (spec.compare(0, 5, "text:") == 0) return "text:...";
  return spec.size() > 48 ? spec.substr(0, 45) + "..." : spec;
}

OperatorData SessionBase::operatorOf(int layer) {
  checkSourcesBeforeUse();
  return atCoreBoundary(workText(layer, "computing the operator"), [&] {
    checkCancelled("operator");
    const Array op = operatorArray(layer);
    checkCancelled("operator formed");
    OperatorData d;
    d.heads = static_cast<int>(op.size(0));
    d.length = static_cast<int>(op.size(1));
    d.values.assign(op.doubles(), op.doubles() + op.numel());
    return d;
  });
}

OperatorTile SessionBase::operatorTile(int layer, int head, const TileRequest& req) {
  return atCoreBoundary(workText(layer, "computing a tile of head " + std::to_string(head)),
                        [&] { return operatorTileUnchecked(layer, head, req); });
}

OperatorTile SessionBase::operatorTileUnchecked(int layer, int head, const TileRequest& req) {
  checkLayer(layer);
  checkSourcesBeforeUse();
  const int L = lengthOf(layer);
  const int heads = info_.layers[layer].heads;
  if (head < 0 || head >= heads)
    throw UsageError("head", {" " + std::to_string(head) + " is outside 0.." + std::to_string(heads - 1)});
  OperatorTile t = tileGrid(req, L);
  t.head = head;
  checkCancelled("tile");
  // A dense operator at hand serves; else one channel of the shared rows, else the generators.
  const bool dense = hasDenseOperator(layer);
  const SharedGeneratorArrays sh = dense ? SharedGeneratorArrays{} : sharedGeneratorsOf(layer);
  const GeneratorArrays g = sh.heads() > 0 ? expandSharedGenerators(sh, head, 1)
                            : dense        ? GeneratorArrays{}
                                           : generatorsOf(layer);
  if (g.heads() > 0) {
    fillTileFromGenerators(g, sh.heads() > 0 ? 0 : head, t);
  } else {
    const Array op = operatorArray(layer);
    checkCancelled("operator formed");
    const double* p = op.doubles() + static_cast<size_t>(head) * L * L;
    t.values.resize(static_cast<size_t>(t.rows) * t.columns);
    for (int i = 0; i < t.rows; ++i)
      for (int j = 0; j < t.columns; ++j)
        t.values[static_cast<size_t>(i) * t.columns + j] =
            p[static_cast<size_t>(t.firstRow + i * t.rowStep) * L + t.firstColumn + j * t.columnStep];
  }
  return t;
}

CurveData SessionBase::curve(int layer, const EssOptions& options, const ProgressFn& progress,
                             const std::atomic<bool>* cancel) {
  // The flag given, else this thread's (ess/cancel.h); forming the operator checks it too.
  const std::atomic<bool>* flag = cancel ? cancel : currentCancelFlag();
  CancelScope scope(flag);
  ProgressFn reported = progress;
  if (cancelPointHook())  // the test seam sees the engines' steps as cancel points
    reported = [progress](long done, long total) {
      if (const CancelPointHook hook = cancelPointHook()) hook("splits");
      if (progress) progress(done, total);
    };
  return atCoreBoundary(workText(layer, "computing the ESS curves"),
                        [&] { return curveUnchecked(layer, options, reported, flag); });
}

CurveData SessionBase::curveUnchecked(int layer, const EssOptions& options, const ProgressFn& progress,
                                      const std::atomic<bool>* cancel) {
  checkLayer(layer);
  checkSourcesBeforeUse();
  checkCancelled("curve");
  EssCurve c;
  int heads = 0;
  const SharedGeneratorArrays sh =
      options.algorithm_ != Algorithm::Dense ? sharedGeneratorsOf(layer) : SharedGeneratorArrays{};
  const GeneratorArrays g =
      options.algorithm_ != Algorithm::Dense && sh.heads() == 0 ? generatorsOf(layer) : GeneratorArrays{};
  checkCancelled("generators formed");
  if (sh.heads() > 0) {
    c = computeStructuredEss(sh, options, progress, cancel);
    heads = sh.heads();
  } else if (g.heads() > 0) {
    c = computeStructuredEss(g, options, progress, cancel);
    heads = g.heads();
  } else {
    const Array op = operatorArray(layer);
    checkCancelled("operator formed");
    if (options.algorithm_ == Algorithm::Structured && detectBandwidth(op) >= op.size(1))
      throw UsageError("", {info_.path + ": layer " + std::to_string(layer) + " (" + info_.layers[layer].mixer +
                                ") has no structured form (no generators, no band); use ",
                            nameOf("algorithm"), " auto or dense"});
    c = computeEss(op, options, progress, cancel);
    heads = static_cast<int>(op.size(0));
  }
  c.layer = layer;
  c.tss.assign(heads, std::vector<double>(c.splits.size(), std::nan("")));
  for (int h = 0; h < heads; ++h)
    for (size_t i = 0; i < c.splits.size(); ++i)
      if (auto v = theoreticalStateSize(layer, h, c.splits[i], c.length)) c.tss[h][i] = *v;
  return c;
}

std::vector<double> SessionBase::spectrum(int layer, int head, int split, const EssOptions& options) {
  return atCoreBoundary(workText(layer, "computing the singular values of head " + std::to_string(head) + " at split " +
                                            std::to_string(split)),
                        [&] { return spectrumUnchecked(layer, head, split, options); });
}

std::vector<double> SessionBase::spectrumUnchecked(int layer, int head, int split, const EssOptions& options) {
  checkLayer(layer);
  checkSourcesBeforeUse();
  const int heads = info_.layers[layer].heads;
  if (head < 0 || head >= heads)
    throw UsageError("head", {" " + std::to_string(head) + " is outside 0.." + std::to_string(heads - 1)});
  checkCancelled("spectrum");
  if (options.algorithm_ != Algorithm::Dense && !hasDenseOperator(layer)) {
    const SharedGeneratorArrays sh = sharedGeneratorsOf(layer);
    checkCancelled("generators formed");
    if (sh.heads() > 0) return generatorSpectrum(expandSharedGenerators(sh, head, 1), 0, split);
    const GeneratorArrays g = generatorsOf(layer);
    checkCancelled("generators formed");
    if (g.heads() > 0) return generatorSpectrum(g, head, split);
  }
  const Array op = operatorArray(layer);
  checkCancelled("operator formed");
  return splitSingularValues(headOf(op, head), split, options.dtype_);
}

}  // namespace ess
