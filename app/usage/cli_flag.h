// The command line's names for the core's options and fields: the flag of a key ("d_model" ->
// "--d-model", "state_size" -> "--state-size") and an error worded for the terminal
// (`--layer 5 is outside 0..1`). Header-only: `ess`, ess_usage_gen and the core tests use it.
#pragma once
#include <exception>
#include <string>

#include "ess/error.h"

namespace ess::cli {

/// The flag of option or field `key`: "--" and the key with '_' written '-'.
inline std::string flagOf(const std::string& key) {
  std::string flag = "--" + key;
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

/// The message of `e` for the terminal: options and fields as flags; what() for other errors.
inline std::string cliMessage(const std::exception& e) {
  if (const auto* error = dynamic_cast<const Error*>(&e))
    return error->text([](const std::string& key, bool) { return flagOf(key); });
  return e.what();
}

}  // namespace ess::cli
