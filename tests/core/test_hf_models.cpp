// Hugging Face checkpoints (ess/hf_model.h, issue 5): tiny random checkpoints in the GPT-2,
// Llama (GQA, biases, rope scaling), Qwen2 and Mamba layouts, written here with the project's
// safetensors writer and, for gpt2, qwen2 (bf16) and mamba (f16), by PyTorch itself (tests/data/hf,
// made by tests/data/hf/make_fixtures.py, whose expected.pt holds the values PyTorch computed in
// float64 from HF's formulations, for mamba MambaMixer.slow_forward). The forward pass up to
// each layer and each layer's operator are checked against independent float64 implementations
// written below from the published equations (explicit loops: LayerNorm, Conv1D x W + b, GELU
// tanh, RMSNorm, RoPE as a rotation of the pairs (i, i + d/2), GQA by head index, SwiGLU, the S6
// scan), then the Session (info, TSS, inputs, curves) and the errors for bad checkpoints.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>

#include "ess/array_session.h"
#include "ess/checkpoint.h"
#include "ess/error.h"
#include "ess/hf_model.h"
#include "ess/memory_budget.h"
#include "ess/safetensors.h"
#include "ess/session.h"
#include "ess/structured_ess.h"
#include "ess/tensors.h"
#include "hf/hf_layers.h"
#include "test_support.h"
// Qt after LibTorch: Qt's `slots` macro clashes with torch/jit headers.
#include <QTemporaryDir>
#include <QtTest>

using namespace ess;

namespace {

using Weights = std::map<std::string, at::Tensor>;  // float64 copies, by name without prefix

double maxDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

/// A tiny checkpoint being built: tensors in their stored dtype, float64 copies for the references.
struct Ckpt {
  NamedTensors tensors;
  Weights w;
  at::Generator gen = at::detail::createCPUGenerator(11);
  at::ScalarType dtype = at::kFloat;
  std::string prefix;
  void add(const std::string& name, at::Tensor t) {
    t = t.to(dtype);
    tensors.add(prefix + name, t);
    w[name] = t.to(at::kDouble);
  }
  at::Tensor rnd(std::vector<int64_t> shape, double scale = 0.3, double offset = 0.0) {
    return at::randn(shape, gen, at::TensorOptions().dtype(at::kDouble)) * scale + offset;
  }
  void write(const std::string& dir, const std::string& config) const {
    std::filesystem::create_directories(dir);
    writeSafetensors(dir + "/model.safetensors", tensors);
    std::ofstream(dir + "/config.json") << config;
  }
};

at::Tensor tokensOf(std::vector<int64_t> t) { return at::tensor(t, at::kLong); }

// ---- references: plain float64 from the published equations ----

at::Tensor refLayerNorm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps) {
  at::Tensor mean = x.mean(-1, true);
  at::Tensor var = (x - mean).pow(2).mean(-1, true);
  return (x - mean) / at::sqrt(var + eps) * w + b;
}
at::Tensor refRms(const at::Tensor& x, const at::Tensor& w, double eps) {
  return x / at::sqrt(x.pow(2).mean(-1, true) + eps) * w;
}
at::Tensor refGeluTanh(const at::Tensor& x) {
  return 0.5 * x * (1 + at::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x.pow(3))));
}
at::Tensor refSilu(const at::Tensor& x) { return x / (1 + at::exp(-x)); }

/// Causal softmax of q k^T * scale with explicit loops: q [L, d], k [L, d] -> [L, L].
at::Tensor refAttention(const at::Tensor& q, const at::Tensor& k, double scale, int window = 0) {
  const int64_t L = q.size(0);
  at::Tensor p = at::zeros({L, L}, at::kDouble);
  auto qa = q.accessor<double, 2>(), ka = k.accessor<double, 2>();
  auto pa = p.accessor<double, 2>();
  for (int64_t r = 0; r < L; ++r) {
    std::vector<double> s;
    double mx = -1e300;
    const int64_t c0 = window > 0 ? std::max<int64_t>(0, r - window + 1) : 0;
    for (int64_t c = c0; c <= r; ++c) {
      double v = 0;
      for (int64_t i = 0; i < q.size(1); ++i) v += qa[r][i] * ka[c][i];
      s.push_back(v * scale);
      mx = std::max(mx, v * scale);
    }
    double z = 0;
    for (double& v : s) z += (v = std::exp(v - mx));
    for (int64_t c = c0; c <= r; ++c) pa[r][c] = s[c - c0] / z;
  }
  return p;
}

struct RefOut {
  std::vector<at::Tensor> mixerInputs;  // per layer [L, D]
  std::vector<at::Tensor> operators;    // per layer [H, L, L]
};

RefOut refGpt2(const Weights& w, const at::Tensor& tok, int layers, int H, double eps) {
  const int64_t L = tok.size(0);
  at::Tensor h = w.at("wte.weight").index_select(0, tok) + w.at("wpe.weight").narrow(0, 0, L);
  const int64_t D = h.size(1), d = D / H;
  RefOut out;
  for (int i = 0; i < layers; ++i) {
    const std::string b = "h." + std::to_string(i) + ".";
    at::Tensor x = refLayerNorm(h, w.at(b + "ln_1.weight"), w.at(b + "ln_1.bias"), eps);
    out.mixerInputs.push_back(x);
    at::Tensor qkv = at::matmul(x, w.at(b + "attn.c_attn.weight")) + w.at(b + "attn.c_attn.bias");  // Conv1D
    std::vector<at::Tensor> probs, heads;
    for (int hh = 0; hh < H; ++hh) {
      at::Tensor q = qkv.narrow(1, hh * d, d).contiguous(), k = qkv.narrow(1, D + hh * d, d).contiguous();
      at::Tensor v = qkv.narrow(1, 2 * D + hh * d, d);
      at::Tensor p = refAttention(q, k, 1.0 / std::sqrt(double(d)));
      probs.push_back(p);
      heads.push_back(at::matmul(p, v));
    }
    out.operators.push_back(at::stack(probs));
    h = h + at::matmul(at::cat(heads, 1), w.at(b + "attn.c_proj.weight")) + w.at(b + "attn.c_proj.bias");
    at::Tensor m = refLayerNorm(h, w.at(b + "ln_2.weight"), w.at(b + "ln_2.bias"), eps);
    m = refGeluTanh(at::matmul(m, w.at(b + "mlp.c_fc.weight")) + w.at(b + "mlp.c_fc.bias"));
    h = h + at::matmul(m, w.at(b + "mlp.c_proj.weight")) + w.at(b + "mlp.c_proj.bias");
  }
  return out;
}

/// RoPE by its definition: the pair (x_i, x_{i+d/2}) rotated by the angle pos * inv_freq[i],
/// inv_freq[i] = theta^(-2i/d) / factor (linear scaling). x [L, d].
at::Tensor refRope(const at::Tensor& x, double theta, double factor = 1.0) {
  const int64_t L = x.size(0), d = x.size(1), half = d / 2;
  at::Tensor y = x.clone();
  auto xa = x.accessor<double, 2>();
  auto ya = y.accessor<double, 2>();
  for (int64_t p = 0; p < L; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const double a = double(p) * std::pow(theta, -2.0 * double(i) / double(d)) / factor;
      ya[p][i] = xa[p][i] * std::cos(a) - xa[p][i + half] * std::sin(a);
      ya[p][i + half] = xa[p][i + half] * std::cos(a) + xa[p][i] * std::sin(a);
    }
  return y;
}

struct LlamaShape {
  int H = 4, KV = 2, d = 4, layers = 2;
  double eps = 1e-6, theta = 10000.0, ropeFactor = 1.0;
  bool qkvBias = false, oBias = false;
  int window = 0;
};

RefOut refLlama(const Weights& w, const at::Tensor& tok, const LlamaShape& s) {
  at::Tensor h = w.at("embed_tokens.weight").index_select(0, tok);
  RefOut out;
  auto lin = [&](const at::Tensor& x, const std::string& n, bool bias) {
    at::Tensor y = at::matmul(x, w.at(n + ".weight").t());
    return bias ? y + w.at(n + ".bias") : y;
  };
  const int group = s.H / s.KV;
  for (int i = 0; i < s.layers; ++i) {
    const std::string b = "layers." + std::to_string(i) + ".";
    at::Tensor x = refRms(h, w.at(b + "input_layernorm.weight"), s.eps);
    out.mixerInputs.push_back(x);
    at::Tensor q = lin(x, b + "self_attn.q_proj", s.qkvBias), k = lin(x, b + "self_attn.k_proj", s.qkvBias);
    at::Tensor v = lin(x, b + "self_attn.v_proj", s.qkvBias);
    std::vector<at::Tensor> probs, heads;
    for (int hh = 0; hh < s.H; ++hh) {
      const int kv = hh / group;  // GQA: consecutive query heads share a key/value head
      at::Tensor qh = refRope(q.narrow(1, hh * s.d, s.d).contiguous(), s.theta, s.ropeFactor);
      at::Tensor kh = refRope(k.narrow(1, kv * s.d, s.d).contiguous(), s.theta, s.ropeFactor);
      at::Tensor p = refAttention(qh, kh, 1.0 / std::sqrt(double(s.d)), s.window);
      probs.push_back(p);
      heads.push_back(at::matmul(p, v.narrow(1, kv * s.d, s.d)));
    }
    out.operators.push_back(at::stack(probs));
    h = h + lin(at::cat(heads, 1), b + "self_attn.o_proj", s.oBias);
    at::Tensor m = refRms(h, w.at(b + "post_attention_layernorm.weight"), s.eps);
    m = refSilu(lin(m, b + "mlp.gate_proj", false)) * lin(m, b + "mlp.up_proj", false);
    h = h + lin(m, b + "mlp.down_proj", false);
  }
  return out;
}

struct MambaShape {
  int D = 8, expand = 2, N = 4, K = 3, R = 2, layers = 2;
  double eps = 1e-5;
};

/// Mamba blocks with the S6 scan as explicit loops; the operator T[e, r, c] from the scan's
/// response to an impulse at c (the output at r when u = e_c on channel e, the gate applied).
RefOut refMamba(const Weights& w, const at::Tensor& tok, const MambaShape& s) {
  at::Tensor h = w.at("embeddings.weight").index_select(0, tok);
  const int64_t L = tok.size(0), E = int64_t(s.expand) * s.D, N = s.N;
  RefOut out;
  for (int i = 0; i < s.layers; ++i) {
    const std::string b = "layers." + std::to_string(i) + ".mixer.";
    at::Tensor x = refRms(h, w.at("layers." + std::to_string(i) + ".norm.weight"), s.eps);
    out.mixerInputs.push_back(x);
    at::Tensor xz = at::matmul(x, w.at(b + "in_proj.weight").t());  // [L, 2E]
    at::Tensor xin = xz.narrow(1, 0, E), z = xz.narrow(1, E, E);
    at::Tensor cw = w.at(b + "conv1d.weight"), cb = w.at(b + "conv1d.bias");
    at::Tensor u = at::zeros({L, E}, at::kDouble);
    for (int64_t t = 0; t < L; ++t)
      for (int64_t e = 0; e < E; ++e) {
        double acc = cb[e].item<double>();
        for (int64_t j = 0; j < s.K; ++j) {  // tap j of K multiplies x_{t - (K-1) + j}
          const int64_t src = t - (s.K - 1) + j;
          if (src >= 0) acc += cw[e][0][j].item<double>() * xin[src][e].item<double>();
        }
        u[t][e] = acc;
      }
    u = refSilu(u);
    at::Tensor xdbl = at::matmul(u, w.at(b + "x_proj.weight").t());  // [L, R + 2N]
    at::Tensor dt = at::log1p(at::exp(at::matmul(xdbl.narrow(1, 0, s.R), w.at(b + "dt_proj.weight").t()) +
                                      w.at(b + "dt_proj.bias")));  // softplus, [L, E]
    at::Tensor B = xdbl.narrow(1, s.R, N), C = xdbl.narrow(1, s.R + N, N);
    at::Tensor A = -at::exp(w.at(b + "A_log")), Dskip = w.at(b + "D");
    at::Tensor gate = refSilu(z);
    at::Tensor y = at::zeros({L, E}, at::kDouble), T = at::zeros({E, L, L}, at::kDouble);
    auto dta = dt.accessor<double, 2>(), ua = u.accessor<double, 2>(), ga = gate.accessor<double, 2>();
    auto Ba = B.accessor<double, 2>(), Ca = C.accessor<double, 2>(), Aa = A.accessor<double, 2>();
    auto ya = y.accessor<double, 2>();
    auto Ta = T.accessor<double, 3>();
    for (int64_t e = 0; e < E; ++e) {
      std::vector<double> st(N, 0.0);
      for (int64_t t = 0; t < L; ++t) {
        double out_t = 0;
        for (int64_t n = 0; n < N; ++n) {
          st[n] = std::exp(dta[t][e] * Aa[e][n]) * st[n] + dta[t][e] * Ba[t][n] * ua[t][e];
          out_t += Ca[t][n] * st[n];
        }
        ya[t][e] = (out_t + Dskip[e].item<double>() * ua[t][e]) * ga[t][e];
      }
      for (int64_t c = 0; c < L; ++c) {  // impulse response: u = 1 at c on channel e
        std::vector<double> si(N, 0.0);
        for (int64_t t = c; t < L; ++t) {
          double o = 0;
          for (int64_t n = 0; n < N; ++n) {
            si[n] = (t > c ? std::exp(dta[t][e] * Aa[e][n]) * si[n] : 0.0) + (t == c ? dta[t][e] * Ba[t][n] : 0.0);
            o += Ca[t][n] * si[n];
          }
          Ta[e][t][c] = (o + (t == c ? Dskip[e].item<double>() : 0.0)) * ga[t][e];
        }
      }
    }
    out.operators.push_back(T);
    h = h + at::matmul(y, w.at(b + "out_proj.weight").t());
  }
  return out;
}

// ---- checkpoint builders ----

std::string gpt2Config(int V, int D, int H, int layers, int P) {
  return "{\"model_type\": \"gpt2\", \"vocab_size\": " + std::to_string(V) + ", \"n_embd\": " + std::to_string(D) +
         ", \"n_head\": " + std::to_string(H) + ", \"n_layer\": " + std::to_string(layers) +
         ", \"n_positions\": " + std::to_string(P) + ", \"layer_norm_epsilon\": 1e-5, \"n_inner\": null}";
}

Ckpt makeGpt2(int V, int D, int layers, int P, at::ScalarType dtype = at::kFloat) {
  Ckpt c;
  c.dtype = dtype;
  c.add("wte.weight", c.rnd({V, D}));
  c.add("wpe.weight", c.rnd({P, D}));
  for (int i = 0; i < layers; ++i) {
    const std::string b = "h." + std::to_string(i) + ".";
    c.add(b + "ln_1.weight", c.rnd({D}, 0.2, 1.0));
    c.add(b + "ln_1.bias", c.rnd({D}, 0.1));
    c.add(b + "attn.c_attn.weight", c.rnd({D, 3 * D}, 0.5));
    c.add(b + "attn.c_attn.bias", c.rnd({3 * D}, 0.1));
    c.add(b + "attn.c_proj.weight", c.rnd({D, D}));
    c.add(b + "attn.c_proj.bias", c.rnd({D}, 0.1));
    c.add(b + "ln_2.weight", c.rnd({D}, 0.2, 1.0));
    c.add(b + "ln_2.bias", c.rnd({D}, 0.1));
    c.add(b + "mlp.c_fc.weight", c.rnd({D, 4 * D}));
    c.add(b + "mlp.c_fc.bias", c.rnd({4 * D}, 0.1));
    c.add(b + "mlp.c_proj.weight", c.rnd({4 * D, D}));
    c.add(b + "mlp.c_proj.bias", c.rnd({D}, 0.1));
  }
  c.add("ln_f.weight", c.rnd({D}, 0.2, 1.0));
  c.add("ln_f.bias", c.rnd({D}, 0.1));
  return c;
}

std::string llamaConfig(const std::string& type, int V, int D, const LlamaShape& s, int I, int P,
                        const std::string& extra = "") {
  return "{\"model_type\": \"" + type + "\", \"vocab_size\": " + std::to_string(V) +
         ", \"hidden_size\": " + std::to_string(D) + ", \"num_attention_heads\": " + std::to_string(s.H) +
         ", \"num_key_value_heads\": " + std::to_string(s.KV) + ", \"num_hidden_layers\": " + std::to_string(s.layers) +
         ", \"intermediate_size\": " + std::to_string(I) + ", \"max_position_embeddings\": " + std::to_string(P) +
         ", \"rms_norm_eps\": 1e-6, " + "\"rope_theta\": " + std::to_string(s.theta) +
         ", \"attention_bias\": " + (s.qkvBias ? "true" : "false") + ", \"tie_word_embeddings\": true" + extra + "}";
}

