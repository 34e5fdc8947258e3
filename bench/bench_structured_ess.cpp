// One whole ESS curve (every split s = 1..L-1) of one head of a semiseparable operator in
// generator form (C, B [1, L, N], per-state decays), by the structured engine: no L x L operator
// is formed. Compare L = 1024, N = 16 with bench/python_svdvals_loop.py (one dense SVD per
// split); L = 4096 .. 65536 with N = 64 show the O(L N^3) scaling: after the runs the program
// prints the time ratio of each doubling of L (about 2 for linear cost) and the peak RSS.
// BM_MambaLayer: one Falcon-Mamba-7B-shaped layer (d_inner 8192 channels, N = 16) at L = 2048,
// the whole curve of every channel (the layer total's input), with the floating-point
// operations per channel and split of the batched kernels and the fraction of the machine's
// peak they reach (peak: an FMA probe on every thread, 256- and 512-bit). Run it alone with
// --benchmark_filter=Mamba (6.4 GB of float64 generators); Args: channels, L, N.
// BM_MambaLayerPerChannel: the one-channel path on 256 of its channels, for the speed-up.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "ess/generator_form.h"
#include "ess/structured_channels.h"
#include "ess/structured_ess.h"
#include "ess/tensor_engines.h"

namespace {

std::map<std::pair<int, int>, double> seconds;  // (N, L) -> seconds of one curve

double peakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

void BM_StructuredCurve(benchmark::State& state) {
  const int L = static_cast<int>(state.range(0)), N = static_cast<int>(state.range(1));
  at::manual_seed(0);
  ess::Generators g;
  g.C = at::randn({1, L, N}, at::kDouble);
  g.B = at::randn({1, L, N}, at::kDouble);
  g.logA = -0.05 * at::rand({1, L, N}, at::kDouble);
  const auto options = ess::EssOptions().algorithm(ess::Algorithm::Structured);
  double total = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    ess::EssCurve c = ess::computeStructuredEss(g, options);
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(c.tolerance[0].data());
  }
  seconds[{N, L}] = total / state.iterations();
  state.counters["us_per_split"] = seconds[{N, L}] * 1e6 / (L - 1);
  state.counters["peak_rss_MiB"] = peakRssMiB();
}

// ---- Falcon-Mamba-7B-shaped layer ------------------------------------------------------

// Synthetic Mamba-1 generators with the paper model's shapes and Mamba's initialization:
// A_n = -(n + 1) (S4D-real), dt log-uniform in [1e-3, 1e-1] per channel and step, B_t and C_t
// shared by all channels; discretized as Mamba's selective scan does: log a = dt A, B~ = dt B.
ess::GeneratorArrays mambaLayer(int H, int L, int N, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> logDt(std::log(1e-3), std::log(1e-1));
  std::vector<double> Bt(static_cast<size_t>(L) * N), Ct(Bt.size());
  for (auto& v : Bt) v = normal(rng);
  for (auto& v : Ct) v = normal(rng);
  ess::GeneratorArrays g;
  g.C = ess::Array(ess::ArrayDType::F64, {H, L, N});
  g.B = ess::Array(ess::ArrayDType::F64, {H, L, N});
  g.logA = ess::Array(ess::ArrayDType::F64, {H, L, N});
  double *C = g.C.doubles(), *B = g.B.doubles(), *logA = g.logA.doubles();
  for (int h = 0; h < H; ++h)
    for (int t = 0; t < L; ++t) {
      const double dt = std::exp(logDt(rng));
      const size_t row = (static_cast<size_t>(h) * L + t) * N;
      for (int n = 0; n < N; ++n) {
        C[row + n] = Ct[static_cast<size_t>(t) * N + n];
        B[row + n] = dt * Bt[static_cast<size_t>(t) * N + n];
        logA[row + n] = -dt * (n + 1);
      }
    }
  return g;
}

// Floating-point operations of the batched kernels per channel and split (structured_lanes.cpp):
// four Givens row appends and four decay steps (two sweeps of pass 1, the block's R_F and the
// walking R_P of pass 2), the product R_F R_P^T, its scaling and its bidiagonalization.
// The lanes' bidiagonal QR (data-dependent: about 2 steps per singular value) is not counted.
double flopsPerChannelSplit(int N) {
  double append = 0, decay = 0, product = 0, bidiag = 0;
  for (int j = 0; j < N; ++j) append += 6 + 6.0 * (N - j - 1);
  decay = N * (N + 1) / 2.0;
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) product += 2.0 * (N - std::max(i, j));
  for (int j = 0; j < N; ++j) {
    const double n = N - j, cols = N - j - 1;
    bidiag += 3 * (n - 1) + 6 + cols * (4 * (n - 1) + 2);  // left reflector, applied to the columns
    if (j + 1 < N) {
      const double m = N - j - 1;
      bidiag += 3 * (m - 1) + 6 + cols * (4 * (m - 1) + 2);  // right reflector, applied to the rows
    }
  }
  return 4 * append + 4 * decay + product + double(N) * N + bidiag;
}

