// Output helpers of the `ess` CLI: full-precision numbers and atomic writes to -o PATH.
#pragma once
#include <string>

namespace ess::cli {

/// Shortest round-trip decimal form of `v` ("3", "2.5", "0.10000000000000001" never appears);
/// empty for NaN (an unknown value in CSV).
std::string formatNumber(double v);

/// Writes `text` to `path` atomically, or to stdout when `path` is empty or "-".
void emit(const std::string& path, const std::string& text);

}  // namespace ess::cli
