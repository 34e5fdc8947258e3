// Helpers the core test suites share: the message of an expected error.
#pragma once
#include <string>

#include "ess/error.h"

/// The message of the `E` that `f` throws, or "<no error>" when it throws none (so that a
/// missing error fails the test's check on the message).
template <typename E = ess::InputError, typename F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no error>";
}

/// The message of the InputError `f` throws, or "<no error>".
template <typename F>
std::string inputErrorOf(F&& f) {
  return errorOf<ess::InputError>(f);
}

/// Whether `s` contains `part`.
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }
