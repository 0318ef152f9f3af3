// ptapi - portable TAPI
// mspi/jitter_buffer.hpp: an adaptive jitter buffer of encoded RTP payloads, ordered by RTP
// sequence number (RFC 3550 §5.1), with loss signalling for PLC and Opus in-band FEC (RFC 7587 §3.2).
#pragma once

#include <mspi/error.hpp>
#include <mspi/rtp/packet.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace mspi {

/// Sizing and adaptation limits of a `jitter_buffer`. Validated by the constructor
/// (`tapi_errc::invalid_argument` outside the ranges below).
struct jitter_buffer_config {
  std::chrono::milliseconds ptime{20};   ///< Playout period: `pop()` is called every ptime (1..1000 ms).
  int min_depth_packets = 1;             ///< Lowest target depth, in packets (≥ 1).
  int max_depth_packets = 10;            ///< Highest target depth, in packets (≥ min_depth_packets).
  std::size_t capacity_packets = 32;     ///< Packets held at most; the sequence window (max_depth..32768).
  std::size_t max_payload_bytes = 1500;  ///< Largest payload accepted, in bytes (1..65535).
};

/// Outcome of `jitter_buffer::push` (classification relative to the RTP sequence, RFC 3550 §5.1).
enum class jitter_push_result {
  accepted,       ///< Stored for playout (also after a resynchronisation).
  duplicate,      ///< Already buffered or already played (counted in `duplicates`).
  late,           ///< Older than the playout point and not played (counted in `late`; raises the target).
                  ///< A packet whose period was just concealed in an underrun is accepted instead (see pop).
  too_far_ahead,  ///< capacity_packets or more ahead of the playout point; not stored.
  too_large,      ///< payload larger than max_payload_bytes; not stored.
};

/// One playout period's worth of output of `jitter_buffer::pop`. The spans point into the buffer (see
/// `jitter_buffer`).
struct jitter_frame {
  /// What to do for this period.
  enum class kind {
    packet,  ///< `payload` holds the packet with `sequence`: decode it.
    lost,    ///< `sequence` is missing: conceal it (PLC), or decode FEC from `next_payload` if set.
    empty,   ///< Nothing to play yet ((re)buffering): play silence/PLC; no sequence number consumed.
  } what = kind::empty;                      ///< What to do for this period.
  std::uint16_t sequence = 0;                ///< The sequence played (packet/lost); 0 for empty.
  std::span<const std::byte> payload;        ///< packet: the payload. Otherwise empty.
  std::span<const std::byte> next_payload;   ///< lost: payload of sequence + 1 when already buffered.
};

/// Counters of a `jitter_buffer` (all since construction or `reset()`), and its current depths.
struct jitter_buffer_stats {
  std::uint64_t received = 0;    ///< Pushes accepted.
  std::uint64_t played = 0;      ///< Pops that returned kind::packet.
  std::uint64_t lost = 0;        ///< Pops that returned kind::lost (including underruns).
  std::uint64_t late = 0;        ///< Pushes after their playout time (rejected as late, or played after a step back).
  std::uint64_t duplicates = 0;  ///< Pushes rejected as duplicates.
  std::uint64_t dropped = 0;     ///< Buffered packets discarded unplayed to shrink the depth.
  std::uint64_t underruns = 0;   ///< Pops that found the buffer empty while playing (also counted in lost).
  int target_depth_packets = 1;  ///< Current target depth, in packets.
  int depth_packets = 0;         ///< Packets currently buffered.
};

