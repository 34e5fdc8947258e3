// Semiseparable generator files (DESIGN.md section 6): an operator stored as its generators
//   T[h,r,c] = sum_n C[h,r,n] * exp(sum_{t=c+1..r} log_a[h,t,n]) * B[h,c,n]   for c < r
//   T[h,r,r] = sum_n C[h,r,n] * B[h,r,n] + D[h,r]
// with C, B [H, L, N], log_a [H, L, N] or [H, L] (one decay per head), optional D [H, L].
// Linear attention (log_a = 0), GLA, RetNet, diagonal SSMs and Mamba's S6 all fit.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

#include "ess/tensors.h"

namespace ess {

/// True when `t` holds the tensors `C`, `B` and `log_a` of a generator file.
bool isGeneratorFile(const NamedTensors& t);

/// Dense operator [H, L, L] (float64) of the generators in `t`. Throws InputError naming
/// `path`, the tensors and their shapes when shapes disagree or values are not finite.
at::Tensor materializeGenerators(const NamedTensors& t, const std::string& path);

/// State size N of the generators in `t` (the inner dimension of C and B).
int generatorStateSize(const NamedTensors& t);

}  // namespace ess
