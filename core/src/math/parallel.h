// A plain parallel loop for the math library (which has no ATen thread pool).
#pragma once
#include <algorithm>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace ess {

/// Runs fn(b, e) on contiguous chunks of [begin, end) on up to hardware_concurrency threads
/// (at least `grain` items each); the first exception is rethrown after all threads end.
template <class Fn>
void parallelFor(int64_t begin, int64_t end, int64_t grain, const Fn& fn) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t maxThreads = std::max<int64_t>(1, std::thread::hardware_concurrency());
  const int64_t threads = std::max<int64_t>(1, std::min(maxThreads, n / std::max<int64_t>(grain, 1)));
  if (threads == 1) {
    fn(begin, end);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  const int64_t chunk = (n + threads - 1) / threads;
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t b = begin + t * chunk, e = std::min(end, b + chunk);
    if (b >= e) break;
    pool.emplace_back([&, t, b, e] {
      try {
        fn(b, e);
      } catch (...) {
        errors[static_cast<size_t>(t)] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace ess
