// Cancel flags of the working threads: see ess/cancel.h.
#include "ess/cancel.h"

#include "ess/error.h"

namespace ess {
namespace {

thread_local const std::atomic<bool>* tCancelFlag = nullptr;
thread_local const StageProgressFn* tProgress = nullptr;
std::atomic<CancelPointHook> gHook{nullptr};

}  // namespace

CancelScope::CancelScope(const std::atomic<bool>* flag) : previous_(tCancelFlag) {
  if (flag) tCancelFlag = flag;
}

CancelScope::~CancelScope() { tCancelFlag = previous_; }

const std::atomic<bool>* currentCancelFlag() { return tCancelFlag; }

void checkCancelled(const char* stage) {
  if (const CancelPointHook hook = gHook.load()) hook(stage);
  if (tCancelFlag && tCancelFlag->load()) throw Cancelled();
}

ProgressScope::ProgressScope(const StageProgressFn* listener) : previous_(tProgress) {
  if (listener && *listener) tProgress = listener;
}

ProgressScope::~ProgressScope() { tProgress = previous_; }

void reportStageProgress(const char* stage, long done, long total) {
  if (tProgress) (*tProgress)(stage, done, total);
}

void setCancelPointHook(CancelPointHook hook) { gHook.store(hook); }

CancelPointHook cancelPointHook() { return gHook.load(); }

}  // namespace ess
