// A file's named LibTorch tensors and free-text metadata: what every checkpoint reader of the
// model library returns (safetensors, PyTorch zip checkpoints) and what the safetensors writer
// takes; and the zero-copy conversions between LibTorch tensors and the plain arrays of the
// math library (ess/array.h).
#pragma once
#include <ATen/core/Tensor.h>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ess/array.h"

namespace ess {

struct NamedTensors {
  /// Tensors in file order. Names of nested checkpoints join key paths with '/'
  /// (docs/definitions.md section 6: `model/emb.weight`, list items by index).
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

/// A CPU tensor viewing `a`'s bytes (no copy; it keeps `a`'s storage alive). Undefined for an
/// undefined array.
at::Tensor toTensor(const Array& a);
/// An array viewing `t` made contiguous on the CPU (no copy when it already is; the array keeps
/// the tensor alive). Undefined for an undefined tensor. Throws InputError for a dtype without
/// an array type (complex, float8, unsigned beyond U8).
Array toArray(const at::Tensor& t);
NamedArrays toArrays(const NamedTensors& t);
NamedTensors toTensors(const NamedArrays& a);

}  // namespace ess
