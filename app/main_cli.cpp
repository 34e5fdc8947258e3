// `ess`: the command-line twin of ESS Explorer (docs/definitions.md section 6).
// Exit status: 0 success, 1 bad input, 2 usage error, 130 interrupted (Ctrl+C); one
// `error: ...` line on stderr.
#include <signal.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

#include "cli_flag.h"
#include "commands.h"
#include "ess/cancel.h"
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
    "        [--device cpu|cuda] [--memory-budget GIB] [--operator block|ssm] [--format csv|json]\n"
    "        [--compare B] [-o PATH]\n"
    "  operator FILE --layer N [--head H|all] [--input SPEC] [--memory-budget GIB]\n"
    "        [--operator block|ssm] -o OUT.safetensors\n"
    "  render FILE --figure heatmap|curve|spectrum|layers|position|grid [--layer N|all]\n"
    "        [--head H|A:B|total|all] [--panel heatmap|curve] [--split S] [--input SPEC]\n"
    "  render RUN --figure training [--layer N|all] [--measure tolerance|entropy|utilization]\n"
    "        [--input SPEC]... [--style ...] -o OUT.png|OUT.pdf|OUT.svg|OUT.csv\n"
    "        [--scale linear|log] [--mark \"\\n, <eos>\"] [--width LEN]\n"
    "        [--height LEN] [--dpi N] [--style screen|paper] [--font-size PT] [--font-family NAME]\n"
    "        [--colormap auto|viridis|magma|cividis|diverging] [--range auto|symmetric|MIN:MAX|pNN]\n"
    "        [--mask-upper] [--title auto|none|TEXT] [--memory-budget GIB] [--operator block|ssm]\n"
    "        [--compare B [--diff]]\n"
    "        -o OUT.png|OUT.pdf|OUT.svg\n"
    "  convert FILE -o OUT.safetensors\n"
    "  sweep RUN_OR_LIST [--layer N|A:B|all] [--head H|A:B|total|all] [--input SPEC]...\n"
    "        [--summary none|mean] [--format csv|json] [--work DIR] [--jobs N] [-o PATH]\n"
    "        [--slurm [--partition P] [--time T] [--cpus-per-task C] [--max-parallel M]\n"
    "        [--shards-per-task S]] [--tolerance X] ... (the options of curve)\n"
    "        sweep --work DIR [--shards A:B] | sweep --collect --work DIR [-o PATH]\n";
