#include "ess/version.h"
namespace ess {
const char* versionString() { return "0.1.0"; }
}  // namespace ess
