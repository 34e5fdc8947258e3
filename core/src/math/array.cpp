// Array: see ess/array.h.
#include "ess/array.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>

namespace ess {

size_t itemSize(ArrayDType t) {
  switch (t) {
    case ArrayDType::F64:
    case ArrayDType::I64:
      return 8;
    case ArrayDType::F32:
    case ArrayDType::I32:
      return 4;
    case ArrayDType::F16:
    case ArrayDType::BF16:
    case ArrayDType::I16:
      return 2;
    case ArrayDType::I8:
    case ArrayDType::U8:
    case ArrayDType::Bool:
      return 1;
  }
  return 1;
}

const char* dtypeName(ArrayDType t) {
  switch (t) {
    case ArrayDType::F64:
      return "F64";
    case ArrayDType::F32:
      return "F32";
    case ArrayDType::F16:
      return "F16";
    case ArrayDType::BF16:
      return "BF16";
    case ArrayDType::I64:
      return "I64";
    case ArrayDType::I32:
      return "I32";
    case ArrayDType::I16:
      return "I16";
    case ArrayDType::I8:
      return "I8";
    case ArrayDType::U8:
      return "U8";
    case ArrayDType::Bool:
      return "BOOL";
  }
  return "?";
}

bool isFloating(ArrayDType t) {
  return t == ArrayDType::F64 || t == ArrayDType::F32 || t == ArrayDType::F16 || t == ArrayDType::BF16;
}

namespace {

int64_t product(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

double halfToDouble(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(double(mant), -24);  // subnormal
  else if (exp == 31)
    v = mant ? std::nan("") : HUGE_VAL;  // NaN, Inf
  else
    v = std::ldexp(double(mant | 0x400), exp - 25);
  return sign ? -v : v;
}

double bfloat16ToDouble(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

Array::Array(ArrayDType dtype, std::vector<int64_t> shape) : defined_(true), dtype_(dtype), shape_(std::move(shape)) {
  const size_t n = std::max<size_t>(nbytes(), 1);
  // One allocation, zeroed; doubles-aligned like any operator new. The nothrow form, so that a
  // size the machine cannot give is std::bad_alloc under AddressSanitizer too (its throwing new
  // aborts instead; sanitize.sh runs with allocator_may_return_null=1).
  unsigned char* p = new (std::nothrow) unsigned char[n]();
  if (!p) throw std::bad_alloc();
  std::shared_ptr<unsigned char> buf(p, std::default_delete<unsigned char[]>());
  data_ = buf.get();
  storage_ = std::move(buf);
}

Array::Array(ArrayDType dtype, std::vector<int64_t> shape, void* data, std::shared_ptr<void> storage)
    : defined_(true), dtype_(dtype), shape_(std::move(shape)), data_(data), storage_(std::move(storage)) {}

int64_t Array::numel() const { return product(shape_); }

double* Array::doubles() const {
  if (!defined_ || dtype_ != ArrayDType::F64) throw std::logic_error("Array::doubles: not a float64 array");
  return static_cast<double*>(data_);
}

Array Array::toFloat64() const {
  if (!defined_ || dtype_ == ArrayDType::F64) return *this;
  Array out(ArrayDType::F64, shape_);
  double* o = out.doubles();
  const int64_t n = numel();
  const void* p = data_;
  switch (dtype_) {
    case ArrayDType::F32:
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<const float*>(p)[i];
      break;
    case ArrayDType::F16:
      for (int64_t i = 0; i < n; ++i) o[i] = halfToDouble(static_cast<const uint16_t*>(p)[i]);
      break;
    case ArrayDType::BF16:
      for (int64_t i = 0; i < n; ++i) o[i] = bfloat16ToDouble(static_cast<const uint16_t*>(p)[i]);
      break;
    case ArrayDType::I64:
      for (int64_t i = 0; i < n; ++i) o[i] = double(static_cast<const int64_t*>(p)[i]);
      break;
    case ArrayDType::I32:
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<const int32_t*>(p)[i];
      break;
    case ArrayDType::I16:
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<const int16_t*>(p)[i];
      break;
    case ArrayDType::I8:
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<const int8_t*>(p)[i];
      break;
    case ArrayDType::U8:
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<const uint8_t*>(p)[i];
      break;
    case ArrayDType::Bool:
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
      break;
    case ArrayDType::F64:
      break;
  }
  return out;
}

Array Array::reshaped(std::vector<int64_t> shape) const {
  if (product(shape) != numel()) throw std::logic_error("Array::reshaped: numel differs");
  return Array(dtype_, std::move(shape), data_, storage_);
}

std::string Array::shapeText() const {
  std::string s = "[";
  for (size_t i = 0; i < shape_.size(); ++i) s += (i ? ", " : "") + std::to_string(shape_[i]);
  return s + "]";
}

}  // namespace ess
