// Session implementations: operator and generator files, ess-lm model checkpoints and Hugging
// Face checkpoints (gpt2, llama, mistral, qwen2, mamba; ess/hf_model.h).
#include "ess/session.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/ess_engine.h"
#include "ess/generators.h"
#include "ess/hf_model.h"
#include "ess/input_spec.h"
#include "ess/model.h"
#include "ess/safetensors.h"
#include "ess/structured_ess.h"
#include "ess/tokenizer.h"

namespace ess {

Session::~Session() = default;

std::vector<std::string> Session::tokenLabels() const {
  std::vector<std::string> labels;
  for (long t : tokens()) labels.push_back(std::to_string(t));
  return labels;
}

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

/// Singular values of H_s = T[h][s:, :s] of a generator-form operator, descending, padded with
/// zeros to min(s, L-s): H_s = F P^T with F rows C_r exp(sum_{t=s+1..r} log a_t) (r >= s) and
/// P rows B_c exp(sum_{t=c+1..s} log a_t) (c < s); each exponent is a sum of terms taken outward
/// from s (no differences of prefix sums), and the singular values come from the triangular
/// factors of F and P (at most N x N). O(L N^2).
std::vector<double> generatorSpectrum(const Generators& g, int head, int split) {
  const int64_t L = g.length(), N = g.stateSize(), s = split;
  if (s < 1 || s >= L) throw UsageError("split " + std::to_string(s) + " is outside 1.." + std::to_string(L - 1));
  at::Tensor C = g.C[head], B = g.B[head];
  at::Tensor la = g.perHeadDecay() ? g.logA[head].unsqueeze(1).expand({L, N}) : g.logA[head];  // [L, N]
  // Future: exponent of row r = s + i is sum_{t=s+1..r} la[t] (0 for r = s).
  at::Tensor fut = at::cat({at::zeros({1, N}, la.options()), la.narrow(0, s + 1, L - s - 1).cumsum(0)}, 0);
  // Past: exponent of column c is sum_{t=c+1..s} la[t], a suffix sum over t = 1..s.
  at::Tensor past = la.narrow(0, 1, s).flip(0).cumsum(0).flip(0);  // [s, N], row c
  at::Tensor F = C.narrow(0, s, L - s) * at::exp(fut), P = B.narrow(0, 0, s) * at::exp(past);
  at::Tensor RF = std::get<1>(at::linalg_qr(F, "r")), RP = std::get<1>(at::linalg_qr(P, "r"));
  at::Tensor sv = at::linalg_svdvals(at::matmul(RF, RP.t())).contiguous();
  std::vector<double> out(sv.data_ptr<double>(), sv.data_ptr<double>() + sv.numel());
  out.resize(static_cast<size_t>(std::min(s, L - s)), 0.0);
  if (out.size() > static_cast<size_t>(sv.numel()))
    std::fill(out.begin() + sv.numel(), out.end(), 0.0);
  return out;
}

/// The sampling grid of `req` on an L x L operator (rows and columns clamped to 0..L).
OperatorTile tileGrid(const TileRequest& req, int L) {
  auto clampRange = [L](int b, int e, const char* what) {
    b = std::max(0, b);
    e = e < 0 ? L : std::min(e, L);
    if (b >= e) throw UsageError(std::string("tile: empty ") + what + " range " + std::to_string(b) + ".." + std::to_string(e));
    return std::pair<int, int>{b, e};
  };
  const auto [r0, r1] = clampRange(req.rowBegin, req.rowEnd, "row");
  const auto [c0, c1] = clampRange(req.columnBegin, req.columnEnd, "column");
  OperatorTile t;
  t.firstRow = r0;
  t.firstColumn = c0;
  t.rowStep = std::max(1, (r1 - r0 + std::max(1, req.maxRows) - 1) / std::max(1, req.maxRows));
  t.columnStep = std::max(1, (c1 - c0 + std::max(1, req.maxColumns) - 1) / std::max(1, req.maxColumns));
  t.rows = (r1 - r0 + t.rowStep - 1) / t.rowStep;
  t.columns = (c1 - c0 + t.columnStep - 1) / t.columnStep;
  return t;
}

/// Samples T[head] of generators `g` on the grid of `t`: T[r, c] = sum_n C[r,n]
/// exp(cum[r,n] - cum[c,n]) B[c,n] (+ D[r] on the diagonal), cum = prefix sums of log a in
/// float64 (the difference loses ~|cum| * 1e-16 in the exponent: display accuracy).
void fillTileFromGenerators(const Generators& g, int head, OperatorTile& t) {
  const int64_t L = g.length(), N = g.stateSize();
  at::Tensor C = g.C[head].contiguous(), B = g.B[head].contiguous();
  at::Tensor la = g.perHeadDecay() ? g.logA[head].unsqueeze(1).expand({L, N}) : g.logA[head];
  at::Tensor cum = la.cumsum(0).contiguous();
  at::Tensor D = g.D.defined() ? g.D[head].contiguous() : at::Tensor();
  const double *pC = C.data_ptr<double>(), *pB = B.data_ptr<double>(), *pcum = cum.data_ptr<double>();
  const double* pD = D.defined() ? D.data_ptr<double>() : nullptr;
  t.values.assign(static_cast<size_t>(t.rows) * t.columns, 0.0);
  at::parallel_for(0, t.rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t r = t.firstRow + i * t.rowStep;
      const double *cr = pC + r * N, *cumr = pcum + r * N;
      for (int64_t j = 0; j < t.columns; ++j) {
        const int64_t c = t.firstColumn + j * t.columnStep;
        if (c > r) break;
        const double *bc = pB + c * N, *cumc = pcum + c * N;
        double v = 0.0;
        for (int64_t n = 0; n < N; ++n) v += cr[n] * std::exp(cumr[n] - cumc[n]) * bc[n];
        if (c == r && pD) v += pD[r];
        t.values[static_cast<size_t>(i) * t.columns + j] = v;
      }
    }
  });
}

