// The structured ESS engine with its channels factored one at a time: the reference path that
// computeStructuredEss's batched channels (ess/structured_ess.h) are tested against.
#pragma once
#include <atomic>

#include "ess/ess_engine.h"
#include "ess/generator_form.h"

namespace ess {

/// computeStructuredEss with the heads (channels) of `g` taken one after another, each one's
/// splits cut into blocks over the threads, never batched 16 heads to a SIMD group. Same
/// arguments, results (tolerance-ESS identical, entropy-ESS within ~1e-12 relative), progress
/// and errors as computeStructuredEss; computeStructuredEss takes this path itself for a single
/// head, and when the batched path's buffers would outgrow 128 MiB per thread.
EssCurve computeStructuredEssPerChannel(const GeneratorArrays& g, const EssOptions& options,
                                        const ProgressFn& progress = {}, const std::atomic<bool>* cancel = nullptr);

}  // namespace ess
