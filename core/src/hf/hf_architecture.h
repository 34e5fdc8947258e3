// Hugging Face architectures (internal to the core), in llama.cpp's layout: one family per file
// (arch_gpt2.cpp, arch_llama.cpp, arch_mamba.cpp, ...), listed by config.json `model_type` in the
// table of hf_architectures.cpp. A family reads its config fields, names its tensors and runs
// its float64 forward pass; HfModel (ess/hf_model.h) does the rest (weights, cache, checks).
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ess/generators.h"
#include "ess/hf_model.h"
#include "hf/hf_config.h"
#include "hf/hf_weights.h"

namespace ess::hf {

/// How a family names its tensors.
struct TensorNaming {
  std::string taskPrefix;                 ///< of the task model (GPT2LMHeadModel: "transformer."), optional in files
  std::string blocks;                     ///< of the blocks: "h." or "layers."
  std::string embedding;                  ///< the token embedding: "wte.weight", "embed_tokens.weight"
  std::string lmHead = "lm_head.weight";  ///< the LM head of the task model (gpt_neox: "embed_out.weight")

  /// The name of tensor `name` of block `layer`: layerTensor(3, "ln_1.weight") == "h.3.ln_1.weight".
  std::string layerTensor(int layer, const std::string& name) const {
    return blocks + std::to_string(layer) + "." + name;
  }
};

/// One opened model of a family: its tensors and forward pass. Tensors are [L, D] float64
/// residual streams unless said otherwise; `w` holds the checked weights.
class HfArchitecture {
 public:
  HfArchitecture(const HfConfig& c, std::string path, TensorNaming naming)
      : c_(c), path_(std::move(path)), naming_(std::move(naming)) {}
  virtual ~HfArchitecture() = default;

  const TensorNaming& naming() const { return naming_; }
  /// Every tensor the layers use, with the shape the config implies.
  virtual std::vector<ExpectedTensor> tensors() const = 0;

  /// The residual stream entering block 0 for tokens [L] (int64).
  virtual at::Tensor embed(const HfWeights& w, const at::Tensor& tokens) const = 0;
  /// One whole block, residual included.
  virtual at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const = 0;
  /// The normalized residual stream the mixer of `layer` reads.
  virtual at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const = 0;
  /// The operator of `layer` on mixer input x (HfModel::layerOperator).
  virtual at::Tensor layerOperator(const HfWeights& w, int layer, const at::Tensor& x) const = 0;
  /// Whether layerGenerators gives a generator form (else HfModel returns an empty one).
  virtual bool hasGenerators() const { return false; }
  /// Whether layer `layer` has one (a hybrid's attention layers have none): HfModel returns an
  /// empty form for the others without running the forward pass.
  virtual bool layerHasGenerators(int) const { return hasGenerators(); }
  virtual Generators layerGenerators(const HfWeights& w, int layer, const at::Tensor& x) const;
  /// The SSM-only operator of `layer` on mixer input x and its generator form (README "Mixer
  /// kinds"): the recurrence without the factors applied to its output (gate, norm, D skip). By
  /// default the block operator: layers without such factors (attention) have only that one.
  virtual at::Tensor ssmOperator(const HfWeights& w, int layer, const at::Tensor& x) const {
    return layerOperator(w, layer, x);
  }
  virtual Generators ssmGenerators(const HfWeights& w, int layer, const at::Tensor& x) const {
    return layerGenerators(w, layer, x);
  }
  /// The generators (of ssmGenerators when `ssm`) as rows the channels share, where the layer
  /// has that structure (Mamba-1); empty otherwise.
  virtual SharedGenerators sharedGenerators(const HfWeights&, int, const at::Tensor&, bool /*ssm*/) const { return {}; }
  /// What ssmOperator leaves out of layerOperator for `layer` ("" when they are the same).
  virtual std::string ssmRemoves(int) const { return {}; }
  /// Whether queriesKeys is defined (queries and keys after RoPE).
  virtual bool hasRotaryQueries() const { return false; }
  virtual std::pair<at::Tensor, at::Tensor> queriesKeys(const HfWeights& w, int layer, const at::Tensor& x) const;

  // HfModel's description of the operators (same meaning as there).
  virtual std::string mixerKind() const = 0;
  virtual int heads() const = 0;
  virtual int valueChannels() const = 0;
  virtual double theoreticalStateSize(int split) const = 0;
  virtual std::string tssFormula() const = 0;
  /// The mixer part of HfModel::forwardBytes (the activations are added there).
  virtual double mixerBytes(double length) const = 0;
  /// Per layer, where layers differ (gemma2's sliding and global layers); by default the above.
  virtual std::string layerKind(int) const { return mixerKind(); }
  virtual double layerTheoreticalStateSize(int, int split) const { return theoreticalStateSize(split); }
  virtual std::string layerTssFormula(int) const { return tssFormula(); }
  /// SISO operators and value channels of `layer` (a hybrid's layers differ).
  virtual int layerHeads(int) const { return heads(); }
  virtual int layerValueChannels(int) const { return valueChannels(); }

