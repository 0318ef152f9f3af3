// ptapi - portable TAPI
// mspi/rtp/rtcp.hpp: RTCP sender and receiver reports (RFC 3550 §6.4), SDES CNAME (§6.5), compound
// packet parsing (§6.1), receiver statistics (Appendix A.1, A.3, A.8) and NTP timestamps (§4).
#pragma once

#include <mspi/rtp/packet.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace mspi {

/// One reception report block (RFC 3550 §6.4.1), 24 bytes on the wire.
struct report_block {
  std::uint32_t ssrc = 0;                       ///< SSRC_n: the source this block reports on.
  std::uint8_t fraction_lost = 0;               ///< Lost fraction since the previous report, × 256 (8-bit fixed point).
  std::int32_t cumulative_lost = 0;             ///< Packets lost since the start, 24-bit signed (−2^23 .. 2^23−1).
  std::uint32_t extended_highest_sequence = 0;  ///< Cycles × 65536 + highest sequence number received.
  std::uint32_t jitter = 0;                     ///< Interarrival jitter, in RTP timestamp units (§6.4.1, A.8).
  std::uint32_t last_sr = 0;                    ///< LSR: middle 32 bits of the last SR's NTP timestamp, 0 if none.
  std::uint32_t delay_since_last_sr = 0;        ///< DLSR: delay since that SR was received, in 1/65536 s; 0 if none.
};

/// The sender info section of a sender report (RFC 3550 §6.4.1), 20 bytes on the wire.
struct sender_info {
  std::uint64_t ntp_timestamp = 0;  ///< Wallclock at sending, NTP format (32.32 fixed point seconds since 1900).
  std::uint32_t rtp_timestamp = 0;  ///< The same instant in RTP timestamp units of the sender's media clock.
  std::uint32_t packet_count = 0;   ///< RTP data packets sent since the start (wraps at 2^32).
  std::uint32_t octet_count = 0;    ///< RTP payload octets sent since the start (wraps at 2^32).
};

/// RTCP packet types (RFC 3550 §12.1).
enum class rtcp_packet_type : std::uint8_t {
  sr = 200,    ///< Sender report (§6.4.1).
  rr = 201,    ///< Receiver report (§6.4.2).
  sdes = 202,  ///< Source description (§6.5).
  bye = 203,   ///< Goodbye (§6.6).
  app = 204,   ///< Application-defined (§6.7).
};

