// Tensor checks against the config and the NaN / Inf check (hf/hf_weights.h).
#include "hf/hf_weights.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/hf_model.h"
#include "ess/input_file.h"
#include "ess/safetensors.h"
#include "ess/tensors.h"

namespace ess {
namespace {

std::atomic<int64_t> heldCopyBytes{0}, peakCopyBytes{0};
std::mutex readsMutex;
HfWeightReads reads;  ///< guarded by readsMutex

void countRead(const std::string& name, int64_t bytes, bool whole) {
  std::lock_guard<std::mutex> lock(readsMutex);
  if (whole)
    ++reads.whole[name];
  else
    reads.rowBytes[name] += bytes;
  reads.bytes += bytes;
}

void countCopy(int64_t bytes) {
  const int64_t now = heldCopyBytes.fetch_add(bytes) + bytes;
  int64_t peak = peakCopyBytes.load();
  while (now > peak && !peakCopyBytes.compare_exchange_weak(peak, now)) {
  }
}

}  // namespace

HfWeightCopyBytes hfWeightCopyBytes() { return {heldCopyBytes.load(), peakCopyBytes.load()}; }
void resetHfWeightCopyPeak() { peakCopyBytes.store(heldCopyBytes.load()); }

HfWeightReads hfWeightReads() {
  std::lock_guard<std::mutex> lock(readsMutex);
  return reads;
}
void resetHfWeightReads() {
  std::lock_guard<std::mutex> lock(readsMutex);
  reads = HfWeightReads();
}

}  // namespace ess

namespace ess::hf {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string shapeText(at::IntArrayRef s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

std::string HfWeights::fileOf(const CheckpointFiles& files, const std::string& name) {
  const fs::path p(files.path);
  std::error_code ec;
  if (!fs::is_directory(p, ec)) return files.path;
  for (const char* index : {"model.safetensors.index.json", "pytorch_model.bin.index.json"}) {
    const fs::path ip = p / index;
    if (!fs::exists(ip, ec)) continue;
    try {
      json j = json::parse(readRegularFile(ip.string(), "JSON file", uint64_t(64) << 20));
      auto wm = j.find("weight_map");
      if (wm != j.end() && wm->is_object()) {
        auto it = wm->find(name);
        if (it != wm->end() && it->is_string()) return (p / it->get<std::string>()).string();
      }
    } catch (const std::exception&) {
    }
    return ip.string();
  }
  for (const char* single : {"model.safetensors", "pytorch_model.bin"})
    if (fs::exists(p / single, ec)) return (p / single).string();
  return files.path;
}

HfWeights::HfWeights(const CheckpointFiles& files, const std::string& prefix,
                     const std::vector<ExpectedTensor>& expected, const std::string& modelType)
    : path_(files.path) {
  for (const auto& [name, shape] : expected) {
    const std::string full = prefix + name;
    const at::Tensor* t = files.tensors.find(full);
    if (!t)
      throw InputError(fileOf(files, full) + ": missing tensor '" + full + "' (needed by the " + modelType +
                       " config.json)");
    if (t->sizes().vec() != shape)
      throw InputError(fileOf(files, full) + ": tensor '" + full + "' has shape " + shapeText(t->sizes()) +
                       " but config.json implies " + shapeText(shape));
    if (!at::isFloatingType(t->scalar_type()))
      throw InputError(fileOf(files, full) + ": tensor '" + full + "' has an integer dtype; expected F32, F16 or BF16");
    tensors_[name] = *t;
    auto od = files.onDemand.find(full);
    if (od != files.onDemand.end()) onDemand_.emplace(name, std::make_pair(full, od->second));
  }
}

namespace {
thread_local HfWeights::LayerScope* innermostScope = nullptr;
}

HfWeights::LayerScope::LayerScope(const HfWeights& w, int layer) : weights_(&w), layer_(layer) {
  if (innermostScope && innermostScope->weights_ == weights_ && innermostScope->layer_ == layer_) return;
  outer_ = innermostScope;
  innermostScope = this;
  pushed_ = true;
}

HfWeights::LayerScope::~LayerScope() {
  if (pushed_) innermostScope = outer_;
}

at::Tensor HfWeights::stored(const std::string& name) const {
  auto od = onDemand_.find(name);
  if (od != onDemand_.end()) {
    at::Tensor t = readTensor(od->second.second, od->second.first);
    countRead(od->second.first, int64_t(t.numel()) * int64_t(t.element_size()), true);
    return t;
  }
  return tensors_.at(name);
}

at::Tensor HfWeights::rows(const std::string& name, const at::Tensor& ids) const {
  const at::Tensor tok = ids.to(at::kLong).contiguous();
  auto od = onDemand_.find(name);
  if (od == onDemand_.end()) return tensors_.at(name).index_select(0, tok);
  const std::vector<int64_t> wanted(tok.data_ptr<int64_t>(), tok.data_ptr<int64_t>() + tok.numel());
  at::Tensor t = toTensor(od->second.second.readRows(od->second.first, wanted));
  std::vector<int64_t> distinct = wanted;
  std::sort(distinct.begin(), distinct.end());
  const int64_t n = std::unique(distinct.begin(), distinct.end()) - distinct.begin();
  countRead(od->second.first, t.numel() ? n * int64_t(t.numel() / t.size(0)) * int64_t(t.element_size()) : 0, false);
  return t;
}

at::Tensor HfWeights::weight(const std::string& name, bool keep) const {
  if (!tensors_.count(name)) throw std::logic_error("HfModel: unchecked tensor " + name);
  LayerScope* scope = keep && innermostScope && innermostScope->weights_ == this ? innermostScope : nullptr;
  if (scope) {
    auto it = scope->copies_.find(name);
    if (it != scope->copies_.end()) return it->second;
  }
  const at::Tensor t = stored(name);
  bool checked;
  {
    std::lock_guard<std::mutex> lock(finiteMutex_);
    checked = finite_.count(name) > 0;
  }
  if (!checked) {
    if (!at::isfinite(t).all().item<bool>()) throw InputError(path_ + ": weight " + name + " holds NaN or Inf values");
    std::lock_guard<std::mutex> lock(finiteMutex_);
    finite_.insert(name);
  }
  // The copy owns a buffer of its own, so that the bytes held are counted until its last view goes.
  const int64_t bytes = t.numel() * int64_t(sizeof(double));
  auto* buffer = new double[static_cast<size_t>(std::max<int64_t>(t.numel(), 1))];
  countCopy(bytes);
  at::Tensor copy = at::from_blob(
      buffer, t.sizes(),
      [bytes](void* p) {
        delete[] static_cast<double*>(p);
        countCopy(-bytes);
      },
      at::TensorOptions().dtype(at::kDouble));
  copy.copy_(t);
  if (scope) scope->copies_.emplace(name, copy);
  return copy;
}

const at::Tensor* HfWeights::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace ess::hf
