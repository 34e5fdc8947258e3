// The ESS engines on LibTorch tensors (model library): the functions of ess/ess_engine.h and
// ess/structured_ess.h for at::Tensor operators and Generators, converted without copying to
// the math library's arrays, and the CUDA path of computeEss (batched linalg_svdvals).
#pragma once
#include <ATen/core/Tensor.h>

#include <atomic>
#include <vector>

#include "ess/ess_engine.h"
#include "ess/generators.h"
#include "ess/structured_ess.h"

namespace ess {

/// computeEss (ess/ess_engine.h) of a tensor [H, L, L] or [L, L] on any device, any floating
/// dtype. `options.device_` Cuda runs batched on the GPU; UsageError on field "device" when
/// this LibTorch has no CUDA or no device is present.
EssCurve computeEss(const at::Tensor& op, const EssOptions& options, const ProgressFn& progress = {},
                    const std::atomic<bool>* cancel = nullptr);
/// splitSingularValues (ess/ess_engine.h) of one head `op` [L, L].
std::vector<double> splitSingularValues(const at::Tensor& op, int split, DType dtype);
/// detectBandwidth (ess/ess_engine.h) of `op` [H, L, L] or [L, L].
int detectBandwidth(const at::Tensor& op);
/// computeStructuredEss (ess/structured_ess.h) of generators held as tensors.
EssCurve computeStructuredEss(const Generators& g, const EssOptions& options, const ProgressFn& progress = {},
                              const std::atomic<bool>* cancel = nullptr);
/// denseAsGenerators (ess/structured_ess.h) of a tensor operator.
Generators denseAsGenerators(const at::Tensor& op);

/// Whether this LibTorch build can run on CUDA (and a device is present).
bool cudaAvailable();
/// Registers the CUDA path with the math library (setCudaEss); done by computeEss above and when
/// the model library is loaded (linked, or by essmath's computeEss for `--device cuda`).
void registerCudaEss();

}  // namespace ess
