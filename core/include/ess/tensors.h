// A file's named tensors and free-text metadata: what every checkpoint reader returns
// (safetensors, PyTorch zip checkpoints) and what the safetensors writer takes.
#pragma once
#include <ATen/core/Tensor.h>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ess {

struct NamedTensors {
  /// Tensors in file order. Names of nested checkpoints join key paths with '/'
  /// (DESIGN.md section 6: `model/emb.weight`, list items by index).
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  /// safetensors `__metadata__` (string to string); empty for other formats.
  std::map<std::string, std::string> metadata;

  /// The tensor called `name`, or nullptr.
  const at::Tensor* find(const std::string& name) const {
    for (const auto& [n, t] : tensors)
      if (n == name) return &t;
    return nullptr;
  }
  void add(std::string name, at::Tensor t) { tensors.emplace_back(std::move(name), std::move(t)); }
};

}  // namespace ess
