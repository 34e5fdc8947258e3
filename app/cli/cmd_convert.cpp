// `ess convert FILE -o OUT.safetensors`: any readable checkpoint to safetensors.
#include "commands.h"
#include "ess/error.h"
#include "ess/model_backend.h"
#include "output.h"

namespace ess::cli {

int runConvert(const std::vector<std::string>& argv) {
  Args a = Args::parse(argv, {"-o"});
  if (a.positional.size() != 1) throw UsageError("convert: expected one FILE");
  if (!a.has("-o")) throw UsageError("convert: -o OUT.safetensors is required");
  refuseOutputOverInput(a.get("-o"), a.positional[0]);
  modelBackend().convert(a.positional[0], a.get("-o"));
  return 0;
}

}  // namespace ess::cli
