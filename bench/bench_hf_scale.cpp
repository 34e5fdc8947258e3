// Benchmark of issue 16 (items 2 and 3): whole models of the paper's sizes in bounded memory.
// Synthetic bf16 checkpoints with the exact shapes of Llama-3-8B (32 layers, 32 query / 8 KV
// heads, hidden 4096, MLP 14336, vocabulary 128256; about 16 GB) and Mamba-2.8B (64 layers,
// hidden 2560, d_inner 5120, N = 16, dt_rank 160; about 5.5 GB), written on first use by the
// project's safetensors writer as one shard per layer with a Hugging Face index, then opened as
// the CLI opens them (Session::open: weights read per layer on demand).
//
//   ./build/bench/bench_hf_scale llama3-8b|mamba-2.8b [--length L] [--depths 0,1,31]
//                                [--sweep N|all] [--budget GIB] [--dir DIR]
//
// Checkpoints go to DIR (default $XDG_CACHE_HOME/ess-bench/<model>, else ~/.cache/ess-bench/...).
// --depths: each layer in a fresh child process (open, input, the layer's whole ESS curve), so
// each peak RSS (getrusage ru_maxrss) is that depth's own. --sweep: one child computing layers
// 0..N-1 in order, as `ess curve --layer all` does, printing the time and peak RSS after each.
// Weights are random (a pool of normal values read at a different offset for every row), so
// the figures are timings, not ESS values of the real models.
#include <ATen/ATen.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ess/hf_model.h"
#include "ess/safetensors.h"
#include "ess/session.h"

namespace {

namespace fs = std::filesystem;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

/// CPU seconds (user + system) of this process so far: on a shared machine, CPU seconds over
/// the two cores estimate the idle wall time.
double cpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double loadAverage() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

double peakRssGib() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_maxrss) / (1024.0 * 1024.0);
}

/// Random bf16 weights without generating billions of normals: rows are windows of one pool of
/// normal values at offsets that differ row by row (the pool's length is prime to every row's).
class Pool {
 public:
  Pool() {
    at::manual_seed(0);
    pool_ = (at::randn({kSize}, at::kFloat) * 0.02).to(at::kBFloat16).contiguous();
  }
  at::Tensor matrix(std::vector<int64_t> shape) {
    at::Tensor t = at::empty(shape, at::kBFloat16);
    const auto* src = static_cast<const uint16_t*>(pool_.data_ptr());
    auto* dst = static_cast<uint16_t*>(t.data_ptr());
    int64_t n = t.numel(), at = (offset_ = (offset_ * 6364136223846793005ull + 1442695040888963407ull)) % kSize;
    while (n > 0) {
      const int64_t chunk = std::min<int64_t>(n, kSize - at);
      std::memcpy(dst, src + at, size_t(chunk) * 2);
      dst += chunk;
      n -= chunk;
      at = (at + chunk + 7919) % kSize;
    }
    return t;
  }

 private:
  static constexpr int64_t kSize = (int64_t(1) << 24) + 43;
  at::Tensor pool_;
  uint64_t offset_ = 1;
};

struct Model {
  std::string name, config;
  int layers;
  /// The tensors of block `i` (empty i < 0: the embedding and final norm).
  void (*tensors)(Pool&, int i, ess::NamedTensors&);
};

void llamaTensors(Pool& p, int i, ess::NamedTensors& t) {
  const int64_t D = 4096, KV = 1024, I = 14336, V = 128256;
  if (i < 0) {
    t.add("model.embed_tokens.weight", p.matrix({V, D}));
    t.add("model.norm.weight", at::ones({D}, at::kBFloat16));
    return;
  }
  const std::string b = "model.layers." + std::to_string(i) + ".";
  t.add(b + "input_layernorm.weight", at::ones({D}, at::kBFloat16));
  t.add(b + "post_attention_layernorm.weight", at::ones({D}, at::kBFloat16));
  t.add(b + "self_attn.q_proj.weight", p.matrix({D, D}));
  t.add(b + "self_attn.k_proj.weight", p.matrix({KV, D}));
  t.add(b + "self_attn.v_proj.weight", p.matrix({KV, D}));
  t.add(b + "self_attn.o_proj.weight", p.matrix({D, D}));
  t.add(b + "mlp.gate_proj.weight", p.matrix({I, D}));
  t.add(b + "mlp.up_proj.weight", p.matrix({I, D}));
  t.add(b + "mlp.down_proj.weight", p.matrix({D, I}));
}

void mambaTensors(Pool& p, int i, ess::NamedTensors& t) {
  const int64_t D = 2560, E = 5120, N = 16, R = 160, K = 4, V = 50280;
  if (i < 0) {
    t.add("backbone.embeddings.weight", p.matrix({V, D}));
    t.add("backbone.norm_f.weight", at::ones({D}, at::kBFloat16));
    return;
  }
  const std::string b = "backbone.layers." + std::to_string(i) + ".";
  t.add(b + "norm.weight", at::ones({D}, at::kBFloat16));
  t.add(b + "mixer.in_proj.weight", p.matrix({2 * E, D}));
  t.add(b + "mixer.conv1d.weight", (p.matrix({E, 1, K}).to(at::kFloat) * 10).to(at::kBFloat16));
  t.add(b + "mixer.conv1d.bias", p.matrix({E}));
  t.add(b + "mixer.x_proj.weight", p.matrix({R + 2 * N, E}));
  t.add(b + "mixer.dt_proj.weight", (p.matrix({E, R}).to(at::kFloat) * 5).to(at::kBFloat16));
  t.add(b + "mixer.dt_proj.bias", at::full({E}, -4.0, at::kBFloat16));  // dt about 0.02
  t.add(b + "mixer.A_log", at::log(at::arange(1, N + 1, at::kFloat)).repeat({E, 1}).to(at::kBFloat16));
  t.add(b + "mixer.D", at::ones({E}, at::kBFloat16));
  t.add(b + "mixer.out_proj.weight", p.matrix({D, E}));
}

