// Hugging Face checkpoints: config.json fields, tensor checks and the float64 forward pass up
// to a layer for gpt2, the Llama family (llama, mistral, qwen2) and mamba (ess/hf_model.h).
#include "ess/hf_model.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/mixer.h"

namespace ess {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string shapeText(at::IntArrayRef s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

std::string joinTypes() {
  std::string s;
  for (const auto& t : HfModel::supportedModelTypes()) s += (s.empty() ? "" : ", ") + t;
  return s;
}

/// Reads typed fields of a config object; errors name the file and the field.
struct Fields {
  const json& j;
  const std::string& path;
  const json* get(const std::string& k) const {
    auto it = j.find(k);
    return it == j.end() || it->is_null() ? nullptr : &*it;
  }
  [[noreturn]] void fail(const std::string& k, const std::string& what) const {
    throw InputError(path + ": field \"" + k + "\" " + what);
  }
  int integer(const std::string& k, std::optional<int> dflt = std::nullopt, int minimum = 1) const {
    const json* v = get(k);
    if (!v) {
      if (dflt) return *dflt;
      fail(k, "is missing");
    }
    if (!v->is_number_integer()) fail(k, "must be an integer, got " + v->dump());
    const long long x = v->get<long long>();
    if (x < minimum || x > (1ll << 31) - 1)
      fail(k, "must be at least " + std::to_string(minimum) + ", got " + v->dump());
    return static_cast<int>(x);
  }
  double number(const std::string& k, double dflt, bool positive = true) const {
    const json* v = get(k);
    if (!v) return dflt;
    if (!v->is_number()) fail(k, "must be a number, got " + v->dump());
    const double x = v->get<double>();
    if (!std::isfinite(x) || (positive && x <= 0)) fail(k, "must be a positive number, got " + v->dump());
    return x;
  }
  bool boolean(const std::string& k, bool dflt) const {
    const json* v = get(k);
    if (!v) return dflt;
    if (!v->is_boolean()) fail(k, "must be true or false, got " + v->dump());
    return v->get<bool>();
  }
  std::string text(const std::string& k, const std::string& dflt) const {
    const json* v = get(k);
    if (!v) return dflt;
    if (!v->is_string()) fail(k, "must be a string, got " + v->dump());
    return v->get<std::string>();
  }
};

bool isLlamaFamily(const std::string& t) { return t == "llama" || t == "mistral" || t == "qwen2"; }

void checkActivation(const Fields& f, const std::string& key, const std::string& act) {
  static const std::vector<std::string> known = {"gelu_new", "gelu_pytorch_tanh", "gelu", "relu", "silu", "swish"};
  if (std::find(known.begin(), known.end(), act) == known.end())
    f.fail(key, "is \"" + act + "\"; supported: gelu_new, gelu_pytorch_tanh, gelu, relu, silu");
}

at::Tensor activate(const at::Tensor& x, const std::string& act) {
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") return at::gelu(x, "tanh");
  if (act == "gelu") return at::gelu(x);
  if (act == "relu") return at::relu(x);
  return at::silu(x);
}

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w, double eps) {
  return x * at::rsqrt(x.pow(2).mean(-1, true) + eps) * w;
}

at::Tensor layerNorm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps) {
  return at::layer_norm(x, {x.size(-1)}, w, b, eps);
}

at::Tensor rotateHalf(const at::Tensor& x) {
  const int64_t h = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}

}  // namespace

const std::vector<std::string>& HfModel::supportedModelTypes() {
  static const std::vector<std::string> types = {"gpt2", "llama", "mistral", "qwen2", "mamba"};
  return types;
}

