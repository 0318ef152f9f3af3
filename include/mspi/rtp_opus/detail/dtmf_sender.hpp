// ptapi - portable TAPI
// mspi/rtp_opus/detail/dtmf_sender.hpp: the schedule of RFC 4733 DTMF events on the send clock: which
// tick sends which event packet, and when a request of digits is complete.
#pragma once

#include <mspi/rtp/telephone_event.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mspi::detail {

/// What the send clock does on one tick while digits are being generated.
struct dtmf_action {
  bool send = false;            ///< Send `event` in place of this tick's audio packet.
  bool marker = false;          ///< RTP M bit: the event's first packet (RFC 4733 §2.5.1.1).
  std::uint32_t timestamp = 0;  ///< RTP timestamp of the event: the tick on which it began (§2.5.1.2).
  telephone_event event;        ///< The payload.
  bool request_done = false;    ///< The last digit of a request has now been sent completely.
};

/// Queues DTMF digits and lays each out on the send clock, one packet per tick (ptime), RFC 4733 §2.5.1:
/// - the tone lasts `tone_ms` (or the request's duration) rounded up to whole ticks; each of its ticks
///   sends the event with the same timestamp (the first tick's), the duration so far (ticks × ptime in
///   the event clock's units), the M bit on the first packet only, and the E bit on the last;
/// - the end packet is then sent twice more on the next ticks (three in all, §2.5.1.4), which also
///   stand in for audio;
/// - the next digit starts `gap_ms` (or the request's duration; rounded up to ticks, at least the two
///   retransmissions) after the tone ends; audio flows in the rest of the gap.
/// A request (one generate_digits message) is done when the last end packet of its last digit is sent.
///
/// Storage is fixed (`capacity` digits); nothing allocates. Thread safety: Distinct objects: safe.
/// Shared objects: unsafe (the media thread only).
class dtmf_sender {
 public:
  static constexpr std::size_t capacity = 64;  ///< Digits queued at most, all requests together.
  static constexpr int tone_ms = 100;          ///< Tone duration per digit, ms.
  static constexpr int gap_ms = 60;            ///< Pause between digits, ms.
  static constexpr int end_packets = 3;        ///< Packets with the E bit per event (§2.5.1.4).
  static constexpr std::uint8_t volume = 10;   ///< -10 dBm0, a usual DTMF level (§2.3.4).

  /// Sets the tick length and the event clock (Hz). Does not touch queued digits (a digit in progress
  /// keeps the tick counts it began with).
  void configure(int ptime_ms, int event_rate_hz) noexcept {
    units_per_tick_ = static_cast<std::uint32_t>(std::max(1, event_rate_hz / 1000 * ptime_ms));
    ptime_ms_ = std::max(1, ptime_ms);
  }

  /// Queues `digits` (characters `0-9 * # A-D`) as one request whose digits each sound `duration_ms`
  /// and are followed by as long a pause (GenerateDigits2; at most 0xFFFF), or `tone_ms` and `gap_ms`
  /// when 0. All or nothing: false when one is not a DTMF digit, `digits` is empty, or they do not fit
  /// into the free capacity.
  bool enqueue(std::string_view digits, std::uint32_t duration_ms = 0) noexcept {
    if (digits.empty() || digits.size() > capacity - count_) return false;
    for (char c : digits)
      if (!dtmf_event_code(c)) return false;
    const auto ms = static_cast<std::uint16_t>(std::min<std::uint32_t>(duration_ms, 0xFFFF));
    for (std::size_t i = 0; i < digits.size(); ++i)
      queue_[(head_ + count_ + i) % capacity] = entry{*dtmf_event_code(digits[i]), i + 1 == digits.size(), ms};
    count_ += digits.size();
    return true;
  }

  /// True while a digit is queued or being played (including its gap).
  [[nodiscard]] bool busy() const noexcept { return active_ || count_ > 0; }

  /// Advances one tick whose RTP timestamp is `tick_timestamp` and says what to send on it.
  dtmf_action tick(std::uint32_t tick_timestamp) noexcept {
    if (!active_) {
      if (count_ == 0) return {};
      current_ = queue_[head_];
      head_ = (head_ + 1) % capacity;
      --count_;
      active_ = true;
      tick_ = 0;
      start_timestamp_ = tick_timestamp;
      const int tone = current_.duration_ms ? current_.duration_ms : tone_ms;
      const int gap = current_.duration_ms ? current_.duration_ms : gap_ms;
      tone_ticks_ = std::max(1, (tone + ptime_ms_ - 1) / ptime_ms_);
      gap_ticks_ = std::max(end_packets - 1, (gap + ptime_ms_ - 1) / ptime_ms_);
    }
    dtmf_action a;
    const int k = tick_++;
    if (tick_ >= tone_ticks_ + gap_ticks_) active_ = false;  // the digit and its gap are over
    if (k >= tone_ticks_ + end_packets - 1) return a;        // rest of the gap: audio
    a.send = true;
    a.marker = k == 0;
    a.timestamp = start_timestamp_;
    a.event.event = current_.code;
    a.event.volume = volume;
    a.event.end = k >= tone_ticks_ - 1;
    const std::uint32_t ticks = static_cast<std::uint32_t>(std::min(k + 1, tone_ticks_));
    a.event.duration = static_cast<std::uint16_t>(std::min<std::uint32_t>(ticks * units_per_tick_, 0xFFFF));
    a.request_done = current_.last && k == tone_ticks_ + end_packets - 2;
    return a;
  }

  /// Drops every queued digit and the one in progress. Returns how many requests will now never
  /// complete (each needs its failure reported).
  std::size_t cancel() noexcept {
    std::size_t requests = 0;
    for (std::size_t i = 0; i < count_; ++i) requests += queue_[(head_ + i) % capacity].last;
    if (active_ && current_.last && tick_ <= tone_ticks_ + end_packets - 2) ++requests;
    count_ = 0;
    active_ = false;
    return requests;
  }

 private:
  struct entry {
    std::uint8_t code = 0;
    bool last = false;             // the last digit of its request
    std::uint16_t duration_ms = 0;  // its request's duration, 0: tone_ms and gap_ms
  };
  std::array<entry, capacity> queue_{};
  std::size_t head_ = 0, count_ = 0;
  entry current_{};
  bool active_ = false;
  int tick_ = 0;  // ticks since the current digit began
  std::uint32_t start_timestamp_ = 0;
  std::uint32_t units_per_tick_ = 160;
  int ptime_ms_ = 20;
  int tone_ticks_ = 5, gap_ticks_ = 3;  // of the current digit
};

}  // namespace mspi::detail