namespace detail {
inline constexpr std::size_t rtcp_header_bytes = 4;
inline constexpr std::size_t sender_info_bytes = 20;
inline constexpr std::size_t report_block_bytes = 24;
inline constexpr std::uint8_t sdes_cname = 1;  // SDES item type CNAME (RFC 3550 §6.5.1)

// The 4-byte common RTCP header (RFC 3550 §6.4.1): V=2, P=0, count (5 bits), PT, length in 32-bit
// words minus one. `total_bytes` is a multiple of 4.
constexpr void write_rtcp_header(std::byte* p, unsigned count, rtcp_packet_type type, std::size_t total_bytes) noexcept {
  p[0] = static_cast<std::byte>((rtp_version << 6) | (count & 0x1FU));
  p[1] = static_cast<std::byte>(type);
  store_u16(p + 2, static_cast<std::uint16_t>(total_bytes / 4 - 1));
}

constexpr void write_report_block(std::byte* p, const report_block& b) noexcept {
  store_u32(p, b.ssrc);
  // Fraction lost in the top octet, cumulative lost as 24-bit two's complement below it.
  store_u32(p + 4, (std::uint32_t{b.fraction_lost} << 24) | (static_cast<std::uint32_t>(b.cumulative_lost) & 0xFFFFFFU));
  store_u32(p + 8, b.extended_highest_sequence);
  store_u32(p + 12, b.jitter);
  store_u32(p + 16, b.last_sr);
  store_u32(p + 20, b.delay_since_last_sr);
}

constexpr report_block read_report_block(const std::byte* p) noexcept {
  report_block b;
  b.ssrc = load_u32(p);
  const std::uint32_t word = load_u32(p + 4);
  b.fraction_lost = static_cast<std::uint8_t>(word >> 24);
  const std::uint32_t lost24 = word & 0xFFFFFFU;
  // Sign-extend the 24-bit field.
  b.cumulative_lost = (lost24 & 0x800000U) != 0 ? static_cast<std::int32_t>(lost24) - 0x1000000 : static_cast<std::int32_t>(lost24);
  b.extended_highest_sequence = load_u32(p + 8);
  b.jitter = load_u32(p + 12);
  b.last_sr = load_u32(p + 16);
  b.delay_since_last_sr = load_u32(p + 20);
  return b;
}

// SR and RR share everything but the sender info section.
inline std::size_t write_report(std::span<std::byte> out, rtcp_packet_type type, std::uint32_t ssrc,
                                const sender_info* sender, const report_block* block) noexcept {
  const std::size_t total = rtcp_header_bytes + 4 + (sender != nullptr ? sender_info_bytes : 0) +
                            (block != nullptr ? report_block_bytes : 0);
  if (out.size() < total) return 0;
  std::byte* p = out.data();
  write_rtcp_header(p, block != nullptr ? 1U : 0U, type, total);
  store_u32(p + 4, ssrc);
  p += 8;
  if (sender != nullptr) {
    store_u32(p, static_cast<std::uint32_t>(sender->ntp_timestamp >> 32));
    store_u32(p + 4, static_cast<std::uint32_t>(sender->ntp_timestamp));
    store_u32(p + 8, sender->rtp_timestamp);
    store_u32(p + 12, sender->packet_count);
    store_u32(p + 16, sender->octet_count);
    p += sender_info_bytes;
  }
  if (block != nullptr) write_report_block(p, *block);
  return total;
}
}  // namespace detail

/// Writes a sender report (RFC 3550 §6.4.1, PT=200) from `ssrc` with `info` and zero or one report
/// block (`block` may be null: RC=0). Size: 28 bytes, 52 with a block.
/// Returns the bytes written, or 0 when `out` is too small (then `out` is untouched).
/// A compound packet (§6.1) starts with this (or an RR) and must also carry an SDES CNAME: append
/// `write_sdes_cname` at the returned offset.
/// Thread safety: pure function. No allocation.
inline std::size_t write_sender_report(std::span<std::byte> out, std::uint32_t ssrc, const sender_info& info,
                                       const report_block* block) noexcept {
  return detail::write_report(out, rtcp_packet_type::sr, ssrc, &info, block);
}

/// Writes a receiver report (RFC 3550 §6.4.2, PT=201) from `ssrc` with zero or one report block
/// (`block` may be null: RC=0, the empty RR of §6.4.2). Size: 8 bytes, 32 with a block.
/// Returns the bytes written, or 0 when `out` is too small (then `out` is untouched).
/// Thread safety: pure function. No allocation.
inline std::size_t write_receiver_report(std::span<std::byte> out, std::uint32_t ssrc, const report_block* block) noexcept {
  return detail::write_report(out, rtcp_packet_type::rr, ssrc, nullptr, block);
}

/// Writes an SDES packet (RFC 3550 §6.5, PT=202) with one chunk for `ssrc` holding one CNAME item
/// (§6.5.1) of `cname` (1..255 bytes, e.g. "user@host"), null-terminated and padded to 32 bits.
/// Size: 4 + 4 + round_up_to_4(2 + cname.size() + 1) bytes.
/// Returns the bytes written, or 0 when `out` is too small or `cname` is empty or longer than 255.
/// Thread safety: pure function. No allocation.
inline std::size_t write_sdes_cname(std::span<std::byte> out, std::uint32_t ssrc, std::string_view cname) noexcept {
  if (cname.empty() || cname.size() > 255) return 0;
  const std::size_t items = (2 + cname.size() + 1 + 3) / 4 * 4;  // item, ≥ 1 null octet, 32-bit alignment
  const std::size_t total = detail::rtcp_header_bytes + 4 + items;
  if (out.size() < total) return 0;
  std::byte* p = out.data();
  detail::write_rtcp_header(p, 1U, rtcp_packet_type::sdes, total);
  detail::store_u32(p + 4, ssrc);
  std::byte* item = p + 8;
  item[0] = static_cast<std::byte>(detail::sdes_cname);
  item[1] = static_cast<std::byte>(cname.size());
  for (std::size_t i = 0; i < cname.size(); ++i) item[2 + i] = static_cast<std::byte>(cname[i]);
  for (std::size_t i = 2 + cname.size(); i < items; ++i) item[i] = std::byte{0};
  return total;
}

