// Checkpoint discovery and dispatch: see ess/checkpoint.h.
#include "ess/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "ess/error.h"
#include "ess/input_file.h"
#include "ess/safetensors.h"
#include "ess/torch_checkpoint.h"
#include "math/json_text.h"

namespace ess {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw InputError(path + ": " + what); }

// JSON files beside the weights (config.json, index files) are small; 64 MiB is far above any.
constexpr uint64_t kMaxJsonBytes = uint64_t(64) << 20;

std::string readText(const std::string& path) { return readRegularFile(path, "JSON file", kMaxJsonBytes); }

// How the weights files of one loadCheckpointFiles call are read.
struct Loader {
  TensorLoading loading = TensorLoading::Whole;
  std::map<std::string, SafetensorsFile>* onDemand = nullptr;
};

// readTensorFile, or for a safetensors file with OnDemand loading its shapes (the file kept open).
NamedTensors readWeightsFile(const std::string& path, const Loader& load);

/// `text` with Python's bare JSON constants Infinity and -Infinity (json.dumps writes them, e.g.
/// Mamba-2's time_step_limit [0.0, Infinity]) quoted as strings, so that strict JSON parses it
/// and a field that takes them reads the string.
std::string quotePythonInfinity(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (inString) {
      out += ch;
      if (ch == '\\' && i + 1 < text.size())
        out += text[++i];
      else if (ch == '"')
        inString = false;
      continue;
    }
    if (ch == '"') inString = true;
    const bool minus = ch == '-' && text.compare(i + 1, 8, "Infinity") == 0;
    if (minus || text.compare(i, 8, "Infinity") == 0) {
      out += minus ? "\"-Infinity\"" : "\"Infinity\"";
      i += minus ? 8 : 7;
      continue;
    }
    out += ch;
  }
  return out;
}

// config.json beside the weights; empty when absent. Must be valid JSON once Python's bare
// Infinity is quoted (the text returned has it quoted).
std::string readConfig(const fs::path& dir) {
  const fs::path p = dir / "config.json";
  std::error_code ec;
  if (!fs::exists(p, ec)) return {};  // present but a FIFO or a folder: refused by readText
  std::string text = quotePythonInfinity(readText(p.string()));
  try {
    nlohmann::json parsed = nlohmann::json::parse(text);
    (void)parsed;
  } catch (const std::exception& e) {
    fail(p.string(), std::string("not valid JSON: ") + jsonProblem(e));
  }
  return text;
}

void append(NamedTensors& into, NamedTensors&& from, std::set<std::string>& names, const std::string& file) {
  for (auto& [n, t] : from.tensors) {
    if (!names.insert(n).second) fail(file, "tensor '" + n + "' also appears in another shard");
    into.add(n, std::move(t));
  }
  for (auto& [k, v] : from.metadata) into.metadata.emplace(k, v);  // the first shard wins
}

// A sharded set described by `<name>.index.json` ({"weight_map": {tensor: shard file}}).
NamedTensors readSharded(const fs::path& index, const Loader& load) {
  const std::string ipath = index.string();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(readText(ipath));
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    fail(ipath, std::string("not valid JSON: ") + jsonProblem(e));
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(ipath, "no \"weight_map\" object (not a sharded checkpoint index)");
  std::map<std::string, std::vector<std::string>> byShard;  // sorted: shard 1, 2, ...
  for (auto it = j["weight_map"].begin(); it != j["weight_map"].end(); ++it) {
    if (!it.value().is_string()) fail(ipath, "weight_map entry '" + it.key() + "' is not a file name");
    const std::string shard = it.value().get<std::string>();
    if (shard.empty() || fs::path(shard).is_absolute() || shard.find("..") != std::string::npos)
      fail(ipath, "weight_map entry '" + it.key() + "' names an unsafe file '" + shard + "'");
    byShard[shard].push_back(it.key());
  }
  if (byShard.empty()) fail(ipath, "weight_map is empty");
  const fs::path dir = index.parent_path();
  for (const auto& [shard, _] : byShard) {
    std::error_code ec;
    if (!fs::is_regular_file(dir / shard, ec))
      fail((dir / shard).string(), "shard listed in " + index.filename().string() + " is missing");
  }
  NamedTensors out;
  std::set<std::string> names;
  for (const auto& [shard, expected] : byShard) {
    const std::string spath = (dir / shard).string();
    NamedTensors t = readWeightsFile(spath, load);
    std::set<std::string> have;
    for (const auto& [n, _] : t.tensors) have.insert(n);
    for (const auto& n : expected)
      if (!have.count(n))
        fail(spath, "tensor '" + n + "' listed for this shard in " + index.filename().string() + " is missing");
    append(out, std::move(t), names, spath);
  }
  return out;
}

