// Output helpers of the `ess` CLI: full-precision numbers and atomic writes to -o PATH.
#pragma once
#include <string>

namespace ess::cli {

/// Shortest round-trip decimal form of `v` ("3", "2.5", "0.10000000000000001" never appears);
/// empty for NaN (an unknown value in CSV).
std::string formatNumber(double v);

/// Writes `text` to `path` atomically, or to stdout when `path` is empty or "-". Throws
/// InputError when stdout cannot take it (a full disk, a closed pipe).
void emit(const std::string& path, const std::string& text);

/// Throws UsageError when the output `out` (-o) is the input `input` itself or a file of the
/// input folder (its weights, config.json, tokenizer): writing would destroy what is being read.
void refuseOutputOverInput(const std::string& out, const std::string& input);

/// Flushes and closes stdout; InputError "cannot write to standard output: <errno text>" when
/// that fails, so `ess ... > /dev/full` exits 1 instead of reporting success.
void finishStandardOutput();

}  // namespace ess::cli
