// The work folder of `ess sweep` (docs/definitions.md section 7): the sweep's description
// (sweep.json), one shard per checkpoint x input under shards/, and what failed. Each shard is
// written atomically and ends with a marker carrying its row count and checksum, so a shard cut
// short (a job killed on a cluster file system) is detected and computed again.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ess::cli::sweep {

/// One checkpoint of the sweep (from ess/run.h).
struct Checkpoint {
  std::string name;
  std::string path;
  int64_t step = -1;  ///< -1: unknown
};

/// What a sweep computes: every checkpoint x input, each at the layers and heads asked for,
/// with the compute options of `ess curve` (as given on the command line).
struct Plan {
  std::string run;  ///< the run folder or list file
  std::vector<Checkpoint> checkpoints;
  std::vector<std::string> inputs;             ///< input specs; one empty spec = each checkpoint's default
  std::string layer = "all";                   ///< all | N | A:B | N,M,...
  std::string head = "all";                    ///< all | H | A:B | total
  std::map<std::string, std::string> options;  ///< "--tolerance" -> "0.001", ... (ess curve's)

  int shardCount() const { return static_cast<int>(checkpoints.size() * inputs.size()); }
  const Checkpoint& checkpointOf(int shard) const { return checkpoints[shard / inputs.size()]; }
  const std::string& inputOf(int shard) const { return inputs[shard % inputs.size()]; }

  std::string toJson() const;
  /// Throws InputError "<file>: ..." when `text` is not a sweep description.
  static Plan fromJson(const std::string& text, const std::string& file);
};

/// Header of a shard's rows (ess curve's CSV columns).
inline constexpr const char* kShardHeader = "layer,head,split,tolerance_ess,entropy_ess,tss";

/// The work folder DIR.
class WorkDir {
 public:
  explicit WorkDir(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }
  std::string planPath() const;  ///< DIR/sweep.json
  std::string shardPath(int shard) const;
  std::string errorPath(int shard) const;
  std::string scriptPath() const;  ///< DIR/sweep.sbatch
  std::string jobPath() const;     ///< DIR/slurm_job: the job id and shards per array task
  std::string logDir() const;      ///< DIR/logs

  /// The plan in DIR, if there is one; InputError when it does not parse.
  std::optional<Plan> readPlan() const;
  /// Creates DIR and writes `plan`, or checks that DIR holds the same one: InputError
  /// "DIR: holds another sweep (...); use a new --work folder" otherwise.
  void adopt(const Plan& plan) const;

  /// The rows of a finished shard (without header and end marker); nullopt when it is missing.
  /// `problem` says why a shard present is not finished ("truncated (no end marker)", "checksum
  /// does not match").
  std::optional<std::string> readShard(int shard, std::string* problem = nullptr) const;
  void writeShard(int shard, const std::string& rows) const;
  void writeError(int shard, const std::string& message) const;
  void clearError(int shard) const;
  /// The failure message of `shard`, empty when none was recorded.
  std::string errorOf(int shard) const;

 private:
  std::string dir_;
};

/// The shard text of `rows` (CSV lines with kShardHeader's columns, each ending in '\n'):
/// header, rows, and "# end rows=N fnv1a64=HEX".
std::string shardText(const std::string& rows);
/// The rows of shard text, or nullopt with `problem` set when its marker is missing or wrong.
std::optional<std::string> shardRows(const std::string& text, std::string* problem);

}  // namespace ess::cli::sweep
