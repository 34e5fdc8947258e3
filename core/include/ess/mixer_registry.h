// The mixer registry: every mixer kind of the ess-lm family (ess/mixer.h) with its factory and the
// integer construction options (sizes) it reads. makeMixer, knownMixerKinds, config.json parsing,
// validation and writing (ess/model.h), TrainOptions (ess/train.h) and the `ess train-mqar` flags
// and their help all read this table, so a new kind is one file plus one registration line
// (docs/architecture.md, "How to add a mixer").
//
// Registration: core/src/mixer/registry.cpp calls one `registerXxx(MixerRegistry&)` per kind,
// in a fixed order, the first time the registry is used (an explicit list, not static initializers,
// whose order across files is unspecified). The table (mixer_table.cpp) is in essmath. An option is
// declared once, by the first kind that reads it; later kinds name it in MixerKind::options. The
// order of declaration is the order of the keys in config.json.
// No LibTorch here: the CLI and the config reader use it without tensors.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace at {
class Generator;
}

namespace ess {

class Mixer;

/// Construction options shared by all kinds (each kind reads the ones it lists in
/// MixerKind::options). The field initializers are the defaults of makeMixer, of config.json
/// and of train-mqar (except options with MixerOption::zeroIsLength, which default to 0 there).
struct MixerOptions {
  bool keyShift = false;  ///< key shift (parameter `k_shift`); only kinds with MixerKind::keyShift
  int window = 16;        ///< sliding_window_attention: positions each output sees (w >= 1)
  int convKernel = 4;     ///< short_conv, mamba: causal convolution length k >= 1
  int stateSize = 16;     ///< mamba2: state size N >= 1 per head; lti_ssm, mamba: n per channel
  int filterLength = 64;  ///< hyena: long filter length l_f >= 1
  int expand = 2;         ///< mamba: inner width E = expand * d_model
  int dtRank = 0;         ///< mamba: rank of the dt projection; 0 = ceil(d_model / 16) (Mamba's "auto")
};

/// One integer option (a size) of the schema.
struct MixerOption {
  std::string key;                     ///< config.json key, e.g. "state_size"
  std::vector<std::string> aliases;    ///< other keys config.json may use (Hugging Face names)
  int MixerOptions::*field = nullptr;  ///< the member of MixerOptions that holds the value
  int minimum = 1;                     ///< smallest value a mixer accepts
  std::string zeroMeans;               ///< with minimum 0: what 0 means, for messages ("automatic")
  /// 0 is accepted in config.json and TrainOptions (and is their default): the layer uses the
  /// sequence length (ModelConfig::maxLength, TrainOptions::length) instead.
  bool zeroIsLength = false;
  std::string metavar;             ///< its value in the usage line, e.g. "N" (the flag is the key's)
  std::string help;                ///< one line for `ess train-mqar --help`
  std::vector<std::string> kinds;  ///< the kinds that read it (filled by addKind)

  int defaultValue() const { return MixerOptions{}.*field; }  ///< makeMixer's default
  /// Default in config.json and TrainOptions: 0 for zeroIsLength options, else defaultValue().
  int configDefault() const { return zeroIsLength ? 0 : defaultValue(); }
  /// Smallest value config.json and TrainOptions accept (0 for zeroIsLength options).
  int configMinimum() const { return zeroIsLength ? 0 : minimum; }
  /// "<name> must be at least <lowest> (0: <meaning>), got <value>", or "" when value >= lowest.
  std::string boundError(const std::string& name, int value, int lowest) const;
};

/// Builds a mixer of one kind with fresh weights (drawn from `gen` when given) from options
/// that the registry has already checked against each option's minimum.
using MixerFactory = std::function<std::shared_ptr<Mixer>(int dModel, int numHeads, const at::Generator* gen,
                                                          const MixerOptions& options)>;

/// One mixer kind.
struct MixerKind {
  std::string name;                  ///< e.g. "gla"; the value in config.json's "mixers"
  std::vector<std::string> options;  ///< keys of the MixerOptions it reads
  bool keyShift = false;             ///< the key shift applies (it has keys, or mamba2's B)
  bool generators = false;           ///< Mixer::generators gives a structured form
  MixerFactory make;
  /// materialize checks the weights (stable decays) and throws InputError naming the channel;
  /// EssLm::fromTensors runs it once so that a bad checkpoint is refused on loading.
  bool checksWeights = false;
};

/// The table of kinds and options. Registration happens once, before the first lookup
/// (registry.cpp); tests may add kinds of their own at start-up. Not thread-safe while adding.
class MixerRegistry {
 public:
  /// Declares an option. Throws std::logic_error when the key (or flag) is already declared.
  void addOption(MixerOption option);
  /// Adds a kind. Throws std::logic_error on a duplicate name or an undeclared option key.
  void addKind(MixerKind kind);

  const std::vector<MixerKind>& kinds() const { return kinds_; }
  const std::vector<MixerOption>& options() const { return options_; }
  const std::vector<std::string>& kindNames() const { return names_; }
  /// nullptr when unknown; pointers stay valid until the next addKind / addOption.
  const MixerKind* findKind(const std::string& name) const;
  const MixerOption* findOption(const std::string& key) const;
  /// "unknown mixer kind 'x' (known kinds: a, b, ...)".
  std::string unknownKindMessage(const std::string& name) const;

 private:
  std::vector<MixerKind> kinds_;
  std::vector<MixerOption> options_;
  std::vector<std::string> names_;
};

/// The registry, filled with the built-in kinds on first use.
MixerRegistry& mixerRegistry();

/// The registered kind names in registration order: softmax_attention, linear_attention, gla,
/// sliding_window_attention, retnet, short_conv, mamba2, hyena, lti_ssm, deltanet, mamba
/// (docs/definitions.md section 6), then any added at run time.
const std::vector<std::string>& knownMixerKinds();

/// MixerOptions with the config.json / train-mqar defaults (MixerOption::configDefault).
MixerOptions mixerConfigDefaults();

}  // namespace ess
