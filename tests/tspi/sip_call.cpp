// SIP calls between two TAPI objects in one process, each with the SIP TSP and the RTP/Opus MSP, over
// 127.0.0.1 (UDP and TCP) and ::1: call control, causes, hold, DTMF.
#include <tspi/sip/tsp.hpp>
#include <tspi/tapi.hpp>

#include "sip_fixture.hpp"

#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/media_streaming.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace ptapi_test;
using tspi::call_state;
using tspi::call_state_cause;


TEST_CASE("a SIP call over UDP connects, carries audio both ways and ends with BYE", "[tspi][sip][e2e]") {
  sip_party alice, bob;
  bob.tapi.register_call_notifications(bob.address);
  streaming_pair bob_media(bob.address.terminals()), alice_media(alice.address.terminals());
  bob.tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    bob_media.select_on(e.call);
    auto c = e.call;
    c.async_answer([](std::error_code) {});
  });
  auto call = alice.address.create_call(bob.uri);
  alice_media.select_on(call);
  call.connect();
  REQUIRE(call.state() == call_state::connected);
  auto [at_bob, at_alice] = talk_both_ways(alice_media, bob_media);
  CHECK(at_bob.size() > 48000 * 6 / 10);
  CHECK(at_alice.size() > 48000 * 6 / 10);
  CHECK(rms(at_bob) > 1000);
  CHECK(rms(at_alice) > 1000);

  auto bob_call = bob.last_offered();
  REQUIRE(bob_call);
  CHECK(bob_call.info().incoming);
  CHECK(bob_call.info().caller_id == alice.uri);
  call.disconnect();
  REQUIRE(wait_state(bob.log, bob_call, call_state::disconnected));
  CHECK(bob_call.info().cause == call_state_cause::disconnect_normal);
  CHECK(bob.log.states_of(bob_call.info().id) ==
        std::vector<call_state>{call_state::offering, call_state::connected, call_state::disconnected});
  REQUIRE(wait_state(alice.log, call, call_state::disconnected));  // events reach alice's log on her event thread
  CHECK(alice.log.states_of(call.info().id) ==
        std::vector<call_state>{call_state::in_progress, call_state::connected, call_state::disconnected});
  CHECK(alice.tapi.illegal_transitions() == 0);
  CHECK(bob.tapi.illegal_transitions() == 0);
}

TEST_CASE("a SIP call over TCP connects and the callee's hang-up reaches the caller", "[tspi][sip][e2e]") {
  sip_party alice, bob;
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri + ";transport=tcp");
  call.connect();
  REQUIRE(call.state() == call_state::connected);
  auto bob_call = bob.last_offered();
  REQUIRE(bob_call);
  bob_call.disconnect();
  REQUIRE(wait_state(alice.log, call, call_state::disconnected));
  CHECK(call.info().cause == call_state_cause::disconnect_normal);
}

TEST_CASE("a SIP call over IPv6 connects", "[tspi][sip][e2e]") {
  {  // skip where ::1 cannot be bound (IPv6 disabled)
    boost::asio::io_context io;
    boost::system::error_code ec;
    boost::asio::ip::udp::socket s(io);
    s.open(boost::asio::ip::udp::v6(), ec);
    if (!ec) s.bind({boost::asio::ip::make_address("::1"), 0}, ec);
    if (ec) {
      WARN("IPv6 loopback unavailable: " << ec.message());
      return;
    }
  }
  sip_party alice(0, "::1"), bob(0, "::1");
  bob.auto_answer();
  CHECK(bob.uri.find("[::1]") != std::string::npos);
  auto call = alice.address.create_call(bob.uri);
  call.connect();
  CHECK(call.state() == call_state::connected);
  call.disconnect();
}

