// Norms, activations, RoPE and causal softmax attention (hf/hf_layers.h).
#include "hf/hf_layers.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "ess/error.h"
#include "ess/ess_engine.h"
#include "math/parallel.h"
#include "mixer/selective_scan.h"

namespace ess::hf {

at::Tensor activate(const at::Tensor& x, const std::string& act) {
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") return at::gelu(x, "tanh");
  if (act == "gelu") return at::gelu(x);
  if (act == "relu") return at::relu(x);
  return at::silu(x);
}

at::Tensor rmsNorm(const at::Tensor& x, const at::Tensor& w, double eps) {
  return x * at::rsqrt(x.pow(2).mean(-1, true) + eps) * w;
}

at::Tensor gemmaRmsNorm(const at::Tensor& x, const at::Tensor& w, double eps) {
  return x * at::rsqrt(x.pow(2).mean(-1, true) + eps) * (1 + w);
}

at::Tensor layerNorm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps) {
  return at::layer_norm(x, {x.size(-1)}, w, b, eps);
}

namespace {
at::Tensor rotateHalf(const at::Tensor& x) {
  const int64_t h = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}
}  // namespace

at::Tensor applyRotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t r = cos.size(-1), d = x.size(-1);
  if (r == d) return x * cos + rotateHalf(x) * sin;
  // Partial rotary (gpt_neox, phi): the leading r dims rotate, the others pass through.
  at::Tensor rot = x.narrow(-1, 0, r);
  return at::cat({rot * cos + rotateHalf(rot) * sin, x.narrow(-1, r, d - r)}, -1);
}

std::pair<at::Tensor, at::Tensor> rotaryCosSin(const HfConfig& c, int64_t length) {
  const int64_t d = c.rotaryDim > 0 ? c.rotaryDim : c.headDim;
  auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor invFreq = at::pow(c.ropeTheta, -at::arange(0, d, 2, opts) / double(d));  // [d/2]
  if (c.ropeScaling == "linear") {
    invFreq = invFreq / c.ropeFactor;
  } else if (c.ropeScaling == "llama3") {
    // Llama 3.1: long wavelengths divided by the factor, short ones kept, a smooth blend between.
    const double old = c.ropeOriginalMaxPositions, lo = c.ropeLowFreqFactor, hi = c.ropeHighFreqFactor;
    const double lowWave = old / lo, highWave = old / hi;
    at::Tensor wave = 2 * M_PI / invFreq;
    at::Tensor scaled = at::where(wave > lowWave, invFreq / c.ropeFactor, invFreq);
    at::Tensor smooth = (old / wave - lo) / (hi - lo);
    at::Tensor blended = (1 - smooth) * scaled / c.ropeFactor + smooth * scaled;
    at::Tensor medium = at::logical_not(wave < highWave) & at::logical_not(wave > lowWave);
    invFreq = at::where(medium, blended, scaled);
  }
  at::Tensor freqs = at::outer(at::arange(length, opts), invFreq);  // [L, d/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  return {at::cos(emb), at::sin(emb)};
}

at::Tensor causalSoftmax(const at::Tensor& q, const at::Tensor& k, double scale, int window, double softcap) {
  const int64_t L = q.size(1);
  at::Tensor scores = at::matmul(q, k.transpose(1, 2)) * scale;  // [H, L, L]
  if (softcap > 0) scores = at::tanh(scores / softcap) * softcap;
  auto idx = at::arange(L, at::kLong);
  at::Tensor allowed = idx.unsqueeze(1) >= idx.unsqueeze(0);  // c <= r
  if (window > 0) allowed = allowed & ((idx.unsqueeze(1) - idx.unsqueeze(0)) < window);
  scores = scores.masked_fill(at::logical_not(allowed), -std::numeric_limits<double>::infinity());
  return at::softmax(scores, -1);
}

at::Tensor mergeHeads(const at::Tensor& y) { return y.transpose(0, 1).reshape({y.size(1), y.size(0) * y.size(2)}); }

at::Tensor toHeads(const at::Tensor& x, int64_t headDim, int64_t repeat) {
  const at::Tensor heads = x.reshape({x.size(0), -1, headDim}).transpose(0, 1);
  return repeat > 1 ? heads.repeat_interleave(repeat, 0) : heads;
}

at::Tensor rowParallelLinear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const int64_t threads = std::max(1u, std::thread::hardware_concurrency());
  const int64_t rows = x.dim() == 2 ? x.size(0) : 0;
  // Below ~2^24 multiply-adds, or a few rows a thread, the split costs more than it saves.
  const bool split = threads > 1 && rows >= 8 * threads && w.dim() == 2 && x.is_cpu() && !x.requires_grad() &&
                     !w.requires_grad() && x.scalar_type() == w.scalar_type() &&
                     rows * x.size(1) * w.size(0) >= (int64_t(1) << 24) && useSingleThreadedBlas();
  if (!split) return b.defined() ? at::linear(x, w, b) : at::linear(x, w);
  at::Tensor out = at::empty({rows, w.size(0)}, x.options());
  const at::Tensor wt = w.t();
  // ess::parallelFor (std::thread): at::parallel_for is an OpenMP template that runs serially in
  // code compiled without -fopenmp, as this library is.
  parallelFor(0, rows, (rows + threads - 1) / threads, [&](int64_t r0, int64_t r1) {
    at::Tensor o = out.narrow(0, r0, r1 - r0);
    const at::Tensor xs = x.narrow(0, r0, r1 - r0);
    if (b.defined())
      at::addmm_out(o, b, xs, wt);
    else
      at::mm_out(o, xs, wt);
  });
  return out;
}

