// One interface for the language models whose layers ESS is measured on: the Hugging Face
// checkpoints implement it (HfModel, ess/hf_model.h: gpt2, llama, mistral, qwen2, mamba), the
// ess-lm family (EssLm, ess/model.h) through an adapter (src/operator/language_models.cpp). The model session
// (src/operator/session.cpp) runs any of them, and the conformance suite (tests/core/test_language_models.cpp) checks
// every fixture model through it.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstddef>
#include <memory>
#include <string>

#include "ess/generators.h"

namespace ess {

struct CheckpointFiles;

/// A language model seen layer by layer: its sizes, and the operator T [H, L, L] that each
/// layer's mixer applies to the sequence for given tokens. Layers are 0-based; methods given a
/// bad layer throw UsageError on field "layer", bad tokens InputError.
class LanguageModel {
 public:
  virtual ~LanguageModel() = default;

  /// "ess-lm", or the Hugging Face model_type ("gpt2", "llama", "mamba", ...).
  virtual std::string architecture() const = 0;
  /// One line for SourceInfo::description, `name` the folder's name, e.g. "gla: ess-lm,
  /// 2 layer(s): gla, softmax_attention".
  virtual std::string description(const std::string& name) const = 0;
  virtual int vocabSize() const = 0;
  /// The longest input in tokens; 0 when there is no limit (mamba).
  virtual int maxLength() const = 0;
  virtual int numLayers() const = 0;
  virtual std::string mixerKind(int layer) const = 0;
  /// SISO operators of `layer`: heads, or channels (short_conv, mamba).
  virtual int heads(int layer) const = 0;
  /// Value channels each operator is applied to (d_v per head; 1 per channel).
  virtual int valueChannels(int layer) const = 0;
  /// The theoretical state size formula of `layer`, e.g. "s*(d_k+d_v) = s*(32+32)".
  virtual std::string tssFormula(int layer) const = 0;
  /// Theoretical state size per SISO operator at split `split` (full units / valueChannels;
  /// docs/definitions.md section 1).
  virtual double theoreticalStateSizeSiso(int layer, int split) const = 0;

  /// tokens [L] int64 -> the operator T [H, L, L] float64 of `layer` (causal: T[h, r, c] = 0
  /// for c > r).
  virtual at::Tensor layerOperator(int layer, const at::Tensor& tokens) const = 0;
  /// The same operator in generator form (float64) where the mixer has one; empty
  /// (heads() == 0) otherwise.
  virtual Generators layerGenerators(int layer, const at::Tensor& tokens) const = 0;
  /// The same generators as rows its channels share (ess/generators.h) where the mixer has that
  /// structure (Mamba-1's S6), those of ssmGenerators when `ssm`; empty (heads() == 0)
  /// otherwise. The structured engine reads them without forming 3 H L N doubles.
  virtual SharedGenerators layerSharedGenerators(int, const at::Tensor&, bool /*ssm*/) const { return {}; }
  /// Whether the model defines the SSM-only operators (ess/operator_scope.h): the Hugging Face
  /// checkpoints do, ess-lm does not (its sessions refuse OperatorScope::Ssm).
  virtual bool hasSsmOperators() const { return false; }
  /// The SSM-only operator of `layer` [H, L, L] and its generator form (empty where the layer
  /// has none): the recurrence without the factors its block applies to the recurrence's output
  /// (README "Mixer kinds"); the block operator for layers without such factors (attention).
  virtual at::Tensor ssmOperator(int layer, const at::Tensor& tokens) const { return layerOperator(layer, tokens); }
  virtual Generators ssmGenerators(int layer, const at::Tensor& tokens) const { return layerGenerators(layer, tokens); }
  /// What the SSM-only operator of `layer` leaves out of the block operator, e.g. "the z gate
  /// and the D skip"; empty where the two are the same.
  virtual std::string ssmRemoves(int layer) const {
    (void)layer;
    return {};
  }
  /// The normed hidden state entering the mixer of `layer`, [L, D] float64.
  virtual at::Tensor mixerInput(int layer, const at::Tensor& tokens) const = 0;
  /// The mixer's own outputs per head y [H, L, d_v] and its value inputs v [H, L, d_v] (float64)
  /// of `layer`, so that y == T(u) v can be checked against layerOperator; false where the
  /// model does not expose them (the Hugging Face models, which tests/core/test_hf_models.cpp
  /// checks against PyTorch's outputs instead).
  virtual bool headOutputs(int layer, const at::Tensor& tokens, at::Tensor* outputs, at::Tensor* values) const {
    (void)layer, (void)tokens, (void)outputs, (void)values;
    return false;
  }

  /// Rough peak memory, in bytes, of the float64 forward pass and operator of one layer for
  /// `length` tokens; 0 where the model does not estimate it (ess-lm: the dense operator's
  /// budget check covers it). Sessions refuse inputs over the memory budget.
  virtual double forwardBytes(int64_t length) const = 0;
  /// The parts of the forward pass's peak memory for `length` tokens, bytes (the refusal of an
  /// input over the memory budget names the largest); by default all of forwardBytes is
  /// activations.
  struct ForwardMemory {
    double layerWeights = 0;  ///< the float64 weights of the largest layer
    double activations = 0;   ///< residual streams kept per layer, the MLP's and projections' outputs
    double mixer = 0;         ///< the operator: attention scores and probabilities, a scan's terms
    double total() const { return layerWeights + activations + mixer; }
  };
  virtual ForwardMemory forwardMemory(int64_t length) const {
    ForwardMemory m;
    m.activations = forwardBytes(length);
    return m;
  }
  /// Whether text input is read as bytes (one token per byte, ess-lm) instead of with the
  /// checkpoint folder's tokenizer (ess/tokenizer.h).
  virtual bool byteLevelText() const = 0;
  /// The input a session opens with (an input spec, ess/input_spec.h): ess-lm an MQAR sample,
  /// Hugging Face models 64 random tokens, fewer when the context or `memoryBudget` is smaller.
  virtual std::string defaultInput(std::size_t memoryBudget) const = 0;
};

/// The language model of checkpoint files (loadCheckpointFiles, ess/checkpoint.h): ess-lm
/// when config.json's model_type is "ess-lm" or absent, a Hugging Face model otherwise. Throws
/// InputError naming the file and the problem (an unsupported model_type lists the supported).
std::unique_ptr<LanguageModel> openLanguageModel(const CheckpointFiles& files);

}  // namespace ess
