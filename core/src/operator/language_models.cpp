// The LanguageModel interface (ess/language_model.h) over the ess-lm family (an adapter; the
// Hugging Face models implement it themselves, HfModel) and the choice between the two by
// config.json's model_type.
#include "ess/language_model.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/hf_model.h"
#include "ess/input_spec.h"
#include "ess/mixer.h"
#include "ess/model.h"

namespace ess {
namespace {

namespace fs = std::filesystem;

/// The values of every tensor of `files` (those left on disk read now).
NamedTensors wholeTensors(const CheckpointFiles& files) {
  if (files.onDemand.empty()) return files.tensors;
  CheckpointFiles copy = files;
  readAllTensors(copy);
  return copy.tensors;
}

/// An ess-lm checkpoint (config.json with model_type "ess-lm", model.safetensors).
class EssLmModel : public LanguageModel {
 public:
  explicit EssLmModel(const CheckpointFiles& files)
      : cfg_(ModelConfig::fromJson(files.configJson, (fs::path(files.path) / "config.json").string())),
        model_(EssLm::fromTensors(cfg_, wholeTensors(files), files.path)),
        path_(files.path) {}

  std::string architecture() const override { return "ess-lm"; }
  std::string description(const std::string& name) const override {
    std::string kinds;
    for (int i = 0; i < model_->numLayers(); ++i) kinds += (i ? ", " : "") + model_->mixerKind(i);
    return name + ": ess-lm, " + std::to_string(model_->numLayers()) + " layer(s): " + kinds;
  }
  int vocabSize() const override { return cfg_.vocabSize; }
  int maxLength() const override { return cfg_.maxLength; }
  int numLayers() const override { return model_->numLayers(); }
  std::string mixerKind(int layer) const override { return model_->mixerKind(layer); }
  int heads(int layer) const override { return model_->heads(layer); }
  int valueChannels(int layer) const override { return model_->valueChannels(layer); }
  std::string tssFormula(int layer) const override { return model_->tssFormula(layer); }
  double theoreticalStateSizeSiso(int layer, int split) const override {
    return model_->theoreticalStateSizeSiso(layer, split);
  }
  at::Tensor layerOperator(int layer, const at::Tensor& tokens) const override {
    checkLayer(layer);
    return model_->layerOperator(layer, tokens);
  }
  Generators layerGenerators(int layer, const at::Tensor& tokens) const override {
    checkLayer(layer);
    return model_->layerGenerators(layer, tokens);
  }
  at::Tensor mixerInput(int layer, const at::Tensor& tokens) const override {
    checkLayer(layer);
    return model_->mixerInput(layer, tokens).squeeze(0);
  }
  bool headOutputs(int layer, const at::Tensor& tokens, at::Tensor* outputs, at::Tensor* values) const override {
    const at::Tensor x = model_->mixerInput(layer, tokens);  // [1, L, D]
    // The mixer of block `layer` by its state-dict name (ess/model.h: layers.<i>.mixer).
    const std::string name = "layers." + std::to_string(layer) + ".mixer";
    std::shared_ptr<Mixer> mixer;
    for (const auto& item : model_->module().named_modules())
      if (item.key() == name) mixer = std::dynamic_pointer_cast<Mixer>(item.value());
    if (!mixer) return false;
    at::NoGradGuard noGrad;
    *outputs = mixer->headOutputs(x).squeeze(0);
    *values = mixer->values(x).squeeze(0);
    return true;
  }
  double forwardBytes(int64_t) const override { return 0.0; }
  bool byteLevelText() const override { return true; }
  std::string defaultInput(std::size_t) const override { return defaultInputSpec(cfg_.vocabSize, cfg_.maxLength); }

 private:
  void checkLayer(int layer) const {
    if (layer < 0 || layer >= model_->numLayers())
      throw UsageError("layer", {" " + std::to_string(layer) + " is outside 0.." +
                                 std::to_string(model_->numLayers() - 1) + " (" + path_ + ")"});
  }

  ModelConfig cfg_;
  std::unique_ptr<EssLm> model_;
  std::string path_;
};

/// The model_type of config.json text, "" when absent or not parseable (the model readers then
/// report the problem).
std::string modelTypeOf(const std::string& configJson) {
  try {
    auto j = nlohmann::json::parse(configJson);
    if (j.is_object()) {
      auto it = j.find("model_type");
      if (it != j.end() && it->is_string()) return it->get<std::string>();
    }
  } catch (const std::exception&) {
  }
  return "";
}

}  // namespace

std::unique_ptr<LanguageModel> openLanguageModel(const CheckpointFiles& files) {
  const std::string type = modelTypeOf(files.configJson);
  if (!type.empty() && type != "ess-lm") return std::make_unique<HfModel>(files);  // lists supported types
  return std::make_unique<EssLmModel>(files);
}

}  // namespace ess
