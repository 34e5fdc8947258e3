// The model library's side of ess/model_backend.h: what essmath hands over (models, PyTorch
// checkpoints, conversion, training), registered when libesscore.so is loaded.
#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/mixer_registry.h"
#include "ess/model_backend.h"
#include "ess/tensor_engines.h"
#include "ess/tokenizer.h"
#include "ess/train.h"

namespace ess {

std::unique_ptr<Session> openModelSession(const std::string& path, size_t memoryBudget);  // session.cpp
FileSummary summarizeModelFile(const std::string& path);                                  // session.cpp

namespace {

class TorchModelBackend final : public ModelBackend {
 public:
  std::unique_ptr<Session> openSession(const std::string& path, size_t memoryBudget) const override {
    return openModelSession(path, memoryBudget);
  }
  FileSummary summarize(const std::string& path) const override { return summarizeModelFile(path); }
  void convert(const std::string& in, const std::string& out) const override { convertToSafetensors(in, out); }
  MixerRegistry& mixers() const override { return mixerRegistry(); }
  TrainOptions trainOptions() const override { return TrainOptions(); }
  TrainReport trainMqar(const TrainOptions& options, const std::string& outDir,
                        const std::function<void(int, double)>& log, const std::atomic<bool>* cancel) const override {
    return ess::trainMqar(options, outDir, log, cancel);
  }
  std::string tokenizerSummary(const std::string& folder) const override {
    const auto t = Tokenizer::fromFolder(folder);
    return t->source() + " (" + std::to_string(t->vocabSize()) + " tokens)";
  }
};

const TorchModelBackend backend;

// Loading the library (linked or dlopen'ed) registers it, and its CUDA path of the engine.
const bool registered = [] {
  setLinkedModelBackend(&backend);
  registerCudaEss();
  return true;
}();

}  // namespace

}  // namespace ess

extern "C" const ess::ModelBackend* ess_model_backend() { return &ess::backend; }
