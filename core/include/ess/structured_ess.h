// The structured ESS engine: exact tolerance-ESS and entropy-ESS curves of a semiseparable
// operator in generator form (ess/generator_form.h, docs/definitions.md sections 5 and 6) without forming the
// L x L operator T (Parnichkun et al., ICML 2025, arXiv 2504.19561).
//
// For c < s <= r the block H_s = T[s:, :s] factors as H_s = F_s P_s^T with inner size N:
//   F_s rows r = s..L-1:  C_r * prod_{t=s+1..r} a_t      (future generators)
//   P_s rows c = 0..s-1:  B_c * prod_{t=c+1..s} a_t      (past generators)
// (elementwise per state n, a_t = exp(logA_t); the diagonal term C.B + D never enters H_s).
// With F_s = Q_F R_F and P_s = Q_P R_P (QR, R_F, R_P upper triangular N x N), the nonzero
// singular values of H_s are those of the N x N matrix R_F R_P^T. R_P is updated forward
// (P_{s+1} = [P_s; B_s^T] diag(a_{s+1})) and R_F backward (F_s = [C_s^T; F_{s+1} diag(a_{s+1})])
// by Givens rotations, O(N^2) per split; decays are applied one step at a time (never as
// products of many decays, which underflow or overflow at long L). The backward factors are
// kept only every K ~ sqrt(L) splits and recomputed block by block, so memory stays
// O(L N + threads * K * N^2). The singular values of M = R_F R_P^T come from the eigenvalues of
// its smaller Gram matrix (float64, Householder tridiagonalization + LAPACK DSTERF) when that is
// accurate: squaring loses singular values below ~1e-8 sigma_1, so the Gram result is kept only
// when every sigma_k >= ~3e-4 sigma_1 (lambda_k >= 1e-7 lambda_1); otherwise (rank-deficient or
// fast-decaying spectra) LAPACK's SVD of M (DGESVD, values only) is used, with no squaring.
// A whole curve costs O(L N^2 + L N^3) instead of O(L^4).
// Math library (plain arrays); ess/tensor_engines.h has the same on LibTorch tensors.
#pragma once
#include <atomic>

#include "ess/ess_engine.h"
#include "ess/generator_form.h"

namespace ess {

/// ESS curves of every head of the semiseparable operator `g` (C, B [H, L, N], logA [H, L, N]
/// or [H, L], optional D [H, L]; any floating dtype, converted to float64 on the CPU) at the
/// splits of `options.splits_`, equal to computeEss(materializeGenerators(g)) up to rounding:
/// tolerance-ESS identical away from the threshold, entropy-ESS within ~1e-9 relative.
/// The SVDs always run in float64 on the CPU (options.dtype_ and options.device_ are ignored;
/// the N x N problems are small). Threads: `options.threads_` (0 = all cores). Two heads or
/// more are factored 16 at a time, one SIMD lane each (the Givens updates, R_F R_P^T, its
/// bidiagonalization and the bidiagonal's singular values by lockstep implicit-shift QR,
/// normwise accurate: docs/definitions.md section 5), the groups spread over the threads; a
/// single head, or heads whose batched buffers would pass 128 MiB per thread, take the
/// one-channel path (ess/structured_channels.h), its splits cut into blocks over the threads.
/// `options.algorithm_`: Structured uses the generators; Auto hands operators with 2 N >= L to
/// the dense engine (computeEss on the materialized operator), where the N x N problems are no
/// smaller than the blocks; Dense always does. Structured too falls back to the dense engine
/// when the QR factors it keeps ((2 L / K + threads K) N^2 doubles) would outgrow the dense
/// operator (L^2 + 2^24 doubles), i.e. only for N of the order of L.
/// `progress(done, total)` counts (head, split) pairs; raising `*cancel` throws Cancelled.
/// Throws InputError when shapes disagree, values are not finite or the decays overflow
/// (log a > 0 makes T grow without bound), UsageError for splits outside 1..L-1.
EssCurve computeStructuredEss(const GeneratorArrays& g, const EssOptions& options, const ProgressFn& progress = {},
                              const std::atomic<bool>* cancel = nullptr);

/// computeStructuredEss of the generators `g` stands for (ess/generator_form.h), without forming
/// them: the batched channels read the shared rows and scales directly. Same results as
/// computeStructuredEss(expandSharedGenerators(g)) (identical where channels are batched), same
/// progress and errors; the fallbacks above (one channel, dense, large buffers) expand `g`.
EssCurve computeStructuredEss(const SharedGeneratorArrays& g, const EssOptions& options,
                              const ProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

/// The exact generator form of any dense operator `op` [H, L, L] or [L, L]: C = the rows of T
/// (lower triangle, N = L), B = identity, logA = 0 [H, L] (one decay per head), D undefined, so that
/// materializeGenerators(g) == tril(op). Useful to cross-check the structured engine on any
/// operator; costs O(H L^2) memory like the dense operator.
GeneratorArrays denseAsGenerators(const Array& op);

}  // namespace ess
