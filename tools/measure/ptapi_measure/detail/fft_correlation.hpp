// ptapi - portable TAPI (project-internal measuring tool; not installed, not part of the library)
// ptapi_measure/detail/fft_correlation.hpp: the raw cross-correlation of two signals at lags 0..max_lag,
// computed with FFTW (double precision) by blocks: cost O((n / B) * M log M) for n samples, FFT size M
// about 4 * max_lag and block B = M - max_lag, instead of O(n * max_lag) multiply-adds.
#pragma once

#include <fftw3.h>

#include <algorithm>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <span>
#include <vector>

namespace mspi::detail {

/// The smallest n' >= n whose prime factors are all 2, 3, 5 or 7 (sizes FFTW transforms fastest).
inline std::size_t fft_fast_size(std::size_t n) noexcept {
  for (std::size_t m = std::max<std::size_t>(n, 1);; ++m) {
    std::size_t r = m;
    for (const std::size_t p : {2U, 3U, 5U, 7U})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

/// FFTW's planner (plan creation and destruction) is not thread-safe; executing a plan is. Every plan
/// of this header is made and destroyed under this mutex.
inline std::mutex& fftw_planner_mutex() noexcept {
  static std::mutex m;
  return m;
}

struct fftw_free_deleter {
  void operator()(void* p) const noexcept { fftw_free(p); }
};
template <class T>
using fftw_buffer = std::unique_ptr<T[], fftw_free_deleter>;

template <class T>
fftw_buffer<T> fftw_alloc(std::size_t n) {
  auto* p = static_cast<T*>(fftw_malloc(sizeof(T) * std::max<std::size_t>(n, 1)));
  if (p == nullptr) throw std::bad_alloc();
  return fftw_buffer<T>(p);
}

/// The forward (real to complex) and inverse (complex to real) plans of one FFT size, out of place, for
/// arrays from `fftw_alloc` (executed with FFTW's new-array functions, which are thread-safe).
struct fftw_plan_pair {
  fftw_plan forward = nullptr;
  fftw_plan inverse = nullptr;
};

/// The plans of size `m`, made once per size with FFTW_ESTIMATE (no measuring, no wisdom files) under
/// the planner mutex and kept for the process (planning costs 2-15 ms per size, executing about 1 ms at
/// 100 000 points). At most 32 sizes are kept; a call that needs a 33rd size plans into `scratch`, which
/// the caller destroys with `destroy_uncached_plans`. Throws std::bad_alloc if FFTW cannot plan.
class fftw_plan_cache {
 public:
  static fftw_plan_pair get(std::size_t m, fftw_plan_pair& scratch) {
    static fftw_plan_cache cache;
    std::lock_guard lock(fftw_planner_mutex());
    for (const auto& [size, plans] : cache.plans_)
      if (size == m) return plans;
    auto a = fftw_alloc<double>(m);
    auto f = fftw_alloc<fftw_complex>(m / 2 + 1);
    const int n = static_cast<int>(m);
    fftw_plan_pair p{fftw_plan_dft_r2c_1d(n, a.get(), f.get(), FFTW_ESTIMATE),
                     fftw_plan_dft_c2r_1d(n, f.get(), a.get(), FFTW_ESTIMATE)};
    if (p.forward == nullptr || p.inverse == nullptr) {
      destroy(p);
      throw std::bad_alloc();
    }
    if (cache.plans_.size() < 32)
      cache.plans_.emplace_back(m, p);
    else
      scratch = p;
    return p;
  }
  /// Destroys plans that `get` did not keep (no-op for an empty pair).
  static void destroy_uncached_plans(fftw_plan_pair& scratch) noexcept {
    if (scratch.forward == nullptr && scratch.inverse == nullptr) return;
    std::lock_guard lock(fftw_planner_mutex());
    destroy(scratch);
  }
  fftw_plan_cache(const fftw_plan_cache&) = delete;
  fftw_plan_cache& operator=(const fftw_plan_cache&) = delete;

 private:
  // The mutex is made first, so that it outlives the cache at exit (statics die in reverse order).
  fftw_plan_cache() { (void)fftw_planner_mutex(); }
  ~fftw_plan_cache() {
    std::lock_guard lock(fftw_planner_mutex());
    for (auto& [size, plans] : plans_) destroy(plans);
  }
  static void destroy(fftw_plan_pair& p) noexcept {
    if (p.forward != nullptr) fftw_destroy_plan(p.forward);
    if (p.inverse != nullptr) fftw_destroy_plan(p.inverse);
    p = {};
  }
  std::vector<std::pair<std::size_t, fftw_plan_pair>> plans_;
};

/// c[L] = sum_j sent[j] * received[j + L] over j in [0, min(sent.size(), received.size() - L)), for
/// L = 0..max_lag (max_lag + 1 values; lags at or past `received.size()` give 0). Exact up to double
/// rounding: the error of each value is about 1e-15 * sqrt(sum sent^2 * sum received^2).
///
/// Method: `sent` is cut into blocks of B samples; block k is correlated with received[kB, kB + M) by
/// FFTs of size M >= B + max_lag (no circular wrap at the lags read), and the blocks' spectra are summed
/// so that one inverse FFT ends it. Throws std::bad_alloc only. Reentrant: plans come from `fftw_plan_cache`
/// (planner calls serialized by `fftw_planner_mutex`), executions are FFTW's thread-safe new-array ones.
inline std::vector<double> cross_correlation(std::span<const std::int16_t> sent, std::span<const std::int16_t> received,
                                             std::size_t max_lag) {
  std::vector<double> c(max_lag + 1, 0.0);
  const std::size_t blocks_end = std::min(sent.size(), received.size());
  if (blocks_end == 0) return c;
  const std::size_t m = std::min(fft_fast_size(4 * (max_lag + 1)), fft_fast_size(sent.size() + max_lag));
  const std::size_t b = m - max_lag;
  const std::size_t bins = m / 2 + 1;
  auto a = fftw_alloc<double>(m);
  auto r = fftw_alloc<double>(m);
  auto fa = fftw_alloc<fftw_complex>(bins);
  auto fr = fftw_alloc<fftw_complex>(bins);
  std::vector<std::complex<double>> acc(bins);
  fftw_plan_pair scratch;
  const fftw_plan_pair plans = fftw_plan_cache::get(m, scratch);

  const auto load = [m](double* dst, std::span<const std::int16_t> x, std::size_t from, std::size_t count) {
    const std::size_t n = from < x.size() ? std::min(count, x.size() - from) : 0;
    for (std::size_t i = 0; i < n; ++i) dst[i] = x[from + i];
    std::fill(dst + n, dst + m, 0.0);
  };
  for (std::size_t k = 0; k < blocks_end; k += b) {
    load(a.get(), sent, k, b);
    load(r.get(), received, k, m);
    fftw_execute_dft_r2c(plans.forward, a.get(), fa.get());
    fftw_execute_dft_r2c(plans.forward, r.get(), fr.get());
    for (std::size_t i = 0; i < bins; ++i)
      acc[i] += std::complex<double>(fr[i][0], fr[i][1]) * std::conj(std::complex<double>(fa[i][0], fa[i][1]));
  }
  for (std::size_t i = 0; i < bins; ++i) {
    fa[i][0] = acc[i].real();
    fa[i][1] = acc[i].imag();
  }
  fftw_execute_dft_c2r(plans.inverse, fa.get(), a.get());  // unnormalized: M times the correlation
  fftw_plan_cache::destroy_uncached_plans(scratch);
  for (std::size_t l = 0; l <= max_lag; ++l) c[l] = a[l] / static_cast<double>(m);
  return c;
}

}  // namespace mspi::detail
