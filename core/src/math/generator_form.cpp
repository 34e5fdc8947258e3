// Generator files as plain arrays: see ess/generator_form.h.
#include "ess/generator_form.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "ess/error.h"
#include "math/parallel.h"

namespace ess {

bool isGeneratorFile(const NamedArrays& t) { return t.find("C") && t.find("B") && t.find("log_a"); }

GeneratorArrays readGenerators(const NamedArrays& t, const std::string& path) {
  const Array *pc = t.find("C"), *pb = t.find("B"), *pa = t.find("log_a"), *pd = t.find("D");
  if (!pc || !pb || !pa) throw InputError(path + ": a generator file needs tensors C, B and log_a");
  const Array C = pc->toFloat64(), B = pb->toFloat64(), A = pa->toFloat64();
  if (C.dim() != 3 || B.shape() != C.shape())
    throw InputError(path + ": C " + C.shapeText() + " and B " + B.shapeText() + " must both be [H, L, N]");
  const int64_t H = C.size(0), L = C.size(1), N = C.size(2);
  if (H < 1 || N < 1)
    throw InputError(path + ": C and B have shape " + C.shapeText() +
                     "; a generator file needs at least one head (H) "
                     "and a state size N of at least 1");
  const bool perHead = A.dim() == 2 && A.size(0) == H && A.size(1) == L;
  // A per-head decay [H, L] is reported as its [H, L, N] broadcast, like the tensor reader did.
  const std::string shapeA =
      perHead ? "[" + std::to_string(H) + ", " + std::to_string(L) + ", " + std::to_string(N) + "]" : A.shapeText();
  if (!perHead && (A.dim() != 3 || A.size(0) != H || A.size(1) != L || A.size(2) != N))
    throw InputError(path + ": log_a " + shapeA + " must be [H, L, N] or [H, L] to match C " + C.shapeText());
  Array D;
  if (pd) {
    D = pd->toFloat64();
    if (D.dim() != 2 || D.size(0) != H || D.size(1) != L)
      throw InputError(path + ": D " + D.shapeText() + " must be [H, L] to match C " + C.shapeText());
  }
  for (auto [name, x] : {std::pair<const char*, const Array*>{"C", &C}, {"B", &B}, {"log_a", &A}, {"D", &D}}) {
    if (!x->defined()) continue;
    const double* p = x->doubles();
    for (int64_t i = 0, n = x->numel(); i < n; ++i)
      if (!std::isfinite(p[i])) throw InputError(path + ": tensor " + name + " holds NaN or Inf values");
  }
  // A positive log a makes T grow: find the first row where some T[r, c] overflows float64, i.e.
  // where a run of decays sum_{t=c+1..r} log_a (the largest over c, Kadane's scan) plus the log
  // of the largest |C| |B| N exceeds log(DBL_MAX).
  {
    auto absMax = [](const Array& x) {
      double m = 0.0;
      const double* p = x.doubles();
      for (int64_t i = 0, n = x.numel(); i < n; ++i) m = std::max(m, std::abs(p[i]));
      return m;
    };
    const double scale =
        std::log(std::max(1e-300, absMax(C))) + std::log(std::max(1e-300, absMax(B))) + std::log(double(N));
    const double limit = std::log(std::numeric_limits<double>::max()) - scale;
    const double* pa = A.doubles();
    for (int64_t h = 0; h < H; ++h)
      for (int64_t n = 0; n < N; ++n) {
        double run = 0.0;  // largest sum_{t=c+1..r} over c < r
        for (int64_t r = 1; r < L; ++r) {
          run = std::max(0.0, run) + (perHead ? pa[h * L + r] : pa[(h * L + r) * N + n]);
          if (run > limit)
            throw InputError(path +
                             ": the generators overflow: log_a > 0 makes the operator grow without bound; "
                             "T[" +
                             std::to_string(h) + ", " + std::to_string(r) +
                             ", c] exceeds the float64 range "
                             "at row " +
                             std::to_string(r) + " (head " + std::to_string(h) + ", state " + std::to_string(n) + ")");
        }
      }
  }
  return GeneratorArrays{C, B, A, D};
}

Array materializeGenerators(const GeneratorArrays& g, const std::string& path) {
  const Array C = g.C.toFloat64(), B = g.B.toFloat64(), A = g.logA.toFloat64();
  const Array D = g.D.defined() ? g.D.toFloat64() : Array();
  const int64_t H = C.size(0), L = C.size(1), N = C.size(2);
  if (H < 1 || N < 1)
    throw InputError(path + ": C and B have shape " + C.shapeText() +
                     "; a generator file needs at least one head (H) "
                     "and a state size N of at least 1");
  const bool perHead = A.dim() == 2;
  // cum[h, t, n] = sum_{t' <= t} log_a; decay from c to r is exp(cum[r] - cum[c]).
  std::vector<double> cum(static_cast<size_t>(H * L * N));
  const double* pa = A.doubles();
  for (int64_t h = 0; h < H; ++h)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0.0;
      for (int64_t t = 0; t < L; ++t) {
        s += perHead ? pa[h * L + t] : pa[(h * L + t) * N + n];
        cum[static_cast<size_t>((h * L + t) * N + n)] = s;
      }
    }
  Array T(ArrayDType::F64, {H, L, L});
  const double *pC = C.doubles(), *pB = B.doubles(), *pcum = cum.data();
  double* pT = T.doubles();
  parallelFor(0, H * L, 1, [&](int64_t begin, int64_t end) {
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
  if (D.defined()) {
    const double* pD = D.doubles();
    for (int64_t h = 0; h < H; ++h)
      for (int64_t r = 0; r < L; ++r) pT[(h * L + r) * L + r] += pD[h * L + r];
  }
  for (int64_t i = 0, n = T.numel(); i < n; ++i)
    if (!std::isfinite(pT[i]))
      throw InputError(path + ": the generators overflow (a decay log_a > 0 makes the operator grow without bound)");
  return T;
}

namespace {
// The arrays of `g` with the names messages give them, D last.
std::array<std::pair<const char*, const Array*>, 7> namedParts(const SharedGeneratorArrays& g) {
  return {{{"C_shared", &g.Cshared},
           {"B_shared", &g.Bshared},
           {"c_scale", &g.cScale},
           {"b_scale", &g.bScale},
           {"step", &g.step},
           {"rate", &g.rate},
           {"D", &g.D}}};
}

// The shapes and dtypes of `g` (what checkSharedGenerators says, less the values).
void checkSharedShapes(const SharedGeneratorArrays& g) {
  const auto parts = namedParts(g);
  for (auto [name, a] : parts) {
    if (!a->defined() && a != &g.D) throw InputError(std::string("shared generators: ") + name + " is missing");
    if (a->defined() && (a->dtype() != ArrayDType::F64 || a->dim() != 2))
      throw InputError(std::string("shared generators: ") + name + " " + a->shapeText() + " must be 2-D float64");
  }
  const int64_t H = g.cScale.size(0), L = g.Cshared.size(0), N = g.Cshared.size(1);
  const std::vector<int64_t> ln{L, N}, hl{H, L}, hn{H, N};
  if (g.Bshared.shape() != ln || g.cScale.shape() != hl || g.bScale.shape() != hl || g.step.shape() != hl ||
      g.rate.shape() != hn || (g.D.defined() && g.D.shape() != hl))
    throw InputError("shared generators: C_shared " + g.Cshared.shapeText() + ", B_shared " + g.Bshared.shapeText() +
                     ", c_scale " + g.cScale.shapeText() + ", b_scale " + g.bScale.shapeText() + ", step " +
                     g.step.shapeText() + ", rate " + g.rate.shapeText() +
                     " must be [L, N], [L, N], [H, L], [H, L], [H, L], [H, N]");
}
}  // namespace

void checkSharedGenerators(const SharedGeneratorArrays& g) {
  checkSharedShapes(g);
  const auto parts = namedParts(g);
  double mag[7] = {};
  for (int i = 0; i < 7; ++i) {
    const auto [name, a] = parts[i];
    if (!a->defined()) continue;
    const double* p = a->doubles();
    for (int64_t k = 0, n = a->numel(); k < n; ++k) {
      if (!std::isfinite(p[k]))
        throw InputError(std::string("shared generators: ") + name + " holds NaN or Inf values");
      mag[i] = std::max(mag[i], std::fabs(p[k]));
    }
  }
  const double top = std::numeric_limits<double>::max();
  if (mag[0] > 0 && mag[2] > top / mag[0])
    throw InputError("generators: C holds NaN or Inf values (C_shared x c_scale overflows)");
  if (mag[1] > 0 && mag[3] > top / mag[1])
    throw InputError("generators: B holds NaN or Inf values (B_shared x b_scale overflows)");
  if (mag[4] > 0 && mag[5] > top / mag[4])
    throw InputError("generators: log_a holds NaN or Inf values (step x rate overflows)");
}

GeneratorArrays expandSharedGenerators(const SharedGeneratorArrays& g, int first, int count) {
  checkSharedShapes(g);
  const int64_t H = g.heads(), L = g.length(), N = g.stateSize();
  if (count < 0) count = static_cast<int>(H - first);
  if (first < 0 || count < 0 || first + count > H)
    throw InputError("shared generators: channels " + std::to_string(first) + ".." + std::to_string(first + count - 1) +
                     " are outside 0.." + std::to_string(H - 1));
  GeneratorArrays out;
  out.C = Array(ArrayDType::F64, {count, L, N});
  out.B = Array(ArrayDType::F64, {count, L, N});
  out.logA = Array(ArrayDType::F64, {count, L, N});
  const double *cs = g.Cshared.doubles(), *bs = g.Bshared.doubles(), *cw = g.cScale.doubles(), *bw = g.bScale.doubles(),
               *st = g.step.doubles(), *ra = g.rate.doubles();
  double *oc = out.C.doubles(), *ob = out.B.doubles(), *oa = out.logA.doubles();
  parallelFor(0, count, 64, [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      const int64_t h = first + k;
      for (int64_t t = 0; t < L; ++t)
        for (int64_t n = 0; n < N; ++n) {
          const size_t o = static_cast<size_t>((k * L + t) * N + n);
          oc[o] = cw[h * L + t] * cs[t * N + n];
          ob[o] = bw[h * L + t] * bs[t * N + n];
          oa[o] = st[h * L + t] * ra[h * N + n];
        }
    }
  });
  if (g.D.defined()) {
    out.D = Array(ArrayDType::F64, {count, L});
    std::copy(g.D.doubles() + first * L, g.D.doubles() + (first + count) * L, out.D.doubles());
  }
  return out;
}

}  // namespace ess
