// Dense materialization of semiseparable generator files.
#include "ess/generators.h"

#include <cmath>
#include <limits>

#include "ess/error.h"

namespace ess {
namespace {
std::string shapeOf(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}
}  // namespace

bool isGeneratorFile(const NamedTensors& t) { return t.find("C") && t.find("B") && t.find("log_a"); }

int generatorStateSize(const NamedTensors& t) {
  const at::Tensor* c = t.find("C");
  return c && c->dim() == 3 ? static_cast<int>(c->size(2)) : 0;
}

Generators readGenerators(const NamedTensors& t, const std::string& path) {
  const at::Tensor *pc = t.find("C"), *pb = t.find("B"), *pa = t.find("log_a"), *pd = t.find("D");
  if (!pc || !pb || !pa) throw InputError(path + ": a generator file needs tensors C, B and log_a");
  at::Tensor C = pc->to(at::kDouble), B = pb->to(at::kDouble), A = pa->to(at::kDouble);
  if (C.dim() != 3 || B.sizes() != C.sizes())
    throw InputError(path + ": C " + shapeOf(C) + " and B " + shapeOf(B) + " must both be [H, L, N]");
  const int64_t H = C.size(0), L = C.size(1), N = C.size(2);
  if (A.dim() == 2 && A.size(0) == H && A.size(1) == L) A = A.unsqueeze(2).expand({H, L, N});
  if (A.dim() != 3 || A.size(0) != H || A.size(1) != L || A.size(2) != N)
    throw InputError(path + ": log_a " + shapeOf(A) + " must be [H, L, N] or [H, L] to match C " + shapeOf(C));
  at::Tensor D;
  if (pd) {
    D = pd->to(at::kDouble);
    if (D.dim() != 2 || D.size(0) != H || D.size(1) != L)
      throw InputError(path + ": D " + shapeOf(D) + " must be [H, L] to match C " + shapeOf(C));
  }
  for (auto [name, x] : {std::pair<const char*, at::Tensor*>{"C", &C}, {"B", &B}, {"log_a", &A}, {"D", &D}})
    if (x->defined() && !at::isfinite(*x).all().item<bool>())
      throw InputError(path + ": tensor " + name + " holds NaN or Inf values");
  // A positive log a makes T grow: find the first row where some T[r, c] overflows float64, i.e.
  // where a run of decays sum_{t=c+1..r} log_a (the largest over c, Kadane's scan) plus the log
  // of the largest |C| |B| N exceeds log(DBL_MAX).
  {
    const double scale = std::log(std::max(1e-300, C.abs().max().item<double>())) +
                         std::log(std::max(1e-300, B.abs().max().item<double>())) + std::log(double(N));
    const double limit = std::log(std::numeric_limits<double>::max()) - scale;
    at::Tensor a = A.contiguous();
    const double* pa = a.data_ptr<double>();
    for (int64_t h = 0; h < H; ++h)
      for (int64_t n = 0; n < N; ++n) {
        double run = 0.0;  // largest sum_{t=c+1..r} over c < r
        for (int64_t r = 1; r < L; ++r) {
          run = std::max(0.0, run) + pa[(h * L + r) * N + n];
          if (run > limit)
            throw InputError(path + ": the generators overflow: log_a > 0 makes the operator grow without bound; "
                             "T[" + std::to_string(h) + ", " + std::to_string(r) + ", c] exceeds the float64 range "
                             "at row " + std::to_string(r) + " (head " + std::to_string(h) + ", state " +
                             std::to_string(n) + ")");
        }
      }
  }
  Generators g;
  g.C = C.contiguous();
  g.B = B.contiguous();
  g.logA = (pa->dim() == 2 ? A.select(2, 0) : A).contiguous();
  g.D = D;
  return g;
}

at::Tensor materializeGenerators(const NamedTensors& t, const std::string& path) {
  return materializeGenerators(readGenerators(t, path), path);
}

at::Tensor materializeGenerators(const Generators& g, const std::string& path) {
  at::Tensor C = g.C.to(at::kDouble), B = g.B.to(at::kDouble), A = g.logA.to(at::kDouble), D = g.D;
  if (D.defined()) D = D.to(at::kDouble);
  const int64_t H = C.size(0), L = C.size(1), N = C.size(2);
  if (A.dim() == 2) A = A.unsqueeze(2).expand({H, L, N});
  // cum[h, t, n] = sum_{t' <= t} log_a; decay from c to r is exp(cum[r] - cum[c]).
  at::Tensor cum = A.cumsum(1).contiguous();
  C = C.contiguous();
  B = B.contiguous();
  at::Tensor T = at::zeros({H, L, L}, at::kDouble);
  const double *pC = C.data_ptr<double>(), *pB = B.data_ptr<double>(), *pcum = cum.data_ptr<double>();
  double* pT = T.data_ptr<double>();
  at::parallel_for(0, H * L, 1, [&](int64_t begin, int64_t end) {
    for (int64_t hr = begin; hr < end; ++hr) {
      const int64_t h = hr / L, r = hr % L;
      const double* cr = pC + (h * L + r) * N;
      const double* cumr = pcum + (h * L + r) * N;
      for (int64_t c = 0; c <= r; ++c) {
        const double* bc = pB + (h * L + c) * N;
        const double* cumc = pcum + (h * L + c) * N;
        double v = 0.0;
        for (int64_t n = 0; n < N; ++n) v += cr[n] * std::exp(cumr[n] - cumc[n]) * bc[n];
        pT[(h * L + r) * L + c] = v;
      }
    }
  });
  if (D.defined()) T.diagonal(0, 1, 2).add_(D);
  if (!at::isfinite(T).all().item<bool>())
    throw InputError(path + ": the generators overflow (a decay log_a > 0 makes the operator grow without bound)");
  return T;
}

}  // namespace ess
