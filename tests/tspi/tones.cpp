// Tones on calls (ITLegacyCallMediaControl(2) GenerateTone, GenerateCustomTones, DetectTones; in-band
// GenerateDigits) with the dsp component's tone factory: the sources and detector alone, then calls through
// the loopback and SIP providers whose received audio is measured (frequency and cadence) and monitored.
#include <mspi/audio_file.hpp>
#include <mspi/codec/resampler.hpp>
#include <mspi/dsp/dtmf_detector.hpp>
#include <mspi/dsp/tone_media.hpp>

#include "../mspi/tone_support.hpp"
#include "tspi/sip_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <future>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using namespace ptapi_test;

namespace {

// Runs of "on" blocks (10 ms, 480 samples) of `pcm` (48 kHz) where `hz` is louder than half its loudest
// block: the on and off lengths in ms of each whole run (the first and last partial runs left out).
struct cadence {
  std::vector<int> on_ms, off_ms;
  std::size_t bursts = 0;  // on runs, partial ones included
};
cadence measure_cadence(std::span<const std::int16_t> pcm, double hz) {
  std::vector<double> amp;
  for (std::size_t i = 0; i + 480 <= pcm.size(); i += 480) amp.push_back(tone_amplitude(pcm.subspan(i, 480), hz));
  const double top = amp.empty() ? 0 : *std::max_element(amp.begin(), amp.end());
  cadence c;
  if (top < 100) return c;
  std::vector<std::pair<bool, int>> runs;  // (on, blocks)
  for (double a : amp) {
    const bool on = a > top / 2;
    if (runs.empty() || runs.back().first != on) runs.emplace_back(on, 0);
    ++runs.back().second;
  }
  // A run shorter than 60 ms inside another (a late packet concealed on a loaded machine dips a burst for
  // a frame or two) is taken as part of it; cadences of 100 ms and more are still measured as they are.
  std::vector<std::pair<bool, int>> merged;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const bool blip = i > 0 && i + 1 < runs.size() && runs[i].second < 6;
    const bool on = blip ? !runs[i].first : runs[i].first;
    if (!merged.empty() && merged.back().first == on) merged.back().second += runs[i].second;
    else merged.emplace_back(on, runs[i].second);
  }
  for (std::size_t i = 1; i + 1 < merged.size(); ++i) (merged[i].first ? c.on_ms : c.off_ms).push_back(merged[i].second * 10);
  c.bursts = static_cast<std::size_t>(std::count_if(merged.begin(), merged.end(), [](const auto& r) { return r.first; }));
  return c;
}

