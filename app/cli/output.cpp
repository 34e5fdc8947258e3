#include "output.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "ess/atomic_file.h"
#include "ess/error.h"

namespace ess::cli {

std::string formatNumber(double v) {
  if (std::isnan(v)) return "";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

void emit(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    finishStandardOutput();
    return;
  }
  writeFileAtomically(path, text);
}

void refuseOutputOverInput(const std::string& out, const std::string& input) {
  namespace fs = std::filesystem;
  if (out.empty() || out == "-") return;
  std::error_code ec;
  if (!fs::exists(out, ec)) return;  // a new file cannot be one of the inputs
  const bool same = fs::equivalent(out, input, ec) && !ec;
  bool inFolder = false;
  if (fs::is_directory(input, ec)) {
    const fs::path parent = fs::path(out).parent_path().empty() ? fs::path(".") : fs::path(out).parent_path();
    inFolder = fs::equivalent(parent, input, ec) && !ec;
  }
  if (same || inFolder)
    throw UsageError("-o " + out + ": is " + (same ? "the input file itself" : "a file of the input folder " + input) +
                     "; writing it would destroy what is being read (choose another output path)");
}

void finishStandardOutput() {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (failed) {
    const int err = errno;
    std::cout.clear();
    throw InputError(std::string("cannot write to standard output: ") +
                     (err ? std::strerror(err) : "the stream refused the output"));
  }
}

}  // namespace ess::cli
