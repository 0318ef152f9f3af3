#include <mspi/channel.hpp>
#include <mspi/rtp/telephone_event.hpp>
#include <mspi/rtp_opus/detail/dtmf_sender.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

TEST_CASE("telephone-event payloads encode and parse (RFC 4733 §2.3)", "[mspi][dtmf]") {
  std::array<std::byte, 4> out{};
  REQUIRE(mspi::write_telephone_event(out, {11, true, 10, 800}) == 4);
  // '#' = 11, E bit + volume 10, duration 800 big-endian.
  CHECK(out == std::array<std::byte, 4>{std::byte{0x0B}, std::byte{0x8A}, std::byte{0x03}, std::byte{0x20}});
  auto e = mspi::parse_telephone_event(out);
  REQUIRE(e);
  CHECK(e->event == 11);
  CHECK(e->end);
  CHECK(e->volume == 10);
  CHECK(e->duration == 800);

  REQUIRE(mspi::write_telephone_event(out, {5, false, 63, 65535}) == 4);
  e = mspi::parse_telephone_event(out);
  REQUIRE(e);
  CHECK((e->event == 5 && !e->end && e->volume == 63 && e->duration == 65535));

  // The reserved bit is ignored on receipt; a longer payload parses its first event.
  const std::array<std::byte, 6> with_r{std::byte{1}, std::byte{0x40 | 7}, std::byte{0}, std::byte{160}, std::byte{9}, std::byte{9}};
  e = mspi::parse_telephone_event(with_r);
  REQUIRE(e);
  CHECK((e->event == 1 && !e->end && e->volume == 7 && e->duration == 160));

  CHECK_FALSE(mspi::parse_telephone_event(std::span(with_r).first(3)));
  std::array<std::byte, 3> small{};
  CHECK(mspi::write_telephone_event(small, {1, false, 10, 1}) == 0);
  out.fill(std::byte{0x5A});
  CHECK(mspi::write_telephone_event(out, {1, false, 64, 1}) == 0);  // volume is 6 bits
  CHECK(out[0] == std::byte{0x5A});
}

TEST_CASE("DTMF digits map to RFC 4733 §3.2 event codes and back", "[mspi][dtmf]") {
  const std::string digits = "0123456789*#ABCD";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    REQUIRE(mspi::dtmf_event_code(digits[i]) == static_cast<std::uint8_t>(i));
    CHECK(mspi::dtmf_digit(static_cast<std::uint8_t>(i)) == digits[i]);
  }
  for (char c : std::string("abcdEx ,+")) CHECK_FALSE(mspi::dtmf_event_code(c));
  CHECK_FALSE(mspi::dtmf_digit(16));  // flash: an event, not a digit
  CHECK_FALSE(mspi::dtmf_digit(255));
}

TEST_CASE("dtmf_sender lays digits out on the send clock (RFC 4733 §2.5.1)", "[mspi][dtmf]") {
  mspi::detail::dtmf_sender s;
  s.configure(20, 8000);  // 160 units per 20 ms tick
  CHECK_FALSE(s.busy());
  CHECK_FALSE(s.enqueue(""));
  CHECK_FALSE(s.enqueue("1x"));
  REQUIRE(s.enqueue("5#"));
  CHECK(s.busy());

  std::uint32_t ts = 1000;
  std::vector<mspi::detail::dtmf_action> ticks;
  while (s.busy()) {
    ticks.push_back(s.tick(ts));
    ts += 160;
    REQUIRE(ticks.size() < 100);
  }
  // Per digit: 5 tone ticks (100 ms), 2 more end packets, 1 tick of audio (gap 60 ms = 3 ticks).
  REQUIRE(ticks.size() == 16);
  for (int d = 0; d < 2; ++d) {
    const auto* t = &ticks[static_cast<std::size_t>(d) * 8];
    const std::uint32_t start = 1000 + static_cast<std::uint32_t>(d) * 8 * 160;
    for (int k = 0; k < 7; ++k) {
      INFO("digit " << d << " tick " << k);
      CHECK(t[k].send);
      CHECK(t[k].marker == (k == 0));
      CHECK(t[k].timestamp == start);
      CHECK(t[k].event.event == (d == 0 ? 5 : 11));
      CHECK(t[k].event.volume == 10);
      CHECK(t[k].event.end == (k >= 4));
      CHECK(t[k].event.duration == 160 * std::min(k + 1, 5));
      CHECK(t[k].request_done == (d == 1 && k == 6));
    }
    CHECK_FALSE(t[7].send);  // audio in the rest of the gap
  }

  // Two requests: each completes on its own; cancel reports the ones not yet done.
  REQUIRE(s.enqueue("1"));
  REQUIRE(s.enqueue("23"));
  int done = 0;
  for (int k = 0; k < 7; ++k) done += s.tick(0).request_done;
  CHECK(done == 1);
  (void)s.tick(0);  // gap
  (void)s.tick(0);  // '2' begins
  CHECK(s.cancel() == 1);
  CHECK_FALSE(s.busy());

  // Capacity is all or nothing; other ptimes and clocks round the tone up to whole ticks.
  CHECK(s.enqueue(std::string(mspi::detail::dtmf_sender::capacity, '1')));
  CHECK_FALSE(s.enqueue("1"));
  CHECK(s.cancel() == 1);
  s.configure(60, 48000);  // 2 tone ticks of 2880 units, then 2 end packets
  REQUIRE(s.enqueue("9"));
  std::vector<mspi::detail::dtmf_action> long_ticks;
  while (s.busy()) long_ticks.push_back(s.tick(7));
  REQUIRE(long_ticks.size() == 4);
  CHECK(long_ticks[0].event.duration == 2880);
  CHECK((long_ticks[1].event.end && long_ticks[1].event.duration == 5760));
  CHECK((long_ticks[3].event.end && long_ticks[3].request_done));
}

