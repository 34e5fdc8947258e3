// `ess sweep RUN_OR_LIST`: ESS of every checkpoint x input x layer x head of a training run in
// one process, as one tidy table (docs/definitions.md section 7). Each checkpoint x input is a
// shard computed exactly as `ess curve` computes it (the same session and options); with
// `--work DIR` shards are written there as they finish, so a rerun skips them, `--jobs N`
// computes N at once, `--slurm` submits them as a job array and `--collect` merges them.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>

#include "cli_flag.h"
#include "cmd_sweep_shards.h"
#include "cmd_sweep_slurm.h"
#include "commands.h"
#include "ess/aggregate.h"
#include "ess/error.h"
#include "ess/run.h"
#include "ess/view_policy.h"
#include "output.h"
#include "session_options.h"

namespace ess::cli {

namespace {

namespace fs = std::filesystem;
using sweep::Plan;
using sweep::WorkDir;

// The options of `ess curve` that change the numbers; they are part of the plan.
const std::vector<std::string> kPlanOptions = {"--tolerance", "--normalization", "--splits",
                                               "--dtype",     "--device",        "--algorithm",
                                               "--metric",    "--memory-budget", "--operator"};

// Layers from `all`, `N`, `A:B` (inclusive) or `N,M,...` within 0..count-1.
std::vector<int> layersFrom(const std::string& spec, int count) {
  std::vector<int> out;
  auto number = [&](const std::string& s) {
    size_t used = 0;
    int v = -1;
    try {
      v = std::stoi(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size() || v < 0)
      throw UsageError("--layer: expected all, N, A:B or N,M,..., got '" + spec + "'");
    if (v >= count) throw UsageError("--layer " + std::to_string(v) + " is outside 0.." + std::to_string(count - 1));
    return v;
  };
  if (spec == "all") {
    for (int i = 0; i < count; ++i) out.push_back(i);
  } else if (const size_t colon = spec.find(':'); colon != std::string::npos) {
    const int a = number(spec.substr(0, colon)), b = number(spec.substr(colon + 1));
    if (a > b) throw UsageError("--layer: " + spec + " is empty (A:B needs A <= B)");
    for (int i = a; i <= b; ++i) out.push_back(i);
  } else {
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(number(item));
  }
  return out;
}

// The rows of one shard, as `ess curve` computes them for its checkpoint and input.
std::string computeShard(const Plan& plan, int shard) {
  Args a;
  a.options = plan.options;
  if (!plan.inputOf(shard).empty()) a.options["--input"] = plan.inputOf(shard);
  const EssOptions options = essOptionsFrom(a);
  auto session = openWithInput(plan.checkpointOf(shard).path, a);
  const SourceInfo& info = session->info();
  if (info.layers.empty())
    throw InputError(info.path + ": holds no operator or model layers (" + info.description + ")");
  const std::vector<int> layers = layersFrom(plan.layer, static_cast<int>(info.layers.size()));
  const bool total = plan.head == "total";
  std::vector<std::vector<int>> headsOf;
  for (int layer : layers)
    headsOf.push_back(parseHeadRange(total ? "all" : plan.head, info.layers[layer].heads, layer));
  const std::string metric = plan.options.count("--metric") ? plan.options.at("--metric") : "both";
  const bool wantTol = metric != "entropy", wantEnt = metric != "tolerance";
  std::ostringstream rows;
  for (size_t li = 0; li < layers.size(); ++li) {
    const int layer = layers[li];
    const CurveData c = session->curve(layer, options);
    auto at = [](const std::vector<std::vector<double>>& v, size_t h, size_t i) {
      return h < v.size() && i < v[h].size() ? v[h][i] : std::nan("");
    };
    if (total) {
      const HeadTotal t = sumHeads(c, info.layers[layer], headsOf[li]);
      for (size_t i = 0; i < t.splits.size(); ++i)
        rows << layer << ",total," << t.splits[i] << ',' << (wantTol ? formatNumber(t.tolerance[i]) : "") << ','
             << (wantEnt ? formatNumber(t.entropy[i]) : "") << ',' << formatNumber(t.tss[i]) << '\n';
    } else {
      for (int h : headsOf[li])
        for (size_t i = 0; i < c.splits.size(); ++i)
          rows << layer << ',' << h << ',' << c.splits[i] << ',' << (wantTol ? formatNumber(at(c.tolerance, h, i)) : "")
               << ',' << (wantEnt ? formatNumber(at(c.entropy, h, i)) : "") << ',' << formatNumber(at(c.tss, h, i))
               << '\n';
    }
  }
  return rows.str();
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::vector<std::string> splitCsv(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  std::string item;
  while (std::getline(ss, item, ',')) f.push_back(item);
  if (!line.empty() && line.back() == ',') f.emplace_back();
  return f;
}

nlohmann::ordered_json jsonNumber(const std::string& s) {
  return s.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(std::stod(s));
}

// The table of every shard's rows: tidy (one row per split) or, with `mean`, one row per
// checkpoint, input, layer and head with the means over splits (NaN left out).
std::string table(const Plan& plan, const std::vector<std::string>& shardRows, bool mean, bool json) {
  std::ostringstream csv;
  nlohmann::ordered_json rowsJson = nlohmann::ordered_json::array();
  csv << "checkpoint,step,input,layer,head" << (mean ? "" : ",split") << ",tolerance_ess,entropy_ess,tss\n";
  for (int s = 0; s < plan.shardCount(); ++s) {
    const sweep::Checkpoint& c = plan.checkpointOf(s);
    const std::string step = c.step >= 0 ? std::to_string(c.step) : "";
    const std::string lead = csvField(c.name) + "," + step + "," + csvField(plan.inputOf(s)) + ",";
    auto jsonLead = [&] {
      nlohmann::ordered_json j;
      j["checkpoint"] = c.name;
      j["step"] = c.step >= 0 ? nlohmann::ordered_json(c.step) : nlohmann::ordered_json();
      j["input"] = plan.inputOf(s);
      return j;
    };
    std::istringstream in(shardRows[s]);
    std::string line;
    // --summary mean: sums per (layer, head) in the order they first appear.
    std::vector<std::pair<std::string, std::array<std::pair<double, int>, 3>>> groups;
    while (std::getline(in, line)) {
      const std::vector<std::string> f = splitCsv(line);  // layer,head,split,tol,ent,tss
      if (f.size() != 6) throw InputError("a sweep shard row has " + std::to_string(f.size()) + " fields: " + line);
      if (mean) {
        const std::string key = f[0] + "," + f[1];
        if (groups.empty() || groups.back().first != key) groups.push_back({key, {}});
        for (int k = 0; k < 3; ++k)
          if (!f[3 + k].empty()) {
            groups.back().second[k].first += std::stod(f[3 + k]);
            groups.back().second[k].second += 1;
          }
        continue;
      }
      if (json) {
        nlohmann::ordered_json j = jsonLead();
        j["layer"] = std::stoi(f[0]);
        j["head"] = f[1] == "total" ? nlohmann::ordered_json("total") : nlohmann::ordered_json(std::stoi(f[1]));
        j["split"] = std::stoi(f[2]);
        j["tolerance_ess"] = jsonNumber(f[3]);
        j["entropy_ess"] = jsonNumber(f[4]);
        j["tss"] = jsonNumber(f[5]);
        rowsJson.push_back(j);
      } else {
        csv << lead << line << '\n';
      }
    }
    for (const auto& [key, sums] : groups) {
      const std::vector<std::string> lh = splitCsv(key);
      std::string means[3];
      for (int k = 0; k < 3; ++k) means[k] = sums[k].second ? formatNumber(sums[k].first / sums[k].second) : "";
      if (json) {
        nlohmann::ordered_json j = jsonLead();
        j["layer"] = std::stoi(lh[0]);
        j["head"] = lh[1] == "total" ? nlohmann::ordered_json("total") : nlohmann::ordered_json(std::stoi(lh[1]));
        j["tolerance_ess"] = jsonNumber(means[0]);
        j["entropy_ess"] = jsonNumber(means[1]);
        j["tss"] = jsonNumber(means[2]);
        rowsJson.push_back(j);
      } else {
        csv << lead << key << ',' << means[0] << ',' << means[1] << ',' << means[2] << '\n';
      }
    }
  }
  if (!json) return csv.str();
  nlohmann::ordered_json j;
  j["run"] = plan.run;
  j["summary"] = mean ? "mean" : "none";
  j["options"] = plan.options;
  j["rows"] = rowsJson;
  return j.dump(2) + "\n";
}

std::string clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// Progress on stderr: a bar redrawn in place on a terminal, one line per finished shard otherwise.
class Progress {
 public:
  Progress(int total, int skipped) : total_(total), done_(skipped), skipped_(skipped), tty_(isatty(2) != 0) {
    if (skipped_ > 0) std::fprintf(stderr, "sweep: %d of %d shard(s) already finished, skipped\n", skipped_, total_);
  }
  void finished(const std::string& what, bool ok) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++done_;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const int computed = done_ - skipped_;
    const double rate = elapsed > 0 ? computed / elapsed : 0;
    const double eta = rate > 0 ? (total_ - done_) / rate : NAN;
    if (tty_) {
      const int width = 30, filled = total_ ? width * done_ / total_ : width;
      std::fprintf(stderr, "\r%ssweep [%s%s] %d/%d shards  %.2f/s  ETA %s ", ok ? "" : "(failed: see below) ",
                   std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done_, total_, rate,
                   clock(eta).c_str());
      if (done_ == total_) std::fputs("\n", stderr);
    } else {
      std::fprintf(stderr, "sweep: %d/%d %s %s (%.2f shards/s, ETA %s)\n", done_, total_, what.c_str(),
                   ok ? "done" : "FAILED", rate, clock(eta).c_str());
    }
    std::fflush(stderr);
  }

 private:
  std::mutex mutex_;
  int total_, done_, skipped_;
  bool tty_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Inclusive shard range A:B within 0..count-1.
std::pair<int, int> shardRange(const std::string& spec, int count) {
  const size_t colon = spec.find(':');
  int a = -1, b = -1;
  try {
    size_t u1 = 0, u2 = 0;
    const std::string sa = spec.substr(0, colon), sb = colon == std::string::npos ? sa : spec.substr(colon + 1);
    a = std::stoi(sa, &u1);
    b = std::stoi(sb, &u2);
    if (u1 != sa.size() || u2 != sb.size()) a = -1;
  } catch (const std::exception&) {
    a = -1;
  }
  if (a < 0 || b < a || b >= count)
    throw UsageError("--shards: expected A:B within 0.." + std::to_string(count - 1) + ", got '" + spec + "'");
  return {a, b};
}

std::string describe(const Plan& plan, int shard) {
  std::string d = "shard " + std::to_string(shard) + " (" + plan.checkpointOf(shard).name;
  if (!plan.inputOf(shard).empty()) d += ", " + plan.inputOf(shard);
  return d + ")";
}

// The message of a failed shard, one line (LibTorch may add a backtrace).
std::string oneLine(const std::exception& e) {
  std::string m = cliMessage(e);
  return m.substr(0, m.find('\n'));
}

}  // namespace

int runSweep(const std::vector<std::string>& argvIn) {
  // --input may be given once per input.
  std::vector<std::string> argv, inputs;
  for (size_t i = 0; i < argvIn.size(); ++i) {
    if (argvIn[i] == "--input") {
      if (i + 1 >= argvIn.size()) throw UsageError("--input: missing value");
      inputs.push_back(argvIn[++i]);
    } else if (argvIn[i].rfind("--input=", 0) == 0) {
      inputs.push_back(argvIn[i].substr(8));
    } else {
      argv.push_back(argvIn[i]);
    }
  }
  for (const std::string& in : inputs)
    if (in.empty()) throw UsageError("--input: empty value");
  std::vector<std::string> valued = computeOptionNames();
  for (const char* o : {"--work", "--jobs", "--summary", "--shards", "--partition", "--time", "--cpus-per-task",
                        "--max-parallel", "--shards-per-task"})
    valued.push_back(o);
  const Args a = Args::parse(argv, valued, {"--collect", "--slurm"});
  if (a.positional.size() > 1)
    throw UsageError("sweep: expected one RUN_OR_LIST, got " + std::to_string(a.positional.size()));
  const std::string format = a.get("--format", "csv");
  if (format != "csv" && format != "json") throw UsageError("--format: expected csv or json, got '" + format + "'");
  const std::string summary = a.get("--summary", "none");
  if (summary != "none" && summary != "mean")
    throw UsageError("--summary: expected mean or none, got '" + summary + "'");
  const int jobs = a.getInt("--jobs", 1);
  if (jobs < 1 || jobs > 256) throw UsageError("--jobs: expected 1..256, got " + a.get("--jobs"));
  const bool collect = a.has("--collect"), slurm = a.has("--slurm");
  const std::string workPath = a.get("--work", "");
  for (const char* o : {"--partition", "--time", "--cpus-per-task", "--max-parallel", "--shards-per-task"})
    if (a.has(o) && !slurm) throw UsageError(std::string(o) + ": only with --slurm");
  if (slurm && workPath.empty()) throw UsageError("--slurm needs --work DIR on a file system the nodes share");
  if (slurm && (a.has("--jobs") || a.has("--shards") || collect))
    throw UsageError("--slurm: not with --jobs, --shards or --collect (--max-parallel limits the array tasks)");
  if (a.has("--shards") && workPath.empty()) throw UsageError("--shards needs --work DIR");
  if (collect && workPath.empty()) throw UsageError("--collect needs --work DIR");
  const WorkDir work(workPath);

  // The plan: from RUN_OR_LIST and the options, or the one already in --work DIR.
  Plan plan;
  if (!a.positional.empty()) {
    if (collect) throw UsageError("--collect takes --work DIR, not a run");
    const TrainingRun run = openTrainingRun(a.positional[0]);
    plan.run = fs::absolute(run.path).lexically_normal().string();
    for (const RunCheckpoint& c : run.checkpoints)
      plan.checkpoints.push_back({c.name, fs::absolute(c.path).lexically_normal().string(), c.step});
    plan.inputs = inputs.empty() ? std::vector<std::string>{""} : inputs;
    plan.layer = a.get("--layer", "all");
    plan.head = a.get("--head", "all");
    for (const std::string& o : kPlanOptions)
      if (a.has(o)) plan.options[o] = a.get(o);
    // Usage errors now, not in every shard.
    Args check;
    check.options = plan.options;
    essOptionsFrom(check);
    if (plan.layer != "all") layersFrom(plan.layer, 1 << 20);
    if (plan.head != "total" && plan.head != "all") parseHeadRange(plan.head, 1 << 16, 0);
    const std::string metric = a.get("--metric", "both");
    if (metric != "tolerance" && metric != "entropy" && metric != "both")
      throw UsageError("--metric: expected tolerance, entropy or both, got '" + metric + "'");
    if (!workPath.empty()) work.adopt(plan);
  } else {
    if (workPath.empty()) throw UsageError("sweep: expected a RUN_OR_LIST (or --work DIR of a sweep begun before)");
    for (const char* o : {"--layer", "--head", "--tolerance", "--normalization", "--splits", "--dtype", "--device",
                          "--algorithm", "--metric", "--memory-budget", "--operator"})
      if (a.has(o)) throw UsageError(std::string(o) + ": the sweep in --work " + workPath + " fixes it already");
    if (!inputs.empty()) throw UsageError("--input: the sweep in --work " + workPath + " fixes it already");
    const std::optional<Plan> p = work.readPlan();
    if (!p) throw InputError(workPath + ": holds no sweep (no sweep.json); start one with ess sweep RUN --work DIR");
    plan = *p;
  }
  const int count = plan.shardCount();

  if (slurm) {
    sweep::SlurmRequest r;
    r.partition = a.get("--partition", "");
    r.time = a.get("--time", "");
    r.cpusPerTask = a.getInt("--cpus-per-task", 0);
    r.maxParallel = a.getInt("--max-parallel", 0);
    r.shardsPerTask = a.getInt("--shards-per-task", 1);
    if (r.cpusPerTask < 0 || r.maxParallel < 0)
      throw UsageError("--cpus-per-task and --max-parallel must not be negative");
    if (r.shardsPerTask < 1) throw UsageError("--shards-per-task: expected at least 1");
    const std::string id = sweep::submitSlurm(work, plan, r);
    std::printf("%s\n", id.c_str());
    std::fprintf(stderr,
                 "sweep: submitted job %s (%d shard(s) in %d array task(s), logs in %s); when it has finished: "
                 "ess sweep --collect --work %s -o results.csv\n",
                 id.c_str(), count, (count + r.shardsPerTask - 1) / r.shardsPerTask, work.logDir().c_str(),
                 workPath.c_str());
    return 0;
  }

  std::vector<std::string> rows(static_cast<size_t>(count));
  if (collect) {
    std::vector<std::string> missing;
    for (int s = 0; s < count; ++s) {
      std::string problem;
      if (auto r = work.readShard(s, &problem)) {
        rows[s] = *r;
        continue;
      }
      std::string line = describe(plan, s) + ": ";
      const std::string error = work.errorOf(s);
      line += !error.empty() ? "failed: " + error : !problem.empty() ? work.shardPath(s) + " " + problem : "missing";
      const std::string log = sweep::slurmLogOf(work, s);
      if (!log.empty()) line += " (Slurm log " + log + ")";
      missing.push_back(line);
    }
    if (!missing.empty()) {
      for (const std::string& m : missing) std::fprintf(stderr, "sweep: %s\n", m.c_str());
      throw InputError(workPath + ": " + std::to_string(missing.size()) + " of " + std::to_string(count) +
                       " shard(s) missing or failed (listed above); rerun `ess sweep --work " + workPath +
                       "` to compute them here, or submit again with --slurm");
    }
    emit(a.get("-o"), table(plan, rows, summary == "mean", format == "json"));
    return 0;
  }

  // Compute what is not finished: all shards, or --shards A:B (an array task).
  int first = 0, last = count - 1;
  if (a.has("--shards")) std::tie(first, last) = shardRange(a.get("--shards"), count);
  std::vector<int> todo;
  int skipped = 0;
  for (int s = first; s <= last; ++s) {
    if (!workPath.empty()) {
      std::string problem;
      if (auto r = work.readShard(s, &problem)) {
        rows[s] = *r;
        ++skipped;
        continue;
      }
      if (!problem.empty())
        std::fprintf(stderr, "sweep: %s: %s; computing it again\n", work.shardPath(s).c_str(), problem.c_str());
    }
    todo.push_back(s);
  }
  Progress progress(last - first + 1, skipped);
  std::atomic<size_t> next{0};
  std::mutex failMutex;
  std::vector<std::string> failures;
  auto worker = [&] {
    for (size_t k; (k = next.fetch_add(1)) < todo.size();) {
      const int s = todo[k];
      bool ok = true;
      try {
        rows[s] = computeShard(plan, s);
        if (!workPath.empty()) {
          work.writeShard(s, rows[s]);
          work.clearError(s);
        }
      } catch (const std::exception& e) {
        ok = false;
        const std::string message = oneLine(e);
        std::lock_guard<std::mutex> lock(failMutex);
        failures.push_back(describe(plan, s) + ": " + message);
        if (!workPath.empty()) {
          try {
            work.writeError(s, message);
          } catch (const std::exception&) {
          }
        }
      }
      progress.finished(describe(plan, s), ok);
    }
  };
  std::vector<std::thread> pool;
  for (int j = 1; j < std::min<int>(jobs, static_cast<int>(todo.size())); ++j) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (!failures.empty()) {
    std::sort(failures.begin(), failures.end());
    for (const std::string& f : failures) std::fprintf(stderr, "sweep: %s\n", f.c_str());
    throw InputError(std::to_string(failures.size()) + " of " + std::to_string(last - first + 1) +
                     " shard(s) failed (listed above)" +
                     (workPath.empty() ? std::string() : "; the others are kept in " + workPath));
  }
  if (a.has("--shards")) return 0;  // an array task: --collect merges
  emit(a.get("-o"), table(plan, rows, summary == "mean", format == "json"));
  return 0;
}

}  // namespace ess::cli
