// MQAR batches on LibTorch tensors (see ess/mqar.h); the samples are in mqar_sample.cpp.
#include "ess/mqar.h"

#include <ATen/ATen.h>

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
};

}  // namespace

MqarBatch makeMqarBatch(const MqarSpec& spec, int batch, uint64_t first) {
  if (batch < 1) throw UsageError("mqar batch must be at least 1");
  MqarBatch b;
  b.tokens = at::empty({batch, spec.length}, at::kLong);
  b.targets = at::empty({batch, spec.length}, at::kLong);
  auto tok = b.tokens.accessor<int64_t, 2>();
  auto tgt = b.targets.accessor<int64_t, 2>();
  for (int i = 0; i < batch; ++i) {
    MqarSpec s = spec;
    SplitMix64 mix{spec.seed ^ ((first + i) * 0xD1B54A32D192ED03ULL)};
    s.seed = mix.next();
    MqarSample m = makeMqar(s);
    for (int t = 0; t < spec.length; ++t) {
      tok[i][t] = m.tokens[t];
      tgt[i][t] = m.targets[t];
    }
  }
  return b;
}

}  // namespace ess
