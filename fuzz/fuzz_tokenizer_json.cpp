// libFuzzer target: tokenizer.json (Hugging Face tokenizers' format) parsed and used to encode and
// decode a fixed mixed-script text (ess/tokenizer.h).
#include "ess/tokenizer.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  ess::fuzz::expectCleanErrors([&] {
    auto tok = ess::Tokenizer::fromJsonText(text, "tokenizer.json");
    (void)tok->encode("Hello, world! 123 \xc3\xa9t\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87  \n\t<|endoftext|>");
  });
  return 0;
}
