// Opening files that users name without ever blocking or trusting them: a FIFO, a device, a
// socket or a directory is refused before anything waits on it (stat first, then open with
// O_NONBLOCK and check again with fstat, so a file swapped in between is caught too), and
// every failure says why in errno's words (symbolic-link loop, name too long, permission
// denied), naming the file. Used by every reader of files in the core (safetensors, PyTorch
// zip, config.json, index files). Each file opened is recorded in the thread's OpenedFiles
// scopes (ess/file_identity.h), so that a Session can tell later whether it changed.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "ess/file_identity.h"

namespace ess {

/// A regular file open for reading (closed by the destructor). Throws InputError
/// "<path>: <problem>" where `kind` names what the file should be ("safetensors file"):
/// "no such file", "is a directory, not a <kind>", "is a FIFO (named pipe), not a <kind>",
/// "is a device, not a <kind>", or "cannot open: <errno text>".
class InputFile {
 public:
  InputFile(const std::string& path, const std::string& kind);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  /// Size in bytes when opened.
  uint64_t size() const { return size_; }
  /// What the file was when opened (device, inode, size, modification time).
  FileIdentity identity() const;

  /// Reads exactly `n` bytes at `offset`. Throws InputError "<path>: cannot read <what>: <reason>"
  /// (the reason is errno's text, or "the file changed on disk" when it got shorter).
  void readAt(void* buffer, uint64_t n, uint64_t offset, const std::string& what) const;
  /// The whole file; InputError when it is larger than `maxBytes`.
  std::string readAll(uint64_t maxBytes) const;
  /// Throws InputError "<path>: the file changed on disk while it was being read" when its
  /// size, modification time or inode differ from those seen at open (another program
  /// rewrote or replaced it); call after reading, so no half-old, half-new data is used.
  void checkUnchanged() const;
  /// Gives up ownership of the descriptor (for libraries that take an fd).
  int release();

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  int64_t mtimeNs_ = 0;
};

/// The whole of the regular file `path` (see InputFile), at most `maxBytes`.
std::string readRegularFile(const std::string& path, const std::string& kind, uint64_t maxBytes);

/// Why `path` cannot be opened, from errno `err`: "no such file", "cannot open: <errno text>".
std::string openFailure(int err);

}  // namespace ess
