// safetensors reader and writer on plain arrays: see ess/safetensors_io.h.
#include "ess/safetensors_io.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ess/atomic_file.h"
#include "ess/cancel.h"
#include "ess/input_file.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <stdexcept>
#include <vector>

#include "ess/error.h"
#include "math/json_text.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the safetensors reader assumes a little-endian host");

namespace ess {
namespace {

using ojson = nlohmann::ordered_json;

// The safetensors specification caps the header at 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw InputError(path + ": " + what); }

struct DType {
  const char* name;
  ArrayDType type;
  uint64_t itemsize;
};

const DType kDTypes[] = {
    {"F64", ArrayDType::F64, 8},   {"F32", ArrayDType::F32, 4}, {"F16", ArrayDType::F16, 2},
    {"BF16", ArrayDType::BF16, 2}, {"I64", ArrayDType::I64, 8}, {"I32", ArrayDType::I32, 4},
    {"I16", ArrayDType::I16, 2},   {"I8", ArrayDType::I8, 1},   {"U8", ArrayDType::U8, 1},
    {"BOOL", ArrayDType::Bool, 1},
};

const DType* dtypeByName(const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return &d;
  return nullptr;
}

uint64_t readU64(const std::string& path, const ojson& v, const std::string& what) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    fail(path, what + " must be a non-negative integer, got " + v.dump());
  return v.get<uint64_t>();
}

}  // namespace

struct SafetensorsFile::Impl {
  Impl(const std::string& path) : f(path, "safetensors file") {}
  InputFile f;
  uint64_t dataStart = 0;
  std::vector<Entry> entries;
  std::map<std::string, size_t> byName;
  std::map<std::string, std::string> metadata;

  // The entry's bytes into a new array (BOOL as 0 and 1); no check of the file.
  Array readEntry(const Entry& e) const {
    const std::string& path = f.path();
    Array a;
    try {
      a = Array(e.dtype, e.shape);
    } catch (const std::exception&) {  // std::bad_alloc
      fail(path, "tensor '" + e.name + "': out of memory (" + std::to_string(e.end - e.begin) + " bytes)");
    }
    if (e.end > e.begin) f.readAt(a.data(), e.end - e.begin, dataStart + e.begin, "tensor '" + e.name + "'");
    if (e.dtype == ArrayDType::Bool) {  // any nonzero byte is true
      auto* b = a.data<uint8_t>();
      for (int64_t i = 0; i < a.numel(); ++i) b[i] = b[i] != 0;
    }
    return a;
  }
};

const std::string& SafetensorsFile::path() const { return impl_->f.path(); }
FileIdentity SafetensorsFile::identity() const { return impl_->f.identity(); }
const std::vector<SafetensorsFile::Entry>& SafetensorsFile::entries() const { return impl_->entries; }
const std::map<std::string, std::string>& SafetensorsFile::metadata() const { return impl_->metadata; }

Array SafetensorsFile::read(const std::string& name) const {
  const Entry& e = impl_->entries.at(impl_->byName.at(name));
  checkCancelled("tensor read");  // a cancelled open or computation reads no further tensor
  checkFilesUnchanged({identity()});
  Array a = impl_->readEntry(e);
  checkFilesUnchanged({identity()});
  return a;
}

Array SafetensorsFile::readRows(const std::string& name, const std::vector<int64_t>& rows) const {
  const Entry& e = impl_->entries.at(impl_->byName.at(name));
  if (e.shape.empty()) throw std::invalid_argument(impl_->f.path() + ": tensor '" + name + "' has no rows (0-d)");
  for (int64_t r : rows)
    if (r < 0 || r >= e.shape[0])
      throw std::out_of_range(impl_->f.path() + ": row " + std::to_string(r) + " of tensor '" + name +
                              "' is outside 0.." + std::to_string(e.shape[0] - 1));
  std::vector<int64_t> shape = e.shape;
  shape[0] = static_cast<int64_t>(rows.size());
  Array out(e.dtype, shape);
  const uint64_t rowBytes = e.shape[0] > 0 ? (e.end - e.begin) / static_cast<uint64_t>(e.shape[0]) : 0;
  if (rows.empty() || rowBytes == 0) return out;
  // The distinct rows in file order, read in runs of consecutive rows into `distinct`.
  std::vector<int64_t> sorted = rows;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<unsigned char> distinct(sorted.size() * rowBytes);
  checkFilesUnchanged({identity()});
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[j - 1] + 1) ++j;
    impl_->f.readAt(distinct.data() + i * rowBytes, (j - i) * rowBytes,
                    impl_->dataStart + e.begin + static_cast<uint64_t>(sorted[i]) * rowBytes,
                    "rows of tensor '" + name + "'");
    i = j;
  }
  checkFilesUnchanged({identity()});
  auto* dst = static_cast<unsigned char*>(out.data());
  for (size_t k = 0; k < rows.size(); ++k) {
    const size_t i = static_cast<size_t>(std::lower_bound(sorted.begin(), sorted.end(), rows[k]) - sorted.begin());
    std::memcpy(dst + k * rowBytes, distinct.data() + i * rowBytes, rowBytes);
  }
  if (e.dtype == ArrayDType::Bool)
    for (int64_t i = 0; i < out.numel(); ++i) dst[i] = dst[i] != 0;
  return out;
}