Ckpt makeLlama(int V, int D, const LlamaShape& s, int I, at::ScalarType dtype, const std::string& prefix) {
  Ckpt c;
  c.dtype = dtype;
  c.prefix = prefix;
  c.add("embed_tokens.weight", c.rnd({V, D}, 1.0));
  for (int i = 0; i < s.layers; ++i) {
    const std::string b = "layers." + std::to_string(i) + ".";
    c.add(b + "input_layernorm.weight", c.rnd({D}, 0.2, 1.0));
    c.add(b + "self_attn.q_proj.weight", c.rnd({s.H * s.d, D}, 0.5));
    c.add(b + "self_attn.k_proj.weight", c.rnd({s.KV * s.d, D}, 0.5));
    c.add(b + "self_attn.v_proj.weight", c.rnd({s.KV * s.d, D}));
    c.add(b + "self_attn.o_proj.weight", c.rnd({D, s.H * s.d}));
    if (s.qkvBias) {
      c.add(b + "self_attn.q_proj.bias", c.rnd({s.H * s.d}, 0.2));
      c.add(b + "self_attn.k_proj.bias", c.rnd({s.KV * s.d}, 0.2));
      c.add(b + "self_attn.v_proj.bias", c.rnd({s.KV * s.d}, 0.2));
    }
    if (s.oBias) c.add(b + "self_attn.o_proj.bias", c.rnd({D}, 0.2));
    c.add(b + "post_attention_layernorm.weight", c.rnd({D}, 0.2, 1.0));
    c.add(b + "mlp.gate_proj.weight", c.rnd({I, D}));
    c.add(b + "mlp.up_proj.weight", c.rnd({I, D}));
    c.add(b + "mlp.down_proj.weight", c.rnd({D, I}));
  }
  c.add("norm.weight", c.rnd({D}, 0.2, 1.0));
  return c;
}

std::string mambaConfig(int V, const MambaShape& s) {
  return "{\"model_type\": \"mamba\", \"vocab_size\": " + std::to_string(V) +
         ", \"hidden_size\": " + std::to_string(s.D) + ", \"state_size\": " + std::to_string(s.N) +
         ", \"expand\": " + std::to_string(s.expand) + ", \"conv_kernel\": " + std::to_string(s.K) +
         ", \"time_step_rank\": " + (s.R == (s.D + 15) / 16 ? std::string("\"auto\"") : std::to_string(s.R)) +
         ", \"num_hidden_layers\": " + std::to_string(s.layers) +
         ", \"layer_norm_epsilon\": 1e-5, \"use_bias\": false, \"use_conv_bias\": true}";
}

Ckpt makeMamba(int V, const MambaShape& s, at::ScalarType dtype) {
  Ckpt c;
  c.dtype = dtype;
  c.prefix = "backbone.";
  const int64_t E = int64_t(s.expand) * s.D;
  c.add("embeddings.weight", c.rnd({V, s.D}, 1.0));
  for (int i = 0; i < s.layers; ++i) {
    const std::string b = "layers." + std::to_string(i) + ".";
    c.add(b + "norm.weight", c.rnd({s.D}, 0.2, 1.0));
    c.add(b + "mixer.in_proj.weight", c.rnd({2 * E, s.D}, 0.4));
    c.add(b + "mixer.conv1d.weight", c.rnd({E, 1, s.K}, 0.5));
    c.add(b + "mixer.conv1d.bias", c.rnd({E}, 0.1));
    c.add(b + "mixer.x_proj.weight", c.rnd({s.R + 2 * s.N, E}, 0.4));
    c.add(b + "mixer.dt_proj.weight", c.rnd({E, s.R}, 0.4));
    c.add(b + "mixer.dt_proj.bias", c.rnd({E}, 0.5, -2.0));
    c.add(b + "mixer.A_log",
          at::log(at::arange(1, s.N + 1, at::kDouble)).unsqueeze(0).repeat({E, 1}) + c.rnd({E, s.N}, 0.1));
    c.add(b + "mixer.D", c.rnd({E}, 0.3, 1.0));
    c.add(b + "mixer.out_proj.weight", c.rnd({s.D, E}, 0.3));
  }
  c.add("norm_f.weight", c.rnd({s.D}, 0.2, 1.0));
  return c;
}

/// Reference weights from a PyTorch-made fixture: float64 copies, `prefix` stripped.
Weights weightsOf(const std::string& dir, const std::string& prefix) {
  Weights w;
  for (const auto& [n, t] : loadCheckpointFiles(dir).tensors.tensors)
    if (n.rfind(prefix, 0) == 0 && at::isFloatingType(t.scalar_type())) w[n.substr(prefix.size())] = t.to(at::kDouble);
  return w;
}

void checkAgainst(const HfModel& m, const RefOut& ref, const at::Tensor& tok, double tol) {
  for (int i = 0; i < m.numLayers(); ++i) {
    at::Tensor x = m.mixerInput(i, tok);
    QCOMPARE(x.scalar_type(), at::kDouble);
    QVERIFY2(maxDiff(x, ref.mixerInputs[i]) < tol, ("layer " + std::to_string(i) + " mixer input differs by " +
                                                    std::to_string(maxDiff(x, ref.mixerInputs[i])))
                                                       .c_str());
    at::Tensor T = m.layerOperator(i, tok);
    QCOMPARE(T.sizes().vec(), ref.operators[i].sizes().vec());
    QVERIFY2(maxDiff(T, ref.operators[i]) < tol,
             ("layer " + std::to_string(i) + " operator differs by " + std::to_string(maxDiff(T, ref.operators[i])))
                 .c_str());
    QCOMPARE(T.triu(1).abs().max().item<double>(), 0.0);
  }
}

/// The values PyTorch computed with HF's own formulations (expected.pt beside the fixture, made
/// by make_fixtures.py for its TOKENS): mixer_input.{i} [L, D] and operator.{i} [H, L, L]
/// (mamba: [E, L, L]); with `hiddenStates` also the residual stream hidden_state.{i} [L, D]
/// entering block i, i = 0..layers (the last one after every block).
void checkPyTorchExpected(const HfModel& m, const std::string& dir, bool hiddenStates = false) {
  const NamedTensors e = readTensorFile(dir + "/expected.pt");
  const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
  for (int i = 0; i < m.numLayers(); ++i) {
    const at::Tensor* x = e.find("mixer_input." + std::to_string(i));
    const at::Tensor* T = e.find("operator." + std::to_string(i));
    QVERIFY(x && T);
    QCOMPARE(T->scalar_type(), at::kDouble);
    QVERIFY2(maxDiff(m.mixerInput(i, tok), *x) < 1e-10, ("mixer input " + std::to_string(i)).c_str());
    QVERIFY2(maxDiff(m.layerOperator(i, tok), *T) < 1e-10, ("operator " + std::to_string(i)).c_str());
  }
  for (int i = 0; hiddenStates && i <= m.numLayers(); ++i) {
    const at::Tensor* h = e.find("hidden_state." + std::to_string(i));
    QVERIFY(h);
    QVERIFY2(maxDiff(m.hiddenState(i, tok), *h) < 1e-10, ("hidden state " + std::to_string(i)).c_str());
  }
}

void checkRowsSumToOne(const at::Tensor& T) {
  QVERIFY(maxDiff(T.sum(-1), at::ones({T.size(0), T.size(1)}, at::kDouble)) < 1e-12);
  QVERIFY(T.min().item<double>() >= 0.0);
}

/// The mixer's own outputs of a PyTorch-made fixture (expected.pt: values.{i} [H, L, d_v] and
/// mixer_output.{i} [H, L, d_v], formed by the fixture script without an operator matrix for
/// SSMs, query by query for attention): y == T(u) v with the operator the core computes.
void checkMixerOutputs(const HfModel& m, const std::string& dir) {
  const NamedTensors e = readTensorFile(dir + "/expected.pt");
  const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
  for (int i = 0; i < m.numLayers(); ++i) {
    const at::Tensor* v = e.find("values." + std::to_string(i));
    const at::Tensor* y = e.find("mixer_output." + std::to_string(i));
    QVERIFY(v && y);
    QVERIFY(y->abs().max().item<double>() > 1e-2);
    const double err = maxDiff(at::matmul(m.layerOperator(i, tok), *v), *y);
    QVERIFY2(err < 1e-10, ("layer " + std::to_string(i) + ": y differs from T(u) v by " + std::to_string(err)).c_str());
  }
}

/// A PyTorch-made fixture's tensors and config.json written to `dir` as model.safetensors after
/// `edit` (to break one tensor or field).
void writeEdited(const std::string& from, const std::string& dir, const std::function<void(NamedTensors&)>& edit,
                 const std::string& config) {
  NamedTensors t = loadCheckpointFiles(from).tensors;
  NamedTensors kept;
  for (auto& [n, x] : t.tensors)
    if (at::isFloatingType(x.scalar_type()) && x.dim() > 0) kept.add(n, x.contiguous());
  edit(kept);
  std::filesystem::create_directories(dir);
  writeSafetensors(dir + "/model.safetensors", kept);
  std::ofstream(dir + "/config.json") << config;
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// config.json text with `key`'s value replaced by `value` (JSON) or added.
std::string withField(const std::string& config, const std::string& key, const std::string& value) {
  nlohmann::json j = nlohmann::json::parse(config);
  j[key] = nlohmann::json::parse(value);
  return j.dump();
}

}  // namespace

class TestHfModels : public QObject {
  Q_OBJECT

 private slots:
  void rowParallelLinearMatchesLinear() {
    // The forward passes' projections split their rows over the CPUs (hf_layers.h); shapes
    // above the split's 2^24 multiply-adds, with an odd row count, give at::linear's values.
    at::manual_seed(3);
    const auto opts = at::TensorOptions().dtype(at::kDouble);
    const at::Tensor x = at::randn({301, 256}, opts), w = at::randn({300, 256}, opts), b = at::randn({300}, opts);
    QVERIFY(301 * 256 * 300 >= (1 << 24));
    for (const bool bias : {false, true}) {
      const at::Tensor want = bias ? at::linear(x, w, b) : at::linear(x, w);
      const at::Tensor got = ess::hf::rowParallelLinear(x, w, bias ? b : at::Tensor());
      QCOMPARE(got.sizes().vec(), want.sizes().vec());
      QVERIFY2((got - want).abs().max().item<double>() <= 1e-12 * want.abs().max().item<double>(),
               bias ? "with bias" : "without bias");
    }
    // A transposed (non-contiguous) input, as Mamba's x_proj reads u^T.
    const at::Tensor xt = at::randn({256, 301}, opts).t();
    QVERIFY(at::allclose(ess::hf::rowParallelLinear(xt, w), at::linear(xt, w), 1e-12, 1e-12));
  }

  void architectureTableListsModelTypes() {
    // The table of src/hf/hf_architectures.cpp, in its order; an unknown model_type lists it.
    QCOMPARE(HfModel::supportedModelTypes(),
             (std::vector<std::string>{
                 "gpt2",         "llama",     "mistral",        "qwen2",  "mamba",       "gpt_neox",       "phi",
                 "falcon_mamba", "qwen3",     "phi3",           "gemma2", "gemma3_text", "mamba2",         "gla",
                 "retnet",       "delta_net", "gated_deltanet", "lfm2",   "jamba",       "recurrent_gemma"}));
    const std::string e = inputErrorOf([] { HfConfig::fromJson(R"({"model_type": "bert"})", "c.json"); });
    QCOMPARE(
        e, std::string("c.json: unsupported model_type \"bert\" (supported: gpt2, llama, mistral, qwen2, mamba, "
                       "gpt_neox, phi, falcon_mamba, qwen3, phi3, gemma2, gemma3_text, mamba2, gla, retnet, delta_net, "
                       "gated_deltanet, lfm2, jamba, recurrent_gemma, and ess-lm)"));
  }

