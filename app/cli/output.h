// Output helpers of the `ess` CLI: full-precision numbers and atomic writes to -o PATH.
#pragma once
#include <chrono>
#include <mutex>
#include <string>

#include "ess/cancel.h"
#include "ess/ess_options.h"

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

/// Progress of long work on stderr while it is a terminal: one line redrawn in place, e.g.
/// "layer 31/32: forward pass 12/31 blocks" or "layer 31/32: ESS curve 45%", cleared when the
/// object goes. Silent when stderr is not a terminal, so logs, pipes and tests stay clean.
/// Redraws at most 10 times a second; safe to call from the engines' worker threads.
class TerminalProgress {
 public:
  explicit TerminalProgress(bool enabled);
  ~TerminalProgress();
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  /// What the line starts with ("layer 3/32").
  void setPrefix(const std::string& prefix);
  /// For ess::ProgressScope: the forward pass's blocks (ess/cancel.h).
  const StageProgressFn* stageListener() const { return &stage_; }
  /// For the engines' `progress` argument: heads x splits of one curve.
  ProgressFn curveProgress();

 private:
  void draw(const std::string& what, long done, long total, bool percent);

  bool enabled_;
  std::mutex mutex_;
  std::string prefix_;
  size_t width_ = 0;  ///< of the last line drawn
  std::chrono::steady_clock::time_point last_{};
  StageProgressFn stage_;
};

}  // namespace ess::cli