 protected:
  std::string layerTensor(int layer, const std::string& name) const { return naming_.layerTensor(layer, name); }
  /// x W^T (+ b) with the weights of block `layer`'s linear layer `n` ("self_attn.q_proj").
  at::Tensor linear(const HfWeights& w, const at::Tensor& x, int layer, const std::string& n, bool bias) const;
  /// LayerNorm with block `layer`'s `n`.weight and `n`.bias ("input_layernorm").
  at::Tensor layerNormOf(const HfWeights& w, const at::Tensor& x, int layer, const std::string& n) const;
  HfConfig c_;
  std::string path_;  ///< the checkpoint folder, for messages

 private:
  TensorNaming naming_;
};

/// Causal softmax attention (gpt2, the Llama family): operators per query head, the KV cache as
/// theoretical state size (hf_attention.cpp).
class AttentionArchitecture : public HfArchitecture {
 public:
  using HfArchitecture::HfArchitecture;
  at::Tensor layerOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return attentionProbabilities(w, layer, x);
  }
  /// Attention probabilities per query head [H, L, L] (rows sum to 1).
  virtual at::Tensor attentionProbabilities(const HfWeights& w, int layer, const at::Tensor& x) const = 0;

  std::string mixerKind() const override { return layerKind(0); }
  int heads() const override { return c_.numHeads; }
  int valueChannels() const override { return c_.headDim; }
  double theoreticalStateSize(int split) const override { return layerTheoreticalStateSize(0, split); }
  std::string tssFormula() const override { return layerTssFormula(0); }
  double mixerBytes(double length) const override;
  std::string layerKind(int layer) const override;
  double layerTheoreticalStateSize(int layer, int split) const override;
  std::string layerTssFormula(int layer) const override;

 protected:
  /// The sliding window of `layer` (0: none): c_.slidingWindow, on the layers that
  /// c_.slidingLayers marks when it is set.
  int windowOf(int layer) const {
    return c_.slidingLayers.empty() || c_.slidingLayers.at(layer) ? c_.slidingWindow : 0;
  }
};

/// A hybrid of attention and recurrent layers (lfm2, jamba, recurrent_gemma): each block is
/// h1 = h + mixer(mixerInput(h)), then h1 + feedForward(h1); the per-model description is layer
/// 0's; attention layers have no generator form.
class HybridArchitecture : public HfArchitecture {
 public:
  using HfArchitecture::HfArchitecture;
  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const final {
    const at::Tensor x = mixerInput(w, layer, h);
    const at::Tensor h1 = h + (isAttention(layer) ? attentionOutput(w, layer, x) : recurrentOutput(w, layer, x));
    return h1 + feedForward(w, layer, h1);
  }
  bool layerHasGenerators(int layer) const override { return hasGenerators() && !isAttention(layer); }
  std::string mixerKind() const override { return layerKind(0); }
  int heads() const override { return layerHeads(0); }
  int valueChannels() const override { return layerValueChannels(0); }
  double theoreticalStateSize(int split) const override { return layerTheoreticalStateSize(0, split); }
  std::string tssFormula() const override { return layerTssFormula(0); }

 protected:
  virtual bool isAttention(int layer) const = 0;
  /// The attention layer's output after its output projection, [L, D], from mixer input x.
  virtual at::Tensor attentionOutput(const HfWeights& w, int layer, const at::Tensor& x) const = 0;
  /// The recurrent layer's output after its output projection, [L, D].
  virtual at::Tensor recurrentOutput(const HfWeights& w, int layer, const at::Tensor& x) const = 0;
  /// The feed-forward sublayer of `layer` on h1 [L, D], its norm included, the residual not.
  virtual at::Tensor feedForward(const HfWeights& w, int layer, const at::Tensor& h1) const = 0;
};

/// An architecture family: how its config.json reads and how a model of it opens.
struct HfFamily {
  /// Reads the family's fields of config.json into `c` (model_type is set). Throws InputError
  /// naming the file and the field.
  void (*readConfig)(const ConfigFields& f, HfConfig& c);
  /// The architecture of config `c` for the checkpoint folder `path`.
  std::unique_ptr<HfArchitecture> (*open)(const HfConfig& c, const std::string& path);
};

// The families (one per arch_*.cpp file).
extern const HfFamily kGpt2Family;
extern const HfFamily kLlamaFamily;
extern const HfFamily kMambaFamily;
extern const HfFamily kFalconMambaFamily;
extern const HfFamily kGptNeoxFamily;
extern const HfFamily kPhiFamily;
extern const HfFamily kGemma2Family;
extern const HfFamily kMamba2Family;
extern const HfFamily kGlaFamily;       ///< gla and retnet (arch_fla.cpp)
extern const HfFamily kDeltaNetFamily;  ///< delta_net and gated_deltanet (arch_fla.cpp)
extern const HfFamily kLfm2Family;
extern const HfFamily kJambaFamily;
extern const HfFamily kRecurrentGemmaFamily;

/// The family of a config.json `model_type`, or null when this build has none.
const HfFamily* findFamily(const std::string& modelType);

}  // namespace ess::hf
