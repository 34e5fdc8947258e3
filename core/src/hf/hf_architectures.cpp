// The Hugging Face architectures this build opens, by config.json `model_type` (as llama.cpp's
// LLM_ARCH table). A new architecture: a family file arch_<name>.cpp defining its HfFamily,
// its declaration in hf_architecture.h, and a row here.
#include "hf/hf_architecture.h"

namespace ess::hf {

namespace {

struct ArchitectureRow {
  const char* modelType;
  const HfFamily* family;
};

// clang-format off
const ArchitectureRow kArchitectures[] = {
    {"gpt2",     &kGpt2Family},
    {"llama",    &kLlamaFamily},
    {"mistral",  &kLlamaFamily},
    {"qwen2",    &kLlamaFamily},
    {"mamba",    &kMambaFamily},
    {"gpt_neox", &kGptNeoxFamily},
    {"phi",      &kPhiFamily},
    {"falcon_mamba", &kFalconMambaFamily},
    {"qwen3",    &kLlamaFamily},
    {"phi3",     &kLlamaFamily},
    {"gemma2",   &kGemma2Family},
    {"gemma3_text", &kGemma2Family},
    {"mamba2",   &kMamba2Family},
    {"gla",      &kGlaFamily},
    {"retnet",   &kGlaFamily},
    {"delta_net", &kDeltaNetFamily},
    {"gated_deltanet", &kDeltaNetFamily},
    {"lfm2",     &kLfm2Family},
    {"jamba",    &kJambaFamily},
    {"recurrent_gemma", &kRecurrentGemmaFamily},
};
// clang-format on

}  // namespace

const HfFamily* findFamily(const std::string& modelType) {
  for (const ArchitectureRow& r : kArchitectures)
    if (modelType == r.modelType) return r.family;
  return nullptr;
}

}  // namespace ess::hf

namespace ess {

const std::vector<std::string>& HfModel::supportedModelTypes() {
  static const std::vector<std::string> types = [] {
    std::vector<std::string> t;
    for (const auto& r : hf::kArchitectures) t.push_back(r.modelType);
    return t;
  }();
  return types;
}

}  // namespace ess
