// Mamba-1's selective scan (Gu and Dao 2023), shared by the `mamba` mixer and the Hugging Face
// mamba, falcon_mamba and jamba layers (internal to the model library).
#pragma once
#include <ATen/core/Tensor.h>

namespace ess {

/// Per channel e: h_t = exp(dt_t[e] A[e]) * h_{t-1} + dt_t[e] u_t[e] B_t, y_t[e] = C_t . h_t.
/// u, gate, dt [..., E, L]; B, C [..., L, N]; A [E, N]; D [E]. Returns (y + D u) * gate
/// [..., E, L]. Channels are scanned in groups whose float64 [..., E_g, L, N] terms stay near
/// 64 MiB (a 2.8B layer at L = 1024 would otherwise hold four 0.67 GB tensors at once).
/// Differentiable: the trainer runs it under autograd. Where no input needs a gradient (float64
/// CPU, shapes as above), a plain loop over the channels gives the same values without the
/// [..., E_g, L, N] terms.
at::Tensor selectiveScan(const at::Tensor& u, const at::Tensor& gate, const at::Tensor& dt, const at::Tensor& B,
                         const at::Tensor& C, const at::Tensor& A, const at::Tensor& D);

}  // namespace ess
