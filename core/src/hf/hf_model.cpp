// HfModel: opens a Hugging Face checkpoint through its architecture family (hf_architecture.h),
// keeps the residual stream per input, and checks layers and tokens (ess/hf_model.h).
#include "ess/hf_model.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "ess/cancel.h"
#include "ess/checkpoint.h"
#include "ess/error.h"
#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess {

namespace fs = std::filesystem;

/// The architecture, the checked tensors and the residual-stream cache.
struct HfModel::State {
  std::unique_ptr<hf::HfArchitecture> arch;
  std::unique_ptr<hf::HfWeights> weights;
  std::mutex mutex;  ///< guards the cache
  std::vector<int64_t> cachedTokens;
  std::vector<at::Tensor> hidden;        ///< hidden[i]: the residual stream entering block i
  std::vector<double> layerWeightBytes;  ///< float64 bytes of each block's tensors
};

HfModel::HfModel(const CheckpointFiles& files) : path_(files.path), state_(std::make_unique<State>()) {
  const std::string configPath = (fs::path(files.path) / "config.json").string();
  cfg_ = HfConfig::fromJson(files.configJson, configPath);
  const HfConfig& c = cfg_;
  state_->arch = hf::findFamily(c.modelType)->open(c, files.path);
  // The prefix of the task model (GPT2LMHeadModel, LlamaForCausalLM, MambaForCausalLM), if any.
  const hf::TensorNaming& naming = state_->arch->naming();
  std::string prefix;
  if (files.tensors.find(naming.taskPrefix + naming.embedding))
    prefix = naming.taskPrefix;
  else if (!files.tensors.find(naming.embedding))
    prefix = naming.taskPrefix;  // the missing-tensor error names the usual one
  const std::vector<hf::ExpectedTensor> expected = state_->arch->tensors();
  state_->weights = std::make_unique<hf::HfWeights>(files, prefix, expected, c.modelType);
  state_->layerWeightBytes.assign(static_cast<size_t>(std::max(c.numLayers, 0)), 0.0);
  for (const auto& [name, shape] : expected) {
    double n = 1;
    for (int64_t d : shape) n *= double(d);
    for (int i = 0; i < c.numLayers; ++i)
      if (name.rfind(naming.layerTensor(i, ""), 0) == 0) state_->layerWeightBytes[static_cast<size_t>(i)] += 8.0 * n;
  }
  // The LM head is not used (the pass stops at a layer), but a wrong one means a wrong config.
  const int64_t D = c.hiddenSize, V = c.vocabSize;
  if (const at::Tensor* head = files.tensors.find(naming.lmHead)) {
    if (head->sizes().vec() != std::vector<int64_t>{V, D})
      throw InputError(hf::HfWeights::fileOf(files, naming.lmHead) + ": tensor '" + naming.lmHead + "' has shape " +
                       hf::shapeText(head->sizes()) + " but config.json implies " + hf::shapeText({V, D}));
  }
}

HfModel::~HfModel() = default;

std::string HfModel::mixerKind() const { return state_->arch->mixerKind(); }

std::string HfModel::mixerKind(int layer) const {
  checkLayer(layer);
  return state_->arch->layerKind(layer);
}

std::string HfModel::tssFormula(int layer) const {
  checkLayer(layer);
  return state_->arch->layerTssFormula(layer);
}

std::string HfModel::description(const std::string& name) const {
  // Layers counted by kind in order of first appearance ("13 of sliding_window_attention, 13
  // of softmax_attention" for gemma2).
  std::vector<std::pair<std::string, int>> kinds;
  for (int i = 0; i < numLayers(); ++i) {
    const std::string k = mixerKind(i);
    auto it = std::find_if(kinds.begin(), kinds.end(), [&](const auto& p) { return p.first == k; });
    if (it == kinds.end())
      kinds.emplace_back(k, 1);
    else
      ++it->second;
  }
  std::string layers = std::to_string(numLayers()) + " layer(s) of " + kinds.front().first;
  if (kinds.size() > 1) {
    layers = std::to_string(numLayers()) + " layers: ";
    for (size_t i = 0; i < kinds.size(); ++i)
      layers += (i ? ", " : "") + std::to_string(kinds[i].second) + " of " + kinds[i].first;
  }
  bool sameHeads = true;
  for (int i = 1; i < numLayers(); ++i) sameHeads = sameHeads && heads(i) == heads(0);
  if (!sameHeads) return name + ": " + cfg_.modelType + ", " + layers;  // a hybrid: ess info lists each
  return name + ": " + cfg_.modelType + ", " + layers + ", " + std::to_string(heads()) +
         (valueChannels() == 1 ? " channels" : " heads") + " each";
}

double HfModel::theoreticalStateSizeSiso(int layer, int split) const {
  checkLayer(layer);
  return state_->arch->layerTheoreticalStateSize(layer, split) / state_->arch->layerValueChannels(layer);
}

int HfModel::heads(int layer) const {
  checkLayer(layer);
  return state_->arch->layerHeads(layer);
}

int HfModel::valueChannels(int layer) const {
  checkLayer(layer);
  return state_->arch->layerValueChannels(layer);
}

std::string HfModel::defaultInput(std::size_t memoryBudget) const {
  // 64 random tokens, fewer when the context or the budget is smaller (the input the user asks
  // for next is checked against the budget, not this one).
  int len = cfg_.maxPositions > 0 ? std::min(64, cfg_.maxPositions) : 64;
  while (len > 2 && forwardBytes(len) > static_cast<double>(memoryBudget)) len /= 2;
  return "random:seed=0,len=" + std::to_string(len);
}
int HfModel::heads() const { return state_->arch->heads(); }
int HfModel::valueChannels() const { return state_->arch->valueChannels(); }

