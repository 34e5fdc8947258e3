// Sequence mixers of the ess-lm model family (DESIGN.md sections 1 and 4): causal, multi-head
// layers whose head outputs are y_h = T_h(u) V_h with a lower-triangular operator T_h built from
// the input by a featurizer (queries, keys, decays). Every mixer has three forms that agree:
//   - the parallel form used for training (`forward`, `headOutputs`),
//   - a plain recurrent form (`recurrentHeadOutputs`: an explicit loop over time that carries
//     the state or KV cache, as the layer would run at inference),
//   - the materialized operator (`materialize`: T as a dense [H, L, L] tensor,
//     T[h, r, c] = weight of value input c on output r, zero above the diagonal).
// Kinds implemented here:
//   softmax_attention  T = softmax(Q K^T / sqrt(d_k) + causal mask)          (Vaswani et al. 2017)
//   linear_attention   T[r,c] = q_r . k_c (c <= r), identity feature map, q scaled by 1/sqrt(d_k),
//                      no normalizing denominator                          (Katharopoulos et al. 2020)
//   gla                T[r,c] = sum_n q_r[n] prod_{t=c+1..r} a_t[n] k_c[n] (c <= r), with
//                      data-dependent decay log a_t = logsigmoid(W_a x_t) / 16, q scaled by
//                      1/sqrt(d_k), no output gate or norm, gate bias initialized uniform in
//                      [0, 4] (decays 0.958 .. 0.999 per step)                  (Yang et al. 2024)
//   sliding_window_attention  softmax attention restricted to the last w positions:
//                      T = softmax(Q K^T / sqrt(d_k) + mask), mask = -inf unless r - w < c <= r
//                      (window w includes the current position; MixerOptions::window)
//                      (Beltagy et al. 2020, Longformer; Child et al. 2019)
//   retnet             retention with a fixed (not learned) decay per head,
//                      T[h,r,c] = gamma_h^(r-c) q_r . k_c (c <= r), gamma_h = 1 - 2^(-5-h),
//                      q scaled by 1/sqrt(d_k), no group norm, no gate              (Sun et al. 2023)
//   short_conv         causal depthwise convolution of length k on the value projection:
//                      y_t[ch] = sum_{j=0..k-1} w[ch, j] v_{t-j}[ch] (v_{<0} = 0), one SISO operator
//                      per channel: heads() = d_model, d_v = 1, no queries or keys (and no key
//                      shift), T[ch, r, c] = w[ch, r-c] for 0 <= r-c < k (MixerOptions::convKernel)
//                      (the short convolutions of H3, Hyena, Mamba)
//   mamba2             Mamba-2 SSD, scalar decay per head: S_t = a_t S_{t-1} + dt_t B_t X_t^T,
//                      y_t = S_t^T C_t + D X_t, a_t = exp(-exp(A_log) dt_t), dt_t = softplus(.);
//                      T[h,r,c] = C_r . B_c dt_c prod_{t=c+1..r} a_t (+ D on the diagonal),
//                      B, C in R^N (MixerOptions::stateSize); no q/k_proj (keyDim() 0); the key
//                      shift, when on, applies to B. TSS N*d_v        (Dao and Gu 2024; mamba2.cpp)
//   hyena              order-2 Hyena: T[ch] = diag(g_out) Toeplitz(h[ch]) diag(g_in), identity
//                      gates (linear projections), explicit filter of length l_f
//                      (MixerOptions::filterLength) times a fixed exponential decay window; one
//                      SISO operator per channel like short_conv. TSS min(s, l_f-1)
//                      (Poli et al. 2023; hyena.cpp)
//   lti_ssm            diagonal LTI state space model, S4D-style with a REAL diagonal A (no imaginary
//                      part): per channel h_t = A_bar h_{t-1} + B_bar u_t, y_t = C . h_t + D u_t,
//                      A = -exp(log_a_real), dt = exp(log_dt), zero-order hold A_bar = exp(dt A),
//                      B_bar = (A_bar - 1)/A B; T[ch,r,c] = sum_n C_n A_bar_n^(r-c) B_bar_n (+ D on
//                      the diagonal); state n (MixerOptions::stateSize); one SISO operator per
//                      channel like short_conv. Unstable parameters (decay >= 1, non-finite dt)
//                      throw InputError. TSS n                      (Gu et al. 2022; lti_ssm.cpp)
//   mamba              the selective SSM (S6) block of Mamba: in_proj to (x, z) of width E = expand*D,
//                      causal depthwise conv1d of length d_conv + SiLU giving u, input-dependent
//                      dt_t = softplus(dt_proj(x_proj(u)_dt)), B_t, C_t in R^N from x_proj(u), per
//                      channel h_t = exp(dt_t A) h_t-1 + dt_t B_t u_t, y_t = (C_t . h_t + D u_t) silu(z_t);
//                      one SISO operator per inner channel (heads() = E, d_v = 1):
//                      T[e,r,c] = silu(z_r[e]) C_r . (exp(sum_{t=c+1..r} dt_t[e] A[e]) dt_c[e] B_c)
//                      (+ silu(z_r[e]) D[e] on the diagonal). The conv and SiLU are the featurizer
//                      (they make u, the value input); the gate scales rows. HF Mamba parameter
//                      names. TSS N per channel             (Gu and Dao 2023; mamba.cpp)
//   deltanet           linear attention with the delta rule: S_t = S_{t-1}(I - b_t k_t k_t^T)
//                      + b_t v_t k_t^T, o_t = S_t q_t, keys L2-normalized, b_t = sigmoid(w_b . x_t)
//                      per head (beta_proj.weight [H, D]), q scaled by 1/sqrt(d_k);
//                      T[r,c] = q_r^T P_r P_{r-1} .. P_{c+1} b_c k_c, P_t = I - b_t k_t k_t^T.
//                      TSS d_k*d_v               (Schlag et al. 2021, Yang et al. 2024; deltanet.cpp)
// Optional key shift (a one-step token shift in the key featurizer, as in RWKV's token shift or
// the short convolutions of H3/Based/GLA): keys are computed from
//   x~_t = x_t + mu * (x_{t-1} - x_t)   (x_{-1} = 0, mu in R^D learned, parameter `k_shift`)
// instead of x_t. It changes only how T is built (the featurizer); values are not shifted, so T
// is still exactly what multiplies V. It lets a single attention layer match "the token before
// position c", which makes MQAR quick to learn.
// Weights are float32 parameters; every computation runs in the dtype of its input (weights are
// cast), so a float64 input gives a float64 operator.
#pragma once
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include "ess/generators.h"