HfConfig HfConfig::fromJson(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    throw InputError(path + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw InputError(path + ": expected a JSON object");
  Fields f{j, path};
  HfConfig c;
  c.modelType = f.text("model_type", "");
  const auto& types = HfModel::supportedModelTypes();
  if (std::find(types.begin(), types.end(), c.modelType) == types.end())
    throw InputError(path + ": unsupported model_type \"" + c.modelType + "\" (supported: " + joinTypes() +
                     ", and ess-lm)");
  if (c.modelType == "gpt2") {
    c.vocabSize = f.integer("vocab_size");
    c.hiddenSize = f.integer("n_embd");
    c.numHeads = f.integer("n_head");
    c.numLayers = f.integer("n_layer");
    c.maxPositions = f.integer("n_positions");
    c.intermediateSize = f.integer("n_inner", 4 * c.hiddenSize);
    c.normEps = f.number("layer_norm_epsilon", 1e-5);
    c.activation = f.text("activation_function", "gelu_new");
    checkActivation(f, "activation_function", c.activation);
    c.scaleByInverseLayer = f.boolean("scale_attn_by_inverse_layer_idx", false);
    if (!f.boolean("scale_attn_weights", true))
      f.fail("scale_attn_weights", "is false; only scaled attention is supported");
    if (c.hiddenSize % c.numHeads != 0)
      f.fail("n_embd",
             "(" + std::to_string(c.hiddenSize) + ") is not divisible by n_head (" + std::to_string(c.numHeads) + ")");
    c.numKvHeads = c.numHeads;
    c.headDim = c.hiddenSize / c.numHeads;
    c.qkvBias = c.oBias = c.mlpBias = true;
    c.tieWordEmbeddings = true;
  } else if (isLlamaFamily(c.modelType)) {
    c.vocabSize = f.integer("vocab_size");
    c.hiddenSize = f.integer("hidden_size");
    c.numHeads = f.integer("num_attention_heads");
    c.numKvHeads = f.integer("num_key_value_heads", c.numHeads);
    c.numLayers = f.integer("num_hidden_layers");
    c.intermediateSize = f.integer("intermediate_size");
    c.maxPositions = f.integer("max_position_embeddings");
    c.normEps = f.number("rms_norm_eps", 1e-6);
    c.ropeTheta = f.number("rope_theta", 10000.0);
    c.activation = f.text("hidden_act", "silu");
    checkActivation(f, "hidden_act", c.activation);
    c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
    if (f.get("head_dim")) {
      c.headDim = f.integer("head_dim");
    } else {
      if (c.hiddenSize % c.numHeads != 0)
        f.fail("hidden_size", "(" + std::to_string(c.hiddenSize) + ") is not divisible by num_attention_heads (" +
                                  std::to_string(c.numHeads) + ")");
      c.headDim = c.hiddenSize / c.numHeads;
    }
    if (c.headDim % 2 != 0) f.fail("head_dim", "must be even for rotary positions, got " + std::to_string(c.headDim));
    if (c.numHeads % c.numKvHeads != 0)
      f.fail("num_key_value_heads", "(" + std::to_string(c.numKvHeads) + ") must divide num_attention_heads (" +
                                        std::to_string(c.numHeads) + ")");
    if (c.modelType == "qwen2") {
      c.qkvBias = true;
      if (f.boolean("use_sliding_window", false))
        f.fail("use_sliding_window", "is true; Qwen2 sliding-window layers are not supported");
    } else {
      c.qkvBias = c.oBias = f.boolean("attention_bias", false);
    }
    if (c.modelType == "llama") c.mlpBias = f.boolean("mlp_bias", false);
    if (c.modelType == "mistral") c.slidingWindow = f.integer("sliding_window", 0, 0);
    if (const json* rs = f.get("rope_scaling")) {
      if (!rs->is_object()) f.fail("rope_scaling", "must be an object, got " + rs->dump());
      Fields r{*rs, path};
      std::string type = r.text("rope_type", r.text("type", ""));
      if (type == "default") type = "";
      if (type == "linear" || type == "llama3") {
        c.ropeScaling = type;
        c.ropeFactor = r.number("factor", 0.0);
        if (c.ropeFactor <= 0) f.fail("rope_scaling", "needs a positive \"factor\"");
        if (type == "llama3") {
          c.ropeLowFreqFactor = r.number("low_freq_factor", 1.0);
          c.ropeHighFreqFactor = r.number("high_freq_factor", 4.0);
          c.ropeOriginalMaxPositions = r.integer("original_max_position_embeddings", 8192);
          if (c.ropeHighFreqFactor <= c.ropeLowFreqFactor)
            f.fail("rope_scaling", "needs high_freq_factor > low_freq_factor");
        }
      } else if (!type.empty()) {
        f.fail("rope_scaling", "has type \"" + type + "\"; supported: linear, llama3 (or none)");
      }
    }
  } else {  // mamba
    c.vocabSize = f.integer("vocab_size");
    c.hiddenSize = f.integer("hidden_size");
    c.numLayers = f.integer("num_hidden_layers");
    c.stateSize = f.integer("state_size");
    c.expand = f.integer("expand");
    c.convKernel = f.integer("conv_kernel");
    c.normEps = f.number("layer_norm_epsilon", 1e-5);
    c.convBias = f.boolean("use_conv_bias", true);
    if (f.boolean("use_bias", false))
      f.fail("use_bias", "is true; Mamba with in_proj/out_proj biases is not supported");
    const json* r = f.get("time_step_rank");
    if (!r || (r->is_string() && r->get<std::string>() == "auto"))
      c.dtRank = (c.hiddenSize + 15) / 16;
    else
      c.dtRank = f.integer("time_step_rank");
    c.intermediateSize = c.expand * c.hiddenSize;
    if (f.integer("intermediate_size", c.intermediateSize) != c.intermediateSize)
      f.fail("intermediate_size", "must equal expand * hidden_size = " + std::to_string(c.intermediateSize));
    c.activation = f.text("hidden_act", "silu");
    if (c.activation != "silu") f.fail("hidden_act", "is \"" + c.activation + "\"; the Mamba mixer uses silu");
    c.maxPositions = 0;
  }
  return c;
}

/// Checked tensors (stored dtype), the residual-stream cache and the mamba mixers.
struct HfModel::State {
  std::map<std::string, at::Tensor> tensors;  ///< by name without the model prefix
  std::mutex mutex;                           ///< guards the cache
  std::vector<int64_t> cachedTokens;
  std::vector<at::Tensor> hidden;  ///< hidden[i]: the residual stream entering block i
  std::mutex mixerMutex;
  std::map<int, std::shared_ptr<Mixer>> mixers;
  std::mutex finiteMutex;
  std::set<std::string> finite;  ///< tensors found free of NaN and Inf

  /// Throws InputError naming the folder and the tensor when `name` holds NaN or Inf; each
  /// tensor is checked once, when a layer first uses it.
  void checkFinite(const std::string& path, const std::string& name) {
    {
      std::lock_guard<std::mutex> lock(finiteMutex);
      if (finite.count(name)) return;
    }
    const at::Tensor& t = tensors.at(name);
    if (t.is_floating_point() && !at::isfinite(t).all().item<bool>())
      throw InputError(path + ": weight " + name + " holds NaN or Inf values");
    std::lock_guard<std::mutex> lock(finiteMutex);
    finite.insert(name);
  }
};

namespace {

/// The weights file that holds `name` in `files` (for messages): the shard named by an index,
/// else the single weights file of a folder, else the path itself.
std::string weightsFileOf(const CheckpointFiles& files, const std::string& name) {
  const fs::path p(files.path);
  std::error_code ec;
  if (!fs::is_directory(p, ec)) return files.path;
  for (const char* index : {"model.safetensors.index.json", "pytorch_model.bin.index.json"}) {
    const fs::path ip = p / index;
    if (!fs::exists(ip, ec)) continue;
    try {
      std::ifstream in(ip);
      json j = json::parse(in);
      auto wm = j.find("weight_map");
      if (wm != j.end() && wm->is_object()) {
        auto it = wm->find(name);
        if (it != wm->end() && it->is_string()) return (p / it->get<std::string>()).string();
      }
    } catch (const std::exception&) {
    }
    return ip.string();
  }
  for (const char* single : {"model.safetensors", "pytorch_model.bin"})
    if (fs::exists(p / single, ec)) return (p / single).string();
  return files.path;
}

}  // namespace

HfModel::HfModel(const CheckpointFiles& files) : path_(files.path), state_(std::make_unique<State>()) {
  const std::string configPath = (fs::path(files.path) / "config.json").string();
  cfg_ = HfConfig::fromJson(files.configJson, configPath);
  const HfConfig& c = cfg_;
  // The prefix of the task model (GPT2LMHeadModel, LlamaForCausalLM, MambaForCausalLM), if any.
  const std::string embed = c.modelType == "gpt2" ? "wte.weight"
                            : isMamba()           ? "embeddings.weight"
                                                  : "embed_tokens.weight";
  const std::string taskPrefix = c.modelType == "gpt2" ? "transformer." : isMamba() ? "backbone." : "model.";
  std::string prefix;
  if (files.tensors.find(taskPrefix + embed))
    prefix = taskPrefix;
  else if (!files.tensors.find(embed))
    prefix = taskPrefix;  // the missing-tensor error names the usual one

  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  auto need = [&](const std::string& n, std::vector<int64_t> s) { expected.emplace_back(n, std::move(s)); };
  const int64_t D = c.hiddenSize, V = c.vocabSize, I = c.intermediateSize;
  if (c.modelType == "gpt2") {
    need("wte.weight", {V, D});
    need("wpe.weight", {c.maxPositions, D});
    for (int i = 0; i < c.numLayers; ++i) {
      const std::string b = "h." + std::to_string(i) + ".";
      need(b + "ln_1.weight", {D});
      need(b + "ln_1.bias", {D});
      need(b + "attn.c_attn.weight", {D, 3 * D});
      need(b + "attn.c_attn.bias", {3 * D});
      need(b + "attn.c_proj.weight", {D, D});
      need(b + "attn.c_proj.bias", {D});
      need(b + "ln_2.weight", {D});
      need(b + "ln_2.bias", {D});
      need(b + "mlp.c_fc.weight", {D, I});
      need(b + "mlp.c_fc.bias", {I});
      need(b + "mlp.c_proj.weight", {I, D});
      need(b + "mlp.c_proj.bias", {D});
    }
    need("ln_f.weight", {D});
    need("ln_f.bias", {D});
  } else if (isLlamaFamily(c.modelType)) {
    const int64_t Hd = int64_t(c.numHeads) * c.headDim, KVd = int64_t(c.numKvHeads) * c.headDim;
    need("embed_tokens.weight", {V, D});
    for (int i = 0; i < c.numLayers; ++i) {
      const std::string b = "layers." + std::to_string(i) + ".";
      need(b + "input_layernorm.weight", {D});
      need(b + "self_attn.q_proj.weight", {Hd, D});
      need(b + "self_attn.k_proj.weight", {KVd, D});
      need(b + "self_attn.v_proj.weight", {KVd, D});
      need(b + "self_attn.o_proj.weight", {D, Hd});
      if (c.qkvBias) {
        need(b + "self_attn.q_proj.bias", {Hd});
        need(b + "self_attn.k_proj.bias", {KVd});
        need(b + "self_attn.v_proj.bias", {KVd});
      }
      if (c.oBias) need(b + "self_attn.o_proj.bias", {D});
      need(b + "post_attention_layernorm.weight", {D});
      need(b + "mlp.gate_proj.weight", {I, D});
      need(b + "mlp.up_proj.weight", {I, D});
      need(b + "mlp.down_proj.weight", {D, I});
      if (c.mlpBias) {
        need(b + "mlp.gate_proj.bias", {I});
        need(b + "mlp.up_proj.bias", {I});
        need(b + "mlp.down_proj.bias", {D});
      }
    }
    need("norm.weight", {D});
  } else {
    const int64_t E = I, N = c.stateSize, R = c.dtRank;
    need("embeddings.weight", {V, D});
    for (int i = 0; i < c.numLayers; ++i) {
      const std::string b = "layers." + std::to_string(i) + ".";
      need(b + "norm.weight", {D});
      need(b + "mixer.in_proj.weight", {2 * E, D});
      need(b + "mixer.conv1d.weight", {E, 1, c.convKernel});
      if (c.convBias) need(b + "mixer.conv1d.bias", {E});
      need(b + "mixer.x_proj.weight", {R + 2 * N, E});
      need(b + "mixer.dt_proj.weight", {E, R});
      need(b + "mixer.dt_proj.bias", {E});
      need(b + "mixer.A_log", {E, N});
      need(b + "mixer.D", {E});
      need(b + "mixer.out_proj.weight", {D, E});
    }
    need("norm_f.weight", {D});
  }
  for (const auto& [name, shape] : expected) {
    const std::string full = prefix + name;
    const at::Tensor* t = files.tensors.find(full);
    if (!t)
      throw InputError(weightsFileOf(files, full) + ": missing tensor '" + full + "' (needed by the " + c.modelType +
                       " config.json)");
    if (t->sizes().vec() != shape)
      throw InputError(weightsFileOf(files, full) + ": tensor '" + full + "' has shape " + shapeText(t->sizes()) +
                       " but config.json implies " + shapeText(shape));
    if (!at::isFloatingType(t->scalar_type()))
      throw InputError(weightsFileOf(files, full) + ": tensor '" + full +
                       "' has an integer dtype; expected F32, F16 or BF16");
    state_->tensors[name] = *t;
  }
  // The LM head is not used (the pass stops at a layer), but a wrong one means a wrong config.
  if (const at::Tensor* head = files.tensors.find("lm_head.weight")) {
    if (head->sizes().vec() != std::vector<int64_t>{V, D})
      throw InputError(weightsFileOf(files, "lm_head.weight") + ": tensor 'lm_head.weight' has shape " +
                       shapeText(head->sizes()) + " but config.json implies " + shapeText({V, D}));
  }
}

HfModel::~HfModel() = default;

std::string HfModel::mixerKind() const {
  if (isMamba()) return "mamba";
  return cfg_.slidingWindow > 0 ? "sliding_window_attention" : "softmax_attention";
}
int HfModel::heads() const { return isMamba() ? cfg_.intermediateSize : cfg_.numHeads; }
int HfModel::valueChannels() const { return isMamba() ? 1 : cfg_.headDim; }

double HfModel::forwardBytes(int64_t length) const {
  const double L = static_cast<double>(length), f64 = 8.0;
  const double mixer = isMamba() ? 4.0 * L * cfg_.intermediateSize * cfg_.stateSize * f64
                                 : 3.0 * cfg_.numHeads * L * L * f64;
  const double activations = 8.0 * L * std::max(cfg_.intermediateSize, 3 * cfg_.hiddenSize) * f64;
  return mixer + activations;
}

double HfModel::theoreticalStateSize(int split) const {
  if (isMamba()) return cfg_.stateSize;
  const double s = cfg_.slidingWindow > 0 ? std::min(split, cfg_.slidingWindow) : split;
  return s * 2.0 * cfg_.headDim;
}

std::string HfModel::tssFormula() const {
  if (isMamba()) return "N = " + std::to_string(cfg_.stateSize);
  const std::string d = std::to_string(cfg_.headDim);
  std::string f =
      (cfg_.slidingWindow > 0 ? "min(s," + std::to_string(cfg_.slidingWindow) + ")" : std::string("s")) +
      "*(d_k+d_v) = " + (cfg_.slidingWindow > 0 ? "min(s," + std::to_string(cfg_.slidingWindow) + ")" : "s") + "*(" +
      d + "+" + d + ")";
  if (cfg_.numKvHeads != cfg_.numHeads)
    f += ", the cache of the KV head it reads (" + std::to_string(cfg_.numKvHeads) + " KV heads, each shared by " +
         std::to_string(cfg_.numHeads / cfg_.numKvHeads) + " query heads)";
  return f;
}

void HfModel::checkLayer(int layer) const {
  if (layer < 0 || layer >= cfg_.numLayers)
    throw UsageError("--layer " + std::to_string(layer) + " is outside 0.." + std::to_string(cfg_.numLayers - 1) +
                     " (" + path_ + ")");
}

void HfModel::checkTokens(const at::Tensor& tokens) const {
  if (tokens.dim() != 1 || at::isFloatingType(tokens.scalar_type()))
    throw InputError(path_ + ": tokens must be a 1-D integer sequence");
  const int64_t L = tokens.size(0);
  if (L < 1) throw InputError(path_ + ": empty input sequence");
  if (cfg_.maxPositions > 0 && L > cfg_.maxPositions)
    throw InputError(path_ + ": input of " + std::to_string(L) + " tokens is longer than the model's context of " +
                     std::to_string(cfg_.maxPositions) + " positions");
  const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
  if (lo < 0 || hi >= cfg_.vocabSize)
    throw InputError(path_ + ": token id " + std::to_string(lo < 0 ? lo : hi) + " is outside the vocabulary 0.." +
                     std::to_string(cfg_.vocabSize - 1));
}

at::Tensor HfModel::weight(const std::string& name) const {
  auto it = state_->tensors.find(name);
  if (it == state_->tensors.end()) throw std::logic_error("HfModel: unchecked tensor " + name);
  state_->checkFinite(path_, name);
  return it->second.to(at::kDouble);
}

namespace {
/// Runs `f` (a use of layer `layer`'s Mamba mixer), prefixing its InputError (e.g. unstable
/// parameters of a channel) with the checkpoint folder and the layer.
template <typename F>
auto withLayerContext(const std::string& path, int layer, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const InputError& e) {
    if (std::string(e.what()).rfind(path, 0) == 0) throw;  // names the folder already
    throw InputError(path + ": layer " + std::to_string(layer) + ": " + e.what());
  }
}
}  // namespace