/// An adaptive jitter buffer of encoded packets for one RTP stream (one SSRC).
///
/// Storage: all memory (capacity_packets × max_payload_bytes of payload plus bookkeeping) is
/// allocated in the constructor; push, pop and reset never allocate.
///
/// Playout (`pop()`, once per ptime from the receiver's playout clock):
/// - Before the first packet, and while (re)buffering, pop returns kind::empty and consumes no sequence.
/// - Playout starts when depth (packets buffered) ≥ target depth, at the lowest sequence buffered
///   (a packet older than the first one that arrives before playout starts is still accepted).
/// - Playing, each pop plays the next expected sequence: kind::packet when buffered; kind::lost when
///   absent but a later packet is buffered, with `next_payload` set if sequence + 1 is buffered (for
///   Opus FEC). When absent and nothing is buffered, it is an underrun: kind::lost, counted in both
///   `lost` and `underruns`, and the sequence advances, so a lost packet never delays what follows. If
///   a packet of the current run of underruns (no packet played since) arrives after all, it was late,
///   not lost: playout steps back to it (push returns accepted, it counts in `late` and no longer in
///   `lost`, and the target rises by 1), so the delay grows by the periods concealed instead of the
///   packet being thrown away. After max_depth_packets underruns in a row the stream has paused: pop
///   returns kind::empty (not counted lost) and the buffer re-buffers.
///
/// Push classification, relative to the next sequence to play (16-bit wrap-around arithmetic):
/// too_large (payload > max) first; then duplicate (already buffered, or among the last
/// capacity_packets sequences and played); late (older than the playout point otherwise);
/// too_far_ahead (capacity_packets or more ahead); else accepted.
/// Resynchronisation: when playout has stalled, i.e. the last max_depth_packets pops or more all
/// returned empty or an underrun (sender restart, sequence jump, DTX pause), a packet that would be late or
/// too_far_ahead instead flushes the buffer and restarts playout from it (returns accepted).
///
/// Adaptation (the playout delay moves one ptime at a time, and only for lateness, never for loss):
/// - Grow: each late packet (at most capacity_packets behind; anything older is a sequence jump, not
///   jitter) raises the target depth by 1 (up to max_depth_packets) and, while playing, makes the next
///   pop return kind::empty once, so the delay grows by one ptime.
/// - Shrink: a packet that arrives when it is already the next to play (after its predecessor's pop)
///   had less than one ptime of margin, and one period less of delay would have made it late. After
///   2000 ms (2000 / ptime_ms pops) of playout with no late and no such tight packet, the target drops
///   by 1 (not below min_depth_packets) at the first pop that finds both the packet due and the one after
///   it buffered: the packet due is discarded (counted in `dropped`) and the next one played in the same
///   pop; the quiet period then starts again. Under steady jitter the delay therefore settles between
///   the largest delay seen and one ptime above it, without oscillating, and random loss (which makes
///   packets neither late nor tight) does not move it.
///
/// Spans returned by pop() point into the buffer's storage and stay valid until the next
/// push/pop/reset. Thread safety: Distinct objects: safe. Shared objects: unsafe; callers serialise
/// every member (e.g. on one strand). Source: RFC 3550 §5.1 sequence ordering; the adaptation policy is
/// ptapi's own (no RFC specifies one).
class jitter_buffer {
 public:
  /// Allocates all storage. Throws std::system_error(tapi_errc::invalid_argument) for a config
  /// outside the documented ranges, std::bad_alloc when out of memory.
  explicit jitter_buffer(const jitter_buffer_config& config = {})
      : config_(validated(config)),
        capacity_(static_cast<std::uint32_t>(config.capacity_packets)),
        adapt_interval_pops_(std::max(1, static_cast<int>(2000 / config_.ptime.count()))),
        slots_(config.capacity_packets),
        history_(config.capacity_packets),
        storage_(config.capacity_packets * config.max_payload_bytes) {
    reset();
  }

  /// Offers the packet `sequence` (RTP sequence number) with RTP `timestamp` (stored only) and its
  /// encoded `payload` (copied, ≤ max_payload_bytes). See the class comment for the classification.
  /// No errors beyond the result; never throws or allocates.
  jitter_push_result push(std::uint16_t sequence, std::uint32_t timestamp, std::span<const std::byte> payload) noexcept {
    if (payload.size() > config_.max_payload_bytes) return jitter_push_result::too_large;
    if (state_ == state::idle) {
      restart_at(sequence);
      return store(0, sequence, timestamp, payload);
    }
    const std::int32_t delta = seq_delta(sequence, next_);
    if (delta < 0) {
      if (!started_ && depth_ > 0 && highest_delta_ - delta < static_cast<std::int32_t>(capacity_)) {
        // Before playout starts, an earlier packet moves the start back.
        head_ = slot_index(delta);
        next_ = sequence;
        highest_delta_ -= delta;
        return store(0, sequence, timestamp, payload);
      }
      if (-delta <= static_cast<std::int32_t>(capacity_)) {
        const history_entry& h = history_[slot_index(delta)];
        if (h.played && h.sequence == sequence) {
          ++stats_.duplicates;
          return jitter_push_result::duplicate;
        }
      }
      if (stalled()) return resync(sequence, timestamp, payload);
      if (-delta <= underrun_run_) return step_back(delta, sequence, timestamp, payload);
      ++stats_.late;
      if (-delta <= static_cast<std::int32_t>(capacity_)) on_late();  // further back: a jump, not jitter
      return jitter_push_result::late;
    }
    if (delta >= static_cast<std::int32_t>(capacity_)) {
      if (stalled()) return resync(sequence, timestamp, payload);
      return jitter_push_result::too_far_ahead;
    }
    if (slots_[slot_index(delta)].present) {
      ++stats_.duplicates;
      return jitter_push_result::duplicate;
    }
    return store(delta, sequence, timestamp, payload);
  }

