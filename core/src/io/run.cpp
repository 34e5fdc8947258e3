// Training runs (ess/run.h): checkpoint folders by step and the metrics their trainer logged.
#include "ess/run.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ess/error.h"
#include "ess/input_file.h"
#include "math/json_text.h"

namespace ess {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxLogBytes = 256ull << 20;  // trainer_state.json, metrics.jsonl
constexpr uint64_t kMaxListBytes = 64ull << 20;  // a list of checkpoints

// A non-negative decimal integer of at most 18 digits, or -1.
int64_t parseStep(const std::string& s) {
  if (s.empty() || s.size() > 18) return -1;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  return std::stoll(s);
}

bool isNumber(const nlohmann::json& v) { return v.is_number() && !v.is_boolean(); }

// Metrics by step from trainer_state.json's log_history; metricsNote on failure.
void readTrainerState(const std::string& file, TrainingRun& run) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(readRegularFile(file, "trainer state (JSON)", kMaxLogBytes));
  } catch (const InputError& e) {
    run.metricsNote = e.what();
    return;
  } catch (const std::exception& e) {
    run.metricsNote = file + ": not valid JSON (" + jsonProblem(e) + "); the run has no metrics";
    return;
  }
  if (!j.is_object() || !j.contains("log_history") || !j["log_history"].is_array()) {
    run.metricsNote = file + ": has no \"log_history\" list; the run has no metrics";
    return;
  }
  std::map<int64_t, RunMetrics> byStep;
  for (const auto& entry : j["log_history"]) {
    if (!entry.is_object() || !entry.contains("step") || !entry["step"].is_number_integer()) continue;
    const int64_t step = entry["step"].get<int64_t>();
    RunMetrics& m = byStep[step];
    m.step = step;
    for (const auto& [key, value] : entry.items())
      if (key != "step" && isNumber(value)) m.values[key] = value.get<double>();
  }
  for (auto& [step, m] : byStep) run.metrics.push_back(std::move(m));
}

// Metrics from metrics.jsonl (one object with "step" per line); metricsNote on a bad line,
// keeping the lines before it.
void readMetricsJsonl(const std::string& file, TrainingRun& run) {
  std::string text;
  try {
    text = readRegularFile(file, "metrics file (JSON lines)", kMaxLogBytes);
  } catch (const InputError& e) {
    run.metricsNote = e.what();
    return;
  }
  std::map<int64_t, RunMetrics> byStep;
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      run.metricsNote = file + ": line " + std::to_string(n) + ": not valid JSON (" + jsonProblem(e) + ")";
      break;
    }
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) {
      run.metricsNote = file + ": line " + std::to_string(n) + ": expected an object with an integer \"step\"";
      break;
    }
    const int64_t step = j["step"].get<int64_t>();
    RunMetrics& m = byStep[step];
    m.step = step;
    for (const auto& [key, value] : j.items())
      if (key != "step" && isNumber(value)) m.values[key] = value.get<double>();
  }
  for (auto& [step, m] : byStep) run.metrics.push_back(std::move(m));
}

void sortByStep(TrainingRun& run) {
  std::stable_sort(run.checkpoints.begin(), run.checkpoints.end(),
                   [](const RunCheckpoint& a, const RunCheckpoint& b) { return a.step < b.step; });
  for (size_t i = 1; i < run.checkpoints.size(); ++i)
    if (run.checkpoints[i].step == run.checkpoints[i - 1].step)
      throw InputError(run.path + ": two checkpoints of step " + std::to_string(run.checkpoints[i].step) + " (" +
                       run.checkpoints[i - 1].path + " and " + run.checkpoints[i].path + ")");
}

