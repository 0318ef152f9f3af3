// DTLS-SRTP (RFC 5763/5764) through the SIP TSP and the RTP/Opus MSP: a call over clear SIP (UDP) or TLS whose media
// is keyed by a DTLS handshake on the media port, and a call whose offer an on-path party tampers with
// (its fingerprint), which must end without any media and with a clear cause.
#include <tspi/tapi.hpp>

#include "sip_fixture.hpp"
#include "support/tls_certificates.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace ptapi_test;
using tspi::call_state;
using namespace std::chrono_literals;

namespace {

mspi::rtp_opus_config dtls_media() {
  mspi::rtp_opus_config media;
  media.srtp = mspi::srtp_policy::mandatory;
  media.srtp_keying = mspi::srtp_key_exchange::dtls;  // nothing secret in the SDP: clear SIP is fine
  return media;
}

mspi::stream_statistics stream_statistics(const tspi::call& c, mspi::terminal_direction d) {
  auto s = c.stream_control()->find_stream(mspi::media_type::audio, d);
  REQUIRE(s);
  return s->statistics();
}

// A UDP relay between a caller and `callee` on 127.0.0.1 that flips one hex digit of the first
// `a=fingerprint:sha-256` it forwards to the callee (the length stays, so Content-Length does too): an
// on-path attacker substituting its own certificate's fingerprint.
struct tampering_relay {
  boost::asio::io_context io;
  boost::asio::ip::udp::socket socket;
  boost::asio::ip::udp::endpoint caller, callee;
  std::atomic<bool> running{true};
  std::atomic<int> tampered{0};
  std::thread thread;

  tampering_relay(std::uint16_t port, std::uint16_t caller_port, std::uint16_t callee_port)
      : socket(io, {boost::asio::ip::make_address("127.0.0.1"), port}),
        caller(boost::asio::ip::make_address("127.0.0.1"), caller_port),
        callee(boost::asio::ip::make_address("127.0.0.1"), callee_port) {
    socket.non_blocking(true);
    thread = std::thread([this] { run(); });
  }
  ~tampering_relay() {
    running = false;
    thread.join();
  }
  void run() {
    std::vector<char> buf(65536);
    while (running) {
      boost::system::error_code ec;
      boost::asio::ip::udp::endpoint from;
      const std::size_t n = socket.receive_from(boost::asio::buffer(buf), from, 0, ec);
      if (ec) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      std::string msg(buf.data(), n);
      const bool to_callee = from != callee;
      if (const auto at = msg.find("a=fingerprint:sha-256 "); to_callee && at != std::string::npos) {
        char& c = msg[at + 22];
        c = c == '0' ? '1' : '0';
        ++tampered;
      }
      socket.send_to(boost::asio::buffer(msg), to_callee ? callee : caller, 0, ec);
    }
  }
};

// `from` calls `uri` with `pcm` (48 kHz) queued in a capture terminal selected on the call; connected when
// it returns. Returns the call and the terminal.
std::pair<tspi::call, std::shared_ptr<mspi::media_streaming_terminal>> call_with(sip_party& from, const std::string& uri,
                                                                                 const std::vector<std::int16_t>& pcm) {
  auto call = from.address.create_call(uri);
  auto out = from.address.terminals().create_media_streaming_terminal(mspi::terminal_direction::capture);
  call.select_terminal_on_call(out);
  REQUIRE(out->write(pcm) == pcm.size());
  call.connect();
  REQUIRE(call.state() == call_state::connected);
  return {call, out};
}

}  // namespace

