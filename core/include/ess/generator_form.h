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

/// Generators of a selective SSM whose channels share their input and output rows and differ in
/// their steps and decay rates (Mamba-1's S6, Gu and Dao 2023), float64 arrays:
///   Cshared, Bshared [L, N]   the rows C_t, B_t every channel reads,
///   cScale, bScale [H, L]     each channel's factor per step (Mamba: the gate silu(z_t), or 1
///                             without it, and the step dt_t),
///   step [H, L], rate [H, N]  log a[h,t,n] = step[h,t] * rate[h,n] (Mamba: dt_t and A),
///   D [H, L] or undefined.
/// They stand for the generators C[h,t,n] = cScale[h,t] Cshared[t,n], B[h,t,n] = bScale[h,t]
/// Bshared[t,n] (expandSharedGenerators), 3 H L N doubles the structured engine never forms:
/// 2 GB for a Mamba-2.8B layer at L = 1024.
struct SharedGeneratorArrays {
  Array Cshared, Bshared, cScale, bScale, step, rate, D;
  int heads() const { return cScale.defined() ? static_cast<int>(cScale.size(0)) : 0; }
  int length() const { return Cshared.defined() ? static_cast<int>(Cshared.size(0)) : 0; }
  int stateSize() const { return Cshared.defined() ? static_cast<int>(Cshared.size(1)) : 0; }
};

/// Throws InputError naming the arrays and their shapes when the shapes of `g` disagree, the
/// array when values are not finite, and C, B or log_a when their products would overflow.
void checkSharedGenerators(const SharedGeneratorArrays& g);

/// The generators of channels [first, first + count) of `g` (count < 0: all), formed: each
/// value is the same product the structured engine takes. Checks the shapes of `g` as above
/// (its values are the caller's: a tile asks for one channel at a time, and reading all of
/// them each time would cost more than the channel).
GeneratorArrays expandSharedGenerators(const SharedGeneratorArrays& g, int first = 0, int count = -1);

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