/// What `parse_rtcp` extracts from a compound RTCP packet: its first SR or RR (RFC 3550 §6.4).
struct rtcp_report {
  std::uint32_t sender_ssrc = 0;        ///< SSRC of the SR/RR's originator.
  std::optional<sender_info> sender;    ///< Set for an SR, empty for an RR.
  std::optional<report_block> block;    ///< The first report block, if RC ≥ 1 (further blocks are ignored).
};

/// Walks a compound RTCP packet (RFC 3550 §6.1) and returns its first SR or RR.
/// Validation (in the spirit of Appendix A.2): every packet has version 2 and a length that fits in
/// the datagram; the lengths add up exactly to the datagram size; only the last packet may set P,
/// and its padding count must be ≥ 1 and fit in the packet; an SR/RR must be long enough for its
/// report count (RC). Unknown packet types (SDES, BYE, APP, RTPFB, ...) are skipped.
/// Deliberately lenient: the first packet need not be an SR/RR (reduced-size RTCP, RFC 5506).
/// Returns std::nullopt when the datagram is malformed or contains no SR/RR. Never reads out of bounds.
/// Thread safety: pure function. No allocation.
inline std::optional<rtcp_report> parse_rtcp(std::span<const std::byte> compound) noexcept {
  std::optional<rtcp_report> found;
  std::size_t offset = 0;
  const std::size_t size = compound.size();
  while (offset < size) {
    if (size - offset < detail::rtcp_header_bytes) return std::nullopt;
    const std::byte* p = compound.data() + offset;
    const unsigned b0 = std::to_integer<unsigned>(p[0]);
    if ((b0 >> 6) != detail::rtp_version) return std::nullopt;
    const std::size_t length = (std::size_t{detail::load_u16(p + 2)} + 1) * 4;
    if (length > size - offset) return std::nullopt;
    std::size_t body_end = length;  // bytes of this packet that are not padding
    if ((b0 & 0x20U) != 0) {
      if (offset + length != size) return std::nullopt;  // P only on the last packet (A.2)
      const std::size_t pad = std::to_integer<std::size_t>(p[length - 1]);
      if (pad == 0 || pad > length - detail::rtcp_header_bytes) return std::nullopt;
      body_end -= pad;
    }
    const unsigned count = b0 & 0x1FU;
    const unsigned type = std::to_integer<unsigned>(p[1]);
    if (type == static_cast<unsigned>(rtcp_packet_type::sr) || type == static_cast<unsigned>(rtcp_packet_type::rr)) {
      const bool is_sr = type == static_cast<unsigned>(rtcp_packet_type::sr);
      const std::size_t fixed = detail::rtcp_header_bytes + 4 + (is_sr ? detail::sender_info_bytes : 0);
      if (body_end < fixed + count * detail::report_block_bytes) return std::nullopt;
      if (!found) {
        rtcp_report r;
        r.sender_ssrc = detail::load_u32(p + 4);
        if (is_sr) {
          const std::byte* s = p + 8;
          r.sender = sender_info{(std::uint64_t{detail::load_u32(s)} << 32) | detail::load_u32(s + 4),
                                 detail::load_u32(s + 8), detail::load_u32(s + 12), detail::load_u32(s + 16)};
        }
        if (count > 0) r.block = detail::read_report_block(p + fixed);
        found = r;
      }
    }
    offset += length;
  }
  return found;
}

