// One whole ESS curve (tolerance-ESS and entropy-ESS at every split s = 1..L-1) of one dense
// L x L head, float32 and float64, on all cores. Compare with bench/python_svdvals_loop.py,
// the loop a researcher writes today (one torch.linalg.svdvals per split).
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ess/array.h"
#include "ess/ess_engine.h"
#include "ess/safetensors_io.h"
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

// Head 0 of each operator file of tests/data (the trained demos' operators, L <= 64; run from
// the repository root, or set ESS_TEST_DATA to the folder): compare with
// `python_svdvals_loop.py --repeat 20 FILE` (its fastest of 20).
void BM_DenseTrainedDemo(benchmark::State& state) {
  const char* dir = std::getenv("ESS_TEST_DATA");
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir ? dir : "tests/data"))
    if (e.path().extension() == ".safetensors") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (static_cast<size_t>(state.range(0)) >= files.size()) {
    state.SkipWithError("no such operator file in tests/data");
    return;
  }
  const std::string& file = files[static_cast<size_t>(state.range(0))];
  const ess::NamedArrays arrays = ess::readSafetensorArrays(file);
  const ess::Array all = arrays.find("operator")->toFloat64();
  const int64_t L = all.size(-1);
  ess::Array head(ess::ArrayDType::F64, {1, L, L});
  std::copy(all.doubles(), all.doubles() + L * L, head.doubles());
  for (auto _ : state) {
    ess::EssCurve c = ess::computeEss(head, ess::EssOptions());
    benchmark::DoNotOptimize(c.tolerance[0].data());
  }
  state.SetLabel(std::filesystem::path(file).stem().string());
}

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
BENCHMARK(BM_DenseTrainedDemo)->DenseRange(0, 5)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
