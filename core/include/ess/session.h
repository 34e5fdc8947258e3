// Session: the one entry point the GUI and the CLI use to open a checkpoint or operator
// file, choose an input, materialize operators and compute ESS curves and spectra.
// Plain data in and out (no LibTorch in this header), so app code stays cheap to compile:
// what a file is (ess/source_info.h), operators and tiles (ess/operator_data.h), curves
// (ess/curve.h). Data flow of docs/definitions.md section 3: file -> reader -> model -> trace ->
// operator -> ESS.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ess/curve.h"
#include "ess/ess_options.h"
#include "ess/file_identity.h"
#include "ess/memory_budget.h"
#include "ess/operator_data.h"
#include "ess/operator_scope.h"
#include "ess/source_info.h"

namespace ess {

class Session {
 public:
  /// Opens a file or directory: an ess-lm checkpoint directory (config.json beside
  /// model.safetensors or a PyTorch .pt/.pth/.bin), an operator file (docs/definitions.md section 6),
  /// or a weights file with config.json beside it. Throws InputError("<path>: ...").
  /// `memoryBudget` (bytes) caps dense operators: a larger one is refused with a message that
  /// says which length fits (default: half of this machine's memory, ess/memory_budget.h). Defined in the math library
  /// (essmath), which reads operator and generator files itself and hands every other path to the model library
  /// (esscore, LibTorch), loaded on first use (ess/model_backend.h).
  static std::unique_ptr<Session> open(const std::string& path, size_t memoryBudget = defaultMemoryBudget());
  /// The budget of a session before open() sets it, and of a machine whose memory is unknown.
  static constexpr size_t kDefaultMemoryBudget = size_t(2) << 30;
  virtual ~Session();

  virtual const SourceInfo& info() const = 0;

  /// Sets the input from a spec of docs/definitions.md section 4 (`mqar:seed=S,len=L,pairs=P,vocab=V`,
  /// `tokens:1,2,3`, `random:seed=S,len=L`). Ignored by operator files. Throws UsageError on a
  /// malformed spec, InputError when tokens exceed the vocabulary or the length the model takes.
  virtual void setInput(const std::string& spec) = 0;
  virtual std::string input() const = 0;
  /// The current input tokens (empty for operator files).
  virtual std::vector<long> tokens() const = 0;
  /// Text of each input token, for axis labels and hover text (as long as tokens()): the
  /// tokenizer's piece where the checkpoint has a tokenizer, the token id otherwise.
  virtual std::vector<std::string> tokenLabels() const;

  /// Which operator the operator, tile, curve and spectrum calls use (ess/operator_scope.h;
  /// default Block). Setting another forgets what was computed for the old one. Model sessions
  /// of Hugging Face checkpoints take both (layers without a recurrence, such as attention,
  /// have the same operator in both); operator files and ess-lm checkpoints only Block: Ssm
  /// throws UsageError on field "operator" naming the file.
  virtual void setOperatorScope(OperatorScope scope);
  OperatorScope operatorScope() const { return scope_; }

  /// Materialized operator of `layer`, [H, L, L] (cached per input). Throws InputError when
  /// the operator holds NaN/Inf or exceeds the memory budget (the message says what fits).
  virtual OperatorData operatorOf(int layer) = 0;

  /// A sampled block of T[head] of `layer` (see OperatorTile). For generator files and layers
  /// with a generator form, entries are computed from the generators without forming T, so any
  /// L works; otherwise from the dense operator (memory budget applies). Throws UsageError for a
  /// bad layer, head or empty range.
  virtual OperatorTile operatorTile(int layer, int head, const TileRequest& request) = 0;

  /// ESS curves of every head of `layer` (docs/definitions.md section 1), with the layer, L and the TSS. Semiseparable
  /// layers and generator files use the structured engine (ess/structured_ess.h) unless `options.algorithm_` is Dense;
  /// UsageError when Structured is asked of a layer without generators or band. `progress` counts splits x heads;
  /// raising `*cancel` stops the work with Cancelled.
  virtual EssCurve curve(int layer, const EssOptions& options, const ProgressFn& progress = {},
                         const std::atomic<bool>* cancel = nullptr) = 0;

  /// Singular values of H_s = T[h][s:, :s], descending (length min(s, L-s)).
  virtual std::vector<double> spectrum(int layer, int head, int split, const EssOptions& options) = 0;

  /// Theoretical state size of `head` of `layer` at `split` for sequence length `length`,
  /// in SISO units; nullopt where unknown (operator files).
  virtual std::optional<double> theoreticalStateSize(int layer, int head, int split, int length) const = 0;

  /// Memory budget for dense operators, in bytes (as open() was given it).
  void setMemoryBudget(size_t bytes) { memoryBudget_ = bytes; }
  size_t memoryBudget() const { return memoryBudget_; }

  /// The files the session depends on, as they were when it opened: every file read at open
  /// (weights, shards, config.json, index) and those it reads later (the tokenizer's).
  const std::vector<FileIdentity>& sourceFiles() const { return sourceFiles_; }
  /// Throws InputError "<file>: the file changed on disk since it was opened (<reason>); reopen
  /// it" when one of sourceFiles() was truncated, rewritten, replaced or deleted since. The
  /// operator, tile, curve and spectrum calls check first (so no result describes a file that
  /// is no longer there), unless keepContentsAsOpened() was called; a later read of a file
  /// (the tokenizer) always checks.
  void checkSourcesUnchanged() const { checkFilesUnchanged(sourceFiles_); }
  /// Goes on computing from what was read at open although the files changed (the GUI's Keep).
  void keepContentsAsOpened() { checkBeforeUse_.store(false); }

 protected:
  /// What the operator, tile, curve and spectrum calls run first (see checkSourcesUnchanged).
  void checkSourcesBeforeUse() const {
    if (checkBeforeUse_.load()) checkSourcesUnchanged();
  }

  size_t memoryBudget_ = kDefaultMemoryBudget;
  OperatorScope scope_ = OperatorScope::Block;
  std::vector<FileIdentity> sourceFiles_;  ///< Session::open adds those read at open
  std::atomic<bool> checkBeforeUse_{true};
};

/// Summarizes a file or checkpoint directory (loads the model library like Session::open).
/// Throws InputError("<path>: ...").
FileSummary summarizeFile(const std::string& path);

}  // namespace ess
