// Helpers shared by the libFuzzer targets in fuzz/: the bytes under test go to a private file
// (the readers take paths, and the file path is what users give them), and only the core's own
// errors count as the expected answer; any other exception escaping a reader is a finding
// (a library's words would reach the user), so it aborts.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "ess/error.h"

namespace ess::fuzz {

/// A file under $TMPDIR (default /tmp) unique to this process, rewritten for every input.
inline std::string scratchPath(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/ess_fuzz_" + std::to_string(::getpid()) + "_" + name;
}

inline void writeBytes(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  if (std::fclose(f) != 0) std::abort();
}

/// Runs `body`; ess::InputError and ess::UsageError are the readers' normal answers to bad bytes.
template <class F>
void expectCleanErrors(F&& body) {
  try {
    body();
  } catch (const InputError&) {
  } catch (const UsageError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: an exception that is not ess::InputError/UsageError escaped: %s\n", e.what());
    std::abort();
  }
}

}  // namespace ess::fuzz
