// Command-line argument parsing for `ess`.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "commands.h"
#include "ess/error.h"

namespace ess::cli {

Args Args::parse(const std::vector<std::string>& argv, const std::vector<std::string>& valued,
                 const std::vector<std::string>& switches) {
  Args a;
  auto contains = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (arg.size() > 1 && arg[0] == '-' && !(arg.size() > 1 && std::isdigit(static_cast<unsigned char>(arg[1])))) {
      std::string value;
      bool inlineValue = false;
      const auto eq = arg.find('=');
      if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        inlineValue = true;
      }
      if (contains(valued, arg)) {
        if (!inlineValue) {
          if (i + 1 >= argv.size()) throw UsageError(arg + ": missing value");
          value = argv[++i];
        }
        if (value.empty()) throw UsageError(arg + ": empty value");
        if (a.options.count(arg)) throw UsageError(arg + " given twice ('" + a.options[arg] + "' and '" + value + "')");
        a.options[arg] = value;
      } else if (contains(switches, arg) && !inlineValue) {
        a.options[arg] = "";
      } else {
        throw UsageError("unknown option '" + arg + "'");
      }
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() ? fallback : it->second;
}

int Args::getInt(const std::string& name, int fallback) const {
  auto it = options.find(name);
  if (it == options.end()) return fallback;
  size_t used = 0;
  int v = 0;
  try {
    v = std::stoi(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != it->second.size())
    throw UsageError(name + ": expected an integer, got '" + it->second + "'");
  return v;
}

double Args::getDouble(const std::string& name, double fallback) const {
  auto it = options.find(name);
  if (it == options.end()) return fallback;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(it->second, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != it->second.size() || !std::isfinite(v))
    throw UsageError(name + ": expected a number, got '" + it->second + "'");
  return v;
}

}  // namespace ess::cli
