// In-band DTMF (ITLegacyCallMediaControl::DetectDigits with LINEDIGITMODE_DTMF on the decoded received
// audio) with the optional dsp component (spandsp's dtmf_rx): the detector alone, then SIP calls between
// two RTP/Opus MSPs whose caller sends DTMF as audio (made with spandsp's dtmf_tx), with and without
// RFC 4733 events beside it; the call-progress tones of the national plans, generated and detected; fax tones.
#include <mspi/codec/resampler.hpp>
#include <mspi/dsp/call_progress_tones.hpp>
#include <mspi/dsp/dtmf_detector.hpp>
#include <mspi/dsp/fax_tone_detector.hpp>

#include "tspi/sip_fixture.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace ptapi_test;

namespace {

// `digits` as in-band DTMF from spandsp's dtmf_tx (-10 dBm0 per tone; its default timing, 50 ms of tone
// and 55 ms of pause, unless `on_ms`/`off_ms` say otherwise), 8 kHz, then `tail_ms` of silence.
std::vector<std::int16_t> dtmf_8k(const char* digits, int tail_ms = 300, int on_ms = 0, int off_ms = 0) {
  std::unique_ptr<dtmf_tx_state_t, int (*)(dtmf_tx_state_t*)> tx(dtmf_tx_init(nullptr), &dtmf_tx_free);
  REQUIRE(tx);
  if (on_ms > 0) dtmf_tx_set_timing(tx.get(), on_ms, off_ms);
  dtmf_tx_put(tx.get(), digits, -1);
  std::vector<std::int16_t> out;
  std::array<std::int16_t, 160> buf{};
  for (int n = 0; (n = dtmf_tx(tx.get(), buf.data(), static_cast<int>(buf.size()))) > 0;)
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  out.resize(out.size() + static_cast<std::size_t>(tail_ms) * 8, 0);
  return out;
}

// 8 kHz to the 48 kHz of the terminals.
std::vector<std::int16_t> to_48k(const std::vector<std::int16_t>& narrow) {
  mspi::interpolator_8k_to_48k up;
  std::vector<std::int16_t> wide(narrow.size() * 6);
  wide.resize(up.process(narrow, wide));
  return wide;
}

// Feeds `pcm` (48 kHz) into `terminal` as fast as its ring (1 s) takes it, so that a late test thread never
// leaves the call a frame short in the middle of a tone, and returns once the call has read all of it (the
// ring ran dry) or after 5 s more.
void play(mspi::media_streaming_terminal& terminal, const std::vector<std::int16_t>& pcm) {
  const std::span<const std::int16_t> all(pcm);
  for (std::size_t done = 0; done < all.size(); std::this_thread::sleep_for(20ms)) done += terminal.write(all.subspan(done));
  const auto underruns = terminal.underrun_samples();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (terminal.underrun_samples() == underruns && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
}

// The timing of the digits sent through calls: 80 ms of tone and 80 ms of pause, as phones send them
// (ITU-T Q.24 asks receivers for 40 ms). spandsp's 50 ms default leaves a detector on a loaded machine no
// frame to spare when the receiving jitter buffer conceals one; the detector alone is tested with it.
constexpr int call_tone_ms = 80;

// G.711 μ-law only (or Opus), with in-band detection from the dsp component.
mspi::rtp_opus_config media(mspi::audio_codec codec) {
  mspi::rtp_opus_config m;
  m.codecs = {codec};
  m.inband_digits = mspi::dsp::dtmf_detection();
  return m;
}

// The digit events of one party with their source.
struct digit_log {
  std::mutex m;
  std::string digits;
  std::vector<tspi::digit_source> sources;
  void attach(tspi::tapi& t) {
    t.on_digit().connect([this](const tspi::digit_event& e) {
      std::lock_guard lock(m);
      digits += e.digit;
      sources.push_back(e.source);
    });
  }
  std::pair<std::string, std::vector<tspi::digit_source>> get() {
    std::lock_guard lock(m);
    return {digits, sources};
  }
};

const char* const all_digits = "1234567890*#ABCD";

// alice calls bob with `codec`, both with in-band detection; alice speaks through `voice`; bob's digit
// events go to `seen`. Connected on both sides when made.
struct dtmf_call {
  sip_party alice, bob;
  digit_log seen;
  struct {
    tspi::call call;
    std::shared_ptr<mspi::media_streaming_terminal> voice;
    tspi::call answered;
  } parts;
  explicit dtmf_call(mspi::audio_codec codec) : alice(sip_party::config(0), media(codec)), bob(sip_party::config(0), media(codec)) {
    seen.attach(bob.tapi);
    bob.auto_answer();
    parts.call = alice.address.create_call(bob.uri);
    parts.voice = alice.address.terminals().create_media_streaming_terminal(mspi::terminal_direction::capture);
    parts.call.select_terminal_on_call(parts.voice);
    parts.call.connect();
    REQUIRE(parts.call.state() == tspi::call_state::connected);
    parts.answered = bob.last_offered();
    REQUIRE(wait_state(bob.log, parts.answered, tspi::call_state::connected));
  }
};

}  // namespace

TEST_CASE("dsp::dtmf_detector finds every DTMF digit of spandsp's generator once, in 20 ms frames", "[dsp]") {
  mspi::dsp::dtmf_detector d;
  const auto pcm = dtmf_8k(all_digits);
  std::string got;
  std::array<char, 8> out{};
  for (std::size_t i = 0; i < pcm.size(); i += 160) {
    const auto frame = std::span<const std::int16_t>(pcm).subspan(i, std::min<std::size_t>(160, pcm.size() - i));
    got.append(out.data(), d.process(frame, out));
  }
  CHECK(got == all_digits);

  // Silence and a single tone (dial tone's 350 Hz + 440 Hz are not a DTMF pair) give nothing.
  std::vector<std::int16_t> dial(8000);
  for (std::size_t i = 0; i < dial.size(); ++i)
    dial[i] = static_cast<std::int16_t>(4000 * (std::sin(2 * M_PI * 350 * i / 8000.0) + std::sin(2 * M_PI * 440 * i / 8000.0)));
  d.reset();
  CHECK(d.process(dial, out) == 0);
  CHECK(d.process(std::vector<std::int16_t>(8000, 0), out) == 0);
}

TEST_CASE("in-band DTMF from a caller without RFC 4733 is detected digit for digit and gathered", "[dsp][tspi][sip]") {
  const auto codec = GENERATE(mspi::audio_codec::pcmu, mspi::audio_codec::opus);
  CAPTURE(codec);
  dtmf_call c(codec);
  auto& [call, voice, answered] = c.parts;
  auto& seen = c.seen;

  tspi::gather_digits_options o;
  o.max_digits = 16;
  o.first_timeout = 5s;
  o.inter_timeout = 3s;  // a missed digit ends the gathering (and fails the checks) instead of waiting forever
  auto gathered = std::async(std::launch::async, [b = answered, o] { return b.gather_digits(o); });
  std::this_thread::sleep_for(100ms);  // the gathering starts before the digits
  play(*voice, to_48k(dtmf_8k(all_digits, 300, call_tone_ms, call_tone_ms)));
  const auto r = gathered.get();
  CHECK(r.digits == all_digits);
  CHECK(r.termination == tspi::gather_termination::buffer_full);
  const auto [digits, sources] = seen.get();
  CHECK(digits == all_digits);
  CHECK(std::all_of(sources.begin(), sources.end(), [](auto s) { return s == tspi::digit_source::in_band; }));
  call.disconnect();
}

TEST_CASE("a caller sending DTMF both as RFC 4733 events and as audio gets each digit reported once, out of band",
          "[dsp][tspi][sip]") {
  dtmf_call c(mspi::audio_codec::pcmu);
  auto& [call, voice, answered] = c.parts;
  auto& seen = c.seen;

  call.generate_digits("147");  // RFC 4733 first, the same digits as audio beside them
  play(*voice, to_48k(dtmf_8k("147", 600, call_tone_ms, call_tone_ms)));
  // The audio of the same digits again, after the events (as a peer whose events and tones are not
  // simultaneous): the peer sends RFC 4733, so its audio digits are not reported.
  play(*voice, to_48k(dtmf_8k("147", 600, call_tone_ms, call_tone_ms)));
  const auto [digits, sources] = seen.get();
  CHECK(digits == "147");
  CHECK(std::all_of(sources.begin(), sources.end(), [](auto s) { return s == tspi::digit_source::out_of_band; }));
  call.disconnect();
}

TEST_CASE("call-progress tones of each national plan are detected as themselves, and silence as nothing", "[dsp]") {
  using mspi::dsp::progress_tone;
  using mspi::dsp::tone_plan;
  const auto plan = GENERATE(tone_plan::us, tone_plan::uk, tone_plan::eu);
  const auto tone = GENERATE(progress_tone::dial, progress_tone::ringback, progress_tone::busy);
  CAPTURE(plan, tone);
  mspi::dsp::tone_generator generator(mspi::dsp::progress_tone_of(plan, tone));
  mspi::dsp::call_progress_detector detector(plan);
  std::vector<progress_tone> reported;
  std::vector<std::int16_t> frame(160);  // 20 ms at 8 kHz
  for (int f = 0; f < 400; ++f) {       // 8 s: two US ringback cycles
    REQUIRE(generator.generate(frame) == frame.size());
    if (auto t = detector.process(frame)) reported.push_back(*t);
  }
  REQUIRE_FALSE(reported.empty());
  CHECK(std::all_of(reported.begin(), reported.end(), [&](auto t) { return t == tone; }));
  CHECK(detector.current() == tone);

  mspi::dsp::call_progress_detector quiet(plan);
  std::fill(frame.begin(), frame.end(), std::int16_t{0});
  bool any = false;
  for (int f = 0; f < 400; ++f) any = any || quiet.process(frame).has_value();
  CHECK_FALSE(any);
}

TEST_CASE("fax CNG and CED from spandsp's generator are detected as such", "[dsp]") {
  const auto [type, want] = GENERATE(std::pair{MODEM_CONNECT_TONES_FAX_CNG, mspi::dsp::fax_tone::cng},
                                     std::pair{MODEM_CONNECT_TONES_FAX_CED, mspi::dsp::fax_tone::ced});
  CAPTURE(type);
  std::unique_ptr<modem_connect_tones_tx_state_t, int (*)(modem_connect_tones_tx_state_t*)> tx(
      modem_connect_tones_tx_init(nullptr, type), &modem_connect_tones_tx_free);
  REQUIRE(tx);
  mspi::dsp::fax_tone_detector detector;
  std::vector<mspi::dsp::fax_tone> reported;
  std::vector<std::int16_t> frame(160);
  for (int f = 0; f < 150; ++f) {  // 3 s
    std::fill(frame.begin(), frame.end(), std::int16_t{0});
    modem_connect_tones_tx(tx.get(), frame.data(), static_cast<int>(frame.size()));
    if (auto t = detector.process(frame)) reported.push_back(*t);
  }
  REQUIRE(reported.size() == 1);
  CHECK(reported[0] == want);
}
