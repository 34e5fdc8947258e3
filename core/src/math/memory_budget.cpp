// The default memory budget from this machine's memory (ess/memory_budget.h).
#include "ess/memory_budget.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ess {

namespace {
constexpr uint64_t kGiB = uint64_t(1) << 30;
}

std::size_t defaultMemoryBudgetFor(uint64_t memoryBytes) {
  if (memoryBytes == 0) return std::size_t(2 * kGiB);
  return std::size_t(std::clamp<uint64_t>(memoryBytes / 2, kGiB, 32 * kGiB));
}

uint64_t usableMemoryBytes(uint64_t physicalBytes, const std::string& cgroupMax) {
  // memory.max holds "max" (no limit) or the limit in bytes, one line.
  uint64_t limit = 0;
  std::istringstream in(cgroupMax);
  std::string word;
  if (in >> word && !word.empty() &&
      std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    try {
      limit = std::stoull(word);
    } catch (const std::exception&) {  // out of range: no usable limit
      limit = 0;
    }
  }
  if (physicalBytes == 0) return limit;
  return limit == 0 ? physicalBytes : std::min(physicalBytes, limit);
}

uint64_t machineMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  const uint64_t physical = pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize) : 0;
  std::ifstream f("/sys/fs/cgroup/memory.max");
  std::string text;
  if (f) std::getline(f, text);
  return usableMemoryBytes(physical, text);
}

std::size_t defaultMemoryBudget() {
  static const std::size_t budget = defaultMemoryBudgetFor(machineMemoryBytes());
  return budget;
}

std::string memoryBudgetText(std::size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", double(bytes) / double(kGiB));
  std::string t = text;
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t + " GiB";
}

}  // namespace ess
