// `ess sweep --slurm`: job script, sbatch, and the log of each shard's array task.
#include "cmd_sweep_slurm.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "ess/atomic_file.h"
#include "ess/error.h"
#include "ess/input_file.h"

namespace ess::cli::sweep {

namespace fs = std::filesystem;

namespace {

// `s` in single quotes for sh.
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A value on an `#SBATCH` line as sbatch reads it (src/sbatch/opt.c, _get_argument): the line is
// split at blanks outside quotes, an unescaped `#` ends it (also inside quotes in older Slurm) and
// a backslash escapes the next character. Plain values stay as they are.
std::string sbatchValue(const std::string& v) {
  if (v.find_first_of(" \t\"'\\#") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\' || c == '#') q += '\\';
    q += c;
  }
  return q + "\"";
}

// A literal path in a Slurm file name pattern (%A, %a, %j, ...): `%` is written `%%`.
std::string slurmPattern(const std::string& path) {
  std::string p;
  for (char c : path) p += c == '%' ? std::string("%%") : std::string(1, c);
  return p;
}

std::string thisBinary() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw InputError("cannot find the ess binary (/proc/self/exe): " + ec.message());
  return p.string();
}

}  // namespace

std::string slurmScript(const WorkDir& work, const Plan& plan, const SlurmRequest& r, const std::string& ess) {
  const int shards = plan.shardCount();
  const int tasks = (shards + r.shardsPerTask - 1) / r.shardsPerTask;
  const std::string dir = fs::absolute(work.dir()).lexically_normal().string();
  // A line break cannot be written on an #SBATCH line (nor safely in the job's shell line).
  for (const std::string* v : {&dir, &r.partition, &r.time})
    if (v->find_first_of("\n\r") != std::string::npos)
      throw InputError("--slurm: '" + *v + "' holds a line break, which an #SBATCH line cannot hold");
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# ess sweep: " << shards << " shard(s) of " << plan.run << ", " << r.shardsPerTask
    << " per array task. Written by `ess sweep --slurm`; submit again with sbatch or rerun that command.\n"
    << "#SBATCH --job-name=ess-sweep\n"
    << "#SBATCH --array=0-" << tasks - 1 << (r.maxParallel > 0 ? "%" + std::to_string(r.maxParallel) : "") << "\n"
    << "#SBATCH --output=" << sbatchValue(slurmPattern(dir) + "/logs/slurm-%A_%a.out") << "\n";
  if (!r.partition.empty()) s << "#SBATCH --partition=" << sbatchValue(r.partition) << "\n";
  if (!r.time.empty()) s << "#SBATCH --time=" << sbatchValue(r.time) << "\n";
  if (r.cpusPerTask > 0) s << "#SBATCH --cpus-per-task=" << r.cpusPerTask << "\n";
  s << "first=$(( SLURM_ARRAY_TASK_ID * " << r.shardsPerTask << " ))\n"
    << "last=$(( first + " << r.shardsPerTask - 1 << " ))\n"
    << "if [ \"$last\" -gt " << shards - 1 << " ]; then last=" << shards - 1 << "; fi\n"
    << "if [ -n \"$SLURM_CPUS_PER_TASK\" ]; then export OMP_NUM_THREADS=\"$SLURM_CPUS_PER_TASK\"; fi\n"
    << "exec " << quoted(ess) << " sweep --work " << quoted(dir) << " --shards \"$first:$last\"\n";
  return s.str();
}

std::string submitSlurm(const WorkDir& work, const Plan& plan, const SlurmRequest& request) {
  std::error_code ec;
  fs::create_directories(work.logDir(), ec);
  if (ec) throw InputError(work.logDir() + ": cannot create the log folder: " + ec.message());
  writeFileAtomically(work.scriptPath(), slurmScript(work, plan, request, thisBinary()));
  // sbatch's own words on failure (standard error folded into the output).
  const std::string command = "sbatch --parsable " + quoted(work.scriptPath()) + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw InputError("cannot run sbatch: the shell could not be started");
  std::string out;
  std::array<char, 4096> buf{};
  while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 127)
    throw InputError("sbatch was not found on PATH (submitting needs a Slurm client; " + work.scriptPath() +
                     " is written and can be submitted by hand)");
  if (code != 0) {
    const std::string said = out.empty() ? std::string("no message") : out;
    throw InputError("sbatch refused " + work.scriptPath() + " (exit " + std::to_string(code) + "): " + said);
  }
  // --parsable: "jobid" or "jobid;cluster"; a line of warnings may come before it.
  std::string id = out.substr(out.find_last_of('\n') == std::string::npos ? 0 : out.find_last_of('\n') + 1);
  id = id.substr(0, id.find(';'));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw InputError("sbatch did not answer a job id for " + work.scriptPath() + ": " + out);
  writeFileAtomically(work.jobPath(), id + " " + std::to_string(request.shardsPerTask) + "\n");
  return id;
}

std::string slurmLogOf(const WorkDir& work, int shard) {
  std::error_code ec;
  if (!fs::exists(work.jobPath(), ec)) return "";
  std::istringstream in(readRegularFile(work.jobPath(), "Slurm job record", 4096));
  std::string id;
  int perTask = 1;
  if (!(in >> id >> perTask) || perTask < 1) return "";
  return (fs::path(work.logDir()) / ("slurm-" + id + "_" + std::to_string(shard / perTask) + ".out")).string();
}

}  // namespace ess::cli::sweep
