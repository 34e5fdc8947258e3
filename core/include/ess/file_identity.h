// Noticing that a file changed on disk after it was opened: a training job saving over the
// weights, a file replaced by rename, truncated or deleted. What a file was when opened (device,
// inode, size, modification time in ns) is recorded, and compared again before every later use,
// so that no result mixes what was read then with what is on disk now (issue 12). Plain data;
// no LibTorch, no Qt.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ess {

/// What a regular file was when it was opened (stat(2) fields).
struct FileIdentity {
  std::string path;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;    ///< bytes
  int64_t mtimeNs = 0;  ///< modification time, ns since the epoch
  bool operator==(const FileIdentity& o) const {
    return path == o.path && device == o.device && inode == o.inode && size == o.size && mtimeNs == o.mtimeNs;
  }
};

/// The identity of `path` now (stat(2), following symbolic links); nullopt when it does not exist
/// or cannot be stat'ed.
std::optional<FileIdentity> fileIdentity(const std::string& path);

/// The words every "changed on disk" message contains (front ends look for them to offer a reload).
constexpr const char* kChangedOnDisk = "the file changed on disk since it was opened";

/// Why `was` is no longer the file at its path: "" when it is the same file, else the reason
/// ("it was deleted", "another file took its name", "it was rewritten: 100 bytes, 2417 when opened").
std::string changeOf(const FileIdentity& was);

/// Throws InputError "<path>: the file changed on disk since it was opened (<reason>); reopen it"
/// for the first of `files` that changed (see changeOf).
void checkFilesUnchanged(const std::vector<FileIdentity>& files);

/// Collects the identity of every ess::InputFile opened on this thread while it lives (the files a
/// Session reads at open). Scopes nest; each records what is opened inside it.
class OpenedFiles {
 public:
  OpenedFiles();
  ~OpenedFiles();
  OpenedFiles(const OpenedFiles&) = delete;
  OpenedFiles& operator=(const OpenedFiles&) = delete;

  /// The files opened so far, one entry per path (the latest identity), in the order first opened.
  const std::vector<FileIdentity>& files() const { return files_; }
  /// Called by InputFile: adds or refreshes `id`.
  static void record(const FileIdentity& id);

 private:
  std::vector<FileIdentity> files_;
  OpenedFiles* outer_ = nullptr;
};

}  // namespace ess
