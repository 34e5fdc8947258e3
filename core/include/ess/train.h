// The MQAR trainer: trains a fresh ess-lm (ess/model.h) on multi-query associative recall
// (ess/mqar.h) with LibTorch autograd and AdamW, then writes the checkpoint directory
// (saveEssLm) and dir/train_report.json. Used by `ess train-mqar` (docs/definitions.md section 6) and to
// make the bundled demo checkpoints in resources/demo/.
//
// Each step draws a fresh batch of MQAR samples (seed stream `seed`); the loss is the mean
// cross-entropy over scored positions only. LR: linear warmup over the first 5% of steps, then
// cosine decay to 10% of `lr`; gradients clipped to norm 1. Held-out accuracy: argmax
// predictions on `evalSamples` fresh samples from a different seed stream, counting scored
// positions only.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ess/mixer_registry.h"

namespace ess {

/// The mixer options (MixerOptions: key shift and the registry's per-kind sizes) go into
/// config.json (ess/model.h ModelConfig); their defaults are mixerConfigDefaults() with the key
/// shift on (it makes MQAR quick to learn); options with MixerOption::zeroIsLength (hyena's
/// filter_length) default to 0, which means `length`.
struct TrainOptions : MixerOptions {
  TrainOptions() : MixerOptions(mixerConfigDefaults()) { keyShift = true; }

  std::vector<std::string> mixers = {"softmax_attention", "gla"};  ///< one per layer, or one kind for all
  int layers = 2;                                                  ///< used when `mixers` holds a single kind
  int dModel = 64;
  int heads = 2;
  int mlpHidden = 0;  ///< 0 = 4*dModel
  int steps = 2000;
  int batch = 64;
  double lr = 3e-3;
  double weightDecay = 0.1;
  int length = 64;
  int pairs = 8;
  int vocab = 64;
  uint64_t seed = 0;
  int evalSamples = 500;
  int logEvery = 50;  ///< call `log` every this many steps (and at the last step)
  int threads = 0;    ///< intra-op threads for LibTorch; 0 = leave the default
  /// Every this many steps (and at the last step) save `outDir/step-<N>/` and append a line
  /// {"step", "loss", "mean_loss", "accuracy", "lr"} to `outDir/metrics.jsonl` (ess/run.h): the
  /// step's loss, the mean loss since the previous save, held-out accuracy on `evalSamples`
  /// samples and the learning rate. 0 = only the final checkpoint.
  int saveEvery = 0;
};

struct TrainReport {
  double initialLoss = 0;      ///< loss of the first step
  double finalLoss = 0;        ///< mean loss of the last min(50, steps) steps
  double heldOutAccuracy = 0;  ///< in [0, 1]
  int steps = 0;
  double seconds = 0;
};

/// Trains and saves to `outDir` (created; config.json, model.safetensors, train_report.json;
/// with `saveEvery`, the step-<N>/ checkpoints and metrics.jsonl of a run beside them).
/// An empty `outDir` trains without saving. `log(step, loss)` is called every logEvery steps
/// (step is 1-based). Raising `*cancel` stops with Cancelled and writes nothing.
/// Throws UsageError on bad options (unknown mixer kind, non-positive sizes, a mixer option below
/// MixerOption::configMinimum, named by its flag, an impossible MQAR spec, d_model not divisible
/// by heads, layers not matching the mixer list).
TrainReport trainMqar(const TrainOptions& options, const std::string& outDir,
                      const std::function<void(int step, double loss)>& log = {},
                      const std::atomic<bool>* cancel = nullptr);

/// Held-out MQAR accuracy of `model` (argmax, no gradients) on `samples` samples of `spec`
/// (scored positions only).
class EssLm;
struct MqarSpec;
double mqarAccuracy(EssLm& model, const MqarSpec& spec, int samples);

}  // namespace ess