/// Shared machinery: curves and spectra from the operator tensor (or the generators) of a layer.
class SessionBase : public Session {
 public:
  const SourceInfo& info() const override { return info_; }

  OperatorData operatorOf(int layer) override { return toData(operatorTensor(layer)); }

  OperatorTile operatorTile(int layer, int head, const TileRequest& req) override {
    checkLayer(layer);
    const int L = lengthOf(layer);
    const int heads = info_.layers[layer].heads;
    if (head < 0 || head >= heads)
      throw UsageError("--head " + std::to_string(head) + " is outside 0.." + std::to_string(heads - 1));
    OperatorTile t = tileGrid(req, L);
    t.head = head;
    const Generators g = generatorsOf(layer);
    if (g.heads() > 0 && !hasDenseOperator(layer)) {
      fillTileFromGenerators(g, head, t);
    } else {
      at::Tensor op = operatorTensor(layer)[head];
      auto rows = at::arange(t.firstRow, t.firstRow + int64_t(t.rows) * t.rowStep, t.rowStep, at::kLong);
      auto cols = at::arange(t.firstColumn, t.firstColumn + int64_t(t.columns) * t.columnStep, t.columnStep, at::kLong);
      at::Tensor v = op.index_select(0, rows).index_select(1, cols).contiguous();
      t.values.assign(v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
    }
    return t;
  }

  CurveData curve(int layer, const EssOptions& options, const ProgressFn& progress,
                  const std::atomic<bool>* cancel) override {
    checkLayer(layer);
    EssCurve c;
    int heads = 0;
    CurveData d;
    const Generators g = options.algorithm_ != Algorithm::Dense ? generatorsOf(layer) : Generators{};
    if (g.heads() > 0) {
      c = computeStructuredEss(g, options, progress, cancel);
      heads = g.heads();
      d.length = g.length();
    } else {
      at::Tensor op = operatorTensor(layer);
      if (options.algorithm_ == Algorithm::Structured && detectBandwidth(op) >= op.size(1))
        throw UsageError(info_.path + ": layer " + std::to_string(layer) + " (" + info_.layers[layer].mixer +
                         ") has no structured form (no generators, no band); use --algorithm auto or dense");
      c = computeEss(op, options, progress, cancel);
      heads = static_cast<int>(op.size(0));
      d.length = static_cast<int>(op.size(1));
    }
    d.layer = layer;
    d.splits = c.splits;
    d.tolerance = std::move(c.tolerance);
    d.entropy = std::move(c.entropy);
    d.tss.assign(heads, std::vector<double>(d.splits.size(), std::nan("")));
    for (int h = 0; h < heads; ++h)
      for (size_t i = 0; i < d.splits.size(); ++i)
        if (auto v = theoreticalStateSize(layer, h, d.splits[i], d.length)) d.tss[h][i] = *v;
    return d;
  }

  std::vector<double> spectrum(int layer, int head, int split, const EssOptions& options) override {
    checkLayer(layer);
    const int heads = info_.layers[layer].heads;
    if (head < 0 || head >= heads)
      throw UsageError("--head " + std::to_string(head) + " is outside 0.." + std::to_string(heads - 1));
    if (options.algorithm_ != Algorithm::Dense && !hasDenseOperator(layer)) {
      const Generators g = generatorsOf(layer);
      if (g.heads() > 0) return generatorSpectrum(g, head, split);
    }
    return splitSingularValues(operatorTensor(layer)[head], split, options.dtype_);
  }

 protected:
  /// Generator form of `layer` (empty when the layer has none).
  virtual Generators generatorsOf(int) { return {}; }
  /// Whether the dense operator of `layer` is already at hand (then tiles and spectra use it).
  virtual bool hasDenseOperator(int) const { return true; }
  /// Sequence length of `layer`'s operator.
  virtual int lengthOf(int layer) = 0;

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
      // Kept as generators (O(H L N)); the dense operator is formed only when asked for, within
      // the memory budget.
      gen_ = readGenerators(tensors, path);
      if (gen_.length() < 2) throw InputError(path + ": generators of length " + std::to_string(gen_.length()) +
                                              "; ESS needs L >= 2");
      stateSize_ = gen_.stateSize();
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
  at::Tensor operatorTensor(int layer) override {
    checkLayer(layer);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!op_.defined()) {
      checkBudget(info_.path, gen_.heads(), gen_.length(), memoryBudget_);
      op_ = materializeGenerators(gen_, info_.path);
      checkFiniteOperator(op_, info_.path + ": operator");
    }
    return op_;
  }
  Generators generatorsOf(int) override { return gen_; }
  bool hasDenseOperator(int) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return op_.defined();
  }
  int lengthOf(int) override { return info_.length; }

 private:
  at::Tensor op_;
  Generators gen_;
  int stateSize_ = 0;
  mutable std::mutex mutex_;
};

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

  /// Makes `tokens` (read from `spec`) the input and forgets what was computed for the old one.
  void setTokens(const std::string& spec, std::vector<long> tokens) {
    tokens_ = std::move(tokens);
    input_ = spec;
    std::lock_guard<std::mutex> lock(mutex_);
    cache_.clear();
    genCache_.clear();
  }
  at::Tensor tokenTensor() const {
    return at::tensor(std::vector<int64_t>(tokens_.begin(), tokens_.end()), at::kLong);
  }

  at::Tensor operatorTensor(int layer) override {
    checkLayer(layer);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache_.find(layer);
    if (it != cache_.end()) return it->second;
    const std::string what = info_.path + ": layer " + std::to_string(layer);
    checkBudget(what, layerHeads(layer), static_cast<int64_t>(tokens_.size()), memoryBudget_);
    at::Tensor op = computeOperator(layer, tokenTensor()).to(at::kDouble).contiguous();
    checkFiniteOperator(op, what + " operator");
    cache_[layer] = op;
    return op;
  }
  Generators generatorsOf(int layer) override {
    checkLayer(layer);
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = genCache_.find(layer);
    if (it != genCache_.end()) return it->second;
    Generators g = computeGenerators(layer, tokenTensor());
    if (g.heads() > 0) {
      for (const at::Tensor* t : {&g.C, &g.B, &g.logA})
        if (!at::isfinite(*t).all().item<bool>())
          throw InputError(info_.path + ": layer " + std::to_string(layer) + ": the generators hold NaN or Inf");
    }
    genCache_[layer] = g;
    return g;
  }
  bool hasDenseOperator(int layer) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_.count(layer) > 0;
  }
  int lengthOf(int) override { return static_cast<int>(tokens_.size()); }

  std::vector<long> tokens_;
  std::string input_;

 private:
  std::map<int, at::Tensor> cache_;
  std::map<int, Generators> genCache_;
  mutable std::mutex mutex_;
};

