// Hugging Face checkpoints (issue 5, docs/definitions.md section 4): a model folder with config.json and
// its weights (model.safetensors, sharded safetensors with index, or pytorch_model.bin, read by
// loadCheckpointFiles) whose `model_type` is one of
//   gpt2     GPT-2 (Radford et al. 2019, HF GPT2Model): learned positions wpe, pre-LayerNorm
//            blocks, Conv1D weights stored [in, out] (y = x W + b), causal softmax attention
//            scaled by 1/sqrt(d), MLP with GELU (tanh form, "gelu_new"), tied LM head;
//   llama, mistral, qwen2  the Llama block (Touvron et al. 2023, HF LlamaModel): RMSNorm,
//            rotary positions (HF rotate-half convention q*cos + rotate_half(q)*sin with
//            inv_freq[i] = rope_theta^(-2i/d), optional "linear" or "llama3" rope_scaling),
//            grouped-query attention (query head h reads key/value head h / (H / H_kv)),
//            SwiGLU MLP down(silu(gate(x)) * up(x)); q/k/v biases for qwen2 and where
//            `attention_bias` is true; mistral's `sliding_window` masks keys older than w - 1;
//   mamba    Mamba (Gu and Dao 2023, HF MambaModel): RMSNorm, then the S6 mixer of ess/mixer.h
//            (kind "mamba", the same parameter names), residual; embeddings
//            backbone.embeddings.weight, final norm backbone.norm_f.weight;
//   gpt_neox GPT-NeoX / Pythia (HF GPTNeoXModel): LayerNorm with bias, fused query_key_value
//            laid out per head [H, 3, head_dim], rotary positions on the leading rotary_pct
//            of each head, parallel (use_parallel_residual) or sequential residual;
//   phi      Phi-1.5 / Phi-2 (HF PhiModel): attention and MLP in parallel from one LayerNorm,
//            partial rotary (partial_rotary_factor), biases, optional per-head q/k LayerNorm;
//   falcon_mamba  Falcon Mamba (HF FalconMambaModel): mamba with dt, B and C RMS-normalized
//            without a weight (mixer_rms_eps) before the scan;
//   qwen3    the Llama block with an RMSNorm of each query and key head before RoPE;
//   phi3     the Llama block with fused qkv_proj and gate_up_proj, partial rotary
//            (partial_rotary_factor) and mistral's sliding_window;
//   gemma2   Gemma 2 (HF Gemma2Model): embeddings scaled by sqrt(hidden_size), (1 + w) RMSNorms
//            before and after attention and MLP, attention logits soft-capped, scaled by
//            query_pre_attn_scalar^-1/2, sliding-window and global layers alternating;
//   gemma3_text  Gemma 3 (HF Gemma3TextModel): gemma2's block with a (1 + w) RMSNorm of each
//            query and key head, no soft-capping by default, every sliding_window_pattern-th
//            layer global, the sliding layers with their own RoPE base (rope_local_base_freq).
//   mamba2   Mamba-2 (Dao and Gu 2024, HF Mamba2Model): RMSNorm, the SSD mixer (one decay per
//            head, B and C shared by n_groups groups of heads, dt clamped to time_step_limit,
//            MambaRMSNormGated over all inner channels), residual; operators per inner channel
//            with the gate and the norm's factor of the actual forward pass in their rows.
//   gla, retnet  flash-linear-attention's GLAForCausalLM (gated linear attention, a decay per key
//            channel from the low-rank gk_proj, optional short convolutions) and RetNetForCausalLM
//            (RoPE on q and k, a fixed decay 1 - 2^(-5-h) per head): RMSNorm, the layer, RMSNorm,
//            GatedMLP; operators per value channel in generator form, the per-head gated
//            RMSNorm's factor of the actual forward pass in their rows (src/hf/arch_fla.cpp);
//   delta_net, gated_deltanet  flash-linear-attention's DeltaNet and Gated DeltaNet: the delta
//            rule's transitions alpha_t (I - beta_t k_t k_t^T) (alpha = 1 for delta_net), exact
//            dense operators per value channel from the recurrence, norm and gate in the rows.
//   lfm2     Liquid AI's LFM2 hybrid (HF Lfm2Model): per layer_types a gated short convolution
//            (kind short_conv, banded diag(C) Toeplitz(h) diag(B) per channel) or GQA attention
//            with per-head q/k RMSNorm; heads and value channels differ by layer.
// Tensor names are accepted with or without the task-model prefix (`transformer.`, `model.`,
// `gpt_neox.`, `backbone.`). Weights keep their stored dtype (f32, f16, bf16) and are cast to float64 per
// layer on use: every forward pass and operator here is computed in float64. Weights opened on
// demand (safetensors, as sessions open them) are read from the file when a layer uses them
// and released after, so a model larger than memory runs a layer at a time.
// The forward pass runs only up to the layer asked for (the residual stream is cached per
// input), so the final norm and the LM head are never used.
// Each family lives in a file of its own (src/hf/arch_*.cpp), listed by model_type in the table
// of src/hf/hf_architectures.cpp.
#pragma once
#include <ATen/core/Tensor.h>

