// Zero heap allocations per frame in steady state, through the real engine: a loopback call
// (tspi::tapi + loopback_tsp + rtp_opus_msp), with Opus and with PCMU, and media streaming terminals on
// both sides. The terminals mark the MSPs' media threads (they are called there), and only those
// threads' allocations are counted.
#define PTAPI_DEFINE_COUNTING_ALLOCATOR
#define PTAPI_PROVIDER_DEFINITIONS  // the conference test drives the RTP/Opus MSP itself
#include <support/counting_allocator.hpp>

#include "mspi/conference_support.hpp"
#include "tspi/loopback_fixture.hpp"

#include <mspi/dsp/dtmf_detector.hpp>
#include <mspi/dsp/tone_media.hpp>
#include <mspi/terminals/media_streaming.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// A media streaming terminal that marks the thread calling its frame port (the MSP's media thread) for
// allocation counting.
class marking_terminal final : public mspi::media_streaming_terminal {
 public:
  using media_streaming_terminal::media_streaming_terminal;
  void read_frame(std::span<std::int16_t> frame) noexcept override {
    ptapi_test::count_this_thread();
    media_streaming_terminal::read_frame(frame);
  }
  void write_frame(std::span<const std::int16_t> frame) noexcept override {
    ptapi_test::count_this_thread();
    media_streaming_terminal::write_frame(frame);
  }
};

struct leg {
  std::shared_ptr<marking_terminal> out = std::make_shared<marking_terminal>(mspi::terminal_direction::capture);
  std::shared_ptr<marking_terminal> in = std::make_shared<marking_terminal>(mspi::terminal_direction::render);
};

std::uint64_t packets(const tspi::call& c, mspi::terminal_direction d) {
  std::uint64_t n = 0;
  for (const auto& s : c.stream_control()->streams())
    if (s->direction() == d) n += s->statistics().packets;
  return n;
}

// Runs a call from alice to bob with media streaming terminals on both sides and checks that, after a
// warm-up, 2.5 s of media both ways allocate nothing on the media threads. Returns the call's render
// statistics. `on_connected` (optional) runs with alice's call once it is connected, before the warm-up.
mspi::stream_statistics check_steady_state(tspi::tapi& tapi, tspi::address& alice, tspi::address& bob,
                                           const std::function<void(const tspi::call&)>& on_connected = {}) {
  tapi.register_call_notifications(bob);

  leg a, b;
  tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    auto c = e.call;
    c.select_terminal_on_call(b.in);
    c.select_terminal_on_call(b.out);
    c.async_answer([](std::error_code) {});
  });
  auto call = alice.create_call("bob");
  call.select_terminal_on_call(a.out);
  call.select_terminal_on_call(a.in);
  call.connect();
  REQUIRE(call.state() == tspi::call_state::connected);
  if (on_connected) on_connected(call);

  // The application side feeds a tone and drains the render rings, with buffers made up front.
  std::vector<std::int16_t> tone(960 * 50), sink(4800);
  for (std::size_t i = 0; i < tone.size(); ++i)
    tone[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440 * static_cast<double>(i) / 48000.0));
  std::size_t pos = 0, at_alice = 0, at_bob = 0;  // samples the application drained from the render rings
  auto pump = [&](std::chrono::milliseconds d) {
    for (auto end = std::chrono::steady_clock::now() + d; std::chrono::steady_clock::now() < end;) {
      auto chunk = std::span<const std::int16_t>(tone.data() + pos, 960);
      a.out->write(chunk);
      b.out->write(chunk);
      pos = (pos + 960) % tone.size();
      while (auto n = a.in->read(sink)) at_alice += n;
      while (auto n = b.in->read(sink)) at_bob += n;
      std::this_thread::sleep_for(20ms);
    }
  };

  pump(500ms);  // warm-up: first frames, playout start, Asio handler memory recycled
  const auto sent0 = packets(call, mspi::terminal_direction::capture);
  const auto recv0 = packets(call, mspi::terminal_direction::render);
  at_alice = at_bob = 0;
  const auto allocs0 = ptapi_test::counted_allocations();
  pump(2500ms);
  const auto allocs1 = ptapi_test::counted_allocations();
  const auto sent = packets(call, mspi::terminal_direction::capture) - sent0;
  const auto recv = packets(call, mspi::terminal_direction::render) - recv0;

  INFO("alice sent " << sent << " and received " << recv << " packets; rendered " << at_alice << " samples at alice, "
                       << at_bob << " at bob; media-thread allocations " << allocs1 - allocs0);
  CHECK(sent >= 100);
  CHECK(recv >= 100);
  CHECK(at_alice >= 100 * 960);
  CHECK(at_bob >= 100 * 960);
  REQUIRE(allocs1 - allocs0 == 0);

  mspi::stream_statistics render;
  for (const auto& s : call.stream_control()->streams())
    if (s->direction() == mspi::terminal_direction::render) render = s->statistics();
  call.disconnect();
  return render;
}

