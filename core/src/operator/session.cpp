// The session of language models (ess/language_model.h: ess-lm checkpoints and Hugging Face
// checkpoints, gpt2, llama, mistral, qwen2, mamba), on the shared array machinery of
// math/session_base.h; operator and generator files are opened by the math library
// (math/operator_session.cpp).
#include "ess/session.h"

#include <ATen/Parallel.h>
#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "ess/cancel.h"
#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/generators.h"
#include "ess/input_spec.h"
#include "ess/language_model.h"
#include "ess/safetensors.h"
#include "ess/tensor_engines.h"
#include "ess/tokenizer.h"
#include "ess/view_policy.h"
#include "math/parallel.h"
#include "math/session_base.h"

namespace ess {
namespace {

// Whether every value of `t` is finite. Float64 data is read in place (at::isfinite(t).all()
// formed a bool tensor as large as t: 1.3 s for a Mamba-2.8B layer's 2 GB of generators).
bool allFinite(const at::Tensor& t) {
  if (!t.is_cpu() || t.scalar_type() != at::kDouble || !t.is_contiguous()) return at::isfinite(t).all().item<bool>();
  const double* p = t.data_ptr<double>();
  std::atomic<bool> finite{true};
  parallelFor(0, t.numel(), int64_t(1) << 22, [&](int64_t b, int64_t e) {
    bool ok = true;
    for (int64_t i = b; i < e; ++i) ok &= std::isfinite(p[i]);
    if (!ok) finite = false;
  });
  return finite;
}

namespace fs = std::filesystem;

std::string dtypeName(at::ScalarType t) {
  try {
    return safetensorsDtypeName(t);
  } catch (const InputError&) {
    return c10::toString(t);
  }
}

/// The kind of an --input spec: the text before the first ':'.
std::string specKind(const std::string& spec) { return spec.substr(0, spec.find(':')); }

/// Labels of byte tokens (ess-lm text input): each character on its first byte, whitespace made
/// visible; the continuation bytes of a multi-byte character as <0xNN>.
std::vector<std::string> byteLabels(const std::vector<long>& tokens) {
  std::string bytes;
  for (long t : tokens) bytes += static_cast<char>(t);
  std::vector<std::string> labels;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    bool whole = i + n <= bytes.size();
    for (size_t k = 1; whole && k < n; ++k) whole = (static_cast<unsigned char>(bytes[i + k]) & 0xC0) == 0x80;
    labels.push_back(visibleText(bytes.substr(i, whole ? n : 1)));
    if (whole)
      for (size_t k = 1; k < n; ++k) labels.push_back(visibleText(bytes.substr(i + k, 1)));
    if (whole) i += n - 1;
  }
  return labels;
}

/// Sessions of models: operators depend on the input tokens. Holds the tokens and caches each
/// layer's dense operator and generators for the current input; subclasses run the model.
class TokenModelSession : public SessionBase {
 public:
  std::string input() const override { return input_; }
  std::vector<long> tokens() const override { return tokens_; }

 protected:
  /// Heads (or channels) of `layer`, for the memory budget.
  virtual int layerHeads(int layer) const = 0;
  /// The model's operator [H, L, L] and generators of `layer` for the tokens [L].
  virtual at::Tensor computeOperator(int layer, const at::Tensor& tokens) = 0;
  virtual Generators computeGenerators(int layer, const at::Tensor& tokens) = 0;
  /// The same as rows the channels share, where the layer has that form (else empty).
  virtual SharedGenerators computeSharedGenerators(int, const at::Tensor&) { return {}; }

  /// Makes `tokens` (read from `spec`) the input and forgets what was computed for the old one.
  void setTokens(const std::string& spec, std::vector<long> tokens) {
    tokens_ = std::move(tokens);
    input_ = spec;
    std::lock_guard<std::mutex> lock(mutex_);
    cache_.clear();
    genCache_.clear();
    sharedCache_.clear();
    cacheOrder_.clear();
  }
  at::Tensor tokenTensor() const { return at::tensor(std::vector<int64_t>(tokens_.begin(), tokens_.end()), at::kLong); }