int median(std::vector<int> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// What a render terminal received during `time` (48 kHz), read every 20 ms.
std::vector<std::int16_t> listen(mspi::media_streaming_terminal& in, std::chrono::milliseconds time) {
  std::vector<std::int16_t> got, buf(960);
  const auto end = std::chrono::steady_clock::now() + time;
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(20ms);
    while (auto n = in.read(buf)) got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return got;
}

// The tone events of one TAPI object.
struct tone_log {
  std::mutex m;
  std::vector<std::uint32_t> apps;
  std::vector<std::uint64_t> calls;
  void attach(tspi::tapi& t) {
    t.on_tone_detection().connect([this](const tspi::tone_detection_event& e) {
      std::lock_guard lock(m);
      apps.push_back(e.app_specific);
      calls.push_back(e.call.info().id);
    });
  }
  std::vector<std::uint32_t> get() {
    std::lock_guard lock(m);
    return apps;
  }
};

mspi::rtp_opus_config tone_media_config(mspi::audio_codec codec, bool tones = true) {
  mspi::rtp_opus_config m;
  m.codecs = {codec};
  if (tones) m.tones = mspi::dsp::tone_media();
  return m;
}

// A loopback call alice -> bob on one TAPI object, both with the tone factory (or without: `tones`);
// bob hears through `heard`.
struct loopback_tone_call {
  tone_log tones;  // declared before the TAPI object: outlives its handlers
  event_log log;
  tspi::tapi tapi;
  tspi::address alice, bob;
  std::shared_ptr<mspi::media_streaming_terminal> heard;
  tspi::call call, answered;
  std::mutex m;
  explicit loopback_tone_call(mspi::audio_codec codec, bool with_tones = true) {
    tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>({}, tone_media_config(codec, with_tones));
    tapi.set_event_filter(tspi::tapi_event::all);
    log.attach(tapi);
    tones.attach(tapi);
    tapi.initialize();
    alice = tapi.find_address("alice");
    bob = tapi.find_address("bob");
    heard = bob.terminals().create_media_streaming_terminal(mspi::terminal_direction::render);
    tapi.register_call_notifications(bob);
    tapi.on_call_notification().connect([this](const tspi::call_notification_event& e) {
      auto c = e.call;
      c.select_terminal_on_call(heard);
      {
        std::lock_guard lock(m);
        answered = c;
      }
      c.async_answer([](std::error_code) {});
    });
    call = alice.create_call("bob");
    call.connect();
    REQUIRE(call.state() == tspi::call_state::connected);
    REQUIRE(log.wait([&] {
      std::lock_guard lock(m);
      return answered && answered.state() == tspi::call_state::connected;
    }));
  }
  ~loopback_tone_call() { tapi.shutdown(); }
};

}  // namespace

TEST_CASE("dsp tone sources: busy's cadence, a beep's single burst, in-band DTMF read back by dtmf_rx", "[dsp][tones]") {
  // US busy at 8 kHz, 3 s: 480+620 Hz bursts of 500 ms every second.
  auto busy = mspi::dsp::tone_media().generator(mspi::tone_generation{mspi::tone_mode::busy, {}, {}});
  std::vector<std::int16_t> narrow(24000);
  for (std::size_t i = 0; i < narrow.size(); i += 160)
    REQUIRE(busy->generate(std::span<std::int16_t>(narrow).subspan(i, 160)) == 160);
  mspi::interpolator_8k_to_48k up;
  std::vector<std::int16_t> wide(narrow.size() * 6);
  up.process(narrow, wide);
  const auto c = measure_cadence(wide, 480);
  REQUIRE(c.on_ms.size() >= 2);
  CHECK(std::abs(median(c.on_ms) - 500) <= 20);
  CHECK(std::abs(median(c.off_ms) - 500) <= 20);

  // A beep is one 250 ms burst: the source ends after it.
  auto beep = mspi::dsp::tone_media().generator(mspi::tone_generation{mspi::tone_mode::beep, {}, {}});
  std::size_t total = 0;
  for (int i = 0; i < 50; ++i) total += beep->generate(std::span<std::int16_t>(narrow).first(160));
  CHECK(total == 2000);

  // In-band DTMF: every digit, 80 ms on and 80 ms off, then the source ends.
  auto digits = mspi::dsp::tone_media().digits("1234567890*#ABCD", {});
  mspi::dsp::dtmf_detector rx;
  std::string got;
  std::array<char, 8> out{};
  std::size_t samples = 0;
  for (std::size_t n = 160; n == 160;) {
    n = digits->generate(std::span<std::int16_t>(narrow).first(160));
    samples += n;
    got.append(out.data(), rx.process(std::span<const std::int16_t>(narrow).first(n), out));
  }
  CHECK(got == "1234567890*#ABCD");
  CHECK(samples == 16 * 160 * 8);  // 16 digits of 160 ms at 8 kHz
}

