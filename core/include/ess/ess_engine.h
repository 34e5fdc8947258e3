// The dense ESS engine: singular values of every "past to future" block H_s = T[s:, :s] of a
// causal operator, and the tolerance-ESS and entropy-ESS curves built from them
// (docs/definitions.md sections 1 and 5; Parnichkun et al., ICML 2025, arXiv 2504.19561).
// Part of the math library (plain arrays, LAPACK, no LibTorch); the same functions on LibTorch
// tensors, and the CUDA path, are in ess/tensor_engines.h (model library).
#pragma once
#include <atomic>
#include <vector>

#include "ess/array.h"
#include "ess/curve.h"
#include "ess/ess_options.h"

namespace ess {

/// The splits of `range` for sequence length L, ascending. Throws UsageError when the range
/// lies outside 1..L-1 or the step is not positive.
std::vector<int> resolveSplits(const SplitRange& range, int length);

/// The tolerance-ESS of one list of singular values (docs/definitions.md section 1): how many exceed
/// `tolerance` times the reference of `n` (0 when all are zero).
double toleranceEss(const std::vector<double>& sigma, double tolerance, Normalization n);
/// The entropy-ESS exp(H(p)), p_k = sigma_k / sum sigma (0 when all are zero).
double entropyEss(const std::vector<double>& sigma);

/// ESS curves of every head of `op`, shape [H, L, L] or [L, L] (any dtype, converted to
/// float64), T[h, r, c] = weight of input c on output r, on all cores (or `options.threads_`),
/// or batched on CUDA when `options.device_` is Cuda (through the model library, which
/// registers its CUDA path with setCudaEss; UsageError on field "device" without it or
/// without a CUDA device). On the CPU,
/// per (head, split):
/// - band corner: when the operator is banded (detectBandwidth w) and w - 1 < min(s, L - s),
///   only the (w-1) x (w-1) corner H_s[0:w-1, s-w+1:s] is nonzero and only it is decomposed
///   (same singular values: the rest of H_s is exactly zero);
/// - Gram fast path: eigenvalues (LAPACK DSYTRD + DSTERF, float64) of the smaller Gram matrix
///   H_s^T H_s or H_s H_s^T, updated from split to split (a rank-one downdate plus a new row and
///   column, or a rank-one update after dropping a row); sigma_k = sqrt(lambda_k), each within
///   a bound from the rounding of G and of the eigensolver (uncertain small ones refined);
///   otherwise
/// - truncated QR with column pivoting (LAPACK DLAQPS blocks) when H_s has low numerical rank;
///   otherwise
/// - SVD of H_s (LAPACK xGESVD, values only) in `options.dtype_` (computeEssBySvd in
///   ess/dense_reference.h runs this alone, as the reference).
/// A fast path's values are used only when its bounds certify them (one rule for both: no
/// value's interval meets the tolerance threshold, entropy-ESS within 5e-7 relative;
/// docs/definitions.md section 5), so tolerance-ESS equals the plain SVD's and entropy-ESS
/// agrees to 5e-7 relative in float64 (float32 SVDs, used only where no fast path is, agree
/// with float64 to ~1e-5).
/// `progress(done, total)` counts (head, split) pairs; raising `*cancel` throws Cancelled.
/// Throws InputError when `op` holds NaN or Inf.
EssCurve computeEss(const Array& op, const EssOptions& options, const ProgressFn& progress = {},
                    const std::atomic<bool>* cancel = nullptr);

/// Singular values of H_s = op[s:, :s] for one head `op` [L, L], descending, length
/// min(s, L-s), computed by a plain SVD (no Gram matrix, so small ones stay accurate) in `dtype`
/// and returned as double. Throws UsageError if s is not in 1..L-1.
std::vector<double> splitSingularValues(const Array& op, int split, DType dtype);

/// Bandwidth of the lower triangle of `op` [H, L, L] or [L, L]: the smallest w such that
/// T[h, r, c] == 0 exactly for every r - c >= w and every head (0 when the lower triangle is
/// all zero, 1 for a diagonal operator, k for a causal convolution of length k, L for a full
/// lower triangle). For w - 1 < min(s, L - s), only the (w-1) x (w-1) corner of H_s is nonzero.
int detectBandwidth(const Array& op);

/// Makes OpenBLAS (when it is the BLAS/LAPACK LibTorch and the engines load) run each call on
/// the calling thread: the engines already run one LAPACK call per worker thread, and nested
/// BLAS threads only oversubscribe the cores (their spinning costs several times the work on a
/// busy machine). Returns whether LAPACK may be called from several threads at once: false for
/// a sequential OpenBLAS build (Debian's `libopenblas0-serial` has no locking and gives wrong
/// results when called concurrently; the engines then use one worker thread), true otherwise
/// (install `libopenblas0-pthread`). Called by computeEss, computeStructuredEss and
/// Session::open; harmless without OpenBLAS.
bool useSingleThreadedBlas();

/// The CUDA path of computeEss for `ops` [H, L, L] float64 and the resolved `splits`; the model
/// library (LibTorch) provides it (setCudaEss); computeEss raises UsageError while none is set.
using CudaEssFn = EssCurve (*)(const Array& ops, const std::vector<int>& splits, const EssOptions& options,
                               const ProgressFn& progress, const std::atomic<bool>* cancel);
void setCudaEss(CudaEssFn fn);

}  // namespace ess
