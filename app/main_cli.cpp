// `ess`: the command-line twin of ESS Explorer (docs/definitions.md section 6).
// Exit status: 0 success, 1 bad input, 2 usage error; one `error: ...` line on stderr.
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

#include "cli_flag.h"
#include "commands.h"
#include "ess/error.h"
#include "ess/version.h"
#include "output.h"
#include "train_mqar_usage.inc"

namespace {

// The usage text around the train-mqar lines, which come from the mixer registry (its flags).
const char* kUsageHead =
    "usage: ess COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  info FILE [--tensors] [--format text|json]\n"
    "  curve FILE [--layer N|all] [--head H|A:B|all] [--aggregate none|total] [--input SPEC]\n"
    "        [--metric tolerance|entropy|both] [--tolerance X] [--normalization max|sum|none]\n"
    "        [--splits A:B:STEP] [--algorithm auto|dense|structured] [--dtype float32|float64]\n"
    "        [--device cpu|cuda] [--memory-budget GIB] [--format csv|json] [-o PATH]\n"
    "  operator FILE --layer N [--head H|all] [--input SPEC] [--memory-budget GIB] -o OUT.safetensors\n"
    "  render FILE --figure heatmap|curve|spectrum|layers|position [--layer N|all] [--head H|A:B|total]\n"
    "        [--split S] [--input SPEC] [--scale linear|log] [--mark \"\\n, <eos>\"] [--width PX]\n"
    "        [--height PX] [--dpi N] [--memory-budget GIB] -o OUT.png|OUT.pdf|OUT.svg\n"
    "  convert FILE -o OUT.safetensors\n";
const char* kUsageTail =
    "\n"
    "FILE: an ess-lm checkpoint folder (config.json + model.safetensors), a Hugging Face model\n"
    "folder (gpt2, llama, mistral, qwen2, mamba), an operator or generator file (.safetensors),\n"
    "or a PyTorch checkpoint (.pt, .pth, .bin).\n"
    "SPEC: mqar:seed=S,len=L,pairs=P,vocab=V | tokens:1,2,3 | random:seed=S,len=L |\n"
    "      text:TEXT | textfile:PATH (tokenized by the checkpoint's tokenizer)\n";

}  // namespace

namespace {

// Standard output flushed and checked after usage text: `ess --help > /dev/full` fails too.
int finished(int rc) {
  try {
    ess::cli::finishStandardOutput();
  } catch (const ess::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // The train-mqar flags were taken from the mixer registry at build time (ess_usage_gen).
  auto fullUsage = []() -> std::string {
    return std::string(kUsageHead) + ess::cli::generated::kTrainMqarUsage + kUsageTail;
  };
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    const std::string kUsage = fullUsage();
    if (argc < 2) {
      std::cerr << "error: no command given\n" << kUsage;
      return 2;
    }
    std::cout << kUsage;
    return finished(0);
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::cout << "ess " << ess::versionString() << "\n";
    return finished(0);
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  // `ess COMMAND --help`: the usage lines of that command.
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      const std::string kUsage = fullUsage();
      std::istringstream usage(kUsage);
      std::string line;
      bool in = false, found = false;
      while (std::getline(usage, line)) {
        if (line.rfind("  " + command + " ", 0) == 0)
          in = found = true;
        else if (line.rfind("  ", 0) != 0 || line.rfind("   ", 0) != 0)
          in = false;
        if (in) std::cout << line << "\n";
      }
      if (!found) break;  // an unknown command is reported below
      if (command == "train-mqar") std::cout << ess::cli::generated::kTrainMqarOptionsHelp;
      std::cout << kUsage.substr(kUsage.find("\nFILE:") + 1);
      return finished(0);
    }
  try {
    int rc = -1;
    if (command == "info") rc = ess::cli::runInfo(args);
    if (command == "curve") rc = ess::cli::runCurve(args);
    if (command == "operator") rc = ess::cli::runOperator(args);
    if (command == "render") rc = ess::cli::runRender(args);
    if (command == "convert") rc = ess::cli::runConvert(args);
    if (command == "train-mqar") rc = ess::cli::runTrainMqar(args);
    if (rc >= 0) {
      ess::cli::finishStandardOutput();  // a write that failed (full disk) is an error, not success
      return rc;
    }
    std::cerr << "error: unknown command '" << command << "' (try ess --help)\n";
    return 2;
  } catch (const ess::UsageError& e) {
    std::cerr << "error: " << ess::cli::cliMessage(e) << "\n";
    return 2;
  } catch (const ess::InputError& e) {
    std::cerr << "error: " << ess::cli::cliMessage(e) << "\n";
    return 1;
  } catch (const ess::Cancelled&) {
    std::cerr << "error: cancelled\n";
    return 1;
  } catch (const std::exception& e) {
    // Library errors (LibTorch) may carry a backtrace after the first line: keep one line.
    std::string message = e.what();
    message = message.substr(0, message.find('\n'));
    std::cerr << "error: " << message << "\n";
    return 1;
  }
}