TEST_CASE("dsp tone detector: a DetectTones entry is reported once per burst, other tones and silence never", "[dsp][tones]") {
  const std::vector<mspi::detect_tone> list{{7, 300, {480, 620, 0}}, {9, 300, {1000, 0, 0}}};
  REQUIRE_FALSE(mspi::validate(std::span<const mspi::detect_tone>(list)));
  auto detector = mspi::dsp::tone_media().detector(list);
  auto busy = mspi::dsp::tone_media().generator(mspi::tone_generation{mspi::tone_mode::busy, {}, {}});
  std::vector<std::int16_t> frame(160);
  std::array<std::uint32_t, 8> found{};
  std::vector<std::uint32_t> all;
  for (int f = 0; f < 200; ++f) {  // 4 s: four bursts
    busy->generate(frame);
    const auto n = detector->process(frame, found);
    all.insert(all.end(), found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n));
  }
  CHECK(all.size() >= 3);
  CHECK(all.size() <= 4);
  CHECK(std::all_of(all.begin(), all.end(), [](auto a) { return a == 7; }));
  std::fill(frame.begin(), frame.end(), std::int16_t{0});
  std::size_t quiet = 0;
  for (int f = 0; f < 100; ++f) quiet += detector->process(frame, found);
  CHECK(quiet == 0);
}

TEST_CASE("dsp tone detector: broadband noise and speech are no tone, a tone in that noise still is", "[dsp][tones]") {
  // The softphone's call-progress list (US ringback and busy). alsa-utils' Noise.wav passed as busy after
  // 0.5 s before the receivers had guard frequencies.
  const std::vector<mspi::detect_tone> list{{1, 1500, {440, 480, 0}}, {2, 350, {480, 620, 0}}};
  const auto at_8k = [](const std::string& name) {
    const auto wide = mspi::read_audio_file("/usr/share/sounds/alsa/" + name + ".wav");  // 48 kHz
    std::vector<std::int16_t> narrow(wide.size() / 6 + 1);
    mspi::decimator_48k_to_8k d;
    narrow.resize(d.process(wide, narrow));
    return narrow;
  };
  const auto detections = [&](std::span<const std::int16_t> pcm) {
    auto detector = mspi::dsp::tone_media().detector(list);
    std::array<std::uint32_t, 8> found{};
    std::vector<std::uint32_t> all;
    for (std::size_t i = 0; i + 160 <= pcm.size(); i += 160) {
      const auto n = detector->process(pcm.subspan(i, 160), found);
      all.insert(all.end(), found.begin(), found.begin() + static_cast<std::ptrdiff_t>(n));
    }
    return all;
  };
  const auto noise = at_8k("Noise");
  REQUIRE(noise.size() > 8000);
  CHECK(detections(noise).empty());
  for (const char* name : {"Front_Center", "Front_Left", "Front_Right", "Rear_Center", "Rear_Left", "Rear_Right",
                           "Side_Left", "Side_Right"}) {
    CAPTURE(name);
    CHECK(detections(at_8k(name)).empty());
  }
  // Busy (480 + 620 Hz, 0.5 s on, 0.5 s off) at the noise's level still passes through it: one detection
  // per burst (0.5 s, then 0.41 s before the noise ends).
  std::vector<std::int16_t> mixed(noise.size());
  for (std::size_t i = 0; i < noise.size(); ++i) {
    const bool on = (i / 4000) % 2 == 0;
    const double t = static_cast<double>(i) / 8000.0;
    const double tone = on ? 1000.0 * (std::sin(2 * M_PI * 480 * t) + std::sin(2 * M_PI * 620 * t)) : 0.0;
    mixed[i] = static_cast<std::int16_t>(std::clamp(noise[i] + tone, -32768.0, 32767.0));
  }
  const auto busy = detections(mixed);
  CHECK(busy.size() == 2);
  CHECK(std::all_of(busy.begin(), busy.end(), [](auto a) { return a == 2; }));
}

