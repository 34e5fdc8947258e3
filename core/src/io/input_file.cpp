// Non-blocking, checked opening of user-named files: see ess/input_file.h.
#include "ess/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ess/error.h"

namespace ess {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw InputError(path + ": " + what); }

// Refuses anything but a regular file, in words a user knows.
void requireRegular(const std::string& path, const struct stat& sb, const std::string& kind) {
  if (S_ISREG(sb.st_mode)) return;
  if (S_ISDIR(sb.st_mode)) fail(path, "is a directory, not a " + kind);
  if (S_ISFIFO(sb.st_mode)) fail(path, "is a FIFO (named pipe), not a " + kind);
  if (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode)) fail(path, "is a device, not a " + kind);
  if (S_ISSOCK(sb.st_mode)) fail(path, "is a socket, not a " + kind);
  fail(path, "is not a regular file, not a " + kind);
}

int64_t mtimeNs(const struct stat& sb) { return int64_t(sb.st_mtim.tv_sec) * 1000000000 + sb.st_mtim.tv_nsec; }

FileIdentity identityOf(const std::string& path, const struct stat& sb) {
  return {path, uint64_t(sb.st_dev), uint64_t(sb.st_ino), uint64_t(sb.st_size), mtimeNs(sb)};
}

thread_local OpenedFiles* innermostScope = nullptr;

}  // namespace

std::optional<FileIdentity> fileIdentity(const std::string& path) {
  struct stat sb;
  if (::stat(path.c_str(), &sb) != 0) return std::nullopt;
  return identityOf(path, sb);
}

std::string changeOf(const FileIdentity& was) {
  const std::optional<FileIdentity> now = fileIdentity(was.path);
  if (!now) return "it was deleted";
  if (now->device != was.device || now->inode != was.inode) return "another file took its name";
  if (now->size != was.size)
    return "it was rewritten: " + std::to_string(now->size) + " bytes, " + std::to_string(was.size) + " when opened";
  if (now->mtimeNs != was.mtimeNs) return "it was rewritten";
  return {};
}

void checkFilesUnchanged(const std::vector<FileIdentity>& files) {
  for (const FileIdentity& f : files) {
    const std::string why = changeOf(f);
    if (!why.empty()) fail(f.path, std::string(kChangedOnDisk) + " (" + why + "); reopen it");
  }
}

OpenedFiles::OpenedFiles() : outer_(innermostScope) { innermostScope = this; }

OpenedFiles::~OpenedFiles() { innermostScope = outer_; }

void OpenedFiles::record(const FileIdentity& id) {
  for (OpenedFiles* scope = innermostScope; scope; scope = scope->outer_) {
    auto it = std::find_if(scope->files_.begin(), scope->files_.end(),
                           [&](const FileIdentity& f) { return f.path == id.path; });
    if (it == scope->files_.end())
      scope->files_.push_back(id);
    else
      *it = id;
  }
}

std::string openFailure(int err) {
  if (err == ENOENT) return "no such file";
  return std::string("cannot open: ") + std::strerror(err);
}

InputFile::InputFile(const std::string& path, const std::string& kind) : path_(path) {
  struct stat sb;
  if (::stat(path.c_str(), &sb) != 0) fail(path, openFailure(errno));
  requireRegular(path, sb, kind);
  // O_NONBLOCK: should a FIFO replace the file after stat, open returns instead of waiting.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) fail(path, openFailure(errno));
  if (::fstat(fd_, &sb) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    fail(path, std::string("cannot stat: ") + std::strerror(err));
  }
  try {
    requireRegular(path, sb, kind);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
  size_ = static_cast<uint64_t>(sb.st_size);
  dev_ = sb.st_dev;
  ino_ = sb.st_ino;
  mtimeNs_ = mtimeNs(sb);
  OpenedFiles::record(identity());
}

FileIdentity InputFile::identity() const { return {path_, uint64_t(dev_), uint64_t(ino_), size_, mtimeNs_}; }

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

int InputFile::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void InputFile::readAt(void* buffer, uint64_t n, uint64_t offset, const std::string& what) const {
  auto* p = static_cast<char*>(buffer);
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, uint64_t(1) << 30));
    const ssize_t got = ::pread(fd_, p, chunk, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(path_, "cannot read " + what + ": " + std::strerror(errno));
    }
    if (got == 0) fail(path_, "cannot read " + what + ": the file changed on disk (it is shorter than when opened)");
    p += got;
    n -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

std::string InputFile::readAll(uint64_t maxBytes) const {
  if (size_ > maxBytes)
    fail(path_, "the file has " + std::to_string(size_) + " bytes, more than the " + std::to_string(maxBytes) +
                    " this kind of file may have");
  std::string out(static_cast<size_t>(size_), '\0');
  readAt(out.data(), size_, 0, "the file");
  checkUnchanged();
  return out;
}

void InputFile::checkUnchanged() const {
  struct stat now, byName;
  const bool same = ::fstat(fd_, &now) == 0 && static_cast<uint64_t>(now.st_size) == size_ &&
                    mtimeNs(now) == mtimeNs_ && ::stat(path_.c_str(), &byName) == 0 && byName.st_dev == dev_ &&
                    byName.st_ino == ino_;
  if (!same) fail(path_, "the file changed on disk while it was being read; open it again");
}

std::string readRegularFile(const std::string& path, const std::string& kind, uint64_t maxBytes) {
  return InputFile(path, kind).readAll(maxBytes);
}

}  // namespace ess
