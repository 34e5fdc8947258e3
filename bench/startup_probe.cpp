// What `ess curve` on an operator or generator file costs without LibTorch (issue 10): reads
// the file with the math library alone (essmath), computes the curves of layer 0 like
// `ess curve` (structured engine for generator files) and prints them as CSV. Timed by
// bench/bench_startup.sh beside `ess`, it shows the start-up a model library loaded only on
// demand would save.
#include <cstdio>
#include <exception>

#include "ess/ess_engine.h"
#include "ess/generator_form.h"
#include "ess/safetensors_io.h"
#include "ess/structured_ess.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: startup_probe FILE.safetensors\n");
    return 2;
  }
  try {
    const ess::NamedArrays t = ess::readSafetensorArrays(argv[1]);
    const ess::EssCurve c = ess::isGeneratorFile(t)
                                ? ess::computeStructuredEss(ess::readGenerators(t, argv[1]), ess::EssOptions())
                                : ess::computeEss(*t.find("operator"), ess::EssOptions());
    std::printf("layer,head,split,tolerance_ess,entropy_ess\n");
    for (size_t h = 0; h < c.tolerance.size(); ++h)
      for (size_t i = 0; i < c.splits.size(); ++i)
        std::printf("0,%zu,%d,%g,%.17g\n", h, c.splits[i], c.tolerance[h][i], c.entropy[h][i]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
