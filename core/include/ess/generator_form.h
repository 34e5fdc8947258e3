// Semiseparable generator files (docs/definitions.md section 6) as plain arrays (math library, no
// LibTorch): an operator stored as its generators
//   T[h,r,c] = sum_n C[h,r,n] * exp(sum_{t=c+1..r} log_a[h,t,n]) * B[h,c,n]   for c < r
//   T[h,r,r] = sum_n C[h,r,n] * B[h,r,n] + D[h,r]
// with C, B [H, L, N], log_a [H, L, N] or [H, L] (one decay per head), optional D [H, L].
// Linear attention (log_a = 0), GLA, RetNet, diagonal SSMs and Mamba's S6 all fit.
// ess/generators.h holds the same on LibTorch tensors for the mixers (model library).
#pragma once
#include <string>

#include "ess/array.h"

namespace ess {

/// A semiseparable operator in generator form, float64 arrays:
///   C [H, L, N], B [H, L, N]  output and input generators,
///   logA [H, L, N] (one decay per state) or [H, L] (one decay per head), log a_t <= 0 for a
///        stable layer (decay a_t = exp(logA[.., t, ..]) applied when moving from t-1 to t),
///   D [H, L] or undefined      extra diagonal (skip) term.
struct GeneratorArrays {
  Array C, B, logA, D;
  int heads() const { return C.defined() ? static_cast<int>(C.size(0)) : 0; }
  int length() const { return C.defined() ? static_cast<int>(C.size(1)) : 0; }
  int stateSize() const { return C.defined() ? static_cast<int>(C.size(2)) : 0; }
  bool perHeadDecay() const { return logA.defined() && logA.dim() == 2; }
};

/// True when `t` holds the arrays `C`, `B` and `log_a` of a generator file.
bool isGeneratorFile(const NamedArrays& t);

/// The generators of a generator file, validated and converted to float64. Throws InputError
/// naming `path`, the tensors and their shapes when shapes disagree, the tensor when values are
/// not finite, and the first row where the decays (log a > 0) overflow float64.
GeneratorArrays readGenerators(const NamedArrays& t, const std::string& path);

/// Dense operator [H, L, L] (float64) of `g`. Throws InputError naming `path` when values
/// overflow (a decay log a > 0 makes the operator grow without bound).
Array materializeGenerators(const GeneratorArrays& g, const std::string& path);

}  // namespace ess
