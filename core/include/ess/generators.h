// Semiseparable generator files (docs/definitions.md section 6): an operator stored as its generators
//   T[h,r,c] = sum_n C[h,r,n] * exp(sum_{t=c+1..r} log_a[h,t,n]) * B[h,c,n]   for c < r
//   T[h,r,r] = sum_n C[h,r,n] * B[h,r,n] + D[h,r]
// with C, B [H, L, N], log_a [H, L, N] or [H, L] (one decay per head), optional D [H, L].
// Linear attention (log_a = 0), GLA, RetNet, diagonal SSMs and Mamba's S6 all fit.
// LibTorch tensors (model library); the math itself is in ess/generator_form.h on plain arrays.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

#include "ess/generator_form.h"
#include "ess/tensors.h"

namespace ess {

/// A semiseparable operator in generator form (the layout of a generator file, docs/definitions.md
/// section 6), float64 CPU tensors:
///   C [H, L, N], B [H, L, N]  output and input generators,
///   logA [H, L, N] (one decay per state) or [H, L] (one decay per head), log a_t <= 0 for a
///        stable layer (decay a_t = exp(logA[.., t, ..]) applied when moving from t-1 to t),
///   D [H, L] or undefined      extra diagonal (skip) term,
/// T[h,r,c] = sum_n C[h,r,n] exp(sum_{t=c+1..r} logA[h,t,n]) B[h,c,n] for c < r, and
/// T[h,r,r] = sum_n C[h,r,n] B[h,r,n] + D[h,r]. Mixers with this structure emit it through
/// Mixer::generators (ess/mixer.h); the structured ESS engine works on it without forming T.
struct Generators {
  at::Tensor C, B, logA, D;
  int heads() const { return C.defined() ? static_cast<int>(C.size(0)) : 0; }
  int length() const { return C.defined() ? static_cast<int>(C.size(1)) : 0; }
  int stateSize() const { return C.defined() ? static_cast<int>(C.size(2)) : 0; }
  bool perHeadDecay() const { return logA.defined() && logA.dim() == 2; }
};

/// SharedGeneratorArrays (ess/generator_form.h) on float64 CPU tensors: Cshared, Bshared [L, N],
/// cScale, bScale, step [H, L], rate [H, N], D [H, L] or undefined (Mamba-1's S6: C_t, B_t,
/// the gate, dt, dt, A). The structured engine reads them without forming C, B, log_a [H, L, N].
struct SharedGenerators {
  at::Tensor Cshared, Bshared, cScale, bScale, step, rate, D;
  int heads() const { return cScale.defined() ? static_cast<int>(cScale.size(0)) : 0; }
};

/// The generators of a generator file, validated and converted to float64. Throws InputError
/// naming `path`, the tensors and their shapes when shapes disagree, and the tensor when values
/// are not finite.
Generators readGenerators(const NamedTensors& t, const std::string& path);

/// Dense operator [H, L, L] (float64) of `g`. Throws InputError naming `path` when values
/// overflow (a decay log a > 0 makes the operator grow without bound).
at::Tensor materializeGenerators(const Generators& g, const std::string& path);

/// True when `t` holds the tensors `C`, `B` and `log_a` of a generator file.
bool isGeneratorFile(const NamedTensors& t);

/// Dense operator [H, L, L] (float64) of the generators in `t`. Throws InputError naming
/// `path`, the tensors and their shapes when shapes disagree or values are not finite.
at::Tensor materializeGenerators(const NamedTensors& t, const std::string& path);

/// Zero-copy conversions to and from the arrays of the math library (CPU, contiguous).
GeneratorArrays toArrays(const Generators& g);
SharedGeneratorArrays toArrays(const SharedGenerators& g);
Generators toGenerators(const GeneratorArrays& g);

}  // namespace ess