#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ess/generators.h"
#include "ess/language_model.h"

namespace ess {

struct CheckpointFiles;

/// The fields of a Hugging Face config.json that the forward pass up to a layer needs.
struct HfConfig {
  std::string modelType;  ///< one of HfModel::supportedModelTypes()
  int vocabSize = 0;
  int hiddenSize = 0;        ///< d_model (gpt2: n_embd)
  int numLayers = 0;         ///< gpt2: n_layer
  int numHeads = 0;          ///< query heads (gpt2: n_head); mamba: 0
  int numKvHeads = 0;        ///< key/value heads (GQA); gpt2: numHeads
  int headDim = 0;           ///< d per head (config `head_dim`, else hidden / heads)
  int intermediateSize = 0;  ///< MLP width (gpt2: n_inner or 4 * n_embd)
  int maxPositions = 0;      ///< n_positions / max_position_embeddings; 0 for mamba (no limit)
  double normEps = 1e-5;     ///< layer_norm_epsilon / rms_norm_eps
  std::string activation;    ///< MLP activation (activation_function / hidden_act)
  // Rotary positions (llama family, gpt_neox, phi).
  double ropeTheta = 10000.0;
  int rotaryDim = 0;  ///< leading dims of each head that RoPE rotates (rotary_pct, partial_rotary_factor); 0 = all
  std::string ropeScaling;  ///< "" (none), "linear" or "llama3"
  double ropeFactor = 1.0;
  double ropeLowFreqFactor = 1.0, ropeHighFreqFactor = 4.0;
  int ropeOriginalMaxPositions = 8192;
  bool qkvBias = false, oBias = false, mlpBias = false;
  int slidingWindow = 0;  ///< mistral: keys older than w - 1 positions are masked; 0 = none
  bool tieWordEmbeddings = true;
  bool parallelResidual = false;  ///< gpt_neox use_parallel_residual: h + attn(ln1(h)) + mlp(ln2(h))
  bool qkLayerNorm = false;       ///< phi qk_layernorm: LayerNorm of each query and key head
  bool qkNorm = false;            ///< qwen3: RMSNorm of each query and key head (q_norm, k_norm)
  bool fusedProjections = false;  ///< phi3: qkv_proj = [q; k; v] and gate_up_proj = [gate; up]
  // gemma2.
  double attnSoftcap = 0;           ///< attn_logit_softcapping: scores -> cap * tanh(scores / cap); 0 = none
  double queryPreAttnScalar = 0;    ///< scores scaled by query_pre_attn_scalar^-1/2 (0: head_dim)
  std::vector<bool> slidingLayers;  ///< layer_types: which layers use slidingWindow (empty: all)
  double ropeLocalTheta = 0;        ///< gemma3_text: RoPE base of the sliding layers (rope_local_base_freq, unscaled)
  // gpt2.
  bool scaleByInverseLayer = false;  ///< scale_attn_by_inverse_layer_idx
  // mamba.
  int stateSize = 0, expand = 0, convKernel = 0, dtRank = 0;
  bool convBias = true;
  double mixerRmsEps = 0;  ///< falcon_mamba: B, C and dt RMS-normalized (no weight) with this eps; 0 = not
  // mamba2 (numHeads heads of headDim channels; stateSize, expand, convKernel, convBias as mamba).
  int numGroups = 1;  ///< n_groups: heads h share B, C of group h / (numHeads / n_groups)
  double dtMin = 0, dtMax = std::numeric_limits<double>::infinity();  ///< time_step_limit: dt clamped to [dtMin, dtMax]
  // flash-linear-attention (gla, retnet, delta_net, gated_deltanet): numHeads query heads of
  // headDim key dims, numKvHeads key heads (gla, retnet), numValueHeads value heads of
  // valueHeadDim dims (gated_deltanet's num_v_heads; else numHeads), convKernel for the short
  // convolutions.
  int valueHeadDim =
      0;  ///< d_v per value head (expand_v * hidden_size / num_heads; gated_deltanet head_dim * expand_v)
  int numValueHeads = 0;   ///< value heads; value head h reads query/key head h / (numValueHeads / numHeads)
  std::string featureMap;  ///< gla, retnet feature_map on q and k: "" (none), relu, silu, swish, sigmoid
  bool shortConv = false;  ///< use_short_conv: causal depthwise convolutions on q, k and v
  bool outputGate = true;  ///< use_output_gate / use_gate: the head norm times silu(g_proj(x))
  bool normAffine = true;  ///< elementwise_affine: the head norm has a weight [valueHeadDim]
  std::string normTensor;  ///< the head norm's module under attn.: g_norm_swish_gate, g_norm or o_norm
  double clampMin = -std::numeric_limits<double>::infinity();  ///< gla clamp_min of the log decays
  bool useBeta = true;                ///< delta_net use_beta: beta = sigmoid(b_proj(x)), else 1
  bool allowNegEigval = false;        ///< allow_neg_eigval: beta doubled (eigenvalues of I - beta k k^T in [-1, 1])
  std::string qkActivation = "silu";  ///< delta_net qk_activation: silu, relu, elu (elu + 1), identity
  std::string qkNormType = "l2";      ///< delta_net qk_norm: l2 (eps 1e-6) or sum
  // Hybrids (jamba, recurrent_gemma).
  std::vector<bool> attentionLayers;  ///< per layer: attention (else the family's recurrent mixer)
  int numExperts = 0;                 ///< jamba num_experts of the MoE feed-forwards
  int expertsPerToken = 0;            ///< jamba num_experts_per_tok (top-k routing)
  std::vector<bool> moeLayers;        ///< per layer: the feed-forward is a mixture of experts
  int lruWidth = 0;                   ///< recurrent_gemma lru_width: RG-LRU channels

