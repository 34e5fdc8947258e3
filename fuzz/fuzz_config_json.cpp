// libFuzzer target: config.json of an ess-lm checkpoint and of each Hugging Face family, opened
// as a session beside real weights and run on a short input. The first byte picks the folder
// (ess-lm hybrid demo, GPT-2, Llama, Mamba, Qwen2 fixtures); the rest is config.json.
#include <filesystem>
#include <vector>

#include "ess/session.h"
#include "fuzz_util.h"

namespace fs = std::filesystem;

namespace {

const char* const kFolders[] = {ESS_SOURCE_DIR "/resources/demo/hybrid", ESS_SOURCE_DIR "/tests/data/hf/gpt2_torch",
                                ESS_SOURCE_DIR "/tests/data/hf/llama_spm_torch",
                                ESS_SOURCE_DIR "/tests/data/hf/mamba_torch",
                                ESS_SOURCE_DIR "/tests/data/hf/qwen2_torch"};
constexpr size_t kFolderCount = sizeof(kFolders) / sizeof(kFolders[0]);

// One scratch copy of each folder (all but config.json), made once.
const std::vector<std::string>& scratchFolders() {
  static const std::vector<std::string> dirs = [] {
    std::vector<std::string> out;
    for (size_t i = 0; i < kFolderCount; ++i) {
      const fs::path dir = ess::fuzz::scratchPath("cfg" + std::to_string(i));
      fs::create_directories(dir);
      for (const auto& e : fs::directory_iterator(kFolders[i]))
        if (e.path().filename() != "config.json" && e.path().filename() != "expected.pt")
          fs::copy_file(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing);
      out.push_back(dir.string());
    }
    return out;
  }();
  return dirs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string& dir = scratchFolders()[data[0] % kFolderCount];
  ess::fuzz::writeBytes(dir + "/config.json", data + 1, size - 1);
  ess::fuzz::expectCleanErrors([&] {
    auto s = ess::Session::open(dir, size_t(64) << 20);
    s->setInput("random:seed=0,len=8");
    if (!s->info().layers.empty()) (void)s->operatorOf(0);
  });
  return 0;
}
