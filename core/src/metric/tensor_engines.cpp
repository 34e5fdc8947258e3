// The ESS engines on LibTorch tensors and the CUDA path: see ess/tensor_engines.h.
#include "ess/tensor_engines.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include "ess/error.h"

namespace ess {
namespace {

// CUDA path: zero-padded blocks batched through linalg_svdvals (padding adds only zeros).
EssCurve computeEssCuda(const at::Tensor& ops, const std::vector<int>& splits, const EssOptions& options,
                        const ProgressFn& progress, const std::atomic<bool>* cancel) {
  const int H = ops.size(0), L = ops.size(1);
  const auto dtype = options.dtype_ == DType::Float32 ? at::kFloat : at::kDouble;
  EssCurve curve;
  curve.length = L;
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

EssCurve cudaEss(const Array& ops, const std::vector<int>& splits, const EssOptions& options,
                 const ProgressFn& progress, const std::atomic<bool>* cancel) {
  if (!cudaAvailable())
    throw UsageError("device", {" cuda: this LibTorch build has no CUDA support or no CUDA device is present; use ",
                                nameOf("device"), " cpu"});
  return computeEssCuda(toTensor(ops), splits, options, progress, cancel);
}

}  // namespace

bool cudaAvailable() { return at::hasCUDA(); }

void registerCudaEss() { setCudaEss(&cudaEss); }

EssCurve computeEss(const at::Tensor& op, const EssOptions& options, const ProgressFn& progress,
                    const std::atomic<bool>* cancel) {
  registerCudaEss();
  return computeEss(toArray(op), options, progress, cancel);
}

std::vector<double> splitSingularValues(const at::Tensor& op, int split, DType dtype) {
  return splitSingularValues(toArray(op), split, dtype);
}

int detectBandwidth(const at::Tensor& op) { return detectBandwidth(toArray(op)); }

EssCurve computeStructuredEss(const Generators& g, const EssOptions& options, const ProgressFn& progress,
                              const std::atomic<bool>* cancel) {
  if (!g.C.defined() || !g.B.defined() || !g.logA.defined())
    throw InputError("generators: C, B and log_a must all be given");
  return computeStructuredEss(toArrays(g), options, progress, cancel);
}

Generators denseAsGenerators(const at::Tensor& op) { return toGenerators(denseAsGenerators(toArray(op))); }

}  // namespace ess
