// End-to-end calls through the loopback TSP and the RTP/Opus MSP.
#include <tspi/loopback/tsp.hpp>

#include "loopback_fixture.hpp"

#include <mspi/terminals/media_streaming.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

using namespace ptapi_test;
using namespace std::chrono_literals;


TEST_CASE("a loopback call connects, carries audio both ways and disconnects once", "[tspi][loopback][e2e]") {
  loopback_fixture f;
  f.tapi.register_call_notifications(f.bob);
  auto& support = f.alice.terminals();

  // Callee answers from its event handler, with its own media streaming terminals.
  auto bob_in = f.bob.terminals().create_media_streaming_terminal(mspi::terminal_direction::render);
  auto bob_out = f.bob.terminals().create_media_streaming_terminal(mspi::terminal_direction::capture);
  f.tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    auto c = e.call;
    c.select_terminal_on_call(bob_in);
    c.select_terminal_on_call(bob_out);
    c.async_answer([](std::error_code) {});
  });

  auto alice_out = support.create_media_streaming_terminal(mspi::terminal_direction::capture);
  auto alice_in = support.create_media_streaming_terminal(mspi::terminal_direction::render);
  auto call = f.alice.create_call("bob");
  CHECK(call.state() == tspi::call_state::idle);
  call.select_terminal_on_call(alice_out);
  call.select_terminal_on_call(alice_in);

  // 1 s of tone each way, pushed in real time slices.
  auto a_tone = tone(48000, 440), b_tone = tone(48000, 660);
  call.connect();
  CHECK(call.state() == tspi::call_state::connected);

  std::vector<std::int16_t> at_bob, at_alice, buf(960);
  for (int i = 0; i < 50; ++i) {
    alice_out->write(std::span<const std::int16_t>(a_tone.data() + i * 960, 960));
    bob_out->write(std::span<const std::int16_t>(b_tone.data() + i * 960, 960));
    std::this_thread::sleep_for(20ms);
    while (auto n = bob_in->read(buf)) at_bob.insert(at_bob.end(), buf.begin(), buf.begin() + n);
    while (auto n = alice_in->read(buf)) at_alice.insert(at_alice.end(), buf.begin(), buf.begin() + n);
  }
  call.disconnect();
  const auto id = call.info().id;
  REQUIRE(f.log.wait([&] { return f.log.states_of_locked(id).size() >= 3; }));

  // Both directions carried most of a second of clearly non-silent audio.
  CHECK(at_bob.size() > 48000 * 6 / 10);
  CHECK(at_alice.size() > 48000 * 6 / 10);
  CHECK(rms(at_bob) > 1000);
  CHECK(rms(at_alice) > 1000);

  const auto seq = f.log.states_of(id);
  CHECK(seq == std::vector<tspi::call_state>{tspi::call_state::in_progress, tspi::call_state::connected,
                                              tspi::call_state::disconnected});
  CHECK(f.tapi.illegal_transitions() == 0);
}