// Peak float64 FMA throughput of one thread: 12 independent chains of vector FMAs.
// Inlined into the probe functions below, so that it is compiled for their instruction sets.
template <typename V>
__attribute__((always_inline)) inline double fmaProbe(long iterations) {
  V acc[12], x, y;
  for (int i = 0; i < 12; ++i) acc[i] = V{} + 1.0 + i * 1e-3;
  x = V{} + 0.999999;
  y = V{} + 1e-6;
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = acc[i] * x + y;  // unrolled: 12 chains in flight
  }
  double s = 0;
  for (int i = 0; i < 12; ++i) s += acc[i][0];
  return s;
}
typedef double V4 __attribute__((vector_size(32)));
typedef double V8 __attribute__((vector_size(64)));
__attribute__((target("avx2,fma"))) double probe256(long n) { return fmaProbe<V4>(n); }
__attribute__((target("avx512f"))) double probe512(long n) { return fmaProbe<V8>(n); }

// CPU seconds of this process (all threads), user + system.
double processCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// GFLOP/s of the probe per core: the probe runs on `threads` threads at once, each timed by its
// own CPU clock, so that other processes on the cores do not lower the figure.
double peakGflopsPerCore(int threads, bool wide) {
  const long iterations = 50'000'000;
  std::vector<std::thread> pool;
  std::vector<double> sink(threads), cpu(threads);
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      timespec a{}, b{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
      sink[t] = wide ? probe512(iterations) : probe256(iterations);
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
      cpu[t] = (b.tv_sec - a.tv_sec) + 1e-9 * (b.tv_nsec - a.tv_nsec);
    });
  for (auto& th : pool) th.join();
  benchmark::DoNotOptimize(sink.data());
  double best = 0;
  for (double c : cpu) best = std::max(best, double(iterations) * 12 * (wide ? 8 : 4) * 2 / c / 1e9);
  return best;
}

void BM_MambaLayer(benchmark::State& state) {
  const int H = static_cast<int>(state.range(0)), L = static_cast<int>(state.range(1)),
            N = static_cast<int>(state.range(2));
  const ess::GeneratorArrays g = mambaLayer(H, L, N, 7);
  const auto options = ess::EssOptions().algorithm(ess::Algorithm::Structured);
  double seconds = 0, cpuSeconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = processCpuSeconds();
    ess::EssCurve c = ess::computeStructuredEss(g, options);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpuSeconds = processCpuSeconds() - c0;
    benchmark::DoNotOptimize(c.tolerance[0].data());
  }
  // On a busy machine the wall time includes other processes' turns on the cores; the CPU
  // seconds over the threads are the wall time of the same run on idle cores.
  const int threads = static_cast<int>(std::thread::hardware_concurrency());
  const double flops = flopsPerChannelSplit(N), work = flops * H * (L - 1);
  double core = peakGflopsPerCore(threads, false);
  if (__builtin_cpu_supports("avx512f")) core = std::max(core, peakGflopsPerCore(threads, true));
  const double peak = core * threads, idle = cpuSeconds / threads, reached = work / idle / 1e9;
  state.counters["s_per_layer"] = seconds;
  state.counters["cpu_s"] = cpuSeconds;
  state.counters["idle_s_per_layer"] = idle;
  state.counters["us_per_channel_split"] = cpuSeconds * 1e6 / (double(H) * (L - 1));
  state.counters["flops_per_channel_split"] = flops;
  state.counters["GFLOPs"] = reached;
  state.counters["peak_GFLOPs"] = peak;
  state.counters["peak_fraction"] = reached / peak;
  state.counters["peak_rss_MiB"] = peakRssMiB();
  std::printf(
      "Mamba layer %d channels, N = %d, L = %d: %.1f s wall, %.1f CPU s on %d threads (%.1f s on idle cores); "
      "%.0f flop per channel and split (without the lanes' QR); %.1f GFLOP/s of a %.1f GFLOP/s FMA peak "
      "(%.1f%%)\n",
      H, N, L, seconds, cpuSeconds, threads, idle, flops, reached, peak, 100 * reached / peak);
}

// The same layer's first channels by the one-channel path (computeStructuredEssPerChannel), the
// engine before the channels were batched: CPU microseconds per channel and split, to compare
// with BM_MambaLayer's at the same machine load.
void BM_MambaLayerPerChannel(benchmark::State& state) {
  const int H = static_cast<int>(state.range(0)), L = static_cast<int>(state.range(1)),
            N = static_cast<int>(state.range(2));
  const ess::GeneratorArrays g = mambaLayer(H, L, N, 7);
  const auto options = ess::EssOptions().algorithm(ess::Algorithm::Structured);
  double cpuSeconds = 0;
  for (auto _ : state) {
    const double c0 = processCpuSeconds();
    ess::EssCurve c = ess::computeStructuredEssPerChannel(g, options);
    cpuSeconds = processCpuSeconds() - c0;
    benchmark::DoNotOptimize(c.tolerance[0].data());
  }
  state.counters["us_per_channel_split"] = cpuSeconds * 1e6 / (double(H) * (L - 1));
}

}  // namespace

BENCHMARK(BM_MambaLayer)->Args({8192, 2048, 16})->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_MambaLayerPerChannel)->Args({256, 2048, 16})->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_StructuredCurve)->Args({1024, 16})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);
BENCHMARK(BM_StructuredCurve)
    ->Args({4096, 64})
    ->Args({8192, 64})
    ->Args({16384, 64})
    ->Args({32768, 64})
    ->Args({65536, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (auto it = seconds.begin(); it != seconds.end(); ++it) {
    const auto next = seconds.find({it->first.first, it->first.second * 2});
    if (next != seconds.end())
      std::printf("N = %d: L %d -> %d takes %.2fx the time\n", it->first.first, it->first.second, next->first.second,
                  next->second / it->second);
  }
  std::printf("peak RSS %.0f MiB\n", peakRssMiB());
  return 0;
}
