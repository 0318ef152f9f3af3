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

  // Callee answers from its event handler, with its own media streaming terminals.
  streaming_pair bob(f.bob.terminals()), alice(f.alice.terminals());
  f.tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    bob.select_on(e.call);
    auto c = e.call;
    c.async_answer([](std::error_code) {});
  });
  auto call = f.alice.create_call("bob");
  CHECK(call.state() == tspi::call_state::idle);
  alice.select_on(call);
  call.connect();
  CHECK(call.state() == tspi::call_state::connected);
  auto [at_bob, at_alice] = talk_both_ways(alice, bob);
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
