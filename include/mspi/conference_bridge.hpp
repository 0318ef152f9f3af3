// ptapi - portable TAPI
// mspi/conference_bridge.hpp: the local audio mixer of a conference (TAPI 3's call hub, ITCallHub, as an
// MSP mixes it): calls of one MSP join and leave it, and each hears the others, never itself.
#pragma once

#include <mspi/detail/sample_ring.hpp>
#include <mspi/media_types.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

namespace mspi {

/// A local conference bridge: up to `max_parties` calls (parties) mix their audio through it, each on
/// whichever media thread runs it.
///
/// Each party, once per frame on its own media thread:
/// - `conference_port::deliver`s the audio it received from its remote party (decoded, 48 kHz mono, one
///   frame), which goes to every other joined party;
/// - `conference_port::mix_others` adds, with saturation to [-32768, 32767], the frames every other joined
///   party delivered to the frame it is about to send (its local capture, or silence): a party hears all
///   the others and never itself. The sum of the others is kept for `add_others`, which the party's render
///   path adds to what it plays, so the local user's render terminal hears everyone.
///
/// Between parties, audio goes through one preallocated lock-free SPSC ring per ordered pair of slots
/// (`detail::sample_ring`, `ring_frames` frames each: producer the sender's media thread, consumer the
/// receiver's), allocated in the constructor. The two media threads tick at the same rate in unrelated
/// phases, so a consumer first lets a ring fill to two frames (one frame of prefill: the bridge adds one
/// frame of latency) and then takes one frame per tick; the cushion absorbs up to a frame of scheduling
/// jitter between the two threads. A consumer that finds more than `max_lag_frames` queued drops the oldest
/// (clock drift or a party that started later stays bounded in latency); one that finds less than a frame
/// in a primed ring mixes silence for that party, counts an underrun (`conference_port::underrun_frames`)
/// and lets the ring fill to two frames again. A party that does not receive yet is silent. Nothing on the
/// media path allocates, locks or blocks. Memory: `max_parties × (max_parties - 1) × ring_frames ×
/// frame_samples × 2` bytes (8 parties, 20 ms frames: 0.86 MB).
///
/// Joining takes a free slot (`join`, any thread); a slot is freed by `conference_port::leave`, which the
/// party calls on its media thread after its last frame. A slot taken again by a new party starts with
/// empty rings: each consumer drains a ring whose producer slot has a new generation.
///
/// Source: TAPI 3 ITCallHub (a hub's calls share one conversation; TAPI leaves the mixing to the MSP).
///
/// @par Thread Safety
/// `join`, `joined_count` and the getters: any thread. A `conference_port`: only the media thread of its
/// party after it is handed there (its constructor and destructor on any thread while no media thread uses
/// it).
class conference_bridge : public std::enable_shared_from_this<conference_bridge> {
 public:
  /// The most parties a bridge mixes at once (TAPI's ITCallHub has no limit; ours is fixed so that the
  /// rings are preallocated).
  static constexpr std::size_t max_parties = 8;
  /// Frames each ring holds (at `frame_samples` samples each).
  static constexpr std::size_t ring_frames = 8;
  /// More than this many queued frames: the consumer drops the oldest.
  static constexpr std::size_t max_lag_frames = 3;
  /// Frames a ring holds before its consumer starts taking them (one frame of prefill), and again after an
  /// underrun.
  static constexpr std::size_t prefill_frames = 2;

  /// A bridge for frames of `frame_samples` 48 kHz samples (the MSP's ptime, at most `max_frame_samples`).
  /// Allocates every ring. Throws std::bad_alloc; `frame_samples` 0 or above `max_frame_samples` gives
  /// std::invalid_argument.
  explicit conference_bridge(std::size_t frame_samples) : frame_samples_(frame_samples) {
    if (frame_samples == 0 || frame_samples > max_frame_samples) throw std::invalid_argument("conference_bridge: frame size");
    rings_.reserve(max_parties * max_parties);
    for (std::size_t i = 0; i < max_parties * max_parties; ++i)
      rings_.push_back(i / max_parties == i % max_parties ? nullptr
                                                          : std::make_unique<detail::sample_ring>(ring_frames * frame_samples));
  }
  conference_bridge(const conference_bridge&) = delete;
  conference_bridge& operator=(const conference_bridge&) = delete;

