// libFuzzer target: operator and generator files (docs/definitions.md section 6) opened as a
// session, with one small tile of the first layer: the validation of shapes, values and
// generator forms before any engine runs on them (ess/session.h).
#include "ess/session.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = ess::fuzz::scratchPath("op.safetensors");
  ess::fuzz::writeBytes(path, data, size);
  ess::fuzz::expectCleanErrors([&] {
    // A small budget: a file may claim any length, and the fuzzer runs with -rss_limit_mb.
    auto s = ess::Session::open(path, size_t(64) << 20);
    if (s->info().layers.empty()) return;
    ess::TileRequest r;
    r.maxRows = r.maxColumns = 16;
    (void)s->operatorTile(0, 0, r);
  });
  return 0;
}