NamedArrays readSafetensorArrays(const std::string& path) {
  const SafetensorsFile file(path);
  NamedArrays out;
  out.metadata = file.metadata();
  // Every tensor is read into memory now, not mapped: a file that is truncated or rewritten
  // later (a training job saving over it) cannot fault a mapping (SIGBUS) or change data in use.
  for (const auto& e : file.entries()) {
    checkCancelled("tensor read");
    out.add(e.name, file.impl_->readEntry(e));
  }
  file.impl_->f.checkUnchanged();
  return out;
}

SafetensorsFile::SafetensorsFile(const std::string& path) {
  auto impl = std::make_shared<Impl>(path);
  const InputFile& f = impl->f;
  const uint64_t fileSize = f.size();
  if (fileSize == 0) fail(path, "file is empty (not a safetensors file)");
  if (fileSize < 8)
    fail(path,
         "file is " + std::to_string(fileSize) + " bytes, too short for a safetensors header (not a safetensors file)");

  unsigned char lenBytes[8];
  f.readAt(lenBytes, 8, 0, "the header length");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i) headerLen = (headerLen << 8) | lenBytes[i];
  if (headerLen > fileSize - 8)
    fail(path, "header length " + std::to_string(headerLen) + " exceeds file size " + std::to_string(fileSize) +
                   " (truncated or not a safetensors file)");
  if (headerLen > kMaxHeaderBytes)
    fail(path, "header length " + std::to_string(headerLen) + " exceeds the 100 MB limit");
  if (headerLen < 2) fail(path, "header length " + std::to_string(headerLen) + " is too short");

  std::string header(static_cast<size_t>(headerLen), '\0');
  f.readAt(header.data(), headerLen, 8, "the header");
  const uint64_t dataStart = 8 + headerLen;
  impl->dataStart = dataStart;
  const uint64_t dataSize = fileSize - dataStart;

  ojson j;
  // A name given twice would silently keep the last entry: refuse it while parsing.
  std::string duplicate;
  std::vector<std::set<std::string>> keysAtDepth;
  auto noDuplicateKeys = [&](int depth, ojson::parse_event_t event, ojson& parsed) {
    const auto d = static_cast<size_t>(depth);
    if (event == ojson::parse_event_t::object_start) {
      if (keysAtDepth.size() <= d) keysAtDepth.resize(d + 1);
      keysAtDepth[d].clear();
    } else if (event == ojson::parse_event_t::key && d >= 1 && keysAtDepth.size() >= d) {
      if (!keysAtDepth[d - 1].insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  try {
    j = ojson::parse(header, noDuplicateKeys);
  } catch (const std::exception& e) {
    fail(path, std::string("header is not valid JSON (not a safetensors file?): ") + jsonProblem(e));
  }
  if (!duplicate.empty()) fail(path, "the header names '" + duplicate + "' twice (ambiguous; the file is damaged)");
  if (!j.is_object()) fail(path, "header is not a JSON object (not a safetensors file)");

  std::map<std::string, std::string>& metadata = impl->metadata;
  std::vector<Entry>& entries = impl->entries;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const ojson& v = it.value();
    if (name == "__metadata__") {
      if (v.is_null()) continue;
      if (!v.is_object()) fail(path, "__metadata__ is not a JSON object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail(path, "__metadata__ value of '" + m.key() + "' is not a string");
        metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!v.is_object()) fail(path, where + ": header entry is not a JSON object");
    if (!v.contains("dtype")) fail(path, where + ": header entry has no 'dtype'");
    if (!v.contains("shape")) fail(path, where + ": header entry has no 'shape'");
    if (!v.contains("data_offsets")) fail(path, where + ": header entry has no 'data_offsets'");
    const ojson& jd = v.at("dtype");
    if (!jd.is_string()) fail(path, where + ": 'dtype' is not a string");
    Entry e;
    e.name = name;
    const DType* dtype = dtypeByName(jd.get<std::string>());
    if (!dtype)
      fail(path, where + ": unsupported dtype '" + jd.get<std::string>() +
                     "' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
    const ojson& js = v.at("shape");
    if (!js.is_array()) fail(path, where + ": 'shape' is not a list");
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : js) {
      if (!d.is_number_integer()) fail(path, where + ": shape entry " + d.dump() + " is not an integer");
      if (!d.is_number_unsigned() && d.get<int64_t>() < 0)
        fail(path, where + ": negative dimension " + d.dump() + " in shape");
      uint64_t n = d.get<uint64_t>();
      if (n > static_cast<uint64_t>(INT64_MAX)) overflow = true;
      e.shape.push_back(static_cast<int64_t>(n));
      if (__builtin_mul_overflow(numel, n, &numel)) overflow = true;
    }
    uint64_t nbytes = 0;
    e.dtype = dtype->type;
    if (overflow || __builtin_mul_overflow(numel, dtype->itemsize, &nbytes))
      fail(path, where + ": shape " + js.dump() + " is too large");
    const ojson& jo = v.at("data_offsets");
    if (!jo.is_array() || jo.size() != 2) fail(path, where + ": 'data_offsets' is not a pair [begin, end]");
    e.begin = readU64(path, jo[0], where + ": data_offsets begin");
    e.end = readU64(path, jo[1], where + ": data_offsets end");
    if (e.begin > e.end)
      fail(path, where + ": data_offsets begin " + std::to_string(e.begin) + " > end " + std::to_string(e.end));
    if (e.end > dataSize)
      fail(path, where + ": data_offsets end " + std::to_string(e.end) + " exceeds the data section (" +
                     std::to_string(dataSize) + " bytes; file truncated?)");
    if (e.end - e.begin != nbytes)
      fail(path, where + ": data_offsets span " + std::to_string(e.end - e.begin) + " bytes but " +
                     jd.get<std::string>() + " " + js.dump() + " needs " + std::to_string(nbytes));
    entries.push_back(std::move(e));
  }

  // No two tensors may share bytes.
  std::vector<const Entry*> byBegin;
  for (const auto& e : entries)
    if (e.end > e.begin) byBegin.push_back(&e);
  std::sort(byBegin.begin(), byBegin.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < byBegin.size(); ++i)
    if (byBegin[i]->begin < byBegin[i - 1]->end)
      fail(path, "tensors '" + byBegin[i - 1]->name + "' and '" + byBegin[i]->name + "' overlap in the data section");

  for (size_t i = 0; i < entries.size(); ++i) impl->byName[entries[i].name] = i;
  impl_ = std::move(impl);
}

void writeSafetensorArrays(const std::string& path, const NamedArrays& t) {
  // Header first: every check happens before anything touches the disk.
  ojson header = ojson::object();
  if (!t.metadata.empty()) {
    ojson meta = ojson::object();
    for (const auto& [k, v] : t.metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, a] : t.arrays) {
    if (name == "__metadata__") fail(path, "cannot write a tensor named '__metadata__' (reserved)");
    if (!seen.insert(name).second) fail(path, "duplicate tensor name '" + name + "'");
    if (!a.defined()) fail(path, "tensor '" + name + "' is undefined");
    const uint64_t nbytes = a.nbytes();
    ojson e = ojson::object();
    e["dtype"] = dtypeName(a.dtype());
    e["shape"] = a.shape();
    e["data_offsets"] = {offset, offset + nbytes};
    header[name] = std::move(e);
    offset += nbytes;
  }
  std::string h;
  try {
    h = header.dump();
  } catch (const std::exception& e) {
    fail(path, std::string("cannot encode the header (names and metadata must be UTF-8): ") + e.what());
  }
  h.append((8 - h.size() % 8) % 8, ' ');
  unsigned char lenBytes[8];
  for (int i = 0; i < 8; ++i) lenBytes[i] = static_cast<unsigned char>((uint64_t(h.size()) >> (8 * i)) & 0xff);

  writeFileAtomically(path, [&](const ByteSink& sink) {
    sink(lenBytes, 8);
    sink(h.data(), h.size());
    for (const auto& [name, a] : t.arrays) {
      if (a.numel() == 0) continue;
      if (a.dtype() == ArrayDType::Bool) {  // bool storage may hold values other than 0/1
        std::vector<uint8_t> b(static_cast<size_t>(a.numel()));
        for (size_t i = 0; i < b.size(); ++i) b[i] = a.data<uint8_t>()[i] != 0;
        sink(b.data(), b.size());
      } else {
        sink(a.data(), a.nbytes());
      }
    }
  });
}

}  // namespace ess
