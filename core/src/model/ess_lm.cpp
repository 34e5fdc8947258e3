// The ess-lm model (see ess/model.h): network, weights in and out.
#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <sstream>

#include "ess/cancel.h"
#include "ess/error.h"
#include "ess/mixer.h"
#include "ess/model.h"
#include "math/json_text.h"

namespace ess {
namespace {

using Module = torch::nn::Module;

at::Tensor addParam(Module& parent, const std::string& sub, const std::string& name, at::Tensor init) {
  std::shared_ptr<Module> child;
  for (const auto& item : parent.named_children())
    if (item.key() == sub) child = item.value();
  if (!child) child = parent.register_module(sub, std::make_shared<Module>());
  return child->register_parameter(name, std::move(init));
}

at::Tensor uniformInit(int64_t out, int64_t in, at::Generator& gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  return at::empty({out, in}, at::kFloat).uniform_(-bound, bound, gen);
}

at::Tensor normalInit(int64_t rows, int64_t cols, double std, at::Generator& gen) {
  return at::empty({rows, cols}, at::kFloat).normal_(0.0, std, gen);
}

std::string shapeString(at::IntArrayRef s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

struct Norm {
  at::Tensor weight, bias;  // bias only for LayerNorm
  at::Tensor operator()(const at::Tensor& x) const {
    auto w = weight.to(x.scalar_type());
    if (bias.defined()) return at::layer_norm(x, {x.size(-1)}, w, bias.to(x.scalar_type()), 1e-5);
    auto rms = at::rsqrt(x.pow(2).mean({-1}, true) + 1e-5);
    return x * rms * w;
  }
};

Norm makeNorm(Module& parent, const std::string& name, int d, bool layerNorm) {
  Norm n;
  n.weight = addParam(parent, name, "weight", at::ones({d}, at::kFloat));
  if (layerNorm) n.bias = addParam(parent, name, "bias", at::zeros({d}, at::kFloat));
  return n;
}

struct Block : Module {
  Norm norm1, norm2;
  std::shared_ptr<Mixer> mixer;
  at::Tensor fc1w, fc1b, fc2w, fc2b;

  Block(const ModelConfig& cfg, const std::string& kind, at::Generator& gen) {
    const bool ln = cfg.norm == "layernorm";
    norm1 = makeNorm(*this, "norm1", cfg.dModel, ln);
    MixerOptions mo = cfg;
    for (const MixerOption& opt : mixerRegistry().options())
      if (opt.zeroIsLength && mo.*opt.field == 0) mo.*opt.field = cfg.maxLength;
    mixer = register_module("mixer", makeMixer(kind, cfg.dModel, cfg.numHeads, &gen, mo));
    norm2 = makeNorm(*this, "norm2", cfg.dModel, ln);
    auto mlp = register_module("mlp", std::make_shared<Module>());
    fc1w = addParam(*mlp, "fc1", "weight", uniformInit(cfg.mlpHidden, cfg.dModel, gen));
    fc1b = addParam(*mlp, "fc1", "bias", at::zeros({cfg.mlpHidden}, at::kFloat));
    fc2w = addParam(*mlp, "fc2", "weight", uniformInit(cfg.dModel, cfg.mlpHidden, gen));
    fc2b = addParam(*mlp, "fc2", "bias", at::zeros({cfg.dModel}, at::kFloat));
  }

  at::Tensor mlp(const at::Tensor& x) const {
    const auto dt = x.scalar_type();
    auto h = at::gelu(at::linear(x, fc1w.to(dt), fc1b.to(dt)));
    return at::linear(h, fc2w.to(dt), fc2b.to(dt));
  }

  at::Tensor forward(at::Tensor x) {
    x = x + mixer->forward(norm1(x));
    return x + mlp(norm2(x));
  }
};

struct Net : Module {
  at::Tensor embed, pos, head;
  Norm normF;
  std::vector<std::shared_ptr<Block>> blocks;

  Net(const ModelConfig& cfg, at::Generator& gen) {
    embed = addParam(*this, "embed", "weight", normalInit(cfg.vocabSize, cfg.dModel, 0.02, gen));
    if (cfg.positionEmbedding == "learned")
      pos = addParam(*this, "pos_embed", "weight", normalInit(cfg.maxLength, cfg.dModel, 0.02, gen));
    auto layers = register_module("layers", std::make_shared<Module>());
    for (int i = 0; i < cfg.numLayers(); ++i)
      blocks.push_back(layers->register_module(std::to_string(i), std::make_shared<Block>(cfg, cfg.mixers[i], gen)));
    normF = makeNorm(*this, "norm_f", cfg.dModel, cfg.norm == "layernorm");
    head = addParam(*this, "lm_head", "weight", uniformInit(cfg.vocabSize, cfg.dModel, gen));
  }

  // tokens [B, L] -> hidden [B, L, D] in dtype `dt`
  at::Tensor embedTokens(const at::Tensor& tokens, at::ScalarType dt) const {
    auto x = at::embedding(embed.to(dt), tokens);
    if (pos.defined()) x = x + pos.to(dt).narrow(0, 0, tokens.size(-1));
    return x;
  }
};

void validateConfig(const ModelConfig& c, const std::string& path) {
  auto bad = [&](const std::string& what) { throw InputError(path + ": " + what); };
  if (c.vocabSize <= 0) bad("vocab_size must be positive");
  if (c.dModel <= 0) bad("d_model must be positive");
  if (c.numHeads <= 0) bad("num_heads must be positive");
  if (c.dModel % c.numHeads != 0)
    bad("d_model " + std::to_string(c.dModel) + " is not divisible by num_heads " + std::to_string(c.numHeads));
  if (c.mlpHidden <= 0) bad("mlp_hidden must be positive");
  if (c.positionEmbedding != "learned" && c.positionEmbedding != "none")
    bad("position_embedding must be \"learned\" or \"none\", got \"" + c.positionEmbedding + "\"");
  if (c.positionEmbedding == "learned" && c.maxLength <= 0) bad("max_length must be positive");
  if (c.maxLength < 0) bad("max_length must not be negative");
  if (c.norm != "rmsnorm" && c.norm != "layernorm")
    bad("norm must be \"rmsnorm\" or \"layernorm\", got \"" + c.norm + "\"");
  const MixerRegistry& registry = mixerRegistry();
  for (const MixerOption& opt : registry.options()) {
    const std::string error = opt.boundError(opt.key, c.*opt.field, opt.configMinimum());
    if (!error.empty()) bad(error);
  }
  if (c.mixers.empty()) bad("mixers is empty (need one mixer kind per layer)");
  for (const auto& m : c.mixers) {
    const MixerKind* kind = registry.findKind(m);
    if (!kind) bad(registry.unknownKindMessage(m));
    for (const std::string& key : kind->options) {
      const MixerOption& opt = *registry.findOption(key);
      if (opt.zeroIsLength && c.*opt.field == 0 && c.maxLength < 1)
        bad(m + " needs " + key + " (or max_length) of at least 1");
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ModelConfig

ModelConfig ModelConfig::fromJson(const std::string& jsonText, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(jsonText);
  } catch (const std::exception& e) {
    throw InputError(path + ": malformed JSON: " + jsonProblem(e));
  }
  if (!j.is_object()) throw InputError(path + ": expected a JSON object");
  auto find = [&](std::initializer_list<const char*> names) -> const nlohmann::json* {
    for (const char* n : names)
      if (j.contains(n) && !j[n].is_null()) return &j[n];
    return nullptr;
  };
  auto getInt = [&](std::initializer_list<const char*> names, std::optional<int> fallback) -> int {
    const nlohmann::json* v = find(names);
    if (!v) {
      if (fallback) return *fallback;
      throw InputError(path + ": missing field \"" + *names.begin() + "\"");
    }
    if (!v->is_number_integer()) throw InputError(path + ": field \"" + *names.begin() + "\" must be an integer");
    const long long x = v->get<long long>();
    if (x < -1000000000LL || x > 1000000000LL)
      throw InputError(path + ": field \"" + *names.begin() + "\" is out of range");
    return static_cast<int>(x);
  };
  auto getString = [&](const char* name, const std::string& fallback) -> std::string {
    const nlohmann::json* v = find({name});
    if (!v) return fallback;
    if (!v->is_string()) throw InputError(path + ": field \"" + name + "\" must be a string");
    return v->get<std::string>();
  };

  const nlohmann::json* mt = find({"model_type"});
  if (!mt) throw InputError(path + ": missing field \"model_type\" (expected \"ess-lm\")");
  if (!mt->is_string() || mt->get<std::string>() != "ess-lm")
    throw InputError(path + ": unsupported model_type " + mt->dump() + " (expected \"ess-lm\")");

  ModelConfig c;
  c.vocabSize = getInt({"vocab_size"}, std::nullopt);
  c.dModel = getInt({"d_model", "hidden_size"}, std::nullopt);
  c.numHeads = getInt({"num_heads", "num_attention_heads"}, std::nullopt);
  c.positionEmbedding = getString("position_embedding", "learned");
  c.maxLength = getInt({"max_length", "max_position_embeddings"},
                       c.positionEmbedding == "none" ? std::optional<int>(0) : std::nullopt);
  c.mlpHidden = getInt({"mlp_hidden", "intermediate_size"}, 4 * c.dModel);
  c.norm = getString("norm", "rmsnorm");
  if (const nlohmann::json* ks = find({"key_shift"})) {
    if (!ks->is_boolean()) throw InputError(path + ": field \"key_shift\" must be true or false");
    c.keyShift = ks->get<bool>();
  }
  for (const MixerOption& opt : mixerRegistry().options()) {
    for (const std::string& name : opt.aliases)
      if (find({name.c_str()})) c.*opt.field = getInt({name.c_str()}, std::nullopt);
    if (find({opt.key.c_str()})) c.*opt.field = getInt({opt.key.c_str()}, std::nullopt);
  }
  const nlohmann::json* mx = find({"mixers"});
  if (!mx) throw InputError(path + ": missing field \"mixers\" (one mixer kind per layer)");
  c.mixers.clear();
  if (mx->is_string()) {
    std::stringstream ss(mx->get<std::string>());
    std::string item;
    while (std::getline(ss, item, ',')) c.mixers.push_back(item);
  } else if (mx->is_array()) {
    for (const auto& e : *mx) {
      if (!e.is_string()) throw InputError(path + ": field \"mixers\" must be a list of strings");
      c.mixers.push_back(e.get<std::string>());
    }
  } else {
    throw InputError(path + ": field \"mixers\" must be a list of strings");
  }
  if (const nlohmann::json* nl = find({"num_layers", "num_hidden_layers"})) {
    const int n = getInt({"num_layers", "num_hidden_layers"}, 0);
    (void)nl;
    if (n <= 0) throw InputError(path + ": num_layers must be positive");
    if (c.mixers.size() == 1 && n > 1) c.mixers.assign(n, c.mixers[0]);
    if (static_cast<int>(c.mixers.size()) != n)
      throw InputError(path + ": num_layers is " + std::to_string(n) + " but mixers lists " +
                       std::to_string(c.mixers.size()) + " kinds");
  }
  validateConfig(c, path);
  return c;
}

std::string ModelConfig::toJson() const {
  nlohmann::ordered_json j;
  j["model_type"] = "ess-lm";
  j["architectures"] = {"EssLm"};
  j["vocab_size"] = vocabSize;
  j["d_model"] = dModel;
  j["num_heads"] = numHeads;
  j["num_layers"] = numLayers();
  j["max_length"] = maxLength;
  j["mlp_hidden"] = mlpHidden;
  j["mixers"] = mixers;
  j["norm"] = norm;
  j["position_embedding"] = positionEmbedding;
  j["key_shift"] = keyShift;
  for (const MixerOption& opt : mixerRegistry().options()) j[opt.key] = this->*opt.field;
  j["torch_dtype"] = "float32";
  return j.dump(2) + "\n";
}

// ---------------------------------------------------------------------------------------------
// EssLm

struct EssLm::Impl {
  ModelConfig cfg;
  std::shared_ptr<Net> net;
};

EssLm::EssLm(const ModelConfig& cfg, uint64_t seed) : impl_(std::make_unique<Impl>()) {
  validateConfig(cfg, "model config");
  impl_->cfg = cfg;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  impl_->net = std::make_shared<Net>(cfg, gen);
}

EssLm::~EssLm() = default;

std::unique_ptr<EssLm> EssLm::fromTensors(const ModelConfig& cfg, const NamedTensors& weights,
                                          const std::string& path) {
  validateConfig(cfg, path);
  // config.json sizes are checked against the weights before the model allocates them: the
  // embedding, the learned positions and every MLP are parameters the file must hold.
  uint64_t held = 0;
  for (const auto& [name, t] : weights.tensors) held += static_cast<uint64_t>(t.numel());
  const uint64_t d = static_cast<uint64_t>(cfg.dModel);
  const uint64_t implied = uint64_t(cfg.vocabSize) * d +
                           (cfg.positionEmbedding == "learned" ? uint64_t(cfg.maxLength) * d : 0) +
                           uint64_t(cfg.numLayers()) * (2 * uint64_t(cfg.mlpHidden) * d);
  if (implied > held)
    throw InputError(path + ": config.json (vocab_size " + std::to_string(cfg.vocabSize) + ", d_model " +
                     std::to_string(cfg.dModel) + ", max_length " + std::to_string(cfg.maxLength) + ", mlp_hidden " +
                     std::to_string(cfg.mlpHidden) + ") implies at least " + std::to_string(implied) +
                     " parameters, but the weights file holds " + std::to_string(held) +
                     " (config.json does not match the weights)");
  std::unique_ptr<EssLm> m;
  try {
    m = std::make_unique<EssLm>(cfg, 0);
  } catch (const InputError&) {
    throw;
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception&) {  // c10::Error or std::bad_alloc from a mixer's own sizes
    throw InputError(path + ": the model config.json describes does not fit in memory (check its sizes)");
  }
  at::NoGradGuard noGrad;
  std::vector<std::string> expected;
  for (auto& item : m->impl_->net->named_parameters(true)) {
    const std::string& name = item.key();
    expected.push_back(name);
    const at::Tensor* src = weights.find(name);
    if (!src)
      throw InputError(path + ": missing tensor '" + name + "' (expected shape " + shapeString(item.value().sizes()) +
                       ")");
    if (src->sizes() != item.value().sizes())
      throw InputError(path + ": tensor '" + name + "' has shape " + shapeString(src->sizes()) + ", expected " +
                       shapeString(item.value().sizes()) + " from config.json");
    if (!at::isFloatingType(src->scalar_type()))
      throw InputError(path + ": tensor '" + name + "' has a non-floating dtype");
    at::Tensor f = src->to(at::kFloat);
    if (!at::isfinite(src->to(at::kDouble)).all().item<bool>())
      throw InputError(path + ": tensor '" + name + "' holds NaN or Inf values");
    if (!at::isfinite(f).all().item<bool>()) throw InputError(path + ": tensor '" + name + "' overflows float32");
    item.value().copy_(f);
  }
  for (const auto& [name, t] : weights.tensors) {
    if (std::find(expected.begin(), expected.end(), name) == expected.end())
      throw InputError(path + ": unexpected tensor '" + name + "' for an ess-lm with mixers " + [&] {
        std::string s;
        for (size_t i = 0; i < cfg.mixers.size(); ++i) s += (i ? "," : "") + cfg.mixers[i];
        return s;
      }());
  }
  // Some kinds' parameters must also give stable discrete decays (MixerKind::checksWeights); the
  // mixer checks them (InputError naming the channel) whenever it runs, so run it once on one
  // zero step to name the layer here.
  for (int i = 0; i < cfg.numLayers(); ++i) {
    if (!mixerRegistry().findKind(cfg.mixers[i])->checksWeights) continue;
    try {
      m->impl_->net->blocks[i]->mixer->materialize(at::zeros({1, cfg.dModel}, at::kDouble));
    } catch (const InputError& e) {
      throw InputError(path + ": layer " + std::to_string(i) + ": " + e.what());
    }
  }
  return m;
}

NamedTensors EssLm::stateDict() const {
  NamedTensors out;
  for (const auto& item : impl_->net->named_parameters(true))
    out.add(item.key(), item.value().detach().to(at::kFloat).clone().contiguous());
  out.metadata["format"] = "pt";
  return out;
}

const ModelConfig& EssLm::config() const { return impl_->cfg; }
int EssLm::numLayers() const { return impl_->cfg.numLayers(); }

static void checkLayer(const EssLm& m, int layer) {
  if (layer < 0 || layer >= m.numLayers())
    throw InputError("layer " + std::to_string(layer) + " does not exist (the model has " +
                     std::to_string(m.numLayers()) + " layers, 0.." + std::to_string(m.numLayers() - 1) + ")");
}

std::string EssLm::mixerKind(int layer) const {
  checkLayer(*this, layer);
  return impl_->cfg.mixers[layer];
}
int EssLm::heads(int layer) const {
  checkLayer(*this, layer);
  return impl_->net->blocks[layer]->mixer->heads();
}
int EssLm::valueChannels(int layer) const {
  checkLayer(*this, layer);
  return impl_->net->blocks[layer]->mixer->valueDim();
}
int EssLm::keyChannels(int layer) const {
  checkLayer(*this, layer);
  return impl_->net->blocks[layer]->mixer->keyDim();
}
std::string EssLm::tssFormula(int layer) const {
  checkLayer(*this, layer);
  return impl_->net->blocks[layer]->mixer->tssFormula();
}
double EssLm::theoreticalStateSize(int layer, int split) const {
  checkLayer(*this, layer);
  return impl_->net->blocks[layer]->mixer->theoreticalStateSize(split);
}
double EssLm::theoreticalStateSizeSiso(int layer, int split) const {
  return theoreticalStateSize(layer, split) / valueChannels(layer);
}

static void checkTokens(const ModelConfig& cfg, const at::Tensor& tokens) {
  if (tokens.dim() < 1 || tokens.dim() > 2) throw InputError("tokens must be [L] or [B, L]");
  if (at::isFloatingType(tokens.scalar_type())) throw InputError("tokens must be integers");
  const int64_t L = tokens.size(-1);
  if (L < 1) throw InputError("empty input sequence");
  if (cfg.positionEmbedding == "learned" && L > cfg.maxLength)
    throw InputError("input of length " + std::to_string(L) + " is longer than the model's max_length " +
                     std::to_string(cfg.maxLength));
  const int64_t lo = tokens.min().item<int64_t>(), hi = tokens.max().item<int64_t>();
  if (lo < 0 || hi >= cfg.vocabSize)
    throw InputError("token id " + std::to_string(lo < 0 ? lo : hi) + " is outside the vocabulary [0, " +
                     std::to_string(cfg.vocabSize) + ")");
}

at::Tensor EssLm::forward(const at::Tensor& tokens) {
  checkTokens(impl_->cfg, tokens);
  const bool single = tokens.dim() == 1;
  auto tok = (single ? tokens.unsqueeze(0) : tokens).to(at::kLong);
  auto& net = *impl_->net;
  auto x = net.embedTokens(tok, net.embed.scalar_type());
  for (auto& b : net.blocks) x = b->forward(x);
  auto logits = at::linear(net.normF(x), net.head.to(x.scalar_type()));
  return single ? logits.squeeze(0) : logits;
}

at::Tensor EssLm::mixerInput(int layer, const at::Tensor& tokens) {
  checkLayer(*this, layer);
  checkTokens(impl_->cfg, tokens);
  if (tokens.dim() != 1) throw InputError("the operator of a layer takes tokens [L]");
  at::NoGradGuard noGrad;
  auto& net = *impl_->net;
  auto x = net.embedTokens(tokens.to(at::kLong).unsqueeze(0), at::kDouble);
  for (int i = 0; i < layer; ++i) {
    checkCancelled("forward pass");  // between blocks (ess/cancel.h)
    x = net.blocks[i]->forward(x);
  }
  return net.blocks[layer]->norm1(x);  // [1, L, D]
}

at::Tensor EssLm::layerOperator(int layer, const at::Tensor& tokens) {
  auto x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  return impl_->net->blocks[layer]->mixer->materialize(x).squeeze(0).contiguous();
}

Generators EssLm::layerGenerators(int layer, const at::Tensor& tokens) {
  auto x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  return impl_->net->blocks[layer]->mixer->generators(x.squeeze(0));
}

torch::nn::Module& EssLm::module() { return *impl_->net; }

}  // namespace ess
