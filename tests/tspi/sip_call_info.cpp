// What the SIP TSP and the RTP MSP tell the application about a call (issue 8): call information
// (ITCallInfo items, the SIP Call-ID, the INVITE's responses, the final status) with its change events,
// and the streams' negotiated codec, packet time and peer address.
#include <tspi/sip/tsp.hpp>
#include <tspi/tapi.hpp>

#include "sip_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace ptapi_test;
using tspi::call_info_change_cause;
using tspi::call_state;
using namespace std::chrono_literals;

namespace {

// The TE_CALLINFOCHANGE causes a party saw, in order.
struct info_changes {
  std::mutex m;
  std::vector<call_info_change_cause> causes;
  explicit info_changes(tspi::tapi& t) {
    t.on_call_info_change().connect([this](const tspi::call_info_change_event& e) {
      std::lock_guard lock(m);
      causes.push_back(e.cause);
    });
  }
  bool saw(call_info_change_cause c) {
    std::lock_guard lock(m);
    return std::find(causes.begin(), causes.end(), c) != causes.end();
  }
};

// The statistics of `c`'s stream in direction `d`, once its media has started (codec known), or empty.
mspi::stream_statistics started_statistics(const tspi::call& c, mspi::terminal_direction d) {
  auto s = c.stream_control()->find_stream(mspi::media_type::audio, d);
  REQUIRE(s);
  for (int i = 0; i < 200 && s->statistics().codec.empty(); ++i) std::this_thread::sleep_for(10ms);
  return s->statistics();
}

}  // namespace

TEST_CASE("a SIP call's information carries the Call-ID and the INVITE's responses; its streams the codec, "
          "ptime and RTP peer", "[tspi][sip][call_info]") {
  sip_party alice, bob;
  info_changes alice_changes(alice.tapi), bob_changes(bob.tapi);
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  CHECK(call.info().provider_call_id.empty());  // nothing sent yet
  call.connect();
  REQUIRE(call.state() == call_state::connected);
  auto bob_call = bob.last_offered();
  REQUIRE(bob_call);
  REQUIRE(wait_state(bob.log, bob_call, call_state::connected));

  const auto a = call.info();
  const auto b = bob_call.info();
  // The caller: the INVITE's Call-ID, the responses it received (the callee's transaction layer sends
  // 100 Trying at once, RFC 3261 §17.2.1; the TSP 180 while offering) and the 200 that settled it.
  CHECK_FALSE(a.provider_call_id.empty());
  CHECK(a.provider_call_id == b.provider_call_id);
  CHECK(a.provider_responses == std::vector<int>{100, 180, 200});
  CHECK(a.provider_status == 200);
  CHECK(a.provider_reason == "OK");
  CHECK(a.provider_detail.empty());
  CHECK_FALSE(a.secured);
  CHECK(a.connected_id == bob.uri);  // the 2xx's To: whom the INVITE reached
  CHECK(a.dev_specific.starts_with("SIP/2.0 200 OK\r\n"));
  CHECK(a.dev_specific.find("Call-ID: " + a.provider_call_id + "\r\n") != std::string::npos);
  CHECK(a.dev_specific.ends_with("\r\n\r\n"));  // the header section only, no SDP
  // The callee: what it sent, the INVITE's header section.
  CHECK(b.provider_responses == std::vector<int>{100, 180, 200});
  CHECK(b.provider_status == 200);
  CHECK(b.dev_specific.starts_with("INVITE " + bob.uri + " SIP/2.0\r\n"));
  CHECK(b.connected_id.empty());
  // Changes were announced (the Call-ID and the final response).
  CHECK(alice_changes.saw(call_info_change_cause::call_id));
  CHECK(alice_changes.saw(call_info_change_cause::other));
  CHECK(alice_changes.saw(call_info_change_cause::connected_id));
  CHECK(bob_changes.saw(call_info_change_cause::call_id));

  // The streams: Opus at 20 ms, towards the other party's RTP address, plain RTP.
  for (const auto& [c, d] : {std::pair{call, mspi::terminal_direction::capture}, std::pair{call, mspi::terminal_direction::render},
                             std::pair{bob_call, mspi::terminal_direction::capture}}) {
    const auto s = started_statistics(c, d);
    CHECK(s.codec == "opus");
    CHECK(s.payload_type == 111);
    CHECK(s.clock_rate_hz == 48000);
    CHECK(s.ptime_ms == 20);
    CHECK(s.remote_address == "127.0.0.1");
    CHECK(s.remote_port != 0);
    CHECK_FALSE(s.secured);
  }
  CHECK(started_statistics(call, mspi::terminal_direction::capture).remote_port !=
        started_statistics(bob_call, mspi::terminal_direction::capture).remote_port);  // each names the other's port
  call.disconnect();
  REQUIRE(wait_state(bob.log, bob_call, call_state::disconnected));
  CHECK(call.info().provider_responses == a.provider_responses);  // the BYE's 200 is not the INVITE's
}

TEST_CASE("a refused SIP call reports the final status and reason on both sides", "[tspi][sip][call_info]") {
  sip_party alice, bob;
  bob.auto_answer(tspi::disconnect_code::normal);  // DC_NORMAL while offering: 486 Busy Here
  auto call = alice.address.create_call(bob.uri);
  std::error_code ec;
  call.connect(ec);
  CHECK(ec == mspi::tapi_errc::dest_busy);
  const auto a = call.info();
  CHECK(a.state == call_state::disconnected);
  CHECK(a.provider_status == 486);
  CHECK(a.provider_reason == "Busy Here");
  REQUIRE_FALSE(a.provider_responses.empty());
  CHECK(a.provider_responses.back() == 486);
  CHECK(a.connected_id.empty());
  CHECK(a.dev_specific.starts_with("SIP/2.0 486 Busy Here\r\n"));
  auto bob_call = bob.last_offered();
  REQUIRE(bob_call);
  REQUIRE(wait_state(bob.log, bob_call, call_state::disconnected));
  const auto b = bob_call.info();
  CHECK(b.provider_status == 486);
  CHECK(b.provider_responses.back() == 486);
  // Media never started: the streams say so.
  const auto s = call.stream_control()->find_stream(mspi::media_type::audio, mspi::terminal_direction::capture);
  REQUIRE(s);
  CHECK(s->statistics().codec.empty());
  CHECK(s->statistics().remote_port == 0);
}