const Model kModels[] = {
    {"llama3-8b",
     R"({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
 "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 128256, "max_position_embeddings": 8192,
 "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": false})",
     32, llamaTensors},
    {"mamba-2.8b",
     R"({"model_type": "mamba", "hidden_size": 2560, "num_hidden_layers": 64, "state_size": 16, "expand": 2,
 "conv_kernel": 4, "time_step_rank": 160, "vocab_size": 50280, "layer_norm_epsilon": 1e-5, "use_bias": false,
 "use_conv_bias": true})",
     64, mambaTensors},
};

std::string shardName(int k, int n) {
  char b[64];
  std::snprintf(b, sizeof b, "model-%05d-of-%05d.safetensors", k, n);
  return b;
}

/// Writes the checkpoint one shard at a time (memory holds one layer's bf16 tensors), unless
/// its index is there already (written last, so a cut-off run starts over).
void writeCheckpoint(const Model& m, const std::string& dir) {
  if (fs::exists(dir + "/model.safetensors.index.json")) return;
  fs::create_directories(dir);
  Pool pool;
  const int shards = m.layers + 1;
  nlohmann::json index;
  index["metadata"] = nlohmann::json::object();
  for (int k = 0; k < shards; ++k) {
    ess::NamedTensors t;
    m.tensors(pool, k - 1, t);
    for (const auto& [name, _] : t.tensors) index["weight_map"][name] = shardName(k + 1, shards);
    ess::writeSafetensors(dir + "/" + shardName(k + 1, shards), t);
    std::printf("  shard %d of %d written\r", k + 1, shards);
    std::fflush(stdout);
  }
  std::ofstream(dir + "/config.json") << m.config;
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(1);
  std::printf("\n");
}

/// Computes the whole curve of each of `layers` in order in this process, printing each.
void runLayers(const std::string& dir, const std::vector<int>& layers, int length, double budgetGib) {
  const double t0 = now();
  auto s = ess::Session::open(dir, size_t(budgetGib * double(1ull << 30)));
  s->setInput("random:seed=0,len=" + std::to_string(length));
  const double t1 = now();
  std::printf("open + input %.2f s, peak RSS %.2f GiB\n", t1 - t0, peakRssGib());
  for (int layer : layers) {
    const double a = now();
    const ess::CurveData c = s->curve(layer, ess::EssOptions());
    const double b = now();
    std::printf(
        "layer %2d: curve (%zu operators x %zu splits) %.1f s, since start %.1f s (CPU %.1f s), peak RSS %.2f GiB, "
        "float64 weights held at most %.2f GiB, load %.2f\n",
        layer, c.tolerance.size(), c.splits.size(), b - a, b - t0, cpuSeconds(), peakRssGib(),
        double(ess::hfWeightCopyBytes().peak) / double(1ull << 30), loadAverage());
    std::fflush(stdout);
  }
}

void inChild(const std::function<void()>& f) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    try {
      f();
    } catch (const std::exception& e) {
      std::printf("error: %s\n", e.what());
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s llama3-8b|mamba-2.8b [--length L] [--depths 0,1] [--sweep N|all] [--budget GIB] "
                 "[--dir DIR]\n",
                 argv[0]);
    return 2;
  }
  const Model* model = nullptr;
  for (const Model& m : kModels)
    if (m.name == argv[1]) model = &m;
  if (!model) {
    std::fprintf(stderr, "unknown model %s (llama3-8b, mamba-2.8b)\n", argv[1]);
    return 2;
  }
  int length = model->name == "llama3-8b" ? 512 : 1024, sweep = 0;
  double budget = 6.0;
  std::vector<int> depths;
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string dir = (cache && *cache ? std::string(cache) : std::string(home ? home : "/tmp") + "/.cache") +
                    "/ess-bench/" + model->name;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--length") length = std::stoi(v);
    if (k == "--budget") budget = std::stod(v);
    if (k == "--dir") dir = v;
    if (k == "--sweep") sweep = v == "all" ? model->layers : std::stoi(v);
    if (k == "--depths")
      for (size_t p = 0; p < v.size();) {
        const size_t q = v.find(',', p);
        depths.push_back(std::stoi(v.substr(p, q - p)));
        p = q == std::string::npos ? v.size() : q + 1;
      }
  }
  const double w0 = now();
  writeCheckpoint(*model, dir);
  uint64_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir)) bytes += e.file_size();
  std::printf("%s: %s, %.2f GB, ready in %.1f s; L = %d, memory budget %.1f GiB\n", model->name.c_str(), dir.c_str(),
              double(bytes) / 1e9, now() - w0, length, budget);
  for (int d : depths) inChild([&] { runLayers(dir, {d}, length, budget); });
  if (sweep > 0) {
    std::vector<int> all;
    for (int l = 0; l < sweep; ++l) all.push_back(l);
    std::printf("sweep of layers 0..%d in one process:\n", sweep - 1);
    inChild([&] { runLayers(dir, all, length, budget); });
  }
  return 0;
}
