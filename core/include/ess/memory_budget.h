// The default memory budget of sessions (ess/session.h), `ess --memory-budget` and the GUI's
// Memory budget setting: what the float64 forward pass of one layer, a dense operator and the
// session's caches may hold. Half of this machine's memory, so that the paper's 7B-8B models run
// at their lengths on a 24 GiB desk machine (12 GiB: Llama 3 8B needs about 3 GiB at 512 tokens)
// while the rest of the machine keeps the other half. It is Session::open's default, and the
// Python module's (memory_budget=None).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ess {

/// The default budget for a machine of `memoryBytes`: half of it, at least 1 GiB and at most
/// 32 GiB (past that a longer input, not a larger model, is what grows); 2 GiB when the size is
/// unknown (0).
std::size_t defaultMemoryBudgetFor(uint64_t memoryBytes);

/// The smaller of `physicalBytes` and a cgroup v2 `memory.max` text ("max" or a byte count, as
/// read from /sys/fs/cgroup/memory.max; empty when there is none): the memory this process may
/// use. 0 when neither is known.
uint64_t usableMemoryBytes(uint64_t physicalBytes, const std::string& cgroupMax);

/// This machine's usable memory: physical memory (sysconf _SC_PHYS_PAGES x _SC_PAGESIZE) and the
/// container's cgroup v2 limit, as usableMemoryBytes; 0 when unknown.
uint64_t machineMemoryBytes();

/// defaultMemoryBudgetFor(machineMemoryBytes()), found once per process.
std::size_t defaultMemoryBudget();

/// "12 GiB" or "1.5 GiB": a budget for messages and help texts (two significant decimals at most).
std::string memoryBudgetText(std::size_t bytes);

}  // namespace ess
