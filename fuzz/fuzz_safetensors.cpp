// libFuzzer target: the safetensors reader (header JSON, dtypes, shapes, offsets and data) on
// arbitrary bytes, read from a file as `ess` does (ess/safetensors_io.h).
#include "ess/safetensors_io.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = ess::fuzz::scratchPath("in.safetensors");
  ess::fuzz::writeBytes(path, data, size);
  ess::fuzz::expectCleanErrors([&] {
    ess::NamedArrays t = ess::readSafetensorArrays(path);
    for (const auto& [name, a] : t.arrays)  // touch every byte the reader handed out
      if (a.nbytes() > 0) {
        volatile char sink = static_cast<const char*>(a.data())[a.nbytes() - 1];
        (void)sink;
      }
  });
  return 0;
}