TEST_CASE("validate refuses tone requests out of range", "[tones]") {
  using mspi::tapi_errc;
  CHECK_FALSE(mspi::validate(mspi::tone_generation{mspi::tone_mode::busy, {}, 1000ms}));
  CHECK(mspi::validate(mspi::tone_generation{mspi::tone_mode{3}, {}, {}}) == tapi_errc::invalid_mode);
  CHECK(mspi::validate(mspi::tone_generation{mspi::tone_mode::busy, {}, -1ms}) == tapi_errc::invalid_argument);
  CHECK(mspi::validate(mspi::tone_generation{mspi::tone_mode::busy, {{1000, 0, 0, -10}}, {}}) == tapi_errc::invalid_argument);
  CHECK(mspi::validate(mspi::tone_generation{mspi::tone_mode::none, {{4500, 0, 0, -10}}, {}}) == tapi_errc::invalid_argument);
  CHECK(mspi::validate(mspi::tone_generation{mspi::tone_mode::none, std::vector<mspi::custom_tone>(5, {1000, 0, 0, -10}), {}}) ==
        tapi_errc::invalid_argument);
  const std::vector<mspi::detect_tone> three{{1, 100, {400, 500, 600}}}, short_one{{1, 10, {400, 0, 0}}};
  CHECK(mspi::validate(std::span<const mspi::detect_tone>(three)) == tapi_errc::invalid_argument);
  CHECK(mspi::validate(std::span<const mspi::detect_tone>(short_one)) == tapi_errc::invalid_argument);
}

TEST_CASE("generate_tone on a loopback call: the far end hears busy's frequencies and cadence, detects it, and silence after cancel",
          "[dsp][tones][tspi][loopback]") {
  const auto codec = GENERATE(mspi::audio_codec::pcmu, mspi::audio_codec::opus);
  CAPTURE(codec);
  loopback_tone_call t(codec);
  const std::vector<mspi::detect_tone> busy_list{{42, 300, {480, 620, 0}}};
  t.answered.detect_tones(busy_list);
  t.call.generate_tone(mspi::tone_mode::busy, 0ms);
  const auto got = listen(*t.heard, 3500ms);
  const auto c = measure_cadence(got, 480);
  INFO("on runs " << c.on_ms.size() << " median " << median(c.on_ms) << " ms, off median " << median(c.off_ms) << " ms");
  REQUIRE(c.on_ms.size() >= 2);
  CHECK(std::abs(median(c.on_ms) - 500) <= 40);
  CHECK(std::abs(median(c.off_ms) - 500) <= 40);
  // Both of busy's frequencies, well above a frequency it does not have.
  double a480 = 0, a620 = 0, a1000 = 0;
  for (std::size_t i = 0; i + 4800 <= got.size(); i += 4800) {
    const auto w = std::span<const std::int16_t>(got).subspan(i, 4800);
    a480 = std::max(a480, tone_amplitude(w, 480));
    a620 = std::max(a620, tone_amplitude(w, 620));
    a1000 = std::max(a1000, tone_amplitude(w, 1000));
  }
  WARN("busy via " << (codec == mspi::audio_codec::pcmu ? "PCMU" : "Opus") << ": 480 Hz " << a480 << ", 620 Hz " << a620
                   << ", 1000 Hz " << a1000 << "; on " << median(c.on_ms) << " ms, off " << median(c.off_ms) << " ms");
  CHECK(decibels(a480, a1000) > 20);
  CHECK(decibels(a620, a1000) > 20);
  const auto events = t.tones.get();
  CHECK(events.size() >= 2);
  CHECK(std::all_of(events.begin(), events.end(), [](auto a) { return a == 42; }));

  // tone_mode::none cancels: after it, nothing of 480 Hz arrives.
  t.call.generate_tone(mspi::tone_mode::none, 0ms);
  (void)listen(*t.heard, 300ms);
  const auto after = listen(*t.heard, 1500ms);
  double late = 0;
  for (std::size_t i = 0; i + 4800 <= after.size(); i += 4800)
    late = std::max(late, tone_amplitude(std::span<const std::int16_t>(after).subspan(i, 4800), 480));
  CHECK(decibels(a480, late) > 30);
  t.call.disconnect();
}

