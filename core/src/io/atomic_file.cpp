// Atomic file writes: temporary file, fsync, rename.
#include "ess/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ess/error.h"

namespace ess {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what, int err = 0) {
  throw InputError(path + ": " + what + (err ? std::string(": ") + std::strerror(err) : std::string()));
}

void writeAllOrFail(int fd, const void* data, size_t size, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot write", errno);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

/// Special files (devices, pipes) cannot be replaced: write to them directly.
void writeDirectly(const std::string& path, const std::function<void(const ByteSink&)>& produce) {
  // O_NONBLOCK: a FIFO nobody reads is refused (ENXIO) instead of waiting forever; writes then
  // block as usual.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENXIO) fail(path, "is a FIFO that nothing reads; cannot write to it");
    fail(path, "cannot open for writing", err);
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  try {
    produce([&](const void* d, size_t n) { writeAllOrFail(fd, d, n, path); });
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) fail(path, "cannot write", errno);
}

}  // namespace

void writeFileAtomically(const std::string& path, const std::function<void(const ByteSink&)>& produce) {
  if (path.empty()) throw UsageError("output path is empty");
  std::error_code ec;
  fs::path target(path);
  // Follow symbolic links: replace what the link points at, keep the link.
  for (int hops = 0; fs::is_symlink(fs::symlink_status(target, ec)) && hops < 40; ++hops) {
    fs::path next = fs::read_symlink(target, ec);
    if (ec) break;
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
  const fs::file_status st = fs::status(target, ec);
  if (fs::is_directory(st)) fail(path, "is a directory");
  if (fs::exists(st) && !fs::is_regular_file(st)) return writeDirectly(target.string(), produce);

  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec)) fail(path, "the folder " + dir.string() + " does not exist");
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) fail(path, "cannot create a temporary file in " + dir.string(), errno);
  const std::string tmp(name.data());
  try {
    produce([&](const void* d, size_t n) { writeAllOrFail(fd, d, n, path); });
    if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) fail(path, "cannot flush to disk", errno);
    // mkstemp creates 0600; give the file the usual permissions.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot write", err);
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, "cannot move the temporary file into place", err);
  }
}

void writeFileAtomically(const std::string& path, const std::string& data) {
  writeFileAtomically(path, [&](const ByteSink& sink) { sink(data.data(), data.size()); });
}

}  // namespace ess
