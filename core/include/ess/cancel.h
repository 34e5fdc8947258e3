// Cancellation of long work (issue 12): the GUI's Cancel and the CLI's Ctrl+C raise one flag,
// and the work on that thread stops at its next cancel point (between the layers of a forward
// pass, after an operator is formed, between heads and splits of the engines, between rows of a
// tile) with ess::Cancelled, keeping nothing half-computed. The flag is the thread's, set by a
// CancelScope around the work, so the sessions, models and engines need no extra parameter.
#pragma once
#include <atomic>
#include <functional>

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

/// Progress of work that takes no progress argument (the forward pass to a layer, which the
/// operator, tile and curve calls run first), reported to this thread's listener as
/// `listener(stage, done, total)` in the stage's own units (blocks). Scopes nest like
/// CancelScope; a null listener keeps the enclosing one. It must outlive the scope.
using StageProgressFn = std::function<void(const char* stage, long done, long total)>;
class ProgressScope {
 public:
  explicit ProgressScope(const StageProgressFn* listener);
  ~ProgressScope();
  ProgressScope(const ProgressScope&) = delete;
  ProgressScope& operator=(const ProgressScope&) = delete;

 private:
  const StageProgressFn* previous_;
};

/// Tells this thread's listener (if any) that `done` of `total` units of `stage` are done.
void reportStageProgress(const char* stage, long done, long total);

/// Test seam (set from code only, never from the environment): called on the working thread at
/// every cancel point with its stage, before the flag is read, so that a test can press Cancel
/// at a chosen stage deterministically. Null (the default) turns it off.
using CancelPointHook = void (*)(const char* stage);
void setCancelPointHook(CancelPointHook hook);
CancelPointHook cancelPointHook();

}  // namespace ess
