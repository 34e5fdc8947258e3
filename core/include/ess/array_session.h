// Sessions on an operator or generators held in memory rather than in a file (the Python module
// ess_explorer, python/), and the generator form of any session's layer. An array session runs
// the same checks, engines and curves as an operator or generator file (docs/definitions.md
// section 6), so a curve computed from memory equals the one `ess curve` computes from the file.
#pragma once
#include <memory>
#include <string>

#include "ess/array.h"
#include "ess/generator_form.h"
#include "ess/session.h"

namespace ess {

/// A session of one layer (layer 0) on `tensors`, which hold either `operator` ([L, L] or
/// [H, L, L], F64, F32, F16 or BF16; T[h, r, c] = weight of input c on output r) or the
/// generators `C`, `B` [H, L, N], `log_a` [H, L, N] or [H, L] and optional `D` [H, L]. Float64
/// arrays are used as they are (no copy: the session keeps the arrays' storage alive), others
/// are converted once. `name` stands for the file in messages ("T: operator: holds NaN at
/// [0, 3, 1] (head, row, column)"). Throws InputError for what an operator or generator file
/// would be refused for (shapes, dtype, NaN or Inf, L < 2, a dense operator over `memoryBudget`).
std::unique_ptr<Session> openArraySession(const NamedArrays& tensors, const std::string& name,
                                          size_t memoryBudget = defaultMemoryBudget());

/// The generator form of `layer` of `session` (docs/definitions.md section 6, float64): the
/// arrays of a generator file, or those a model layer's mixer emits for the current input;
/// undefined arrays (heads() == 0) for layers without one (attention, dense operator files).
/// Throws UsageError for a layer outside the session, InputError as Session::curve does.
GeneratorArrays layerGenerators(Session& session, int layer);

}  // namespace ess