TEST_CASE("a SIP call with DTLS-SRTP: the media is keyed on the media port and protected both ways, over "
          "clear SIP or TLS, and call_info says secured with TLS", "[tspi][sip][dtls]") {
  ptapi_test::tls_certificates certs;
  REQUIRE(certs.ok());
  const bool tls = GENERATE(false, true);
  auto config = [&](std::uint16_t port) {
    auto cfg = sip_party::config(tls ? 0 : port);
    cfg.tls = tls;
    cfg.tls_port = static_cast<std::uint16_t>(port + 10);
    cfg.transport.tls.ca_file = certs.ca();
    cfg.transport.tls.certificate_chain_file = certs.server_chain();
    cfg.transport.tls.private_key_file = certs.server_key();
    return cfg;
  };
  sip_party alice(config(7800), dtls_media()), bob(config(7801), dtls_media());
  bob.auto_answer();
  const auto t = tone(48000, 1000);
  auto [call, out] = call_with(alice, tls ? "sips:ptapi@localhost:7811" : bob.uri, t);
  auto bob_call = bob.last_offered();
  REQUIRE(bob_call);
  REQUIRE(wait_state(bob.log, bob_call, call_state::connected));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((!stream_statistics(call, mspi::terminal_direction::capture).secured ||
          stream_statistics(bob_call, mspi::terminal_direction::render).packets < 25) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  // The media is protected either way; the call's lock needs the signalling protected too, as over clear
  // SIP an on-path attacker could replace both fingerprints and sit in the middle of the DTLS (RFC 5763 §8).
  CHECK(call.info().signalling_secured == tls);
  CHECK(call.info().secured == tls);
  CHECK(bob_call.info().secured == tls);
  const auto sent = stream_statistics(call, mspi::terminal_direction::capture);
  const auto got = stream_statistics(bob_call, mspi::terminal_direction::render);
  CHECK(sent.secured);
  CHECK(got.secured);
  CHECK(sent.srtp_keying == "dtls");
  CHECK(got.srtp_keying == "dtls");
  CHECK(sent.srtp_suite == "AES_CM_128_HMAC_SHA1_80");
  // Every packet bob counted passed SRTP authentication under the DTLS-exported key (a clear RTP packet
  // would have been refused and counted in srtp_rejected).
  CHECK(got.packets >= 25);
  CHECK(got.srtp_rejected == 0);
  CHECK(got.dtls_dropped == 0);
  // A re-INVITE from the callee (hold, then resume): the roles and fingerprints stay, so the association
  // and its keys are kept (no second handshake) and media goes on.
  bob_call.hold(true);
  bob_call.hold(false);
  REQUIRE(bob_call.state() == call_state::connected);
  const auto before = stream_statistics(bob_call, mspi::terminal_direction::render).packets;
  (void)out->write(t);  // what fits: the ring still holds what was not sent while held
  const auto resumed = std::chrono::steady_clock::now() + 5s;
  while (stream_statistics(bob_call, mspi::terminal_direction::render).packets < before + 20 &&
         std::chrono::steady_clock::now() < resumed)
    std::this_thread::sleep_for(20ms);
  const auto after = stream_statistics(bob_call, mspi::terminal_direction::render);
  CHECK(after.packets >= before + 20);
  CHECK(after.secured);
  CHECK(after.dtls_handshake_ms == got.dtls_handshake_ms);  // the same association
  CHECK(after.srtp_rejected == 0);
  WARN("DTLS-SRTP handshake in a SIP call on loopback" << (tls ? " (SIP over TLS): " : ": ") << got.dtls_handshake_ms << " ms (bob, DTLS client), "
                                                         << sent.dtls_handshake_ms << " ms (alice, server)");
  call.disconnect();
  REQUIRE(wait_state(bob.log, bob_call, call_state::disconnected));
}

TEST_CASE("a SIP call whose offer's a=fingerprint was tampered with ends with a failure cause and no media",
          "[tspi][sip][dtls]") {
  sip_party alice(sip_party::config(7802), dtls_media()), bob(sip_party::config(7803), dtls_media());
  tampering_relay relay(7804, 7802, 7803);
  bob.auto_answer();
  auto [call, out] = call_with(alice, "sip:ptapi@127.0.0.1:7804", tone(48000, 1000));
  CHECK(relay.tampered >= 1);
  auto bob_call = bob.last_offered();
  REQUIRE(bob_call);
  // Bob (the DTLS client) finds that alice's certificate is not the one the (tampered) offer names: his
  // MSP reports it, his TSP hangs up (BYE) with a failure cause.
  REQUIRE(wait_state(bob.log, bob_call, call_state::disconnected, 10s));
  CHECK(bob_call.info().cause == tspi::call_state_cause::disconnect_failed);
  REQUIRE(wait_state(alice.log, call, call_state::disconnected, 10s));
  // Nothing crossed: no RTP was sent before keys existed, and none was ever accepted.
  for (const auto& c : {call, bob_call}) {
    CHECK(stream_statistics(c, mspi::terminal_direction::capture).packets == 0);
    CHECK(stream_statistics(c, mspi::terminal_direction::render).packets == 0);
    CHECK_FALSE(c.info().secured);
  }
}

TEST_CASE("a SIP call with DTLS-SRTP carries SRTCP both ways: on the RTP port with rtcp-mux, on the RTCP port "
          "under its own DTLS association when the callee refuses rtcp-mux", "[tspi][sip][dtls][rtcp]") {
  const bool callee_mux = GENERATE(true, false);
  INFO((callee_mux ? "rtcp-mux" : "the callee refuses rtcp-mux"));
  auto media = [](bool mux) {
    auto m = dtls_media();
    m.rtcp_interval = 200ms;
    m.rtcp_mux = mux;
    return m;
  };
  const std::uint16_t port = callee_mux ? 7900 : 7902;
  sip_party alice(sip_party::config(port), media(true)), bob(sip_party::config(port + 1), media(callee_mux));
  bob.auto_answer();
  const auto t = tone(48000, 700);
  auto [call, out] = call_with(alice, "sip:ptapi@127.0.0.1:" + std::to_string(port + 1), t);
  auto bob_call = bob.last_offered();
  REQUIRE(bob_call);
  REQUIRE(wait_state(bob.log, bob_call, call_state::connected));
  // Bob sends no audio (no terminal), so only alice sends sender reports and can measure the round trip.
  auto flowing = [](const tspi::call& c, bool sender) {
    return stream_statistics(c, mspi::terminal_direction::render).rtcp_packets >= 4 &&
           (!sender || stream_statistics(c, mspi::terminal_direction::capture).round_trip_ms >= 0);
  };
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((!flowing(call, true) || !flowing(bob_call, false)) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  for (const auto& c : {call, bob_call}) {
    const auto rx = stream_statistics(c, mspi::terminal_direction::render);
    const auto tx = stream_statistics(c, mspi::terminal_direction::capture);
    CHECK(rx.rtcp_mux == callee_mux);
    CHECK(rx.rtcp_packets >= 4);      // SRTCP from the peer, authenticated under the right keys and parsed
    CHECK(tx.rtcp_packets >= 4);
    CHECK(rx.srtp_rejected == 0);
    CHECK(rx.malformed == 0);
    CHECK(tx.packets_lost >= 0);      // the peer's reports, read under the right keys
    CHECK(tx.packets_lost <= 5);
    CHECK((rx.rtcp_dtls_handshake_ms >= 0) == !callee_mux);  // a second association only without mux
  }
  const auto rtt = stream_statistics(call, mspi::terminal_direction::capture).round_trip_ms;
  CHECK(rtt >= 0);  // bob's report blocks refer to alice's sender reports
  CHECK(rtt < 1000);
  call.disconnect();
  REQUIRE(wait_state(bob.log, bob_call, call_state::disconnected));
}