  /// Samples per frame (48 kHz). Any thread.
  [[nodiscard]] std::size_t frame_samples() const noexcept { return frame_samples_; }

  /// Parties joined now (any thread; a snapshot).
  [[nodiscard]] std::size_t joined_count() const noexcept {
    std::size_t n = 0;
    for (const auto& s : slots_) n += s.joined.load(std::memory_order_acquire);
    return n;
  }

  class conference_port;
  /// Takes a free slot for a new party (any thread; allocates the port and its frame buffer). Null when
  /// `max_parties` are joined. The port is joined at once: others start sending it audio.
  std::shared_ptr<conference_port> join();

 private:
  friend class conference_port;
  struct slot {
    std::atomic<bool> taken{false};   // a port owns the slot (until leave)
    std::atomic<bool> joined{false};  // the slot's party mixes
    std::atomic<std::uint32_t> generation{0};
  };
  detail::sample_ring& ring(std::size_t from, std::size_t to) noexcept { return *rings_[from * max_parties + to]; }

  const std::size_t frame_samples_;
  std::array<slot, max_parties> slots_;
  std::vector<std::unique_ptr<detail::sample_ring>> rings_;  // [from * max_parties + to], null on the diagonal
};

/// One party's place in a `conference_bridge` (see there). Holds the bridge alive.
///
/// @par Thread Safety
/// Only the party's media thread, except construction (by `join`) and destruction (which leaves).
class conference_bridge::conference_port {
 public:
  /// The party in `slot` (< `max_parties`, taken by `conference_bridge::join`) of `bridge` (not null). Only
  /// `join` makes ports; allocates the port's two frames (`frame_samples` each). Throws only std::bad_alloc.
  conference_port(std::shared_ptr<conference_bridge> bridge, std::size_t slot)
      : bridge_(std::move(bridge)), slot_(slot), others_(bridge_->frame_samples_), scratch_(bridge_->frame_samples_) {}
  conference_port(const conference_port&) = delete;
  conference_port& operator=(const conference_port&) = delete;
  ~conference_port() { leave(); }

  /// The bridge slot of this party (0..max_parties-1).
  [[nodiscard]] std::size_t slot() const noexcept { return slot_; }
  /// The bridge. Never null.
  [[nodiscard]] const std::shared_ptr<conference_bridge>& bridge() const noexcept { return bridge_; }
  /// Whether the party still mixes (false after `leave`).
  [[nodiscard]] bool joined() const noexcept { return joined_; }

  /// Media thread: the party's received audio for one frame goes to every other joined party. `pcm`
  /// longer than a frame is cut to one frame. No allocation; drops what a full ring cannot take.
  void deliver(std::span<const std::int16_t> pcm) noexcept {
    if (!joined_) return;
    pcm = pcm.first(std::min(pcm.size(), bridge_->frame_samples_));
    for (std::size_t to = 0; to < max_parties; ++to)
      if (to != slot_ && bridge_->slots_[to].joined.load(std::memory_order_acquire)) bridge_->ring(slot_, to).push(pcm);
  }

