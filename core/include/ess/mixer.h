// Sequence mixers of the ess-lm model family (docs/definitions.md sections 1 and 4): causal, multi-head
// layers whose head outputs are y_h = T_h(u) V_h with a lower-triangular operator T_h built from
// the input by a featurizer (queries, keys, decays). Every mixer has three forms that agree:
//   - the parallel form used for training (`forward`, `headOutputs`),
//   - a plain recurrent form (`recurrentHeadOutputs`: an explicit loop over time that carries
//     the state or KV cache, as the layer would run at inference),
//   - the materialized operator (`materialize`: T as a dense [H, L, L] tensor,
//     T[h, r, c] = weight of value input c on output r, zero above the diagonal).
// Each kind is one file in core/src/mixer/ whose header comment gives its operator, parameters,
// recurrent form, theoretical state size and paper; the registry (ess/mixer_registry.h) lists
// the kinds and their options, docs/mixers/README.md indexes them and says how to add one.
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
#include "ess/mixer_registry.h"

#include <memory>
#include <string>
#include <vector>

namespace ess {

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
  Mixer(std::string kind, int dModel, int numHeads, bool keyShift, const at::Generator* gen, bool queryKey = true,
        bool valueOutput = true);
  ~Mixer() override;

  const std::string& kind() const { return kind_; }
  bool keyShift() const { return shift_.defined(); }
  int heads() const { return numHeads_; }
  int keyDim() const { return qWeight_.defined() ? headDim_ : 0; }  ///< d_k per head (0: no keys)
  int valueDim() const { return headDim_; }                         ///< d_v per head

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

  /// Theoretical state size per head at split s (docs/definitions.md section 1), in full units
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
  int numHeads_;
  int headDim_;
};

/// Constructs a mixer with freshly initialized weights (drawn from `gen` when given); `keyShift`
/// adds the key shift (parameter `k_shift` [D], initialized to 0.5).
/// Throws InputError listing the known kinds (knownMixerKinds) when `kind` is unknown.
std::shared_ptr<Mixer> makeMixer(const std::string& kind, int dModel, int numHeads, const at::Generator* gen = nullptr,
                                 bool keyShift = false);
/// The same with all construction options. Kinds with one operator per channel (short_conv,
/// hyena, lti_ssm, mamba) ignore `numHeads`; kinds without MixerKind::keyShift ignore `keyShift`.
/// Throws InputError on an unknown kind or when an option the kind reads is below its minimum
/// ("<kind>: <key> must be at least <min>, got <value>").
std::shared_ptr<Mixer> makeMixer(const std::string& kind, int dModel, int numHeads, const at::Generator* gen,
                                 const MixerOptions& options);

}  // namespace ess
