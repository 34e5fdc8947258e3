#include "session_options.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "ess/error.h"

namespace ess::cli {

void pauseAfterOpenForTests() {
  if (!std::getenv("ESS_TEST_PAUSE_AFTER_OPEN")) return;
  std::fputs("ess: opened; waiting for a line on standard input (ESS_TEST_PAUSE_AFTER_OPEN)\n", stderr);
  std::fflush(stderr);
  std::string line;
  std::getline(std::cin, line);
}

const std::vector<std::string>& computeOptionNames() {
  static const std::vector<std::string> names = {
      "--layer", "--head",   "--input",     "--metric", "--tolerance", "--normalization", "--splits",
      "--dtype", "--device", "--algorithm", "--format", "-o",          "--memory-budget"};
  return names;
}

std::unique_ptr<Session> openWithInput(const std::string& path, const Args& a) {
  const double budgetGib = a.getDouble("--memory-budget", double(Session::kDefaultMemoryBudget) / double(1ull << 30));
  if (!(budgetGib > 0) || budgetGib > 1e6) throw UsageError("--memory-budget: expected a positive size in GiB");
  auto session = Session::open(path, static_cast<size_t>(budgetGib * double(1ull << 30)));
  pauseAfterOpenForTests();
  if (a.has("--input")) session->setInput(a.get("--input"));
  return session;
}

EssOptions essOptionsFrom(const Args& a) {
  EssOptions o;
  o.tolerance(a.getDouble("--tolerance", 1e-3));
  if (o.tolerance_ < 0) throw UsageError("--tolerance: must not be negative");
  if (a.has("--normalization")) o.normalization(parseNormalization(a.get("--normalization")));
  if (a.has("--dtype")) o.dtype(parseDType(a.get("--dtype")));
  if (a.has("--device")) o.device(parseDevice(a.get("--device")));
  if (a.has("--algorithm")) o.algorithm(parseAlgorithm(a.get("--algorithm")));
  if (a.has("--splits")) o.splits(parseSplitRange(a.get("--splits")));
  return o;
}

std::vector<int> indicesFrom(const Args& a, const std::string& name, int count, bool defaultAll) {
  const std::string v = a.get(name, defaultAll ? "all" : "");
  if (v.empty()) throw UsageError(name + " is required");
  std::vector<int> out;
  if (v == "all") {
    for (int i = 0; i < count; ++i) out.push_back(i);
    return out;
  }
  const int i = a.getInt(name, 0);
  if (i < 0 || i >= count) throw UsageError(name + " " + v + " is outside 0.." + std::to_string(count - 1));
  out.push_back(i);
  return out;
}

}  // namespace ess::cli
