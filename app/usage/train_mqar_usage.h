// The usage lines and the option help of `ess train-mqar`, from the mixer registry
// (ess/mixer_registry.h): every option's flag, metavar, help, config.json key, default and the
// kinds that read it. Lines are at most 100 columns.
#pragma once
#include <string>

#include "ess/mixer_registry.h"

namespace ess::cli {

/// The `  train-mqar ...` usage lines of `ess --help`.
std::string trainMqarUsage(const MixerRegistry& registry);
/// The kinds and one entry per mixer option, for `ess train-mqar --help`.
std::string trainMqarOptionsHelp(const MixerRegistry& registry);

}  // namespace ess::cli
