// Lane kernels of the structured ESS engine (see structured_lanes.h), compiled with
// -fno-math-errno so that sqrt vectorizes. The bodies (structured_lanes_kernels.inc) are built
// twice: eight-double vectors for AVX-512 machines, four-double vectors (AVX2, or SSE2 pairs)
// for the others; measured on both, each width is the faster one where it is chosen.
#include "metric/structured_lanes.h"

#include <cmath>
#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define ESS_LANE_DISPATCH 1
#else
#define ESS_LANE_DISPATCH 0
#endif
// The lanes of one loop never alias: GCC vectorizes without run-time checks (the sanitizer
// build's clang is left to its own analysis).
#if defined(__clang__)
#define ESS_IVDEP
#else
#define ESS_IVDEP _Pragma("GCC ivdep")
#endif

namespace ess::lanes {

namespace w4 {
#define ESS_LANE_VEC 4
#if ESS_LANE_DISPATCH
#define ESS_LANE_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ESS_LANE_KERNEL
#endif
#include "metric/structured_lanes_kernels.inc"
#undef ESS_LANE_KERNEL
#undef ESS_LANE_VEC
}  // namespace w4

#if ESS_LANE_DISPATCH
namespace w8 {
#define ESS_LANE_VEC 8
#define ESS_LANE_KERNEL __attribute__((target("arch=x86-64-v4")))
#include "metric/structured_lanes_kernels.inc"
#undef ESS_LANE_KERNEL
#undef ESS_LANE_VEC
}  // namespace w8

namespace {
// A dynamic initializer may run before libgcc's own constructor has read the CPU's features.
const bool kWide = (__builtin_cpu_init(), true) && __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512bw");
}  // namespace
#define ESS_LANE_CALL(f, ...) return kWide ? w8::f(__VA_ARGS__) : w4::f(__VA_ARGS__)
#else
#define ESS_LANE_CALL(f, ...) return w4::f(__VA_ARGS__)
#endif

void applyDecay(double* R, const double* a, int N, bool perHead) { ESS_LANE_CALL(applyDecay, R, a, N, perHead); }
void appendRow(double* R, const double* x, int N, double* work) { ESS_LANE_CALL(appendRow, R, x, N, work); }
void product(const double* RF, const double* RP, int N, double* M) { ESS_LANE_CALL(product, RF, RP, N, M); }
void bidiagonalize(double* M, int N, double* d, double* e) { ESS_LANE_CALL(bidiagonalize, M, N, d, e); }
unsigned bidiagonalSingularValues(double* d, double* e, int N) { ESS_LANE_CALL(bidiagonalSingularValues, d, e, N); }

}  // namespace ess::lanes