double HfModel::forwardBytes(int64_t length) const { return forwardMemory(length).total(); }

LanguageModel::ForwardMemory HfModel::forwardMemory(int64_t length) const {
  const double L = static_cast<double>(length), f64 = 8.0;
  ForwardMemory m;
  m.mixer = state_->arch->mixerBytes(L);
  m.activations = 8.0 * L * std::max(cfg_.intermediateSize, 3 * cfg_.hiddenSize) * f64 +
                  double(cfg_.numLayers + 1) * L * cfg_.hiddenSize * f64;
  m.layerWeights = 0;  // the embedding is read by rows: its [L, D] is an activation
  for (double b : state_->layerWeightBytes) m.layerWeights = std::max(m.layerWeights, b);
  return m;
}

double HfModel::layerWeightBytes(int layer) const {
  checkLayer(layer);
  return state_->layerWeightBytes[static_cast<size_t>(layer)];
}

double HfModel::theoreticalStateSize(int split) const { return state_->arch->theoreticalStateSize(split); }
std::string HfModel::tssFormula() const { return state_->arch->tssFormula(); }

void HfModel::checkLayer(int layer) const {
  if (layer < 0 || layer >= cfg_.numLayers)
    throw UsageError("layer", {" " + std::to_string(layer) + " is outside 0.." + std::to_string(cfg_.numLayers - 1) +
                               " (" + path_ + ")"});
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

std::pair<at::Tensor, at::Tensor> HfModel::rotary(int64_t length) const { return hf::rotaryCosSin(cfg_, length); }

std::pair<at::Tensor, at::Tensor> HfModel::queriesKeys(int layer, const at::Tensor& tokens) const {
  if (!state_->arch->hasRotaryQueries())
    throw UsageError(path_ + ": queriesKeys is for the rotary families (llama, gpt_neox, phi)");
  const hf::HfWeights::LayerScope scope(*state_->weights, layer);
  at::Tensor x = mixerInput(layer, tokens);
  return state_->arch->queriesKeys(*state_->weights, layer, x);
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
    state_->hidden.push_back(state_->arch->embed(*state_->weights, tok));
  }
  // Progress in blocks of this pass: those cached already count as done.
  const long cached = static_cast<long>(state_->hidden.size()) - 1;
  while (static_cast<int>(state_->hidden.size()) <= layer) {
    checkCancelled("forward pass");  // between blocks (ess/cancel.h); the blocks done stay cached
    const int i = static_cast<int>(state_->hidden.size()) - 1;
    reportStageProgress("forward pass", i - cached, layer - cached);
    const hf::HfWeights::LayerScope scope(*state_->weights, i);  // block i's weights, once each
    state_->hidden.push_back(state_->arch->block(*state_->weights, i, state_->hidden.back()));
  }
  if (layer > cached) reportStageProgress("forward pass", layer - cached, layer - cached);
  return state_->hidden[layer];
}

at::Tensor HfModel::mixerInput(int layer, const at::Tensor& tokens) const {
  checkLayer(layer);
  at::Tensor h = hiddenState(layer, tokens);
  at::NoGradGuard noGrad;
  const hf::HfWeights::LayerScope scope(*state_->weights, layer);
  return state_->arch->mixerInput(*state_->weights, layer, h);
}

at::Tensor HfModel::layerOperator(int layer, const at::Tensor& tokens) const {
  // One scope for the mixer input and the operator (the blocks before run in their own).
  const hf::HfWeights::LayerScope scope(*state_->weights, layer);
  at::Tensor x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  return state_->arch->layerOperator(*state_->weights, layer, x);
}

Generators HfModel::layerGenerators(int layer, const at::Tensor& tokens) const {
  checkLayer(layer);
  if (!state_->arch->layerHasGenerators(layer)) return {};
  const hf::HfWeights::LayerScope scope(*state_->weights, layer);
  at::Tensor x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  return state_->arch->layerGenerators(*state_->weights, layer, x);
}

SharedGenerators HfModel::layerSharedGenerators(int layer, const at::Tensor& tokens, bool ssm) const {
  checkLayer(layer);
  if (!state_->arch->layerHasGenerators(layer)) return {};
  const hf::HfWeights::LayerScope scope(*state_->weights, layer);
  at::Tensor x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  return state_->arch->sharedGenerators(*state_->weights, layer, x, ssm);
}

at::Tensor HfModel::ssmOperator(int layer, const at::Tensor& tokens) const {
  const hf::HfWeights::LayerScope scope(*state_->weights, layer);
  at::Tensor x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  return state_->arch->ssmOperator(*state_->weights, layer, x);
}

Generators HfModel::ssmGenerators(int layer, const at::Tensor& tokens) const {
  checkLayer(layer);
  if (!state_->arch->layerHasGenerators(layer)) return {};
  const hf::HfWeights::LayerScope scope(*state_->weights, layer);
  at::Tensor x = mixerInput(layer, tokens);
  at::NoGradGuard noGrad;
  return state_->arch->ssmGenerators(*state_->weights, layer, x);
}

std::string HfModel::ssmRemoves(int layer) const {
  checkLayer(layer);
  return state_->arch->ssmRemoves(layer);
}

}  // namespace ess
