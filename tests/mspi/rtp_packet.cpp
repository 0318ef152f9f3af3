#include <mspi/rtp/packet.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

namespace {

std::vector<std::byte> bytes(std::initializer_list<unsigned> values) {
  std::vector<std::byte> out;
  for (unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

TEST_CASE("write_rtp and parse_rtp round trip", "[mspi][rtp]") {
  const auto payload = bytes({0xDE, 0xAD, 0xBE, 0xEF, 0x01});
  const mspi::rtp_header h{true, 111, 0xFFFE, 0x89ABCDEF, 0x01020304};
  std::array<std::byte, mspi::max_rtp_packet_bytes> buf{};
  const std::size_t n = mspi::write_rtp(buf, h, payload);
  REQUIRE(n == 12 + payload.size());
  // The fixed header on the wire: V=2, M=1 | PT=111, big-endian fields.
  CHECK(buf[0] == std::byte{0x80});
  CHECK(buf[1] == std::byte{0x80 | 111});
  CHECK(buf[2] == std::byte{0xFF});
  CHECK(buf[3] == std::byte{0xFE});
  CHECK(buf[4] == std::byte{0x89});
  CHECK(buf[11] == std::byte{0x04});

  const auto view = mspi::parse_rtp(std::span<const std::byte>(buf.data(), n));
  REQUIRE(view);
  CHECK(view->header.marker);
  CHECK(view->header.payload_type == 111);
  CHECK(view->header.sequence == 0xFFFE);
  CHECK(view->header.timestamp == 0x89ABCDEFU);
  CHECK(view->header.ssrc == 0x01020304U);
  CHECK(same(view->payload, payload));
  CHECK(view->payload.data() == buf.data() + 12);  // a view, not a copy
}

TEST_CASE("write_rtp refuses a short buffer and an out-of-range payload type", "[mspi][rtp]") {
  const auto payload = bytes({1, 2, 3, 4});
  std::array<std::byte, 15> small{};
  CHECK(mspi::write_rtp(small, {}, payload) == 0);
  std::array<std::byte, 16> exact{};
  CHECK(mspi::write_rtp(exact, {}, payload) == 16);
  mspi::rtp_header bad;
  bad.payload_type = 128;
  CHECK(mspi::write_rtp(exact, bad, payload) == 0);
  CHECK(mspi::write_rtp(exact, {}, {}) == 12);  // an empty payload is a valid packet
}

TEST_CASE("parse_rtp skips CSRCs and the header extension and strips padding", "[mspi][rtp]") {
  // V=2 P=1 X=1 CC=2, M=0 PT=96, seq 0x1234, ts 0x00000102, ssrc 0xCAFEBABE
  const auto pkt = bytes({
      0xB2, 0x60, 0x12, 0x34,  // V P X CC | M PT | sequence
      0x00, 0x00, 0x01, 0x02,  // timestamp
      0xCA, 0xFE, 0xBA, 0xBE,  // SSRC
      0x11, 0x11, 0x11, 0x11,  // CSRC 1
      0x22, 0x22, 0x22, 0x22,  // CSRC 2
      0xBE, 0xDE, 0x00, 0x02,  // extension: profile 0xBEDE, 2 words follow
      0xAA, 0xAA, 0xAA, 0xAA,  //   word 1
      0xBB, 0xBB, 0xBB, 0xBB,  //   word 2
      0x51, 0x52, 0x53,        // payload
      0x00, 0x00, 0x03,        // 3 octets of padding, the last one counting them
  });
  const auto view = mspi::parse_rtp(pkt);
  REQUIRE(view);
  CHECK_FALSE(view->header.marker);
  CHECK(view->header.payload_type == 96);
  CHECK(view->header.sequence == 0x1234);
  CHECK(view->header.timestamp == 0x102U);
  CHECK(view->header.ssrc == 0xCAFEBABEU);
  CHECK(same(view->payload, bytes({0x51, 0x52, 0x53})));

  SECTION("padding that eats the whole payload leaves it empty") {
    auto p = pkt;
    p.at(p.size() - 1) = std::byte{6};
    const auto v = mspi::parse_rtp(p);
    REQUIRE(v);
    CHECK(v->payload.empty());
  }
  SECTION("padding longer than the payload is rejected") {
    auto p = pkt;
    p.at(p.size() - 1) = std::byte{7};
    CHECK_FALSE(mspi::parse_rtp(p));
  }
  SECTION("a padding count of zero is rejected") {
    auto p = pkt;
    p.at(p.size() - 1) = std::byte{0};
    CHECK_FALSE(mspi::parse_rtp(p));
  }
  SECTION("an extension length beyond the datagram is rejected") {
    auto p = pkt;
    p[23] = std::byte{5};  // 5 words = 20 bytes, only 14 follow the extension header
    CHECK_FALSE(mspi::parse_rtp(p));
  }
  SECTION("a CSRC count beyond the datagram is rejected") {
    auto p = bytes({0x8F, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4});  // CC=15, one word present
    CHECK_FALSE(mspi::parse_rtp(p));
  }
}

TEST_CASE("parse_rtp rejects other versions and the RTCP payload type range", "[mspi][rtp]") {
  std::array<std::byte, 32> buf{};
  mspi::rtp_header h;
  h.payload_type = 96;
  const std::size_t n = mspi::write_rtp(buf, h, bytes({1, 2}));
  std::vector<std::byte> pkt(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  REQUIRE(mspi::parse_rtp(pkt));

  for (unsigned version : {0U, 1U, 3U}) {
    auto p = pkt;
    p[0] = static_cast<std::byte>(version << 6);
    CHECK_FALSE(mspi::parse_rtp(p));
  }
  // RFC 5761 §4: octet 1 of RTCP SR..APP (200..204) reads as M=1, PT=72..76.
  for (unsigned pt = 71; pt <= 77; ++pt) {
    auto p = pkt;
    p[1] = static_cast<std::byte>(0x80 | pt);
    CHECK(mspi::parse_rtp(p).has_value() == (pt == 71 || pt == 77));
  }
}

TEST_CASE("parse_rtp rejects every truncation of a valid packet", "[mspi][rtp]") {
  // Header + 1 CSRC + 1-word extension + payload F5 F6 + 2 octets of padding (F0 02) = 28 bytes.
  // With P set, a prefix ends in a payload/padding byte ≥ 0xF0, a padding count that cannot fit,
  // so every truncation is detectable.
  const auto pkt = bytes({0xB1, 0x60, 0, 7, 0, 0, 0, 9, 0, 0, 0, 1,       // V=2 P X CC=1, PT 96
                          0x33, 0x33, 0x33, 0x33,                          // CSRC
                          0x10, 0x00, 0x00, 0x01, 0x44, 0x44, 0x44, 0x44,  // extension, 1 word
                          0xF5, 0xF6, 0xF0, 0x02});                        // payload, padding
  const auto full = mspi::parse_rtp(pkt);
  REQUIRE(full);
  CHECK(same(full->payload, bytes({0xF5, 0xF6})));
  for (std::size_t len = 0; len < pkt.size(); ++len) {
    INFO("length " << len);
    CHECK_FALSE(mspi::parse_rtp(std::span<const std::byte>(pkt.data(), len)));
  }
}

TEST_CASE("parse_rtp survives random garbage", "[mspi][rtp]") {
  std::mt19937 rng(20240611);  // fixed seed: reproducible
  std::uniform_int_distribution<int> len_dist(0, 64);
  std::uniform_int_distribution<int> byte_dist(0, 255);
  int parsed = 0;
  for (int i = 0; i < 500; ++i) {
    std::vector<std::byte> d(static_cast<std::size_t>(len_dist(rng)));
    for (auto& b : d) b = static_cast<std::byte>(byte_dist(rng));
    if (i % 2 == 0 && !d.empty()) d[0] = (d[0] & std::byte{0x3F}) | std::byte{0x80};  // half claim version 2
    const auto v = mspi::parse_rtp(d);
    if (!v) continue;
    ++parsed;
    CHECK(d.size() >= 12);
    CHECK(v->payload.data() >= d.data() + 12);
    CHECK(v->payload.data() + v->payload.size() <= d.data() + d.size());
    CHECK((v->header.payload_type < 72 || v->header.payload_type > 76));
  }
  CHECK(parsed > 0);  // the generator does reach the success path
}

TEST_CASE("seq_delta handles 16-bit wrap-around", "[mspi][rtp]") {
  STATIC_REQUIRE(mspi::seq_delta(5, 3) == 2);
  STATIC_REQUIRE(mspi::seq_delta(3, 5) == -2);
  STATIC_REQUIRE(mspi::seq_delta(1, 65535) == 2);
  STATIC_REQUIRE(mspi::seq_delta(65535, 1) == -2);
  STATIC_REQUIRE(mspi::seq_delta(32767, 0) == 32767);
  STATIC_REQUIRE(mspi::seq_delta(32768, 0) == -32768);
}
