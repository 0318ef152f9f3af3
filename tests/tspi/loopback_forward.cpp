// Forwarding in the loopback TSP (ITForwardInformation, TSPI_lineForward): unconditional, busy and no
// answer rules retarget the call to another loopback address, reported in CIL_REASON and the
// redirecting/redirection IDs.
#include <tspi/forward.hpp>

#include "loopback_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <future>
#include <string>
#include <system_error>
#include <thread>

using namespace ptapi_test;
using tspi::call_state;

namespace {

struct forwarding_fixture {
  event_log log;  // outlives the TAPI object whose handlers write to it
  tspi::tapi tapi;
  tspi::address alice, bob, carol;

  forwarding_fixture() {
    tspi::loopback_config cfg;
    cfg.addresses = {"alice", "bob", "carol"};
    cfg.ring_period = 100ms;
    tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>(cfg, mspi::rtp_opus_config{});
    tapi.set_event_filter(tspi::tapi_event::all);
    log.attach(tapi);
    tapi.initialize();
    alice = tapi.find_address("alice");
    bob = tapi.find_address("bob");
    carol = tapi.find_address("carol");
    tapi.register_call_notifications(bob);
    tapi.register_call_notifications(carol);
  }
  ~forwarding_fixture() { tapi.shutdown(); }

  // The n-th call offered (1-based), waiting for it.
  tspi::call offered(std::size_t n) {
    if (!log.wait([&] { return log.offered.size() >= n; })) return {};
    std::lock_guard lock(log.m);
    return log.offered[n - 1];
  }
  // CIS_REDIRECTINGID of `c` (LINE_CALLINFO may follow the offering notification), waiting up to 5 s for it.
  static std::string redirecting(const tspi::call& c) {
    for (int i = 0; i < 500 && c.info().redirecting_id.empty(); ++i) std::this_thread::sleep_for(10ms);
    return c.info().redirecting_id;
  }
  bool reaches(const tspi::call& c, call_state s) {
    const auto id = c.info().id;
    return log.wait([&] {
      auto seq = log.states_of_locked(id);
      return std::find(seq.begin(), seq.end(), s) != seq.end();
    });
  }
};

}  // namespace

TEST_CASE("loopback forwarding: unconditional, busy and no-answer rules send the call on, with reason and IDs",
          "[tspi][loopback][forward]") {
  forwarding_fixture f;
  tspi::forward_information rules;

  SECTION("unconditional: the call arrives at carol, never at bob") {
    rules.set_forward_type(tspi::forward_mode::unconditional, "carol");
    f.bob.forward(rules);
    auto call = f.alice.create_call("bob");
    auto connected = call.async_connect(boost::asio::use_future);
    auto at_carol = f.offered(1);
    REQUIRE(at_carol);
    CHECK(at_carol.info().called_id == "carol");
    CHECK(at_carol.info().reason == tspi::call_reason::fwd_uncond);
    CHECK(f.redirecting(at_carol) == "bob");
    at_carol.answer();
    CHECK(connected.get() == std::error_code{});
    REQUIRE(f.reaches(call, call_state::connected));
    CHECK(call.info().redirecting_id == "bob");
    CHECK(call.info().redirection_id == "carol");
    CHECK(f.log.wait([&] { return f.log.offered.size() == 1; }));  // bob's address never rang
    call.disconnect();
    REQUIRE(f.reaches(at_carol, call_state::disconnected));
  }
  SECTION("busy: bob's rejection of the offered call (normal) sends it to carol") {
    rules.set_forward_type(tspi::forward_mode::busy, "carol");
    f.bob.async_forward(rules, boost::asio::use_future).get();
    auto call = f.alice.create_call("bob");
    auto connected = call.async_connect(boost::asio::use_future);
    auto at_bob = f.offered(1);
    REQUIRE(at_bob);
    CHECK(at_bob.info().reason == tspi::call_reason::direct);
    at_bob.disconnect(tspi::disconnect_code::normal);
    auto at_carol = f.offered(2);
    REQUIRE(at_carol);
    CHECK(at_carol.info().called_id == "carol");
    CHECK(at_carol.info().reason == tspi::call_reason::fwd_busy);
    CHECK(f.redirecting(at_carol) == "bob");
    REQUIRE(f.reaches(at_bob, call_state::disconnected));
    at_carol.answer();
    CHECK(connected.get() == std::error_code{});
    REQUIRE(f.reaches(call, call_state::connected));
    CHECK(call.info().redirection_id == "carol");
    call.disconnect();
  }
  SECTION("no answer: after 2 rings of 100 ms bob's offered call ends and carol's rings") {
    rules.set_num_rings_no_answer(2);
    rules.set_forward_type(tspi::forward_mode::no_answer, "carol");
    f.bob.forward(rules);
    auto call = f.alice.create_call("bob");
    auto connected = call.async_connect(boost::asio::use_future);
    auto at_bob = f.offered(1);
    REQUIRE(at_bob);
    auto at_carol = f.offered(2);  // bob never answers
    REQUIRE(at_carol);
    CHECK(at_carol.info().reason == tspi::call_reason::fwd_noanswer);
    CHECK(f.redirecting(at_carol) == "bob");
    REQUIRE(f.reaches(at_bob, call_state::disconnected));
    CHECK(at_bob.info().cause == tspi::call_state_cause::disconnect_normal);
    at_carol.answer();
    CHECK(connected.get() == std::error_code{});
    REQUIRE(f.reaches(call, call_state::connected));
    call.disconnect();
  }
  SECTION("a rule for another caller does not apply; a forwarding loop is followed once per address") {
    rules.set_forward_type(tspi::forward_mode::unconditional_specific, "carol", "someone");
    f.bob.forward(rules);
    auto call = f.alice.create_call("bob");
    auto connected = call.async_connect(boost::asio::use_future);
    auto at_bob = f.offered(1);
    REQUIRE(at_bob);
    CHECK(at_bob.info().called_id == "bob");
    call.disconnect();
    REQUIRE(f.reaches(at_bob, call_state::disconnected));

    rules.clear();
    rules.set_forward_type(tspi::forward_mode::unconditional_specific, "carol", "alice");
    f.bob.forward(rules);
    tspi::forward_information back;
    back.set_forward_type(tspi::forward_mode::unconditional, "bob");
    f.carol.forward(back);
    auto looping = f.alice.create_call("bob");
    auto rung = looping.async_connect(boost::asio::use_future);
    auto at = f.offered(2);  // bob -> carol -> bob -> carol: three rules, as many as there are addresses
    REQUIRE(at);
    CHECK(at.info().called_id == "carol");
    CHECK(f.redirecting(at) == "bob");
    looping.disconnect();
    REQUIRE(f.reaches(at, call_state::disconnected));
  }
  SECTION("a destination that is not a loopback address is refused") {
    rules.set_forward_type(tspi::forward_mode::unconditional, "nobody");
    std::error_code ec;
    f.bob.forward(rules, ec);
    CHECK(ec == mspi::tapi_errc::invalid_address);
  }
  CHECK(f.tapi.illegal_transitions() == 0);
}
