// Multi-query associative recall (MQAR) samples without LibTorch (essmath), after the Zoology
// suite (Arora et al., "Zoology: Measuring and Improving Recall in Efficient Language Models",
// 2023), as used by the ESS paper. docs/definitions.md section 4. A sample of length L over V
// tokens:
//   positions 0 .. 2P-1   k1 v1 k2 v2 ... kP vP   keys distinct, from [0, V/2); values from [V/2, V)
//   positions 2P .. L-1   each key reappears once, at an even offset 2P + 2j (slot j drawn without
//                         replacement with weight (j+1)^(a-1), a = 0.01: a power-law preference
//                         for short gaps), followed by its value (when it fits); every other
//                         position holds a random token from the vocabulary minus the P keys.
// targets[i] = the value to predict at a query position i (the key's reappearance), -100 elsewhere.
// Samples are deterministic functions of the spec (own splitmix64 generator, platform independent).
// ess/mqar.h adds the LibTorch batches for training.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ess {

struct MqarSpec {
  uint64_t seed = 0;
  int length = 64;  ///< L
  int pairs = 8;    ///< P
  int vocab = 64;   ///< V
};

struct MqarSample {
  std::vector<long> tokens;   ///< [L]
  std::vector<long> targets;  ///< [L], -100 where not scored
};

/// One sample. Throws UsageError when the spec is impossible: pairs < 1, 4*pairs > length
/// (the pairs and their queries must fit), vocab/2 < pairs (keys must be distinct) or vocab < 2.
MqarSample makeMqar(const MqarSpec& spec);

/// Score value of unscored positions in MqarSample::targets (the cross-entropy ignore index).
constexpr long kMqarIgnore = -100;

/// The positions (token indices, ascending) that play a part in an MQAR sample: the keys
/// k1..kP and values v1..vP of the prefix (0, 2, .., 2P-2 and 1, 3, .., 2P-1), and the queries,
/// where a key reappears and its value is to be recalled (targets != kMqarIgnore).
struct MqarRoles {
  std::vector<int> keys;
  std::vector<int> values;
  std::vector<int> queries;
};
MqarRoles mqarRoles(const MqarSpec& spec);

/// The MQAR spec of an `mqar:seed=S,len=L,pairs=P,vocab=V` input for a model with `vocabSize`
/// tokens and at most `maxLength` (0 = no limit), with the defaults of ess::tokensFromSpec;
/// false for inputs of another kind. Throws as tokensFromSpec on a malformed mqar: spec.
bool mqarSpecOf(const std::string& spec, int vocabSize, int maxLength, MqarSpec* out);

}  // namespace ess
