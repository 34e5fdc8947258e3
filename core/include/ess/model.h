// The ess-lm model family (docs/definitions.md section 4): the project's own small language models,
// trained on MQAR by ess/train.h and stored as a Hugging Face-style checkpoint directory
// (config.json with "model_type": "ess-lm", beside model.safetensors).
//
// Architecture (pre-norm transformer-style stack, one mixer kind per layer, hybrids allowed):
//   x = embed[tokens] + pos_embed[positions]      (learned absolute positions, unless
//                                                   "position_embedding": "none")
//   for each layer i:  x = x + mixer_i(norm1_i(x));  x = x + fc2(gelu(fc1(norm2_i(x))))
//   logits = lm_head(norm_f(x))
// Norms are RMSNorm (default, eps 1e-5, weight only) or LayerNorm ("norm": "layernorm").
// Mixers: ess/mixer.h. Tensor names in model.safetensors (all float32):
//   embed.weight [V, D], pos_embed.weight [max_length, D],
//   layers.{i}.norm1.weight [D] (+ .bias for LayerNorm), layers.{i}.mixer.{q,k,v,o}_proj.weight
//   [D, D] (short_conv: v_proj and o_proj only), layers.{i}.mixer.gate_proj.{weight,bias} (gla),
//   layers.{i}.mixer.conv.weight [D, conv_kernel] (short_conv), layers.{i}.mixer.k_shift [D] (with
//   "key_shift": true; not for short_conv), layers.{i}.norm2.weight,
//   mamba2: layers.{i}.mixer.{b,c}_proj.weight [H*state_size, D], dt_proj.{weight [H, D],
//   bias [H]}, A_log [H], D [H] (and v_proj, o_proj; no q/k_proj); hyena: layers.{i}.mixer.
//   {v_proj,in_gate,out_gate,o_proj}.weight [D, D], filter.weight [D, filter_length],
//   lti_ssm: layers.{i}.mixer.{log_a_real,B,C} [D, state_size], log_dt [D], D [D] (and v_proj,
//   o_proj; no q/k_proj); deltanet: the four projections, beta_proj.weight [H, D] (+ k_shift),
//   mamba (E = expand*D, R = dt_rank, N = state_size, k = conv_kernel, Hugging Face MambaMixer
//   names): in_proj.weight [2E, D], conv1d.{weight [E, 1, k], bias [E]}, x_proj.weight [R+2N, E],
//   dt_proj.{weight [E, R], bias [E]}, A_log [E, N], D [E], out_proj.weight [D, E],
//   layers.{i}.mlp.fc1.{weight [F, D], bias [F]}, layers.{i}.mlp.fc2.{weight [D, F], bias [D]},
//   norm_f.weight [D], lm_head.weight [V, D].
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ess/generators.h"
#include "ess/mixer_registry.h"
#include "ess/tensors.h"

namespace torch::nn {
class Module;
}

namespace ess {

/// config.json of an ess-lm checkpoint. The mixer options (MixerOptions: "key_shift" and the
/// per-kind sizes of the registry, ess/mixer_registry.h) are shared by all layers; their
/// defaults are mixerConfigDefaults() (filter_length 0: max_length).
struct ModelConfig : MixerOptions {
  ModelConfig() : MixerOptions(mixerConfigDefaults()) {}

  int vocabSize = 64;
  int dModel = 64;
  int numHeads = 2;
  int maxLength = 64;   ///< rows of the position table; longer inputs are refused
  int mlpHidden = 256;  ///< hidden width F of the GELU MLP
  std::vector<std::string> mixers = {"softmax_attention", "gla"};  ///< one kind per layer
  std::string norm = "rmsnorm";                                    ///< "rmsnorm" | "layernorm"
  std::string positionEmbedding = "learned";                       ///< "learned" | "none"

  int numLayers() const { return static_cast<int>(mixers.size()); }