  Array operatorArray(int layer) override {
    checkLayer(layer);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(layer);
    if (it != cache_.end()) return it->second;
    const std::string what = info_.path + ": layer " + std::to_string(layer);
    checkBudget(what, layerHeads(layer), static_cast<int64_t>(tokens_.size()), memoryBudget_);
    checkCancelled("operator");
    makeRoom();
    // The forward pass checks between blocks (ess/cancel.h); a cancelled operator is not cached.
    Array op = toArray(computeOperator(layer, tokenTensor()).to(at::kDouble).contiguous());
    checkCancelled("operator formed");
    checkFiniteOperator(op, what + " operator");
    cache_[layer] = op;
    cached(Kind::Operator, layer);
    return op;
  }
  GeneratorArrays generatorsOf(int layer) override {
    checkLayer(layer);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = genCache_.find(layer);
    if (it != genCache_.end()) return it->second;
    checkCancelled("generators");
    makeRoom();
    Generators g = computeGenerators(layer, tokenTensor());
    checkCancelled("generators formed");
    if (g.heads() > 0) {
      for (const at::Tensor* t : {&g.C, &g.B, &g.logA})
        if (!allFinite(*t))
          throw InputError(info_.path + ": layer " + std::to_string(layer) + ": the generators hold NaN or Inf");
    }
    GeneratorArrays a = g.heads() > 0 ? toArrays(g) : GeneratorArrays{};
    genCache_[layer] = a;
    cached(Kind::Generators, layer);
    return a;
  }
  SharedGeneratorArrays sharedGeneratorsOf(int layer) override {
    checkLayer(layer);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = sharedCache_.find(layer);
    if (it != sharedCache_.end()) return it->second;
    checkCancelled("generators");
    makeRoom();
    const SharedGenerators g = computeSharedGenerators(layer, tokenTensor());
    checkCancelled("generators formed");
    SharedGeneratorArrays a;
    if (g.heads() > 0) {
      a = toArrays(g);
      try {
        checkSharedGenerators(a);
      } catch (const InputError& e) {
        throw InputError(info_.path + ": layer " + std::to_string(layer) + ": the generators hold NaN or Inf (" +
                         e.what() + ")");
      }
    }
    sharedCache_[layer] = a;  // empty too: the layer has no shared form, asked once
    cached(Kind::Shared, layer);
    return a;
  }
  bool hasDenseOperator(int layer) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_.count(layer) > 0;
  }
  int lengthOf(int) override { return static_cast<int>(tokens_.size()); }

  std::vector<long> tokens_;
  std::string input_;

 private:
  /// Records an entry just cached and forgets the oldest ones while the caches hold more than
  /// a quarter of the memory budget (the newest always stays): a sweep over every layer of a
  /// large model keeps a few layers' operators, not all of them, and the caches beside a forward
  /// pass within the budget stay within 1.25 budgets (the default budget is half the machine's
  /// memory, ess/memory_budget.h). Called with mutex_ held.
  enum class Kind { Operator, Generators, Shared };
  void cached(Kind kind, int layer) {
    cacheOrder_.emplace_back(kind, layer);
    evictWhile([this](size_t held, size_t) { return cacheOrder_.size() > 1 && held > memoryBudget_ / 4; });
  }
  /// Before a new entry is computed: forgets the oldest ones while the caches and one more entry
  /// as large as the largest held would pass that quarter, so that a sweep never holds the last
  /// layer's entry beside the new one (for a Mamba-2.8B layer at L = 1024, 2 GiB of generators
  /// each). Called with mutex_ held.
  void makeRoom() {
    evictWhile([this](size_t held, size_t largest) { return held + largest > memoryBudget_ / 4; });
  }
  static size_t bytes(const Array& a) { return a.defined() ? a.nbytes() : size_t(0); }
  static size_t bytes(const GeneratorArrays& g) { return bytes(g.C) + bytes(g.B) + bytes(g.logA) + bytes(g.D); }
  static size_t bytes(const SharedGeneratorArrays& g) {
    // step often shares bScale's storage; counted twice, an overestimate.
    return bytes(g.Cshared) + bytes(g.Bshared) + bytes(g.cScale) + bytes(g.bScale) + bytes(g.step) + bytes(g.rate) +
           bytes(g.D);
  }
  template <typename Map>
  static bool forget(Map& m, int layer, size_t& held) {
    auto it = m.find(layer);
    if (it == m.end()) return false;
    held -= bytes(it->second);
    m.erase(it);
    return true;
  }
  /// Forgets the oldest entry while more(bytes held, largest entry's bytes) holds.
  template <typename More>
  void evictWhile(More more) {
    size_t held = 0, largest = 0;
    for (const auto& [_, a] : cache_) held += bytes(a), largest = std::max(largest, bytes(a));
    for (const auto& [_, g] : genCache_) held += bytes(g), largest = std::max(largest, bytes(g));
    for (const auto& [_, g] : sharedCache_) held += bytes(g), largest = std::max(largest, bytes(g));
    while (!cacheOrder_.empty() && more(held, largest)) {
      const auto [kind, l] = cacheOrder_.front();
      cacheOrder_.pop_front();
      if (kind == Kind::Generators)
        forget(genCache_, l, held);
      else if (kind == Kind::Shared)
        forget(sharedCache_, l, held);
      else
        forget(cache_, l, held);
    }
  }

