// The usage and help text of `ess train-mqar`, built from the mixer registry. ess_usage_gen
// runs it at build time, so `ess --help` shows the flags without loading the model library.
#include "train_mqar_usage.h"

#include "cli_flag.h"

#include <algorithm>

namespace ess::cli {

namespace {

// `words` joined by spaces into lines of at most 100 columns, each starting with `indent`.
std::string wrapped(const std::vector<std::string>& words, const std::string& indent) {
  std::string text, line = indent;
  for (const std::string& w : words) {
    if (line.size() > indent.size() && line.size() + 1 + w.size() > 100) {
      text += line + "\n";
      line = indent;
    }
    line += (line.size() > indent.size() ? " " : "") + w;
  }
  return text + line + "\n";
}

}  // namespace

std::string trainMqarUsage(const MixerRegistry& registry) {
  std::vector<std::string> words;  // the mixer option flags come from the registry
  for (const MixerOption& opt : registry.options()) words.push_back("[" + flagOf(opt.key) + " " + opt.metavar + "]");
  words.insert(words.end(), {"[--threads T]", "[--save-every N]", "--out DIR"});
  return "  train-mqar --mixer KIND[,KIND...] [--layers N] [--d-model D] [--heads H] [--steps S]\n"
         "        [--batch B] [--lr X] [--length L] [--pairs P] [--vocab V] [--seed S] [--key-shift on|off]\n" +
         wrapped(words, "        ");
}

std::string trainMqarOptionsHelp(const MixerRegistry& registry) {
  std::vector<std::string> kinds = {"KIND:"};
  for (const std::string& k : registry.kindNames()) kinds.push_back(k + (k == registry.kindNames().back() ? "" : ","));
  std::string help = wrapped(kinds, "") + "mixer options:\n";
  for (const MixerOption& opt : registry.options()) {
    std::string flag = "  " + flagOf(opt.key) + " " + opt.metavar;
    flag.resize(std::max<size_t>(flag.size() + 1, 22), ' ');
    std::string readers;
    for (const std::string& k : opt.kinds) readers += (readers.empty() ? "" : ", ") + k;
    help += flag + opt.help + "\n" + std::string(22, ' ') + "config.json \"" + opt.key + "\", default " +
            (opt.zeroIsLength ? std::string("0 = the sequence length") : std::to_string(opt.defaultValue())) +
            "; read by " + readers + "\n";
  }
  return help;
}

}  // namespace ess::cli
