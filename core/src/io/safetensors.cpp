// safetensors on LibTorch tensors (ess/safetensors.h): the array reader and writer of
// ess/safetensors_io.h with zero-copy conversions (ess/tensors.h).
#include "ess/safetensors.h"

#include <set>

#include "ess/error.h"
#include "ess/safetensors_io.h"

namespace ess {
namespace {

struct TorchDType {
  ArrayDType array;
  at::ScalarType torch;
};

const TorchDType kDTypes[] = {
    {ArrayDType::F64, at::kDouble},    {ArrayDType::F32, at::kFloat}, {ArrayDType::F16, at::kHalf},
    {ArrayDType::BF16, at::kBFloat16}, {ArrayDType::I64, at::kLong},  {ArrayDType::I32, at::kInt},
    {ArrayDType::I16, at::kShort},     {ArrayDType::I8, at::kChar},   {ArrayDType::U8, at::kByte},
    {ArrayDType::Bool, at::kBool},
};

const TorchDType* byTorch(at::ScalarType t) {
  for (const auto& d : kDTypes)
    if (d.torch == t) return &d;
  return nullptr;
}

at::ScalarType torchTypeOf(ArrayDType t) {
  for (const auto& d : kDTypes)
    if (d.array == t) return d.torch;
  return at::kDouble;
}

}  // namespace

at::Tensor toTensor(const Array& a) {
  if (!a.defined()) return at::Tensor();
  auto keep = a.storage();
  return at::from_blob(
      a.data(), a.shape(), [keep](void*) {}, at::TensorOptions().dtype(torchTypeOf(a.dtype())));
}

Array toArray(const at::Tensor& t) {
  if (!t.defined()) return Array();
  const TorchDType* d = byTorch(t.scalar_type());
  if (!d)
    throw InputError(std::string("dtype ") + c10::toString(t.scalar_type()) +
                     " has no array type (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
  auto c = std::make_shared<at::Tensor>(t.to(at::kCPU).contiguous());
  void* p = c->data_ptr();
  return Array(d->array, c->sizes().vec(), p, std::shared_ptr<void>(c, p));
}

NamedArrays toArrays(const NamedTensors& t) {
  NamedArrays out;
  out.metadata = t.metadata;
  for (const auto& [n, x] : t.tensors) out.add(n, toArray(x));
  return out;
}

NamedTensors toTensors(const NamedArrays& a) {
  NamedTensors out;
  out.metadata = a.metadata;
  for (const auto& [n, x] : a.arrays) out.add(n, toTensor(x));
  return out;
}

std::string safetensorsDtypeName(at::ScalarType dtype) {
  const TorchDType* d = byTorch(dtype);
  if (!d)
    throw InputError(std::string("dtype ") + c10::toString(dtype) +
                     " cannot be stored in safetensors (supported: F64, F32, F16, BF16, I64, "
                     "I32, I16, I8, U8, BOOL)");
  return dtypeName(d->array);
}

NamedTensors safetensorsShapes(const SafetensorsFile& file) {
  NamedTensors out;
  out.metadata = file.metadata();
  for (const auto& e : file.entries())
    out.add(e.name, at::empty(e.shape, at::TensorOptions().dtype(torchTypeOf(e.dtype)).device(at::kMeta)));
  return out;
}

at::Tensor readTensor(const SafetensorsFile& file, const std::string& name) { return toTensor(file.read(name)); }

NamedTensors readSafetensors(const std::string& path) { return toTensors(readSafetensorArrays(path)); }

void writeSafetensors(const std::string& path, const NamedTensors& t) {
  // The checks of writeSafetensorArrays in the same order, plus the dtype, so that the first
  // offending tensor is the one named.
  NamedArrays a;
  a.metadata = t.metadata;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : t.tensors) {
    if (name == "__metadata__") throw InputError(path + ": cannot write a tensor named '__metadata__' (reserved)");
    if (!seen.insert(name).second) throw InputError(path + ": duplicate tensor name '" + name + "'");
    if (!tensor.defined()) throw InputError(path + ": tensor '" + name + "' is undefined");
    if (!byTorch(tensor.scalar_type()))
      throw InputError(path + ": tensor '" + name + "': dtype " + c10::toString(tensor.scalar_type()) +
                       " cannot be stored in safetensors");
    a.add(name, toArray(tensor));
  }
  writeSafetensorArrays(path, a);
}

}  // namespace ess
