// Training runs: the checkpoints of one run, ordered by step, and the metrics the trainer logged
// (docs/definitions.md section 7). Read by `ess sweep` and the GUI; no LibTorch, no Qt.
//
// A run is one of:
//   - a Hugging Face Trainer output folder: `checkpoint-<step>/` subfolders; the metrics come
//     from `log_history` of `trainer_state.json` (the run folder's own, else the one of the
//     checkpoint with the highest step, which holds the whole history);
//   - an ess-lm run (`ess train-mqar --save-every N`): `step-<N>/` subfolders beside
//     `metrics.jsonl`, one JSON object per line with `step` and numbers (loss, accuracy);
//   - a text file listing checkpoints, one per line: `PATH` or `PATH STEP` (the last
//     whitespace-separated field, when it is an integer, is the step); `#` starts a comment,
//     relative paths are relative to the list file's folder. Without a step, the step is read
//     from a `checkpoint-<N>` or `step-<N>` folder name, else it is unknown.
// Checkpoints with known steps are ordered by step; when any step is unknown the listed order
// is kept.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ess {

/// One checkpoint of a run.
struct RunCheckpoint {
  std::string path;   ///< the checkpoint folder or file, as it can be opened (Session::open)
  std::string name;   ///< what tables call it: the folder name, or the path as listed
  int64_t step = -1;  ///< the training step; -1 when unknown
};

/// The numbers logged at one step (e.g. "loss", "eval_loss", "accuracy").
struct RunMetrics {
  int64_t step = 0;
  std::map<std::string, double> values;
};

/// A run's checkpoints and logged metrics.
struct TrainingRun {
  std::string path;                        ///< the run folder or list file
  std::string kind;                        ///< "hf-trainer", "ess-lm" or "list"
  std::vector<RunCheckpoint> checkpoints;  ///< never empty; by step (see above)
  std::vector<RunMetrics> metrics;         ///< by step; empty when none were logged or readable
  /// Why `metrics` is empty or incomplete, naming the file ("<file>: line 3, column 1: syntax
  /// error ..."); empty when they were read.
  std::string metricsNote;

  /// The names of every metric logged, sorted.
  std::vector<std::string> metricNames() const;
};

/// Reads the run at `path` (a folder or a list file, see above). Metrics that cannot be read
/// leave `metrics` empty and say why in `metricsNote`; the run still opens.
/// Throws InputError "<path>: <problem>": no such file or folder; a folder without
/// `checkpoint-<step>/` or `step-<N>/` subfolders; a list file without entries, with a line
/// naming a missing checkpoint ("<list>: line 4: <path>: no such file or folder"), or with two
/// checkpoints of the same step.
TrainingRun openTrainingRun(const std::string& path);

/// The step in a checkpoint folder name `checkpoint-<N>` or `step-<N>`; -1 otherwise.
int64_t stepFromCheckpointName(const std::string& name);

}  // namespace ess
