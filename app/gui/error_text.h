// Errors worded for the GUI: an option or field the core names ("input", "layer") is written
// as the control the user sets it with ("Input: ...", "Layer 5 is outside 0..1"), where the
// command line writes `--input: ...` (app/usage/cli_flag.h).
#pragma once
#include <QString>
#include <exception>
#include <string>

namespace errortext {

/// The GUI's name of option or field `key`: "layer" -> "Layer" when it opens the message,
/// "layer" inside it; '_' is written as a space ("d_model" -> "D model").
QString labelOf(const std::string& key, bool first);

/// The message of `e` for a dialog or the status bar: ess::Error with labelOf names,
/// what() for other exceptions.
QString messageOf(const std::exception& e);

}  // namespace errortext
