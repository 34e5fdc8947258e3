// A plain n-dimensional array for the math and formats library (essmath, no LibTorch): the
// values of a safetensors tensor, an operator [H, L, L] or generators [H, L, N].
// Row-major and contiguous; the bytes live in a shared storage (an owned buffer, a mapping of
// a file, or a LibTorch tensor viewed without copying, ess/tensors.h), kept alive by every
// Array that views it. Copies of an Array share the storage (like tensors), so writing through
// one is seen by all.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ess {

/// Element types of the safetensors format (as supported here).
enum class ArrayDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

/// Bytes per element (Bool: 1).
size_t itemSize(ArrayDType t);
/// The safetensors spelling: "F64", "F32", "F16", "BF16", "I64", ..., "BOOL".
const char* dtypeName(ArrayDType t);
/// True for F64, F32, F16 and BF16.
bool isFloating(ArrayDType t);

class Array {
 public:
  /// An undefined array (defined() is false).
  Array() = default;
  /// A new zero-filled array owning its storage. Throws std::bad_alloc.
  Array(ArrayDType dtype, std::vector<int64_t> shape);
  /// A view of `data` (row-major, contiguous), kept valid by `storage` (any owner; its deleter
  /// releases the bytes once no Array refers to them).
  Array(ArrayDType dtype, std::vector<int64_t> shape, void* data, std::shared_ptr<void> storage);

  bool defined() const { return defined_; }
  ArrayDType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int dim() const { return static_cast<int>(shape_.size()); }
  /// Size of dimension `d` (negative counts from the end).
  int64_t size(int d) const { return shape_[static_cast<size_t>(d < 0 ? d + dim() : d)]; }
  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * itemSize(dtype_); }
  void* data() const { return data_; }
  /// Typed pointer; the caller checks dtype() (doubles() does for F64).
  template <class T>
  T* data() const {
    return static_cast<T*>(data_);
  }
  /// The float64 values; throws std::logic_error unless dtype() is F64.
  double* doubles() const;
  const std::shared_ptr<void>& storage() const { return storage_; }

  /// The values as float64: this array itself (shared) when already F64, else a converted copy
  /// (F16 and BF16 exactly, integers and bools as numbers).
  Array toFloat64() const;
  /// The same storage under another shape of equal numel; throws std::logic_error otherwise.
  Array reshaped(std::vector<int64_t> shape) const;
  /// "[2, 64, 64]".
  std::string shapeText() const;

 private:
  bool defined_ = false;
  ArrayDType dtype_ = ArrayDType::F64;
  std::vector<int64_t> shape_;
  void* data_ = nullptr;
  std::shared_ptr<void> storage_;
};

/// A file's named arrays and free-text metadata: what the safetensors reader returns and the
/// writer takes (ess/safetensors_io.h).
struct NamedArrays {
  /// Arrays in file order.
  std::vector<std::pair<std::string, Array>> arrays;
  /// safetensors `__metadata__` (string to string).
  std::map<std::string, std::string> metadata;

  /// The array called `name`, or nullptr.
  const Array* find(const std::string& name) const {
    for (const auto& [n, a] : arrays)
      if (n == name) return &a;
    return nullptr;
  }
  void add(std::string name, Array a) { arrays.emplace_back(std::move(name), std::move(a)); }
};

}  // namespace ess
