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

TerminalProgress::TerminalProgress(bool enabled) : enabled_(enabled) {
  stage_ = [this](const char* stage, long done, long total) { draw(stage, done, total, false); };
}

TerminalProgress::~TerminalProgress() {
  if (enabled_ && width_ > 0) std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
  std::fflush(stderr);
}

void TerminalProgress::setPrefix(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mutex_);
  prefix_ = prefix;
  last_ = {};  // the next report draws at once
}

ProgressFn TerminalProgress::curveProgress() {
  if (!enabled_) return {};
  return [this](long done, long total) { draw("ESS curve", done, total, true); };
}

void TerminalProgress::draw(const std::string& what, long done, long total, bool percent) {
  if (!enabled_ || total <= 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  std::string line = prefix_.empty() ? what : prefix_ + ": " + what;
  line += percent ? " " + std::to_string(done * 100 / total) + "%"
                  : " " + std::to_string(done) + "/" + std::to_string(total) + " blocks";
  const size_t width = line.size();
  if (line.size() < width_) line += std::string(width_ - line.size(), ' ');  // over the longer last line
  width_ = width;
  std::fprintf(stderr, "\r%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace ess::cli
