// Multi-query associative recall (MQAR), after the Zoology suite (Arora et al., "Zoology:
// Measuring and Improving Recall in Efficient Language Models", 2023), as used by the ESS paper.
// docs/definitions.md section 4. A sample of length L over V tokens:
//   positions 0 .. 2P-1   k1 v1 k2 v2 ... kP vP   keys distinct, from [0, V/2); values from [V/2, V)
//   positions 2P .. L-1   each key reappears once, at an even offset 2P + 2j (slot j drawn without
//                         replacement with weight (j+1)^(a-1), a = 0.01: a power-law preference
//                         for short gaps), followed by its value (when it fits); every other
//                         position holds a random token from the vocabulary minus the P keys.
// targets[i] = the value to predict at a query position i (the key's reappearance), -100 elsewhere.
// Samples are deterministic functions of the spec (own splitmix64 generator, platform independent).
// The samples themselves and the roles of their positions need no LibTorch: ess/mqar_sample.h.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "ess/mqar_sample.h"

namespace ess {

/// A batch for training or evaluation: `batch` samples whose seeds are derived from
/// (spec.seed, first + i). tokens and targets are [batch, L] int64.
struct MqarBatch {
  at::Tensor tokens;
  at::Tensor targets;
};
MqarBatch makeMqarBatch(const MqarSpec& spec, int batch, uint64_t first = 0);

}  // namespace ess