TEST_CASE("dtmf_sender gives a request's own duration to its digits and pauses (GenerateDigits2)", "[mspi][dtmf]") {
  mspi::detail::dtmf_sender s;
  s.configure(20, 8000);
  REQUIRE(s.enqueue("5", 200));  // 10 tone ticks, 2 more end packets, pause 200 ms = 10 ticks
  REQUIRE(s.enqueue("6"));       // the default timing again: 5 + 2, pause 3 ticks
  std::vector<mspi::detail::dtmf_action> ticks;
  while (s.busy()) {
    ticks.push_back(s.tick(0));
    REQUIRE(ticks.size() < 100);
  }
  REQUIRE(ticks.size() == 20 + 8);
  for (std::size_t k = 0; k < 12; ++k) {
    INFO("tick " << k);
    CHECK(ticks[k].send);
    CHECK(ticks[k].event.event == 5);
    CHECK(ticks[k].event.end == (k >= 9));
    CHECK(ticks[k].event.duration == 160 * std::min<std::size_t>(k + 1, 10));
    CHECK(ticks[k].request_done == (k == 11));
  }
  for (std::size_t k = 12; k < 20; ++k) CHECK_FALSE(ticks[k].send);  // audio in the rest of the pause
  CHECK((ticks[20].send && ticks[20].marker && ticks[20].event.event == 6));
  CHECK((ticks[24].event.end && ticks[24].event.duration == 800));
  CHECK(ticks[26].request_done);

  // At a 48 kHz event clock the longest duration still fits the 16-bit field (RFC 4733 §2.5.1.3).
  s.configure(20, 48000);
  REQUIRE(s.enqueue("1", mspi::max_digit_duration_ms));
  std::uint16_t longest = 0;
  while (s.busy()) longest = std::max(longest, s.tick(0).event.duration);
  CHECK(longest == 48000);
}

TEST_CASE("generate_digits channel bodies carry an optional duration in ms", "[mspi][dtmf]") {
  CHECK(mspi::generate_digits_body("12#", 0) == "12#");
  CHECK(mspi::generate_digits_body("12#", 250) == "12# 250");
  auto r = mspi::parse_generate_digits("12# 250");
  REQUIRE(r);
  CHECK(r->digits == "12#");
  CHECK(r->duration_ms == 250);
  r = mspi::parse_generate_digits("7");
  REQUIRE(r);
  CHECK((r->digits == "7" && r->duration_ms == 0));
  for (const char* bad : {"7 ", "7 39", "7 1001", "7 99999", "7 123456", "7 1e2", "7 -50", "7 100 100"})
    CHECK_FALSE(mspi::parse_generate_digits(bad));
  CHECK(mspi::parse_generate_digits("7 40"));
  CHECK(mspi::parse_generate_digits("7 1000"));
}
