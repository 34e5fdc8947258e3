// One whole ESS curve (tolerance-ESS and entropy-ESS at every split s = 1..L-1) of one dense
// L x L head, float32 and float64, on all cores. Compare with bench/python_svdvals_loop.py,
// the loop a researcher writes today (one torch.linalg.svdvals per split).
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include "ess/ess_engine.h"
#include "ess/tensor_engines.h"

namespace {

void denseCurve(benchmark::State& state, ess::DType dtype) {
  const int L = static_cast<int>(state.range(0));
  at::manual_seed(0);
  const at::Tensor op = at::randn({1, L, L}, at::kDouble).tril();
  const auto options = ess::EssOptions().dtype(dtype);
  for (auto _ : state) {
    ess::EssCurve c = ess::computeEss(op, options);
    benchmark::DoNotOptimize(c.tolerance[0].data());
  }
  state.SetLabel(dtype == ess::DType::Float32 ? "float32" : "float64");
}

void BM_DenseCurveFloat32(benchmark::State& s) { denseCurve(s, ess::DType::Float32); }
void BM_DenseCurveFloat64(benchmark::State& s) { denseCurve(s, ess::DType::Float64); }

}  // namespace

BENCHMARK(BM_DenseCurveFloat32)
    ->Arg(256)
    ->Arg(512)
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK(BM_DenseCurveFloat64)
    ->Arg(256)
    ->Arg(512)
    ->Arg(1024)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);
BENCHMARK_MAIN();