  void gpt2ForwardAndAttention() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/gpt2";
    Ckpt c = makeGpt2(40, 16, 3, 24);
    c.write(dir, gpt2Config(40, 16, 2, 3, 24));
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.heads(), 2);
    QCOMPARE(m.valueChannels(), 8);
    QCOMPARE(m.mixerKind(), std::string("softmax_attention"));
    at::Tensor tok = tokensOf({3, 17, 0, 39, 5, 5, 22, 8, 1, 30, 12});
    RefOut ref = refGpt2(c.w, tok, 3, 2, 1e-5);
    checkAgainst(m, ref, tok, 1e-10);
    for (int i = 0; i < 3; ++i) checkRowsSumToOne(m.layerOperator(i, tok));
    // The residual stream after the last block differs from before it (the blocks did work).
    QVERIFY(maxDiff(m.hiddenState(3, tok), m.hiddenState(2, tok)) > 1e-3);
    // A different input gives a different operator (the cache is keyed by the tokens).
    at::Tensor tok2 = tokensOf({4, 17, 0, 39, 5, 5, 22, 8, 1, 30, 12});
    QVERIFY(maxDiff(m.layerOperator(2, tok2), m.layerOperator(2, tok)) > 1e-6);
    QVERIFY(maxDiff(m.layerOperator(2, tok2), refGpt2(c.w, tok2, 3, 2, 1e-5).operators[2]) < 1e-10);
    QCOMPARE(m.layerGenerators(0, tok).heads(), 0);
  }

  void gpt2WrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/gpt2_torch";
    HfModel m(loadCheckpointFiles(dir));
    at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2, 6, 11});
    RefOut ref = refGpt2(weightsOf(dir, "transformer."), tok, 2, 2, 1e-5);
    checkAgainst(m, ref, tok, 1e-10);
    checkPyTorchExpected(m, dir);
  }

  void llamaGqaBiasesAndRopeScaling() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/llama";
    LlamaShape s;
    s.H = 4;
    s.KV = 2;
    s.d = 4;
    s.layers = 3;
    s.theta = 500.0;
    s.ropeFactor = 2.0;
    s.qkvBias = s.oBias = true;
    Ckpt c = makeLlama(48, 16, s, 24, at::kBFloat16, "model.");
    c.write(dir,
            llamaConfig("llama", 48, 16, s, 24, 64, ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}"));
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.config().numKvHeads, 2);
    QCOMPARE(m.heads(), 4);
    QVERIFY(contains(m.tssFormula(), "2 KV heads, each shared by 2 query heads"));
    at::Tensor tok = tokensOf({5, 47, 0, 12, 12, 30, 8, 2, 44, 19, 7, 3, 21});
    checkAgainst(m, refLlama(c.w, tok, s), tok, 1e-10);
    for (int i = 0; i < 3; ++i) checkRowsSumToOne(m.layerOperator(i, tok));
    // GQA: query heads 0, 1 read key head 0 and 2, 3 read key head 1; the operator of head h is
    // softmax(q_h K_{h/2}^T / sqrt(d)) with the keys of its group.
    auto [q, k] = m.queriesKeys(1, tok);
    QCOMPARE(q.size(0), 4);
    QCOMPARE(k.size(0), 2);
    at::Tensor T = m.layerOperator(1, tok);
    for (int h = 0; h < 4; ++h) {
      QVERIFY(maxDiff(T[h], refAttention(q[h].contiguous(), k[h / 2].contiguous(), 0.5)) < 1e-12);
      QVERIFY(maxDiff(T[h], refAttention(q[h].contiguous(), k[1 - h / 2].contiguous(), 0.5)) > 1e-3);
    }
  }

  void qwen2WrittenByPyTorchInBf16() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/qwen2_torch";
    CheckpointFiles files = loadCheckpointFiles(dir);
    QCOMPARE(files.tensors.find("model.embed_tokens.weight")->scalar_type(), at::kBFloat16);
    HfModel m(files);
    QVERIFY(m.config().qkvBias);
    QVERIFY(!m.config().oBias);
    LlamaShape s;  // as in make_fixtures.py
    s.H = 4;
    s.KV = 2;
    s.d = 4;
    s.layers = 2;
    s.qkvBias = true;
    at::Tensor tok = tokensOf({0, 9, 31, 4, 4, 17, 22, 8, 13, 1});
    checkAgainst(m, refLlama(weightsOf(dir, "model."), tok, s), tok, 1e-10);
    checkPyTorchExpected(m, dir);
  }

  void mistralSlidingWindow() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/mistral";
    LlamaShape s;
    s.H = 2;
    s.KV = 1;
    s.d = 8;
    s.layers = 2;
    s.window = 3;
    Ckpt c = makeLlama(20, 16, s, 32, at::kFloat, "");
    c.write(dir, llamaConfig("mistral", 20, 16, s, 32, 32, ", \"sliding_window\": 3"));
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.mixerKind(), std::string("sliding_window_attention"));
    QCOMPARE(m.theoreticalStateSize(10), 3.0 * 16);
    at::Tensor tok = tokensOf({1, 2, 3, 19, 5, 0, 7, 8, 11});
    checkAgainst(m, refLlama(c.w, tok, s), tok, 1e-10);
    at::Tensor T = m.layerOperator(1, tok);
    QCOMPARE(T.tril(-3).abs().max().item<double>(), 0.0);  // nothing older than w - 1 positions
    checkRowsSumToOne(T);
  }

  void ropeMatchesItsDefinition() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/rope";
    LlamaShape s;
    s.H = 2;
    s.KV = 2;
    s.d = 8;
    s.layers = 1;
    s.theta = 10000.0;
    Ckpt c = makeLlama(16, 16, s, 16, at::kFloat, "");
    c.write(dir, llamaConfig("llama", 16, 16, s, 16, 64));
    HfModel m(loadCheckpointFiles(dir));
    at::Tensor cos, sin;  // not a structured binding: the lambda below captures them (C++17)
    std::tie(cos, sin) = m.rotary(40);
    QCOMPARE(cos.sizes().vec(), (std::vector<int64_t>{40, 8}));
    for (int p : {0, 1, 7, 39})
      for (int i = 0; i < 4; ++i) {
        const double a = p * std::pow(10000.0, -2.0 * i / 8.0);
        QVERIFY(std::abs(cos[p][i].item<double>() - std::cos(a)) < 1e-12);
        QVERIFY(std::abs(cos[p][i + 4].item<double>() - std::cos(a)) < 1e-12);
        QVERIFY(std::abs(sin[p][i].item<double>() - std::sin(a)) < 1e-12);
        QVERIFY(std::abs(sin[p][i + 4].item<double>() - std::sin(a)) < 1e-12);
      }
    // HF's q*cos + rotate_half(q)*sin is the rotation of each pair (i, i + d/2): apply the tables
    // to one vector at every position and compare with refRope; then q_m . k_n depends on m - n.
    at::Generator gen = at::detail::createCPUGenerator(5);
    at::Tensor q = at::randn({8}, gen, at::TensorOptions().dtype(at::kDouble));
    at::Tensor k = at::randn({8}, gen, at::TensorOptions().dtype(at::kDouble));
    auto rot = [&](const at::Tensor& v, int p) {
      at::Tensor half = at::cat({-v.narrow(0, 4, 4), v.narrow(0, 0, 4)});
      return v * cos[p] + half * sin[p];
    };
    at::Tensor rows = q.unsqueeze(0).repeat({40, 1});
    at::Tensor byDefinition = refRope(rows, 10000.0);
    for (int p : {0, 3, 21, 39}) QVERIFY(maxDiff(rot(q, p), byDefinition[p]) < 1e-12);
    const double d30 = rot(q, 5).dot(rot(k, 2)).item<double>();
    QVERIFY(std::abs(d30 - rot(q, 3).dot(rot(k, 0)).item<double>()) < 1e-12);
    QVERIFY(std::abs(d30 - rot(q, 37).dot(rot(k, 34)).item<double>()) < 1e-12);
    QVERIFY(std::abs(d30 - rot(q, 6).dot(rot(k, 2)).item<double>()) > 1e-6);  // a different offset
    // Norms are kept (a rotation).
    QVERIFY(std::abs(rot(q, 11).norm().item<double>() - q.norm().item<double>()) < 1e-12);
  }

  void ropeLlama3Scaling() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/llama3";
    LlamaShape s;
    s.H = 2;
    s.KV = 2;
    s.d = 16;
    s.layers = 1;
    s.theta = 500000.0;
    Ckpt c = makeLlama(16, 32, s, 16, at::kFloat, "");
    c.write(dir,
            llamaConfig("llama", 16, 32, s, 16, 64,
                        ", \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0,"
                        " \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 64}"));
    HfModel m(loadCheckpointFiles(dir));
    auto [cos, sin] = m.rotary(2);
    // Position 1: the angle is inv_freq itself. High frequencies (wavelength < 64 / 4) are kept,
    // low ones (wavelength > 64) divided by 8, those between blended (HF's llama3 rule).
    for (int i = 0; i < 8; ++i) {
      const double f = std::pow(500000.0, -2.0 * i / 16.0), wave = 2 * M_PI / f;
      double expect = f;
      if (wave > 64.0)
        expect = f / 8.0;
      else if (wave >= 16.0) {
        const double sm = (64.0 / wave - 1.0) / 3.0;
        expect = (1 - sm) * f / 8.0 + sm * f;
      }
      QVERIFY2(std::abs(std::atan2(sin[1][i].item<double>(), cos[1][i].item<double>()) - expect) < 1e-12,
               std::to_string(i).c_str());
    }
  }

  void mambaForwardOperatorAndGenerators() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/mamba";
    MambaShape s;  // D = 8: time_step_rank "auto" = ceil(8 / 16) = 1
    s.R = 1;
    s.layers = 3;
    Ckpt c = makeMamba(30, s, at::kHalf);
    c.write(dir, mambaConfig(30, s));
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.config().dtRank, 1);
    QCOMPARE(m.heads(), 16);
    QCOMPARE(m.valueChannels(), 1);
    QCOMPARE(m.theoreticalStateSize(5), 4.0);
    at::Tensor tok = tokensOf({2, 29, 0, 14, 14, 7, 3, 21, 9, 11});
    checkAgainst(m, refMamba(c.w, tok, s), tok, 1e-10);
    for (int i = 0; i < 3; ++i) {
      Generators g = m.layerGenerators(i, tok);
      QCOMPARE(g.heads(), 16);
      QCOMPARE(g.stateSize(), 4);
      QVERIFY(maxDiff(materializeGenerators(g, "g"), m.layerOperator(i, tok)) < 1e-12);
    }
    // An explicit time_step_rank and use_conv_bias false (no conv1d.bias tensors: zero bias).
    MambaShape s2;
    s2.R = 3;
    s2.layers = 2;
    Ckpt c2 = makeMamba(30, s2, at::kFloat);
    auto& list = c2.tensors.tensors;
    list.erase(
        std::remove_if(list.begin(), list.end(), [](const auto& nt) { return contains(nt.first, "conv1d.bias"); }),
        list.end());
    for (int i = 0; i < s2.layers; ++i)
      c2.w["layers." + std::to_string(i) + ".mixer.conv1d.bias"] = at::zeros({16}, at::kDouble);
    std::string cfg2 = mambaConfig(30, s2);
    cfg2.replace(cfg2.find("\"use_conv_bias\": true"), 21, "\"use_conv_bias\": false");
    c2.write(dir + "2", cfg2);
    HfModel m2(loadCheckpointFiles(dir + "2"));
    QCOMPARE(m2.config().dtRank, 3);
    QVERIFY(!m2.config().convBias);
    checkAgainst(m2, refMamba(c2.w, tok, s2), tok, 1e-10);
  }

  void mambaWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/mamba_torch";
    CheckpointFiles files = loadCheckpointFiles(dir);
    QCOMPARE(files.tensors.find("backbone.embeddings.weight")->scalar_type(), at::kHalf);
    QVERIFY(files.tensors.find("lm_head.weight"));  // tied to the embeddings in the .bin
    HfModel m(files);
    QCOMPARE(m.mixerKind(), std::string("mamba"));
    QCOMPARE(m.config().dtRank, 2);
    QCOMPARE(m.config().convKernel, 4);
    QCOMPARE(m.heads(), 32);
    QCOMPARE(m.theoreticalStateSize(6), 4.0);
    MambaShape s;  // as in make_fixtures.py
    s.D = 16;
    s.K = 4;
    s.R = 2;
    s.layers = 2;
    at::Tensor tok = tokensOf({4, 0, 31, 17, 17, 2, 9, 26, 13, 5, 30, 8, 1});
    checkAgainst(m, refMamba(weightsOf(dir, "backbone."), tok, s), tok, 1e-10);
    checkPyTorchExpected(m, dir, true);
    const NamedTensors e = readTensorFile(dir + "/expected.pt");
    const at::Tensor pyTok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    for (int i = 0; i < 2; ++i) {
      // The fixture is not trivial: the scan carries earlier inputs (strictly lower entries),
      // and the generator form gives PyTorch's operator too.
      const at::Tensor& T = *e.find("operator." + std::to_string(i));
      QVERIFY(T.tril(-1).abs().max().item<double>() > 0.1);
      QVERIFY(T.tril(-5).abs().max().item<double>() > 1e-2);
      Generators g = m.layerGenerators(i, pyTok);
      QCOMPARE(g.heads(), 32);
      QCOMPARE(g.stateSize(), 4);
      QVERIFY(maxDiff(materializeGenerators(g, "g"), T) < 1e-10);
    }
    // Both blocks change the residual stream.
    QVERIFY(maxDiff(*e.find("hidden_state.2"), *e.find("hidden_state.1")) > 1e-2);
    QVERIFY(maxDiff(*e.find("hidden_state.1"), *e.find("hidden_state.0")) > 1e-2);
  }

  // Pythia's layout: the fused query_key_value per head [H, 3, d], a quarter of each head
  // rotated, the parallel residual; and the sequential residual with half of each head rotated
  // (transformers 5's rope_parameters). PyTorch's float64 values (expected.pt) to 1e-10.
  void gptNeoxWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/gpt_neox_torch";
    CheckpointFiles files = loadCheckpointFiles(dir);
    QCOMPARE(files.tensors.find("gpt_neox.embed_in.weight")->scalar_type(), at::kHalf);
    QVERIFY(files.tensors.find("gpt_neox.layers.0.attention.rotary_emb.inv_freq"));  // buffers are ignored
    HfModel m(files);
    QCOMPARE(m.mixerKind(), std::string("softmax_attention"));
    QCOMPARE(m.heads(), 2);
    QCOMPARE(m.valueChannels(), 8);
    QCOMPARE(m.config().rotaryDim, 2);
    QVERIFY(m.config().parallelResidual);
    QVERIFY(m.config().qkvBias && m.config().oBias);
    QCOMPARE(m.theoreticalStateSize(5), 5.0 * 16);
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    for (int i = 0; i < 2; ++i) checkRowsSumToOne(m.layerOperator(i, tok));
    // Head h's q is the first d of its block [3 * d] of query_key_value; only its leading 2
    // dims turn (position 0 not at all).
    auto [q, k] = m.queriesKeys(1, tok);
    QCOMPARE(q.sizes().vec(), (std::vector<int64_t>{2, 12, 8}));
    QCOMPARE(m.rotary(12).first.size(1), 2);
    const Weights w = weightsOf(dir, "gpt_neox.");
    const at::Tensor qkv = at::matmul(m.mixerInput(1, tok), w.at("layers.1.attention.query_key_value.weight").t()) +
                           w.at("layers.1.attention.query_key_value.bias");
    for (int h = 0; h < 2; ++h) {
      const at::Tensor proj = qkv.narrow(1, h * 24, 8), projK = qkv.narrow(1, h * 24 + 8, 8);
      QVERIFY(maxDiff(q[h].narrow(1, 2, 6), proj.narrow(1, 2, 6)) < 1e-12);
      QVERIFY(maxDiff(k[h].narrow(1, 2, 6), projK.narrow(1, 2, 6)) < 1e-12);
      QVERIFY(maxDiff(q[h][0], proj[0]) < 1e-12);
      QVERIFY(maxDiff(q[h].narrow(1, 0, 2), proj.narrow(1, 0, 2)) > 1e-3);
    }

    const std::string seq = std::string(ESS_TEST_DATA_DIR) + "/hf/gpt_neox_seq_torch";
    HfModel s(loadCheckpointFiles(seq));
    QVERIFY(!s.config().parallelResidual);
    QCOMPARE(s.config().rotaryDim, 4);
    QCOMPARE(s.config().ropeTheta, 500.0);
    checkPyTorchExpected(s, seq, true);
    checkMixerOutputs(s, seq);
    // The residual layout matters: read as parallel, the second block's input differs.
    QTemporaryDir tmp;
    const std::string par = tmp.path().toStdString() + "/parallel";
    writeEdited(
        seq, par, [](NamedTensors&) {}, withField(readText(seq + "/config.json"), "use_parallel_residual", "true"));
    HfModel p(loadCheckpointFiles(par));
    QVERIFY(maxDiff(p.mixerInput(0, tok), s.mixerInput(0, tok)) < 1e-12);
    QVERIFY(maxDiff(p.mixerInput(1, tok), s.mixerInput(1, tok)) > 1e-3);
  }

  void gptNeoxBadCheckpoints() {
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString(), from = std::string(ESS_TEST_DATA_DIR) + "/hf/gpt_neox_torch";
    const std::string cfg = readText(from + "/config.json");
    auto openError = [&](const std::string& name, const std::function<void(NamedTensors&)>& edit,
                         const std::string& config) {
      writeEdited(from, root + "/" + name, edit, config);
      return errorOf([&] { Session::open(root + "/" + name); });
    };
    // The fused projection of the wrong size: the file, the tensor and both shapes.
    std::string msg = openError(
        "qkv",
        [](NamedTensors& t) {
          for (auto& [n, x] : t.tensors)
            if (n == "gpt_neox.layers.1.attention.query_key_value.weight") x = at::zeros({32, 16});
        },
        cfg);
    QVERIFY2(contains(msg, "model.safetensors") &&
                 contains(msg, "'gpt_neox.layers.1.attention.query_key_value.weight'") && contains(msg, "[32, 16]") &&
                 contains(msg, "[48, 16]"),
             msg.c_str());
    // The LM head embed_out is checked when present.
    msg = openError(
        "head",
        [](NamedTensors& t) {
          for (auto& [n, x] : t.tensors)
            if (n == "embed_out.weight") x = at::zeros({31, 16});
        },
        cfg);
    QVERIFY2(contains(msg, "'embed_out.weight'") && contains(msg, "[31, 16]") && contains(msg, "[32, 16]"),
             msg.c_str());
    // Config fields: a rotated part that is odd, a fraction over 1, a rope type not implemented.
    const auto keep = [](NamedTensors&) {};
    msg = openError("odd", keep, withField(cfg, "rotary_pct", "0.375"));
    QVERIFY2(contains(msg, "config.json") && contains(msg, "\"rotary_pct\"") && contains(msg, "rotates 3 of the 8"),
             msg.c_str());
    msg = openError("over", keep, withField(cfg, "rotary_pct", "1.5"));
    QVERIFY2(contains(msg, "\"rotary_pct\"") && contains(msg, "at most 1"), msg.c_str());
    msg = openError("dynamic", keep, withField(cfg, "rope_scaling", R"({"type": "dynamic", "factor": 2.0})"));
    QVERIFY2(contains(msg, "config.json") && contains(msg, "\"rope_scaling\"") && contains(msg, "dynamic"),
             msg.c_str());
    msg = openError("params", keep, withField(cfg, "rope_parameters", R"({"rope_type": "yarn", "factor": 2.0})"));
    QVERIFY2(contains(msg, "\"rope_parameters\"") && contains(msg, "yarn"), msg.c_str());
    msg = openError("heads", keep, withField(cfg, "num_attention_heads", "3"));
    QVERIFY2(contains(msg, "\"hidden_size\"") && contains(msg, "num_attention_heads (3)"), msg.c_str());
    msg = openError("act", keep, withField(cfg, "hidden_act", "\"quick_gelu\""));
    QVERIFY2(contains(msg, "\"hidden_act\"") && contains(msg, "quick_gelu"), msg.c_str());
    // Without the attention biases (attention_bias false) the projections have none to read.
    writeEdited(
        from, root + "/nobias",
        [](NamedTensors& t) {
          auto& l = t.tensors;
          l.erase(std::remove_if(l.begin(), l.end(),
                                 [](const auto& nt) {
                                   return contains(nt.first, "query_key_value.bias") ||
                                          contains(nt.first, "attention.dense.bias");
                                 }),
                  l.end());
        },
        withField(cfg, "attention_bias", "false"));
    HfModel nb(loadCheckpointFiles(root + "/nobias"));
    QVERIFY(!nb.config().qkvBias);
    checkRowsSumToOne(nb.layerOperator(1, tokensOf({3, 4, 5, 6})));
    msg = openError(
        "nobias_missing",
        [](NamedTensors& t) {
          auto& l = t.tensors;
          l.erase(std::remove_if(l.begin(), l.end(),
                                 [](const auto& nt) { return contains(nt.first, "layers.0.attention.dense.bias"); }),
                  l.end());
        },
        cfg);
    QVERIFY2(contains(msg, "missing tensor 'gpt_neox.layers.0.attention.dense.bias'"), msg.c_str());
  }

  // Phi-2's block: attention and MLP in parallel from one LayerNorm, half of each head rotated,
  // biases everywhere (the LM head too); and q/k LayerNorm per head with grouped key/value heads.
  void phiWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/phi_torch";
    CheckpointFiles files = loadCheckpointFiles(dir);
    QCOMPARE(files.tensors.find("model.embed_tokens.weight")->scalar_type(), at::kBFloat16);
    QVERIFY(files.tensors.find("lm_head.bias"));
    HfModel m(files);
    QCOMPARE(m.mixerKind(), std::string("softmax_attention"));
    QCOMPARE(m.heads(), 2);
    QCOMPARE(m.valueChannels(), 8);
    QCOMPARE(m.config().rotaryDim, 4);
    QVERIFY(!m.config().qkLayerNorm);
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);

    const std::string qk = std::string(ESS_TEST_DATA_DIR) + "/hf/phi_qk_torch";
    HfModel n(loadCheckpointFiles(qk));
    QVERIFY(n.config().qkLayerNorm);
    QCOMPARE(n.heads(), 4);
    QCOMPARE(n.config().numKvHeads, 2);
    QCOMPARE(n.config().rotaryDim, 2);
    QVERIFY(contains(n.tssFormula(), "2 KV heads, each shared by 2 query heads"));
    checkPyTorchExpected(n, qk, true);
    checkMixerOutputs(n, qk);
    // The q/k LayerNorm is applied: without it (its tensors dropped, the field false) the
    // operators differ.
    QTemporaryDir tmp;
    const std::string plain = tmp.path().toStdString() + "/plain";
    writeEdited(
        qk, plain,
        [](NamedTensors& t) {
          auto& l = t.tensors;
          l.erase(std::remove_if(l.begin(), l.end(),
                                 [](const auto& nt) {
                                   return contains(nt.first, "self_attn.q_layernorm") ||
                                          contains(nt.first, "self_attn.k_layernorm");
                                 }),
                  l.end());
        },
        withField(readText(qk + "/config.json"), "qk_layernorm", "false"));
    HfModel p(loadCheckpointFiles(plain));
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    QVERIFY(maxDiff(p.layerOperator(0, tok), n.layerOperator(0, tok)) > 1e-3);
    // With qk_layernorm true its tensors are required.
    const std::string msg = errorOf([&] {
      writeEdited(
          qk, plain + "2",
          [](NamedTensors& t) {
            auto& l = t.tensors;
            l.erase(std::remove_if(
                        l.begin(), l.end(),
                        [](const auto& nt) { return contains(nt.first, "layers.1.self_attn.k_layernorm.bias"); }),
                    l.end());
          },
          readText(qk + "/config.json"));
      Session::open(plain + "2");
    });
    QVERIFY2(contains(msg, "missing tensor 'model.layers.1.self_attn.k_layernorm.bias'"), msg.c_str());
    const std::string odd = errorOf([&] {
      writeEdited(
          dir, plain + "3", [](NamedTensors&) {},
          withField(readText(dir + "/config.json"), "partial_rotary_factor", "0.1"));
      Session::open(plain + "3");
    });
    QVERIFY2(contains(odd, "config.json") && contains(odd, "\"partial_rotary_factor\"") &&
                 contains(odd, "rotates 0 of the 8"),
             odd.c_str());
  }

  // Falcon Mamba: Mamba's S6 with dt_low, B and C RMS-normalized (mixer_rms_eps); operator,
  // generators and the scan's own outputs against PyTorch's float64 values.
  void falconMambaWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/falcon_mamba_torch";
    CheckpointFiles files = loadCheckpointFiles(dir);
    QCOMPARE(files.tensors.find("backbone.embeddings.weight")->scalar_type(), at::kBFloat16);
    HfModel m(files);
    QCOMPARE(m.mixerKind(), std::string("mamba"));
    QVERIFY(m.isMamba());
    QCOMPARE(m.config().mixerRmsEps, 1e-6);
    QCOMPARE(m.heads(), 32);
    QCOMPARE(m.valueChannels(), 1);
    QCOMPARE(m.theoreticalStateSize(3), 4.0);
    QVERIFY(contains(m.description("fm"), "32 channels each"));
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const NamedTensors e = readTensorFile(dir + "/expected.pt");
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    for (int i = 0; i < 2; ++i) {
      const at::Tensor& T = *e.find("operator." + std::to_string(i));
      QVERIFY(T.tril(-5).abs().max().item<double>() > 1e-2);  // the scan carries earlier inputs
      Generators g = m.layerGenerators(i, tok);
      QCOMPARE(g.heads(), 32);
      QCOMPARE(g.stateSize(), 4);
      QVERIFY(maxDiff(materializeGenerators(g, "g"), T) < 1e-10);
    }
    // The normalization matters: the same tensors read as plain mamba give other operators.
    QTemporaryDir tmp;
    const std::string plain = tmp.path().toStdString() + "/mamba";
    nlohmann::json cfg = nlohmann::json::parse(readText(dir + "/config.json"));
    cfg["model_type"] = "mamba";
    cfg.erase("mixer_rms_eps");
    writeEdited(
        dir, plain, [](NamedTensors&) {}, cfg.dump());
    HfModel p(loadCheckpointFiles(plain));
    QVERIFY(maxDiff(p.layerOperator(0, tok), m.layerOperator(0, tok)) > 1e-2);
    // A non-positive eps is refused naming the field.
    const std::string msg = errorOf([&] {
      writeEdited(
          dir, plain + "2", [](NamedTensors&) {}, withField(readText(dir + "/config.json"), "mixer_rms_eps", "0"));
      Session::open(plain + "2");
    });
    QVERIFY2(contains(msg, "config.json") && contains(msg, "\"mixer_rms_eps\"") && contains(msg, "positive"),
             msg.c_str());
    // An unstable A_log names the folder, the layer and the channel.
    const std::string bad = tmp.path().toStdString() + "/unstable";
    writeEdited(
        dir, bad,
        [](NamedTensors& t) {
          for (auto& [n, x] : t.tensors)
            if (n == "backbone.layers.1.mixer.A_log") x = x.to(at::kFloat).index_put_({5, 2}, 1000.0);
        },
        readText(dir + "/config.json"));
    const std::string um = errorOf([&] { Session::open(bad)->curve(1, EssOptions()); });
    QVERIFY2(contains(um, bad + ": layer 1: ") && contains(um, "channel 5"), um.c_str());
  }

  // Qwen3: an RMSNorm of each query and key head before RoPE, head_dim 8 with 4 heads on
  // d_model 16 (head_dim defaults to 128 as Qwen3Config's when absent).
  void qwen3WrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/qwen3_torch";
    CheckpointFiles files = loadCheckpointFiles(dir);
    QCOMPARE(files.tensors.find("model.embed_tokens.weight")->scalar_type(), at::kBFloat16);
    HfModel m(files);
    QVERIFY(m.config().qkNorm);
    QCOMPARE(m.heads(), 4);
    QCOMPARE(m.valueChannels(), 8);
    QCOMPARE(m.config().numKvHeads, 2);
    QCOMPARE(m.mixerKind(), std::string("softmax_attention"));
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    // The per-head norm is applied before RoPE: every query head has the RMS of its weights' scale
    // at position 0 (no rotation there), i.e. rms(q / g) == 1 with g = q_norm.weight.
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    auto [q, k] = m.queriesKeys(0, tok);
    const at::Tensor g = weightsOf(dir, "model.").at("layers.0.self_attn.q_norm.weight");
    const at::Tensor unit = q.select(1, 0) / g;                                 // [H, d]
    QVERIFY(maxDiff(unit.pow(2).mean(-1), at::ones({4}, at::kDouble)) < 1e-4);  // eps 1e-6
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString(), cfg = readText(dir + "/config.json");
    std::string msg = errorOf([&] {
      nlohmann::json j = nlohmann::json::parse(cfg);
      j.erase("head_dim");
      writeEdited(
          dir, root + "/nohd", [](NamedTensors&) {}, j.dump());
      Session::open(root + "/nohd");
    });
    QVERIFY2(contains(msg, "'model.layers.0.self_attn.q_proj.weight'") && contains(msg, "[32, 16]") &&
                 contains(msg, "[512, 16]"),
             msg.c_str());
    msg = errorOf([&] {
      writeEdited(
          dir, root + "/nonorm",
          [](NamedTensors& t) {
            auto& l = t.tensors;
            l.erase(std::remove_if(l.begin(), l.end(), [](const auto& nt) { return contains(nt.first, "k_norm"); }),
                    l.end());
          },
          cfg);
      Session::open(root + "/nonorm");
    });
    QVERIFY2(contains(msg, "missing tensor 'model.layers.0.self_attn.k_norm.weight'"), msg.c_str());
    msg = errorOf([&] {
      writeEdited(
          dir, root + "/window", [](NamedTensors&) {}, withField(cfg, "use_sliding_window", "true"));
      Session::open(root + "/window");
    });
    QVERIFY2(contains(msg, "config.json") && contains(msg, "\"use_sliding_window\""), msg.c_str());
  }

  // Phi-3: qkv_proj rows [q; k; v] and gate_up_proj rows [gate; up], 6 of 8 dims of each head
  // rotated (partial_rotary_factor 0.75, as Phi-4-mini), a sliding window of 5 keys.
  void phi3WrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/phi3_torch";
    HfModel m(loadCheckpointFiles(dir));
    QVERIFY(m.config().fusedProjections);
    QCOMPARE(m.config().rotaryDim, 6);
    QCOMPARE(m.config().slidingWindow, 5);
    QCOMPARE(m.mixerKind(), std::string("sliding_window_attention"));
    QCOMPARE(m.heads(), 2);
    QCOMPARE(m.theoreticalStateSize(9), 5.0 * 16);
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    const at::Tensor T = m.layerOperator(1, tok);
    QCOMPARE(T.tril(-5).abs().max().item<double>(), 0.0);  // nothing older than w - 1 positions
    QVERIFY(T.tril(-4).abs().max().item<double>() > 1e-3);
    checkRowsSumToOne(T);
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString(), cfg = readText(dir + "/config.json");
    std::string msg = errorOf([&] {
      writeEdited(
          dir, root + "/qkv",
          [](NamedTensors& t) {
            for (auto& [n, x] : t.tensors)
              if (n == "model.layers.1.self_attn.qkv_proj.weight") x = at::zeros({24, 16});
          },
          cfg);
      Session::open(root + "/qkv");
    });
    QVERIFY2(contains(msg, "'model.layers.1.self_attn.qkv_proj.weight'") && contains(msg, "[24, 16]") &&
                 contains(msg, "[32, 16]"),
             msg.c_str());
    msg = errorOf([&] {
      writeEdited(
          dir, root + "/longrope", [](NamedTensors&) {},
          withField(cfg, "rope_scaling", R"({"type": "longrope", "short_factor": [1], "long_factor": [1]})"));
      Session::open(root + "/longrope");
    });
    QVERIFY2(contains(msg, "config.json") && contains(msg, "\"rope_scaling\"") && contains(msg, "longrope"),
             msg.c_str());
  }

  // Gemma 2: scaled embeddings, (1 + w) RMSNorms around both sublayers, soft-capped logits
  // scaled by query_pre_attn_scalar^-1/2, sliding-window layers 0 and 2 and a global layer 1.
  void gemma2WrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/gemma2_torch";
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.config().attnSoftcap, 2.0);
    QCOMPARE(m.config().queryPreAttnScalar, 16.0);
    QCOMPARE(m.mixerKind(0), std::string("sliding_window_attention"));
    QCOMPARE(m.mixerKind(1), std::string("softmax_attention"));
    QCOMPARE(m.mixerKind(2), std::string("sliding_window_attention"));
    QCOMPARE(m.theoreticalStateSizeSiso(0, 9), 4.0 * 16 / 8);
    QCOMPARE(m.theoreticalStateSizeSiso(1, 9), 9.0 * 16 / 8);
    QCOMPARE(m.tssFormula(1), std::string("s*(d_k+d_v) = s*(8+8), the cache of the KV head it reads (1 KV heads, "
                                          "each shared by 2 query heads)"));
    QVERIFY2(contains(m.description("g"), "3 layers: 2 of sliding_window_attention, 1 of softmax_attention"),
             m.description("g").c_str());
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    QCOMPARE(m.layerOperator(0, tok).tril(-4).abs().max().item<double>(), 0.0);
    QVERIFY(m.layerOperator(1, tok).tril(-4).abs().max().item<double>() > 1e-3);
    // The session lists each layer with its kind.
    auto session = Session::open(dir);
    QCOMPARE(session->info().layers[0].mixer, std::string("sliding_window_attention"));
    QCOMPARE(session->info().layers[1].mixer, std::string("softmax_attention"));
    // Soft-capping matters (null: none), and layer_types overrides the alternation.
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString(), cfg = readText(dir + "/config.json");
    writeEdited(
        dir, root + "/nocap", [](NamedTensors&) {}, withField(cfg, "attn_logit_softcapping", "null"));
    HfModel n(loadCheckpointFiles(root + "/nocap"));
    QCOMPARE(n.config().attnSoftcap, 0.0);
    QVERIFY(maxDiff(n.layerOperator(0, tok), m.layerOperator(0, tok)) > 1e-3);
    writeEdited(
        dir, root + "/types", [](NamedTensors&) {},
        withField(cfg, "layer_types", R"(["full_attention", "sliding_attention", "full_attention"])"));
    HfModel t(loadCheckpointFiles(root + "/types"));
    QCOMPARE(t.mixerKind(0), std::string("softmax_attention"));
    QCOMPARE(t.mixerKind(1), std::string("sliding_window_attention"));
    QCOMPARE(t.layerOperator(1, tok).tril(-4).abs().max().item<double>(), 0.0);
    std::string msg = errorOf([&] {
      writeEdited(
          dir, root + "/badtypes", [](NamedTensors&) {},
          withField(cfg, "layer_types", R"(["full_attention", "chunked_attention", "full_attention"])"));
      Session::open(root + "/badtypes");
    });
    QVERIFY2(contains(msg, "config.json") && contains(msg, "\"layer_types\"") && contains(msg, "chunked_attention"),
             msg.c_str());
    msg = errorOf([&] {
      writeEdited(
          dir, root + "/short", [](NamedTensors&) {}, withField(cfg, "layer_types", R"(["full_attention"])"));
      Session::open(root + "/short");
    });
    QVERIFY2(contains(msg, "\"layer_types\"") && contains(msg, "num_hidden_layers (3)"), msg.c_str());
    msg = errorOf([&] {
      writeEdited(
          dir, root + "/nonorm",
          [](NamedTensors& t) {
            auto& l = t.tensors;
            l.erase(std::remove_if(
                        l.begin(), l.end(),
                        [](const auto& nt) { return contains(nt.first, "layers.2.post_feedforward_layernorm"); }),
                    l.end());
          },
          cfg);
      Session::open(root + "/nonorm");
    });
    QVERIFY2(contains(msg, "missing tensor 'model.layers.2.post_feedforward_layernorm.weight'"), msg.c_str());
  }

  // Gemma 3 text: q/k norms per head, layers 0 and 1 sliding with the local RoPE base, layer 2
  // global with rope_theta and linear scaling; transformers 5's per-layer-type rope_parameters.
  void gemma3TextWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/gemma3_text_torch";
    HfModel m(loadCheckpointFiles(dir));
    QVERIFY(m.config().qkNorm);
    QCOMPARE(m.config().attnSoftcap, 0.0);
    QCOMPARE(m.config().ropeLocalTheta, 10.0);
    QCOMPARE(m.config().ropeScaling, std::string("linear"));
    QCOMPARE(m.mixerKind(0), std::string("sliding_window_attention"));
    QCOMPARE(m.mixerKind(1), std::string("sliding_window_attention"));
    QCOMPARE(m.mixerKind(2), std::string("softmax_attention"));
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString(), cfg = readText(dir + "/config.json");
    // The local base is used by the sliding layers only.
    writeEdited(
        dir, root + "/local", [](NamedTensors&) {}, withField(cfg, "rope_local_base_freq", "10000.0"));
    HfModel l(loadCheckpointFiles(root + "/local"));
    QVERIFY(maxDiff(l.layerOperator(0, tok), m.layerOperator(0, tok)) > 1e-3);
    QVERIFY(maxDiff(l.mixerInput(2, tok), m.mixerInput(2, tok)) > 1e-6);  // (earlier layers changed)
    // The same RoPE written as transformers 5 does.
    nlohmann::json j = nlohmann::json::parse(cfg);
    for (const char* k : {"rope_theta", "rope_scaling", "rope_local_base_freq"}) j.erase(k);
    j["rope_parameters"] = nlohmann::json::parse(
        R"({"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
            "sliding_attention": {"rope_type": "default", "rope_theta": 10.0}})");
    writeEdited(
        dir, root + "/v5", [](NamedTensors&) {}, j.dump());
    HfModel v5(loadCheckpointFiles(root + "/v5"));
    QCOMPARE(v5.config().ropeLocalTheta, 10.0);
    for (int i = 0; i < 3; ++i) QVERIFY(maxDiff(v5.layerOperator(i, tok), m.layerOperator(i, tok)) < 1e-12);
    j["rope_parameters"]["sliding_attention"]["rope_type"] = "yarn";
    const std::string msg = errorOf([&] {
      writeEdited(
          dir, root + "/v5bad", [](NamedTensors&) {}, j.dump());
      Session::open(root + "/v5bad");
    });
    QVERIFY2(contains(msg, "config.json") && contains(msg, "\"rope_parameters\"") && contains(msg, "yarn"),
             msg.c_str());
  }

  void sessionOnHfFolders() {
    QTemporaryDir tmp;
    const std::string g2 = tmp.path().toStdString() + "/gpt2", mb = tmp.path().toStdString() + "/mamba";
    Ckpt cg = makeGpt2(40, 16, 2, 24);
    cg.write(g2, gpt2Config(40, 16, 2, 2, 24));
    MambaShape s;
    s.R = 1;
    Ckpt cm = makeMamba(30, s, at::kBFloat16);
    cm.write(mb, mambaConfig(30, s));

    auto sg = Session::open(g2);
    const SourceInfo& info = sg->info();
    QCOMPARE(info.architecture, std::string("gpt2"));
    QVERIFY(info.needsInput);
    QCOMPARE(info.vocabSize, 40);
    QCOMPARE(info.maxLength, 24);
    QCOMPARE(int(info.layers.size()), 2);
    QCOMPARE(info.layers[1].mixer, std::string("softmax_attention"));
    QCOMPARE(info.layers[1].heads, 2);
    QCOMPARE(info.layers[1].valueChannels, 8);
    QCOMPARE(info.layers[1].tss, std::string("s*(d_k+d_v) = s*(8+8)"));
    QCOMPARE(int(sg->tokens().size()), 24);  // default input: random, at most the context
    sg->setInput("tokens:3,17,0,39,5,5,22,8,1,30,12");
    OperatorData op = sg->operatorOf(1);
    at::Tensor ref = refGpt2(cg.w, tokensOf({3, 17, 0, 39, 5, 5, 22, 8, 1, 30, 12}), 2, 2, 1e-5).operators[1];
    QCOMPARE(op.heads, 2);
    QCOMPARE(op.length, 11);
    QVERIFY(std::abs(op.at(1, 7, 3) - ref[1][7][3].item<double>()) < 1e-12);
    QCOMPARE(*sg->theoreticalStateSize(0, 0, 5, 11), 10.0);  // s*(8+8) / d_v 8 in SISO units
    EssOptions o;
    CurveData cd = sg->curve(0, o);
    QCOMPARE(int(cd.splits.size()), 10);
    QCOMPARE(cd.tss[0][4], 2.0 * cd.splits[4]);
    QVERIFY(cd.tolerance[0][4] >= 1 && cd.tolerance[0][4] <= std::min(cd.splits[4], 11 - cd.splits[4]));
    // Inputs the model cannot take.
    QVERIFY(contains(errorOf([&] { sg->setInput("tokens:1,40"); }), "40"));
    QVERIFY(contains(errorOf([&] { sg->setInput("random:seed=1,len=25"); }), "24"));
    QVERIFY(contains(errorOf<InputError>([&] { sg->setInput("text:hello"); }), "tokenizer.json"));
    QCOMPARE(sg->input(), std::string("tokens:3,17,0,39,5,5,22,8,1,30,12"));  // unchanged
    QVERIFY(contains(errorOf<UsageError>([&] { sg->operatorOf(2); }), "--layer 2"));

    // Mamba: per-channel operators, structured curve == dense curve, TSS N.
    auto sm = Session::open(mb);
    QCOMPARE(sm->info().architecture, std::string("mamba"));
    QCOMPARE(sm->info().layers[0].mixer, std::string("mamba"));
    QCOMPARE(sm->info().layers[0].heads, 16);
    QCOMPARE(sm->info().layers[0].valueChannels, 1);
    QCOMPARE(sm->info().maxLength, 0);
    sm->setInput("random:seed=3,len=20");
    QCOMPARE(*sm->theoreticalStateSize(1, 0, 7, 20), 4.0);
    EssOptions dense;
    dense.algorithm(Algorithm::Dense);
    CurveData structured = sm->curve(1, o), full = sm->curve(1, dense);
    QCOMPARE(structured.splits, full.splits);
    for (int h = 0; h < 16; ++h)
      for (size_t i = 0; i < full.splits.size(); ++i) {
        QCOMPARE(structured.tolerance[h][i], full.tolerance[h][i]);
        QVERIFY(std::abs(structured.entropy[h][i] - full.entropy[h][i]) < 1e-6 * full.entropy[h][i] + 1e-9);
        QVERIFY(full.tolerance[h][i] <= 4);
      }
    // The curve, tile and spectrum above read the rows the channels share; the generators they
    // stand for give the same curve, value for value (the batched engine forms the same products).
    const EssCurve fromGenerators = computeStructuredEss(layerGenerators(*sm, 1), o);
    QVERIFY(fromGenerators.tolerance == structured.tolerance && fromGenerators.entropy == structured.entropy);
    auto fresh = Session::open(mb);  // no dense operator at hand: tiles and spectra from the rows
    fresh->setInput("random:seed=3,len=20");
    const std::vector<double> sigma = fresh->spectrum(1, 3, 7, o);
    OperatorTile tile = fresh->operatorTile(1, 3, TileRequest{});
    OperatorData mop = sm->operatorOf(1);
    QVERIFY(std::abs(tile.at(9, 4) - mop.at(3, 9, 4)) < 1e-12);
    QVERIFY(std::abs(tile.at(6, 6) - mop.at(3, 6, 6)) < 1e-12);  // the diagonal holds D
    const std::vector<double> sigmaDense = sm->spectrum(1, 3, 7, dense);
    QCOMPARE(sigma.size(), sigmaDense.size());
    for (size_t i = 0; i < sigma.size(); ++i) QVERIFY(std::abs(sigma[i] - sigmaDense[i]) < 1e-10 * sigmaDense[0]);
  }

  void badCheckpoints() {
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    Ckpt c = makeGpt2(40, 16, 2, 24);

    // Unknown model_type: names config.json and lists the supported types.
    c.write(root + "/unknown", "{\"model_type\": \"falcon\", \"vocab_size\": 40}");
    std::string msg = errorOf([&] { Session::open(root + "/unknown"); });
    QVERIFY2(
        contains(msg, "config.json") && contains(msg, "falcon") && contains(msg, "gpt2, llama, mistral, qwen2, mamba"),
        msg.c_str());

    // A tensor whose shape disagrees with the config: the file, the tensor, both shapes.
    Ckpt bad = c;
    for (auto& [n, t] : bad.tensors.tensors)
      if (n == "h.1.attn.c_attn.weight") t = at::zeros({16, 40});
    bad.write(root + "/shape", gpt2Config(40, 16, 2, 2, 24));
    msg = errorOf([&] { Session::open(root + "/shape"); });
    QVERIFY2(contains(msg, "model.safetensors") && contains(msg, "'h.1.attn.c_attn.weight'") &&
                 contains(msg, "[16, 40]") && contains(msg, "[16, 48]"),
             msg.c_str());

    // A missing tensor is named.
    Ckpt missing = c;
    missing.tensors.tensors.erase(missing.tensors.tensors.begin() + 5);
    const std::string gone = c.tensors.tensors[5].first;
    missing.write(root + "/missing", gpt2Config(40, 16, 2, 2, 24));
    msg = errorOf([&] { Session::open(root + "/missing"); });
    QVERIFY2(contains(msg, "missing tensor '" + gone + "'"), msg.c_str());

    // A sharded checkpoint whose index names an absent shard: the shard is named.
    const std::string sh = root + "/sharded";
    std::filesystem::create_directories(sh);
    NamedTensors first, second;
    for (size_t i = 0; i < c.tensors.tensors.size(); ++i)
      (i < 10 ? first : second).add(c.tensors.tensors[i].first, c.tensors.tensors[i].second);
    writeSafetensors(sh + "/model-00001-of-00002.safetensors", first);
    std::string index = "{\"metadata\": {}, \"weight_map\": {";
    for (size_t i = 0; i < c.tensors.tensors.size(); ++i)
      index += std::string(i ? ", " : "") + "\"" + c.tensors.tensors[i].first + "\": \"model-0000" +
               (i < 10 ? "1" : "2") + "-of-00002.safetensors\"";
    std::ofstream(sh + "/model.safetensors.index.json") << index << "}}";
    std::ofstream(sh + "/config.json") << gpt2Config(40, 16, 2, 2, 24);
    msg = errorOf([&] { Session::open(sh); });
    QVERIFY2(contains(msg, "model-00002-of-00002.safetensors"), msg.c_str());
    // With the shard present it opens, and a shape error names the shard that holds the tensor.
    for (auto& [n, t] : second.tensors)
      if (n == "h.1.ln_2.bias") t = at::zeros({15});
    writeSafetensors(sh + "/model-00002-of-00002.safetensors", second);
    msg = errorOf([&] { Session::open(sh); });
    QVERIFY2(contains(msg, "model-00002-of-00002.safetensors") && contains(msg, "'h.1.ln_2.bias'") &&
                 contains(msg, "[15]") && contains(msg, "[16]"),
             msg.c_str());

    // Config fields: an unsupported rope_scaling type, GQA heads that do not divide.
    LlamaShape s;
    s.layers = 1;
    Ckpt l = makeLlama(16, 16, s, 16, at::kFloat, "");
    l.write(root + "/yarn",
            llamaConfig("llama", 16, 16, s, 16, 64, ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}"));
    msg = errorOf([&] { Session::open(root + "/yarn"); });
    QVERIFY2(contains(msg, "config.json") && contains(msg, "rope_scaling") && contains(msg, "yarn"), msg.c_str());
    s.KV = 3;
    l.write(root + "/kv", llamaConfig("llama", 16, 16, s, 16, 64));
    msg = errorOf([&] { Session::open(root + "/kv"); });
    QVERIFY2(contains(msg, "num_key_value_heads"), msg.c_str());
    MambaShape ms;
    ms.R = 1;
    std::string mcfg = mambaConfig(30, ms);
    mcfg.insert(mcfg.size() - 1, ", \"intermediate_size\": 24");
    makeMamba(30, ms, at::kFloat).write(root + "/mamba", mcfg);
    msg = errorOf([&] { Session::open(root + "/mamba"); });
    QVERIFY2(contains(msg, "config.json") && contains(msg, "intermediate_size") && contains(msg, "16"), msg.c_str());

    // NaN weights: the folder and the weight are named when a layer first uses it.
    Ckpt nan = c;
    for (auto& [n, t] : nan.tensors.tensors)
      if (n == "h.0.attn.c_attn.weight") t.index_put_({3, 5}, std::nan(""));
    nan.write(root + "/nan", gpt2Config(40, 16, 2, 2, 24));
    msg = errorOf([&] { Session::open(root + "/nan")->curve(1, EssOptions()); });
    QVERIFY2(contains(msg, root + "/nan") && contains(msg, "h.0.attn.c_attn.weight") && contains(msg, "NaN"),
             msg.c_str());
    // Mamba: an Inf A_log is named; an unstable but finite one (a decay that is not in [0, 1))
    // names the folder and the layer.
    ms = MambaShape();
    Ckpt inf = makeMamba(30, ms, at::kFloat);
    for (auto& [n, t] : inf.tensors.tensors)
      if (n == inf.prefix + "layers.1.mixer.A_log") t.index_put_({2, 1}, std::numeric_limits<double>::infinity());
    inf.write(root + "/mamba_inf", mambaConfig(30, ms));
    msg = errorOf([&] { Session::open(root + "/mamba_inf")->curve(1, EssOptions()); });
    QVERIFY2(contains(msg, "layers.1.mixer.A_log") && contains(msg, "NaN or Inf"), msg.c_str());
    Ckpt grow = makeMamba(30, ms, at::kFloat);
    for (auto& [n, t] : grow.tensors.tensors)
      if (n == grow.prefix + "layers.0.mixer.A_log") t.index_put_({4, 0}, 1000.0);  // finite, but A = -exp(1000) is not
    grow.write(root + "/mamba_unstable", mambaConfig(30, ms));
    msg = errorOf([&] { Session::open(root + "/mamba_unstable")->curve(0, EssOptions()); });
    QVERIFY2(contains(msg, root + "/mamba_unstable: layer 0: ") && contains(msg, "channel 4"), msg.c_str());
  }

  // Inputs whose float64 forward pass exceeds the memory budget are refused before running,
  // with the longest input that fits; that one is accepted.
  void forwardPassMemoryBudget() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/mamba";
    MambaShape ms;
    makeMamba(30, ms, at::kFloat).write(dir, mambaConfig(30, ms));
    auto session = Session::open(dir);
    const std::string before = session->input();
    session->setMemoryBudget(size_t(1) << 20);  // 1 MiB
    const std::string msg = errorOf([&] { session->setInput("random:seed=1,len=100000"); });
    QVERIFY2(contains(msg, "100000 tokens") && contains(msg, "memory budget") && contains(msg, "at most"), msg.c_str());
    QCOMPARE(session->input(), before);  // unchanged
    const size_t at = msg.find("at most ") + 8;
    const long fits = std::stol(msg.substr(at));
    HfModel m(loadCheckpointFiles(dir));
    QVERIFY(m.forwardBytes(fits) <= double(1 << 20) && m.forwardBytes(fits + 1) > double(1 << 20));
    session->setInput("random:seed=1,len=" + std::to_string(fits));
    QCOMPARE(long(session->tokens().size()), fits);

    // Opened under a small budget, the opening input is shortened to fit and a short input
    // of the user's runs (the budget applies to the input asked for, not the default one).
    auto small = Session::open(dir, size_t(1) << 16);
    QVERIFY(m.forwardBytes(long(small->tokens().size())) <= double(1 << 16));
    small->setInput("tokens:1,2,3");
    QCOMPARE(small->tokens(), (std::vector<long>{1, 2, 3}));
    auto none = Session::open(dir, 1);
    QVERIFY(contains(errorOf([&] { none->setInput("tokens:1,2,3"); }), "not even 2 tokens fit"));
  }

  // Weights opened on demand (as sessions open them) are read per layer and released after it:
  // a layer-by-layer sweep of a sharded bf16 model holds at most one layer's float64 weights,
  // gives the operators of the weights read whole, and runs under a memory budget smaller than
  // all its float64 weights together; over the budget, the refusal names the largest part.
  void layerSweepHoldsOneLayerOfWeights() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/llama";
    LlamaShape s;
    s.layers = 6;
    const int V = 48, D = 16, I = 96;
    Ckpt c = makeLlama(V, D, s, I, at::kBFloat16, "model.");
    // Two shards with an index, as Hugging Face writes large models.
    std::filesystem::create_directories(dir);
    NamedTensors shard[2];
    nlohmann::json index;
    for (const auto& [name, t] : c.tensors.tensors) {
      const int k = name.rfind("model.layers.", 0) == 0 && std::stoi(name.substr(13)) >= 3 ? 1 : 0;
      shard[k].add(name, t);
      index["weight_map"][name] = "model-0000" + std::to_string(k + 1) + "-of-00002.safetensors";
    }
    for (int k = 0; k < 2; ++k)
      writeSafetensors(dir + "/model-0000" + std::to_string(k + 1) + "-of-00002.safetensors", shard[k]);
    std::ofstream(dir + "/model.safetensors.index.json") << index.dump();
    std::ofstream(dir + "/config.json") << llamaConfig("llama", V, D, s, I, 64);

    const CheckpointFiles lazy = loadCheckpointFiles(dir, TensorLoading::OnDemand);
    QCOMPARE(lazy.onDemand.size(), c.tensors.tensors.size());
    QVERIFY(lazy.tensors.find("model.layers.0.mlp.up_proj.weight")->is_meta());  // no values held
    HfModel whole(loadCheckpointFiles(dir)), onDemand(lazy);
    // norms 2 D, q and o H d D each, k and v KV d D each, MLP 3 I D; float64.
    const double perLayer = 8.0 * (2 * D + 2 * s.H * s.d * D + 2 * s.KV * s.d * D + 3 * I * D);
    double all = 0;
    for (int l = 0; l < s.layers; ++l) {
      QCOMPARE(onDemand.layerWeightBytes(l), perLayer);
      all += onDemand.layerWeightBytes(l);
    }
    const at::Tensor tok = tokensOf({5, 47, 0, 12, 12, 30, 8, 2, 44, 19, 7, 3, 21});
    std::vector<at::Tensor> expected;
    for (int l = 0; l < s.layers; ++l) expected.push_back(whole.layerOperator(l, tok));
    checkAgainst(whole, refLlama(c.w, tok, s), tok, 1e-10);

    const int64_t before = hfWeightCopyBytes().held;
    resetHfWeightCopyPeak();
    for (int l = 0; l < s.layers; ++l) QCOMPARE(maxDiff(onDemand.layerOperator(l, tok), expected[size_t(l)]), 0.0);
    const int64_t peak = hfWeightCopyBytes().peak - before;
    QVERIFY2(peak > 0 && double(peak) <= perLayer, std::to_string(peak).c_str());
    QVERIFY(double(peak) * 3 < all);
    QCOMPARE(hfWeightCopyBytes().held, before);  // every copy released

    // A session sweeping every layer's curve under a budget below all float64 weights.
    const double need = onDemand.forwardBytes(long(tok.size(0)));
    QVERIFY(need < all);
    auto session = Session::open(dir, size_t(need) + 1);
    session->setInput("tokens:5,47,0,12,12,30,8,2,44,19,7,3,21");
    for (int l = 0; l < s.layers; ++l) QCOMPARE(session->curve(l, EssOptions()).tolerance.size(), size_t(s.H));

    // The session's caches keep under a quarter of the budget: sweeping longer operators lets
    // the first layers' go and keeps the latest (here one: half the budget would keep three).
    const size_t budget = size_t(onDemand.forwardBytes(60)) + 1;
    auto longer = Session::open(dir, budget);
    longer->setInput("random:seed=3,len=60");
    for (int l = 0; l < s.layers; ++l) (void)longer->operatorOf(l);
    const double operatorBytes = 8.0 * s.H * 60 * 60;
    QVERIFY(6.0 * operatorBytes > double(budget) / 2);  // not all six fit
    QVERIFY(operatorBytes > double(budget) / 8 && 3 * operatorBytes < double(budget) / 2);
    resetHfWeightCopyPeak();
    (void)longer->operatorOf(s.layers - 1);  // kept: no weight read
    QCOMPARE(hfWeightCopyBytes().peak, before);
    (void)longer->operatorOf(s.layers - 2);  // let go: formed again from the weights
    QVERIFY(hfWeightCopyBytes().peak > before);
    resetHfWeightCopyPeak();
    (void)longer->operatorOf(0);
    QVERIFY(hfWeightCopyBytes().peak > before);

    // Over the budget: refused before any work, naming the largest part and what fits.
    const LanguageModel::ForwardMemory parts = onDemand.forwardMemory(4);
    QCOMPARE(parts.layerWeights, perLayer);
    QVERIFY(parts.layerWeights > parts.activations && parts.layerWeights > parts.mixer);
    session->setMemoryBudget(size_t(parts.total()) - 1);
    resetHfWeightCopyPeak();
    const std::string msg = errorOf([&] { session->setInput("tokens:1,2,3,4"); });
    QVERIFY2(contains(msg, "4 tokens need about") && contains(msg, "over the memory budget") &&
                 contains(msg, "at most 3 tokens fit") &&
                 contains(msg, "the largest part is the weights of one layer in float64 (") &&
                 contains(msg, "GiB fits this input"),
             msg.c_str());
    // Opened under a budget below one layer's weights: the opening input is refused when a
    // layer is first computed, before any weight is read.
    auto tight = Session::open(dir, size_t(perLayer / 2));
    const std::string later = errorOf([&] { tight->operatorOf(0); });
    QVERIFY2(contains(later, "2 tokens need about") && contains(later, "not even 2 tokens fit") &&
                 contains(later, "the largest part is the weights of one layer in float64"),
             later.c_str());
    QCOMPARE(hfWeightCopyBytes().peak, before);  // nothing was read for them
  }

  // Weights read on demand come from the file as it was opened: a shard rewritten since gives
  // the "changed on disk" error naming it, not values of the new file.
  void onDemandWeightsNoticeAChangedFile() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/llama";
    LlamaShape s;
    Ckpt c = makeLlama(48, 16, s, 24, at::kBFloat16, "model.");
    c.write(dir, llamaConfig("llama", 48, 16, s, 24, 64));
    HfModel m(loadCheckpointFiles(dir, TensorLoading::OnDemand));
    const at::Tensor tok = tokensOf({5, 47, 0, 12});
    (void)m.layerOperator(0, tok);
    std::filesystem::resize_file(dir + "/model.safetensors",
                                 std::filesystem::file_size(dir + "/model.safetensors") - 8);
    const std::string msg = errorOf([&] { m.layerOperator(1, tok); });
    QVERIFY2(contains(msg, dir + "/model.safetensors: the file changed on disk since it was opened (it was rewritten"),
             msg.c_str());
  }

  // A layer computation reads each tensor it uses once (issue 16): GPT-2's block reads c_attn for
  // the attention and again for the values, and the public mixerInput and operator read ln_1;
  // the copies are kept for the layer and released with it, and the values are those of the
  // weights read whole.
  void layerComputationsReadEachTensorOnce() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/gpt2";
    const int V = 40, D = 16, layers = 3, P = 24;
    Ckpt c = makeGpt2(V, D, layers, P, at::kBFloat16);
    c.write(dir, gpt2Config(V, D, 2, layers, P));
    HfModel whole(loadCheckpointFiles(dir)), onDemand(loadCheckpointFiles(dir, TensorLoading::OnDemand));
    const at::Tensor tok = tokensOf({3, 17, 0, 39, 5, 5, 22, 8, 1, 30, 12});
    const int64_t held = hfWeightCopyBytes().held;

    resetHfWeightReads();
    QCOMPARE(maxDiff(onDemand.layerOperator(2, tok), whole.layerOperator(2, tok)), 0.0);
    HfWeightReads r = hfWeightReads();
    // Blocks 0 and 1 whole (12 tensors each), layer 2's ln_1 and c_attn (weight and bias).
    std::map<std::string, int> expected;
    for (int i = 0; i < 2; ++i)
      for (const char* n : {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                            "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias",
                            "mlp.c_proj.weight", "mlp.c_proj.bias"})
        expected["h." + std::to_string(i) + "." + n] = 1;
    for (const char* n : {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias"})
      expected[std::string("h.2.") + n] = 1;
    QCOMPARE(r.whole, expected);
    QCOMPARE(hfWeightCopyBytes().held, held);  // released with the layer

    // The same layer again: its blocks' outputs are cached, its own tensors read once more.
    resetHfWeightReads();
    QCOMPARE(maxDiff(onDemand.mixerInput(2, tok), whole.mixerInput(2, tok)), 0.0);
    r = hfWeightReads();
    QCOMPARE(r.whole, (std::map<std::string, int>{{"h.2.ln_1.bias", 1}, {"h.2.ln_1.weight", 1}}));
    QCOMPARE(r.bytes, int64_t(2 * D * 2));
    QCOMPARE(maxDiff(onDemand.hiddenState(3, tok), whole.hiddenState(3, tok)), 0.0);
    QCOMPARE(hfWeightCopyBytes().held, held);
  }

  // The token embedding is read by rows: only the input's distinct rows (bf16, 2 bytes a value),
  // with the values of the matrix read whole; the LM head (tied or not) is never read; a file
  // reader's rows come back in the order asked, repeats included.
  void embeddingRowsReadOnDemand() {
    QTemporaryDir tmp;
    const std::string dir = tmp.path().toStdString() + "/llama";
    LlamaShape s;
    s.layers = 2;
    const int V = 48, D = 16, I = 24;
    Ckpt c = makeLlama(V, D, s, I, at::kBFloat16, "model.");
    c.tensors.add("lm_head.weight", c.rnd({V, D}).to(at::kBFloat16));
    c.write(dir, llamaConfig("llama", V, D, s, I, 64));
    HfModel whole(loadCheckpointFiles(dir)), onDemand(loadCheckpointFiles(dir, TensorLoading::OnDemand));
    const at::Tensor tok = tokensOf({5, 47, 0, 12, 12, 30, 8, 2, 44, 19, 7, 3, 21, 13, 5});  // 13 distinct
    resetHfWeightReads();
    const at::Tensor h0 = onDemand.hiddenState(0, tok);
    QCOMPARE(maxDiff(h0, whole.hiddenState(0, tok)), 0.0);
    QCOMPARE(maxDiff(h0, c.w.at("embed_tokens.weight").index_select(0, tok)), 0.0);
    HfWeightReads r = hfWeightReads();
    QCOMPARE(r.rowBytes, (std::map<std::string, int64_t>{{"model.embed_tokens.weight", 13 * D * 2}}));
    QVERIFY(r.whole.empty());
    QCOMPARE(r.bytes, int64_t(13 * D * 2));
    resetHfWeightReads();
    for (int l = 0; l < s.layers; ++l) (void)onDemand.layerOperator(l, tok);
    (void)onDemand.hiddenState(s.layers, tok);
    r = hfWeightReads();
    QCOMPARE(r.whole.count("lm_head.weight"), size_t(0));
    QCOMPARE(r.whole.count("model.embed_tokens.weight"), size_t(0));
    QVERIFY(r.rowBytes.empty());  // the embedded input is kept
    QCOMPARE(onDemand.forwardMemory(64).layerWeights, onDemand.layerWeightBytes(0));

    const SafetensorsFile f(dir + "/model.safetensors");
    const at::Tensor rows = toTensor(f.readRows("model.embed_tokens.weight", {47, 0, 1, 2, 47, 46}));
    QCOMPARE(rows.sizes().vec(), (std::vector<int64_t>{6, D}));
    QCOMPARE(
        maxDiff(rows.to(at::kDouble), c.w.at("embed_tokens.weight").index_select(0, tokensOf({47, 0, 1, 2, 47, 46}))),
        0.0);
    QCOMPARE(toTensor(f.readRows("model.embed_tokens.weight", {})).size(0), int64_t(0));
    bool outOfRange = false;
    try {
      (void)f.readRows("model.embed_tokens.weight", {3, 48});
    } catch (const std::out_of_range& e) {
      outOfRange = contains(e.what(), "row 48 of tensor 'model.embed_tokens.weight' is outside 0..47");
    }
    QVERIFY(outOfRange);
  }

  // The default memory budget (half the machine's memory) lets a Llama-3-8B-shaped model's
  // float64 forward pass at 512 tokens run on a 24 GiB machine, which the old default of 2 GiB
  // refused; its shapes only (meta tensors, no values).
  void defaultBudgetFitsLlama3_8BAt512Tokens() {
    LlamaShape s;
    s.layers = 32;
    s.H = 32;
    s.KV = 8;
    s.d = 128;
    s.theta = 500000;
    const int64_t V = 128256, D = 4096, I = 14336, Hd = s.H * s.d, KVd = s.KV * s.d;
    CheckpointFiles f;
    f.path = "/nonexistent/llama3-8b";
    f.configJson = llamaConfig("llama", int(V), int(D), s, int(I), 8192);
    const auto meta = [](std::vector<int64_t> shape) {
      return at::empty(shape, at::TensorOptions().dtype(at::kBFloat16).device(at::kMeta));
    };
    f.tensors.add("model.embed_tokens.weight", meta({V, D}));
    for (int i = 0; i < s.layers; ++i) {
      const std::string b = "model.layers." + std::to_string(i) + ".";
      for (const auto& [n, shape] :
           std::vector<std::pair<std::string, std::vector<int64_t>>>{{"input_layernorm.weight", {D}},
                                                                     {"self_attn.q_proj.weight", {Hd, D}},
                                                                     {"self_attn.k_proj.weight", {KVd, D}},
                                                                     {"self_attn.v_proj.weight", {KVd, D}},
                                                                     {"self_attn.o_proj.weight", {D, Hd}},
                                                                     {"post_attention_layernorm.weight", {D}},
                                                                     {"mlp.gate_proj.weight", {I, D}},
                                                                     {"mlp.up_proj.weight", {I, D}},
                                                                     {"mlp.down_proj.weight", {D, I}}})
        f.tensors.add(b + n, meta(shape));
    }
    f.tensors.add("model.norm.weight", meta({D}));
    HfModel m(f);
    const LanguageModel::ForwardMemory parts = m.forwardMemory(512);
    QCOMPARE(parts.layerWeights, 8.0 * double(2 * D + 2 * Hd * D + 2 * KVd * D + 3 * I * D));  // 1.63 GiB
    const double GiB = double(1ull << 30);
    QVERIFY2(parts.total() > 2 * GiB && parts.total() < 4 * GiB, std::to_string(parts.total() / GiB).c_str());
    QVERIFY(parts.total() < double(defaultMemoryBudgetFor(uint64_t(24) << 30)));
    QVERIFY(m.forwardBytes(2048) < double(defaultMemoryBudgetFor(uint64_t(24) << 30)));
  }

  // Mamba-2: 4 heads of head_dim 8 on 2 groups of B, C, one decay per head, dt clamped by
  // time_step_limit, the gated RMSNorm's factor folded into the operator rows; operators,
  // generators, residual streams and the mixer's own outputs against PyTorch's float64 values.
  void mamba2WrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/mamba2_torch";
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.mixerKind(), std::string("mamba2"));
    QVERIFY(m.isMamba());
    QCOMPARE(m.config().numHeads, 4);
    QCOMPARE(m.config().numGroups, 2);
    QCOMPARE(m.config().dtMax, 0.12);
    QCOMPARE(m.heads(), 32);
    QCOMPARE(m.valueChannels(), 1);
    QCOMPARE(m.theoreticalStateSize(3), 4.0);
    QVERIFY(contains(m.description("m2"), "32 channels each"));
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const NamedTensors e = readTensorFile(dir + "/expected.pt");
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    for (int i = 0; i < 2; ++i) {
      const at::Tensor& T = *e.find("operator." + std::to_string(i));
      QVERIFY(T.tril(-5).abs().max().item<double>() > 1e-2);  // the scan carries earlier inputs
      Generators g = m.layerGenerators(i, tok);
      QCOMPARE(g.heads(), 32);
      QCOMPARE(g.stateSize(), 4);
      QVERIFY(g.perHeadDecay());
      QVERIFY(maxDiff(materializeGenerators(g, "g"), T) < 1e-10);
    }
    // The clamp matters: without time_step_limit the operators differ.
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    const std::string cfg = readText(dir + "/config.json");
    nlohmann::json free = nlohmann::json::parse(cfg);
    free.erase("time_step_limit");
    writeEdited(
        dir, root + "/free", [](NamedTensors&) {}, free.dump());
    HfModel f(loadCheckpointFiles(root + "/free"));
    QVERIFY(std::isinf(f.config().dtMax));
    QVERIFY(maxDiff(f.layerOperator(0, tok), m.layerOperator(0, tok)) > 1e-3);
    // An infinite bound as Python's json.dumps writes it, or as transformers 5 does, clamps nothing.
    std::string pyInf = cfg;
    QVERIFY(pyInf.find("0.12") != std::string::npos);
    pyInf.replace(pyInf.find("0.12"), 4, "Infinity");
    for (const std::string& text : {pyInf, withField(cfg, "time_step_limit", R"([0.0, {"__float__": "Infinity"}])")}) {
      writeEdited(
          dir, root + "/inf", [](NamedTensors&) {}, text);
      HfModel i(loadCheckpointFiles(root + "/inf"));
      QVERIFY(std::isinf(i.config().dtMax));
      QVERIFY(maxDiff(i.layerOperator(0, tok), f.layerOperator(0, tok)) < 1e-14);
    }
    // Bad config fields are refused naming config.json and the field.
    const auto fieldError = [&](const std::string& key, const std::string& value) {
      return errorOf([&] {
        const std::string d = root + "/" + key;
        writeEdited(
            dir, d, [](NamedTensors&) {}, withField(cfg, key, value));
        Session::open(d);
      });
    };
    for (const auto& [key, value, what] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"num_heads", "3", "must equal expand * hidden_size = 32"},
             {"n_groups", "3", "must divide num_heads = 4"},
             {"time_step_limit", "[0.2, 0.1]", "0 <= min < max"},
             {"time_step_limit", "0.1", "must be [min, max]"},
             {"time_step_limit", "[0.0, \"big\"]", "of numbers"},
             {"use_bias", "true", "not supported"},
             {"hidden_act", "\"gelu\"", "uses silu"}}) {
      const std::string msg = fieldError(key, value);
      QVERIFY2(contains(msg, "config.json") && contains(msg, "\"" + key + "\"") && contains(msg, what), msg.c_str());
    }
    // Shapes that disagree with the config name the tensor: one group where the file has two.
    const std::string shape = fieldError("n_groups", "1");
    QVERIFY2(contains(shape, "backbone.layers.0.mixer.in_proj.weight") && contains(shape, "has shape [84, 16]") &&
                 contains(shape, "implies [76, 16]"),
             shape.c_str());
    // An unstable A_log names the folder, the layer and the head.
    const std::string bad = root + "/unstable";
    writeEdited(
        dir, bad,
        [](NamedTensors& t) {
          for (auto& [n, x] : t.tensors)
            if (n == "backbone.layers.1.mixer.A_log") x = x.index_put_({2}, 1000.0);
        },
        cfg);
    const std::string um = errorOf([&] { Session::open(bad)->curve(1, EssOptions()); });
    QVERIFY2(contains(um, bad + ": layer 1: ") && contains(um, "head 2"), um.c_str());
  }
  // flash-linear-attention GLA (4 heads on 2 key/value heads, short convolutions, a decay per key
  // channel) and RetNet (RoPE, a fixed decay per head, d_v = 2 d_k): operators per value channel
  // with the gated RMSNorm's row factor, generators, residual streams and the layer's own
  // outputs against PyTorch's float64 values; fields this build does not compute are refused.
  void flaLinearAttentionWrittenByPyTorch() {
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    for (const std::string type : {"gla", "retnet"}) {
      const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/" + type + "_torch";
      HfModel m(loadCheckpointFiles(dir));
      const bool gla = type == "gla";
      QCOMPARE(m.mixerKind(), type);
      QCOMPARE(m.config().numKvHeads, gla ? 2 : 2);
      QCOMPARE(m.config().headDim, 4);
      QCOMPARE(m.config().valueHeadDim, gla ? 4 : 8);
      QCOMPARE(m.config().shortConv, gla);
      QCOMPARE(m.heads(), 16);  // H * d_v value channels
      QCOMPARE(m.valueChannels(), 1);
      QCOMPARE(m.theoreticalStateSize(5), 4.0);  // d_k per value channel
      QVERIFY(contains(m.description("f"), "16 channels each"));
      checkPyTorchExpected(m, dir, true);
      checkMixerOutputs(m, dir);
      const NamedTensors e = readTensorFile(dir + "/expected.pt");
      for (int i = 0; i < 2; ++i) {
        const at::Tensor& T = *e.find("operator." + std::to_string(i));
        QVERIFY(T.tril(-5).abs().max().item<double>() > 1e-3);  // the state carries earlier inputs
        const Generators g = m.layerGenerators(i, tok);
        QCOMPARE(g.heads(), 16);
        QCOMPARE(g.stateSize(), 4);
        QCOMPARE(g.perHeadDecay(), !gla);
        QVERIFY(maxDiff(materializeGenerators(g, "g"), T) < 1e-10);
      }
      const std::string cfg = readText(dir + "/config.json");
      const auto fieldError = [&](const std::string& key, const std::string& value) {
        return errorOf([&] {
          const std::string d = root + "/" + type + key;
          writeEdited(
              dir, d, [](NamedTensors&) {}, withField(cfg, key, value));
          Session::open(d);
        });
      };
      for (const auto& [key, value, what] : std::vector<std::tuple<std::string, std::string, std::string>>{
               {"feature_map", "\"elu\"", "supported: relu"},
               {"attn", R"({"layers": [1], "num_heads": 2})", "hybrid softmax-attention layers"},
               {"hidden_act", "\"gelu\"", "use swish"},
               {"num_kv_heads", "3", "must divide num_heads (" + std::to_string(gla ? 4 : 2) + ")"},
               {"expand_k", "0.45", "not a multiple of num_heads"}}) {
        const std::string msg = fieldError(key, value);
        QVERIFY2(contains(msg, "config.json") && contains(msg, "\"" + key + "\"") && contains(msg, what), msg.c_str());
      }
      // A tensor of the wrong shape for the config names the tensor and both shapes.
      const std::string shape = fieldError("expand_v", gla ? "2.0" : "1.0");
      QVERIFY2(contains(shape, "model.layers.0.attn.v_proj.weight") && contains(shape, "has shape") &&
                   contains(shape, "implies"),
               shape.c_str());
    }
    // GLA's options change the operator: without its short convolutions the file's tensors do
    // not fit; a clamp of the log decays and a feature map each change T.
    const std::string gdir = std::string(ESS_TEST_DATA_DIR) + "/hf/gla_torch";
    const std::string gcfg = readText(gdir + "/config.json");
    HfModel base(loadCheckpointFiles(gdir));
    for (const auto& [key, value] :
         std::vector<std::pair<std::string, std::string>>{{"clamp_min", "-0.02"}, {"feature_map", "\"relu\""}}) {
      const std::string d = root + "/opt_" + key;
      writeEdited(
          gdir, d, [](NamedTensors&) {}, withField(gcfg, key, value));
      HfModel v(loadCheckpointFiles(d));
      QVERIFY2(maxDiff(v.layerOperator(0, tok), base.layerOperator(0, tok)) > 1e-3, key.c_str());
    }
    const std::string noConv = errorOf([&] {
      writeEdited(
          gdir, root + "/noconv",
          [](NamedTensors& t) {
            NamedTensors kept;
            for (auto& [n, x] : t.tensors)
              if (n.find("conv1d") == std::string::npos) kept.add(n, x);
            t = kept;
          },
          gcfg);
      Session::open(root + "/noconv");
    });
    QVERIFY2(contains(noConv, "model.layers.0.attn.q_conv1d.weight"), noConv.c_str());
  }
  // flash-linear-attention DeltaNet (2 heads, d_k = d_v = 8, L2-normalized q and k) and Gated
  // DeltaNet (4 value heads on 2 query/key heads, a decay per value head, output gate): the
  // delta rule's exact operator per value channel (dense, no generator form) against PyTorch's
  // matrix products of the transitions, y == T(u) u, residual streams; config variants change
  // the operator; unsupported values and missing tensors are refused by name.
  void deltaRuleWrittenByPyTorch() {
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    for (const std::string type : {"delta_net", "gated_deltanet"}) {
      const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/" + type + "_torch";
      const bool gated = type == "gated_deltanet";
      HfModel m(loadCheckpointFiles(dir));
      QCOMPARE(m.mixerKind(), type);
      QCOMPARE(m.config().numValueHeads, gated ? 4 : 2);
      QCOMPARE(m.config().headDim, gated ? 4 : 8);
      QCOMPARE(m.config().valueHeadDim, gated ? 4 : 8);
      QCOMPARE(m.config().outputGate, gated);
      QCOMPARE(m.heads(), 16);
      QCOMPARE(m.valueChannels(), 1);
      QCOMPARE(m.theoreticalStateSize(3), gated ? 4.0 : 8.0);
      QCOMPARE(m.layerGenerators(0, tok).heads(), 0);  // the transitions are not diagonal
      checkPyTorchExpected(m, dir, true);
      checkMixerOutputs(m, dir);
      const NamedTensors e = readTensorFile(dir + "/expected.pt");
      QVERIFY(e.find("operator.1")->tril(-5).abs().max().item<double>() > 1e-3);
      const std::string cfg = readText(dir + "/config.json");
      const auto edited = [&](const std::string& name, const std::function<void(NamedTensors&)>& edit,
                              const std::string& text) {
        const std::string d = root + "/" + type + "_" + name;
        writeEdited(dir, d, edit, text);
        return d;
      };
      const auto none = [](NamedTensors&) {};
      // Variants of the rule change the operator.
      std::vector<std::pair<std::string, std::string>> variants = {{"allow_neg_eigval", "true"}};
      if (!gated)
        variants.insert(variants.end(), {{"qk_norm", "\"sum\""},
                                         {"qk_activation", "\"relu\""},
                                         {"qk_activation", "\"elu\""},
                                         {"use_beta", "false"}});
      for (const auto& [key, value] : variants) {
        HfModel v(loadCheckpointFiles(edited(key + value.substr(0, 2), none, withField(cfg, key, value))));
        const at::Tensor T = v.layerOperator(0, tok);
        QVERIFY2(at::isfinite(T).all().item<bool>(), key.c_str());
        QVERIFY2(maxDiff(T, m.layerOperator(0, tok)) > 1e-4, (key + " " + value).c_str());
      }
      // Refused values name config.json and the field.
      std::vector<std::tuple<std::string, std::string, std::string>> bad = {
          {"attn", R"({"layers": [0]})", "hybrid softmax-attention layers"}, {"hidden_act", "\"relu\"", "use swish"}};
      if (gated)
        bad.insert(bad.end(), {{"num_v_heads", "3", "must be a multiple of num_heads (2)"},
                               {"expand_v", "1.3", "must be a positive integer"}});
      else
        bad.insert(bad.end(), {{"qk_activation", "\"tanh\"", "supported: silu, relu, elu, identity"},
                               {"qk_norm", "\"none\"", "supported: l2, sum"}});
      for (const auto& [key, value, what] : bad) {
        const std::string msg = errorOf(
            [&, &key = key, &value = value] { Session::open(edited("bad_" + key, none, withField(cfg, key, value))); });
        QVERIFY2(contains(msg, "config.json") && contains(msg, "\"" + key + "\"") && contains(msg, what), msg.c_str());
      }
      // A missing tensor is named.
      const std::string missing = gated ? "model.layers.1.attn.A_log" : "model.layers.1.attn.b_proj.weight";
      const std::string msg = errorOf([&] {
        Session::open(edited(
            "missing",
            [&](NamedTensors& t) {
              NamedTensors kept;
              for (auto& [n, x] : t.tensors)
                if (n != missing) kept.add(n, x);
              t = kept;
            },
            cfg));
      });
      QVERIFY2(contains(msg, missing), msg.c_str());
    }
  }
  // LFM2 hybrid (conv, attention, conv per layer_types): each layer's kind, heads and TSS; the
  // gated short convolution's banded operator diag(C) Toeplitz(h) diag(B) per channel and the
  // attention probabilities (q/k norms, GQA) against PyTorch, y == T(u) u for both kinds.
  void lfm2HybridWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/lfm2_torch";
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.numLayers(), 3);
    QCOMPARE(m.mixerKind(0), std::string("short_conv"));
    QCOMPARE(m.mixerKind(1), std::string("softmax_attention"));
    QCOMPARE(m.mixerKind(2), std::string("short_conv"));
    QCOMPARE(m.heads(0), 16);
    QCOMPARE(m.valueChannels(0), 1);
    QCOMPARE(m.heads(1), 4);
    QCOMPARE(m.valueChannels(1), 4);
    QCOMPARE(m.theoreticalStateSizeSiso(0, 5), 2.0);        // K - 1 per channel
    QCOMPARE(m.theoreticalStateSizeSiso(1, 5), 5.0 * 2.0);  // s (d_k + d_v) / d_v
    QCOMPARE(m.config().intermediateSize, 24);              // int(2 * 36 / 3)
    const std::string d = m.description("l");
    QVERIFY2(contains(d, "2 of short_conv") && contains(d, "1 of softmax_attention"), d.c_str());
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    const at::Tensor T0 = m.layerOperator(0, tok);
    QCOMPARE(T0.tril(-3).abs().max().item<double>(), 0.0);  // banded: K = 3 taps
    QVERIFY(T0.diagonal(-2, 1, 2).abs().max().item<double>() > 1e-3);
    checkRowsSumToOne(m.layerOperator(1, tok));
    // The session lists each layer with its own kind and heads.
    auto s = Session::open(dir);
    QCOMPARE(s->info().layers[0].mixer, std::string("short_conv"));
    QCOMPARE(s->info().layers[1].mixer, std::string("softmax_attention"));
    QCOMPARE(s->info().layers[1].heads, 4);
    // Bad fields are refused by name.
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    const std::string cfg = readText(dir + "/config.json");
    for (const auto& [key, value, what] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"conv_bias", "true", "not supported"},
             {"layer_types", R"(["conv", "mamba", "conv"])", "supported: conv, full_attention"},
             {"layer_types", R"(["conv"])", "must list num_hidden_layers = 3"}}) {
      const std::string msg = errorOf([&, &key = key, &value = value] {
        writeEdited(
            dir, root + "/" + key, [](NamedTensors&) {}, withField(cfg, key, value));
        Session::open(root + "/" + key);
      });
      QVERIFY2(contains(msg, "config.json") && contains(msg, "\"" + key + "\"") && contains(msg, what), msg.c_str());
    }
    // The older full_attn_idxs gives the same layers; another list needs other tensors.
    nlohmann::json old = nlohmann::json::parse(cfg);
    old.erase("layer_types");
    old["full_attn_idxs"] = {1};
    writeEdited(
        dir, root + "/idx", [](NamedTensors&) {}, old.dump());
    HfModel o(loadCheckpointFiles(root + "/idx"));
    QVERIFY(maxDiff(o.layerOperator(2, tok), m.layerOperator(2, tok)) < 1e-14);
    old["full_attn_idxs"] = {0};
    writeEdited(
        dir, root + "/idx0", [](NamedTensors&) {}, old.dump());
    const std::string msg = errorOf([&] { Session::open(root + "/idx0"); });
    QVERIFY2(contains(msg, "model.layers.0.self_attn.q_proj.weight"), msg.c_str());
  }
  // Jamba hybrid (mamba, attention, mamba, attention; MoE of 4 experts, top 2, on the mamba
  // layers): each layer's kind, heads and TSS; the S6 operators with weighted dt/B/C RMSNorms in
  // generator form and the attention probabilities (no positional encoding) against PyTorch, the
  // residual stream through the routed experts, y == T(u) u for both kinds; bad fields and
  // absent experts are refused by name.
  void jambaHybridWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/jamba_torch";
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.numLayers(), 4);
    QCOMPARE(m.mixerKind(0), std::string("mamba"));
    QCOMPARE(m.mixerKind(1), std::string("softmax_attention"));
    QCOMPARE(m.mixerKind(2), std::string("mamba"));
    QCOMPARE(m.mixerKind(3), std::string("softmax_attention"));
    QCOMPARE(m.heads(0), 32);
    QCOMPARE(m.valueChannels(0), 1);
    QCOMPARE(m.heads(1), 4);
    QCOMPARE(m.valueChannels(1), 4);
    QCOMPARE(m.theoreticalStateSizeSiso(0, 5), 4.0);        // N per channel
    QCOMPARE(m.theoreticalStateSizeSiso(1, 5), 5.0 * 2.0);  // s (d_k + d_v) / d_v
    QCOMPARE(m.config().moeLayers, (std::vector<bool>{true, false, true, false}));
    QCOMPARE(m.config().expertsPerToken, 2);
    const std::string d = m.description("j");
    QVERIFY2(contains(d, "2 of mamba") && contains(d, "2 of softmax_attention"), d.c_str());
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const NamedTensors e = readTensorFile(dir + "/expected.pt");
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    for (int i : {0, 2}) {
      const at::Tensor& T = *e.find("operator." + std::to_string(i));
      QVERIFY(T.tril(-5).abs().max().item<double>() > 1e-3);  // the scan carries earlier inputs
      Generators g = m.layerGenerators(i, tok);
      QCOMPARE(g.heads(), 32);
      QCOMPARE(g.stateSize(), 4);
      QVERIFY(maxDiff(materializeGenerators(g, "g"), T) < 1e-10);
      for (bool ssm : {false, true}) {  // the shared rows stand for the same generators
        const GeneratorArrays formed = expandSharedGenerators(toArrays(m.layerSharedGenerators(i, tok, ssm)));
        const Generators want = ssm ? m.ssmGenerators(i, tok) : g;
        QVERIFY(maxDiff(toTensor(formed.C), want.C) < 1e-14 && maxDiff(toTensor(formed.B), want.B) < 1e-14);
        QVERIFY(maxDiff(toTensor(formed.logA), want.logA) < 1e-14);
        QVERIFY(ssm ? !formed.D.defined() : maxDiff(toTensor(formed.D), want.D) < 1e-14);
      }
    }
    QCOMPARE(m.layerSharedGenerators(1, tok, false).heads(), 0);
    QCOMPARE(m.layerGenerators(1, tok).heads(), 0);  // attention: formed densely
    checkRowsSumToOne(m.layerOperator(1, tok));
    auto s = Session::open(dir);
    QCOMPARE(s->info().layers[0].mixer, std::string("mamba"));
    QCOMPARE(s->info().layers[3].mixer, std::string("softmax_attention"));
    // The routing matters: with top-1 the stream entering layer 1 differs.
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    const std::string cfg = readText(dir + "/config.json");
    writeEdited(
        dir, root + "/top1", [](NamedTensors&) {}, withField(cfg, "num_experts_per_tok", "1"));
    HfModel top1(loadCheckpointFiles(root + "/top1"));
    QVERIFY(maxDiff(top1.hiddenState(1, tok), m.hiddenState(1, tok)) > 1e-3);
    QVERIFY(maxDiff(top1.hiddenState(0, tok), m.hiddenState(0, tok)) < 1e-14);
    // Bad fields are refused naming config.json and the field.
    for (const auto& [key, value, what] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"attn_layer_offset", "2", "must be smaller than attn_layer_period (2)"},
             {"expert_layer_offset", "3", "must be smaller than expert_layer_period (2)"},
             {"num_experts_per_tok", "5", "exceeds num_experts (4)"},
             {"sliding_window", "8", "not supported"},
             {"mamba_proj_bias", "true", "not supported"},
             {"hidden_act", "\"gelu\"", "uses silu"}}) {
      const std::string msg = errorOf([&, &key = key, &value = value] {
        writeEdited(
            dir, root + "/" + key, [](NamedTensors&) {}, withField(cfg, key, value));
        Session::open(root + "/" + key);
      });
      QVERIFY2(contains(msg, "config.json") && contains(msg, "\"" + key + "\"") && contains(msg, what), msg.c_str());
    }
    // An MoE config whose experts are absent (a dense checkpoint's feed-forward) names the tensor.
    const std::string absent = root + "/absent";
    writeEdited(
        dir, absent,
        [](NamedTensors& t) {
          NamedTensors kept;
          for (auto& [n, x] : t.tensors)
            if (n.find("layers.2.feed_forward.experts.") == std::string::npos) kept.add(n, x);
          t = kept;
        },
        cfg);
    const std::string msg = errorOf([&] { Session::open(absent); });
    QVERIFY2(contains(msg, "missing tensor 'model.layers.2.feed_forward.experts.0.gate_proj.weight'") &&
                 contains(msg, "jamba config.json"),
             msg.c_str());
    // Another layer pattern needs other tensors: attention on layer 0 names its missing q_proj.
    const std::string moved = errorOf([&] {
      writeEdited(
          dir, root + "/moved", [](NamedTensors&) {}, withField(cfg, "attn_layer_offset", "0"));
      Session::open(root + "/moved");
    });
    QVERIFY2(contains(moved, "model.layers.0.self_attn.q_proj.weight"), moved.c_str());
  }
  // RecurrentGemma hybrid (recurrent, recurrent, attention, recurrent per block_types cycled):
  // each layer's kind, heads and TSS; the RG-LRU operator per channel (gates folded in) in
  // generator form and the local attention (window 5 < L, half-rotated heads, GQA) against
  // PyTorch, the residual stream (bf16 normalizer, (1 + w) norms, MLP biases), y == T(u) u for
  // both kinds; bad fields refused by name.
  void recurrentGemmaHybridWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/recurrent_gemma_torch";
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.numLayers(), 4);
    QCOMPARE(m.mixerKind(0), std::string("rg_lru"));
    QCOMPARE(m.mixerKind(2), std::string("sliding_window_attention"));
    QCOMPARE(m.mixerKind(3), std::string("rg_lru"));
    QCOMPARE(m.heads(0), 24);  // lru_width channels
    QCOMPARE(m.valueChannels(0), 1);
    QCOMPARE(m.heads(2), 4);
    QCOMPARE(m.theoreticalStateSizeSiso(0, 7), 1.0);        // one state per channel
    QCOMPARE(m.theoreticalStateSizeSiso(2, 7), 5.0 * 2.0);  // min(s, 5) (d_k + d_v) / d_v
    QCOMPARE(m.theoreticalStateSizeSiso(2, 3), 3.0 * 2.0);
    const std::string d = m.description("rg");
    QVERIFY2(contains(d, "3 of rg_lru") && contains(d, "1 of sliding_window_attention"), d.c_str());
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const NamedTensors e = readTensorFile(dir + "/expected.pt");
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    for (int i : {0, 1, 3}) {
      const at::Tensor& T = *e.find("operator." + std::to_string(i));
      QVERIFY(T.tril(-5).abs().max().item<double>() > 1e-3);  // the recurrence carries earlier inputs
      Generators g = m.layerGenerators(i, tok);
      QCOMPARE(g.heads(), 24);
      QCOMPARE(g.stateSize(), 1);
      QVERIFY(maxDiff(materializeGenerators(g, "g"), T) < 1e-10);
    }
    const at::Tensor P = m.layerOperator(2, tok);
    checkRowsSumToOne(P);
    QCOMPARE(P.tril(-5).abs().max().item<double>(), 0.0);  // local: keys r - c < 5 only
    QVERIFY(P.diagonal(-4, 1, 2).abs().min().item<double>() > 0.0);
    auto s = Session::open(dir);
    QCOMPARE(s->info().layers[0].mixer, std::string("rg_lru"));
    QCOMPARE(s->info().layers[2].mixer, std::string("sliding_window_attention"));
    QTemporaryDir tmp;
    const std::string root = tmp.path().toStdString();
    const std::string cfg = readText(dir + "/config.json");
    for (const auto& [key, value, what] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"block_types", R"(["recurrent", "mamba"])", "supported: recurrent, attention"},
             {"block_types", "[]", "non-empty list"},
             {"partial_rotary_factor", "0.25", "supports 0.5"},
             {"rope_scaling", R"({"rope_type": "linear", "factor": 2.0})", "only the default RoPE"},
             {"lru_width", "26", "not divisible by num_attention_heads"},
             {"hidden_activation", "\"tanh\"", "supported: gelu_new"}}) {
      const std::string msg = errorOf([&, &key = key, &value = value] {
        writeEdited(
            dir, root + "/" + key, [](NamedTensors&) {}, withField(cfg, key, value));
        Session::open(root + "/" + key);
      });
      QVERIFY2(contains(msg, "config.json") && contains(msg, "\"" + key + "\"") && contains(msg, what), msg.c_str());
    }
    // Another block pattern needs other tensors: layer 0 attending names its missing q_proj.
    const std::string moved = errorOf([&] {
      writeEdited(
          dir, root + "/moved", [](NamedTensors&) {}, withField(cfg, "block_types", R"(["attention", "recurrent"])"));
      Session::open(root + "/moved");
    });
    QVERIFY2(contains(moved, "model.layers.0.temporal_block.q_proj.weight"), moved.c_str());
  }
  // GLA with its non-default options (use_output_gate false: the ungated g_norm and no g_proj;
  // use_short_conv false; feature_map relu): operators, generators, residual streams and
  // y == T(u) u against PyTorch's float64 values.
  void glaPlainOptionsWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/gla_plain_torch";
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.mixerKind(), std::string("gla"));
    QVERIFY(!m.config().outputGate);
    QVERIFY(!m.config().shortConv);
    QCOMPARE(m.config().featureMap, std::string("relu"));
    QCOMPARE(m.config().normTensor, std::string("g_norm"));
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const NamedTensors e = readTensorFile(dir + "/expected.pt");
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    for (int i = 0; i < 2; ++i) {
      const at::Tensor& T = *e.find("operator." + std::to_string(i));
      QVERIFY(T.tril(-5).abs().max().item<double>() > 1e-3);
      QVERIFY(maxDiff(materializeGenerators(m.layerGenerators(i, tok), "g"), T) < 1e-10);
    }
  }
  // Gated DeltaNet without its short convolutions (use_short_conv false: q, k, v are SiLU'd
  // projections): the delta rule's operators, residual streams and y == T(u) u against PyTorch.
  void gatedDeltaNetWithoutConvWrittenByPyTorch() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/gated_deltanet_noconv_torch";
    HfModel m(loadCheckpointFiles(dir));
    QCOMPARE(m.mixerKind(), std::string("gated_deltanet"));
    QVERIFY(!m.config().shortConv);
    checkPyTorchExpected(m, dir, true);
    checkMixerOutputs(m, dir);
    const NamedTensors e = readTensorFile(dir + "/expected.pt");
    QVERIFY(e.find("operator.1")->tril(-5).abs().max().item<double>() > 1e-3);
  }

  // RetNet's and DeltaNet's non-default options, each in a fixture PyTorch wrote from the
  // published equations: RetNet with 4 heads on 2 key/value heads, fuse_norm false and silu
  // (the plain g_norm, then the gate), elementwise_affine false and the sigmoid feature map;
  // DeltaNet without beta, with elu + 1 and sum-normalized q, k, without short convolutions and
  // with the gated o_norm; DeltaNet with relu q, k (convolutions without SiLU on them).
  void flaOptionVariantsWrittenByPyTorch() {
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    {
      const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/retnet_options_torch";
      HfModel m(loadCheckpointFiles(dir));
      QCOMPARE(m.mixerKind(), std::string("retnet"));
      QCOMPARE(m.config().numHeads, 4);
      QCOMPARE(m.config().numKvHeads, 2);
      QCOMPARE(m.config().featureMap, std::string("sigmoid"));
      QCOMPARE(m.config().normTensor, std::string("g_norm"));
      QVERIFY(!m.config().normAffine);
      QVERIFY(m.config().outputGate);
      QCOMPARE(m.heads(), 16);
      checkPyTorchExpected(m, dir, true);
      checkMixerOutputs(m, dir);
      const NamedTensors e = readTensorFile(dir + "/expected.pt");
      for (int i = 0; i < 2; ++i) {
        const Generators g = m.layerGenerators(i, tok);
        QVERIFY(g.perHeadDecay());
        QVERIFY(maxDiff(materializeGenerators(g, "g"), *e.find("operator." + std::to_string(i))) < 1e-10);
      }
    }
    for (const char* name : {"delta_net_sum", "delta_net_relu"}) {
      const bool sum = std::string(name) == "delta_net_sum";
      const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/" + name + "_torch";
      HfModel m(loadCheckpointFiles(dir));
      QCOMPARE(m.mixerKind(), std::string("delta_net"));
      QCOMPARE(m.config().useBeta, !sum);
      QCOMPARE(m.config().shortConv, !sum);
      QCOMPARE(m.config().outputGate, sum);
      QCOMPARE(m.config().qkActivation, std::string(sum ? "elu" : "relu"));
      QCOMPARE(m.config().qkNormType, std::string(sum ? "sum" : "l2"));
      checkPyTorchExpected(m, dir, true);
      checkMixerOutputs(m, dir);
      const NamedTensors e = readTensorFile(dir + "/expected.pt");
      QVERIFY(e.find("operator.1")->tril(-5).abs().max().item<double>() > 1e-3);
    }
  }

  // The SSM-only operator (ess/operator_scope.h) of every recurrent fixture against the one the
  // fixture script formed without output gate, norm and D skip, and the recurrence's own output
  // y_ssm == T_ssm u; its generator form where the layer has one; attention layers (and the
  // attention-only qwen3) keep their one operator.
  void ssmOperatorsWrittenByPyTorch() {
    const at::Tensor tok = tokensOf({1, 31, 7, 7, 0, 12, 25, 3, 9, 18, 30, 2});
    int recurrentLayers = 0;
    for (const char* name : {"mamba", "falcon_mamba", "mamba2", "gla", "gla_plain", "retnet", "delta_net",
                             "gated_deltanet", "gated_deltanet_noconv", "retnet_options", "delta_net_sum",
                             "delta_net_relu", "lfm2", "jamba", "recurrent_gemma", "qwen3"}) {
      const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/" + name + "_torch";
      HfModel m(loadCheckpointFiles(dir));
      QVERIFY(m.hasSsmOperators());
      const NamedTensors e = readTensorFile(dir + "/expected.pt");
      for (int i = 0; i < m.numLayers(); ++i) {
        const std::string where = std::string(name) + " layer " + std::to_string(i);
        const at::Tensor block = m.layerOperator(i, tok), ssm = m.ssmOperator(i, tok);
        const at::Tensor* Ts = e.find("ssm_operator." + std::to_string(i));
        if (!Ts) {  // attention: the one operator
          QVERIFY2(m.ssmRemoves(i).empty(), where.c_str());
          QVERIFY2(at::equal(ssm, block), where.c_str());
          continue;
        }
        ++recurrentLayers;
        QVERIFY2(!m.ssmRemoves(i).empty(), where.c_str());
        QCOMPARE(ssm.sizes().vec(), Ts->sizes().vec());
        QVERIFY2(maxDiff(ssm, *Ts) < 1e-10,
                 (where + ": T_ssm differs by " + std::to_string(maxDiff(ssm, *Ts))).c_str());
        QVERIFY2(maxDiff(ssm, block) > 1e-3, (where + ": T_ssm is the block operator").c_str());
        const at::Tensor* u = e.find("values." + std::to_string(i));
        const at::Tensor* y = e.find("ssm_output." + std::to_string(i));
        QVERIFY2(u && y, where.c_str());
        QVERIFY(y->abs().max().item<double>() > 1e-2);
        QVERIFY2(maxDiff(at::matmul(ssm, *u), *y) < 1e-10, (where + ": y_ssm != T_ssm u").c_str());
        const Generators g = m.ssmGenerators(i, tok);
        QCOMPARE(g.heads() > 0, m.layerGenerators(i, tok).heads() > 0);
        if (g.heads() > 0) {
          QVERIFY(!g.D.defined());  // no skip term
          QVERIFY2(maxDiff(materializeGenerators(g, "g"), *Ts) < 1e-10, (where + ": generators").c_str());
        }
      }
    }
    QCOMPARE(recurrentLayers, 2 * 12 + 2 + 2 + 3);
  }

  // The session's operator scope: --operator ssm forms the SSM-only operators (dense, tiles and
  // structured curves), block again the block's; operator files refuse ssm on field "operator".
  void sessionOperatorScope() {
    const std::string dir = std::string(ESS_TEST_DATA_DIR) + "/hf/mamba2_torch";
    const NamedTensors e = readTensorFile(dir + "/expected.pt");
    auto s = Session::open(dir);
    s->setInput("tokens:1,31,7,7,0,12,25,3,9,18,30,2");
    QCOMPARE(s->operatorScope(), OperatorScope::Block);
    QVERIFY(contains(s->info().layers[0].ssmRemoves, "gated RMSNorm"));
    const auto asTensor = [](const OperatorData& op) {
      return at::tensor(op.values, at::kDouble).reshape({op.heads, op.length, op.length});
    };
    QVERIFY(maxDiff(asTensor(s->operatorOf(1)), *e.find("operator.1")) < 1e-10);
    EssOptions o;
    o.algorithm(Algorithm::Structured);
    const CurveData blockCurve = s->curve(1, o);
    s->setOperatorScope(OperatorScope::Ssm);
    QCOMPARE(s->operatorScope(), OperatorScope::Ssm);
    QVERIFY(maxDiff(asTensor(s->operatorOf(1)), *e.find("ssm_operator.1")) < 1e-10);
    const CurveData ssmCurve = s->curve(1, o);
    o.algorithm(Algorithm::Dense);
    const CurveData ssmDense = s->curve(1, o);
    QCOMPARE(ssmCurve.tolerance.size(), ssmDense.tolerance.size());
    QVERIFY(ssmCurve.tolerance != blockCurve.tolerance);  // the gate and the norm change the ranks' weights
    for (size_t h = 0; h < ssmCurve.tolerance.size(); ++h)
      for (size_t k = 0; k < ssmCurve.tolerance[h].size(); ++k)
        QVERIFY(std::abs(ssmCurve.tolerance[h][k] - ssmDense.tolerance[h][k]) < 1e-6);
    TileRequest req;
    const OperatorTile tile = s->operatorTile(1, 3, req);
    QVERIFY(std::abs(tile.values.back() - e.find("ssm_operator.1")->index({3, -1, -1}).item<double>()) < 1e-10);
    s->setOperatorScope(OperatorScope::Block);
    QVERIFY(maxDiff(asTensor(s->operatorOf(1)), *e.find("operator.1")) < 1e-10);
    // The spellings, and files that hold one operator.
    QCOMPARE(parseOperatorScope("ssm"), OperatorScope::Ssm);
    QCOMPARE(std::string(operatorScopeName(OperatorScope::Block)), std::string("block"));
    QCOMPARE(errorOf<UsageError>([] { parseOperatorScope("gate"); }),
             std::string("--operator: expected block or ssm, got 'gate'"));
    const std::string opFile = std::string(ESS_TEST_DATA_DIR) + "/identity_L16.safetensors";
    auto f = Session::open(opFile);
    f->setOperatorScope(OperatorScope::Block);
    const std::string msg = errorOf<UsageError>([&] { f->setOperatorScope(OperatorScope::Ssm); });
    QVERIFY2(contains(msg, "--operator ssm: " + opFile + " holds one operator per layer"), msg.c_str());
    QCOMPARE(f->operatorScope(), OperatorScope::Block);
  }
};

QTEST_APPLESS_MAIN(TestHfModels)
#include "test_hf_models.moc"
