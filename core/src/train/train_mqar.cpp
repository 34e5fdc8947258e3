// The MQAR trainer (see ess/train.h).
#include <torch/nn/utils/clip_grad.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "ess/error.h"
#include "ess/model.h"
#include "ess/mqar.h"
#include "ess/train.h"

#include "ess/atomic_file.h"

namespace ess {
namespace fs = std::filesystem;

namespace {

// Seed streams: training batches and held-out samples never share seeds.
constexpr uint64_t kEvalSeedOffset = 0x5EEDE7A1F00DULL;

std::vector<std::string> layerKinds(const TrainOptions& o) {
  std::vector<std::string> kinds = o.mixers;
  if (kinds.empty()) throw UsageError("mixer", {": give a mixer kind or a comma list of kinds"});
  if (kinds.size() == 1) {
    if (o.layers < 1) throw UsageError("layers", {" must be at least 1"});
    kinds.assign(o.layers, kinds[0]);
  }
  for (const auto& k : kinds)
    if (!mixerRegistry().findKind(k)) throw UsageError("mixer", {": " + mixerRegistry().unknownKindMessage(k)});
  return kinds;
}

void validate(const TrainOptions& o) {
  auto positive = [](int v, const char* field) {
    if (v < 1) throw UsageError(field, {" must be at least 1"});
  };
  positive(o.dModel, "d_model");
  positive(o.heads, "heads");
  positive(o.steps, "steps");
  positive(o.batch, "batch");
  positive(o.length, "length");
  positive(o.vocab, "vocab");
  if (o.evalSamples < 1) throw UsageError("evaluation samples must be at least 1");
  if (o.saveEvery < 0) throw UsageError("save_every", {" must not be negative"});
  for (const MixerOption& opt : mixerRegistry().options()) {
    std::string error = opt.boundError("", o.*opt.field, opt.configMinimum());  // " must be ..."
    if (opt.zeroIsLength && !error.empty()) error += " (0: the sequence length)";
    if (!error.empty()) throw UsageError(opt.key, {error});
  }
  if (o.dModel % o.heads != 0)
    throw UsageError("d_model", {" " + std::to_string(o.dModel) + " is not divisible by ", nameOf("heads"),
                                 " " + std::to_string(o.heads)});
  if (!(o.lr > 0) || !std::isfinite(o.lr)) throw UsageError("lr", {" must be a positive number"});
  if (o.weightDecay < 0 || !std::isfinite(o.weightDecay)) throw UsageError("weight decay must be >= 0");
  if (o.mlpHidden < 0) throw UsageError("mlp hidden width must be >= 0");
  MqarSpec spec;
  spec.length = o.length;
  spec.pairs = o.pairs;
  spec.vocab = o.vocab;
  makeMqar(spec);  // throws UsageError for an impossible spec
}

double lrAt(const TrainOptions& o, int step) {  // step 0-based
  const int warm = std::max(1, o.steps / 20);
  if (step < warm) return o.lr * (step + 1) / warm;
  const double p = double(step - warm) / std::max(1, o.steps - warm);
  return o.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * p)));
}

at::Tensor mqarLoss(EssLm& model, const MqarBatch& b) {
  auto logits = model.forward(b.tokens);  // [B, L, V]
  return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), b.targets.reshape({-1}), {}, at::Reduction::Mean,
                                kMqarIgnore);
}

}  // namespace

double mqarAccuracy(EssLm& model, const MqarSpec& spec, int samples) {
  at::NoGradGuard noGrad;
  long correct = 0, total = 0;
  const int chunk = 100;
  for (int first = 0; first < samples; first += chunk) {
    const int n = std::min(chunk, samples - first);
    MqarBatch b = makeMqarBatch(spec, n, first);
    auto pred = model.forward(b.tokens).argmax(-1);
    auto scored = b.targets.ne(kMqarIgnore);
    correct += (pred.eq(b.targets) & scored).sum().item<int64_t>();
    total += scored.sum().item<int64_t>();
  }
  return total ? double(correct) / double(total) : 0.0;
}

