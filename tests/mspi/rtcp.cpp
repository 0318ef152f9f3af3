#include <mspi/rtp/rtcp.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace {

mspi::report_block sample_block() {
  return {0xA1B2C3D4, 10, -5, 0x0001FFF0, 123, 0x45678901, 0x00018000};
}

void check_same(const mspi::report_block& a, const mspi::report_block& b) {
  CHECK(a.ssrc == b.ssrc);
  CHECK(a.fraction_lost == b.fraction_lost);
  CHECK(a.cumulative_lost == b.cumulative_lost);
  CHECK(a.extended_highest_sequence == b.extended_highest_sequence);
  CHECK(a.jitter == b.jitter);
  CHECK(a.last_sr == b.last_sr);
  CHECK(a.delay_since_last_sr == b.delay_since_last_sr);
}

// SR with one block, then SDES CNAME: a valid compound packet (RFC 3550 §6.1).
std::vector<std::byte> compound_sr() {
  std::array<std::byte, 256> buf{};
  const mspi::sender_info info{0x0123456789ABCDEFULL, 48000, 50, 4000};
  const auto block = sample_block();
  const std::size_t sr = mspi::write_sender_report(buf, 0x11223344, info, &block);
  const std::size_t sdes = mspi::write_sdes_cname(std::span(buf).subspan(sr), 0x11223344, "alice@host");
  return {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(sr + sdes)};
}

}  // namespace

TEST_CASE("sender report round trip, in a compound packet with SDES CNAME", "[mspi][rtcp]") {
  const auto pkt = compound_sr();
  // SR: 4 header + 4 SSRC + 20 sender info + 24 block = 52; SDES: 4 + 4 + roundup4(2 + 10 + 1) = 24.
  REQUIRE(pkt.size() == 52 + 24);
  CHECK(pkt[0] == std::byte{0x81});  // V=2, RC=1
  CHECK(pkt[1] == std::byte{200});
  CHECK(pkt[3] == std::byte{12});    // 13 words − 1
  CHECK(pkt[52] == std::byte{0x81});  // SDES, SC=1
  CHECK(pkt[53] == std::byte{202});
  CHECK(pkt[55] == std::byte{5});    // 6 words − 1
  CHECK(pkt[60] == std::byte{1});    // CNAME
  CHECK(pkt[61] == std::byte{10});
  CHECK(pkt[62] == std::byte{'a'});
  CHECK(pkt[72] == std::byte{0});    // terminating null octet

  const auto r = mspi::parse_rtcp(pkt);
  REQUIRE(r);
  CHECK(r->sender_ssrc == 0x11223344U);
  REQUIRE(r->sender);
  CHECK(r->sender->ntp_timestamp == 0x0123456789ABCDEFULL);
  CHECK(r->sender->rtp_timestamp == 48000U);
  CHECK(r->sender->packet_count == 50U);
  CHECK(r->sender->octet_count == 4000U);
  REQUIRE(r->block);
  check_same(*r->block, sample_block());  // including the negative 24-bit cumulative_lost
}

TEST_CASE("receiver report round trip, with and without a block", "[mspi][rtcp]") {
  std::array<std::byte, 64> buf{};
  const auto block = sample_block();
  const std::size_t n = mspi::write_receiver_report(buf, 7, &block);
  REQUIRE(n == 32);
  auto r = mspi::parse_rtcp(std::span<const std::byte>(buf.data(), n));
  REQUIRE(r);
  CHECK(r->sender_ssrc == 7U);
  CHECK_FALSE(r->sender);
  REQUIRE(r->block);
  check_same(*r->block, block);

  const std::size_t empty = mspi::write_receiver_report(buf, 8, nullptr);
  REQUIRE(empty == 8);
  r = mspi::parse_rtcp(std::span<const std::byte>(buf.data(), empty));
  REQUIRE(r);
  CHECK(r->sender_ssrc == 8U);
  CHECK_FALSE(r->block);
}

TEST_CASE("RTCP writers refuse short buffers and bad CNAMEs", "[mspi][rtcp]") {
  std::array<std::byte, 51> buf{};
  const auto block = sample_block();
  CHECK(mspi::write_sender_report(buf, 1, {}, &block) == 0);
  CHECK(mspi::write_sender_report(buf, 1, {}, nullptr) == 28);
  CHECK(mspi::write_receiver_report(std::span(buf).first(31), 1, &block) == 0);
  CHECK(mspi::write_sdes_cname(buf, 1, "") == 0);
  CHECK(mspi::write_sdes_cname(std::span(buf).first(11), 1, "ab") == 0);
  CHECK(mspi::write_sdes_cname(std::span(buf).first(12), 1, "a") == 12);  // 2 + 1 + 1 null = 4
  CHECK(mspi::write_sdes_cname(std::span(buf).first(16), 1, "ab") == 16);  // 2 + 2 + 1 → 8
  std::vector<std::byte> out(400);
  CHECK(mspi::write_sdes_cname(out, 1, std::string(256, 'x')) == 0);
  CHECK(mspi::write_sdes_cname(out, 1, std::string(255, 'x')) == 8 + 260);
}

