#include "session_options.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "ess/cancel.h"
#include "ess/error.h"
#include "ess/memory_budget.h"

namespace ess::cli {

#ifdef ESS_TEST_HOOKS
namespace {

// Test seams of the test binary ess_test_hooks only (app/CMakeLists.txt), so that a test can
// act at a chosen moment without sleeping: the shipped `ess` reads no such variable.
void waitForALine(const char* what) {
  std::fprintf(stderr, "ess: %s; waiting for a line on standard input\n", what);
  std::fflush(stderr);
  std::string line;
  std::getline(std::cin, line);
}

// ESS_TEST_PAUSE_AT=STAGE: waits at the first cancel point named STAGE (ess/cancel.h).
void pauseAtStage(const char* stage) {
  static std::atomic<bool> paused{false};
  const char* wanted = std::getenv("ESS_TEST_PAUSE_AT");
  if (!wanted || std::strcmp(wanted, stage) != 0 || paused.exchange(true)) return;
  waitForALine((std::string("at the cancel point ") + stage).c_str());
}

}  // namespace
#endif

void pauseAfterOpenForTests() {
#ifdef ESS_TEST_HOOKS
  if (std::getenv("ESS_TEST_PAUSE_AFTER_OPEN")) waitForALine("opened");
#endif
}

const std::vector<std::string>& computeOptionNames() {
  static const std::vector<std::string> names = {
      "--layer", "--head",   "--input",     "--metric", "--tolerance", "--normalization", "--splits",
      "--dtype", "--device", "--algorithm", "--format", "-o",          "--memory-budget", "--operator"};
  return names;
}

std::unique_ptr<Session> openWithInput(const std::string& path, const Args& a) {
  const double budgetGib = a.getDouble("--memory-budget", double(defaultMemoryBudget()) / double(1ull << 30));
  if (!(budgetGib > 0) || budgetGib > 1e6) throw UsageError("--memory-budget: expected a positive size in GiB");
#ifdef ESS_TEST_HOOKS
  if (std::getenv("ESS_TEST_PAUSE_AT")) setCancelPointHook(&pauseAtStage);
#endif
  auto session = Session::open(path, static_cast<size_t>(budgetGib * double(1ull << 30)));
  checkCancelled("opened");  // Ctrl+C while the files were read
  pauseAfterOpenForTests();
  if (a.has("--operator")) session->setOperatorScope(parseOperatorScope(a.get("--operator")));
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