  /// Parses config.json text (`path` names it in errors). Throws InputError naming `path` and
  /// the field: missing or ill-typed fields, non-positive sizes, hidden size not divisible by
  /// the heads, heads not divisible by the key/value heads, an unsupported rope_scaling type,
  /// an unknown model_type (the message lists supportedModelTypes()).
  static HfConfig fromJson(const std::string& jsonText, const std::string& path);
};

/// The float64 weight copies that HfModel layers hold now and at most since the last
/// resetHfWeightCopyPeak, bytes, over the whole process (every copy HfWeights makes is counted
/// until its last view is released). Tests check with it that a layer-by-layer sweep holds one
/// layer's weights, not the model's; the benchmarks print it.
struct HfWeightCopyBytes {
  int64_t held = 0;
  int64_t peak = 0;
};
HfWeightCopyBytes hfWeightCopyBytes();
/// Sets the peak to what is held now.
void resetHfWeightCopyPeak();

/// The weights HfModel layers read from their files (TensorLoading::OnDemand) since the last
/// resetHfWeightReads, over the whole process: how often each tensor (by its name in the file)
/// was read whole, the bytes read by rows (the token embedding: the input's rows only) and all
/// bytes read. Tests check with it that a layer computation reads each tensor once.
struct HfWeightReads {
  std::map<std::string, int> whole;
  std::map<std::string, int64_t> rowBytes;
  int64_t bytes = 0;
};
HfWeightReads hfWeightReads();
void resetHfWeightReads();

/// A Hugging Face checkpoint as a LanguageModel (ess/language_model.h): one mixer kind and head
/// count for every layer, text through the folder's tokenizer.
class HfModel : public LanguageModel {
 public:
  /// The model_type values this build opens, in table order: gpt2, llama, mistral, qwen2, mamba,
  /// gpt_neox, phi, falcon_mamba, qwen3, phi3, gemma2, gemma3_text, mamba2, gla, retnet, delta_net,
  /// gated_deltanet, lfm2, jamba, recurrent_gemma.
  static const std::vector<std::string>& supportedModelTypes();

