// The local conference bridge (mspi::conference_bridge) through real RTP calls: a host MSP with one call
// per party on two media threads, each party (its own MSP) sending a tone of its own frequency. Each party
// must hear every other party's tone and not its own (>= 20 dB below the weakest other one).
// Drives the RTP/Opus MSP's own members: its full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "conference_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ptapi_test::check_tones;
using ptapi_test::conference_rig;
using ptapi_test::steady_tone_amplitude;

// Every party hears the others and not itself; returns the smallest margin.
double check_everyone(conference_rig& rig) {
  const auto heard = rig.record(1500ms);
  double worst = 1e9;
  for (std::size_t k = 0; k < rig.parties.size(); ++k) {
    std::vector<double> others;
    for (std::size_t j = 0; j < rig.frequencies.size(); ++j)
      if (j != k) others.push_back(rig.frequencies[j]);
    INFO("party " << k << " (" << rig.frequencies[k] << " Hz)");
    worst = std::min(worst, check_tones(heard[k], others, {rig.frequencies[k]}));
  }
  return worst;
}

}  // namespace

TEST_CASE("a conference bridge of 3 RTP calls: each party hears the other two and not itself",
          "[mspi][rtp_opus][conference]") {
  conference_rig rig({440, 770, 1230});
  std::this_thread::sleep_for(500ms);  // media and playout start
  const double margin = check_everyone(rig);
  std::printf("conference of 3: own tone at least %.1f dB below the others\n", margin);

  SECTION("a party that leaves is no longer heard, and the other two continue") {
    rig.host.send(2, mspi::channel_message_type::conference_leave);
    std::this_thread::sleep_for(200ms);
    const auto heard = rig.record(1500ms);
    check_tones(heard[0], {770}, {440, 1230});
    check_tones(heard[1], {440}, {770, 1230});
    // Out of the conference, the host's call 2 sends nothing (no capture terminal): party 2 hears silence.
    CHECK(steady_tone_amplitude(heard[2], 440) < 300);
    CHECK(steady_tone_amplitude(heard[2], 770) < 300);
  }
  SECTION("a party whose call stops is no longer heard, and the other two continue") {
    rig.host.send(0, mspi::channel_message_type::stop_media);
    std::this_thread::sleep_for(200ms);
    const auto heard = rig.record(1500ms);
    check_tones(heard[1], {1230}, {440, 770});
    check_tones(heard[2], {770}, {440, 1230});
  }
}

TEST_CASE("a conference bridge of 6 RTP calls on two media threads: each hears the five others and not itself",
          "[mspi][rtp_opus][conference]") {
  conference_rig rig({400, 620, 860, 1130, 1470, 1790});
  std::this_thread::sleep_for(500ms);
  const double margin = check_everyone(rig);
  std::printf("conference of 6: own tone at least %.1f dB below the others\n", margin);
}

