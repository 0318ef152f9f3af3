#include <mspi/codec/g711.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

TEST_CASE("G.711 known code points (ITU-T G.711 Tables 1a and 2a)", "[mspi][g711]") {
  // Silence, full scale and the ends of the ranges.
  CHECK(mspi::linear_to_ulaw(0) == 0xFF);
  CHECK(mspi::linear_to_alaw(0) == 0xD5);
  CHECK(mspi::linear_to_ulaw(32767) == 0x80);
  CHECK(mspi::linear_to_ulaw(-32768) == 0x00);
  CHECK(mspi::linear_to_alaw(32767) == 0xAA);
  CHECK(mspi::linear_to_alaw(-32768) == 0x2A);
  CHECK(mspi::ulaw_to_linear(0xFF) == 0);
  CHECK(mspi::ulaw_to_linear(0x7F) == 0);
  CHECK(mspi::ulaw_to_linear(0x80) == 32124);
  CHECK(mspi::ulaw_to_linear(0x00) == -32124);
  CHECK(mspi::alaw_to_linear(0xD5) == 8);
  CHECK(mspi::alaw_to_linear(0x55) == -8);
  CHECK(mspi::alaw_to_linear(0xAA) == 32256);
  CHECK(mspi::alaw_to_linear(0x2A) == -32256);
  // Segment boundaries: μ-law 0xEF is the first code of segment 1 (14-bit magnitude 33..), A-law
  // segment 1 starts at 13-bit magnitude 32 (16-bit 256).
  CHECK(mspi::ulaw_to_linear(0xEF) == 132);  // ((0 << 3) + 0x84) << 1, minus the bias 0x84
  CHECK(mspi::linear_to_alaw(256) == (0x10 ^ 0xD5));
  CHECK(mspi::alaw_to_linear(0x10 ^ 0xD5) == 264);
  // Compile-time use.
  static_assert(mspi::linear_to_ulaw(0) == 0xFF && mspi::linear_to_alaw(0) == 0xD5);
  static_assert(mspi::pcmu_payload_type == 0 && mspi::pcma_payload_type == 8 && mspi::g711_rate_hz == 8000);
}

TEST_CASE("G.711 decoding is odd-symmetric and every code decodes to a code that re-encodes to itself",
          "[mspi][g711]") {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    // μ-law: bit 7 is the sign; A-law: bit 7 is the sign too (before and after the 0x55 toggle).
    CHECK(mspi::ulaw_to_linear(code) == -mspi::ulaw_to_linear(static_cast<std::uint8_t>(code ^ 0x80)));
    CHECK(mspi::alaw_to_linear(code) == -mspi::alaw_to_linear(static_cast<std::uint8_t>(code ^ 0x80)));
    // Each decoded level lies inside its own interval (except μ-law's negative zero 0x7F, which re-encodes as +0).
    if (code != 0x7F) CHECK(mspi::linear_to_ulaw(mspi::ulaw_to_linear(code)) == code);
    CHECK(mspi::linear_to_alaw(mspi::alaw_to_linear(code)) == code);
  }
}

TEST_CASE("G.711 full 16-bit sweep: monotonic, and the round-trip error stays within half a step", "[mspi][g711]") {
  int prev_u = -32768, prev_a = -32768;
  int max_err_u_small = 0, max_err_a_small = 0;
  for (int x = -32768; x <= 32767; ++x) {
    const auto s = static_cast<std::int16_t>(x);
    const int u = mspi::ulaw_to_linear(mspi::linear_to_ulaw(s));
    const int a = mspi::alaw_to_linear(mspi::linear_to_alaw(s));
    REQUIRE(u >= prev_u);  // monotonic non-decreasing
    REQUIRE(a >= prev_a);
    prev_u = u;
    prev_a = a;
    // Quantisation steps double per segment: the error is at most half a step, i.e. about |x| / 32,
    // plus the finest step near zero (μ-law 8, A-law 16 in 16-bit units).
    const int ax = std::abs(x);
    REQUIRE(std::abs(u - x) <= 8 + ax / 32);
    REQUIRE(std::abs(a - x) <= 16 + ax / 32);
    if (ax < 96) {
      max_err_u_small = std::max(max_err_u_small, std::abs(u - x));
      max_err_a_small = std::max(max_err_a_small, std::abs(a - x));
    }
  }
  // The finest steps, near zero: μ-law 8 (2 in 14 bits; half a step plus the 2 bits dropped), A-law 16
  // (2 in 13 bits; half a step, its decoder returns the interval's middle).
  CHECK(max_err_u_small == 7);
  CHECK(max_err_a_small == 8);
  CHECK(prev_u == 32124);
  CHECK(prev_a == 32256);
}

TEST_CASE("G.711 span codecs convert as many samples as both spans hold", "[mspi][g711]") {
  const std::array<std::int16_t, 5> pcm{0, 1000, -1000, 32767, -32768};
  std::array<std::byte, 5> u{}, a{};
  REQUIRE(mspi::encode_pcmu(pcm, u) == 5);
  REQUIRE(mspi::encode_pcma(pcm, a) == 5);
  CHECK(std::to_integer<int>(u[0]) == 0xFF);
  CHECK(std::to_integer<int>(a[0]) == 0xD5);
  std::array<std::int16_t, 5> back_u{}, back_a{};
  REQUIRE(mspi::decode_pcmu(u, back_u) == 5);
  REQUIRE(mspi::decode_pcma(a, back_a) == 5);
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    CHECK(back_u[i] == mspi::ulaw_to_linear(mspi::linear_to_ulaw(pcm[i])));
    CHECK(back_a[i] == mspi::alaw_to_linear(mspi::linear_to_alaw(pcm[i])));
  }
  std::array<std::byte, 3> shorter{};
  CHECK(mspi::encode_pcmu(pcm, shorter) == 3);
  std::array<std::int16_t, 2> fewer{};
  CHECK(mspi::decode_pcma(a, fewer) == 2);
  CHECK(fewer[1] == back_a[1]);
}