TEST_CASE("generate_custom_tones sends the asked frequency and cadence, for the asked duration", "[dsp][tones][tspi][loopback]") {
  loopback_tone_call t(mspi::audio_codec::pcmu);
  const std::vector<mspi::custom_tone> tones{{1000, 200, 300, -10}};
  t.call.generate_custom_tones(tones, 2000ms);
  const auto got = listen(*t.heard, 3000ms);
  const auto c = measure_cadence(got, 1000);
  REQUIRE(c.on_ms.size() >= 2);
  CHECK(std::abs(median(c.on_ms) - 200) <= 30);
  CHECK(std::abs(median(c.off_ms) - 300) <= 30);
  // 2 s: four cycles of 500 ms, so four bursts, then the request ends.
  CHECK(c.bursts == 4);
  t.call.disconnect();
}

TEST_CASE("a timed tone replaces the capture terminal's audio, which comes back when the tone ends",
          "[dsp][tones][tspi][loopback]") {
  loopback_tone_call t(mspi::audio_codec::opus);
  auto voice = std::make_shared<tone_terminal>(300, 6000);  // the "speech": a 300 Hz sine made on the media thread
  t.call.select_terminal_on_call(voice);
  (void)listen(*t.heard, 500ms);
  const std::vector<mspi::custom_tone> tone{{1000, 0, 0, -10}};  // continuous
  t.call.generate_custom_tones(tone, 1500ms);
  const auto got = listen(*t.heard, 3000ms);
  // Per 100 ms window: which of the two is heard.
  int tone_windows = 0, voice_windows = 0, both = 0, voice_after_tone = 0;
  bool tone_seen = false;
  for (std::size_t i = 0; i + 4800 <= got.size(); i += 4800) {
    const auto w = std::span<const std::int16_t>(got).subspan(i, 4800);
    const double a_tone = tone_amplitude(w, 1000), a_voice = tone_amplitude(w, 300);
    const bool is_tone = a_tone > 1000 && decibels(a_tone, a_voice) > 20;
    const bool is_voice = a_voice > 1000 && decibels(a_voice, a_tone) > 20;
    tone_windows += is_tone;
    voice_windows += is_voice;
    both += a_tone > 1000 && a_voice > 1000;
    tone_seen = tone_seen || is_tone;
    voice_after_tone += tone_seen && is_voice;
  }
  INFO("100 ms windows: tone " << tone_windows << ", voice " << voice_windows << " (after the tone " << voice_after_tone
                               << "), both " << both);
  CHECK(tone_windows >= 12);  // 1.5 s: 14 whole windows; one lost to a concealed packet is tolerated
  CHECK(tone_windows <= 16);
  CHECK(voice_after_tone >= 10);
  CHECK(both <= 3);  // the windows where one ends and the other starts (2), one more for a late packet
  t.call.disconnect();
}