  /// Produces the frame for one playout period (see the class comment). Never throws or allocates.
  jitter_frame pop() noexcept {
    jitter_frame f;
    if (state_ == state::idle) return f;
    if (state_ == state::buffering) {
      if (depth_ < target_) return idle_pop(f);
      state_ = state::playing;
      started_ = true;
    }
    if (hold_pops_ > 0) {
      --hold_pops_;
      return idle_pop(f);
    }
    if (++quiet_pops_ >= adapt_interval_pops_) {
      if (target_ <= config_.min_depth_packets) {
        quiet_pops_ = 0;
      } else if (slots_[head_].present && slots_[slot_index(1)].present) {  // else: try again next pop
        quiet_pops_ = 0;
        set_target(target_ - 1);
        ++stats_.dropped;
        advance(true);
      }
    }
    f.sequence = next_;
    if (slots_[head_].present) {
      const slot& s = slots_[head_];
      f.what = jitter_frame::kind::packet;
      f.payload = payload_of(head_, s.size);
      ++stats_.played;
      advance(true);
      stalled_pops_ = 0;
      underrun_run_ = 0;
      return f;
    }
    f.what = jitter_frame::kind::lost;
    ++stats_.lost;
    if (depth_ == 0) {
      ++stats_.underruns;
      ++stalled_pops_;
      if (underrun_run_ >= config_.max_depth_packets) {  // a pause, not loss
        --stats_.lost;
        state_ = state::buffering;
        return jitter_frame{};
      }
      ++underrun_run_;
      advance(false);
      return f;
    }
    underrun_run_ = 0;
    const std::uint32_t next_index = slot_index(1);
    if (slots_[next_index].present) f.next_payload = payload_of(next_index, slots_[next_index].size);
    advance(false);
    stalled_pops_ = 0;
    return f;
  }

  /// Counters and current depths (a reference into the buffer, updated by push/pop/reset). Never throws.
  [[nodiscard]] const jitter_buffer_stats& stats() const noexcept { return stats_; }

  /// Forgets every packet and the playout position, zeroes the statistics and sets the target
  /// depth back to min_depth_packets. Storage is kept. Never throws or allocates.
  void reset() noexcept {
    stats_ = {};
    flush();
    set_target(config_.min_depth_packets);
  }

  /// The configuration given to the constructor. Never throws.
  [[nodiscard]] const jitter_buffer_config& config() const noexcept { return config_; }

 private:
  enum class state { idle, buffering, playing };
  struct slot {
    bool present = false;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::size_t size = 0;
  };
  struct history_entry {
    bool played = false;
    std::uint16_t sequence = 0;
  };

  static const jitter_buffer_config& validated(const jitter_buffer_config& c) {
    const bool ok = c.ptime.count() > 0 && c.ptime.count() <= 1000 && c.min_depth_packets >= 1 && c.max_depth_packets >= c.min_depth_packets &&
                    c.capacity_packets >= static_cast<std::size_t>(c.max_depth_packets) &&
                    c.capacity_packets <= 32768 && c.max_payload_bytes >= 1 && c.max_payload_bytes <= 65535;
    if (!ok) throw_if(tapi_errc::invalid_argument, "jitter_buffer: invalid configuration");
    return c;
  }

  // Slot of the sequence `delta` after next_ (delta may be negative, ≥ −capacity).
  [[nodiscard]] std::uint32_t slot_index(std::int32_t delta) const noexcept {
    return static_cast<std::uint32_t>((static_cast<std::int64_t>(head_) + delta + capacity_) % capacity_);
  }
  [[nodiscard]] std::span<const std::byte> payload_of(std::uint32_t index, std::size_t size) const noexcept {
    return {storage_.data() + std::size_t{index} * config_.max_payload_bytes, size};
  }
  [[nodiscard]] bool stalled() const noexcept { return stalled_pops_ >= config_.max_depth_packets; }