TEST_CASE("parse_rtcp skips unknown packets and rejects malformed compounds", "[mspi][rtcp]") {
  const auto good = compound_sr();

  SECTION("an unknown packet type before the RR is skipped") {
    std::vector<std::byte> pkt = {std::byte{0x80}, std::byte{204}, std::byte{0}, std::byte{1},  // APP, 2 words
                                  std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
    std::array<std::byte, 32> rr{};
    const auto block = sample_block();
    const std::size_t n = mspi::write_receiver_report(rr, 9, &block);
    pkt.insert(pkt.end(), rr.begin(), rr.begin() + static_cast<std::ptrdiff_t>(n));
    const auto r = mspi::parse_rtcp(pkt);
    REQUIRE(r);
    CHECK(r->sender_ssrc == 9U);
  }
  SECTION("no SR or RR") {
    CHECK_FALSE(mspi::parse_rtcp(std::span(good).subspan(52)));  // the SDES alone
    CHECK_FALSE(mspi::parse_rtcp({}));
  }
  SECTION("wrong version in the second packet") {
    auto pkt = good;
    pkt[52] = std::byte{0x41};
    CHECK_FALSE(mspi::parse_rtcp(pkt));
  }
  SECTION("a length beyond the datagram") {
    auto pkt = good;
    pkt[55] = std::byte{6};
    CHECK_FALSE(mspi::parse_rtcp(pkt));
  }
  SECTION("a report count larger than the packet") {
    auto pkt = good;
    pkt[0] = std::byte{0x82};  // RC=2, but one block's worth of length
    CHECK_FALSE(mspi::parse_rtcp(pkt));
  }
  SECTION("padding on a packet that is not the last") {
    auto pkt = good;
    pkt[0] |= std::byte{0x20};
    CHECK_FALSE(mspi::parse_rtcp(pkt));
  }
  SECTION("valid padding on the last packet, and a zero padding count") {
    auto pkt = good;
    pkt[52] |= std::byte{0x20};
    pkt[55] = std::byte{6};  // one more word: 3 bytes of padding + the count
    for (std::byte b : {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{4}}) pkt.push_back(b);
    CHECK(mspi::parse_rtcp(pkt));
    pkt.back() = std::byte{0};
    CHECK_FALSE(mspi::parse_rtcp(pkt));
    pkt.back() = std::byte{25};  // more than the packet's 24 bytes after its header
    CHECK_FALSE(mspi::parse_rtcp(pkt));
  }
  SECTION("every truncation is rejected, except at the packet boundary") {
    for (std::size_t len = 0; len < good.size(); ++len) {
      INFO("length " << len);
      CHECK(mspi::parse_rtcp(std::span(good).first(len)).has_value() == (len == 52));
    }
  }
}

TEST_CASE("receiver_statistics: loss and fraction lost (RFC 3550 A.3)", "[mspi][rtcp]") {
  mspi::receiver_statistics s;
  CHECK(s.packets_received() == 0U);
  CHECK(s.cumulative_lost() == 0);
  for (std::uint16_t seq = 0; seq < 50; ++seq) {
    if (seq == 10 || seq == 30) continue;  // 2 of 50 lost
    s.on_packet(seq, seq * 960U, 5000 + seq * 960U);  // constant transit
  }
  CHECK(s.packets_received() == 48U);
  CHECK(s.cumulative_lost() == 2);
  CHECK(s.extended_highest_sequence() == 49U);
  CHECK(s.jitter() == 0U);  // constant transit: D = 0 for every pair

  const auto b = s.make_report_block(0xABCD, 0x11112222, 0x3333);
  CHECK(b.ssrc == 0xABCDU);
  CHECK(b.fraction_lost == 2 * 256 / 50);  // floor(512 / 50) = 10
  CHECK(b.fraction_lost == 10);
  CHECK(b.cumulative_lost == 2);
  CHECK(b.extended_highest_sequence == 49U);
  CHECK(b.last_sr == 0x11112222U);
  CHECK(b.delay_since_last_sr == 0x3333U);

  // Next interval: 10 packets, none lost → fraction 0, cumulative unchanged.
  for (std::uint16_t seq = 50; seq < 60; ++seq) s.on_packet(seq, seq * 960U, 5000 + seq * 960U);
  const auto b2 = s.make_report_block(0xABCD, 0, 0);
  CHECK(b2.fraction_lost == 0);
  CHECK(b2.cumulative_lost == 2);
  // Next interval: 1 of 4 lost → 64/256.
  for (std::uint16_t seq : {60, 61, 63}) s.on_packet(seq, seq * 960U, 5000 + seq * 960U);
  CHECK(s.make_report_block(0xABCD, 0, 0).fraction_lost == 64);  // 4 expected (60..63), 1 lost: 256 / 4
}

TEST_CASE("receiver_statistics: duplicates make cumulative lost negative", "[mspi][rtcp]") {
  mspi::receiver_statistics s;
  for (std::uint16_t seq = 0; seq < 10; ++seq) s.on_packet(seq, 0, 0);
  s.on_packet(5, 0, 0);
  s.on_packet(9, 0, 0);
  CHECK(s.packets_received() == 12U);
  CHECK(s.cumulative_lost() == -2);
  CHECK(s.make_report_block(1, 0, 0).fraction_lost == 0);  // negative loss reports 0
}

TEST_CASE("receiver_statistics: interarrival jitter (RFC 3550 A.8)", "[mspi][rtcp]") {
  // Packets every 960 units; transit alternates 0, 160, 0, 160, ... so |D| = 160 from the second
  // packet on. A.8 with J scaled by 16: J16 += |D| − ((J16 + 8) >> 4), reported J16 >> 4:
  //   packet 2: 0   + 160 − 0  = 160 → 10
  //   packet 3: 160 + 160 − 10 = 310 → 19
  //   packet 4: 310 + 160 − 19 = 451 → 28
  //   packet 5: 451 + 160 − 28 = 583 → 36
  // (the floating-point form J += (|D| − J)/16 gives 10, 19.4, 28.2, 36.4).
  mspi::receiver_statistics s;
  const std::array<std::uint32_t, 5> expected = {0, 10, 19, 28, 36};
  for (std::uint16_t i = 0; i < 5; ++i) {
    const std::uint32_t ts = 1000 + i * 960U;
    const std::uint32_t transit = (i % 2 == 0) ? 0U : 160U;
    s.on_packet(i, ts, ts + transit);
    CHECK(s.jitter() == expected[i]);
  }
  // Timestamps that wrap at 2^32 do not disturb it (transit stays constant).
  mspi::receiver_statistics w;
  for (std::uint16_t i = 0; i < 20; ++i) {
    const std::uint32_t ts = 0xFFFFF000U + i * 960U;
    w.on_packet(i, ts, ts + 777U);
  }
  CHECK(w.jitter() == 0U);
}

TEST_CASE("receiver_statistics: sequence wrap-around counts a cycle", "[mspi][rtcp]") {
  mspi::receiver_statistics s;
  std::uint16_t seq = 65530;
  for (int i = 0; i < 20; ++i) s.on_packet(seq++, 0, 0);  // 65530..65535, 0..13
  CHECK(s.extended_highest_sequence() == 65536U + 13U);
  CHECK(s.cumulative_lost() == 0);
  s.on_packet(65535, 0, 0);  // a late duplicate from before the wrap is not a new cycle
  CHECK(s.extended_highest_sequence() == 65536U + 13U);
}

TEST_CASE("receiver_statistics: a large jump needs confirmation, then restarts (A.1)", "[mspi][rtcp]") {
  mspi::receiver_statistics s;
  for (std::uint16_t seq = 100; seq < 110; ++seq) s.on_packet(seq, 0, 0);
  s.on_packet(20000, 0, 0);  // a stray packet: ignored
  CHECK(s.packets_received() == 10U);
  CHECK(s.extended_highest_sequence() == 109U);
  s.on_packet(30000, 0, 0);  // jump ...
  s.on_packet(30001, 0, 0);  // ... confirmed: the source restarted at 30001
  CHECK(s.packets_received() == 1U);
  CHECK(s.extended_highest_sequence() == 30001U);
  CHECK(s.cumulative_lost() == 0);
}

TEST_CASE("receiver_statistics: cumulative lost saturates at 24 bits", "[mspi][rtcp]") {
  mspi::receiver_statistics s;
  std::uint16_t seq = 0;
  // Each step of 2999 (just under MAX_DROPOUT) loses 2998 packets; 3000 steps lose ~9.0 million.
  for (int i = 0; i <= 3000; ++i, seq = static_cast<std::uint16_t>(seq + 2999)) s.on_packet(seq, 0, 0);
  CHECK(s.extended_highest_sequence() == 3000U * 2999U);
  CHECK(s.cumulative_lost() == 0x7FFFFF);
  const auto b = s.make_report_block(1, 0, 0);
  CHECK(b.cumulative_lost == 0x7FFFFF);
  CHECK(b.fraction_lost == 255);  // 2998/2999 of the interval lost → floor(256 × 0.99966...) = 255
}

TEST_CASE("source_probation: MIN_SEQUENTIAL consecutive packets of one SSRC (A.1)", "[mspi][rtcp][rtp_guard]") {
  mspi::source_probation p;
  CHECK_FALSE(p.on_probation());
  CHECK_FALSE(p.on_packet(0xAA, 65535));
  CHECK(p.on_probation());
  CHECK(p.ssrc() == 0xAAU);
  CHECK(p.on_packet(0xAA, 0));  // consecutive across the 16-bit wrap
  CHECK_FALSE(p.on_probation());
  // Single packets, gaps, repeats and interleaved SSRCs never validate.
  CHECK_FALSE(p.on_packet(0xBB, 10));
  CHECK_FALSE(p.on_packet(0xBB, 12));  // a gap restarts the probation at 12
  CHECK_FALSE(p.on_packet(0xBB, 12));  // a repeat too
  CHECK_FALSE(p.on_packet(0xCC, 13));  // another SSRC takes over the candidate
  CHECK_FALSE(p.on_packet(0xBB, 13));
  CHECK(p.on_packet(0xBB, 14));
  CHECK_FALSE(p.on_packet(0xDD, 1));
  p.reset();
  CHECK_FALSE(p.on_packet(0xDD, 2));  // reset forgot the first packet
  CHECK(p.on_packet(0xDD, 3));
  // A spray of packets with random sequence numbers almost never passes.
  int passed = 0;
  for (std::uint32_t i = 0; i < 1000; ++i) passed += p.on_packet(0xEE, static_cast<std::uint16_t>(i * 7919U));
  CHECK(passed == 0);
}

TEST_CASE("plausible_report_block bounds what a report about our stream can claim", "[mspi][rtcp][rtp_guard]") {
  mspi::report_block b{0x1234, 0, 3, 0x0001'0010, 480, 0, 0};
  const std::uint16_t next = 0x0011;  // we sent up to sequence 0x0010
  CHECK(mspi::plausible_report_block(b, 100, next, 48000));
  CHECK_FALSE(mspi::plausible_report_block(b, 0, next, 48000));  // nothing sent yet
  b.cumulative_lost = 100;
  CHECK(mspi::plausible_report_block(b, 100, next, 48000));
  b.cumulative_lost = 101;
  CHECK_FALSE(mspi::plausible_report_block(b, 100, next, 48000));  // more lost than sent
  b.cumulative_lost = -101;
  CHECK_FALSE(mspi::plausible_report_block(b, 100, next, 48000));
  b.cumulative_lost = 777777;
  CHECK_FALSE(mspi::plausible_report_block(b, 100, next, 48000));
  b.cumulative_lost = 0;
  b.extended_highest_sequence = 0x0001'0011;  // a packet we have not sent
  CHECK_FALSE(mspi::plausible_report_block(b, 100, next, 48000));
  b.extended_highest_sequence = 0x0000'FFF0;  // older ones, across the wrap
  CHECK(mspi::plausible_report_block(b, 100, next, 48000));
  b.jitter = 10 * 8000;
  CHECK(mspi::plausible_report_block(b, 100, next, 8000));
  b.jitter = 10 * 8000 + 1;  // over 10 s
  CHECK_FALSE(mspi::plausible_report_block(b, 100, next, 8000));
}

TEST_CASE("NTP timestamps (RFC 3550 §4)", "[mspi][rtcp]") {
  using namespace std::chrono;
  const system_clock::time_point unix_epoch{};
  CHECK(mspi::to_ntp(unix_epoch) == (2208988800ULL << 32));
  CHECK(mspi::to_ntp(unix_epoch + milliseconds(1500)) == ((2208988801ULL << 32) | 0x80000000ULL));
  CHECK(mspi::to_ntp(unix_epoch + microseconds(250000)) == ((2208988800ULL << 32) | 0x40000000ULL));
  CHECK(mspi::ntp_middle32(0x0123456789ABCDEFULL) == 0x456789ABU);
  STATIC_REQUIRE(mspi::to_dlsr(seconds(1)) == 65536U);
  STATIC_REQUIRE(mspi::to_dlsr(milliseconds(500)) == 32768U);
  STATIC_REQUIRE(mspi::to_dlsr(milliseconds(-1)) == 0U);
  STATIC_REQUIRE(mspi::to_dlsr(hours(24)) == 0xFFFFFFFFU);  // 86400 × 65536 > 2^32: saturates
}