std::shared_ptr<Mixer> HfModel::mambaMixer(int layer) const {
  std::lock_guard<std::mutex> lock(state_->mixerMutex);
  auto it = state_->mixers.find(layer);
  if (it != state_->mixers.end()) return it->second;
  MixerOptions o;
  o.expand = cfg_.expand;
  o.stateSize = cfg_.stateSize;
  o.convKernel = cfg_.convKernel;
  o.dtRank = cfg_.dtRank;
  auto m = makeMixer("mamba", cfg_.hiddenSize, 1, nullptr, o);
  at::NoGradGuard noGrad;
  const std::string b = "layers." + std::to_string(layer) + ".mixer.";
  for (auto& p : m->named_parameters()) {
    auto src = state_->tensors.find(b + p.key());
    if (src != state_->tensors.end()) {
      state_->checkFinite(path_, b + p.key());
      p.value().copy_(src->second.to(p.value().scalar_type()));
    }
    else if (p.key() == "conv1d.bias")  // use_conv_bias false
      p.value().zero_();
    else
      throw std::logic_error("HfModel: mamba parameter " + p.key() + " has no checkpoint tensor");
  }
  state_->mixers[layer] = m;
  return m;
}

std::pair<at::Tensor, at::Tensor> HfModel::rotary(int64_t length) const {
  const int64_t d = cfg_.headDim;
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor invFreq = at::pow(cfg_.ropeTheta, -at::arange(0, d, 2, opts) / double(d));  // [d/2]
  if (cfg_.ropeScaling == "linear") {
    invFreq = invFreq / cfg_.ropeFactor;
  } else if (cfg_.ropeScaling == "llama3") {
    // Llama 3.1: long wavelengths divided by the factor, short ones kept, a smooth blend between.
    const double old = cfg_.ropeOriginalMaxPositions, lo = cfg_.ropeLowFreqFactor, hi = cfg_.ropeHighFreqFactor;
    const double lowWave = old / lo, highWave = old / hi;
    at::Tensor wave = 2 * M_PI / invFreq;
    at::Tensor scaled = at::where(wave > lowWave, invFreq / cfg_.ropeFactor, invFreq);
    at::Tensor smooth = (old / wave - lo) / (hi - lo);
    at::Tensor blended = (1 - smooth) * scaled / cfg_.ropeFactor + smooth * scaled;
    at::Tensor medium = at::logical_not(wave < highWave) & at::logical_not(wave > lowWave);
    invFreq = at::where(medium, blended, scaled);
  }
  at::Tensor freqs = at::outer(at::arange(length, opts), invFreq);  // [L, d/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  return {at::cos(emb), at::sin(emb)};
}

