// Session: the one entry point the GUI and the CLI use to open a checkpoint or operator
// file, choose an input, materialize operators and compute ESS curves and spectra.
// Plain data in and out (no LibTorch in this header), so app code stays cheap to compile.
// Data flow of DESIGN.md section 3: file -> reader -> model -> trace -> operator -> ESS.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ess/ess_options.h"

namespace ess {

/// One layer of an opened file as `ess info` reports it.
struct LayerSummary {
  int index = 0;
  std::string mixer;         ///< mixer kind (DESIGN.md section 6), "operator" for operator files
  int heads = 1;             ///< SISO operators in the layer (heads or channels)
  int valueChannels = 1;     ///< value channels each head operator is applied to (d_v)
  std::string tss;           ///< theoretical state size per head, as a formula ("16", "s*(8+8)")
};

/// What an opened file is.
struct SourceInfo {
  std::string path;
  std::string architecture;  ///< "ess-lm", "operator", ...
  std::vector<LayerSummary> layers;
  bool needsInput = false;   ///< true for models: operators depend on the input tokens
  int vocabSize = 0;         ///< models only
  int maxLength = 0;         ///< models only: longest input the model accepts (0 = no limit)
  int length = 0;            ///< operator and generator files: sequence length L
  std::string description;   ///< one line for status bars ("ess-lm, 2 layers: softmax_attention, gla")
};

/// A materialized operator T of one layer: row-major values of shape [H, L, L],
/// T[h, r, c] = weight of input c on output r.
struct OperatorData {
  int heads = 0;
  int length = 0;
  std::vector<double> values;
  double at(int h, int r, int c) const {
    return values[(static_cast<size_t>(h) * length + r) * length + c];
  }
};

/// Which part of an operator T[head] a heatmap needs: rows [rowBegin, rowEnd) and columns
/// [columnBegin, columnEnd) (an end of -1 means L), sampled with at most maxRows x maxColumns
/// points. Used for long operators, whose dense [H, L, L] form would not fit in memory.
struct TileRequest {
  int rowBegin = 0, rowEnd = -1;
  int columnBegin = 0, columnEnd = -1;
  int maxRows = 1024, maxColumns = 1024;
};

/// Point samples of T[head] on a regular grid: value (i, j) is T[head, firstRow + i * rowStep,
/// firstColumn + j * columnStep], for i < rows, j < columns, row-major. Steps of 1 give the exact
/// entries (full resolution); larger steps give a reduced-resolution overview.
struct OperatorTile {
  int head = 0;
  int firstRow = 0, firstColumn = 0;
  int rowStep = 1, columnStep = 1;
  int rows = 0, columns = 0;
  std::vector<double> values;
  double at(int i, int j) const { return values[static_cast<size_t>(i) * columns + j]; }
};

/// ESS curves of one layer: for each head h and each evaluated split splits[i],
/// tolerance[h][i], entropy[h][i] and tss[h][i] (NaN where the TSS is unknown).
struct CurveData {
  int layer = 0;
  int length = 0;
  std::vector<int> splits;
  std::vector<std::vector<double>> tolerance;
  std::vector<std::vector<double>> entropy;
  std::vector<std::vector<double>> tss;
};

class Session {
 public:
  /// Opens a file or directory: an ess-lm checkpoint directory (config.json beside
  /// model.safetensors or a PyTorch .pt/.pth/.bin), an operator file (DESIGN.md section 6),
  /// or a weights file with config.json beside it. Throws InputError("<path>: ...").
  /// `memoryBudget` (bytes) caps dense operators: a larger one is refused with a message that
  /// says which length fits.
  static std::unique_ptr<Session> open(const std::string& path, size_t memoryBudget = kDefaultMemoryBudget);
  static constexpr size_t kDefaultMemoryBudget = size_t(2) << 30;
  virtual ~Session();

  virtual const SourceInfo& info() const = 0;

