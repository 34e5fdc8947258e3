// `ess train-mqar`: trains an ess-lm on MQAR and writes a checkpoint directory (docs/definitions.md
// sections 4 and 6). Progress on stderr, a one-line summary on stdout.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli_flag.h"
#include "commands.h"
#include "ess/error.h"
#include "ess/mixer_registry.h"
#include "ess/model_backend.h"
#include "ess/train.h"

namespace ess::cli {

namespace {

// The mixer kinds live in the model library (their factories run LibTorch).
MixerRegistry& mixerRegistry() { return modelBackend().mixers(); }

}  // namespace

int runTrainMqar(const std::vector<std::string>& argv) {
  std::vector<std::string> valued = {"--mixer", "--layers", "--d-model",      "--heads",   "--steps",
                                     "--batch", "--lr",     "--weight-decay", "--length",  "--pairs",
                                     "--vocab", "--seed",   "--eval-samples", "--threads", "--key-shift",
                                     "--out",   "-o",       "--save-every"};
  for (const MixerOption& opt : mixerRegistry().options()) valued.push_back(flagOf(opt.key));
  Args a = Args::parse(argv, valued);
  if (!a.positional.empty()) throw UsageError("train-mqar: unexpected argument '" + a.positional[0] + "'");
  if (!a.has("--mixer")) throw UsageError("train-mqar: --mixer KIND or --mixer KIND1,KIND2 is required");
  const std::string out = a.has("--out") ? a.get("--out") : a.get("-o");
  if (out.empty()) throw UsageError("train-mqar: --out DIR is required");
  // Check the destination before minutes of training: a new or empty folder, never a file,
  // never an existing checkpoint (nothing is overwritten).
  {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(out, ec) && !fs::is_directory(out, ec))
      throw InputError(out + ": exists and is not a folder; --out needs a new or empty folder");
    if (fs::is_directory(out, ec) && !fs::is_empty(out, ec))
      throw InputError(out + ": folder is not empty (it may hold a checkpoint); --out needs a new or empty folder");
    const fs::path parent = fs::absolute(out, ec).parent_path();
    if (!fs::is_directory(parent, ec)) throw InputError(out + ": the folder " + parent.string() + " does not exist");
  }

  TrainOptions o = modelBackend().trainOptions();
  o.mixers.clear();
  std::stringstream ss(a.get("--mixer"));
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) throw UsageError("--mixer: empty kind in '" + a.get("--mixer") + "'");
    o.mixers.push_back(item);
  }
  o.layers = a.getInt("--layers", o.mixers.size() > 1 ? static_cast<int>(o.mixers.size()) : 2);
  if (o.mixers.size() > 1 && o.layers != static_cast<int>(o.mixers.size()))
    throw UsageError("--layers " + std::to_string(o.layers) + " does not match the " + std::to_string(o.mixers.size()) +
                     " kinds given to --mixer");
  o.dModel = a.getInt("--d-model", o.dModel);
  o.heads = a.getInt("--heads", o.heads);
  o.steps = a.getInt("--steps", o.steps);
  o.batch = a.getInt("--batch", o.batch);
  o.lr = a.getDouble("--lr", o.lr);
  o.weightDecay = a.getDouble("--weight-decay", o.weightDecay);
  o.length = a.getInt("--length", o.length);
  o.pairs = a.getInt("--pairs", o.pairs);
  o.vocab = a.getInt("--vocab", o.vocab);
  const int seed = a.getInt("--seed", 0);
  if (seed < 0) throw UsageError("--seed must be >= 0");
  o.seed = static_cast<uint64_t>(seed);
  o.evalSamples = a.getInt("--eval-samples", o.evalSamples);
  o.threads = a.getInt("--threads", 0);
  o.saveEvery = a.getInt("--save-every", 0);
  if (o.saveEvery < 0) throw UsageError("--save-every: expected a number of steps (0 = only the final checkpoint)");
  // Mixer options (go into config.json whatever the kinds); a flag given must reach the
  // option's minimum (filter_length's 0 = sequence length is the default, not a value to give).
  for (const MixerOption& opt : mixerRegistry().options()) {
    const std::string flag = flagOf(opt.key);
    if (!a.has(flag)) continue;
    const int v = a.getInt(flag, 0);
    const std::string error = opt.boundError(flag, v, opt.minimum);
    if (!error.empty()) throw UsageError(error);
    o.*opt.field = v;
  }
  const std::string shift = a.get("--key-shift", "on");
  if (shift != "on" && shift != "off") throw UsageError("--key-shift: expected on or off, got '" + shift + "'");
  o.keyShift = shift == "on";

  for (const auto& k : o.mixers)
    if (!mixerRegistry().findKind(k)) throw UsageError("--mixer: " + mixerRegistry().unknownKindMessage(k));
  std::string kinds;
  for (size_t i = 0; i < o.mixers.size(); ++i) kinds += (i ? "," : "") + o.mixers[i];
  std::fprintf(stderr, "train-mqar: mixers %s, %d layer(s), d_model %d, heads %d, %d steps of batch %d, lr %g\n",
               kinds.c_str(), o.mixers.size() > 1 ? static_cast<int>(o.mixers.size()) : o.layers, o.dModel, o.heads,
               o.steps, o.batch, o.lr);
  TrainReport r = modelBackend().trainMqar(
      o, out,
      [&](int step, double loss) {
        std::fprintf(stderr, "step %d/%d loss %.4f\n", step, o.steps, loss);
        std::fflush(stderr);
      },
      nullptr);
  std::printf(
      "trained %s: held-out MQAR accuracy %.4f (%d samples, chance %.4f), loss %.4f -> %.4f, %d steps, "
      "%.1f s, saved to %s\n",
      kinds.c_str(), r.heldOutAccuracy, o.evalSamples, 1.0 / (o.vocab - o.vocab / 2), r.initialLoss, r.finalLoss,
      r.steps, r.seconds, out.c_str());
  return 0;
}

}  // namespace ess::cli
