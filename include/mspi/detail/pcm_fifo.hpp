// ptapi - portable TAPI
// mspi/detail/pcm_fifo.hpp: a fixed-capacity FIFO of PCM samples between a decoder (which produces
// whole packets of any duration) and a playout clock (which takes frames of its own ptime).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mspi::detail {

/// A FIFO of signed 16-bit samples with its storage allocated once, in the constructor.
///
/// The producer decodes straight into the FIFO: `writable()` exposes the free space at the end
/// (moving the queued samples to the front first, so the span is contiguous and as large as possible),
/// and `commit(n)` appends the n samples written there. The consumer takes samples from the front with
/// `pop`. This lets a receiver whose peer sends 10, 30 or 60 ms packets play them out continuously in
/// frames of its own ptime: decode while fewer than a frame's samples are queued, then pop one frame.
/// Capacity `frame + largest packet` therefore never overflows.
///
/// Thread safety: Distinct objects: safe. Shared objects: unsafe (one thread, the media thread). No
/// member other than the constructor allocates; none throws.
class pcm_fifo {
 public:
  /// Allocates `capacity_samples` samples. Throws only std::bad_alloc.
  explicit pcm_fifo(std::size_t capacity_samples) : buffer_(capacity_samples) {}

  /// Samples queued.
  [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
  /// Samples the FIFO holds at most.
  [[nodiscard]] std::size_t capacity() const noexcept { return buffer_.size(); }

  /// The free space after the queued samples, `capacity() - size()` samples, contiguous. Write into it
  /// and `commit` what was written. Moves the queued samples to the front (at most `size()` copies).
  std::span<std::int16_t> writable() noexcept {
    if (begin_ > 0) {
      std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(begin_), buffer_.begin() + static_cast<std::ptrdiff_t>(end_),
                buffer_.begin());
      end_ -= begin_;
      begin_ = 0;
    }
    return {buffer_.data() + end_, buffer_.size() - end_};
  }

  /// Appends the first `n` samples of the last `writable()` span (clamped to the free space).
  void commit(std::size_t n) noexcept { end_ = std::min(end_ + n, buffer_.size()); }

  /// Appends `n` samples of silence (as many as fit). Returns the samples appended.
  std::size_t push_silence(std::size_t n) noexcept {
    auto w = writable();
    n = std::min(n, w.size());
    std::fill_n(w.begin(), n, std::int16_t{0});
    commit(n);
    return n;
  }

  /// Appends `samples` (as many as fit). Returns the samples appended.
  std::size_t push(std::span<const std::int16_t> samples) noexcept {
    auto w = writable();
    const std::size_t n = std::min(samples.size(), w.size());
    std::copy_n(samples.begin(), n, w.begin());
    commit(n);
    return n;
  }

  /// Removes up to `out.size()` samples from the front into `out`, oldest first. Returns the count.
  std::size_t pop(std::span<std::int16_t> out) noexcept {
    const std::size_t n = std::min(out.size(), size());
    std::copy_n(buffer_.begin() + static_cast<std::ptrdiff_t>(begin_), n, out.begin());
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
    return n;
  }

  /// Drops every queued sample. Storage is kept.
  void clear() noexcept { begin_ = end_ = 0; }

 private:
  std::vector<std::int16_t> buffer_;
  std::size_t begin_ = 0, end_ = 0;
};

}  // namespace mspi::detail
