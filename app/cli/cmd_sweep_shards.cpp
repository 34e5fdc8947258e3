// The work folder of `ess sweep`: plan, shards with end markers, failures.
#include "cmd_sweep_shards.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ess/atomic_file.h"
#include "ess/error.h"
#include "ess/input_file.h"

namespace ess::cli::sweep {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxShardBytes = 1ull << 30;
constexpr const char* kEndMarker = "# end rows=";

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string numbered(const std::string& prefix, int shard, const std::string& ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%05d", shard);
  return prefix + buf + ext;
}

}  // namespace

std::string Plan::toJson() const {
  nlohmann::ordered_json j;
  j["format"] = "ess-sweep";
  j["version"] = 1;
  j["run"] = run;
  j["checkpoints"] = nlohmann::ordered_json::array();
  for (const Checkpoint& c : checkpoints)
    j["checkpoints"].push_back({{"name", c.name}, {"path", c.path}, {"step", c.step}});
  j["inputs"] = inputs;
  j["layer"] = layer;
  j["head"] = head;
  j["options"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : options) j["options"][k] = v;
  j["shards"] = shardCount();
  return j.dump(2) + "\n";
}

Plan Plan::fromJson(const std::string& text, const std::string& file) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    if (j.value("format", "") != "ess-sweep")
      throw InputError(file + ": is not a sweep description (no \"format\": \"ess-sweep\")");
    if (j.value("version", 0) != 1) throw InputError(file + ": sweep description of an unknown version");
    Plan p;
    p.run = j.at("run").get<std::string>();
    for (const auto& c : j.at("checkpoints"))
      p.checkpoints.push_back(
          {c.at("name").get<std::string>(), c.at("path").get<std::string>(), c.at("step").get<int64_t>()});
    p.inputs = j.at("inputs").get<std::vector<std::string>>();
    p.layer = j.at("layer").get<std::string>();
    p.head = j.at("head").get<std::string>();
    p.options = j.at("options").get<std::map<std::string, std::string>>();
    if (p.checkpoints.empty() || p.inputs.empty()) throw InputError(file + ": the sweep has no checkpoints or inputs");
    return p;
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(file + ": not a readable sweep description (" + std::string(e.what()).substr(0, 200) + ")");
  }
}

std::string WorkDir::planPath() const { return (fs::path(dir_) / "sweep.json").string(); }
std::string WorkDir::shardPath(int shard) const {
  return (fs::path(dir_) / numbered("shards/shard-", shard, ".csv")).string();
}
std::string WorkDir::errorPath(int shard) const {
  return (fs::path(dir_) / numbered("shards/shard-", shard, ".error")).string();
}
std::string WorkDir::scriptPath() const { return (fs::path(dir_) / "sweep.sbatch").string(); }
std::string WorkDir::jobPath() const { return (fs::path(dir_) / "slurm_job").string(); }
std::string WorkDir::logDir() const { return (fs::path(dir_) / "logs").string(); }

std::optional<Plan> WorkDir::readPlan() const {
  std::error_code ec;
  if (!fs::exists(planPath(), ec)) return std::nullopt;
  return Plan::fromJson(readRegularFile(planPath(), "sweep description (JSON)", 256ull << 20), planPath());
}

void WorkDir::adopt(const Plan& plan) const {
  std::error_code ec;
  if (fs::exists(dir_, ec) && !fs::is_directory(dir_, ec))
    throw InputError(dir_ + ": --work names a file, not a folder");
  if (const std::optional<Plan> old = readPlan()) {
    if (old->toJson() != plan.toJson())
      throw InputError(dir_ + ": holds another sweep (" + planPath() +
                       " differs: other checkpoints, inputs, layers, heads or options); use a new --work folder");
  } else {
    fs::create_directories(fs::path(dir_) / "shards", ec);
    if (ec) throw InputError(dir_ + ": cannot create the work folder: " + ec.message());
    writeFileAtomically(planPath(), plan.toJson());
  }
  fs::create_directories(fs::path(dir_) / "shards", ec);
  if (ec) throw InputError(dir_ + ": cannot create the work folder: " + ec.message());
}

std::string shardText(const std::string& rows) {
  const std::string body = std::string(kShardHeader) + "\n" + rows;
  size_t n = 0;
  for (char c : rows) n += c == '\n';
  return body + kEndMarker + std::to_string(n) + " fnv1a64=" + hex(fnv1a64(body)) + "\n";
}

std::optional<std::string> shardRows(const std::string& text, std::string* problem) {
  auto fail = [&](const std::string& why) -> std::optional<std::string> {
    if (problem) *problem = why;
    return std::nullopt;
  };
  if (text.empty() || text.back() != '\n') return fail("truncated (no end marker)");
  const size_t lineStart = text.rfind('\n', text.size() - 2);
  const size_t start = lineStart == std::string::npos ? 0 : lineStart + 1;
  const std::string last = text.substr(start, text.size() - 1 - start);
  if (last.rfind(kEndMarker, 0) != 0) return fail("truncated (no end marker)");
  const std::string body = text.substr(0, start);
  const std::string header = std::string(kShardHeader) + "\n";
  if (body.rfind(header, 0) != 0) return fail("not a shard (wrong header)");
  const std::string rows = body.substr(header.size());
  size_t n = 0;
  for (char c : rows) n += c == '\n';
  if (last != std::string(kEndMarker) + std::to_string(n) + " fnv1a64=" + hex(fnv1a64(body)))
    return fail("damaged (its row count or checksum does not match its end marker)");
  return rows;
}

std::optional<std::string> WorkDir::readShard(int shard, std::string* problem) const {
  std::error_code ec;
  const std::string path = shardPath(shard);
  if (!fs::exists(path, ec)) return std::nullopt;
  std::string text;
  try {
    text = readRegularFile(path, "sweep shard", kMaxShardBytes);
  } catch (const InputError& e) {
    if (problem) *problem = e.what();
    return std::nullopt;
  }
  return shardRows(text, problem);
}

void WorkDir::writeShard(int shard, const std::string& rows) const {
  writeFileAtomically(shardPath(shard), shardText(rows));
}

void WorkDir::writeError(int shard, const std::string& message) const {
  writeFileAtomically(errorPath(shard), message + "\n");
}

void WorkDir::clearError(int shard) const {
  std::error_code ec;
  fs::remove(errorPath(shard), ec);
}

std::string WorkDir::errorOf(int shard) const {
  std::error_code ec;
  if (!fs::exists(errorPath(shard), ec)) return "";
  try {
    std::string s = readRegularFile(errorPath(shard), "shard error", 1 << 20);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  } catch (const InputError& e) {
    return e.what();
  }
}

}  // namespace ess::cli::sweep
