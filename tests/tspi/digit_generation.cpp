// TE_GENERATEEVENT (ITDigitGenerationEvent, LINE_GENERATE): every GenerateDigits, GenerateTone and
// GenerateCustomTones request a call accepted ends with one `digit_generation_event`, done when its last
// digit was sent or its tone ended by itself, cancel when it was cut short, through the loopback and the
// SIP providers.
#include <mspi/dsp/tone_media.hpp>

#include "tspi/sip_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <system_error>
#include <vector>

using namespace ptapi_test;

namespace {

using strings = std::vector<std::string>;

mspi::rtp_opus_config with_tones(mspi::audio_codec codec = mspi::audio_codec::pcmu) {
  mspi::rtp_opus_config m;
  m.codecs = {codec};
  m.tones = mspi::dsp::tone_media();
  return m;
}

// Waits (5 s at most) until call `c` has had `n` generation events; returns them.
strings wait_generations(event_log& log, const tspi::call& c, std::size_t n) {
  const auto id = c.info().id;
  (void)log.wait([&] {
    std::size_t k = 0;
    for (auto& [call, what] : log.sequence) k += call == id && what.rfind("state", 0) != 0;
    return k >= n;
  });
  return log.generations_of(id);
}

// Whether call `id`'s last generation event came before its disconnected state event.
bool cancel_before_disconnected(event_log& log, std::uint64_t id) {
  std::lock_guard lock(log.m);
  const auto disconnected = "state " + std::to_string(static_cast<int>(tspi::call_state::disconnected));
  std::ptrdiff_t last_generation = -1, state_at = -1;
  for (std::size_t i = 0; i < log.sequence.size(); ++i) {
    if (log.sequence[i].first != id) continue;
    if (log.sequence[i].second == disconnected) state_at = static_cast<std::ptrdiff_t>(i);
    else if (log.sequence[i].second.rfind("state", 0) != 0) last_generation = static_cast<std::ptrdiff_t>(i);
  }
  return last_generation >= 0 && state_at > last_generation;
}

// The requests and terminations that both providers must report the same way (RFC 4733 digits).
void check_generations(event_log& log, const tspi::call& call) {
  call.generate_digits("12");  // 2 x 160 ms
  CHECK(wait_generations(log, call, 1) == strings{"done digits"});
  call.generate_digits("3");  // queued behind each other: each request done, in order
  call.generate_digits("45");
  CHECK(wait_generations(log, call, 3) == strings{"done digits", "done digits", "done digits"});

  call.generate_tone(mspi::tone_mode::beep, 0ms);  // one 250 ms burst, then it ends by itself
  CHECK(wait_generations(log, call, 4).back() == "done tone");
  call.generate_tone(mspi::tone_mode::busy, 300ms);  // its duration elapses
  CHECK(wait_generations(log, call, 5).back() == "done tone");
  const std::vector<mspi::custom_tone> custom{{1000, 100, 100, -10}};
  call.generate_custom_tones(custom, 200ms);
  CHECK(wait_generations(log, call, 6).back() == "done tone");

  call.generate_tone(mspi::tone_mode::busy, 0ms);  // replaced by a newer tone: cancelled
  call.generate_tone(mspi::tone_mode::ringback, 0ms);
  CHECK(wait_generations(log, call, 7).back() == "cancel tone");
  call.generate_tone(mspi::tone_mode::none, 0ms);  // TAPI's cancel: the ringback ends cancelled
  CHECK(wait_generations(log, call, 8).back() == "cancel tone");
  std::this_thread::sleep_for(200ms);  // a stop with nothing playing is no request: no event
  CHECK(log.generations_of(call.info().id).size() == 8);
}

}  // namespace

