// Dense ESS engine: one singular-value decomposition per (head, split), spread over all
// cores (DESIGN.md sections 1 and 5).
#include "ess/ess_engine.h"

#include <ATen/Context.h>

#include <thread>

#include "ess/error.h"
#include "ess/session.h"

namespace ess {

double toleranceEss(const std::vector<double>& sigma, double tolerance, Normalization n) {
  double sum = 0.0, max = 0.0;
  for (double v : sigma) {
    sum += v;
    max = std::max(max, v);
  }
  if (max <= 0.0) return 0.0;  // all-zero H_s
  const double ref = n == Normalization::Max ? max : n == Normalization::Sum ? sum : 1.0;
  const double threshold = tolerance * ref;
  double count = 0;
  for (double v : sigma)
    if (v > threshold) count += 1;
  return count;
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
  if (length < 2) throw UsageError("--splits: the operator has length " + std::to_string(length) + ", no split exists");
  const int last = range.last <= 0 ? length - 1 : range.last;
  if (last < range.first)
    throw UsageError("--splits: the first split " + std::to_string(range.first) + " comes after the last " +
                     std::to_string(last));
  if (range.first < 1 || range.first > length - 1 || last > length - 1 || range.step <= 0)
    throw UsageError("--splits: " + std::to_string(range.first) + ":" + std::to_string(last) + ":" +
                     std::to_string(range.step) + " is outside 1.." + std::to_string(length - 1) +
                     " for an operator of length " + std::to_string(length));
  std::vector<int> splits;
  for (long long s = range.first; s <= last; s += range.step) splits.push_back(static_cast<int>(s));
  return splits;
}

bool cudaAvailable() { return at::hasCUDA(); }

namespace {

// Singular values of the (L-s) x s block below-left of split s, computed by LAPACK (gesdd,
// through LibTorch) in `dtype`. LAPACK's float32 SVD keeps the noise floor of rank-deficient
// blocks low enough for entropy-ESS to stay within 1e-5 of float64.
std::vector<double> singularValuesOf(const double* t, int L, int s, DType dtype) {
  const int rows = L - s, cols = s;
  at::Tensor whole = at::from_blob(const_cast<double*>(t), {L, L}, at::kDouble);
  at::Tensor h = whole.narrow(0, s, rows).narrow(1, 0, cols);
  h = h.to(dtype == DType::Float32 ? at::kFloat : at::kDouble).contiguous();
  at::Tensor sv = at::linalg_svdvals(h).to(at::kDouble).contiguous();
  std::vector<double> out(sv.data_ptr<double>(), sv.data_ptr<double>() + sv.numel());
  std::sort(out.begin(), out.end(), std::greater<double>());
  return out;
}

at::Tensor asHeads(const at::Tensor& op) {
  if (op.dim() == 2) return op.unsqueeze(0);
  if (op.dim() != 3) throw InputError("operator must have shape [L, L] or [H, L, L], got " + std::to_string(op.dim()) + " dimensions");
  return op;
}

void checkFinite(const at::Tensor& t) {
  if (!at::isfinite(t).all().item<bool>()) throw InputError("operator holds NaN or Inf values");
}

// CUDA path: zero-padded blocks batched through linalg_svdvals (padding adds only zeros).
EssCurve computeEssCuda(const at::Tensor& ops, const std::vector<int>& splits, const EssOptions& options,
                        const ProgressFn& progress, const std::atomic<bool>* cancel) {
  const int H = ops.size(0), L = ops.size(1);
  const auto dtype = options.dtype_ == DType::Float32 ? at::kFloat : at::kDouble;
  EssCurve curve;
  curve.splits = splits;
  curve.tolerance.assign(H, std::vector<double>(splits.size()));
  curve.entropy.assign(H, std::vector<double>(splits.size()));
  const size_t bytesPerBlock = static_cast<size_t>(L) * L * (dtype == at::kFloat ? 4 : 8);
  const int batch = std::max<int>(1, static_cast<int>((size_t(512) << 20) / bytesPerBlock));
  long done = 0;
  const long total = static_cast<long>(H) * splits.size();
  for (int h = 0; h < H; ++h) {
    at::Tensor head = ops[h].to(at::Device(at::kCUDA), dtype);
    for (size_t b0 = 0; b0 < splits.size(); b0 += batch) {
      if (cancel && cancel->load()) throw Cancelled();
      const size_t b1 = std::min(splits.size(), b0 + batch);
      at::Tensor blocks = at::zeros({static_cast<long>(b1 - b0), L, L}, head.options());
      for (size_t i = b0; i < b1; ++i) {
        const int s = splits[i];
        blocks[i - b0].narrow(0, 0, L - s).narrow(1, 0, s).copy_(head.narrow(0, s, L - s).narrow(1, 0, s));
      }
      at::Tensor sv = at::linalg_svdvals(blocks).to(at::kCPU, at::kDouble).contiguous();
      for (size_t i = b0; i < b1; ++i) {
        const int s = splits[i];
        const double* p = sv[i - b0].data_ptr<double>();
        std::vector<double> sigma(p, p + std::min(s, L - s));
        curve.tolerance[h][i] = toleranceEss(sigma, options.tolerance_, options.normalization_);
        curve.entropy[h][i] = entropyEss(sigma);
      }
      done += b1 - b0;
      if (progress) progress(done, total);
    }
  }
  return curve;
}

}  // namespace

std::vector<double> splitSingularValues(const at::Tensor& op, int split, DType dtype) {
  if (op.dim() != 2 || op.size(0) != op.size(1)) throw InputError("splitSingularValues: expected an [L, L] operator");
  const int L = op.size(0);
  if (split < 1 || split > L - 1)
    throw UsageError("split " + std::to_string(split) + " is outside 1.." + std::to_string(L - 1));
  at::Tensor t = op.to(at::kCPU, at::kDouble).contiguous();
  return singularValuesOf(t.data_ptr<double>(), L, split, dtype);
}

EssCurve computeEss(const at::Tensor& op, const EssOptions& options, const ProgressFn& progress,
                    const std::atomic<bool>* cancel) {
  at::Tensor ops = asHeads(op);
  if (ops.size(1) != ops.size(2))
    throw InputError("operator must be square per head, got [" + std::to_string(ops.size(1)) + ", " +
                     std::to_string(ops.size(2)) + "]");
  checkFinite(ops);
  const int H = ops.size(0), L = ops.size(1);
  const std::vector<int> splits = resolveSplits(options.splits_, L);
  if (options.device_ == Device::Cuda) {
    if (!cudaAvailable())
      throw UsageError("--device cuda: this LibTorch build has no CUDA support or no CUDA device is present; use --device cpu");
    return computeEssCuda(ops, splits, options, progress, cancel);
  }
  at::Tensor t = ops.to(at::kCPU, at::kDouble).contiguous();
  const double* base = t.data_ptr<double>();

  EssCurve curve;
  curve.splits = splits;
  curve.tolerance.assign(H, std::vector<double>(splits.size()));
  curve.entropy.assign(H, std::vector<double>(splits.size()));
  const long total = static_cast<long>(H) * splits.size();
  // Costliest splits (near L/2) first, so that the dynamic schedule ends evenly.
  std::vector<long> order(total);
  for (long i = 0; i < total; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](long a, long b) {
    const int sa = splits[a % splits.size()], sb = splits[b % splits.size()];
    return std::min(sa, L - sa) > std::min(sb, L - sb);
  });
  std::atomic<long> next{0}, done{0};
  std::atomic<bool> stopped{false};
  std::exception_ptr failure;
  std::mutex failureMutex;
  auto worker = [&]() {
    try {
      for (;;) {
        if (stopped.load()) return;
        if (cancel && cancel->load()) {
          stopped = true;
          return;
        }
        const long k = next.fetch_add(1);
        if (k >= total) return;
        const long task = order[k];
        const int h = static_cast<int>(task / splits.size());
        const size_t i = task % splits.size();
        const std::vector<double> sigma =
            singularValuesOf(base + static_cast<size_t>(h) * L * L, L, splits[i], options.dtype_);
        curve.tolerance[h][i] = toleranceEss(sigma, options.tolerance_, options.normalization_);
        curve.entropy[h][i] = entropyEss(sigma);
        const long d = done.fetch_add(1) + 1;
        if (progress) progress(d, total);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failureMutex);
      if (!failure) failure = std::current_exception();
      stopped = true;
    }
  };
  int threads = options.threads_ > 0 ? options.threads_ : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, std::min<int>(threads, static_cast<int>(total)));
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
  if (cancel && cancel->load()) throw Cancelled();
  return curve;
}

}  // namespace ess