std::pair<at::Tensor, at::Tensor> HfModel::queriesKeys(int layer, const at::Tensor& tokens) const {
  if (isMamba() || cfg_.modelType == "gpt2") throw UsageError(path_ + ": queriesKeys is for the Llama family");
  at::Tensor x = mixerInput(layer, tokens);
  const int64_t L = x.size(0), d = cfg_.headDim;
  const std::string b = "layers." + std::to_string(layer) + ".self_attn.";
  auto proj = [&](const char* n, int heads) {
    at::Tensor w = weight(b + n + std::string(".weight"));
    at::Tensor y = cfg_.qkvBias ? at::linear(x, w, weight(b + n + std::string(".bias"))) : at::linear(x, w);
    return y.view({L, heads, d}).transpose(0, 1);  // [heads, L, d]
  };
  auto [cos, sin] = rotary(L);
  at::Tensor q = proj("q_proj", cfg_.numHeads), k = proj("k_proj", cfg_.numKvHeads);
  return {q * cos + rotateHalf(q) * sin, k * cos + rotateHalf(k) * sin};
}

at::Tensor HfModel::attentionProbabilities(int layer, const at::Tensor& x) const {
  const int64_t L = x.size(0), d = cfg_.headDim, H = cfg_.numHeads;
  at::Tensor q, k;
  double scale = 1.0 / std::sqrt(double(d));
  if (cfg_.modelType == "gpt2") {
    const std::string b = "h." + std::to_string(layer) + ".attn.c_attn.";
    at::Tensor qkv = at::addmm(weight(b + "bias"), x, weight(b + "weight"));  // Conv1D: x W + b, [L, 3D]
    q = qkv.narrow(1, 0, cfg_.hiddenSize).view({L, H, d}).transpose(0, 1);
    k = qkv.narrow(1, cfg_.hiddenSize, cfg_.hiddenSize).view({L, H, d}).transpose(0, 1);
    if (cfg_.scaleByInverseLayer) scale /= double(layer + 1);
  } else {
    const std::string b = "layers." + std::to_string(layer) + ".self_attn.";
    auto proj = [&](const char* n, int heads) {
      at::Tensor w = weight(b + n + std::string(".weight"));
      at::Tensor y = cfg_.qkvBias ? at::linear(x, w, weight(b + n + std::string(".bias"))) : at::linear(x, w);
      return y.view({L, heads, d}).transpose(0, 1);
    };
    auto [cos, sin] = rotary(L);
    q = proj("q_proj", cfg_.numHeads);
    k = proj("k_proj", cfg_.numKvHeads);
    q = q * cos + rotateHalf(q) * sin;
    k = k * cos + rotateHalf(k) * sin;
    // GQA (HF repeat_kv): query head h reads key/value head h / (H / H_kv).
    k = k.repeat_interleave(cfg_.numHeads / cfg_.numKvHeads, 0);
  }
  at::Tensor scores = at::matmul(q, k.transpose(1, 2)) * scale;  // [H, L, L]
  auto idx = at::arange(L, at::kLong);
  at::Tensor allowed = idx.unsqueeze(1) >= idx.unsqueeze(0);  // c <= r
  if (cfg_.slidingWindow > 0) allowed = allowed & ((idx.unsqueeze(1) - idx.unsqueeze(0)) < cfg_.slidingWindow);
  scores = scores.masked_fill(at::logical_not(allowed), -std::numeric_limits<double>::infinity());
  return at::softmax(scores, -1);
}

