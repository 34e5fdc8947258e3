// The checked weights of a Hugging Face checkpoint (internal to the core): every tensor a family
// uses is checked against the shape its config implies when the model opens, and for NaN / Inf
// when a layer first uses it. Tensors of safetensors files opened on demand
// (CheckpointFiles::onDemand) are read when used and kept only by the LayerScope of the layer
// being computed: memory holds that layer's weights, not the model's; the token embedding is read
// by rows.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "ess/safetensors_io.h"

namespace ess {
struct CheckpointFiles;
}

namespace ess::hf {

/// A tensor a family needs: its name without the task-model prefix and its shape.
struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
};

class HfWeights {
 public:
  /// Keeps the `expected` tensors of `files`, stored as `prefix` + name. Throws InputError naming
  /// the weights file (the shard that holds it), the tensor and both shapes for a shape that
  /// disagrees, an integer dtype, or a missing tensor (`modelType` names the config).
  HfWeights(const CheckpointFiles& files, const std::string& prefix, const std::vector<ExpectedTensor>& expected,
            const std::string& modelType);

  /// While a scope lives, weight() on this thread keeps the float64 copies it makes of these
  /// weights and gives the same copy again, so a layer computation reads each tensor once (a
  /// block that normalizes its input in its forward pass and again for its operator, phi3's fused
  /// qkv_proj split three ways); the copies go with the scope. Scopes nest: an inner one for
  /// another layer (the blocks before it) keeps its own copies and drops them at its end; one for
  /// the layer of the scope around it adds nothing. The caller must not change a copy in place.
  class LayerScope {
   public:
    LayerScope(const HfWeights& w, int layer);
    ~LayerScope();
    LayerScope(const LayerScope&) = delete;
    LayerScope& operator=(const LayerScope&) = delete;

   private:
    friend class HfWeights;
    const HfWeights* weights_;
    int layer_;
    bool pushed_ = false;
    LayerScope* outer_ = nullptr;
    std::map<std::string, at::Tensor> copies_;
  };

  /// A float64 copy of a checked tensor (read from its file when on demand), counted in
  /// hfWeightCopyBytes while it lives; kept by the innermost LayerScope of this thread unless
  /// `keep` is false (a caller that keeps the values itself, as Mamba's mixer parameters).
  /// Throws InputError naming the folder and the tensor when it holds NaN or Inf (checked once
  /// per tensor), or naming the file when it changed on disk.
  at::Tensor weight(const std::string& name, bool keep = true) const;
  /// A checked tensor's values as stored (read now when on demand; no NaN / Inf check).
  at::Tensor stored(const std::string& name) const;
  /// Rows `ids` (int64 [L], each in 0..rows-1) of a checked tensor along its first dimension, as
  /// stored, [L, ...]: the token embedding of an input. On demand only these rows are read from
  /// the file (each distinct row once), not the matrix; no NaN / Inf check.
  at::Tensor rows(const std::string& name, const at::Tensor& ids) const;
  /// A checked tensor's shape and dtype (a meta-device tensor when on demand: no values), or
  /// null when the family did not ask for it.
  const at::Tensor* find(const std::string& name) const;

  /// The weights file that holds `name` in `files` (for messages): the shard named by an index,
  /// else the single weights file of a folder, else the path itself.
  static std::string fileOf(const CheckpointFiles& files, const std::string& name);

 private:
  std::string path_;
  std::map<std::string, at::Tensor> tensors_;  ///< by name without the model prefix
  /// The files of the on-demand tensors, by the name in the file.
  std::map<std::string, std::pair<std::string, SafetensorsFile>> onDemand_;
  mutable std::mutex finiteMutex_;
  mutable std::set<std::string> finite_;  ///< tensors found free of NaN and Inf
};

/// "[a, b]" for messages.
std::string shapeText(at::IntArrayRef s);

}  // namespace ess::hf
