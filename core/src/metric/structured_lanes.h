// Lane kernels of the structured ESS engine: the per-split factor updates and small
// factorizations of kLanes channels at once, one SIMD lane per channel (the channels of a
// Mamba layer share the shapes of their problems and differ in their values). Every array
// interleaves the lanes innermost: element (i, k) of lane l of an N x N factor lies at
// [(i * N + k) * kLanes + l]. The arithmetic of each lane is that of the one-channel kernels
// in structured_ess.cpp (same Givens formulas, same decay steps). Each kernel is compiled for
// x86-64-v4 (AVX-512, eight-double vectors), x86-64-v3 (AVX2 + FMA) and baseline x86-64 (four-
// double vectors), picked at load time.
#pragma once

namespace ess::lanes {

/// Channels per group: two 512-bit registers of doubles, so that two independent chains hide
/// the latency of the sequential steps (the QR's bulge chase).
constexpr int kLanes = 16;

/// R <- R diag(a): the decays of one step on the upper triangle of the N x N factors R.
/// `a` holds [N][kLanes] per-state decays, or [kLanes] when `perHead`.
void applyDecay(double* R, const double* a, int N, bool perHead);

/// R <- the triangular factor of [R; x^T] (Givens rotations): x is [N][kLanes], `work` holds
/// N * kLanes doubles.
void appendRow(double* R, const double* x, int N, double* work);

/// M <- R_F R_P^T (N x N per lane, both factors upper triangular).
void product(const double* RF, const double* RP, int N, double* M);

/// Householder bidiagonalization M = U B V^T of each lane's N x N matrix (destroyed): the
/// upper bidiagonal B in d [N][kLanes] (diagonal, signs arbitrary) and e [N-1][kLanes]. Entries
/// are expected scaled to |m| <= 1 (squares of entries below ~1e-154 underflow and are lost).
void bidiagonalize(double* M, int N, double* d, double* e);

/// Singular values of each lane's n x n upper bidiagonal matrix (diagonal d [N][kLanes],
/// superdiagonal e [N][kLanes], e[N-1] unused; both destroyed) into d, unsorted and >= 0:
/// implicit-shift QR (Golub-Kahan SVD steps, Wilkinson shift from B^T B) on all lanes in
/// lockstep, each lane on its own bottom unreduced block. Normwise accurate (absolute error
/// ~ N eps |B|, which is what tolerance- and entropy-ESS need; DBDSQR's relative accuracy on
/// tiny values is not reached). Returns the bit mask of the lanes that did not converge within
/// 30 N steps (their d, e are then unspecified).
unsigned bidiagonalSingularValues(double* d, double* e, int N);

}  // namespace ess::lanes
