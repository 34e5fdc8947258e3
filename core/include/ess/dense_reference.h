// The dense engine's reference path: a plain LAPACK SVD of every block H_s = T[s:, :s], with
// none of computeEss's fast paths (Gram matrix, band corner aside, truncated pivoted QR of
// numerically low-rank blocks). The fast paths are tested against it (tests/math/
// test_dense_engine.cpp); docs/definitions.md section 5 gives their certified bounds
// (tolerance-ESS exact, entropy-ESS within 5e-7 relative, one rule for every fast path).
#pragma once
#include <atomic>

#include "ess/array.h"
#include "ess/curve.h"
#include "ess/ess_options.h"

namespace ess {

/// computeEss (ess/ess_engine.h: same shapes, options, progress, cancel and errors, CPU only)
/// with one SVD (LAPACK xGESVD, values only, in `options.dtype_`) per head and split, except
/// for the band corner of banded operators (an exact reduction). O(L^4) for a whole curve.
EssCurve computeEssBySvd(const Array& op, const EssOptions& options, const ProgressFn& progress = {},
                         const std::atomic<bool>* cancel = nullptr);

}  // namespace ess