  /// Media thread: adds (saturating) one frame of every other joined party's received audio to `pcm`
  /// (one frame long, else only its first frame is mixed) and keeps that sum for `add_others`. A party
  /// whose ring is still filling (below `prefill_frames`) adds silence; one whose primed ring ran dry adds
  /// silence and counts one underrun frame.
  void mix_others(std::span<std::int16_t> pcm) noexcept {
    std::fill(others_.begin(), others_.end(), 0);
    if (!joined_) return;
    const std::size_t n = bridge_->frame_samples_;
    for (std::size_t from = 0; from < max_parties; ++from) {
      if (from == slot_) continue;
      auto& s = bridge_->slots_[from];
      auto& r = bridge_->ring(from, slot_);
      const std::uint32_t g = s.generation.load(std::memory_order_acquire);
      if (g != seen_[from]) {  // a new party in that slot, or the first frame: what the ring holds is stale
        seen_[from] = g;
        primed_[from] = false;
        while (r.pop(scratch_) > 0) {}
      }
      if (!s.joined.load(std::memory_order_acquire)) continue;
      const auto frame = std::span<std::int16_t>(scratch_).first(n);
      while (r.queued_from_consumer() > max_lag_frames * n) (void)r.pop(frame);
      const std::size_t queued = r.queued_from_consumer();
      if (!primed_[from]) {
        if (queued < prefill_frames * n) continue;  // still filling: silence from this party
        primed_[from] = true;
      } else if (queued < n) {  // ran dry: silence now, and fill the cushion again
        primed_[from] = false;
        underruns_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      const std::size_t got = r.pop(frame);
      for (std::size_t i = 0; i < got; ++i) others_[i] += scratch_[i];
    }
    const std::size_t m = std::min(n, pcm.size());
    for (std::size_t i = 0; i < m; ++i) pcm[i] = saturate(pcm[i] + others_[i]);
  }

  /// Media thread: adds (saturating) the others' sum of the last `mix_others` to `pcm` (what the local
  /// user hears: this party and everyone else).
  void add_others(std::span<std::int16_t> pcm) const noexcept {
    if (!joined_) return;
    const std::size_t m = std::min(pcm.size(), others_.size());
    for (std::size_t i = 0; i < m; ++i) pcm[i] = saturate(pcm[i] + others_[i]);
  }

  /// Frames in which another party's primed ring had less than a frame for this party (each gave this
  /// party one frame of silence from that one): the two media threads' jitter exceeded the prefill, or a
  /// party stopped receiving. Any thread (relaxed counter).
  [[nodiscard]] std::uint64_t underrun_frames() const noexcept { return underruns_.load(std::memory_order_relaxed); }

  /// Media thread (or any thread once no media thread uses the port): stops mixing and frees the slot
  /// for another party. The others stop hearing this party at their next frame and continue. Idempotent.
  void leave() noexcept {
    if (!joined_) return;
    joined_ = false;
    auto& s = bridge_->slots_[slot_];
    s.joined.store(false, std::memory_order_release);
    s.taken.store(false, std::memory_order_release);
  }

 private:
  static std::int16_t saturate(std::int32_t v) noexcept { return static_cast<std::int16_t>(std::clamp(v, -32768, 32767)); }

  std::shared_ptr<conference_bridge> bridge_;
  std::size_t slot_;
  bool joined_ = true;
  std::vector<std::int32_t> others_;       // sum of the others' last frames
  std::vector<std::int16_t> scratch_;      // one frame popped from a ring
  std::array<std::uint32_t, max_parties> seen_{};  // producer generations seen (0: none yet)
  std::array<bool, max_parties> primed_{};         // that party's ring reached `prefill_frames` since it last ran dry
  std::atomic<std::uint64_t> underruns_{0};
};

inline std::shared_ptr<conference_bridge::conference_port> conference_bridge::join() {
  for (std::size_t i = 0; i < max_parties; ++i) {
    bool expected = false;
    if (!slots_[i].taken.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) continue;
    slots_[i].generation.fetch_add(1, std::memory_order_acq_rel);
    auto port = std::make_shared<conference_port>(shared_from_this(), i);
    slots_[i].joined.store(true, std::memory_order_release);
    return port;
  }
  return nullptr;
}

}  // namespace mspi