Mamba1Features mamba1Features(const std::function<at::Tensor(const std::string&)>& weight, const at::Tensor& x,
                              const HfConfig& c, int64_t inner, Mamba1Norm norm, double eps, const std::string& what) {
  const int64_t L = x.size(0), E = inner, N = c.stateSize, R = c.dtRank;
  const at::Tensor xz = rowParallelLinear(x, weight("in_proj.weight"));  // [L, 2E]
  const at::Tensor xin = xz.narrow(1, 0, E).t().unsqueeze(0);
  // Causal depthwise convolution: K - 1 zeros in front, the first L outputs.
  const at::Tensor convBias = c.convBias ? weight("conv1d.bias") : at::zeros({E}, x.options());
  Mamba1Features f;
  f.u = at::silu(at::conv1d(xin, weight("conv1d.weight"), convBias, {1}, {c.convKernel - 1}, {1}, E).narrow(-1, 0, L))
            .squeeze(0);  // [E, L]
  f.gate = at::silu(xz.narrow(1, E, E)).t();
  const at::Tensor xdbl = rowParallelLinear(f.u.t(), weight("x_proj.weight"));  // [L, R + 2N]
  const auto normed = [&](const at::Tensor& t, const char* layerNorm) {
    if (norm == Mamba1Norm::Weighted) return rmsNorm(t, weight(layerNorm), eps);
    if (norm == Mamba1Norm::Unit) return t * at::rsqrt(t.pow(2).mean(-1, true) + eps);
    return t;
  };
  const at::Tensor dtLow = normed(xdbl.narrow(1, 0, R), "dt_layernorm.weight");
  f.B = normed(xdbl.narrow(1, R, N), "b_layernorm.weight");
  f.C = normed(xdbl.narrow(1, R + N, N), "c_layernorm.weight");
  f.dt = at::softplus(rowParallelLinear(dtLow, weight("dt_proj.weight"), weight("dt_proj.bias"))).t();  // [E, L]
  f.A = -at::exp(weight("A_log"));
  f.D = weight("D");
  const at::Tensor bad = at::logical_not(at::isfinite(f.A)).any(-1) | at::logical_not(at::isfinite(f.dt)).any(-1);
  if (bad.any().item<bool>())
    throw InputError(what + ": unstable parameters in channel " + std::to_string(bad.nonzero()[0][0].item<int64_t>()) +
                     ": A = -exp(A_log) or the step dt is not finite, so the decay exp(dt * A) is not in [0, 1]");
  return f;
}

at::Tensor mamba1Scan(const Mamba1Features& f) { return selectiveScan(f.u, f.gate, f.dt, f.B, f.C, f.A, f.D); }

SharedGenerators mamba1SharedGenerators(const Mamba1Features& f, bool ssmOnly) {
  SharedGenerators g;
  g.Cshared = f.C.to(at::kDouble).contiguous();
  g.Bshared = f.B.to(at::kDouble).contiguous();
  g.cScale =
      ssmOnly ? at::ones(f.gate.sizes(), f.gate.options().dtype(at::kDouble)) : f.gate.to(at::kDouble).contiguous();
  g.bScale = f.dt.to(at::kDouble).contiguous();
  g.step = g.bScale;
  g.rate = f.A.to(at::kDouble).contiguous();
  if (!ssmOnly) g.D = (f.gate * f.D.unsqueeze(-1)).to(at::kDouble).contiguous();
  return g;
}

Generators mamba1Generators(const Mamba1Features& f, bool ssmOnly) {
  const bool direct = f.u.dim() == 2 && f.C.dim() == 2 && f.B.dim() == 2 && f.A.dim() == 2;
  bool plainDouble = direct;
  for (const at::Tensor* t : {&f.u, &f.gate, &f.dt, &f.B, &f.C, &f.A})
    plainDouble = plainDouble && t->is_cpu() && t->scalar_type() == at::kDouble && !t->requires_grad();
  // Formed from the shared rows in one pass over the channels: ATen's broadcast products with
  // a 16-wide inner dimension ran at a tenth of memory speed (5 s of a 2.8B layer's 7).
  if (plainDouble) return toGenerators(expandSharedGenerators(toArrays(mamba1SharedGenerators(f, ssmOnly))));
  Generators g;
  g.C = ssmOnly ? f.C.unsqueeze(0).expand({f.u.size(0), -1, -1}).contiguous()
                : (f.gate.unsqueeze(-1) * f.C.unsqueeze(0)).contiguous();  // [E, L, N]
  g.B = (f.dt.unsqueeze(-1) * f.B.unsqueeze(0)).contiguous();
  g.logA = (f.dt.unsqueeze(-1) * f.A.unsqueeze(1)).contiguous();
  if (!ssmOnly) g.D = (f.gate * f.D.unsqueeze(-1)).contiguous();
  return g;
}

}  // namespace ess::hf
