// ptapi - portable TAPI
// mspi/detail/sample_ring.hpp: a lock-free single-producer single-consumer ring of PCM samples with
// overflow and underrun counters, shared by the media streaming and audio device terminals.
#pragma once

#include <boost/lockfree/spsc_queue.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mspi::detail {

/// A fixed-capacity SPSC ring of signed 16-bit samples (boost::lockfree::spsc_queue), allocated once
/// at construction. `push` drops what does not fit (the newest samples: only the consumer may remove
/// old ones) and counts it in `overflow_samples`; `pop_padded` fills a shortfall with silence and
/// counts it in `underrun_samples`.
///
/// @par Thread Safety
/// Exactly one producer thread calls `push` and exactly one consumer thread calls `pop`/`pop_padded`;
/// the counters and `capacity` may be read from any thread. `reset` needs both sides quiescent.
/// No member allocates or blocks.
class sample_ring {
 public:
  /// @param capacity_samples the most samples the ring holds (> 0).
  explicit sample_ring(std::size_t capacity_samples) : queue_(capacity_samples), capacity_(capacity_samples) {}

  /// Producer: appends as many of `samples` as fit; the rest is dropped and counted.
  /// @return samples accepted.
  std::size_t push(std::span<const std::int16_t> samples) noexcept {
    const std::size_t pushed = queue_.push(samples.data(), samples.size());
    if (pushed < samples.size()) overflow_.fetch_add(samples.size() - pushed, std::memory_order_relaxed);
    return pushed;
  }

  /// Consumer: removes up to `out.size()` samples into `out`. @return samples removed.
  std::size_t pop(std::span<std::int16_t> out) noexcept { return queue_.pop(out.data(), out.size()); }

  /// Consumer: fills all of `out`, with silence after the samples the ring had (counted as underrun).
  /// @return samples that came from the ring.
  std::size_t pop_padded(std::span<std::int16_t> out) noexcept {
    const std::size_t popped = pop(out);
    if (popped < out.size()) {
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(popped), out.end(), std::int16_t{0});
      underrun_.fetch_add(out.size() - popped, std::memory_order_relaxed);
    }
    return popped;
  }

  /// Producer thread only: samples currently queued (pushed and not yet popped).
  [[nodiscard]] std::size_t queued_from_producer() const noexcept { return capacity_ - queue_.write_available(); }
  /// Consumer thread only: samples currently queued (pushed and not yet popped).
  [[nodiscard]] std::size_t queued_from_consumer() const noexcept { return queue_.read_available(); }

  /// Empties the ring (counters are kept). Only while neither side runs.
  void reset() noexcept { queue_.reset(); }

  /// Samples the ring holds at most.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Samples dropped by `push` because the ring was full.
  [[nodiscard]] std::uint64_t overflow_samples() const noexcept { return overflow_.load(std::memory_order_relaxed); }
  /// Silent samples `pop_padded` had to insert because the ring ran dry.
  [[nodiscard]] std::uint64_t underrun_samples() const noexcept { return underrun_.load(std::memory_order_relaxed); }

 private:
  boost::lockfree::spsc_queue<std::int16_t> queue_;
  std::size_t capacity_;
  std::atomic<std::uint64_t> overflow_{0};
  std::atomic<std::uint64_t> underrun_{0};
};

}  // namespace mspi::detail