  std::map<int, Array> cache_;
  std::map<int, GeneratorArrays> genCache_;
  std::map<int, SharedGeneratorArrays> sharedCache_;
  std::deque<std::pair<Kind, int>> cacheOrder_;  ///< (what, layer), oldest first
  mutable std::mutex mutex_;
};

/// A language model checkpoint (ess/language_model.h: the ess-lm family or a Hugging Face
/// model): its operators for the current input tokens.
class ModelSession : public TokenModelSession {
 public:
  ModelSession(const CheckpointFiles& files, size_t budget) : model_(openLanguageModel(files)) {
    memoryBudget_ = budget;
    info_.path = files.path;
    info_.architecture = model_->architecture();
    info_.needsInput = true;
    info_.vocabSize = model_->vocabSize();
    info_.maxLength = model_->maxLength();
    for (int i = 0; i < model_->numLayers(); ++i) {
      LayerSummary l;
      l.index = i;
      l.mixer = model_->mixerKind(i);
      l.heads = model_->heads(i);
      l.valueChannels = model_->valueChannels(i);
      l.tss = model_->tssFormula(i);
      l.ssmRemoves = model_->ssmRemoves(i);
      info_.layers.push_back(l);
    }
    info_.description = model_->description(fs::path(files.path).filename().string());
    // The tokenizer is read on first text input: what its files are now is what it must find.
    std::error_code ec;
    const fs::path dir = fs::is_directory(files.path, ec) ? fs::path(files.path) : fs::path(files.path).parent_path();
    for (const char* name : {"tokenizer.json", "tokenizer_config.json", "tokenizer.model"})
      if (const std::optional<FileIdentity> id = fileIdentity((dir / name).string())) sourceFiles_.push_back(*id);
    const std::string spec = model_->defaultInput(memoryBudget());
    setTokens(spec, tokensFromSpec(spec, info_.vocabSize, info_.maxLength));
  }

  /// text:... and textfile:PATH are bytes for byte-level models and tokenized with the
  /// checkpoint folder's tokenizer (ess/tokenizer.h) otherwise; other specs as tokensFromSpec.
  void setInput(const std::string& spec) override {
    atCoreBoundary(info_.path + ", reading the input " + inputText(spec), [&] {
      checkCancelled("input");
      setInputUnchecked(spec);
    });
  }
  /// Byte-level models label text by its characters; others by the tokenizer's pieces when the
  /// folder has a usable tokenizer; otherwise the token ids.
  std::vector<std::string> tokenLabels() const override {
    if (model_->byteLevelText()) {
      if (isTextInput(input_)) return byteLabels(tokens_);
      return Session::tokenLabels();
    }
    try {
      return tokenizer().pieces(tokens_);
    } catch (const InputError&) {
      return Session::tokenLabels();
    }
  }

  std::optional<double> theoreticalStateSize(int layer, int, int split, int) const override {
    checkLayer(layer);
    return model_->theoreticalStateSizeSiso(layer, split);
  }

  void setOperatorScope(OperatorScope scope) override {
    if (scope == OperatorScope::Ssm && !model_->hasSsmOperators())
      throw UsageError("operator", {" ssm: " + info_.path + " is an " + info_.architecture +
                                    " checkpoint; the SSM-only operator is defined for the Hugging Face "
                                    "checkpoints' recurrent layers (README \"Mixer kinds\")"});
    if (scope == scope_) return;
    scope_ = scope;
    setTokens(input_, tokens_);  // forgets the operators of the other scope
  }

