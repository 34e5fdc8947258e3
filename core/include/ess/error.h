// Errors raised by essmath and esscore. Every message names the file, or the option or field,
// and what is wrong. An option or field is carried as data (Error::field, and the names inside
// the body), so that each front end words it its own way: the CLI as `--layer 5 is outside 0..1`
// (app/usage/cli_flag.h), the GUI as `Layer 5 is outside 0..1` (app/gui/error_text.h).
#pragma once
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ess {

/// One piece of an error's body: text, or (`isName`) the key of an option or field that the
/// body mentions, e.g. the `heads` of "d_model 12 is not divisible by heads 5".
struct MessagePart {
  MessagePart(std::string t) : text(std::move(t)) {}  // NOLINT: text converts implicitly
  MessagePart(const char* t) : text(t) {}             // NOLINT
  MessagePart(std::string t, bool name) : text(std::move(t)), isName(name) {}
  std::string text;
  bool isName = false;
};

/// The option or field `key` ("heads", "device") inside an error's body.
inline MessagePart nameOf(std::string key) { return MessagePart(std::move(key), true); }

/// How a front end writes the option or field `key` (the core's name: "input", "layer",
/// "d_model", "state_size"); `first` when it opens the message.
using NameStyle = std::function<std::string(const std::string& key, bool first)>;

/// An error the user can act on. Either a whole message (`<file>: <what is wrong>`), or an
/// option or field `field()` followed by a body that starts with ": " or " " (": expected cpu
/// or cuda, got 'tpu'", " 5 is outside 0..1"). what() writes each name as its key
/// ("layer 5 is outside 0..1"); the front ends call text() with their own NameStyle.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  Error(std::string field, std::vector<MessagePart> body);

  /// The option or field the error is about; empty when the message names a file.
  const std::string& field() const { return field_; }
  /// The body's pieces (the whole message when field() is empty).
  const std::vector<MessagePart>& body() const { return body_; }
  /// The message with field() and every name in the body written by `name`.
  std::string text(const NameStyle& name) const;

 private:
  std::string field_;
  std::vector<MessagePart> body_;
};

/// Bad input: an unreadable, malformed or unsupported file, NaN/Inf values, shapes that
/// disagree, a sequence too long for the memory budget. The CLI exits with status 1.
/// The message has the form `<file>: <what is wrong>` where a file is involved.
class InputError : public Error {
 public:
  using Error::Error;
};

/// Bad usage: an unknown option value, a malformed input or splits spec, a layer or head out
/// of range. The CLI exits with status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// Long work stopped on request (the cancel flag was raised).
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace ess