/// Per-source reception statistics of an RTP receiver, for its report blocks (RFC 3550 Appendix A).
/// - A.1 sequence tracking: extended highest sequence with wrap-around cycles; a jump of ≥ 3000
///   (MAX_DROPOUT) ahead or more than 100 (MAX_MISORDER) behind is ignored unless the next packet
///   follows it, in which case the source is assumed restarted and the statistics start over.
///   Simplification: no MIN_SEQUENTIAL probation here; the session validates a source before feeding
///   it (`source_probation`), so the first packet given here starts the statistics.
/// - A.3 loss: expected = extended highest − base + 1; cumulative lost = expected − received, clamped
///   to 24-bit signed (negative with duplicates); fraction lost over the interval since the previous
///   `make_report_block`.
/// - A.8 interarrival jitter, in timestamp units, with the integer estimator of A.8 (16× scaled, gain 1/16).
///   The first packet only sets the reference transit time.
/// Thread safety: Distinct objects: safe. Shared objects: unsafe (one instance per remote source, used
/// from one strand). No member allocates or throws.
class receiver_statistics {
 public:
  /// Records one received RTP data packet: its sequence number, its RTP timestamp, and its arrival
  /// time converted to the same clock (RTP timestamp units, e.g. 48000 Hz; any fixed origin, wraps).
  /// RFC 3550 A.1 update_seq and A.8. With `timing` false the packet counts for sequence and loss only,
  /// not for jitter: for packets whose timestamp is not their sampling instant, such as the repeated
  /// timestamp of an RFC 4733 event (§2.5.1.2). No errors: a packet after an unconfirmed jump is not counted.
  void on_packet(std::uint16_t seq, std::uint32_t rtp_timestamp, std::uint32_t arrival_in_timestamp_units,
                 bool timing = true) noexcept {
    if (!started_) {
      init_sequence(seq);
      started_ = true;
    } else if (!update_sequence(seq)) {
      return;  // bad jump, waiting for confirmation (A.1)
    }
    ++received_;
    if (timing) update_jitter(rtp_timestamp, arrival_in_timestamp_units);
  }

  /// Builds the report block on this source (`remote_ssrc`) with `last_sr` (LSR, see `ntp_middle32`)
  /// and `dlsr` (1/65536 s units, see `to_dlsr`), and starts a new interval for `fraction_lost` (A.3).
  /// RFC 3550 §6.4.1. No errors.
  report_block make_report_block(std::uint32_t remote_ssrc, std::uint32_t last_sr, std::uint32_t dlsr) noexcept {
    const std::uint32_t expected = expected_packets();
    const std::uint32_t expected_interval = expected - expected_prior_;
    const std::uint32_t received_interval = received_ - received_prior_;
    expected_prior_ = expected;
    received_prior_ = received_;
    const std::int64_t lost_interval = std::int64_t{expected_interval} - std::int64_t{received_interval};
    report_block b;
    b.ssrc = remote_ssrc;
    b.fraction_lost = (expected_interval == 0 || lost_interval <= 0)
                          ? std::uint8_t{0}
                          : static_cast<std::uint8_t>((lost_interval << 8) / expected_interval);
    b.cumulative_lost = cumulative_lost();
    b.extended_highest_sequence = extended_highest_sequence();
    b.jitter = jitter();
    b.last_sr = last_sr;
    b.delay_since_last_sr = dlsr;
    return b;
  }

  /// Packets counted as received (A.1: including duplicates, excluding unconfirmed jumps).
  [[nodiscard]] std::uint32_t packets_received() const noexcept { return received_; }
  /// Expected − received, clamped to [−2^23, 2^23 − 1] (the 24-bit field of §6.4.1). 0 before any packet.
  [[nodiscard]] std::int32_t cumulative_lost() const noexcept {
    const std::int64_t lost = std::int64_t{expected_packets()} - std::int64_t{received_};
    if (lost > 0x7FFFFF) return 0x7FFFFF;
    if (lost < -0x800000) return -0x800000;
    return static_cast<std::int32_t>(lost);
  }
  /// Interarrival jitter estimate, in RTP timestamp units (A.8).
  [[nodiscard]] std::uint32_t jitter() const noexcept { return jitter_q4_ >> 4; }
  /// Cycles × 65536 + highest sequence number received (§6.4.1). 0 before any packet.
  [[nodiscard]] std::uint32_t extended_highest_sequence() const noexcept { return cycles_ + max_seq_; }