TEST_CASE("the host's render terminal on a conference call hears every party", "[mspi][rtp_opus][conference]") {
  conference_rig rig({500, 900, 1300});
  auto host_ear = std::make_shared<mspi::media_streaming_terminal>(mspi::terminal_direction::render, 5 * 48000);
  rig.host.calls[1]->render_stream()->select_terminal(host_ear);
  std::this_thread::sleep_for(700ms);
  std::vector<std::int16_t> chunk(4800);
  while (host_ear->read(chunk) > 0) {}
  std::this_thread::sleep_for(1200ms);
  std::vector<std::int16_t> heard;
  while (auto n = host_ear->read(chunk)) heard.insert(heard.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  if (heard.size() > 48000) heard.erase(heard.begin(), heard.end() - 48000);
  check_tones(heard, {500, 900, 1300}, {});
}

TEST_CASE("a conference bridge refuses a party beyond its maximum, and frees the slot of one that leaves",
          "[mspi][conference]") {
  auto bridge = std::make_shared<mspi::conference_bridge>(960);
  std::vector<std::shared_ptr<mspi::conference_bridge::conference_port>> ports;
  for (std::size_t i = 0; i < mspi::conference_bridge::max_parties; ++i) {
    ports.push_back(bridge->join());
    REQUIRE(ports.back());
  }
  CHECK(bridge->joined_count() == mspi::conference_bridge::max_parties);
  CHECK_FALSE(bridge->join());
  ports[3]->leave();
  CHECK(bridge->joined_count() == mspi::conference_bridge::max_parties - 1);
  auto again = bridge->join();
  REQUIRE(again);
  CHECK(again->slot() == 3);
  CHECK_THROWS_AS(mspi::conference_bridge(0), std::invalid_argument);
}

TEST_CASE("a conference bridge mixes with saturation and never returns a party's own audio", "[mspi][conference]") {
  auto bridge = std::make_shared<mspi::conference_bridge>(4);
  auto a = bridge->join(), b = bridge->join(), c = bridge->join();
  std::vector<std::int16_t> fa{30000, -30000, 100, 0}, fb{10000, -10000, 200, 0}, fc{0, 0, 400, 7};
  // First frames: each consumer drains what a new producer left, so mix once to start.
  std::vector<std::int16_t> out(4);
  for (auto* p : {a.get(), b.get(), c.get()}) p->mix_others(out);
  // One frame of prefill: a ring gives nothing until it holds two frames, then the oldest.
  a->deliver(fa);
  b->deliver(fb);
  c->deliver(fc);
  std::vector<std::int16_t> silent(4, 5);
  a->mix_others(silent);
  CHECK(silent == std::vector<std::int16_t>{5, 5, 5, 5});
  for (auto* p : {a.get(), b.get(), c.get()}) p->deliver(std::vector<std::int16_t>(4, 0));
  std::vector<std::int16_t> to_a(4, 0), to_c(4, 1);
  a->mix_others(to_a);
  c->mix_others(to_c);
  CHECK(to_a == std::vector<std::int16_t>{10000, -10000, 600, 7});   // b + c, not a
  CHECK(to_c == std::vector<std::int16_t>{32767, -32768, 301, 1});   // 1 + a + b, saturated
  std::vector<std::int16_t> played{1, 1, 1, 1};
  a->add_others(played);  // what a's user hears: its party plus the others
  CHECK(played == std::vector<std::int16_t>{10001, -9999, 601, 8});
  CHECK(a->underrun_frames() == 0);
}

TEST_CASE("a conference bridge gives one frame of prefill, and counts a ring that runs dry", "[mspi][conference]") {
  auto bridge = std::make_shared<mspi::conference_bridge>(2);
  auto a = bridge->join(), b = bridge->join();
  std::vector<std::int16_t> out(2);
  a->mix_others(out);  // a's first frame: drains what b's slot held
  const auto heard = [&] {
    std::vector<std::int16_t> f(2, 0);
    a->mix_others(f);
    return f[0];
  };
  b->deliver(std::vector<std::int16_t>{1, 1});
  CHECK(heard() == 0);  // one frame queued: still filling
  b->deliver(std::vector<std::int16_t>{2, 2});
  CHECK(heard() == 1);  // two queued: the oldest
  b->deliver(std::vector<std::int16_t>{3, 3});
  CHECK(heard() == 2);  // one a tick, one frame behind
  CHECK(heard() == 3);  // b missed a tick: the cushion covers it
  CHECK(a->underrun_frames() == 0);
  CHECK(heard() == 0);  // b missed another: dry, silence, counted
  CHECK(a->underrun_frames() == 1);
  b->deliver(std::vector<std::int16_t>{4, 4});
  CHECK(heard() == 0);  // filling again
  b->deliver(std::vector<std::int16_t>{5, 5});
  CHECK(heard() == 4);
  for (int k = 0; k < 6; ++k) b->deliver(std::vector<std::int16_t>{6, 6});  // b ran ahead: 7 frames queued
  CHECK(heard() == 6);  // more than max_lag_frames (3): the oldest were dropped to 3, then one taken
  CHECK(a->underrun_frames() == 1);
  CHECK(b->underrun_frames() == 0);
}