TEST_CASE("SIP rejects map to TAPI causes: 486 busy, 603 rejected, 480 unowned", "[tspi][sip][causes]") {
  sip_party alice;
  SECTION("busy") {
    sip_party bob;
    bob.auto_answer(tspi::disconnect_code::normal);
    auto call = alice.address.create_call(bob.uri);
    std::error_code ec;
    call.connect(ec);
    CHECK(ec == mspi::tapi_errc::dest_busy);
    CHECK(call.info().cause == call_state_cause::disconnect_busy);
  }
  SECTION("rejected") {
    sip_party bob;
    bob.auto_answer(tspi::disconnect_code::rejected);
    auto call = alice.address.create_call(bob.uri);
    std::error_code ec;
    call.connect(ec);
    CHECK(ec == mspi::tapi_errc::request_failed);
    CHECK(call.info().cause == call_state_cause::disconnect_rejected);
  }
  SECTION("nobody owns the called address") {
    sip_party bob;  // never registers for calls
    auto call = alice.address.create_call(bob.uri);
    std::error_code ec;
    call.connect(ec);
    CHECK(ec == mspi::tapi_errc::dest_no_answer);
    CHECK(call.info().cause == call_state_cause::disconnect_noanswer);
  }
  SECTION("a destination that is not a SIP URI") {
    auto call = alice.address.create_call("sip:bob@");
    std::error_code ec;
    call.connect(ec);
    CHECK(ec == mspi::tapi_errc::invalid_address);
  }
  SECTION("nobody listens: timeout or unreachable, and connect returns") {
    auto call = alice.address.create_call("sip:nobody@127.0.0.1:9");
    std::error_code ec;
    call.connect(ec);
    CHECK(ec);
    CHECK(call.state() == call_state::disconnected);
    CHECK((call.info().cause == call_state_cause::disconnect_noanswer ||
           call.info().cause == call_state_cause::disconnect_failed));
  }
}

TEST_CASE("a caller's hang-up while ringing CANCELs the INVITE", "[tspi][sip][cancel]") {
  sip_party alice, bob;
  bob.tapi.register_call_notifications(bob.address);  // bob lets it ring
  auto call = alice.address.create_call(bob.uri);
  auto connected = call.async_connect(boost::asio::use_future);
  REQUIRE(bob.log.wait([&] { return !bob.log.offered.empty(); }));
  REQUIRE(wait_state(alice.log, call, call_state::in_progress));
  std::this_thread::sleep_for(100ms);  // the 180 has reached alice: CANCEL may go
  call.disconnect();
  CHECK(connected.get() == mspi::tapi_errc::dropped);
  auto bob_call = bob.last_offered();
  REQUIRE(wait_state(bob.log, bob_call, call_state::disconnected));
  CHECK(bob_call.info().cause == call_state_cause::disconnect_cancelled);
}

