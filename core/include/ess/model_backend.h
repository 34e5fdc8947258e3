// The model library (esscore: LibTorch, checkpoints, models, trainer) seen from the math library
// (essmath), so that programs link LibTorch only when they open a model. The `ess` CLI and the
// GUI link essmath alone: operator and generator files are handled here without LibTorch, and
// the model library (libesscore.so) is loaded with dlopen the first time modelBackend() is
// called (a model folder, a .pt/.pth/.bin, `convert`, `train-mqar`, `--device cuda`).
// Programs that link esscore directly (the tests) use it as linked: the library registers
// itself when it is loaded (setLinkedModelBackend).
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "ess/session.h"
#include "ess/train.h"

namespace ess {

class MixerRegistry;

/// What the model library offers; one instance, living as long as the process.
class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  /// Session::open for any path (checkpoint folders, PyTorch and safetensors files); same errors.
  virtual std::unique_ptr<Session> openSession(const std::string& path, size_t memoryBudget) const = 0;
  /// summarizeFile for any path; same errors.
  virtual FileSummary summarize(const std::string& path) const = 0;
  /// convertToSafetensors (ess/checkpoint.h).
  virtual void convert(const std::string& in, const std::string& out) const = 0;
  /// The mixer kinds and their options (ess/mixer_registry.h mixerRegistry()).
  virtual MixerRegistry& mixers() const = 0;
  /// TrainOptions with the registry's defaults (TrainOptions()).
  virtual TrainOptions trainOptions() const = 0;
  /// trainMqar (ess/train.h).
  virtual TrainReport trainMqar(const TrainOptions& options, const std::string& outDir,
                                const std::function<void(int step, double loss)>& log,
                                const std::atomic<bool>* cancel) const = 0;
  /// The tokenizer of a model folder (Tokenizer::fromFolder): "<source> (<N> tokens)".
  /// Throws InputError when it cannot be read.
  virtual std::string tokenizerSummary(const std::string& folder) const = 0;
};

/// The model library: the linked one, else libesscore.so loaded from the path named by the
/// environment variable ESS_MODELS_LIBRARY or, without it, the path it was built at.
/// Throws InputError("the model library (LibTorch) could not be loaded: <dlerror text>; ...")
/// when it is missing or fails to load. Thread-safe.
const ModelBackend& modelBackend();

/// Called by the model library when it is loaded (a static initializer).
void setLinkedModelBackend(const ModelBackend* backend);

}  // namespace ess

/// The model library's entry point, looked up with dlsym after dlopen.
extern "C" const ess::ModelBackend* ess_model_backend();
