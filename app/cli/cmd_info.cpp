// `ess info FILE [--tensors] [--format text|json]`
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_flag.h"
#include "commands.h"
#include "ess/error.h"
#include "ess/model_backend.h"
#include "ess/session.h"
#include "output.h"

namespace ess::cli {

namespace {
/// The tokenizer of a model folder, for `text:` inputs: its file and size, or why it cannot be
/// used; empty when the folder has no tokenizer file.
std::string tokenizerLine(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
  if (!fs::exists(dir / "tokenizer.json", ec) && !fs::exists(dir / "tokenizer.model", ec)) return {};
  try {
    return modelBackend().tokenizerSummary(dir.string());
  } catch (const InputError& e) {
    return "unusable: " + cliMessage(e);
  }
}

std::string shapeText(const std::vector<long>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}
}  // namespace

int runInfo(const std::vector<std::string>& argv) {
  Args a = Args::parse(argv, {"--format", "-o"}, {"--tensors"});
  if (a.positional.size() != 1) throw UsageError("info: expected one FILE");
  refuseOutputOverInput(a.get("-o"), a.positional[0]);
  const std::string format = a.get("--format", "text");
  if (format != "text" && format != "json") throw UsageError("--format: expected text or json, got '" + format + "'");
  const FileSummary s = summarizeFile(a.positional[0]);
  std::ostringstream out;
  if (format == "json") {
    nlohmann::ordered_json j;
    j["file"] = s.info.path;
    j["architecture"] = s.info.architecture;
    j["layers"] = nlohmann::ordered_json::array();
    for (const auto& l : s.info.layers) {
      nlohmann::ordered_json lj;
      lj["index"] = l.index;
      lj["mixer"] = l.mixer;
      lj["heads"] = l.heads;
      lj["value_channels"] = l.valueChannels;
      lj["tss"] = l.tss.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(l.tss);
      if (!l.ssmRemoves.empty()) lj["ssm_removes"] = l.ssmRemoves;
      j["layers"].push_back(lj);
    }
    if (s.info.length > 0) j["length"] = s.info.length;
    if (s.info.needsInput) {
      j["vocab_size"] = s.info.vocabSize;
      j["max_length"] = s.info.maxLength;
      if (const std::string t = tokenizerLine(s.info.path); !t.empty()) j["tokenizer"] = t;
    }
    if (a.has("--tensors")) {
      j["tensors"] = nlohmann::ordered_json::array();
      for (const auto& t : s.tensors)
        j["tensors"].push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}});
    }
    out << j.dump(2) << "\n";
  } else {
    out << "file: " << s.info.path << "\n";
    out << "architecture: " << s.info.architecture << "\n";
    if (s.info.needsInput) {
      out << "vocabulary: " << s.info.vocabSize << ", max length: "
          << (s.info.maxLength > 0 ? std::to_string(s.info.maxLength) : std::string("none (no context limit)")) << "\n";
      if (const std::string t = tokenizerLine(s.info.path); !t.empty()) out << "tokenizer: " << t << "\n";
    }
    if (s.info.length > 0) out << "length: " << s.info.length << "\n";
    out << "layers: " << s.info.layers.size() << "\n";
    for (const auto& l : s.info.layers) {
      out << "  layer " << l.index << ": " << l.mixer << ", " << l.heads << " head(s)";
      if (l.valueChannels > 1) out << " x " << l.valueChannels << " value channels";
      if (!l.tss.empty()) out << ", theoretical state size per head " << l.tss;
      out << "\n";
      if (!l.ssmRemoves.empty()) out << "    --operator ssm leaves out " << l.ssmRemoves << "\n";
    }
    if (a.has("--tensors")) {
      out << "tensors: " << s.tensors.size() << "\n";
      for (const auto& t : s.tensors) out << t.name << " " << t.dtype << " " << shapeText(t.shape) << "\n";
    }
  }
  emit(a.get("-o"), out.str());
  return 0;
}

}  // namespace ess::cli
