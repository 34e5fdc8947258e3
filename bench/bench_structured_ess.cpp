// One whole ESS curve (every split s = 1..L-1) of one head of a semiseparable operator in
// generator form (C, B [1, L, N], per-state decays), by the structured engine: no L x L operator
// is formed. Compare L = 1024, N = 16 with bench/python_svdvals_loop.py (one dense SVD per
// split); L = 4096 .. 65536 with N = 64 show the O(L N^3) scaling: after the runs the program
// prints the time ratio of each doubling of L (about 2 for linear cost) and the peak RSS.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <map>

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

}  // namespace

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