  /// Opens `files` (config.json and tensors as loadCheckpointFiles returns them). Every tensor
  /// the layers use is checked against the config here; the LM head only when present.
  /// Throws InputError naming config.json (bad config) or the weights file, the tensor and both
  /// shapes (a shape that disagrees with the config), or the missing tensor.
  explicit HfModel(const CheckpointFiles& files);
  ~HfModel();
  HfModel(const HfModel&) = delete;
  HfModel& operator=(const HfModel&) = delete;

  const HfConfig& config() const { return cfg_; }
  int numLayers() const override { return cfg_.numLayers; }
  /// A Mamba model (mamba, falcon_mamba, mamba2): operators per inner channel.
  bool isMamba() const {
    return cfg_.modelType == "mamba" || cfg_.modelType == "falcon_mamba" || cfg_.modelType == "mamba2";
  }
  /// "softmax_attention" (gpt2, llama, qwen2, qwen3, mistral and phi3 without window, gpt_neox,
  /// phi), "sliding_window_attention" (mistral, phi3 with sliding_window), "mamba" (mamba,
  /// falcon_mamba) or "mamba2" (per inner channel, not per head as ess/mixer.h's mamba2).
  std::string mixerKind() const;
  /// SISO operators per layer: query heads, E = expand * hidden channels for mamba, E = H * d_v
  /// value channels for the flash-linear-attention types.
  int heads() const;
  /// Value channels each operator is applied to: head_dim for attention, 1 for mamba and the
  /// flash-linear-attention types.
  int valueChannels() const;
  /// Theoretical state size per SISO operator at split s (docs/definitions.md section 1): the KV cache
  /// s*(d_k+d_v) per query head (min(s, w) with a window; under GQA the cache of one key/value
  /// head serves H / H_kv query heads, but each query head is charged a full d_k + d_v per
  /// position, as in the paper's per-head accounting), N per channel for mamba.
  double theoreticalStateSize(int split) const;
  std::string tssFormula() const;

  // LanguageModel: per layer (the heads are the same in every layer; the kind and the TSS of
  // gemma2's layers alternate). The per-model functions above describe layer 0.
  std::string architecture() const override { return cfg_.modelType; }
  std::string description(const std::string& name) const override;
  int vocabSize() const override { return cfg_.vocabSize; }
  int maxLength() const override { return cfg_.maxPositions; }
  /// Per layer: gemma2 alternates sliding-window and global attention layers.
  std::string mixerKind(int layer) const override;
  /// Per layer: a hybrid's layers differ (lfm2: D channels of a conv layer, query heads of an
  /// attention layer).
  int heads(int layer) const override;
  int valueChannels(int layer) const override;
  std::string tssFormula(int layer) const override;
  double theoreticalStateSizeSiso(int layer, int split) const override;
  bool byteLevelText() const override { return false; }
  std::string defaultInput(std::size_t memoryBudget) const override;

