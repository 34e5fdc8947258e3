// Mamba-1 (Gu and Dao 2023, HF MambaModel): RMSNorm, then the S6 mixer (the parameter names of
// the `mamba` mixer kind), residual; embeddings backbone.embeddings.weight, final norm
// backbone.norm_f.weight.
// Falcon Mamba (Zuo et al. 2024, HF FalconMambaModel, model_type falcon_mamba): the same blocks
// and tensors, with dt_low, B and C RMS-normalized without a weight (eps mixer_rms_eps) right
// after x_proj. Both compute their S6 in float64 from the checkpoint's tensors (hf_layers.h
// mamba1Features / mamba1Scan / mamba1Generators), as the operator
// T[e, r, c] = silu(z_r[e]) (C_r . exp(sum_{t=c+1..r} dt_t[e] A[e]) dt_c[e] B_c + [r == c] D[e]).
// The SSM-only operator of both (ess/operator_scope.h) leaves out the z gate and the D skip:
//   T_ssm[e, r, c] = C_r . exp(sum_{t=c+1..r} dt_t[e] A[e]) dt_c[e] B_c,
// so that the scan's own output (before + D u and * silu(z)) is T_ssm u.
#include <ATen/ATen.h>

#include <climits>
#include <cstdint>
#include <mutex>

#include "ess/error.h"
#include "ess/generators.h"
#include "hf/hf_architecture.h"
#include "hf/hf_layers.h"

namespace ess::hf {

namespace {

using json = nlohmann::json;

void readMambaConfig(const ConfigFields& f, HfConfig& c) {
  c.vocabSize = f.integer("vocab_size");
  c.hiddenSize = f.integer("hidden_size");
  c.numLayers = f.integer("num_hidden_layers");
  c.stateSize = f.integer("state_size");
  c.expand = f.integer("expand");
  c.convKernel = f.integer("conv_kernel");
  c.normEps = f.number("layer_norm_epsilon", 1e-5);
  c.convBias = f.boolean("use_conv_bias", true);
  if (f.boolean("use_bias", false)) f.fail("use_bias", "is true; Mamba with in_proj/out_proj biases is not supported");
  const json* r = f.get("time_step_rank");
  if (!r || (r->is_string() && r->get<std::string>() == "auto"))
    c.dtRank = (c.hiddenSize + 15) / 16;
  else
    c.dtRank = f.integer("time_step_rank");
  if (int64_t(c.expand) * c.hiddenSize > INT_MAX)  // before the product overflows int
    f.fail("expand", "* hidden_size = " + std::to_string(int64_t(c.expand) * c.hiddenSize) + " is too large");
  c.intermediateSize = c.expand * c.hiddenSize;
  if (f.integer("intermediate_size", c.intermediateSize) != c.intermediateSize)
    f.fail("intermediate_size", "must equal expand * hidden_size = " + std::to_string(c.intermediateSize));
  c.activation = f.text("hidden_act", "silu");
  if (c.activation != "silu") f.fail("hidden_act", "is \"" + c.activation + "\"; the Mamba mixer uses silu");
  c.maxPositions = 0;
}

void readFalconMambaConfig(const ConfigFields& f, HfConfig& c) {
  readMambaConfig(f, c);
  c.mixerRmsEps = f.number("mixer_rms_eps", 1e-6);
  if (!(c.mixerRmsEps > 0)) f.fail("mixer_rms_eps", "must be positive, got " + std::to_string(c.mixerRmsEps));
}

/// Runs `f` (a use of layer `layer`'s Mamba mixer), prefixing its InputError (e.g. unstable
/// parameters of a channel) with the checkpoint folder and the layer.
template <typename F>
auto withLayerContext(const std::string& path, int layer, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const InputError& e) {
    if (std::string(e.what()).rfind(path, 0) == 0) throw;  // names the folder already
    throw InputError(path + ": layer " + std::to_string(layer) + ": " + e.what());
  }
}

class Mamba : public HfArchitecture {
 public:
  Mamba(const HfConfig& c, const std::string& path)
      : HfArchitecture(c, path, {"backbone.", "layers.", "embeddings.weight"}) {}

  std::vector<ExpectedTensor> tensors() const override {
    const int64_t D = c_.hiddenSize, V = c_.vocabSize, E = c_.intermediateSize, N = c_.stateSize, R = c_.dtRank;
    std::vector<ExpectedTensor> t = {{"embeddings.weight", {V, D}}};
    for (int i = 0; i < c_.numLayers; ++i) {
      const auto need = [&](const char* n, std::vector<int64_t> s) { t.push_back({layerTensor(i, n), std::move(s)}); };
      need("norm.weight", {D});
      need("mixer.in_proj.weight", {2 * E, D});
      need("mixer.conv1d.weight", {E, 1, c_.convKernel});
      if (c_.convBias) need("mixer.conv1d.bias", {E});
      need("mixer.x_proj.weight", {R + 2 * N, E});
      need("mixer.dt_proj.weight", {E, R});
      need("mixer.dt_proj.bias", {E});
      need("mixer.A_log", {E, N});
      need("mixer.D", {E});
      need("mixer.out_proj.weight", {D, E});
    }
    t.push_back({"norm_f.weight", {D}});
    return t;
  }

