// The session of operator and generator files, on arrays (no LibTorch): see session_base.h.
#include <filesystem>
#include <mutex>

#include "ess/error.h"
#include "math/session_base.h"

namespace ess {
namespace {

namespace fs = std::filesystem;

/// An operator file (tensor `operator`, [L, L] or [H, L, L]) or a generator file.
class OperatorSession : public SessionBase {
 public:
  OperatorSession(const std::string& path, const NamedArrays& tensors, size_t budget) {
    memoryBudget_ = budget;
    info_.path = path;
    if (isGeneratorFile(tensors) && tensors.find("operator"))
      throw InputError(path +
                       ": holds both a tensor 'operator' and generators C, B, log_a; which one to use is ambiguous "
                       "(keep only one)");
    if (isGeneratorFile(tensors)) {
      // Kept as generators (O(H L N)); the dense operator is formed only when asked for, within
      // the memory budget.
      gen_ = readGenerators(tensors, path);
      if (gen_.length() < 2)
        throw InputError(path + ": generators of length " + std::to_string(gen_.length()) + "; ESS needs L >= 2");
      stateSize_ = gen_.stateSize();
      info_.architecture = "generators";
    } else {
      const Array* t = tensors.find("operator");
      if (!t) {
        std::string names;
        for (const auto& [n, v] : tensors.arrays) names += (names.empty() ? "" : ", ") + n;
        throw InputError(path +
                         ": no tensor 'operator' (nor generators C, B, log_a) and no config.json beside it;"
                         " tensors found: " +
                         (names.empty() ? "none" : names));
      }
      if (!isFloating(t->dtype()))
        throw InputError(path + ": tensor 'operator' has an integer dtype; expected F64, F32, F16 or BF16");
      const Array op = t->dim() == 2 ? t->reshaped({1, t->size(0), t->size(1)}) : *t;
      if (op.dim() != 3 || op.size(1) != op.size(2))
        throw InputError(path + ": tensor 'operator' has shape " + t->shapeText() + "; expected [L, L] or [H, L, L]");
      if (op.size(0) < 1) throw InputError(path + ": tensor 'operator' has shape " + t->shapeText() + " with no heads");
      if (op.size(1) < 2)
        throw InputError(path + ": tensor 'operator' has length " + std::to_string(op.size(1)) + "; ESS needs L >= 2");
      checkBudget(path, op.size(0), op.size(1), memoryBudget_);
      op_ = op.toFloat64();
      checkFiniteOperator(op_, path + ": operator");
      info_.architecture = "operator";
    }
    LayerSummary l;
    l.index = 0;
    l.mixer = stateSize_ > 0 ? "semiseparable" : "operator";
    l.heads = op_.defined() ? static_cast<int>(op_.size(0)) : gen_.heads();
    l.tss = stateSize_ > 0 ? std::to_string(stateSize_) : "";
    info_.layers.push_back(l);
    info_.length = op_.defined() ? static_cast<int>(op_.size(1)) : gen_.length();
    info_.description = fs::path(path).filename().string() + ": " + info_.architecture + ", " +
                        std::to_string(l.heads) + " head(s), L = " + std::to_string(info_.length) +
                        (stateSize_ > 0 ? ", N = " + std::to_string(stateSize_) : "");
  }

  void setInput(const std::string&) override {}
  std::string input() const override { return ""; }
  std::vector<long> tokens() const override { return {}; }
  std::optional<double> theoreticalStateSize(int, int, int, int) const override {
    if (stateSize_ > 0) return double(stateSize_);
    return std::nullopt;
  }

 protected:
  Array operatorArray(int layer) override {
    checkLayer(layer);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!op_.defined()) {
      checkBudget(info_.path, gen_.heads(), gen_.length(), memoryBudget_);
      op_ = materializeGenerators(gen_, info_.path);
      checkFiniteOperator(op_, info_.path + ": operator");
    }
    return op_;
  }
  GeneratorArrays generatorsOf(int) override { return gen_; }
  bool hasDenseOperator(int) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return op_.defined();
  }
  int lengthOf(int) override { return info_.length; }

 private:
  Array op_;
  GeneratorArrays gen_;
  int stateSize_ = 0;
  mutable std::mutex mutex_;
};

}  // namespace

std::unique_ptr<Session> openOperatorSession(const std::string& path, const NamedArrays& tensors, size_t budget) {
  return std::make_unique<OperatorSession>(path, tensors, budget);
}

}  // namespace ess