  jitter_push_result store(std::int32_t delta, std::uint16_t sequence, std::uint32_t timestamp,
                           std::span<const std::byte> payload) noexcept {
    const std::uint32_t index = slot_index(delta);
    slot& s = slots_[index];
    s.present = true;
    s.sequence = sequence;
    s.timestamp = timestamp;
    s.size = payload.size();
    std::copy(payload.begin(), payload.end(), storage_.begin() + static_cast<std::ptrdiff_t>(index * config_.max_payload_bytes));
    if (delta > highest_delta_) highest_delta_ = delta;
    if (delta == 0 && state_ == state::playing) quiet_pops_ = 0;  // tight: less than a ptime of margin
    ++depth_;
    stats_.depth_packets = depth_;
    ++stats_.received;
    return jitter_push_result::accepted;
  }

  // Moves the playout point past next_, recording in the history whether it was played (or dropped).
  void advance(bool consumed_packet) noexcept {
    slot& s = slots_[head_];
    if (s.present) {
      s.present = false;
      --depth_;
      stats_.depth_packets = depth_;
    }
    history_[head_] = {consumed_packet, next_};
    head_ = (head_ + 1) % capacity_;
    ++next_;
    if (highest_delta_ > 0) --highest_delta_;
  }

  // A packet of the current underrun run (delta < 0) arrives: playout steps back to it.
  jitter_push_result step_back(std::int32_t delta, std::uint16_t sequence, std::uint32_t timestamp,
                               std::span<const std::byte> payload) noexcept {
    for (std::int32_t k = delta; k < 0; ++k) history_[slot_index(k)] = {};
    head_ = slot_index(delta);
    next_ = sequence;
    if (depth_ > 0) highest_delta_ -= delta;
    underrun_run_ += delta;
    stats_.lost -= static_cast<std::uint64_t>(-delta);
    ++stats_.late;
    quiet_pops_ = 0;
    if (target_ < config_.max_depth_packets) set_target(target_ + 1);
    return store(0, sequence, timestamp, payload);
  }

  jitter_frame idle_pop(jitter_frame f) noexcept {
    ++stalled_pops_;
    return f;
  }

  void on_late() noexcept {
    quiet_pops_ = 0;
    if (target_ < config_.max_depth_packets) {
      set_target(target_ + 1);
      if (state_ == state::playing) ++hold_pops_;
    }
  }

  jitter_push_result resync(std::uint16_t sequence, std::uint32_t timestamp, std::span<const std::byte> payload) noexcept {
    flush();
    restart_at(sequence);
    return store(0, sequence, timestamp, payload);
  }

  void restart_at(std::uint16_t sequence) noexcept {
    state_ = state::buffering;
    next_ = sequence;
    highest_delta_ = 0;
  }

  void flush() noexcept {
    for (slot& s : slots_) s = {};
    for (history_entry& h : history_) h = {};
    state_ = state::idle;
    started_ = false;
    head_ = 0;
    next_ = 0;
    depth_ = 0;
    highest_delta_ = 0;
    hold_pops_ = 0;
    quiet_pops_ = 0;
    stalled_pops_ = 0;
    underrun_run_ = 0;
    stats_.depth_packets = 0;
  }

  void set_target(int t) noexcept {
    target_ = t;
    stats_.target_depth_packets = t;
  }

  jitter_buffer_config config_;
  std::uint32_t capacity_;
  int adapt_interval_pops_;
  std::vector<slot> slots_;             // ring: slots_[head_] holds next_
  std::vector<history_entry> history_;  // ring: the capacity_ sequences before next_
  std::vector<std::byte> storage_;      // capacity × max_payload_bytes, slot i at i × max_payload_bytes
  jitter_buffer_stats stats_;
  state state_ = state::idle;
  bool started_ = false;           // a sequence has been played since the last (re)start
  std::uint32_t head_ = 0;
  std::uint16_t next_ = 0;         // next sequence to play
  int depth_ = 0;
  std::int32_t highest_delta_ = 0; // highest buffered sequence − next_ (0 when empty)
  int target_ = 1;
  int hold_pops_ = 0;
  int quiet_pops_ = 0;
  int stalled_pops_ = 0;
  int underrun_run_ = 0;           // underruns in a row that consumed their sequence
};

}  // namespace mspi