TEST_CASE("tone requests fail clearly: idle call, no dsp factory, bad arguments", "[dsp][tones][tspi][loopback]") {
  {
    loopback_tone_call t(mspi::audio_codec::pcmu, false);
    std::error_code ec;
    t.call.generate_tone(mspi::tone_mode::busy, 0ms, ec);
    CHECK(ec == mspi::tapi_errc::not_supported);
    const std::vector<mspi::detect_tone> list{{1, 300, {480, 620, 0}}};
    t.call.detect_tones(list, ec);
    CHECK(ec == mspi::tapi_errc::not_supported);
    t.call.disconnect();
  }
  loopback_fixture f;
  auto idle = f.alice.create_call("bob");
  std::error_code ec;
  idle.generate_tone(mspi::tone_mode::ringback, 0ms, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  const std::vector<mspi::detect_tone> list{{1, 300, {480, 620, 0}}};
  idle.detect_tones(list, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  CHECK_THROWS_AS(idle.generate_tone(mspi::tone_mode::busy), std::system_error);

  loopback_tone_call t(mspi::audio_codec::pcmu);
  t.call.generate_custom_tones({}, 0ms, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  t.call.generate_tone(mspi::tone_mode{0x40}, 0ms, ec);
  CHECK(ec == mspi::tapi_errc::invalid_mode);
  const std::vector<mspi::detect_tone> bad{{1, 300, {480, 620, 700}}};
  t.call.detect_tones(bad, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  // The async form completes with the same error.
  std::promise<std::error_code> p;
  t.call.async_generate_tone(mspi::tone_mode{0x40}, 0ms, [&](std::error_code e) { p.set_value(e); });
  auto fut = p.get_future();
  REQUIRE(fut.wait_for(5s) == std::future_status::ready);
  CHECK(fut.get() == mspi::tapi_errc::invalid_mode);
  t.call.disconnect();
}

TEST_CASE("ringback sent by a SIP peer on G.711 is detected by DetectTones", "[dsp][tones][tspi][sip]") {
  tone_log seen;  // outlives bob's TAPI object
  sip_party alice(sip_party::config(0), tone_media_config(mspi::audio_codec::pcmu));
  sip_party bob(sip_party::config(0), tone_media_config(mspi::audio_codec::pcmu));
  seen.attach(bob.tapi);
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  call.connect();
  REQUIRE(call.state() == tspi::call_state::connected);
  auto answered = bob.last_offered();
  REQUIRE(wait_state(bob.log, answered, tspi::call_state::connected));
  const std::vector<mspi::detect_tone> list{{2, 1500, {440, 480, 0}}, {4, 300, {480, 620, 0}}};
  answered.detect_tones(list);
  call.generate_tone(mspi::tone_mode::ringback, 0ms);  // 2 s on, 4 s off: the first burst is enough
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (seen.get().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  const auto events = seen.get();
  REQUIRE(events.size() == 1);
  CHECK(events[0] == 2);
  call.disconnect();
}

TEST_CASE("generate_digits towards a SIP peer without telephone-event sends in-band DTMF its detector reads back",
          "[dsp][tones][tspi][sip]") {
  auto alice_media = tone_media_config(mspi::audio_codec::pcmu);
  auto bob_media = tone_media_config(mspi::audio_codec::pcmu, false);
  bob_media.telephone_event_payload_type = -1;  // a G.711 peer that does not do RFC 4733
  bob_media.inband_digits = mspi::dsp::dtmf_detection();
  std::mutex m;  // declared before the parties: bob's handler uses them until bob's TAPI object is shut down
  std::vector<tspi::digit_source> sources;
  sip_party alice(sip_party::config(0), alice_media);
  sip_party bob(sip_party::config(0), bob_media);
  bob.tapi.on_digit().connect([&](const tspi::digit_event& e) {
    std::lock_guard lock(m);
    sources.push_back(e.source);
  });
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  call.connect();
  REQUIRE(call.state() == tspi::call_state::connected);
  auto answered = bob.last_offered();
  REQUIRE(wait_state(bob.log, answered, tspi::call_state::connected));
  const std::string all = "1234567890*#ABCD";
  call.generate_digits(all);  // 16 digits of 160 ms: 2.56 s
  CHECK(bob.log.wait([&] { return bob.digits.size() >= all.size(); }, 8s));
  CHECK(bob.digits_seen() == all);
  {
    std::lock_guard lock(m);
    CHECK(std::all_of(sources.begin(), sources.end(), [](auto s) { return s == tspi::digit_source::in_band; }));
  }
  // A tone request cuts digits short; digits asked again after it are sent whole.
  call.generate_digits("999");
  call.generate_tone(mspi::tone_mode::none, 0ms);
  std::this_thread::sleep_for(600ms);
  const auto before = bob.digits_seen().size();
  call.generate_digits("42");
  CHECK(bob.log.wait([&] { return bob.digits.size() >= before + 2; }, 5s));
  CHECK(bob.digits_seen().substr(before) == "42");
  call.disconnect();
}