 private:
  static constexpr std::uint32_t seq_mod = 1U << 16;
  static constexpr std::uint32_t max_dropout = 3000;
  static constexpr std::uint32_t max_misorder = 100;

  [[nodiscard]] std::uint32_t expected_packets() const noexcept {
    return started_ ? extended_highest_sequence() - base_seq_ + 1 : 0;
  }

  void init_sequence(std::uint16_t seq) noexcept {  // A.1 init_seq
    base_seq_ = seq;
    max_seq_ = seq;
    bad_seq_ = seq_mod + 1;
    cycles_ = 0;
    received_ = 0;
    received_prior_ = 0;
    expected_prior_ = 0;
    has_transit_ = false;
  }

  // A.1 update_seq without probation. Returns false when the packet is not counted.
  bool update_sequence(std::uint16_t seq) noexcept {
    const auto udelta = static_cast<std::uint16_t>(seq - max_seq_);
    if (udelta < max_dropout) {
      if (seq < max_seq_) cycles_ += seq_mod;  // in order with a permissible gap; wrapped
      max_seq_ = seq;
    } else if (udelta <= seq_mod - max_misorder) {  // a very large jump
      if (seq == bad_seq_) {
        init_sequence(seq);  // two sequential packets: the source restarted
      } else {
        bad_seq_ = (std::uint32_t{seq} + 1) & (seq_mod - 1);
        return false;
      }
    }
    // else: duplicate or reordered packet, counted as received
    return true;
  }

  void update_jitter(std::uint32_t rtp_timestamp, std::uint32_t arrival) noexcept {  // A.8
    const std::uint32_t transit = arrival - rtp_timestamp;  // modulo 2^32, differences stay meaningful
    if (!has_transit_) {
      has_transit_ = true;
      transit_ = transit;
      return;
    }
    const auto signed_d = static_cast<std::int32_t>(transit - transit_);
    transit_ = transit;
    const std::uint32_t d = signed_d < 0 ? 0U - static_cast<std::uint32_t>(signed_d) : static_cast<std::uint32_t>(signed_d);
    jitter_q4_ += d - ((jitter_q4_ + 8) >> 4);
  }

  bool started_ = false;
  bool has_transit_ = false;
  std::uint16_t max_seq_ = 0;
  std::uint32_t cycles_ = 0;
  std::uint32_t base_seq_ = 0;
  std::uint32_t bad_seq_ = seq_mod + 1;
  std::uint32_t received_ = 0;
  std::uint32_t expected_prior_ = 0;
  std::uint32_t received_prior_ = 0;
  std::uint32_t transit_ = 0;
  std::uint32_t jitter_q4_ = 0;  // jitter × 16
};

/// RFC 3550 A.1 source validation of one candidate source: it becomes valid after MIN_SEQUENTIAL (2)
/// packets of one SSRC with consecutive sequence numbers. Guards an RTP receiver against taking a new
/// SSRC (or, with symmetric RTP, a new source address) on the strength of a single stray or forged packet.
/// Thread safety: Distinct objects: safe. Shared objects: unsafe. No member allocates or throws.
class source_probation {
 public:
  /// MIN_SEQUENTIAL of RFC 3550 A.1: consecutive packets needed to validate a source.
  static constexpr int min_sequential = 2;

