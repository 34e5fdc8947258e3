// The `ess` command line (docs/definitions.md section 6): one function per subcommand.
// Each takes the arguments after the subcommand name and returns the exit status:
// 0 success, 1 bad input (`error: <file>: <what>` on stderr), 2 usage error.
// Errors are thrown as ess::InputError / ess::UsageError and turned into status by main.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace ess::cli {

/// Parsed `--name value` options, `--flag` switches and positional arguments.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  ///< "--layer" -> "0" (switches map to "")

  /// Parses argv; `valued` names the options that take a value, `switches` the ones that do
  /// not (short aliases like "-o" included). Throws UsageError on anything unknown.
  static Args parse(const std::vector<std::string>& argv, const std::vector<std::string>& valued,
                    const std::vector<std::string>& switches = {});
  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  int getInt(const std::string& name, int fallback) const;           ///< UsageError if not an integer
  double getDouble(const std::string& name, double fallback) const;  ///< UsageError if not a number
};

int runInfo(const std::vector<std::string>& args);
int runCurve(const std::vector<std::string>& args);
int runOperator(const std::vector<std::string>& args);
int runRender(const std::vector<std::string>& args);
int runConvert(const std::vector<std::string>& args);
int runTrainMqar(const std::vector<std::string>& args);
int runSweep(const std::vector<std::string>& args);
/// The usage lines of train-mqar (its mixer option flags come from the mixer registry), and
/// the longer help that `ess train-mqar --help` adds: the kinds and what each option means.

}  // namespace ess::cli
