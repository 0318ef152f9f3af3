// ptapi - portable TAPI
// ptapi_fuzz targets `rtp`, `rtcp` and `telephone_event`: the parsers of received media datagrams,
// mspi/rtp/{packet,rtcp,telephone_event}.hpp. Properties checked for every input (a failure traps):
//  - rtp: a parsed packet's payload lies inside the datagram and its header fields are the datagram's
//    bytes; writing the parsed header and payload back and parsing that gives the same packet; any
//    12-byte header written with write_rtp parses back equal (or is refused for PT 72..76, RTCP under
//    RFC 5761 multiplexing).
//  - rtcp: a parsed SR/RR written back (with an SDES CNAME, as a compound packet) parses back equal;
//    the input, read as a sequence of (sequence, timestamp, arrival) records, drives receiver_statistics
//    and the report block it makes keeps cumulative lost in 24 bits and round-trips through the wire.
//  - telephone_event: a parsed event written back gives the input's first 4 bytes, R bit cleared; a
//    DTMF code maps to its digit and back.
#include "fuzz.hpp"

#include <mspi/rtp/packet.hpp>
#include <mspi/rtp/rtcp.hpp>
#include <mspi/rtp/telephone_event.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace ptapi_fuzz {
namespace {

bool same_header(const mspi::rtp_header& a, const mspi::rtp_header& b) {
  return a.marker == b.marker && a.payload_type == b.payload_type && a.sequence == b.sequence &&
         a.timestamp == b.timestamp && a.ssrc == b.ssrc;
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool same_block(const mspi::report_block& a, const mspi::report_block& b) {
  return a.ssrc == b.ssrc && a.fraction_lost == b.fraction_lost && a.cumulative_lost == b.cumulative_lost &&
         a.extended_highest_sequence == b.extended_highest_sequence && a.jitter == b.jitter &&
         a.last_sr == b.last_sr && a.delay_since_last_sr == b.delay_since_last_sr;
}

bool same_sender(const mspi::sender_info& a, const mspi::sender_info& b) {
  return a.ntp_timestamp == b.ntp_timestamp && a.rtp_timestamp == b.rtp_timestamp &&
         a.packet_count == b.packet_count && a.octet_count == b.octet_count;
}

std::uint32_t u32(input in, std::size_t at) {
  return (std::to_integer<std::uint32_t>(in[at]) << 24) | (std::to_integer<std::uint32_t>(in[at + 1]) << 16) |
         (std::to_integer<std::uint32_t>(in[at + 2]) << 8) | std::to_integer<std::uint32_t>(in[at + 3]);
}

// A report block written as an RR (with the CNAME a compound packet needs) parses back equal.
void check_report_round_trip(std::uint32_t ssrc, const mspi::sender_info* sender, const mspi::report_block* block) {
  std::array<std::byte, 128> buf{};
  const std::size_t n = sender != nullptr ? mspi::write_sender_report(buf, ssrc, *sender, block)
                                          : mspi::write_receiver_report(buf, ssrc, block);
  PTAPI_FUZZ_CHECK(n == 8 + (sender != nullptr ? 20U : 0U) + (block != nullptr ? 24U : 0U));
  const std::size_t m = mspi::write_sdes_cname(std::span(buf).subspan(n), ssrc, "fuzz@ptapi.invalid");
  PTAPI_FUZZ_CHECK(m > 0 && (n + m) % 4 == 0);
  const auto back = mspi::parse_rtcp(std::span(buf).first(n + m));
  PTAPI_FUZZ_CHECK(back && back->sender_ssrc == ssrc);
  PTAPI_FUZZ_CHECK(back->sender.has_value() == (sender != nullptr));
  if (sender != nullptr) PTAPI_FUZZ_CHECK(same_sender(*back->sender, *sender));
  PTAPI_FUZZ_CHECK(back->block.has_value() == (block != nullptr));
  if (block != nullptr) PTAPI_FUZZ_CHECK(same_block(*back->block, *block));
}

}  // namespace

void fuzz_rtp(input in) {
  if (const auto v = mspi::parse_rtp(in)) {
    PTAPI_FUZZ_CHECK(in.size() >= 12);
    PTAPI_FUZZ_CHECK(v->payload.data() >= in.data() + 12 && v->payload.data() + v->payload.size() <= in.data() + in.size());
    PTAPI_FUZZ_CHECK(std::to_integer<unsigned>(in[0]) >> 6 == 2);
    PTAPI_FUZZ_CHECK(v->header.payload_type == (std::to_integer<unsigned>(in[1]) & 0x7FU));
    PTAPI_FUZZ_CHECK(v->header.payload_type < 72 || v->header.payload_type > 76);
    PTAPI_FUZZ_CHECK(v->header.sequence == (u32(in, 0) & 0xFFFFU) && v->header.timestamp == u32(in, 4) &&
                     v->header.ssrc == u32(in, 8));
    std::vector<std::byte> out(12 + v->payload.size());
    PTAPI_FUZZ_CHECK(mspi::write_rtp(out, v->header, v->payload) == out.size());
    const auto back = mspi::parse_rtp(out);
    PTAPI_FUZZ_CHECK(back && same_header(back->header, v->header) && same_bytes(back->payload, v->payload));
    (void)mspi::parse_telephone_event(v->payload);
  }
  // The writer: the first 12 bytes as header fields, the rest as payload.
  if (in.size() < 12) return;
  mspi::rtp_header h;
  h.marker = (std::to_integer<unsigned>(in[1]) & 0x80U) != 0;
  h.payload_type = static_cast<std::uint8_t>(std::to_integer<unsigned>(in[1]) & 0x7FU);
  h.sequence = static_cast<std::uint16_t>(u32(in, 0));
  h.timestamp = u32(in, 4);
  h.ssrc = u32(in, 8);
  const auto payload = in.subspan(12);
  std::vector<std::byte> out(in.size());
  PTAPI_FUZZ_CHECK(mspi::write_rtp(std::span(out).first(in.size() - 1), h, payload) == 0);  // too small
  PTAPI_FUZZ_CHECK(mspi::write_rtp(out, h, payload) == in.size());
  const auto back = mspi::parse_rtp(out);
  if (h.payload_type >= 72 && h.payload_type <= 76) {
    PTAPI_FUZZ_CHECK(!back);
  } else {
    PTAPI_FUZZ_CHECK(back && same_header(back->header, h) && same_bytes(back->payload, payload));
  }
}

void fuzz_rtcp(input in) {
  if (const auto r = mspi::parse_rtcp(in)) {
    PTAPI_FUZZ_CHECK(in.size() >= 8 && in.size() % 4 == 0);
    PTAPI_FUZZ_CHECK(r->block ? r->block->cumulative_lost >= -(1 << 23) && r->block->cumulative_lost < (1 << 23) : true);
    check_report_round_trip(r->sender_ssrc, r->sender ? &*r->sender : nullptr, r->block ? &*r->block : nullptr);
  }
  // Receiver statistics over hostile sequence numbers and times: records of [seq:2][timestamp:4][arrival:4]
  // [flags:1], where a flag bit asks for a report block after the packet.
  mspi::receiver_statistics stats;
  constexpr std::size_t record = 11;
  for (std::size_t at = 0; at + record <= in.size(); at += record) {
    const auto seq = static_cast<std::uint16_t>(u32(in, at) >> 16);
    const auto flags = std::to_integer<unsigned>(in[at + 10]);
    stats.on_packet(seq, u32(in, at + 2), u32(in, at + 6), (flags & 1U) != 0);
    if ((flags & 2U) != 0) {
      const auto block = stats.make_report_block(u32(in, at + 6), u32(in, at + 2), flags);
      PTAPI_FUZZ_CHECK(block.cumulative_lost >= -(1 << 23) && block.cumulative_lost < (1 << 23));
      check_report_round_trip(1, nullptr, &block);
    }
  }
}

void fuzz_telephone_event(input in) {
  const auto e = mspi::parse_telephone_event(in);
  PTAPI_FUZZ_CHECK(e.has_value() == (in.size() >= mspi::telephone_event_bytes));
  if (!e) return;
  PTAPI_FUZZ_CHECK(e->volume <= 63);
  std::array<std::byte, mspi::telephone_event_bytes> out{};
  PTAPI_FUZZ_CHECK(mspi::write_telephone_event(out, *e) == out.size());
  PTAPI_FUZZ_CHECK(out[0] == in[0] && out[1] == (in[1] & std::byte{0xBF}) && out[2] == in[2] && out[3] == in[3]);
  if (const auto digit = mspi::dtmf_digit(e->event)) {
    PTAPI_FUZZ_CHECK(mspi::dtmf_event_code(*digit) == e->event);
  } else {
    PTAPI_FUZZ_CHECK(e->event > 15);
  }
  // Every 4-byte event of the payload (RFC 2198 redundancy or a payload of several events).
  for (std::size_t at = 4; at + 4 <= in.size(); at += 4) (void)mspi::parse_telephone_event(in.subspan(at));
  // Any character maps to a code that maps back to it, or to none.
  const char c = static_cast<char>(in[0]);
  if (const auto code = mspi::dtmf_event_code(c)) PTAPI_FUZZ_CHECK(mspi::dtmf_digit(*code) == c);
}

}  // namespace ptapi_fuzz
