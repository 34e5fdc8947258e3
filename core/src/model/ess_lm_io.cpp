// Saving and loading ess-lm checkpoint directories: config.json + model.safetensors.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ess/error.h"
#include "ess/input_file.h"
#include "ess/model.h"

#include "ess/atomic_file.h"
#include "ess/safetensors.h"

namespace ess {
namespace fs = std::filesystem;

namespace {

void writeTextAtomic(const fs::path& path, const std::string& text) { writeFileAtomically(path.string(), text); }

}  // namespace

void saveEssLm(const EssLm& m, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw InputError(dir + ": cannot create directory");
  writeSafetensors((fs::path(dir) / "model.safetensors").string(), m.stateDict());
  writeTextAtomic(fs::path(dir) / "config.json", m.config().toJson());
}

std::unique_ptr<EssLm> loadEssLm(const std::string& pathIn) {
  fs::path dir(pathIn);
  std::error_code ec;
  if (fs::is_regular_file(dir, ec)) dir = dir.parent_path();
  if (!fs::exists(dir, ec)) throw InputError(pathIn + ": no such file or directory");
  const fs::path cfgPath = dir / "config.json", weightsPath = dir / "model.safetensors";
  if (!fs::exists(cfgPath, ec))
    throw InputError(cfgPath.string() + ": no such file (an ess-lm checkpoint needs config.json)");
  ModelConfig cfg =
      ModelConfig::fromJson(readRegularFile(cfgPath.string(), "JSON file", uint64_t(64) << 20), cfgPath.string());
  if (!fs::exists(weightsPath, ec)) throw InputError(weightsPath.string() + ": no such file");
  NamedTensors w = readSafetensors(weightsPath.string());
  return EssLm::fromTensors(cfg, w, weightsPath.string());
}

}  // namespace ess
