// `ess sweep --slurm`: the job script of a sweep's work folder and its submission as one Slurm
// job array through `sbatch` (docs/definitions.md section 7). Assumes the work folder, the run
// and the `ess` binary are on a file system shared by the nodes.
#pragma once
#include <string>

#include "cmd_sweep_shards.h"

namespace ess::cli::sweep {

/// What `--partition`, `--time`, `--cpus-per-task`, `--max-parallel` and `--shards-per-task` ask.
struct SlurmRequest {
  std::string partition;  ///< empty: the cluster's default
  std::string time;       ///< empty: the partition's default; else Slurm's forms (30, 1:00:00, 1-0)
  int cpusPerTask = 0;    ///< 0: Slurm's default
  int maxParallel = 0;    ///< 0: no limit on array tasks running at once
  int shardsPerTask = 1;  ///< shards each array task computes, in order
};

/// The job script: one array task per `shardsPerTask` shards, each running `ess sweep --work DIR
/// --shards A:B` with this binary; logs under DIR/logs/slurm-<job>_<task>.out.
std::string slurmScript(const WorkDir& work, const Plan& plan, const SlurmRequest& request, const std::string& ess);

/// Writes the script to DIR/sweep.sbatch, submits it with `sbatch --parsable` and records the job
/// id and shards per task in DIR/slurm_job; returns the job id. Throws InputError with sbatch's
/// own message when it is missing from PATH or refuses the job.
std::string submitSlurm(const WorkDir& work, const Plan& plan, const SlurmRequest& request);

/// The Slurm log of the array task that computes `shard`, from DIR/slurm_job; empty when the
/// sweep was not submitted to Slurm.
std::string slurmLogOf(const WorkDir& work, int shard);

}  // namespace ess::cli::sweep