  /// Records one packet of `ssrc` with sequence number `seq`. Returns true when it completes the
  /// probation of `ssrc` (it follows the candidate's previous packet, seq + 1 modulo 2^16); the
  /// candidate is then forgotten. A packet of another SSRC, or out of sequence, starts a new probation
  /// with itself as the first packet (returns false).
  bool on_packet(std::uint32_t ssrc, std::uint16_t seq) noexcept {
    if (probation_ > 0 && ssrc == ssrc_ && seq == static_cast<std::uint16_t>(max_seq_ + 1)) {
      max_seq_ = seq;
      if (--probation_ == 0) return true;
      return false;
    }
    ssrc_ = ssrc;
    max_seq_ = seq;
    probation_ = min_sequential - 1;
    return false;
  }
  /// Forgets the candidate. No errors.
  void reset() noexcept { probation_ = 0; }
  /// True while a candidate has sent some, but not enough, consecutive packets.
  [[nodiscard]] bool on_probation() const noexcept { return probation_ > 0; }
  /// The candidate's SSRC (meaningful while `on_probation()`).
  [[nodiscard]] std::uint32_t ssrc() const noexcept { return ssrc_; }

 private:
  std::uint32_t ssrc_ = 0;
  std::uint16_t max_seq_ = 0;
  int probation_ = 0;  // packets still needed; 0 = no candidate
};

/// Whether a report block about a stream we send can be true (RFC 3550 §6.4.1 semantics), so that a
/// forged or corrupt block cannot make our statistics absurd: we have sent something
/// (`packets_sent` > 0), |cumulative lost| ≤ packets sent (negative only through duplicates), the
/// highest sequence number received is not ahead of the last one we sent (`next_sequence` − 1, compared
/// modulo 2^16), and the jitter is at most 10 s of `clock_rate_hz`. Pure; never throws.
constexpr bool plausible_report_block(const report_block& b, std::uint64_t packets_sent, std::uint16_t next_sequence,
                                      std::uint32_t clock_rate_hz) noexcept {
  if (packets_sent == 0) return false;
  const auto lost = static_cast<std::int64_t>(b.cumulative_lost);
  if (lost > 0 && static_cast<std::uint64_t>(lost) > packets_sent) return false;
  if (lost < 0 && static_cast<std::uint64_t>(-lost) > packets_sent) return false;
  const auto highest = static_cast<std::uint16_t>(b.extended_highest_sequence);
  if (seq_delta(highest, static_cast<std::uint16_t>(next_sequence - 1)) > 0) return false;
  return std::uint64_t{b.jitter} <= 10 * std::uint64_t{clock_rate_hz};
}

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01) (RFC 868, RFC 5905), in s.
inline constexpr std::uint64_t ntp_unix_offset_seconds = 2208988800ULL;

/// Converts a wallclock time to the 64-bit NTP timestamp of RFC 3550 §4: seconds since 1900 in the
/// high 32 bits, binary fraction of a second in the low 32 bits. Wraps in 2036 (era 1) as NTP does.
/// Thread safety: pure function.
inline std::uint64_t to_ntp(std::chrono::system_clock::time_point t) noexcept {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  const auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = static_cast<std::uint64_t>((since_epoch - secs).count());  // [0, 1e9)
  const std::uint64_t seconds = static_cast<std::uint64_t>(secs.count()) + ntp_unix_offset_seconds;
  return (seconds << 32) | ((nanos << 32) / 1000000000ULL);
}

/// The middle 32 bits of an NTP timestamp (16.16 fixed point seconds), as carried in LSR
/// (RFC 3550 §6.4.1) and used for round-trip computation. Never throws; pure.
constexpr std::uint32_t ntp_middle32(std::uint64_t ntp) noexcept { return static_cast<std::uint32_t>(ntp >> 16); }

/// A delay in the DLSR unit of RFC 3550 §6.4.1 (1/65536 s), saturating at 2^32 − 1; negative → 0.
/// Never throws; pure.
template <class Rep, class Period>
constexpr std::uint32_t to_dlsr(std::chrono::duration<Rep, Period> d) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns <= 0) return 0;
  const auto units = static_cast<std::uint64_t>(ns) / 1000000000ULL * 65536ULL +
                     (static_cast<std::uint64_t>(ns) % 1000000000ULL) * 65536ULL / 1000000000ULL;
  return units > 0xFFFFFFFFULL ? 0xFFFFFFFFU : static_cast<std::uint32_t>(units);
}

}  // namespace mspi
