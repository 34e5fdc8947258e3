// The C++ side of bench/python_ess_explorer.py: the calls ess_explorer makes, timed without
// Python. `array_call_probe dense L REPEATS` times openArraySession + curve on a random causal
// [L, L] operator; `array_call_probe structured L N REPEATS` the same on random generators
// [1, L, N]. Prints the median seconds per call.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ess/array_session.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: array_call_probe dense L REPEATS | structured L N REPEATS\n");
    return 2;
  }
  const std::string kind = argv[1];
  const int L = std::atoi(argv[2]);
  const bool structured = kind == "structured";
  const int N = structured ? std::atoi(argv[3]) : 0;
  const int repeats = std::atoi(argv[structured ? 4 : 3]);
  std::mt19937_64 rng(0);
  std::normal_distribution<double> normal;
  ess::NamedArrays t;
  if (structured) {
    ess::Array C(ess::ArrayDType::F64, {1, L, N}), B(ess::ArrayDType::F64, {1, L, N}),
        A(ess::ArrayDType::F64, {1, L, N});
    for (int64_t i = 0; i < C.numel(); ++i) {
      C.doubles()[i] = normal(rng);
      B.doubles()[i] = normal(rng);
      A.doubles()[i] = -0.01 * std::abs(normal(rng));
    }
    t.add("C", C);
    t.add("B", B);
    t.add("log_a", A);
  } else {
    ess::Array T(ess::ArrayDType::F64, {L, L});
    for (int r = 0; r < L; ++r)
      for (int c = 0; c <= r; ++c) T.doubles()[r * L + c] = normal(rng);
    t.add("operator", T);
  }
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto s = ess::openArraySession(t, "T");
    const ess::EssCurve c = s->curve(0, ess::EssOptions());
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (c.splits.empty()) return 1;
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("%.9f\n", seconds[seconds.size() / 2]);
  return 0;
}