// `<base>-0000i-of-0000n.safetensors` shards without an index: all n must be present.
std::optional<NamedTensors> readShardsWithoutIndex(const fs::path& dir, const std::vector<std::string>& files,
                                                   const Loader& load) {
  static const std::regex re(R"(^(.+)-(\d{1,6})-of-(\d{1,6})\.safetensors$)");
  for (const auto& f : files) {
    std::smatch m;
    if (!std::regex_match(f, m, re)) continue;
    const std::string base = m[1], total = m[3];
    const int width = static_cast<int>(m[2].length());
    const long n = std::stol(total);
    if (n <= 0 || n > 100000) fail((dir / f).string(), "bad shard count in the file name");
    NamedTensors out;
    std::set<std::string> names;
    std::vector<std::string> shards;
    for (long i = 1; i <= n; ++i) {
      std::string idx = std::to_string(i);
      if (static_cast<int>(idx.size()) < width) idx.insert(0, static_cast<size_t>(width) - idx.size(), '0');
      const fs::path p = dir / (base + "-" + idx + "-of-" + total + ".safetensors");
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) fail(p.string(), "shard " + std::to_string(i) + " of " + total + " is missing");
      shards.push_back(p.string());
    }
    for (const auto& s : shards) append(out, readWeightsFile(s, load), names, s);
    return out;
  }
  return std::nullopt;
}

bool hasExt(const std::string& f, const char* ext) {
  const size_t n = std::strlen(ext);
  return f.size() > n && f.compare(f.size() - n, n, ext) == 0;
}

NamedTensors readFolder(const fs::path& dir, const Loader& load) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) files.push_back(it->path().filename().string());
  if (ec) fail(dir.string(), "cannot list the folder: " + ec.message());
  std::sort(files.begin(), files.end());
  auto has = [&](const std::string& name) { return std::find(files.begin(), files.end(), name) != files.end(); };

  if (has("model.safetensors.index.json")) return readSharded(dir / "model.safetensors.index.json", load);
  if (has("model.safetensors")) return readWeightsFile((dir / "model.safetensors").string(), load);
  if (auto s = readShardsWithoutIndex(dir, files, load)) return std::move(*s);
  if (has("pytorch_model.bin.index.json")) return readSharded(dir / "pytorch_model.bin.index.json", load);
  if (has("pytorch_model.bin")) return readWeightsFile((dir / "pytorch_model.bin").string(), load);
  for (const std::vector<const char*>& exts :
       {std::vector<const char*>{".pt", ".pth", ".bin"}, std::vector<const char*>{".safetensors"}}) {
    std::vector<std::string> found;
    for (const auto& f : files)
      for (const char* e : exts)
        if (hasExt(f, e)) found.push_back(f);
    if (found.size() == 1) return readWeightsFile((dir / found[0]).string(), load);
    if (found.size() > 1) {
      std::string list;
      for (const auto& f : found) list += (list.empty() ? "" : ", ") + f;
      fail(dir.string(), "several weights files (" + list + "); open one of them");
    }
  }
  fail(dir.string(),
       "no checkpoint found (expected model.safetensors, model.safetensors.index.json, "
       "pytorch_model.bin or a .pt/.pth/.safetensors file)");
}

}  // namespace

