// Benchmark of issue 5: a synthetic 1B-parameter Llama checkpoint in bf16 (Hugging Face layout,
// Llama-3.2-1B shapes: hidden 2048, 16 layers, 32 query / 8 key-value heads, MLP 8192,
// vocabulary 128256, tied embeddings), written by the project's own safetensors writer, then
// opened the way the GUI and the CLI open it: Session::open, a 512-token input, the operator
// of one layer (the heatmap's data) and its ESS curve. Each depth runs in a fresh child process
// so its peak RSS (getrusage ru_maxrss) is its own.
//
//   ./build/bench/bench_hf_llama [DIR]      (default /tmp/ess_llama_1b; about 2.5 GB of disk)
//
// Prints, per layer depth: seconds to open, to form the operator and to compute the curve,
// and the peak RSS of the process.
#include <ATen/ATen.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ess/safetensors.h"
#include "ess/session.h"

namespace {

const int kHidden = 2048, kLayers = 16, kHeads = 32, kKvHeads = 8, kMlp = 8192, kVocab = 128256;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

void writeCheckpoint(const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  if (fs::exists(dir + "/model.safetensors")) return;
  std::ofstream(dir + "/config.json") << R"({"model_type": "llama", "hidden_size": 2048, "num_hidden_layers": 16,
 "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 8192, "vocab_size": 128256,
 "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": true})";
  at::manual_seed(0);
  ess::NamedTensors t;
  auto w = [&](const std::string& name, std::vector<int64_t> shape, double scale) {
    t.add(name, (at::randn(shape, at::kFloat) * scale).to(at::kBFloat16));
  };
  const int kv = kHidden / kHeads * kKvHeads;
  w("model.embed_tokens.weight", {kVocab, kHidden}, 0.02);
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    t.add(p + "input_layernorm.weight", at::ones({kHidden}, at::kBFloat16));
    t.add(p + "post_attention_layernorm.weight", at::ones({kHidden}, at::kBFloat16));
    w(p + "self_attn.q_proj.weight", {kHidden, kHidden}, 0.02);
    w(p + "self_attn.k_proj.weight", {kv, kHidden}, 0.02);
    w(p + "self_attn.v_proj.weight", {kv, kHidden}, 0.02);
    w(p + "self_attn.o_proj.weight", {kHidden, kHidden}, 0.02);
    w(p + "mlp.gate_proj.weight", {kMlp, kHidden}, 0.02);
    w(p + "mlp.up_proj.weight", {kMlp, kHidden}, 0.02);
    w(p + "mlp.down_proj.weight", {kHidden, kMlp}, 0.02);
  }
  t.add("model.norm.weight", at::ones({kHidden}, at::kBFloat16));
  ess::writeSafetensors(dir + "/model.safetensors", t);
}

void runDepth(const std::string& dir, int layer) {
  const double t0 = now();
  auto s = ess::Session::open(dir);
  s->setInput("random:seed=0,len=512");
  const double t1 = now();
  const ess::OperatorData op = s->operatorOf(layer);
  const double t2 = now();
  const ess::CurveData c = s->curve(layer, ess::EssOptions());
  const double t3 = now();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::printf(
      "layer %2d: open + input %.2f s, operator [%d, %d, %d] %.2f s, curve (%zu heads x %zu splits) %.2f s,"
      " total %.2f s, peak RSS %.2f GiB\n",
      layer, t1 - t0, op.heads, op.length, op.length, t2 - t1, c.tolerance.size(), c.splits.size(), t3 - t2, t3 - t0,
      double(ru.ru_maxrss) / (1024.0 * 1024.0));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/tmp/ess_llama_1b";
  const double w0 = now();
  writeCheckpoint(dir);
  std::printf("checkpoint %s (%.2f GB) ready in %.1f s\n", dir.c_str(),
              double(std::filesystem::file_size(dir + "/model.safetensors")) / 1e9, now() - w0);
  std::fflush(stdout);
  for (int layer : {0, 1, kLayers / 2, kLayers - 1}) {
    const pid_t pid = fork();
    if (pid == 0) {
      runDepth(dir, layer);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
  }
  return 0;
}
