// libFuzzer target: PyTorch checkpoints (.pt/.bin): the zip container (libzip) and the restricted
// unpickler that rebuilds the state dict without running code (ess/torch_checkpoint.h).
#include "ess/torch_checkpoint.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = ess::fuzz::scratchPath("in.pt");
  ess::fuzz::writeBytes(path, data, size);
  ess::fuzz::expectCleanErrors([&] { (void)ess::readTorchCheckpoint(path); });
  return 0;
}