at::Tensor HfModel::block(int layer, const at::Tensor& h) const {
  const std::string li = std::to_string(layer);
  if (isMamba()) {
    at::Tensor x = rmsNorm(h, weight("layers." + li + ".norm.weight"), cfg_.normEps);
    return h + withLayerContext(path_, layer, [&] { return mambaMixer(layer)->forward(x.unsqueeze(0)).squeeze(0); });
  }
  const int64_t L = h.size(0);
  if (cfg_.modelType == "gpt2") {
    const std::string b = "h." + li + ".";
    at::Tensor x = layerNorm(h, weight(b + "ln_1.weight"), weight(b + "ln_1.bias"), cfg_.normEps);
    at::Tensor p = attentionProbabilities(layer, x);
    at::Tensor v = at::addmm(weight(b + "attn.c_attn.bias"), x, weight(b + "attn.c_attn.weight"))
                       .narrow(1, 2 * cfg_.hiddenSize, cfg_.hiddenSize)
                       .view({L, cfg_.numHeads, cfg_.headDim})
                       .transpose(0, 1);
    at::Tensor o = at::matmul(p, v).transpose(0, 1).reshape({L, cfg_.hiddenSize});
    at::Tensor h1 = h + at::addmm(weight(b + "attn.c_proj.bias"), o, weight(b + "attn.c_proj.weight"));
    at::Tensor m = layerNorm(h1, weight(b + "ln_2.weight"), weight(b + "ln_2.bias"), cfg_.normEps);
    m = activate(at::addmm(weight(b + "mlp.c_fc.bias"), m, weight(b + "mlp.c_fc.weight")), cfg_.activation);
    return h1 + at::addmm(weight(b + "mlp.c_proj.bias"), m, weight(b + "mlp.c_proj.weight"));
  }
  const std::string b = "layers." + li + ".";
  auto linear = [&](const at::Tensor& x, const std::string& n, bool bias) {
    return bias ? at::linear(x, weight(b + n + ".weight"), weight(b + n + ".bias"))
                : at::linear(x, weight(b + n + ".weight"));
  };
  at::Tensor x = rmsNorm(h, weight(b + "input_layernorm.weight"), cfg_.normEps);
  at::Tensor p = attentionProbabilities(layer, x);
  at::Tensor v = linear(x, "self_attn.v_proj", cfg_.qkvBias).view({L, cfg_.numKvHeads, cfg_.headDim}).transpose(0, 1);
  v = v.repeat_interleave(cfg_.numHeads / cfg_.numKvHeads, 0);
  at::Tensor o = at::matmul(p, v).transpose(0, 1).reshape({L, int64_t(cfg_.numHeads) * cfg_.headDim});
  at::Tensor h1 = h + linear(o, "self_attn.o_proj", cfg_.oBias);
  at::Tensor m = rmsNorm(h1, weight(b + "post_attention_layernorm.weight"), cfg_.normEps);
  m = activate(linear(m, "mlp.gate_proj", cfg_.mlpBias), cfg_.activation) * linear(m, "mlp.up_proj", cfg_.mlpBias);
  return h1 + linear(m, "mlp.down_proj", cfg_.mlpBias);
}