// check_steady_state on a loopback TAPI object whose RTP/Opus MSP has the settings `msp`.
mspi::stream_statistics check_steady_state_with(const mspi::rtp_opus_config& msp,
                                                const std::function<void(const tspi::call&)>& on_connected = {}) {
  ptapi_test::event_log log;
  tspi::tapi tapi;
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>({}, msp);
  tapi.set_event_filter(tspi::tapi_event::all);
  log.attach(tapi);
  tapi.initialize();
  auto alice = tapi.find_address("alice");
  auto bob = tapi.find_address("bob");
  const auto render = check_steady_state(tapi, alice, bob, on_connected);
  tapi.shutdown();
  return render;
}

}  // namespace

TEST_CASE("the counting allocator counts only marked threads", "[mspi][alloc]") {
  const auto before = ptapi_test::counted_allocations();
  delete new int(1);  // unmarked: not counted
  CHECK(ptapi_test::counted_allocations() == before);
  ptapi_test::count_this_thread();
  auto p = std::make_unique<std::array<double, 64>>();
  ptapi_test::count_this_thread(false);
  CHECK(ptapi_test::counted_allocations() == before + 1);
  CHECK(ptapi_test::live_bytes() >= static_cast<std::int64_t>(sizeof(*p)));
}

TEST_CASE("steady-state media allocates nothing per frame on the media threads", "[mspi][rtp_opus][alloc]") {
  ptapi_test::loopback_fixture f;  // 20 ms ptime, Opus
  const auto render = check_steady_state(f.tapi, f.alice, f.bob);
  CHECK(render.octets < 100 * render.packets);  // Opus at 24 kbit/s: about 60 bytes per 20 ms
}

TEST_CASE("a PCMU call allocates nothing per frame either (G.711 and 48k <-> 8k resampling)", "[mspi][rtp_opus][alloc][g711]") {
  mspi::rtp_opus_config msp;
  msp.codecs = {mspi::audio_codec::pcmu};
  const auto render = check_steady_state_with(msp);
  CHECK(render.octets == 160 * render.packets);  // G.711: one octet per 8 kHz sample, 20 ms
}

TEST_CASE("an SRTP call (SDES, AES_CM_128_HMAC_SHA1_80) allocates nothing per frame either", "[mspi][rtp_opus][alloc][srtp]") {
  mspi::rtp_opus_config msp;
  msp.srtp = mspi::srtp_policy::mandatory;
  msp.allow_sdes_over_insecure_signalling = true;  // the loopback TSP has no TLS
  const auto render = check_steady_state_with(msp);
  CHECK(render.secured);
  CHECK(render.srtp_suite == "AES_CM_128_HMAC_SHA1_80");
  CHECK(render.srtp_rejected == 0);
}

TEST_CASE("a PCMU call with in-band DTMF detection (dsp component) allocates nothing per frame either",
          "[mspi][rtp_opus][alloc][dsp]") {
  mspi::rtp_opus_config msp;
  msp.codecs = {mspi::audio_codec::pcmu};
  msp.inband_digits = mspi::dsp::dtmf_detection();  // spandsp's state is allocated at call setup
  const auto render = check_steady_state_with(msp);
  CHECK(render.octets == 160 * render.packets);
}

TEST_CASE("a PCMU call generating a tone and monitoring tones (dsp component) allocates nothing per frame either",
          "[mspi][rtp_opus][alloc][dsp][tones]") {
  mspi::rtp_opus_config msp;
  msp.codecs = {mspi::audio_codec::pcmu};
  msp.tones = mspi::dsp::tone_media();  // sources and detectors are made per request, on the requesting thread
  const auto render = check_steady_state_with(msp, [](const tspi::call& call) {
    const std::vector<mspi::custom_tone> tone{{1000, 0, 0, -20}};  // continuous: sent on every frame
    call.generate_custom_tones(tone, 0ms);
    // A frequency nobody sends: every frame is analysed, and no detection (whose report allocates) happens.
    const std::vector<mspi::detect_tone> watch{{1, 100, {2000, 0, 0}}};
    call.detect_tones(watch);
  });
  CHECK(render.octets == 160 * render.packets);
}

TEST_CASE("a 3-party conference bridge allocates nothing per frame on the host's media threads",
          "[mspi][rtp_opus][alloc][conference]") {
  ptapi_test::conference_rig rig({440, 770, 1230});
  // Silent capture terminals on the host's calls mark its two media threads, which run the bridge.
  std::vector<std::shared_ptr<marking_terminal>> marks;
  for (auto& c : rig.host.calls) {
    marks.push_back(std::make_shared<marking_terminal>(mspi::terminal_direction::capture));
    c->capture_stream()->select_terminal(marks.back());
  }
  std::this_thread::sleep_for(700ms);  // warm-up
  std::vector<std::uint64_t> received0;
  for (auto& p : rig.parties) received0.push_back(p->received_packets());
  const auto allocs0 = ptapi_test::counted_allocations();
  std::this_thread::sleep_for(2500ms);
  const auto allocs1 = ptapi_test::counted_allocations();
  for (std::size_t k = 0; k < rig.parties.size(); ++k) CHECK(rig.parties[k]->received_packets() - received0[k] >= 100);
  INFO("host media-thread allocations " << allocs1 - allocs0);
  REQUIRE(allocs1 - allocs0 == 0);
  // The mix still works: party 0 hears parties 1 and 2.
  const auto heard = rig.record(1200ms);
  ptapi_test::check_tones(heard[0], {770, 1230}, {440});
}