 protected:
  int layerHeads(int layer) const override { return model_->heads(layer); }
  // Both check the budget first: the opening input, or an input set before the budget was
  // lowered, is refused here before any weight is read.
  at::Tensor computeOperator(int layer, const at::Tensor& tokens) override {
    checkForwardPass(tokens.size(0), " " + input_.substr(0, 40));
    return scope_ == OperatorScope::Ssm ? model_->ssmOperator(layer, tokens) : model_->layerOperator(layer, tokens);
  }
  Generators computeGenerators(int layer, const at::Tensor& tokens) override {
    checkForwardPass(tokens.size(0), " " + input_.substr(0, 40));
    return scope_ == OperatorScope::Ssm ? model_->ssmGenerators(layer, tokens) : model_->layerGenerators(layer, tokens);
  }
  SharedGenerators computeSharedGenerators(int layer, const at::Tensor& tokens) override {
    checkForwardPass(tokens.size(0), " " + input_.substr(0, 40));
    return model_->layerSharedGenerators(layer, tokens, scope_ == OperatorScope::Ssm);
  }

 private:
  /// Throws InputError on field "input" when the float64 forward pass of `length` tokens needs
  /// more than the memory budget: the need, its largest part (the weights of one layer, the
  /// activations or the operator), the longest input that fits and the budget that would fit
  /// this one. `what` starts the message's body (the input, as the user wrote it).
  void checkForwardPass(int64_t length, const std::string& what) const {
    const double need = model_->forwardBytes(length);
    const double budget = static_cast<double>(memoryBudget());
    if (need <= budget) return;
    int64_t fits = 0;  // the longest input whose forward pass fits (forwardBytes grows with L)
    if (model_->forwardBytes(2) <= budget) {
      fits = 2;
      while (model_->forwardBytes(fits * 2) <= budget) fits *= 2;
      for (int64_t step = fits / 2; step >= 1; step /= 2)
        if (model_->forwardBytes(fits + step) <= budget) fits += step;
    }
    const auto gib = [](double b) {
      std::ostringstream o;
      o.precision(3);
      o << b / double(1ull << 30);
      return o.str();
    };
    const LanguageModel::ForwardMemory parts = model_->forwardMemory(length);
    std::string largest = "the activations (" + gib(parts.activations) + " GiB)";
    if (parts.layerWeights >= parts.activations && parts.layerWeights >= parts.mixer)
      largest = "the weights of one layer in float64 (" + gib(parts.layerWeights) + " GiB)";
    else if (parts.mixer > parts.activations)
      largest = "the operator (" + gib(parts.mixer) + " GiB)";
    throw InputError("input",
                     {what + ": " + std::to_string(length) + " tokens need about " + gib(need) +
                      " GiB for the float64 forward pass, over the memory budget of " + gib(budget) + " GiB; " +
                      (fits >= 2 ? "at most " + std::to_string(fits) + " tokens fit"
                                 : std::string("not even 2 tokens fit: raise the budget")) +
                      "; the largest part is " + largest + "; a budget of " + gib(need) + " GiB fits this input"});
  }

  void setInputUnchecked(const std::string& spec) {
    // "text" without a colon is not a text spec: tokensFromSpec refuses it (UsageError).
    const std::string kind = spec.find(':') == std::string::npos ? std::string() : specKind(spec);
    const bool text = isTextInput(spec);
    std::vector<long> t;
    const std::string what = " " + kind + ":" + (kind == "textfile" ? spec.substr(9) : "...");  // after "input"
    if (text && !model_->byteLevelText()) {
      const std::string body = textOfSpec(spec, true);
      const Tokenizer& tok = tokenizer();
      t = tok.encodeWithSpecialTokens(body);
      if (info_.maxLength > 0 && static_cast<int>(t.size()) > info_.maxLength)
        throw InputError("input",
                         {what + ": the text is " + std::to_string(t.size()) + " tokens long, over the context of " +
                          std::to_string(info_.maxLength) + " tokens of " + info_.path});
      for (long id : t)
        if (id >= info_.vocabSize)
          throw InputError(
              "input", {what + ": " + tok.source() + " gives token id " + std::to_string(id) +
                        ", outside the vocabulary of " + std::to_string(info_.vocabSize) + " tokens of " + info_.path});
      if (t.size() < 2)
        throw InputError("input", {what + ": the text gives " + std::to_string(t.size()) +
                                   " token(s) with the special tokens; ESS needs at least 2 (a split between them)"});
    } else {
      t = tokensFromSpec(spec, info_.vocabSize, info_.maxLength);
    }
    // The float64 forward pass of a long input (a model without a context limit, or a long
    // context) must fit the memory budget like a dense operator.
    checkForwardPass(static_cast<int64_t>(t.size()), text ? what : " " + spec.substr(0, 40));
    setTokens(spec, std::move(t));
  }

