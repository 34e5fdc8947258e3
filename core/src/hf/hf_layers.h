// Layers the Hugging Face architectures share (internal to the core), float64 throughout:
// norms, MLP activations, rotary positions (RoPE), causal softmax attention.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>

#include "ess/hf_model.h"

namespace ess::hf {

/// RMSNorm (Zhang and Sennrich 2019): x / sqrt(mean(x^2) + eps) * w over the last dimension.
at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w, double eps);
/// LayerNorm over the last dimension.
at::Tensor layerNorm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps);
/// The MLP activation of config.json: gelu_new / gelu_pytorch_tanh (tanh form), gelu, relu,
/// silu / swish.
at::Tensor activate(const at::Tensor& x, const std::string& act);

/// Rotary cos and sin for positions 0..L-1, [L, r] with r = c.rotaryDim (0: head_dim) and
/// inv_freq[i] = rope_theta^(-2i/r) (HfModel::rotary).
std::pair<at::Tensor, at::Tensor> rotaryCosSin(const HfConfig& c, int64_t length);
/// x * cos + rotate_half(x) * sin (HF rotate-half convention) on the leading r = cos.size(-1)
/// dims of x [heads, L, d]; the other d - r dims pass through (partial rotary).
at::Tensor applyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

/// Causal softmax attention probabilities softmax(q k^T * scale) [H, L, L] of q and k [H, L, d]:
/// key c is masked for query r unless c <= r (and r - c < window when window > 0); with
/// softcap > 0 the scores are soft-capped first, softcap * tanh(scores / softcap) (Gemma 2).
at::Tensor causalSoftmax(const at::Tensor& q, const at::Tensor& k, double scale, int window, double softcap = 0);
/// A projection x [L, n * headDim] as heads [n * repeat, L, headDim], each head repeated `repeat`
/// times in a row (grouped-query attention's shared keys and values, as HF's repeat_kv).
at::Tensor toHeads(const at::Tensor& x, int64_t headDim, int64_t repeat = 1);
/// Heads y [H, L, d] as the rows [L, H * d] an output projection reads (the inverse of toHeads).
at::Tensor mergeHeads(const at::Tensor& y);
/// Gemma's RMSNorm: x / sqrt(mean(x^2) + eps) * (1 + w) over the last dimension.
at::Tensor gemmaRmsNorm(const at::Tensor& x, const at::Tensor& w, double eps);

}  // namespace ess::hf