/// An ess-lm checkpoint (ess/model.h).
class ModelSession : public TokenModelSession {
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
    setTokens(spec, tokensFromSpec(spec, info_.vocabSize, info_.maxLength));
  }
  /// Text input is bytes as tokens: the labels are its characters.
  std::vector<std::string> tokenLabels() const override {
    const std::string kind = specKind(input_);
    if (kind == "text" || kind == "textfile") return byteLabels(tokens_);
    return Session::tokenLabels();
  }

  std::optional<double> theoreticalStateSize(int layer, int, int split, int) const override {
    return model_->theoreticalStateSizeSiso(layer, split);
  }

 protected:
  int layerHeads(int layer) const override { return model_->heads(layer); }
  at::Tensor computeOperator(int layer, const at::Tensor& tokens) override {
    return model_->layerOperator(layer, tokens);
  }
  Generators computeGenerators(int layer, const at::Tensor& tokens) override {
    return model_->layerGenerators(layer, tokens);
  }

 private:
  std::unique_ptr<EssLm> model_;
};

class HfSession : public TokenModelSession {
 public:
  HfSession(const CheckpointFiles& files, size_t budget) : model_(std::make_unique<HfModel>(files)) {
    memoryBudget_ = budget;
    const HfConfig& cfg = model_->config();
    info_.path = files.path;
    info_.architecture = cfg.modelType;
    info_.needsInput = true;
    info_.vocabSize = cfg.vocabSize;
    info_.maxLength = cfg.maxPositions;
    for (int i = 0; i < model_->numLayers(); ++i) {
      LayerSummary l;
      l.index = i;
      l.mixer = model_->mixerKind();
      l.heads = model_->heads();
      l.valueChannels = model_->valueChannels();
      l.tss = model_->tssFormula();
      info_.layers.push_back(l);
    }
    info_.description = fs::path(files.path).filename().string() + ": " + cfg.modelType + ", " +
                        std::to_string(model_->numLayers()) + " layer(s) of " + model_->mixerKind() + ", " +
                        std::to_string(model_->heads()) + (model_->isMamba() ? " channels" : " heads") + " each";
    // The opening input: 64 random tokens, fewer when the context or the memory budget is
    // smaller (the input the user asks for next is checked against the budget, not this one).
    int len = cfg.maxPositions > 0 ? std::min(64, cfg.maxPositions) : 64;
    while (len > 2 && model_->forwardBytes(len) > static_cast<double>(memoryBudget())) len /= 2;
    setTokens("random:seed=0,len=" + std::to_string(len),
              tokensFromSpec("random:seed=0,len=" + std::to_string(len), info_.vocabSize, info_.maxLength));
  }

