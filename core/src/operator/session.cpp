// Session implementations: operator and generator files, and ess-lm model checkpoints.
#include "ess/session.h"

#include <filesystem>
#include <sstream>

#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/generators.h"
#include "ess/input_spec.h"
#include "ess/model.h"
#include "ess/safetensors.h"

namespace ess {

Session::~Session() = default;

namespace {

namespace fs = std::filesystem;

std::string shapeOf(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

std::string gib(double bytes) {
  std::ostringstream o;
  o.precision(3);
  o << bytes / double(1ull << 30) << " GiB";
  return o.str();
}

/// Refuses a dense [H, L, L] float64 operator beyond the memory budget, saying what fits.
void checkBudget(const std::string& what, int64_t heads, int64_t length, size_t budget) {
  const double bytes = double(heads) * double(length) * double(length) * 8.0;
  if (bytes > double(budget)) {
    const int64_t fits = static_cast<int64_t>(std::sqrt(double(budget) / (8.0 * std::max<int64_t>(heads, 1))));
    throw InputError(what + ": a dense operator of " + std::to_string(heads) + " x " + std::to_string(length) +
                     " x " + std::to_string(length) + " float64 values needs " + gib(bytes) +
                     ", over the memory budget of " + gib(double(budget)) + "; at most L = " +
                     std::to_string(fits) + " fits");
  }
}

/// Names the first non-finite entry of an [H, L, L] operator.
void checkFiniteOperator(const at::Tensor& op, const std::string& what) {
  at::Tensor bad = at::logical_not(at::isfinite(op));
  if (!bad.any().item<bool>()) return;
  at::Tensor idx = bad.nonzero()[0];
  const double v = op.index({idx[0], idx[1], idx[2]}).item<double>();
  throw InputError(what + ": holds " + std::string(std::isnan(v) ? "NaN" : "Inf") + " at [" +
                   std::to_string(idx[0].item<int64_t>()) + ", " + std::to_string(idx[1].item<int64_t>()) + ", " +
                   std::to_string(idx[2].item<int64_t>()) + "] (head, row, column)");
}

std::string dtypeName(at::ScalarType t) {
  try {
    return safetensorsDtypeName(t);
  } catch (const InputError&) {
    return c10::toString(t);
  }
}

OperatorData toData(const at::Tensor& op) {
  at::Tensor t = op.to(at::kDouble).contiguous();
  OperatorData d;
  d.heads = static_cast<int>(t.size(0));
  d.length = static_cast<int>(t.size(1));
  d.values.assign(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
  return d;
}

/// Shared machinery: curves and spectra from the operator tensor of a layer.
class SessionBase : public Session {
 public:
  const SourceInfo& info() const override { return info_; }

  OperatorData operatorOf(int layer) override { return toData(operatorTensor(layer)); }

  CurveData curve(int layer, const EssOptions& options, const ProgressFn& progress,
                  const std::atomic<bool>* cancel) override {
    at::Tensor op = operatorTensor(layer);
    EssCurve c = computeEss(op, options, progress, cancel);
    CurveData d;
    d.layer = layer;
    d.length = static_cast<int>(op.size(1));
    d.splits = c.splits;
    d.tolerance = std::move(c.tolerance);
    d.entropy = std::move(c.entropy);
    d.tss.assign(op.size(0), std::vector<double>(d.splits.size(), std::nan("")));
    for (int h = 0; h < op.size(0); ++h)
      for (size_t i = 0; i < d.splits.size(); ++i)
        if (auto v = theoreticalStateSize(layer, h, d.splits[i], d.length)) d.tss[h][i] = *v;
    return d;
  }

  std::vector<double> spectrum(int layer, int head, int split, const EssOptions& options) override {
    at::Tensor op = operatorTensor(layer);
    if (head < 0 || head >= op.size(0))
      throw UsageError("--head " + std::to_string(head) + " is outside 0.." + std::to_string(op.size(0) - 1));
    return splitSingularValues(op[head], split, options.dtype_);
  }

 protected:
  void checkLayer(int layer) const {
    if (layer < 0 || layer >= static_cast<int>(info_.layers.size()))
      throw UsageError("--layer " + std::to_string(layer) + " is outside 0.." +
                       std::to_string(static_cast<int>(info_.layers.size()) - 1) + " (" + info_.path + ")");
  }
  /// The operator of `layer`, [H, L, L] float64, finite.
  virtual at::Tensor operatorTensor(int layer) = 0;
  SourceInfo info_;
};

/// An operator file (tensor `operator`, [L, L] or [H, L, L]) or a generator file.
class OperatorSession : public SessionBase {
 public:
  OperatorSession(const std::string& path, const NamedTensors& tensors, size_t budget) {
    memoryBudget_ = budget;
    info_.path = path;
    if (isGeneratorFile(tensors)) {
      const at::Tensor& c = *tensors.find("C");
      if (c.dim() != 3) throw InputError(path + ": C " + shapeOf(c) + " must be [H, L, N]");
      checkBudget(path, c.size(0), c.size(1), memoryBudget_);
      op_ = materializeGenerators(tensors, path);
      stateSize_ = generatorStateSize(tensors);
      info_.architecture = "generators";
    } else {
      const at::Tensor* t = tensors.find("operator");
      if (!t) {
        std::string names;
        for (const auto& [n, v] : tensors.tensors) names += (names.empty() ? "" : ", ") + n;
        throw InputError(path + ": no tensor 'operator' (nor generators C, B, log_a) and no config.json beside it;"
                         " tensors found: " + (names.empty() ? "none" : names));
      }
      if (!at::isFloatingType(t->scalar_type()))
        throw InputError(path + ": tensor 'operator' has an integer dtype; expected F64, F32, F16 or BF16");
      at::Tensor op = t->dim() == 2 ? t->unsqueeze(0) : *t;
      if (op.dim() != 3 || op.size(1) != op.size(2))
        throw InputError(path + ": tensor 'operator' has shape " + shapeOf(*t) + "; expected [L, L] or [H, L, L]");
      if (op.size(0) < 1) throw InputError(path + ": tensor 'operator' has shape " + shapeOf(*t) + " with no heads");
      if (op.size(1) < 2) throw InputError(path + ": tensor 'operator' has length " + std::to_string(op.size(1)) +
                                           "; ESS needs L >= 2");
      checkBudget(path, op.size(0), op.size(1), memoryBudget_);
      op_ = op.to(at::kDouble).contiguous();
      info_.architecture = "operator";
    }
    checkFiniteOperator(op_, path + ": operator");
    LayerSummary l;
    l.index = 0;
    l.mixer = stateSize_ > 0 ? "semiseparable" : "operator";
    l.heads = static_cast<int>(op_.size(0));
    l.tss = stateSize_ > 0 ? std::to_string(stateSize_) : "";
    info_.layers.push_back(l);
    info_.length = static_cast<int>(op_.size(1));
    info_.description = fs::path(path).filename().string() + ": " + info_.architecture + ", " +
                        std::to_string(l.heads) + " head(s), L = " + std::to_string(op_.size(1));
  }

  void setInput(const std::string&) override {}
  std::string input() const override { return ""; }
  std::vector<long> tokens() const override { return {}; }
  std::optional<double> theoreticalStateSize(int, int, int, int) const override {
    if (stateSize_ > 0) return double(stateSize_);
    return std::nullopt;
  }

 protected:
  at::Tensor operatorTensor(int layer) override {
    checkLayer(layer);
    return op_;
  }

 private:
  at::Tensor op_;
  int stateSize_ = 0;
};

/// An ess-lm checkpoint: operators depend on the input tokens.
class ModelSession : public SessionBase {
 public:
  ModelSession(const CheckpointFiles& files, size_t budget) {
    memoryBudget_ = budget;
    info_.path = files.path;
    ModelConfig cfg = ModelConfig::fromJson(files.configJson, (fs::path(files.path) / "config.json").string());
    model_ = EssLm::fromTensors(cfg, files.tensors, files.path);
    info_.architecture = "ess-lm";
    info_.needsInput = true;
    info_.vocabSize = cfg.vocabSize;
    info_.maxLength = cfg.maxLength;
    std::string kinds;
    for (int i = 0; i < model_->numLayers(); ++i) {
      LayerSummary l;
      l.index = i;
      l.mixer = model_->mixerKind(i);
      l.heads = model_->heads(i);
      l.valueChannels = model_->valueChannels(i);
      l.tss = model_->tssFormula(i);
      info_.layers.push_back(l);
      kinds += (i ? ", " : "") + l.mixer;
    }
    info_.description = fs::path(files.path).filename().string() + ": ess-lm, " +
                        std::to_string(model_->numLayers()) + " layer(s): " + kinds;
    setInput(defaultInputSpec(cfg.vocabSize, cfg.maxLength));
  }

  void setInput(const std::string& spec) override {
    std::vector<long> t = tokensFromSpec(spec, info_.vocabSize, info_.maxLength);
    tokens_ = std::move(t);
    input_ = spec;
    cache_.clear();
  }
  std::string input() const override { return input_; }
  std::vector<long> tokens() const override { return tokens_; }

  std::optional<double> theoreticalStateSize(int layer, int, int split, int) const override {
    return model_->theoreticalStateSizeSiso(layer, split);
  }

 protected:
  at::Tensor operatorTensor(int layer) override {
    checkLayer(layer);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(layer);
    if (it != cache_.end()) return it->second;
    checkBudget(info_.path + ": layer " + std::to_string(layer), model_->heads(layer),
                static_cast<int64_t>(tokens_.size()), memoryBudget_);
    at::Tensor tok = at::tensor(std::vector<int64_t>(tokens_.begin(), tokens_.end()), at::kLong);
    at::Tensor op = model_->layerOperator(layer, tok).to(at::kDouble).contiguous();
    checkFiniteOperator(op, info_.path + ": layer " + std::to_string(layer) + " operator");
    cache_[layer] = op;
    return op;
  }

 private:
  std::unique_ptr<EssLm> model_;
  std::vector<long> tokens_;
  std::string input_;
  std::map<int, at::Tensor> cache_;
  std::mutex mutex_;
};

std::unique_ptr<Session> openFiles(const CheckpointFiles& files, size_t budget = Session::kDefaultMemoryBudget) {
  if (files.tensors.find("operator") || isGeneratorFile(files.tensors))
    return std::make_unique<OperatorSession>(files.path, files.tensors, budget);
  if (!files.configJson.empty()) return std::make_unique<ModelSession>(files, budget);
  return std::make_unique<OperatorSession>(files.path, files.tensors, budget);  // raises the error
}

}  // namespace

std::unique_ptr<Session> Session::open(const std::string& path, size_t memoryBudget) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or directory");
  return openFiles(loadCheckpointFiles(path), memoryBudget);
}

FileSummary summarizeFile(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or directory");
  CheckpointFiles files = loadCheckpointFiles(path);
  FileSummary s;
  for (const auto& [name, t] : files.tensors.tensors) {
    TensorSummary ts;
    ts.name = name;
    ts.dtype = dtypeName(t.scalar_type());
    for (int64_t i = 0; i < t.dim(); ++i) ts.shape.push_back(t.size(i));
    s.tensors.push_back(ts);
  }
  if (files.tensors.find("operator") || isGeneratorFile(files.tensors) || !files.configJson.empty()) {
    s.info = openFiles(files)->info();
  } else {
    s.info.path = files.path;
    s.info.architecture = "tensors";
    s.info.description = "no config.json and no operator: named tensors only";
  }
  return s;
}

}  // namespace ess
