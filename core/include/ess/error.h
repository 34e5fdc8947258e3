// Errors raised by essmath and esscore. Every message names the file (or option) and what is
// wrong, so that the CLI can print `error: <message>` and the GUI can show it in a dialog.
#pragma once
#include <stdexcept>
#include <string>

namespace ess {

/// Bad input: an unreadable, malformed or unsupported file, NaN/Inf values, shapes that
/// disagree, a sequence too long for the memory budget. The CLI exits with status 1.
/// The message has the form `<file>: <what is wrong>` where a file is involved.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad usage: an unknown option value, a malformed `--input` or `--splits` spec.
/// The CLI exits with status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Long work stopped on request (the cancel flag was raised).
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace ess