  /// text:... and textfile:PATH are tokenized with the checkpoint folder's tokenizer
  /// (ess/tokenizer.h); other specs as tokensFromSpec.
  void setInput(const std::string& spec) override {
    // "text" without a colon is not a text spec: tokensFromSpec refuses it (UsageError).
    const std::string kind = spec.find(':') == std::string::npos ? std::string() : specKind(spec);
    std::vector<long> t;
    const std::string what = "--input " + kind + ":" + (kind == "textfile" ? spec.substr(9) : "...");
    if (kind == "text" || kind == "textfile") {
      const std::string text = textOfSpec(spec, true);
      const Tokenizer& tok = tokenizer();
      t = tok.encodeWithSpecialTokens(text);
      if (info_.maxLength > 0 && static_cast<int>(t.size()) > info_.maxLength)
        throw InputError(what + ": the text is " + std::to_string(t.size()) + " tokens long, over the context of " +
                         std::to_string(info_.maxLength) + " tokens of " + info_.path);
      for (long id : t)
        if (id >= info_.vocabSize)
          throw InputError(what + ": " + tok.source() + " gives token id " + std::to_string(id) +
                           ", outside the vocabulary of " + std::to_string(info_.vocabSize) + " tokens of " +
                           info_.path);
      if (t.size() < 2)
        throw InputError(what + ": the text gives " + std::to_string(t.size()) +
                         " token(s) with the special tokens; ESS needs at least 2 (a split between them)");
    } else {
      t = tokensFromSpec(spec, info_.vocabSize, info_.maxLength);
    }
    // The float64 forward pass of a long input (a model without a context limit, or a long
    // context) must fit the memory budget like a dense operator.
    const double need = model_->forwardBytes(static_cast<int64_t>(t.size()));
    if (need > static_cast<double>(memoryBudget())) {
      const double budget = static_cast<double>(memoryBudget());
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
      throw InputError((kind == "text" || kind == "textfile" ? what : "--input " + spec.substr(0, 40)) + ": " +
                       std::to_string(t.size()) + " tokens need about " + gib(need) +
                       " GiB for the float64 forward pass, over the memory budget of " +
                       gib(double(memoryBudget())) + " GiB; " +
                       (fits >= 2 ? "at most " + std::to_string(fits) + " tokens fit"
                                  : std::string("not even 2 tokens fit: raise the budget")));
    }
    setTokens(spec, std::move(t));
  }
  /// The tokenizer's pieces when the folder has a usable tokenizer, otherwise the token ids.
  std::vector<std::string> tokenLabels() const override {
    try {
      return tokenizer().pieces(tokens_);
    } catch (const InputError&) {
      return Session::tokenLabels();
    }
  }