NamedTensors readTensorFile(const std::string& path) {
  std::string head;
  {
    const InputFile f(path, "tensor file");
    head.resize(static_cast<size_t>(std::min<uint64_t>(12, f.size())));
    f.readAt(head.data(), head.size(), 0, "the first bytes");
  }
  auto byte = [&](size_t k) { return k < head.size() ? static_cast<unsigned char>(head[k]) : 0u; };
  if (head.size() >= 4 && head[0] == 'P' && head[1] == 'K' &&
      ((byte(2) == 3 && byte(3) == 4) || (byte(2) == 5 && byte(3) == 6)))
    return readTorchCheckpoint(path);
  // A safetensors header length can start with 0x80 too; its JSON then starts at byte 8.
  const bool looksSafetensors = head.size() >= 9 && head[8] == '{';
  // The legacy (pre-1.6) format is a pickle (PROTO 2..5) whose first item is a LONG1 magic
  // number; anything else that starts with 0x80 goes to the safetensors reader's messages.
  const bool looksLegacyPickle = byte(0) == 0x80 && byte(1) >= 2 && byte(1) <= 5 && byte(2) == 0x8a;
  if (looksLegacyPickle && !looksSafetensors) return readTorchCheckpoint(path);  // refused there
  const std::string ext = fs::path(path).extension().string();
  if (!looksSafetensors && (ext == ".pt" || ext == ".pth" || ext == ".bin" || ext == ".ckpt"))
    fail(path, head.empty() ? "file is empty (not a PyTorch checkpoint)"
                            : "not a PyTorch checkpoint (no zip signature) nor a safetensors file");
  return readSafetensors(path);
}

namespace {

NamedTensors readWeightsFile(const std::string& path, const Loader& load) {
  if (load.loading == TensorLoading::Whole) return readTensorFile(path);
  std::string head;
  {
    const InputFile f(path, "tensor file");
    head.resize(static_cast<size_t>(std::min<uint64_t>(9, f.size())));
    f.readAt(head.data(), head.size(), 0, "the first bytes");
  }
  if (head.size() < 9 || head[8] != '{') return readTensorFile(path);  // not safetensors: its reader decides
  const SafetensorsFile file(path);
  NamedTensors t = safetensorsShapes(file);
  for (const auto& [name, _] : t.tensors) load.onDemand->insert_or_assign(name, file);
  return t;
}

}  // namespace

at::Tensor readTensor(const CheckpointFiles& files, const std::string& name) {
  auto it = files.onDemand.find(name);
  if (it != files.onDemand.end()) return readTensor(it->second, name);
  const at::Tensor* t = files.tensors.find(name);
  if (!t) throw std::out_of_range("readTensor: no tensor " + name);
  return *t;
}

void readAllTensors(CheckpointFiles& files) {
  if (files.onDemand.empty()) return;
  for (auto& [name, t] : files.tensors.tensors)
    if (files.onDemand.count(name)) t = readTensor(files, name);
  files.onDemand.clear();
}

CheckpointFiles loadCheckpointFiles(const std::string& path, TensorLoading loading) {
  CheckpointFiles cf;
  Loader load{loading, &cf.onDemand};
  cf.path = path;
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) fail(path, "no such file or folder");
  fs::path p(path);
  if (fs::is_directory(st)) {
    cf.configJson = readConfig(p);
    cf.tensors = readFolder(p, load);
  } else {
    fs::path dir = p.parent_path();
    if (dir.empty()) dir = ".";
    if (hasExt(p.filename().string(), ".index.json")) {
      cf.configJson = readConfig(dir);
      cf.tensors = readSharded(p, load);
    } else {
      cf.tensors = readWeightsFile(path, load);
      cf.configJson = readConfig(dir);
    }
  }
  if (cf.configJson.empty()) {
    auto it = cf.tensors.metadata.find("config");
    if (it != cf.tensors.metadata.end()) {
      try {
        nlohmann::json parsed = nlohmann::json::parse(it->second);
        (void)parsed;
        cf.configJson = it->second;
      } catch (const std::exception&) {
        // free-text metadata that is not a config: ignore
      }
    }
  }
  return cf;
}

void convertToSafetensors(const std::string& in, const std::string& out) {
  CheckpointFiles cf = loadCheckpointFiles(in);
  NamedTensors t;
  t.tensors = std::move(cf.tensors.tensors);
  t.metadata = std::move(cf.tensors.metadata);
  fs::path src(in);
  if (src.filename().empty()) src = src.parent_path();
  t.metadata["source"] = src.filename().string();
  if (!cf.configJson.empty()) t.metadata["config"] = cf.configJson;
  writeSafetensors(out, t);
}

}  // namespace ess