TrainReport trainMqar(const TrainOptions& o, const std::string& outDir,
                      const std::function<void(int step, double loss)>& log, const std::atomic<bool>* cancel) {
  const auto kinds = layerKinds(o);
  validate(o);
  if (o.threads > 0) at::set_num_threads(o.threads);
  const auto t0 = std::chrono::steady_clock::now();

  ModelConfig cfg;
  cfg.vocabSize = o.vocab;
  cfg.dModel = o.dModel;
  cfg.numHeads = o.heads;
  cfg.maxLength = o.length;
  cfg.mlpHidden = o.mlpHidden > 0 ? o.mlpHidden : 4 * o.dModel;
  cfg.mixers = kinds;
  static_cast<MixerOptions&>(cfg) = o;
  for (const MixerOption& opt : mixerRegistry().options())
    if (opt.zeroIsLength && cfg.*opt.field == 0) cfg.*opt.field = o.length;
  EssLm model(cfg, o.seed);

  // AdamW; no weight decay on norm weights and biases (1-D tensors).
  std::vector<at::Tensor> decay, noDecay;
  for (auto& p : model.module().parameters()) (p.dim() >= 2 ? decay : noDecay).push_back(p);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(
                                 torch::optim::AdamWOptions(o.lr).weight_decay(o.weightDecay).betas({0.9, 0.98})));
  groups.emplace_back(noDecay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(o.lr).weight_decay(0.0).betas({0.9, 0.98})));
  torch::optim::AdamW opt(std::move(groups));

  MqarSpec trainSpec;
  trainSpec.seed = o.seed;
  trainSpec.length = o.length;
  trainSpec.pairs = o.pairs;
  trainSpec.vocab = o.vocab;

  MqarSpec evalSpec = trainSpec;
  evalSpec.seed = o.seed + kEvalSeedOffset;

  // --save-every: step-<N>/ checkpoints and metrics.jsonl, rewritten whole (atomically) at each save.
  const bool saving = o.saveEvery > 0 && !outDir.empty();
  std::string metricsLines;
  double sinceSaveSum = 0;
  int sinceSave = 0;
  auto saveStep = [&](int step, double loss, double lr) {
    const double accuracy = mqarAccuracy(model, evalSpec, o.evalSamples);
    saveEssLm(model, (fs::path(outDir) / ("step-" + std::to_string(step))).string());
    nlohmann::ordered_json line = {{"step", step},
                                   {"loss", loss},
                                   {"mean_loss", sinceSaveSum / std::max(1, sinceSave)},
                                   {"accuracy", accuracy},
                                   {"lr", lr}};
    metricsLines += line.dump() + "\n";
    writeFileAtomically((fs::path(outDir) / "metrics.jsonl").string(), metricsLines);
    sinceSaveSum = 0;
    sinceSave = 0;
  };

  TrainReport report;
  report.steps = o.steps;
  const int tail = std::min(50, o.steps);
  double tailSum = 0;
  for (int step = 0; step < o.steps; ++step) {
    if (cancel && cancel->load()) throw Cancelled();
    const double lr = lrAt(o, step);
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    MqarBatch b = makeMqarBatch(trainSpec, o.batch, uint64_t(step) * uint64_t(o.batch));
    opt.zero_grad();
    auto loss = mqarLoss(model, b);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(model.module().parameters(), 1.0);
    opt.step();
    const double l = loss.item<double>();
    if (!std::isfinite(l))
      throw InputError("", {"training diverged at step " + std::to_string(step + 1) + " (loss " + std::to_string(l) +
                                "); try a smaller ",
                            nameOf("lr")});
    if (step == 0) report.initialLoss = l;
    if (step >= o.steps - tail) tailSum += l;
    if (log && ((step + 1) % std::max(1, o.logEvery) == 0 || step + 1 == o.steps)) log(step + 1, l);
    sinceSaveSum += l;
    ++sinceSave;
    if (saving && ((step + 1) % o.saveEvery == 0 || step + 1 == o.steps)) saveStep(step + 1, l, lr);
  }
  report.finalLoss = tailSum / tail;

  report.heldOutAccuracy = mqarAccuracy(model, evalSpec, o.evalSamples);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (cancel && cancel->load()) throw Cancelled();

  if (!outDir.empty()) {
    saveEssLm(model, outDir);
    nlohmann::ordered_json j;
    j["task"] = "mqar";
    j["mixers"] = kinds;
    j["held_out_accuracy"] = report.heldOutAccuracy;
    j["held_out_samples"] = o.evalSamples;
    j["chance_accuracy"] = 1.0 / (o.vocab - o.vocab / 2);
    j["initial_loss"] = report.initialLoss;
    j["final_loss"] = report.finalLoss;
    j["steps"] = o.steps;
    j["seconds"] = report.seconds;
    nlohmann::ordered_json options = {{"d_model", o.dModel},
                                      {"heads", o.heads},
                                      {"layers", static_cast<int>(kinds.size())},
                                      {"mlp_hidden", cfg.mlpHidden},
                                      {"batch", o.batch},
                                      {"lr", o.lr},
                                      {"weight_decay", o.weightDecay},
                                      {"length", o.length},
                                      {"pairs", o.pairs},
                                      {"vocab", o.vocab},
                                      {"seed", o.seed},
                                      {"key_shift", o.keyShift}};
    for (const MixerOption& opt : mixerRegistry().options()) options[opt.key] = cfg.*opt.field;
    options["threads"] = o.threads;
    options["save_every"] = o.saveEvery;
    j["options"] = options;
    writeFileAtomically((fs::path(outDir) / "train_report.json").string(), j.dump(2) + "\n");
  }
  return report;
}

}  // namespace ess
