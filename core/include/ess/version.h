// Version of ESS Explorer and its core library.
#pragma once
namespace ess {
/// The version string, e.g. "0.1.0".
const char* versionString();
}  // namespace ess
