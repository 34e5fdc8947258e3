// Helpers the core and math test suites share: the CLI message of an expected error, the
// reference vectors and a relative error. No LibTorch, so essmath-only suites use it too.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_flag.h"
#include "ess/error.h"

/// The message of the `E` that `f` throws as the command line prints it (options as flags:
/// `--layer 5 is outside 0..1`), or "<no error>" when it throws none (so that a missing error
/// fails the test's check on the message).
template <typename E = ess::InputError, typename F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return ess::cli::cliMessage(e);
  }
  return "<no error>";
}

/// The message of the InputError `f` throws, or "<no error>".
template <typename F>
std::string inputErrorOf(F&& f) {
  return errorOf<ess::InputError>(f);
}

/// Whether `s` contains `part`.
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

/// The reference-vector files (`*.safetensors` directly in tests/data), sorted by name.
inline std::vector<std::string> referenceFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(ESS_TEST_DATA_DIR))
    if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

/// |got - want| / |want| (|want| floored at 1e-300).
inline double relErr(double got, double want) { return std::abs(got - want) / std::max(std::abs(want), 1e-300); }