#include <memory>
#include <string>
#include <vector>

namespace ess {

/// The mixer kinds this build can construct: softmax_attention, linear_attention, gla,
/// sliding_window_attention, retnet, short_conv, mamba2, hyena, lti_ssm, deltanet,
/// mamba (DESIGN.md section 6).
const std::vector<std::string>& knownMixerKinds();

/// Construction options shared by all kinds (each kind reads the ones it uses).
struct MixerOptions {
  bool keyShift = false;  ///< key shift (parameter `k_shift`); ignored by short_conv (no keys)
  int window = 16;        ///< sliding_window_attention: positions each output sees (w >= 1)
  int convKernel = 4;     ///< short_conv: kernel length k >= 1
  int stateSize = 16;     ///< mamba2: state size N >= 1 per head; lti_ssm, mamba: n per channel
  int expand = 2;         ///< mamba: inner width E = expand * d_model
  int dtRank = 0;         ///< mamba: rank of the dt projection; 0 = ceil(d_model / 16) (Mamba's "auto")
  int filterLength = 64;  ///< hyena: long filter length l_f >= 1
};

/// Base class of all mixers. Parameter names (stable, used in checkpoints):
/// `q_proj.weight`, `k_proj.weight`, `v_proj.weight` [H*d, D], `o_proj.weight` [D, H*d_v],
/// `k_shift` [D] with the key shift,
/// and for gla `gate_proj.weight` [H*d_k, D], `gate_proj.bias` [H*d_k].
/// short_conv has no `q_proj`/`k_proj`/`k_shift`; it has `conv.weight` [D, k] (tap j at lag j).
class Mixer : public torch::nn::Module {
 public:
  /// `queryKey` false: no query/key projections are registered (a mixer without a featurizer,
  /// e.g. short_conv); keyDim() is then 0 and the key shift is not available.
  /// `valueOutput` false: no v_proj/o_proj either (the kind registers its own and sets oWeight_).
  Mixer(std::string kind, int dModel, int numHeads, bool keyShift, const at::Generator* gen,
        bool queryKey = true, bool valueOutput = true);
  ~Mixer() override;

  const std::string& kind() const { return kind_; }
  bool keyShift() const { return shift_.defined(); }
  int heads() const { return numHeads_; }
  int keyDim() const { return qWeight_.defined() ? headDim_ : 0; }  ///< d_k per head (0: no keys)
  int valueDim() const { return headDim_; }  ///< d_v per head