TEST_CASE("digit_generation_event on a loopback call: done per request, cancel when replaced, stopped or disconnected",
          "[tspi][loopback][tones][dsp]") {
  loopback_fixture f(with_tones());
  f.tapi.register_call_notifications(f.bob);
  f.tapi.on_call_notification().connect([](const tspi::call_notification_event& e) {
    auto c = e.call;
    c.async_answer([](std::error_code) {});
  });
  auto call = f.alice.create_call("bob");
  call.connect();
  REQUIRE(call.state() == tspi::call_state::connected);
  check_generations(f.log, call);

  // Still running when the call disconnects: digits and tone end cancelled, before the disconnected state.
  call.generate_digits("123456789");
  call.generate_tone(mspi::tone_mode::busy, 0ms);  // RFC 4733 digits and an in-band tone side by side
  std::this_thread::sleep_for(100ms);
  call.disconnect();
  REQUIRE(wait_state(f.log, call, tspi::call_state::disconnected));
  auto all = f.log.generations_of(call.info().id);
  REQUIRE(all.size() == 10);
  CHECK(strings(all.end() - 2, all.end()) == strings{"cancel digits", "cancel tone"});
  CHECK(cancel_before_disconnected(f.log, call.info().id));
  std::this_thread::sleep_for(300ms);  // and nothing after it
  CHECK(f.log.generations_of(call.info().id).size() == 10);
}

TEST_CASE("digit_generation_event on SIP calls: RFC 4733 and in-band digits, tones, and cancel on hang-up",
          "[tspi][sip][tones][dsp]") {
  sip_party alice(sip_party::config(0), with_tones());
  sip_party bob(sip_party::config(0), with_tones());
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  call.connect();
  REQUIRE(call.state() == tspi::call_state::connected);
  check_generations(alice.log, call);
  CHECK(bob.log.wait([&] { return bob.digits.size() >= 5; }));  // the digits reached bob
  CHECK(bob.digits_seen() == "12345");
  CHECK(bob.log.wait([&] { return bob.log.generations == 0; }));  // the far end generated nothing (read under its lock)

  // The far end hangs up during a tone: cancelled, before the disconnected state event.
  call.generate_tone(mspi::tone_mode::busy, 0ms);
  std::this_thread::sleep_for(100ms);
  auto answered = bob.last_offered();
  answered.disconnect();
  REQUIRE(wait_state(alice.log, call, tspi::call_state::disconnected));
  const auto all = alice.log.generations_of(call.info().id);
  REQUIRE(all.size() == 9);
  CHECK(all.back() == "cancel tone");
  CHECK(cancel_before_disconnected(alice.log, call.info().id));
}

TEST_CASE("digit_generation_event for in-band digits: done when the audio ends, cancel when a tone request cuts them",
          "[tspi][sip][tones][dsp]") {
  auto bob_media = with_tones();
  bob_media.telephone_event_payload_type = -1;  // a G.711 peer without RFC 4733: digits go as audio
  sip_party alice(sip_party::config(0), with_tones());
  sip_party bob(sip_party::config(0), bob_media);
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  call.connect();
  REQUIRE(call.state() == tspi::call_state::connected);
  call.generate_digits("12");  // 2 x 160 ms of audio
  CHECK(wait_generations(alice.log, call, 1) == strings{"done digits"});
  call.generate_digits("999");  // cut by a tone stop, then a tone cut by newer in-band digits
  call.generate_tone(mspi::tone_mode::none, 0ms);
  CHECK(wait_generations(alice.log, call, 2).back() == "cancel digits");
  call.generate_tone(mspi::tone_mode::busy, 0ms);
  call.generate_digits("7");
  CHECK(wait_generations(alice.log, call, 4) == strings{"done digits", "cancel digits", "cancel tone", "done digits"});
  // GenerateDigits2: 2 x (250 ms of tone + 250 ms of pause) of audio, where the default timing takes 320 ms.
  const auto start = std::chrono::steady_clock::now();
  call.generate_digits("58", 250ms);
  CHECK(wait_generations(alice.log, call, 5).back() == "done digits");
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);
  // Nothing runs at hang-up: no further event.
  call.disconnect();
  REQUIRE(wait_state(alice.log, call, tspi::call_state::disconnected));
  CHECK(alice.log.generations_of(call.info().id).size() == 5);
}
