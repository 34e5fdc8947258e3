// Layers the Hugging Face architectures share (internal to the core), float64 throughout:
// norms, MLP activations, rotary positions (RoPE), causal softmax attention.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <utility>

#include "ess/generators.h"
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
/// at::linear(x, w, b) of x [R, K], w [F, K], b [F] (or undefined), with the R rows split over
/// this machine's CPUs. The ESS engine keeps OpenBLAS to one thread per call
/// (ess_engine.h useSingleThreadedBlas), which would leave a float64 forward pass on one core.
/// Falls back to at::linear for small products, other shapes, autograd, or an OpenBLAS whose
/// concurrent calls are not safe.
at::Tensor rowParallelLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {});
/// Gemma's RMSNorm: x / sqrt(mean(x^2) + eps) * (1 + w) over the last dimension.
at::Tensor gemmaRmsNorm(const at::Tensor& x, const at::Tensor& w, double eps);

/// Mamba-1's featurization of a mixer input x [L, D] (Gu and Dao 2023; HF MambaMixer,
/// FalconMambaMixer and JambaMambaMixer slow_forward): value input u = silu(conv1d(x_in)), gate
/// silu(z) and step dt [E, L]; B, C [L, N]; A = -exp(A_log) [E, N]; D [E].
struct Mamba1Features {
  at::Tensor u, gate, dt, B, C, A, D;
};
/// How dt_low, B and C are normalized after x_proj: not at all (mamba), to unit RMS with eps
/// (falcon_mamba's mixer_rms_eps), or by the weighted RMSNorms dt_layernorm, b_layernorm and
/// c_layernorm with eps (jamba's rms_norm_eps).
enum class Mamba1Norm { None, Unit, Weighted };
/// `weight(name)` gives the mixer's tensor `name` ("in_proj.weight", ...) in float64; E = inner
/// channels; shapes from c (stateSize, dtRank, convKernel, convBias). Throws InputError "`what`:
/// unstable parameters in channel e: ..." when A or dt is not finite.
Mamba1Features mamba1Features(const std::function<at::Tensor(const std::string&)>& weight, const at::Tensor& x,
                              const HfConfig& c, int64_t inner, Mamba1Norm norm, double eps, const std::string& what);
/// The gated scan output (y + D u) * gate [E, L] (mixer/selective_scan.h).
at::Tensor mamba1Scan(const Mamba1Features& f);
/// Generators [E, L, N] of the layer operator (gate and D skip included) or, with ssmOnly, of the
/// SSM alone (ess/operator_scope.h: no gate, no D).
Generators mamba1Generators(const Mamba1Features& f, bool ssmOnly);
/// The same generators as the rows C_t, B_t the channels share, scaled per channel by the gate
/// (1 when ssmOnly) and dt, with log a = dt A (ess/generators.h).
SharedGenerators mamba1SharedGenerators(const Mamba1Features& f, bool ssmOnly);

}  // namespace ess::hf