  /// The folder's tokenizer, loaded on first use. Throws InputError (no tokenizer, bad file).
  const Tokenizer& tokenizer() const {
    std::lock_guard<std::mutex> lock(tokenizerMutex_);
    if (!tokenizer_) {
      if (!tokenizerError_.empty()) throw InputError(tokenizerError_);
      // A tokenizer read now from files that changed since the open would not be the model's.
      checkSourcesUnchanged();
      try {
        tokenizer_ = Tokenizer::fromFolder(info_.path);
      } catch (const InputError& e) {
        tokenizerError_ = e.what();
        throw;
      }
      try {
        checkSourcesUnchanged();  // changed while it was read
      } catch (...) {
        tokenizer_.reset();
        throw;
      }
    }
    return *tokenizer_;
  }

  std::unique_ptr<LanguageModel> model_;
  mutable std::unique_ptr<Tokenizer> tokenizer_;
  mutable std::string tokenizerError_;  ///< why the tokenizer did not load, once tried
  mutable std::mutex tokenizerMutex_;
};

// `files` as loadCheckpointFiles(path, TensorLoading::OnDemand) returns them: a model's weights
// are read a layer at a time by HfModel; an operator or generator file is read whole now.
std::unique_ptr<Session> openFiles(CheckpointFiles files, size_t budget = Session::kDefaultMemoryBudget) {
  const bool operatorFile = files.tensors.find("operator") || isGeneratorFile(files.tensors);
  if (!operatorFile && !files.configJson.empty()) return std::make_unique<ModelSession>(files, budget);
  readAllTensors(files);
  return openOperatorSession(files.path, toArrays(files.tensors), budget);  // else raises the error
}

}  // namespace

namespace {

// glibc raises its mmap threshold (up to 32 MiB) each time a block above it is freed; from then
// on a model's megabyte-sized activations, weights and generators come from the heap, whose
// freed space fragments: a Mamba-2.8B sweep grew 0.06 GiB a layer (past 6 GiB by layer 20), and
// 0.02 GiB (the cached residual streams) with the threshold fixed. Unless the user chose one
// (MALLOC_MMAP_THRESHOLD_, GLIBC_TUNABLES), blocks of 1 MiB and more are mapped and unmapped.
void keepLargeBlocksOutOfTheHeap() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("GLIBC_TUNABLES")) return;
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
  });
}

// LibTorch sizes its intra-op thread pool from the physical cores it detects, which on some
// virtual machines is 1 of 2 CPUs, leaving a model's forward pass on one core. Unless the user
// chose (OMP_NUM_THREADS, as Slurm jobs set it), use every CPU this process may run on.
void useEveryCpuForTensorOps() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("OMP_NUM_THREADS")) return;
    cpu_set_t cpus;
    if (sched_getaffinity(0, sizeof cpus, &cpus) != 0) return;
    if (CPU_COUNT(&cpus) > at::get_num_threads()) at::set_num_threads(CPU_COUNT(&cpus));
  });
}

}  // namespace

// Session::open and summarizeFile (math library) hand these every path that is not an operator
// or generator file they read themselves (ess/model_backend.h).
std::unique_ptr<Session> openModelSession(const std::string& path, size_t memoryBudget) {
  useSingleThreadedBlas();
  useEveryCpuForTensorOps();
  keepLargeBlocksOutOfTheHeap();
  registerCudaEss();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or directory");
  return openFiles(loadCheckpointFiles(path, TensorLoading::OnDemand), memoryBudget);
}

FileSummary summarizeModelFile(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or directory");
  CheckpointFiles files = loadCheckpointFiles(path, TensorLoading::OnDemand);
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
