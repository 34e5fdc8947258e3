// Cancellation of long work (issue 12): the GUI's Cancel and the CLI's Ctrl+C raise one flag,
// and the work on that thread stops at its next cancel point (between the layers of a forward
// pass, after an operator is formed, between heads and splits of the engines, between rows of a
// tile) with ess::Cancelled, keeping nothing half-computed. The flag is the thread's, set by a
// CancelScope around the work, so the sessions, models and engines need no extra parameter.
#pragma once
#include <atomic>

namespace ess {

/// Makes `flag` the cancel flag of the work on this thread for the scope's lifetime (scopes
/// nest; a null flag keeps the enclosing one). The flag must outlive the scope.
class CancelScope {
 public:
  explicit CancelScope(const std::atomic<bool>* flag);
  ~CancelScope();
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

/// The cancel flag of this thread's work (null outside every CancelScope); pass it on to work
/// that runs on other threads (the engines' workers).
const std::atomic<bool>* currentCancelFlag();

/// A cancel point: throws Cancelled when this thread's flag is raised. `stage` names the point
/// ("forward pass", "operator", "tile", ...) for the test hook below.
void checkCancelled(const char* stage);

/// Test seam (set from code only, never from the environment): called on the working thread at
/// every cancel point with its stage, before the flag is read, so that a test can press Cancel
/// at a chosen stage deterministically. Null (the default) turns it off.
using CancelPointHook = void (*)(const char* stage);
void setCancelPointHook(CancelPointHook hook);
CancelPointHook cancelPointHook();

}  // namespace ess
