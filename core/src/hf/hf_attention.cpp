// What the softmax-attention families share: operator kind, heads, KV-cache state size, memory
// (hf/hf_architecture.h); and the defaults of HfArchitecture.
#include <ATen/ATen.h>

#include <algorithm>

#include "ess/error.h"
#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

at::Tensor HfArchitecture::linear(const HfWeights& w, const at::Tensor& x, int layer, const std::string& n,
                                  bool bias) const {
  return rowParallelLinear(x, w.weight(layerTensor(layer, n + ".weight")),
                           bias ? w.weight(layerTensor(layer, n + ".bias")) : at::Tensor());
}

at::Tensor HfArchitecture::layerNormOf(const HfWeights& w, const at::Tensor& x, int layer, const std::string& n) const {
  return layerNorm(x, w.weight(layerTensor(layer, n + ".weight")), w.weight(layerTensor(layer, n + ".bias")),
                   c_.normEps);
}

Generators HfArchitecture::layerGenerators(const HfWeights&, int, const at::Tensor&) const { return {}; }

std::pair<at::Tensor, at::Tensor> HfArchitecture::queriesKeys(const HfWeights&, int, const at::Tensor&) const {
  throw UsageError(path_ + ": queriesKeys is for the rotary families (llama, gpt_neox, phi)");
}

std::string AttentionArchitecture::layerKind(int layer) const {
  return windowOf(layer) > 0 ? "sliding_window_attention" : "softmax_attention";
}

double AttentionArchitecture::layerTheoreticalStateSize(int layer, int split) const {
  const int w = windowOf(layer);
  const double s = w > 0 ? std::min(split, w) : split;
  return s * 2.0 * c_.headDim;
}

std::string AttentionArchitecture::layerTssFormula(int layer) const {
  const int w = windowOf(layer);
  const std::string d = std::to_string(c_.headDim);
  const std::string s = w > 0 ? "min(s," + std::to_string(w) + ")" : std::string("s");
  std::string f = s + "*(d_k+d_v) = " + s + "*(" + d + "+" + d + ")";
  if (c_.numKvHeads != c_.numHeads)
    f += ", the cache of the KV head it reads (" + std::to_string(c_.numKvHeads) + " KV heads, each shared by " +
         std::to_string(c_.numHeads / c_.numKvHeads) + " query heads)";
  return f;
}

double AttentionArchitecture::mixerBytes(double L) const { return 3.0 * c_.numHeads * L * L * 8.0; }

}  // namespace ess::hf