  /// Sets the input from a spec of DESIGN.md section 4 (`mqar:seed=S,len=L,pairs=P,vocab=V`,
  /// `tokens:1,2,3`, `random:seed=S,len=L`). Ignored by operator files. Throws UsageError on a
  /// malformed spec, InputError when tokens exceed the vocabulary or the length the model takes.
  virtual void setInput(const std::string& spec) = 0;
  virtual std::string input() const = 0;
  /// The current input tokens (empty for operator files).
  virtual std::vector<long> tokens() const = 0;
  /// Text of each input token, for axis labels and hover text (as long as tokens()): the
  /// tokenizer's piece where the checkpoint has a tokenizer, the token id otherwise.
  virtual std::vector<std::string> tokenLabels() const;

  /// Materialized operator of `layer`, [H, L, L] (cached per input). Throws InputError when
  /// the operator holds NaN/Inf or exceeds the memory budget (the message says what fits).
  virtual OperatorData operatorOf(int layer) = 0;

  /// A sampled block of T[head] of `layer` (see OperatorTile). For generator files and layers
  /// with a generator form, entries are computed from the generators without forming T, so any
  /// L works; otherwise from the dense operator (memory budget applies). Throws UsageError for a
  /// bad layer, head or empty range.
  virtual OperatorTile operatorTile(int layer, int head, const TileRequest& request) = 0;

  /// ESS curves of every head of `layer` (DESIGN.md section 1). Semiseparable layers and
  /// generator files use the structured engine (ess/structured_ess.h) unless
  /// `options.algorithm_` is Dense; UsageError when Structured is asked of a layer without
  /// generators or band. `progress` counts splits x heads;
  /// raising `*cancel` stops the work with Cancelled.
  virtual CurveData curve(int layer, const EssOptions& options, const ProgressFn& progress = {},
                          const std::atomic<bool>* cancel = nullptr) = 0;

  /// Singular values of H_s = T[h][s:, :s], descending (length min(s, L-s)).
  virtual std::vector<double> spectrum(int layer, int head, int split, const EssOptions& options) = 0;

  /// Theoretical state size of `head` of `layer` at `split` for sequence length `length`,
  /// in SISO units; nullopt where unknown (operator files).
  virtual std::optional<double> theoreticalStateSize(int layer, int head, int split, int length) const = 0;

  /// Memory budget for dense operators, in bytes (default 2 GiB).
  void setMemoryBudget(size_t bytes) { memoryBudget_ = bytes; }
  size_t memoryBudget() const { return memoryBudget_; }

 protected:
  size_t memoryBudget_ = kDefaultMemoryBudget;
};

/// One tensor of a file as `ess info --tensors` lists it: `name dtype shape`.
struct TensorSummary {
  std::string name;
  std::string dtype;  ///< safetensors spelling: F64, F32, F16, BF16, I64, ...
  std::vector<long> shape;
};

/// What `ess info` reports of any readable checkpoint, including plain state dicts that are
/// neither a model nor an operator (architecture "tensors", no layers).
struct FileSummary {
  SourceInfo info;
  std::vector<TensorSummary> tensors;
};

/// Summarizes a file or checkpoint directory. Throws InputError("<path>: ...").
FileSummary summarizeFile(const std::string& path);

/// Writes an operator file (DESIGN.md section 6): tensor `operator` [H, L, L] float64 (exact),
/// `__metadata__` from `metadata`; written to a temporary file and renamed into place.
/// Throws InputError naming `path` when it cannot be written.
void writeOperatorFile(const std::string& path, const OperatorData& op,
                       const std::map<std::string, std::string>& metadata = {});

/// The tolerance-ESS and entropy-ESS of one list of singular values (DESIGN.md section 1).
double toleranceEss(const std::vector<double>& sigma, double tolerance, Normalization n);
double entropyEss(const std::vector<double>& sigma);

}  // namespace ess
