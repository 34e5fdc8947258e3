// `ess curve FILE ...`: ESS curves as CSV (layer,head,split,tolerance_ess,entropy_ess,tss) or JSON.
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "ess/error.h"
#include "output.h"
#include "session_options.h"

namespace ess::cli {

int runCurve(const std::vector<std::string>& argv) {
  Args a = Args::parse(argv, computeOptionNames());
  if (a.positional.size() != 1) throw UsageError("curve: expected one FILE");
  const std::string format = a.get("--format", "csv");
  if (format != "csv" && format != "json") throw UsageError("--format: expected csv or json, got '" + format + "'");
  const std::string metric = a.get("--metric", "both");
  if (metric != "tolerance" && metric != "entropy" && metric != "both")
    throw UsageError("--metric: expected tolerance, entropy or both, got '" + metric + "'");
  const bool wantTol = metric != "entropy", wantEnt = metric != "tolerance";
  const EssOptions options = essOptionsFrom(a);
  auto session = openWithInput(a.positional[0], a);
  const SourceInfo& info = session->info();
  if (info.layers.empty()) throw InputError(info.path + ": holds no operator or model layers (" + info.description + ")");
  const std::vector<int> layers = indicesFrom(a, "--layer", static_cast<int>(info.layers.size()));

  std::ostringstream csv;
  nlohmann::ordered_json json;
  if (format == "csv") csv << "layer,head,split,tolerance_ess,entropy_ess,tss\n";
  json["file"] = info.path;
  json["architecture"] = info.architecture;
  json["input"] = session->input();
  json["tolerance"] = options.tolerance_;
  json["normalization"] = toString(options.normalization_);
  json["dtype"] = toString(options.dtype_);
  json["layers"] = nlohmann::ordered_json::array();
  for (int layer : layers) {
    const std::vector<int> heads = indicesFrom(a, "--head", info.layers[layer].heads);
    const CurveData c = session->curve(layer, options);
    nlohmann::ordered_json lj;
    lj["layer"] = layer;
    lj["mixer"] = info.layers[layer].mixer;
    lj["heads"] = nlohmann::ordered_json::array();
    for (int h : heads) {
      nlohmann::ordered_json hj;
      hj["head"] = h;
      hj["splits"] = c.splits;
      if (wantTol) hj["tolerance_ess"] = c.tolerance[h];
      if (wantEnt) hj["entropy_ess"] = c.entropy[h];
      hj["tss"] = nlohmann::ordered_json::array();
      for (double v : c.tss[h]) hj["tss"].push_back(std::isnan(v) ? nlohmann::ordered_json() : nlohmann::ordered_json(v));
      lj["heads"].push_back(hj);
      if (format == "csv")
        for (size_t i = 0; i < c.splits.size(); ++i)
          csv << layer << ',' << h << ',' << c.splits[i] << ',' << (wantTol ? formatNumber(c.tolerance[h][i]) : "")
              << ',' << (wantEnt ? formatNumber(c.entropy[h][i]) : "") << ',' << formatNumber(c.tss[h][i]) << '\n';
    }
    json["layers"].push_back(lj);
  }
  emit(a.get("-o"), format == "csv" ? csv.str() : json.dump(2) + "\n");
  return 0;
}

}  // namespace ess::cli
