// Tensor checks against the config and the NaN / Inf check (hf/hf_weights.h).
#include "hf/hf_weights.h"

#include <ATen/ATen.h>

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

namespace ess {
namespace {

std::atomic<int64_t> heldCopyBytes{0}, peakCopyBytes{0};

void countCopy(int64_t bytes) {
  const int64_t now = heldCopyBytes.fetch_add(bytes) + bytes;
  int64_t peak = peakCopyBytes.load();
  while (now > peak && !peakCopyBytes.compare_exchange_weak(peak, now)) {
  }
}

}  // namespace

HfWeightCopyBytes hfWeightCopyBytes() { return {heldCopyBytes.load(), peakCopyBytes.load()}; }
void resetHfWeightCopyPeak() { peakCopyBytes.store(heldCopyBytes.load()); }

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

at::Tensor HfWeights::stored(const std::string& name) const {
  auto od = onDemand_.find(name);
  if (od != onDemand_.end()) return readTensor(od->second.second, od->second.first);
  return tensors_.at(name);
}

at::Tensor HfWeights::weight(const std::string& name) const {
  if (!tensors_.count(name)) throw std::logic_error("HfModel: unchecked tensor " + name);
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
  return copy;
}

const at::Tensor* HfWeights::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace ess::hf
