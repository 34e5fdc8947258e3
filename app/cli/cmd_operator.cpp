// `ess operator FILE --layer N [--head H|all] [--input SPEC] [--memory-budget GIB] [--operator block|ssm]
//  -o OUT.safetensors`
#include <unistd.h>

#include "commands.h"
#include "ess/error.h"
#include "output.h"
#include "session_options.h"

namespace ess::cli {

int runOperator(const std::vector<std::string>& argv) {
  Args a = Args::parse(argv, {"--layer", "--head", "--input", "--memory-budget", "--operator", "-o"});
  if (a.positional.size() != 1) throw UsageError("operator: expected one FILE");
  if (!a.has("-o")) throw UsageError("operator: -o OUT.safetensors is required");
  if (!a.has("--layer")) throw UsageError("operator: --layer N is required");
  refuseOutputOverInput(a.get("-o"), a.positional[0]);
  auto session = openWithInput(a.positional[0], a);
  const SourceInfo& info = session->info();
  const int layer = indicesFrom(a, "--layer", static_cast<int>(info.layers.size()), false).at(0);
  const std::vector<int> heads = indicesFrom(a, "--head", info.layers[layer].heads);
  OperatorData op = [&] {
    TerminalProgress progress(isatty(2) != 0);  // a deep layer's forward pass takes minutes
    progress.setPrefix("layer " + std::to_string(layer));
    const ProgressScope forwardProgress(progress.stageListener());
    return session->operatorOf(layer);
  }();
  OperatorData out;
  out.heads = static_cast<int>(heads.size());
  out.length = op.length;
  const size_t block = static_cast<size_t>(op.length) * op.length;
  for (int h : heads)
    out.values.insert(out.values.end(), op.values.begin() + h * block, op.values.begin() + (h + 1) * block);
  std::map<std::string, std::string> meta = {{"source", info.path},
                                             {"layer", std::to_string(layer)},
                                             {"mixer", info.layers[layer].mixer},
                                             {"heads", a.get("--head", "all")}};
  if (!session->input().empty()) meta["input"] = session->input();
  writeOperatorFile(a.get("-o"), out, meta);
  return 0;
}

}  // namespace ess::cli
