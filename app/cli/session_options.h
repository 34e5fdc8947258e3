// Options shared by the `ess` subcommands that open a file and compute on it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "ess/session.h"

namespace ess::cli {

/// The value-taking options every computing subcommand accepts.
const std::vector<std::string>& computeOptionNames();

/// Opens `path` with the memory budget of `--memory-budget GIB` (default: ess::defaultMemoryBudget(); dense operators
/// beyond it are refused with a message that says what fits) and applies `--operator block|ssm`
/// (ess/operator_scope.h) and `--input` when given.
std::unique_ptr<Session> openWithInput(const std::string& path, const Args& a);

/// In the test binary ess_test_hooks only (ESS_TEST_HOOKS; the shipped `ess` does nothing here):
/// with ESS_TEST_PAUSE_AFTER_OPEN set in the environment, says so on stderr and waits for a line
/// on stdin, so that a test can change the opened files between the open and their use
/// (deterministically, without sleeping). ESS_TEST_PAUSE_AT=STAGE waits likewise at the first
/// cancel point STAGE (ess/cancel.h), so that a test can press Ctrl+C there.
void pauseAfterOpenForTests();

/// EssOptions from --tolerance, --normalization, --splits, --dtype, --device, --algorithm.
EssOptions essOptionsFrom(const Args& a);

/// Indices from `--NAME N|all` (default all) within 0..count-1; UsageError outside.
std::vector<int> indicesFrom(const Args& a, const std::string& name, int count, bool defaultAll = true);

}  // namespace ess::cli