// `ess render --help` adds what each figure option means and its unit.
const char* kRenderOptionsHelp =
    "\n"
    "render options:\n"
    "  --figure KIND        heatmap (operator T, colour bar), curve (ESS over splits), spectrum\n"
    "                       (singular values of H_s), layers (layer totals and per-head ESS),\n"
    "                       position (ESS over token positions), grid (small multiples: a row per\n"
    "                       layer, a column per head, shared axes), training (FILE is a run: each\n"
    "                       layer's mean over splits against the step, the logged loss and\n"
    "                       accuracy below)\n"
    "  --measure M          training: tolerance (mean total tolerance-ESS, default), entropy, or\n"
    "                       utilization (mean of tolerance-ESS / TSS); the mean over the inputs\n"
    "                       when --input is given more than once\n"
    "  --layer N|all        the layer (default 0); position and grid: all = every layer (grid\n"
    "                       default)\n"
    "  --head H|A:B|total   one head, heads A..B summed or every head summed (default 0; position:\n"
    "                       total); grid: H, A:B or all (default), one panel each, 64 at most\n"
    "  --panel KIND         grid panels: heatmap (operator T, one colour bar and colour range for\n"
    "                       all panels; default) or curve (ESS over splits on one y range)\n"
    "  --width LEN          figure width: 3.25in, 8.3cm, 85mm, 240pt or pixels (900 or 900px; a\n"
    "                       pixel is 1/dpi in). Default 900px (screen), 3.25in (paper)\n"
    "  --height LEN         figure height, same units; default: the figure's own aspect (a heatmap\n"
    "                       gets a square matrix with its colour bar and no empty bands)\n"
    "  --dpi N              PNG resolution, 36..2400 dots per inch (default 96 screen, 300 paper);\n"
    "                       text of s pt is s*N/72 pixels high. PDF and SVG: sizes in points;\n"
    "                       --dpi only converts pixel sizes\n"
    "  --style screen|paper screen: the GUI's look; paper: 7.5 pt text, thin lines, tight margins\n"
    "  --font-size PT       tick-label size in points, 4..48 (titles and axis labels a little larger)\n"
    "  --font-family NAME   font family (default: the application font)\n"
    "  --title T            auto (the figure's own: file, layer, head), none, or the text T;\n"
    "                       default auto (screen), none (paper: the caption says it)\n"
    "  --scale linear|log   heatmap and grid values: T or log10|T| (exact zeros drawn grey on log)\n"
    "  --colormap MAP       heatmap: viridis, magma, cividis (sequential) or diverging (blue < 0 <\n"
    "                       red, white at 0); auto: diverging for operators with negative entries\n"
    "                       on the linear scale, else viridis\n"
    "  --range R            heatmap colour range: auto (min..max; diverging: symmetric), symmetric\n"
    "                       (-max|T|..max|T|), MIN:MAX (log scale: in log10 units), pNN (clipped at\n"
    "                       the NNth percentile, e.g. p99)\n"
    "  --mask-upper         heatmap: the causal upper triangle (c > r) in grey\n"
    "  --split S            the split drawn (curve cursor, heatmap H_s outline, spectrum); 1..L-1\n"
    "  --mark LIST          position figure: the delimiter tokens marked\n"
    "  --compare B          curve, position, layers: checkpoint B (same layers, heads and L)\n"
    "                       drawn beside FILE (A), each named by its folder or file name\n"
    "  --diff               with --figure heatmap --compare B: T_B - T_A (diverging, symmetric)\n"
    "  --input SPEC         models: the input tokens (SPEC below); operator files ignore it\n"
    "  --tolerance X        tolerance-ESS threshold, a fraction of the reference (default 0.001)\n"
    "  --normalization N    max|sum|none: what the tolerance is relative to (default max)\n"
    "  --memory-budget GIB  the largest dense operator and a model's float64 forward pass, in GiB\n"
    "                       (default: half this machine's memory, 1 to 32 GiB); longer operators\n"
    "                       are drawn from point-sampled tiles\n"
    "  --operator block|ssm Hugging Face recurrent layers: the block's operator (default) or the\n"
    "                       SSM-only one, without output gate, norm and D skip (README \"Mixer kinds\")\n"
    "  --algorithm, --dtype, --device, --metric, --splits: as for `ess curve`\n"
    "  -o OUT               .png (raster), .pdf (one page, width x height points, fonts\n"
    "                       embedded) or .svg (size in mm, text as glyph outlines, so every\n"
    "                       renderer draws the same letters)\n";
const char* kUsageTail =
    "\n"
    "FILE: an ess-lm checkpoint folder (config.json + model.safetensors), a Hugging Face model\n"
    "folder (gpt2, llama, mistral, qwen2, mamba), an operator or generator file (.safetensors),\n"
    "or a PyTorch checkpoint (.pt, .pth, .bin).\n"
    "SPEC: mqar:seed=S,len=L,pairs=P,vocab=V | tokens:1,2,3 | random:seed=S,len=L |\n"
    "      text:TEXT | textfile:PATH (tokenized by the checkpoint's tokenizer)\n";

}  // namespace

namespace {

// Ctrl+C (SIGINT) raises this flag: the computing commands stop at their next cancel point
// (ess/cancel.h: between layers, heads and splits), write no output and exit 130. The handler
// is reset on the first signal, so a second Ctrl+C ends the process at once.
std::atomic<bool> gInterrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void onInterrupt(int) { gInterrupted.store(true); }

void stopOnInterrupt() {
  struct sigaction sa {};
  sa.sa_handler = &onInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
}

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
      if (command == "render") std::cout << kRenderOptionsHelp;
      std::cout << kUsage.substr(kUsage.find("\nFILE:") + 1);
      return finished(0);
    }
  // Commands that compute stop on Ctrl+C at their next cancel point; the others (reading a
  // file's header) keep the default: the signal ends them.
  if (command == "curve" || command == "operator" || command == "render") stopOnInterrupt();
  const ess::CancelScope interruptible(&gInterrupted);
  try {
    int rc = -1;
    if (command == "info") rc = ess::cli::runInfo(args);
    if (command == "curve") rc = ess::cli::runCurve(args);
    if (command == "operator") rc = ess::cli::runOperator(args);
    if (command == "render") rc = ess::cli::runRender(args);
    if (command == "convert") rc = ess::cli::runConvert(args);
    if (command == "train-mqar") rc = ess::cli::runTrainMqar(args);
    if (command == "sweep") rc = ess::cli::runSweep(args);
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
    if (gInterrupted.load()) {
      std::cerr << "error: interrupted (Ctrl+C); no output was written\n";
      return 130;  // as a shell reports a process ended by SIGINT
    }
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
