// `ess curve FILE ...`: ESS curves as CSV (layer,head,split,tolerance_ess,entropy_ess,tss) or JSON.
// `--head all|H|A:B` picks heads (A:B inclusive, like --splits); `--aggregate total` sums the
// picked heads of each layer, each times the layer's value channels (ess/aggregate.h), into one
// row per split with head `total`, the summed TSS and a trailing `utilization` column.
// `--compare B`: checkpoint B at the same input and options after FILE (A), both in one table
// with first columns `checkpoint,step` (the step of a `checkpoint-<N>` / `step-<N>` name, empty
// otherwise; JSON: {"checkpoints": [A, B]} with "checkpoint" and "step"); layouts that differ
// (ess::layoutMismatch) are an error naming both.
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "ess/aggregate.h"
#include "ess/error.h"
#include "ess/run.h"
#include "ess/view_policy.h"
#include "output.h"
#include "session_options.h"

namespace ess::cli {

namespace {

nlohmann::ordered_json numbers(const std::vector<double>& v) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (double x : v) a.push_back(std::isnan(x) ? nlohmann::ordered_json() : nlohmann::ordered_json(x));
  return a;
}

}  // namespace

int runCurve(const std::vector<std::string>& argv) {
  std::vector<std::string> names = computeOptionNames();
  names.push_back("--aggregate");
  names.push_back("--compare");
  Args a = Args::parse(argv, names);
  if (a.positional.size() != 1) throw UsageError("curve: expected one FILE");
  refuseOutputOverInput(a.get("-o", ""), a.positional[0]);
  const std::string format = a.get("--format", "csv");
  if (format != "csv" && format != "json") throw UsageError("--format: expected csv or json, got '" + format + "'");
  const std::string metric = a.get("--metric", "both");
  if (metric != "tolerance" && metric != "entropy" && metric != "both")
    throw UsageError("--metric: expected tolerance, entropy or both, got '" + metric + "'");
  const std::string aggregate = a.get("--aggregate", "none");
  if (aggregate != "none" && aggregate != "total")
    throw UsageError("--aggregate: expected none or total, got '" + aggregate + "'");
  const bool total = aggregate == "total";
  const std::string headSpec = a.get("--head", "all");
  const bool wantTol = metric != "entropy", wantEnt = metric != "tolerance";
  const EssOptions options = essOptionsFrom(a);
  auto session = openWithInput(a.positional[0], a);
  std::unique_ptr<Session> other;
  const bool compare = a.has("--compare");
  if (compare) {
    refuseOutputOverInput(a.get("-o", ""), a.get("--compare"));
    other = openWithInput(a.get("--compare"), a);
  }
  const SourceInfo& info = session->info();
  if (info.layers.empty())
    throw InputError(info.path + ": holds no operator or model layers (" + info.description + ")");
  const auto lengthOf = [](Session& s) {
    return s.info().length > 0 ? s.info().length : static_cast<int>(s.tokens().size());
  };
  // Short names, or the paths as given when both end alike (two runs' step-100).
  std::string nameA = checkpointName(a.positional[0]);
  std::string nameB = compare ? checkpointName(a.get("--compare")) : std::string();
  if (compare && nameA == nameB) nameA = a.positional[0], nameB = a.get("--compare");
  if (compare) {
    const std::string mismatch =
        layoutMismatch(info, lengthOf(*session), nameA, other->info(), lengthOf(*other), nameB);
    if (!mismatch.empty()) throw InputError(mismatch);
  }
  const std::vector<int> layers = indicesFrom(a, "--layer", static_cast<int>(info.layers.size()));
  // Check every layer's heads before the (long) computation starts.
  std::vector<std::vector<int>> headsOf;
  for (int layer : layers) headsOf.push_back(parseHeadRange(headSpec, info.layers[layer].heads, layer));

  std::ostringstream csv;
  if (format == "csv")
    csv << (compare ? "checkpoint,step," : "") << "layer,head,split,tolerance_ess,entropy_ess,tss"
        << (total ? ",utilization" : "") << "\n";
  // Long work (a deep layer's forward pass, every layer of a model) shows where it is on a terminal.
  TerminalProgress progress(isatty(2) != 0);
  const ProgressScope forwardProgress(progress.stageListener());
  // One checkpoint's curves; `checkpoint,step` start each CSV row when comparing.
  const auto curvesOf = [&](Session& s, const std::string& checkpoint, const std::string& path) {
    const int64_t step = stepFromCheckpointName(checkpointName(path));
    const std::string c0 = compare ? checkpoint + "," + (step >= 0 ? std::to_string(step) : "") + "," : std::string();
    nlohmann::ordered_json json;
    if (compare) {
      json["checkpoint"] = checkpoint;
      json["step"] = step >= 0 ? nlohmann::ordered_json(step) : nlohmann::ordered_json();
    }
    json["file"] = s.info().path;
    json["architecture"] = s.info().architecture;
    json["input"] = s.input();
    json["tolerance"] = options.tolerance_;
    json["normalization"] = toString(options.normalization_);
    json["dtype"] = toString(options.dtype_);
    json["aggregate"] = aggregate;
    json["layers"] = nlohmann::ordered_json::array();
    for (size_t li = 0; li < layers.size(); ++li) {
      const int layer = layers[li];
      const std::vector<int>& heads = headsOf[li];
      progress.setPrefix("layer " + std::to_string(layer) + " (" + std::to_string(li + 1) + " of " +
                         std::to_string(layers.size()) + ")");
      const CurveData c = s.curve(layer, options, progress.curveProgress());
      const LayerSummary& summary = s.info().layers[layer];
      nlohmann::ordered_json lj;
      lj["layer"] = layer;
      lj["mixer"] = summary.mixer;
      lj["value_channels"] = summary.valueChannels;
      lj["heads"] = nlohmann::ordered_json::array();
      if (total) {
        const HeadTotal t = sumHeads(c, summary, heads);
        nlohmann::ordered_json hj;
        hj["head"] = "total";
        hj["members"] = t.heads;
        hj["splits"] = t.splits;
        if (wantTol) hj["tolerance_ess"] = t.tolerance;
        if (wantEnt) hj["entropy_ess"] = t.entropy;
        hj["tss"] = numbers(t.tss);
        hj["utilization"] = numbers(t.utilization);
        lj["heads"].push_back(hj);
        if (format == "csv")
          for (size_t i = 0; i < t.splits.size(); ++i)
            csv << c0 << layer << ",total," << t.splits[i] << ',' << (wantTol ? formatNumber(t.tolerance[i]) : "")
                << ',' << (wantEnt ? formatNumber(t.entropy[i]) : "") << ',' << formatNumber(t.tss[i]) << ','
                << formatNumber(t.utilization[i]) << '\n';
      } else {
        for (int h : heads) {
          nlohmann::ordered_json hj;
          hj["head"] = h;
          hj["splits"] = c.splits;
          if (wantTol) hj["tolerance_ess"] = c.tolerance[h];
          if (wantEnt) hj["entropy_ess"] = c.entropy[h];
          hj["tss"] = numbers(c.tss[h]);
          lj["heads"].push_back(hj);
          if (format == "csv")
            for (size_t i = 0; i < c.splits.size(); ++i)
              csv << c0 << layer << ',' << h << ',' << c.splits[i] << ','
                  << (wantTol ? formatNumber(c.tolerance[h][i]) : "") << ','
                  << (wantEnt ? formatNumber(c.entropy[h][i]) : "") << ',' << formatNumber(c.tss[h][i]) << '\n';
        }
      }
      json["layers"].push_back(lj);
    }
    return json;
  };
  nlohmann::ordered_json json = curvesOf(*session, nameA, a.positional[0]);
  if (compare) {
    nlohmann::ordered_json both;
    both["checkpoints"] = nlohmann::ordered_json::array({json, curvesOf(*other, nameB, a.get("--compare"))});
    json = both;
  }
  emit(a.get("-o"), format == "csv" ? csv.str() : json.dump(2) + "\n");
  return 0;
}

}  // namespace ess::cli
