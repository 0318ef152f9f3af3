// ptapi - portable TAPI
// tspi/sip/detail/timer_queues.hpp: the deadlines of every SIP transaction timer (RFC 3261 §17), kept in
// one FIFO per duration so that one steady_timer drives them all.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace tspi::sip::detail {

/// Pending deadlines, grouped by duration. Every deadline is `now + duration` with a monotonic `now`,
/// so each group's FIFO stays sorted: push and pop are O(1) plus a scan of the few distinct durations
/// (T1·2^k, T2, T4, 64·T1: about ten). Cancelling is lazy: an entry carries the token its owner had
/// when it was scheduled, and the owner forgets the token to cancel; stale entries are skipped when
/// they come due. 24 bytes per entry, no allocation per entry beyond the deques' blocks.
/// Thread safety: none (the transaction layer's executor).
class timer_queues {
 public:
  using clock = std::chrono::steady_clock;

  /// One deadline.
  struct entry {
    clock::time_point at;       ///< When it is due.
    std::uint64_t token = 0;    ///< The owner's token for this timer when it was scheduled (never 0).
    std::uint32_t owner = 0;    ///< The owner's index in the transaction layer's registry.
    std::uint8_t slot = 0;      ///< Which of the owner's timers.
  };

  /// Schedules `e` (whose `at` is ignored) at `now + d`. `now` must not decrease between calls.
  void push(clock::duration d, clock::time_point now, entry e) {
    e.at = now + d;
    for (auto& [dur, q] : queues_)
      if (dur == d) {
        q.push_back(e);
        ++size_;
        return;
      }
    queues_.emplace_back(d, std::deque<entry>{}).second.push_back(e);
    ++size_;
  }

  /// The earliest deadline, clock::time_point::max() when none.
  [[nodiscard]] clock::time_point earliest() const noexcept {
    auto best = clock::time_point::max();
    for (const auto& [dur, q] : queues_)
      if (!q.empty() && q.front().at < best) best = q.front().at;
    return best;
  }

  /// Removes the earliest entry due at or before `now` into `out`; false when none is due.
  bool pop_due(clock::time_point now, entry& out) {
    std::deque<entry>* best = nullptr;
    for (auto& [dur, q] : queues_)
      if (!q.empty() && q.front().at <= now && (!best || q.front().at < best->front().at)) best = &q;
    if (!best) return false;
    out = best->front();
    best->pop_front();
    --size_;
    return true;
  }

  /// Entries pending, stale ones included.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  /// Drops every entry.
  void clear() noexcept {
    queues_.clear();
    size_ = 0;
  }

 private:
  std::vector<std::pair<clock::duration, std::deque<entry>>> queues_;
  std::size_t size_ = 0;
};

}  // namespace tspi::sip::detail
