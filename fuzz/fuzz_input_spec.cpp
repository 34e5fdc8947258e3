// libFuzzer target: the --input spec parser (docs/definitions.md section 4: tokens:, random:,
// mqar:, text:, textfile:) for a model with 256 tokens of vocabulary and length 4096
// (ess/input_spec.h).
#include "ess/input_spec.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  ess::fuzz::expectCleanErrors([&] { (void)ess::tokensFromSpec(spec, 256, 4096); });
  return 0;
}