at::Tensor HfModel::hiddenState(int layer, const at::Tensor& tokens) const {
  if (layer < 0 || layer > cfg_.numLayers) checkLayer(layer);
  checkTokens(tokens);
  at::Tensor tok = tokens.to(at::kLong).contiguous();
  std::vector<int64_t> key(tok.data_ptr<int64_t>(), tok.data_ptr<int64_t>() + tok.numel());
  at::NoGradGuard noGrad;
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (key != state_->cachedTokens || state_->hidden.empty()) {
    state_->cachedTokens = key;
    state_->hidden.clear();
    const std::string emb = cfg_.modelType == "gpt2" ? "wte.weight"
                            : isMamba()              ? "embeddings.weight"
                                                     : "embed_tokens.weight";
    at::Tensor h = state_->tensors.at(emb).index_select(0, tok).to(at::kDouble);
    if (cfg_.modelType == "gpt2") h = h + state_->tensors.at("wpe.weight").narrow(0, 0, tok.size(0)).to(at::kDouble);
    state_->hidden.push_back(h);
  }
  while (static_cast<int>(state_->hidden.size()) <= layer) {
    const int i = static_cast<int>(state_->hidden.size()) - 1;
    state_->hidden.push_back(block(i, state_->hidden.back()));
  }
  return state_->hidden[layer];
}

at::Tensor HfModel::mixerInput(int layer, const at::Tensor& tokens) const {
  checkLayer(layer);
  at::Tensor h = hiddenState(layer, tokens);
  at::NoGradGuard noGrad;
  const std::string li = std::to_string(layer);
  if (cfg_.modelType == "gpt2")
    return layerNorm(h, weight("h." + li + ".ln_1.weight"), weight("h." + li + ".ln_1.bias"), cfg_.normEps);
  if (isMamba()) return rmsNorm(h, weight("layers." + li + ".norm.weight"), cfg_.normEps);
  return rmsNorm(h, weight("layers." + li + ".input_layernorm.weight"), cfg_.normEps);
}

at::Tensor HfModel::layerOperator(int layer, const at::Tensor& tokens) const {
  at::Tensor x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  if (isMamba()) return withLayerContext(path_, layer, [&] { return mambaMixer(layer)->materialize(x); });
  return attentionProbabilities(layer, x);
}

Generators HfModel::layerGenerators(int layer, const at::Tensor& tokens) const {
  if (!isMamba()) {
    checkLayer(layer);
    return {};
  }
  at::Tensor x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  return withLayerContext(path_, layer, [&] { return mambaMixer(layer)->generators(x); });
}

}  // namespace ess