TEST_CASE("hold and unhold re-INVITE the far end, the state follows", "[tspi][sip][hold]") {
  sip_party alice, bob;
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  call.connect();
  REQUIRE(call.state() == call_state::connected);
  call.hold(true);
  CHECK(call.state() == call_state::hold);
  std::error_code ec;
  call.hold(true, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  call.hold(false);
  CHECK(call.state() == call_state::connected);
  auto bob_call = bob.last_offered();
  CHECK(bob_call.state() == call_state::connected);
  call.disconnect();
  REQUIRE(wait_state(alice.log, call, call_state::disconnected));
  CHECK(alice.log.states_of(call.info().id) ==
        std::vector<call_state>{call_state::in_progress, call_state::connected, call_state::hold, call_state::connected,
                                call_state::disconnected});
}

TEST_CASE("swap_hold holds the active call and resumes the held one (TSPI_lineSwapHold)", "[tspi][sip][hold]") {
  sip_party alice, bob;
  bob.auto_answer();
  auto first = alice.address.create_call(bob.uri);
  first.connect();
  first.hold(true);
  auto second = alice.address.create_call(bob.uri);
  second.connect();
  REQUIRE(first.state() == call_state::hold);
  REQUIRE(second.state() == call_state::connected);

  std::error_code ec;
  first.swap_hold(second, ec);  // first is held, second is not: nothing to swap
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  second.swap_hold(second, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  second.swap_hold(tspi::call{}, ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);

  second.swap_hold(first);
  CHECK(second.state() == call_state::hold);
  CHECK(first.state() == call_state::connected);
  // The operation completes once the call is connected; its state event reaches the log on the event thread.
  REQUIRE(alice.log.wait([&] { return alice.log.states_of_locked(first.info().id).size() >= 4; }));
  CHECK(alice.log.states_of(first.info().id) ==
        std::vector<call_state>{call_state::in_progress, call_state::connected, call_state::hold, call_state::connected});
  // And back, asynchronously.
  auto back = first.async_swap_hold(second, boost::asio::use_future);
  CHECK_FALSE(back.get());
  CHECK(first.state() == call_state::hold);
  CHECK(second.state() == call_state::connected);
  first.disconnect();
  second.disconnect();
}

TEST_CASE("DTMF generated on one side is detected on the other (RFC 4733)", "[tspi][sip][dtmf]") {
  sip_party alice, bob;
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  auto out = alice.address.terminals().create_media_streaming_terminal(mspi::terminal_direction::capture);
  call.select_terminal_on_call(out);
  call.connect();
  REQUIRE(call.state() == call_state::connected);
  call.generate_digits("15#*");
  REQUIRE(bob.log.wait([&] { return bob.digits.size() >= 4; }, 5s));
  CHECK(bob.digits_seen() == "15#*");
  call.disconnect();
}

TEST_CASE("address::forward sends callers on with 302 + Diversion: unconditional, busy, no answer, per caller",
          "[tspi][sip][forward]") {
  sip_party alice, carol;
  auto bob_cfg = sip_party::config(0);
  bob_cfg.ring_period = std::chrono::milliseconds(100);
  sip_party bob(bob_cfg);
  carol.auto_answer();
  tspi::forward_information f;

  SECTION("unconditional: bob never sees the call; carol's says who forwarded it and why") {
    f.set_forward_type(tspi::forward_mode::unconditional, carol.uri);
    bob.address.forward(f);
    CHECK(bob.address.current_forward_info() == f);
    bob.auto_answer();
    auto call = alice.address.create_call(bob.uri);
    call.connect();
    REQUIRE(call.state() == call_state::connected);
    auto at_carol = carol.last_offered();
    REQUIRE(at_carol);
    CHECK(at_carol.info().reason == tspi::call_reason::fwd_uncond);
    CHECK(at_carol.info().redirecting_id == bob.uri);
    CHECK(call.info().redirection_id == carol.uri);
    CHECK(call.info().redirecting_id == bob.uri);
    const auto responses = call.info().provider_responses;
    CHECK(std::find(responses.begin(), responses.end(), 302) != responses.end());
    CHECK_FALSE(bob.last_offered());
    call.disconnect();
  }
  SECTION("busy: bob's rejection (normal, 486) becomes a 302 to carol") {
    f.set_forward_type(tspi::forward_mode::busy, carol.uri);
    bob.address.async_forward(f, boost::asio::use_future).get();
    bob.auto_answer(tspi::disconnect_code::normal);
    auto call = alice.address.create_call(bob.uri);
    call.connect();
    REQUIRE(call.state() == call_state::connected);
    REQUIRE(carol.last_offered());
    CHECK(carol.last_offered().info().reason == tspi::call_reason::fwd_busy);
    auto at_bob = bob.last_offered();
    REQUIRE(at_bob);
    REQUIRE(wait_state(bob.log, at_bob, call_state::disconnected));
    CHECK(at_bob.info().provider_status == 302);
    call.disconnect();
  }
  SECTION("no answer: after 2 rings of 100 ms bob's offered call ends and carol answers") {
    f.set_num_rings_no_answer(2);
    f.set_forward_type(tspi::forward_mode::no_answer, carol.uri);
    bob.address.forward(f);
    bob.tapi.register_call_notifications(bob.address);  // owns the calls, never answers
    auto call = alice.address.create_call(bob.uri);
    call.connect();
    REQUIRE(call.state() == call_state::connected);
    REQUIRE(carol.last_offered());
    CHECK(carol.last_offered().info().reason == tspi::call_reason::fwd_noanswer);
    auto at_bob = bob.last_offered();
    REQUIRE(at_bob);
    REQUIRE(wait_state(bob.log, at_bob, call_state::disconnected));
    CHECK(at_bob.info().cause == call_state_cause::disconnect_normal);
    CHECK(at_bob.info().provider_status == 302);
    call.disconnect();
  }
  SECTION("a rule for another caller does not apply; one for this caller wins over the general one") {
    sip_party dave;
    dave.auto_answer();
    f.set_forward_type(tspi::forward_mode::unconditional_specific, carol.uri, "sip:someone@192.0.2.1");
    bob.address.forward(f);
    bob.auto_answer();
    auto call = alice.address.create_call(bob.uri);
    call.connect();
    REQUIRE(call.state() == call_state::connected);
    CHECK(bob.last_offered());
    CHECK(call.info().redirection_id.empty());
    call.disconnect();
    f.set_forward_type(tspi::forward_mode::unconditional, carol.uri);
    f.set_forward_type(tspi::forward_mode::unconditional_specific, dave.uri, alice.uri);
    bob.address.forward(f);
    auto second = alice.address.create_call(bob.uri);
    second.connect();
    REQUIRE(second.state() == call_state::connected);
    CHECK(second.info().redirection_id == dave.uri);
    CHECK_FALSE(carol.last_offered());
    second.disconnect();
  }
  SECTION("bad rules are refused and leave the forwarding as it was; an empty list turns it off") {
    std::error_code ec;
    f.set_forward_type(tspi::forward_mode::unconditional, "");
    bob.address.forward(f, ec);
    CHECK(ec == mspi::tapi_errc::invalid_address);
    f.clear();
    f.set_forward_type(tspi::forward_mode::busy_specific, carol.uri);  // no caller
    bob.address.forward(f, ec);
    CHECK(ec == mspi::tapi_errc::invalid_argument);
    f.clear();
    f.set_forward_type(tspi::forward_mode::unconditional, "sip:bob@");
    bob.address.forward(f, ec);
    CHECK(ec == mspi::tapi_errc::invalid_address);
    CHECK(bob.address.current_forward_info().empty());
    f.clear();
    f.set_forward_type(tspi::forward_mode::unconditional, carol.uri);
    bob.address.forward(f);
    bob.address.forward(tspi::forward_information{});
    CHECK(bob.address.current_forward_info().empty());
    bob.auto_answer();
    auto call = alice.address.create_call(bob.uri);
    call.connect();
    CHECK(bob.last_offered());
    call.disconnect();
  }
}

TEST_CASE("consultation transfer: transfer holds bob and dials carol, finish(as_transfer) joins bob and carol "
          "(REFER with Replaces)", "[tspi][sip][transfer]") {
  sip_party alice, bob, carol;
  bob.auto_answer();
  carol.auto_answer();
  auto primary = alice.address.create_call(bob.uri);
  primary.connect();
  REQUIRE(primary.state() == call_state::connected);
  auto consult = alice.address.create_call(carol.uri);
  std::error_code ec;
  consult.finish(tspi::finish_mode::as_transfer, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);  // TAPI: not flagged as a transfer yet
  primary.transfer(primary, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);

  primary.transfer(consult);  // holds bob, dials carol: completes when carol answered
  CHECK(consult.info().related_call_id == primary.info().id);  // CIL_RELATEDCALLID
  CHECK(consult.state() == call_state::connected);
  REQUIRE(wait_state(alice.log, primary, call_state::hold));
  auto at_carol_first = carol.last_offered();
  REQUIRE(at_carol_first);
  consult.finish(tspi::finish_mode::as_conference, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);  // TAPI: flagged as a transfer, not as a conference

  consult.finish(tspi::finish_mode::as_transfer);  // REFER to bob: Refer-To carol with Replaces
  REQUIRE(wait_state(alice.log, primary, call_state::disconnected, 10s));
  REQUIRE(wait_state(alice.log, consult, call_state::disconnected, 10s));
  REQUIRE(wait_state(carol.log, at_carol_first, call_state::disconnected, 10s));
  // carol's new call comes from bob, replaces alice's, and was answered without the application.
  REQUIRE(carol.log.wait([&] { return carol.log.offered.size() == 2; }, 5s));
  auto at_carol = carol.last_offered();
  REQUIRE(wait_state(carol.log, at_carol, call_state::connected));
  CHECK(at_carol.info().reason == tspi::call_reason::transfer);
  CHECK(at_carol.info().related_call_id == at_carol_first.info().id);  // CIL_RELATEDCALLID: the call it replaced
  CHECK(at_carol_first.info().related_call_id == 0);
  CHECK(at_carol.info().caller_id == bob.uri);
  auto at_bob = bob.last_offered();  // the call bob placed for the REFER
  REQUIRE(at_bob);
  CHECK(at_bob.info().reason == tspi::call_reason::transfer);
  REQUIRE(wait_state(bob.log, at_bob, call_state::connected));
  at_carol.disconnect();
  REQUIRE(wait_state(bob.log, at_bob, call_state::disconnected));
  CHECK(alice.tapi.illegal_transitions() == 0);
  CHECK(bob.tapi.illegal_transitions() == 0);
  CHECK(carol.tapi.illegal_transitions() == 0);
}