TrainingRun openFolder(const std::string& path) {
  TrainingRun run;
  run.path = path;
  std::error_code ec;
  bool hf = false, essLm = false;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::error_code dirEc;
    if (!entry.is_directory(dirEc)) continue;
    const std::string name = entry.path().filename().string();
    const int64_t step = stepFromCheckpointName(name);
    if (step < 0) continue;
    (name.rfind("checkpoint-", 0) == 0 ? hf : essLm) = true;
    run.checkpoints.push_back({entry.path().string(), name, step});
  }
  if (ec) throw InputError(path + ": cannot list the folder: " + ec.message());
  if (run.checkpoints.empty())
    throw InputError(path +
                     ": holds no checkpoints (a run folder has checkpoint-<step>/ or step-<N>/ folders, "
                     "or name a text file listing checkpoint paths)");
  if (hf && essLm)
    throw InputError(path + ": holds both checkpoint-<step>/ and step-<N>/ folders; list the checkpoints in a file");
  run.kind = hf ? "hf-trainer" : "ess-lm";
  sortByStep(run);
  if (hf) {
    std::string state = (fs::path(path) / "trainer_state.json").string();
    for (auto it = run.checkpoints.rbegin(); !fs::exists(state, ec) && it != run.checkpoints.rend(); ++it)
      state = (fs::path(it->path) / "trainer_state.json").string();
    if (fs::exists(state, ec))
      readTrainerState(state, run);
    else
      run.metricsNote = path + ": no trainer_state.json in the run or its checkpoints; the run has no metrics";
  } else {
    const std::string file = (fs::path(path) / "metrics.jsonl").string();
    if (fs::exists(file, ec))
      readMetricsJsonl(file, run);
    else
      run.metricsNote = file + ": missing; the run has no metrics";
  }
  return run;
}

TrainingRun openList(const std::string& path) {
  TrainingRun run;
  run.path = path;
  run.kind = "list";
  const std::string text = readRegularFile(path, "list of checkpoints", kMaxListBytes);
  if (text.find('\0') != std::string::npos)
    throw InputError(path + ": is not a text file listing checkpoints (a run is a folder or such a list)");
  const fs::path base = fs::path(path).parent_path();
  std::istringstream in(text);
  std::string line;
  bool allSteps = true;
  for (int n = 1; std::getline(in, line); ++n) {
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const size_t b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos) continue;
    line = line.substr(b, e - b + 1);
    std::string listed = line;
    int64_t step = -1;
    if (const size_t sp = line.find_last_of(" \t"); sp != std::string::npos) {
      const int64_t s = parseStep(line.substr(sp + 1));
      if (s >= 0) {
        step = s;
        listed = line.substr(0, line.find_last_not_of(" \t", sp) + 1);
      }
    }
    fs::path p(listed);
    if (p.is_relative()) p = base / p;
    std::error_code ec;
    if (!fs::exists(p, ec))
      throw InputError(path + ": line " + std::to_string(n) + ": " + p.string() + ": no such file or folder");
    if (step < 0) step = stepFromCheckpointName(fs::path(listed).lexically_normal().filename().string());
    if (step < 0) allSteps = false;
    run.checkpoints.push_back({p.lexically_normal().string(), listed, step});
  }
  if (run.checkpoints.empty()) throw InputError(path + ": lists no checkpoints (one path per line, optional step)");
  if (allSteps) sortByStep(run);
  run.metricsNote = path + ": a list of checkpoints logs no metrics";
  return run;
}

}  // namespace

int64_t stepFromCheckpointName(const std::string& name) {
  for (const char* prefix : {"checkpoint-", "step-"}) {
    const std::string p = prefix;
    if (name.rfind(p, 0) == 0) return parseStep(name.substr(p.size()));
  }
  return -1;
}

std::vector<std::string> TrainingRun::metricNames() const {
  std::set<std::string> names;
  for (const RunMetrics& m : metrics)
    for (const auto& [key, value] : m.values) names.insert(key);
  return {names.begin(), names.end()};
}

TrainingRun openTrainingRun(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw InputError(path + ": no such file or folder");
  if (fs::is_directory(st)) return openFolder(path);
  return openList(path);
}

}  // namespace ess