  /// The input of `layer`'s mixer for one token sequence `tokens` [L] (int64): the normalized
  /// residual stream (ln_1 / input_layernorm / norm of that block), [L, D] float64. Runs the
  /// blocks before `layer` only. Throws InputError for a token outside the vocabulary or a
  /// sequence longer than maxPositions; UsageError for a bad layer.
  at::Tensor mixerInput(int layer, const at::Tensor& tokens) const override;
  /// The residual stream entering block `layer` (layer == numLayers(): after the last block,
  /// before the final norm), [L, D] float64.
  at::Tensor hiddenState(int layer, const at::Tensor& tokens) const;

  /// The operator of `layer`, float64: attention probabilities per query head [H, L, L]
  /// (causal softmax, rows sum to 1; GQA query heads of one group use the same keys); for
  /// mamba the S6 operator per channel [E, L, L] (ess/mixer.h).
  at::Tensor layerOperator(int layer, const at::Tensor& tokens) const override;
  /// Generator form of `layer` (mamba: per channel, [E, L, N]); empty for attention.
  Generators layerGenerators(int layer, const at::Tensor& tokens) const override;

  /// The SSM-only operators (ess/operator_scope.h, README "Mixer kinds"): per family the
  /// recurrence without the factors applied to its output; the block operator for attention
  /// layers. ssmRemoves names what is left out ("" for attention layers).
  bool hasSsmOperators() const override { return true; }
  at::Tensor ssmOperator(int layer, const at::Tensor& tokens) const override;
  Generators ssmGenerators(int layer, const at::Tensor& tokens) const override;
  SharedGenerators layerSharedGenerators(int layer, const at::Tensor& tokens, bool ssm) const override;
  std::string ssmRemoves(int layer) const override;

  /// Rough peak memory, in bytes, of the float64 forward pass and operator of one layer for
  /// `length` tokens: forwardMemory(length).total(). Sessions refuse inputs whose forward pass
  /// exceeds the memory budget.
  double forwardBytes(int64_t length) const override;
  /// The parts: the operator (attention scores, mask and probabilities 3 * H * L^2 * 8; mamba
  /// the scan's [L, E, N] terms, 4 * L * E * N * 8), activations (8 * L * max(intermediate,
  /// 3 * hidden) * 8, plus the residual stream kept entering each block, (layers + 1) * L *
  /// hidden * 8) and weights: the largest layer's tensors in float64. Weights are read from the
  /// files per layer, each once, and released after it (loadCheckpointFiles with
  /// TensorLoading::OnDemand), and of the token embedding only the input's rows, so the model's
  /// size does not count, only its largest layer's.
  ForwardMemory forwardMemory(int64_t length) const override;
  /// The float64 bytes of the tensors of block `layer` (what computing it holds at most).
  double layerWeightBytes(int layer) const;

  /// Rotary families (llama family, gpt_neox, phi): rotary cos and sin for positions 0..L-1, [L, r]
  /// float64 with r the rotated dims of a head (head_dim, or its rotary_pct /
  /// partial_rotary_factor part), each cat(freqs, freqs) with freqs[p, i] = p * inv_freq[i]
  /// (after rope_scaling).
  std::pair<at::Tensor, at::Tensor> rotary(int64_t length) const;
  /// Rotary families: per query head queries and keys after RoPE (and phi's q/k LayerNorm,
  /// qwen3's q/k RMSNorm),
  /// [H, L, d] and [H_kv, L, d].
  std::pair<at::Tensor, at::Tensor> queriesKeys(int layer, const at::Tensor& tokens) const;

 private:
  void checkLayer(int layer) const;
  void checkTokens(const at::Tensor& tokens) const;

  struct State;  ///< the architecture family's forward pass, checked weights, residual cache
  HfConfig cfg_;
  std::string path_;
  std::unique_ptr<State> state_;
};

}  // namespace ess