  std::optional<double> theoreticalStateSize(int layer, int, int split, int) const override {
    checkLayer(layer);
    return model_->theoreticalStateSize(split) / model_->valueChannels();
  }

 protected:
  int layerHeads(int) const override { return model_->heads(); }
  at::Tensor computeOperator(int layer, const at::Tensor& tokens) override {
    return model_->layerOperator(layer, tokens);
  }
  Generators computeGenerators(int layer, const at::Tensor& tokens) override {
    return model_->layerGenerators(layer, tokens);
  }

 private:
  /// The folder's tokenizer, loaded on first use. Throws InputError (no tokenizer, bad file).
  const Tokenizer& tokenizer() const {
    std::lock_guard<std::mutex> lock(tokenizerMutex_);
    if (!tokenizer_) {
      if (!tokenizerError_.empty()) throw InputError(tokenizerError_);
      try {
        tokenizer_ = Tokenizer::fromFolder(info_.path);
      } catch (const InputError& e) {
        tokenizerError_ = e.what();
        throw;
      }
    }
    return *tokenizer_;
  }

  std::unique_ptr<HfModel> model_;
  mutable std::unique_ptr<Tokenizer> tokenizer_;
  mutable std::string tokenizerError_;  ///< why the tokenizer did not load, once tried
  mutable std::mutex tokenizerMutex_;
};

/// The model_type of config.json text, "" when absent or not parseable (the model readers then
/// report the problem).
std::string modelTypeOf(const std::string& configJson) {
  try {
    auto j = nlohmann::json::parse(configJson);
    if (j.is_object()) {
      auto it = j.find("model_type");
      if (it != j.end() && it->is_string()) return it->get<std::string>();
    }
  } catch (const std::exception&) {
  }
  return "";
}

std::unique_ptr<Session> openFiles(const CheckpointFiles& files, size_t budget = Session::kDefaultMemoryBudget) {
  if (files.tensors.find("operator") || isGeneratorFile(files.tensors))
    return std::make_unique<OperatorSession>(files.path, files.tensors, budget);
  if (!files.configJson.empty()) {
    const std::string type = modelTypeOf(files.configJson);
    if (!type.empty() && type != "ess-lm") return std::make_unique<HfSession>(files, budget);  // lists supported types
    return std::make_unique<ModelSession>(files, budget);
  }
  return std::make_unique<OperatorSession>(files.path, files.tensors, budget);  // raises the error
}

}  // namespace

std::unique_ptr<Session> Session::open(const std::string& path, size_t memoryBudget) {
  useSingleThreadedBlas();
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