  /// Parses config.json text. Throws InputError("<path>: ...") on malformed JSON, missing or
  /// ill-typed fields, non-positive sizes, d_model not divisible by num_heads, a model_type other
  /// than "ess-lm", or an unknown mixer kind (the message lists the known kinds).
  /// Accepted fields: model_type, vocab_size, d_model (alias hidden_size), num_heads (alias
  /// num_attention_heads), max_length (alias max_position_embeddings), mlp_hidden (alias
  /// intermediate_size; default 4*d_model), mixers (list, or a string with commas), num_layers
  /// (optional; a single mixer kind is repeated num_layers times), norm, position_embedding,
  /// key_shift (bool, default false), and one integer per registered mixer option
  /// (MixerOption::key or an alias; at least MixerOption::configMinimum; default
  /// MixerOption::configDefault): window (>= 1, default 16), conv_kernel (>= 1, default 4),
  /// state_size (>= 1, default 16), filter_length (>= 0, default 0 = max_length; hyena needs one
  /// of them >= 1), expand (>= 1, default 2), dt_rank (>= 0, default 0 = ceil(d_model / 16)).
  /// Every option is checked, whatever the kinds; configs written before an option existed load
  /// with its default.
  static ModelConfig fromJson(const std::string& jsonText, const std::string& path);
  /// config.json text (pretty-printed) with "model_type": "ess-lm"; the mixer options follow
  /// "key_shift" in registration order.
  std::string toJson() const;
};

class EssLm {
 public:
  /// Fresh model with weights drawn from a generator seeded with `seed`.
  /// Throws InputError on an invalid configuration.
  explicit EssLm(const ModelConfig& cfg, uint64_t seed = 0);
  ~EssLm();
  EssLm(const EssLm&) = delete;
  EssLm& operator=(const EssLm&) = delete;

  /// Model with the given weights (any float dtype, converted to float32). Throws
  /// InputError("<path>: ...") naming the tensor on a missing or unexpected tensor, on a shape
  /// mismatch (both shapes given), or on NaN/Inf values.
  static std::unique_ptr<EssLm> fromTensors(const ModelConfig& cfg, const NamedTensors& weights,
                                            const std::string& path);

  /// All weights, float32, under the stable names listed above (copies, detached).
  NamedTensors stateDict() const;
  const ModelConfig& config() const;
  int numLayers() const;
  std::string mixerKind(int layer) const;
  int heads(int layer) const;          ///< H (short_conv: d_model, one operator per channel)
  int valueChannels(int layer) const;  ///< d_v per head (short_conv: 1)
  int keyChannels(int layer) const;    ///< d_k per head (short_conv: 0)
  /// Theoretical state size formula per head, e.g. "d_k*d_v = 32*32" or "s*(d_k+d_v) = s*(32+32)".
  std::string tssFormula(int layer) const;
  /// TSS per head at `split` (docs/definitions.md section 1), full units.
  double theoreticalStateSize(int layer, int split) const;
  /// TSS per head in SISO units (divided by d_v: the head operator is shared by d_v channels).
  double theoreticalStateSizeSiso(int layer, int split) const;

  /// tokens [B, L] int64 (or [L]) -> logits [B, L, V] (or [L, V]), in the weights' dtype.
  /// Throws InputError when a token is outside [0, V) or L exceeds max_length.
  at::Tensor forward(const at::Tensor& tokens);
  /// tokens [L] int64 -> T [H, L, L] float64 of layer `layer` (0-based): the model runs in float64
  /// up to that layer, featurizes the normed hidden state and materializes the mixer operator.
  /// No gradients. Throws InputError for a bad layer index or bad tokens.
  at::Tensor layerOperator(int layer, const at::Tensor& tokens);
  /// The same operator in generator form (ess/generators.h, float64, O(L N) memory) for the
  /// kinds that have one (Mixer::generators); an empty Generators (heads() == 0) otherwise.
  Generators layerGenerators(int layer, const at::Tensor& tokens);

  /// The normed hidden state that enters the mixer of `layer`: [1, L, D] float64.
  at::Tensor mixerInput(int layer, const at::Tensor& tokens);

  /// The underlying LibTorch module (parameters for the optimizer, train()/eval()).
  torch::nn::Module& module();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes dir/config.json and dir/model.safetensors (each atomically, temp + rename; the
/// directory is created). Throws InputError("<path>: ...") when a file cannot be written.
void saveEssLm(const EssLm& m, const std::string& dir);
/// Reads a checkpoint directory written by saveEssLm (a path to its config.json or
/// model.safetensors is accepted too). Throws InputError naming the file that is missing or bad.
std::unique_ptr<EssLm> loadEssLm(const std::string& dir);

}  // namespace ess
