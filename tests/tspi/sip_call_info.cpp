// What the SIP TSP and the RTP MSP tell the application about a call (issue 8): call information
// (ITCallInfo items, the SIP Call-ID, the INVITE's responses, the final status) with its change events,
// and the streams' negotiated codec, packet time and peer address.
#include <tspi/sip/message.hpp>
#include <tspi/sip/tsp.hpp>
#include <tspi/tapi.hpp>

#include "sip_fixture.hpp"
#include "support/tls_certificates.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace ptapi_test;
using tspi::call_info_change_cause;
using tspi::call_state;
using namespace std::chrono_literals;

namespace {

// The TE_CALLINFOCHANGE causes a party saw, in order. The handler shares the state: events still come while
// the party's TAPI object shuts down, after this (declared after the party) is gone.
struct info_changes {
  struct state {
    std::mutex m;
    std::condition_variable cv;
    std::vector<call_info_change_cause> causes;
  };
  std::shared_ptr<state> seen = std::make_shared<state>();
  explicit info_changes(tspi::tapi& t) {
    t.on_call_info_change().connect([s = seen](const tspi::call_info_change_event& e) {
      std::lock_guard lock(s->m);
      s->causes.push_back(e.cause);
      s->cv.notify_all();
    });
  }
  // Whether `c` was announced, waiting up to 5 s for it (events come on the event thread, late on a busy machine).
  bool saw(call_info_change_cause c) {
    std::unique_lock lock(seen->m);
    return seen->cv.wait_for(lock, 5s, [&] { return std::find(seen->causes.begin(), seen->causes.end(), c) != seen->causes.end(); });
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

TEST_CASE("a SIP call's information carries the Call-ID and the INVITE's responses, its streams the codec, "
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

// --- SIP over TLS (RFC 3261 §26.2, RFC 5922): two providers on 127.0.0.1, TLS ports 7600-7609 ---

namespace {
// A party on UDP/TCP (ephemeral port) and TLS on `tls_port`, trusting `ca`, with a server certificate.
tspi::sip::sip_config tls_party_config(std::uint16_t tls_port, std::string ca, std::string chain, std::string key) {
  auto cfg = sip_party::config(0);
  cfg.tls = true;
  cfg.tls_port = tls_port;
  cfg.transport.tls.ca_file = std::move(ca);
  cfg.transport.tls.certificate_chain_file = std::move(chain);
  cfg.transport.tls.private_key_file = std::move(key);
  cfg.transport.tls.handshake_timeout = 2s;
  return cfg;
}

// `alice` calls `uri` of `bob`, who answers; returns both ends of the call once both are connected.
std::pair<tspi::call, tspi::call> connected_call(sip_party& alice, sip_party& bob, const std::string& uri) {
  bob.auto_answer();
  auto call = alice.address.create_call(uri);
  call.connect();
  REQUIRE(call.state() == call_state::connected);
  auto bob_call = bob.last_offered();
  REQUIRE(bob_call);
  REQUIRE(wait_state(bob.log, bob_call, call_state::connected));
  return {call, bob_call};
}

// The transports of the requests a party received (the token of each top Via), from its trace.
struct via_log {
  std::mutex m;
  std::vector<std::string> transports;
  void attach(tspi::sip::sip_config& cfg) {
    cfg.trace = [this](const tspi::sip::message& msg, bool outgoing) {
      if (outgoing || !msg.is_request()) return;
      std::lock_guard lock(m);
      transports.emplace_back(msg.header("Via").value_or("").substr(0, 11));
    };
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(m);
    return transports;
  }
};
}  // namespace

TEST_CASE("a sips: call between two SIP providers goes over TLS: connects, holds, ends, and reports its signalling "
          "secured", "[tspi][sip][sip_tls]") {
  ptapi_test::tls_certificates certs;
  REQUIRE(certs.ok());
  via_log alice_vias, bob_vias;
  auto alice_cfg = tls_party_config(7600, certs.ca(), certs.server_chain(), certs.server_key());
  auto bob_cfg = tls_party_config(7601, certs.ca(), certs.server_chain(), certs.server_key());
  alice_vias.attach(alice_cfg);
  bob_vias.attach(bob_cfg);
  sip_party alice(alice_cfg), bob(bob_cfg);
  auto [call, bob_call] = connected_call(alice, bob, "sips:ptapi@localhost:7601");
  CHECK(call.info().signalling_secured);
  CHECK(bob_call.info().signalling_secured);
  CHECK_FALSE(call.info().secured);  // TLS without SRTP: no lock
  CHECK_FALSE(bob_call.info().secured);
  CHECK(bob_call.info().dev_specific.find("Via: SIP/2.0/TLS ") != std::string::npos);
  CHECK(bob_call.info().dev_specific.find("Contact: <sips:ptapi@") != std::string::npos);
  call.hold(true);  // a re-INVITE, in the dialog, over the same TLS connection
  CHECK(call.state() == call_state::hold);
  call.hold(false);
  CHECK(call.state() == call_state::connected);
  bob_call.disconnect();  // BYE from the callee: to alice's sips: Contact, over TLS too
  REQUIRE(wait_state(alice.log, call, call_state::disconnected));
  const auto at_bob = bob_vias.seen();
  const auto at_alice = alice_vias.seen();
  CHECK(at_bob.size() >= 4);  // INVITE, ACK, re-INVITEs and their ACKs
  CHECK(std::all_of(at_bob.begin(), at_bob.end(), [](const std::string& v) { return v == "SIP/2.0/TLS"; }));
  REQUIRE(at_alice.size() == 1);  // the BYE
  CHECK(at_alice[0] == "SIP/2.0/TLS");
}

TEST_CASE("a sips: call with SDES-SRTP reports call_info::secured once its media is protected",
          "[tspi][sip][sip_tls][srtp]") {
  ptapi_test::tls_certificates certs;
  REQUIRE(certs.ok());
  mspi::rtp_opus_config media;
  media.srtp = mspi::srtp_policy::mandatory;  // SDES: offered only because the parties speak nothing but TLS
  auto tls_only = [&](std::uint16_t port) {
    auto cfg = tls_party_config(port, certs.ca(), certs.server_chain(), certs.server_key());
    cfg.udp = cfg.tcp = false;
    return cfg;
  };
  sip_party alice(tls_only(7606), media);
  sip_party bob(tls_only(7607), media);
  auto [call, bob_call] = connected_call(alice, bob, "sips:ptapi@localhost:7607");
  // The offerer's streams take the keys when the MSP applies the answer, just after `connected`.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!call.info().secured && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  CHECK(call.info().secured);
  CHECK(bob_call.info().secured);
  CHECK(call.info().signalling_secured);
  const auto streams = call.stream_control()->streams();
  REQUIRE_FALSE(streams.empty());
  CHECK(streams.front()->statistics().srtp_suite == "AES_CM_128_HMAC_SHA1_80");
  call.disconnect();
  REQUIRE(wait_state(bob.log, bob_call, call_state::disconnected));
}

TEST_CASE("a sips: call to a server whose certificate is not trusted or names another host fails with the "
          "certificate problem, never in clear", "[tspi][sip][sip_tls]") {
  ptapi_test::tls_certificates certs;
  REQUIRE(certs.ok());
  std::string expected;
  std::uint16_t port = 0;
  tspi::sip::sip_config alice_cfg, bob_cfg;
  SECTION("a CA alice does not trust") {
    port = 7603;
    alice_cfg = tls_party_config(7602, certs.other_ca(), "", "");
    bob_cfg = tls_party_config(port, certs.ca(), certs.server_chain(), certs.server_key());
    expected = "TLS: server certificate not accepted: unable to get local issuer certificate";
  }
  SECTION("a certificate for another host") {
    port = 7605;
    alice_cfg = tls_party_config(7604, certs.ca(), "", "");
    bob_cfg = tls_party_config(port, certs.ca(), certs.other_server_chain(), certs.other_server_key());
    expected = "does not name the SIP domain";
  }
  via_log bob_vias;
  bob_vias.attach(bob_cfg);
  sip_party alice(alice_cfg), bob(bob_cfg);
  bob.auto_answer();
  auto call = alice.address.create_call("sips:ptapi@localhost:" + std::to_string(port));
  (void)call.async_connect(boost::asio::use_future).get();
  REQUIRE(wait_state(alice.log, call, call_state::disconnected));
  CHECK(call.info().cause == tspi::call_state_cause::disconnect_failed);
  CHECK(call.info().provider_detail.find(expected) != std::string::npos);
  CHECK(call.info().provider_detail.find("tls:127.0.0.1:" + std::to_string(port)) != std::string::npos);
  CHECK_FALSE(call.info().signalling_secured);
  CHECK_FALSE(bob.last_offered());
  CHECK(bob_vias.seen().empty());  // nothing reached bob, over TLS or in clear
}