  at::Tensor embed(const HfWeights& w, const at::Tensor& tok) const override {
    return w.rows("embeddings.weight", tok).to(at::kDouble);
  }

  at::Tensor mixerInput(const HfWeights& w, int layer, const at::Tensor& h) const override {
    return rmsNorm(h, w.weight(layerTensor(layer, "norm.weight")), c_.normEps);
  }

  at::Tensor block(const HfWeights& w, int layer, const at::Tensor& h) const override {
    const at::Tensor x = mixerInput(w, layer, h);
    return h + withLayerContext(path_, layer, [&] {
             const at::Tensor y = mamba1Scan(features(w, layer, x, true));  // [E, L]
             return rowParallelLinear(y.t(), w.weight(layerTensor(layer, "mixer.out_proj.weight")));
           });
  }

  at::Tensor layerOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return materializeGenerators(layerGenerators(w, layer, x), path_);
  }

  bool hasGenerators() const override { return true; }
  Generators layerGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return withLayerContext(path_, layer, [&] { return mamba1Generators(features(w, layer, x), false); });
  }

  at::Tensor ssmOperator(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return materializeGenerators(ssmGenerators(w, layer, x), path_);
  }
  Generators ssmGenerators(const HfWeights& w, int layer, const at::Tensor& x) const override {
    return withLayerContext(path_, layer, [&] { return mamba1Generators(features(w, layer, x), true); });
  }
  SharedGenerators sharedGenerators(const HfWeights& w, int layer, const at::Tensor& x, bool ssm) const override {
    return withLayerContext(path_, layer, [&] { return mamba1SharedGenerators(features(w, layer, x), ssm); });
  }
  std::string ssmRemoves(int) const override { return "the z gate silu(z) and the D skip"; }

  std::string mixerKind() const override { return "mamba"; }
  int heads() const override { return c_.intermediateSize; }
  int valueChannels() const override { return 1; }
  double theoreticalStateSize(int) const override { return c_.stateSize; }
  std::string tssFormula() const override { return "N = " + std::to_string(c_.stateSize); }
  double mixerBytes(double L) const override { return 4.0 * L * c_.intermediateSize * c_.stateSize * 8.0; }

 protected:
  /// Mamba-1's featurization of mixer input x [L, D] (falcon_mamba: dt_low, B and C normalized to
  /// unit RMS). A sweep forms layer l's generators and then runs block l on the same input to
  /// reach l + 1: the generators' features are kept until that block takes them (`take`), so
  /// in_proj, the convolution and x_proj run once a layer (about 1 s of a Mamba-2.8B layer at
  /// L = 1024). What is kept, 3 L E doubles, lies within mixerBytes' allowance.
  Mamba1Features features(const HfWeights& w, int layer, const at::Tensor& x, bool take = false) const {
    {
      std::lock_guard<std::mutex> lock(keptMutex_);
      const bool same = kept_.layer == layer && kept_.x.defined() && kept_.x.sizes() == x.sizes() &&
                        kept_.x.scalar_type() == x.scalar_type() && at::equal(kept_.x, x);
      if (same) {
        Mamba1Features f = kept_.f;
        if (take) kept_ = {};
        return f;
      }
    }
    const auto weight = [&](const std::string& n) { return w.weight(layerTensor(layer, "mixer." + n)); };
    Mamba1Features f =
        mamba1Features(weight, x, c_, c_.intermediateSize, c_.mixerRmsEps > 0 ? Mamba1Norm::Unit : Mamba1Norm::None,
                       c_.mixerRmsEps, c_.modelType);
    std::lock_guard<std::mutex> lock(keptMutex_);
    kept_ = take ? Kept{} : Kept{layer, x, f};
    return f;
  }

 private:
  struct Kept {
    int layer = -1;
    at::Tensor x;
    Mamba1Features f;
  };
  mutable std::mutex keptMutex_;
  mutable Kept kept_;
};

std::unique_ptr<HfArchitecture> openMamba(const HfConfig& c, const std::string& path) {
  return std::make_unique<Mamba>(c, path);
}

std::unique_ptr<HfArchitecture> openFalconMamba(const HfConfig& c, const std::string& path) {
  return std::make_unique<Mamba>(c, path);  // its config sets mixerRmsEps
}

}  // namespace

const HfFamily kMambaFamily = {&readMambaConfig, &openMamba};
const HfFamily kFalconMambaFamily = {&readFalconMambaConfig, &openFalconMamba};

}  // namespace ess::hf
