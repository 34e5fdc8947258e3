// Mamba-1's selective scan in channel groups (mixer/selective_scan.h).
#include "mixer/selective_scan.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <vector>

namespace ess {

namespace {

/// The scan of one group of channels (u, gate, dt [..., E_g, L]; A [E_g, N]; D [E_g]).
at::Tensor scanGroup(const at::Tensor& u, const at::Tensor& gate, const at::Tensor& dt, const at::Tensor& B,
                     const at::Tensor& C, const at::Tensor& A, const at::Tensor& D) {
  const int64_t L = u.size(-1);
  // Everything that does not depend on the state is computed for all steps at once; the loop
  // keeps one fused multiply-add per step, h_t = a_t * h_{t-1} + b_t.
  auto a = at::exp(dt.unsqueeze(-1) * A.unsqueeze(-2));  // [..., E_g, L, N]
  auto b = (dt * u).unsqueeze(-1) * B.unsqueeze(-3);     // [..., E_g, L, N]
  // unbind once (its backward stacks the gradients once; select per step would scatter a
  // full-size gradient at every step).
  auto as = a.unbind(-2), bs = b.unbind(-2);
  auto h = at::zeros_like(bs[0]);
  std::vector<at::Tensor> states;
  states.reserve(L);
  for (int64_t t = 0; t < L; ++t) {
    h = at::addcmul(bs[t], as[t], h);
    states.push_back(h);
  }
  auto y = (at::stack(states, -2) * C.unsqueeze(-3)).sum(-1);  // [..., E_g, L]
  return (y + D.unsqueeze(-1) * u) * gate;
}

}  // namespace

at::Tensor selectiveScan(const at::Tensor& u, const at::Tensor& gate, const at::Tensor& dt, const at::Tensor& B,
                         const at::Tensor& C, const at::Tensor& A, const at::Tensor& D) {
  const int64_t E = u.size(-2), N = A.size(-1);
  const int64_t perChannel = std::max<int64_t>(1, u.numel() / std::max<int64_t>(1, E) * N);  // batch x L x N
  const int64_t group = std::clamp<int64_t>((int64_t(64) << 20) / 8 / perChannel, 1, std::max<int64_t>(1, E));
  if (group >= E) return scanGroup(u, gate, dt, B, C, A, D);
  std::vector<at::Tensor> parts;
  for (int64_t e0 = 0; e0 < E; e0 += group) {
    const int64_t n = std::min(group, E - e0);
    parts.push_back(scanGroup(u.narrow(-2, e0, n), gate.narrow(-2, e0, n), dt.narrow(-2, e0, n), B, C,
                              A.narrow(0, e0, n), D.narrow(0, e0, n)));
  }
  return at::cat(parts, -2);
}

}  // namespace ess