  /// x [B, L, D] -> y [B, L, D]: head outputs, concatenated, through the output projection.
  at::Tensor forward(const at::Tensor& x);
  /// Parallel form: x [B, L, D] -> per-head outputs [B, H, L, d_v] (before the output projection).
  virtual at::Tensor headOutputs(const at::Tensor& x) = 0;
  /// Recurrent form (explicit loop over time, carrying the state / KV cache): same result.
  virtual at::Tensor recurrentHeadOutputs(const at::Tensor& x) = 0;
  /// Operator: x [L, D] -> T [H, L, L], or x [B, L, D] -> T [B, H, L, L]; lower triangular,
  /// headOutputs(x) == T @ values(x).
  virtual at::Tensor materialize(const at::Tensor& x) = 0;
  /// The value inputs V: x [B, L, D] -> [B, H, L, d_v] (or [L, D] -> [H, L, d_v]).
  virtual at::Tensor values(const at::Tensor& x) const;

  /// Structured (semiseparable generator) form of the operator for one sequence x [L, D]
  /// (ess/generators.h, float64): materializeGenerators(generators(x)) == materialize(x).
  /// Kinds with such a form: linear_attention, gla, retnet, lti_ssm, mamba, mamba2. The others
  /// (softmax attention, sliding window, short convolution, hyena, deltanet) return an empty
  /// Generators (heads() == 0); banded kinds are recognized from T by the engine instead.
  virtual Generators generators(const at::Tensor& x);

  /// Theoretical state size per head at split s (DESIGN.md section 1), in full units
  /// (softmax: s*(d_k+d_v); sliding window: min(s,w)*(d_k+d_v); linear attention, GLA and
  /// RetNet: d_k*d_v; short convolution: k-1 per channel).
  virtual double theoreticalStateSize(int split) const = 0;
  /// The same formula as text, e.g. "d_k*d_v = 32*32" or "s*(d_k+d_v) = s*(32+32)".
  virtual std::string tssFormula() const = 0;

 protected:
  /// x [..., L, D] -> [..., H, L, d] through `weight` [H*d, D] (cast to x's dtype).
  at::Tensor project(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias = {}) const;
  /// Keys x [..., L, D] -> [..., H, L, d_k], through the key shift when enabled.
  at::Tensor keys(const at::Tensor& x) const;
  /// Registers a submodule `name` holding `weight` [out, in] (uniform in +-1/sqrt(in)) and, when
  /// `withBias`, `bias` [out] (zeros); returns {weight, bias}.
  std::pair<at::Tensor, at::Tensor> addLinear(const std::string& name, int out, int in, bool withBias,
                                              const at::Generator* gen);
  /// Heads and value channels per head, for kinds whose head layout is not d_model / num_heads
  /// (mamba: E = expand * d_model SISO channels).
  void setHeadLayout(int heads, int valueDim) {
    numHeads_ = heads;
    headDim_ = valueDim;
  }
  /// TSS d_k*d_v per head (linear attention, GLA, RetNet, DeltaNet) and its formula text.
  double keyValueStateSize() const { return static_cast<double>(keyDim()) * valueDim(); }
  std::string keyValueFormula() const {
    return "d_k*d_v = " + std::to_string(keyDim()) + "*" + std::to_string(valueDim());
  }
  /// The query, key, value and output projection weights, registered by the base class.
  at::Tensor qWeight_, kWeight_, vWeight_, oWeight_;
  at::Tensor shift_;  ///< mu [D] of the key shift, undefined when off

 private:
  std::string kind_;
  int dModel_;
  int numHeads_;
  int headDim_;
};

/// Constructs a mixer with freshly initialized weights (drawn from `gen` when given); `keyShift`
/// adds the key shift (parameter `k_shift` [D], initialized to 0.5).
/// Throws InputError listing the known kinds when `kind` is unknown.
std::shared_ptr<Mixer> makeMixer(const std::string& kind, int dModel, int numHeads,
                                 const at::Generator* gen = nullptr, bool keyShift = false);
/// The same with all construction options (window, kernel length). short_conv ignores
/// `numHeads` (it has one head per channel) and `keyShift`. Throws InputError on an unknown
/// kind or a non-positive window / kernel length.
std::shared_ptr<Mixer> makeMixer(const std::string& kind, int dModel, int numHeads, const at::Generator* gen,
                                 const MixerOptions& options);

}  // namespace ess
