// The dense ESS engine: singular values of every "past to future" block H_s = T[s:, :s] of a
// causal operator, and the tolerance-ESS and entropy-ESS curves built from them
// (DESIGN.md sections 1 and 5; Parnichkun et al., ICML 2025, arXiv 2504.19561).
#pragma once
#include <ATen/core/Tensor.h>

#include <atomic>
#include <vector>

#include "ess/ess_options.h"

namespace ess {

/// ESS curves of H operators: for each head h and each evaluated split splits[i],
/// tolerance[h][i] and entropy[h][i].
struct EssCurve {
  std::vector<int> splits;
  std::vector<std::vector<double>> tolerance;  ///< [H][S] counts (integers stored as double)
  std::vector<std::vector<double>> entropy;    ///< [H][S] effective rank exp(H(p)), 0 for H_s = 0
};

/// The splits of `range` for sequence length L, ascending. Throws UsageError when the range
/// lies outside 1..L-1 or the step is not positive.
std::vector<int> resolveSplits(const SplitRange& range, int length);

/// ESS curves of every head of `op`, shape [H, L, L] or [L, L] (any floating dtype, CPU),
/// T[h, r, c] = weight of input c on output r. Runs one SVD per (head, split) in
/// `options.dtype_`, on all cores (or `options.threads_`), or batched on CUDA when
/// `options.device_` is Cuda (UsageError when LibTorch lacks CUDA).
/// `progress(done, total)` counts (head, split) pairs; raising `*cancel` throws Cancelled.
/// Throws InputError when `op` holds NaN or Inf.
EssCurve computeEss(const at::Tensor& op, const EssOptions& options, const ProgressFn& progress = {},
                    const std::atomic<bool>* cancel = nullptr);

/// Singular values of H_s = op[s:, :s] for one head `op` [L, L], descending, length
/// min(s, L-s), computed in `dtype` and returned as double. Throws UsageError if s is not in 1..L-1.
std::vector<double> splitSingularValues(const at::Tensor& op, int split, DType dtype);

/// Whether this LibTorch build can run on CUDA (and a device is present).
bool cudaAvailable();

}  // namespace ess
