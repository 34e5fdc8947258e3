// MQAR samples and the roles of their positions (see ess/mqar_sample.h); no LibTorch.
#include "ess/mqar_sample.h"

#include <cmath>
#include <string>

#include "ess/error.h"

namespace ess {
namespace {

struct SplitMix64 {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) {  // uniform in [0, n), rejection sampling
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

constexpr double kPowerA = 0.01;

}  // namespace

MqarSample makeMqar(const MqarSpec& spec) {
  const int L = spec.length, P = spec.pairs, V = spec.vocab;
  const std::string where =
      "mqar (len=" + std::to_string(L) + ", pairs=" + std::to_string(P) + ", vocab=" + std::to_string(V) + "): ";
  if (P < 1) throw UsageError(where + "pairs must be at least 1");
  if (4 * P > L) throw UsageError(where + "the pairs and their queries need len >= 4*pairs = " + std::to_string(4 * P));
  if (V < 2 || V / 2 < P) throw UsageError(where + "keys must be distinct: vocab/2 must be at least pairs");

  SplitMix64 rng{spec.seed * 0x2545F4914F6CDD1DULL + 0x1234567ULL};
  const int half = V / 2;
  // Distinct keys: partial Fisher-Yates over [0, half).
  std::vector<long> pool(half);
  for (int i = 0; i < half; ++i) pool[i] = i;
  for (int i = 0; i < P; ++i) std::swap(pool[i], pool[i + rng.below(half - i)]);
  std::vector<long> keys(pool.begin(), pool.begin() + P), vals(P);
  for (int i = 0; i < P; ++i) vals[i] = half + static_cast<long>(rng.below(V - half));

  MqarSample s;
  s.tokens.assign(L, -1);
  s.targets.assign(L, kMqarIgnore);
  for (int i = 0; i < P; ++i) {
    s.tokens[2 * i] = keys[i];
    s.tokens[2 * i + 1] = vals[i];
  }
  // Query slots: key at 2P + 2j <= L-1.
  const int q0 = 2 * P;
  const int slots = (L - 1 - q0) / 2 + 1;
  std::vector<double> weight(slots);
  for (int j = 0; j < slots; ++j) weight[j] = std::pow(j + 1.0, kPowerA - 1.0);
  // Keys in random order, each to a slot drawn without replacement.
  std::vector<int> order(P);
  for (int i = 0; i < P; ++i) order[i] = i;
  for (int i = P - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  for (int idx : order) {
    double total = 0;
    for (double w : weight) total += w;
    double u = rng.uniform() * total;
    int j = 0;
    for (; j < slots - 1; ++j) {
      if (weight[j] <= 0) continue;
      if (u < weight[j]) break;
      u -= weight[j];
    }
    while (weight[j] <= 0) --j;  // rounding at the end of the range
    weight[j] = 0;
    const int pos = q0 + 2 * j;
    s.tokens[pos] = keys[idx];
    s.targets[pos] = vals[idx];
    if (pos + 1 < L) s.tokens[pos + 1] = vals[idx];
  }
  // Noise: uniform over the vocabulary minus the P keys, so each key reappears exactly once.
  std::vector<bool> isKey(V, false);
  for (long k : keys) isKey[k] = true;
  std::vector<long> noise;
  for (int t = 0; t < V; ++t)
    if (!isKey[t]) noise.push_back(t);
  for (int i = 0; i < L; ++i)
    if (s.tokens[i] < 0) s.tokens[i] = noise[rng.below(noise.size())];
  return s;
}

MqarRoles mqarRoles(const MqarSpec& spec) {
  const MqarSample s = makeMqar(spec);
  MqarRoles roles;
  for (int i = 0; i < spec.pairs; ++i) {
    roles.keys.push_back(2 * i);
    roles.values.push_back(2 * i + 1);
  }
  for (int i = 2 * spec.pairs; i < spec.length; ++i)
    if (s.targets[i] != kMqarIgnore) roles.queries.push_back(i);
  return roles;
}

}  // namespace ess
