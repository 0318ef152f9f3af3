// DTLS-SRTP (RFC 5763/5764) in the RTP/Opus MSP: the a=fingerprint and a=setup attributes, the
// certificate, the handshake between two transports in memory, and calls driven through the TSP <-> MSP
// channel (a tone crosses encrypted, a tampered fingerprint fails without clear media, hostile datagrams).
// Drives the shipped providers' own members: their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/rtp_call_support.hpp"
#include "mspi/tone_support.hpp"

#include <mspi/rtp/dtls_certificate.hpp>
#include <mspi/rtp/dtls_transport.hpp>
#include <mspi/rtp/srtp.hpp>
#include <mspi/sdp_dtls.hpp>

#include <boost/asio/post.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mspi::channel_message_type;
using mspi::fingerprint_hash;
using mspi::sdp_setup;
using ptapi_test::eventually;
using ptapi_test::heard_frequency;
using ptapi_test::msp_side;

mspi::rtp_opus_config with_dtls(mspi::srtp_policy policy) {
  mspi::rtp_opus_config cfg;
  cfg.srtp = policy;
  cfg.srtp_keying = mspi::srtp_key_exchange::dtls;  // no TLS needed: no key crosses the signalling
  return cfg;
}


}  // namespace

TEST_CASE("a=fingerprint: RFC 8122 form parses in either case and is written uppercase", "[mspi][sdp][dtls]") {
  const auto f = mspi::parse_fingerprint_attribute("sha-1 4a:ad:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  REQUIRE(f);
  CHECK(f->hash == fingerprint_hash::sha_1);
  CHECK(f->value().size() == 20);
  CHECK(f->digest[0] == std::byte{0x4a});
  CHECK(f->digest[19] == std::byte{0xab});
  CHECK(mspi::to_string(*f) == "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB");
  std::string sha256 = "SHA-256 ";
  for (int i = 0; i < 32; ++i) sha256 += (i ? ":" : "") + std::string("0F");
  const auto g = mspi::parse_fingerprint_attribute(sha256 + " ");
  REQUIRE(g);
  CHECK(g->hash == fingerprint_hash::sha_256);
  CHECK(mspi::to_string(*g) == "sha-256" + sha256.substr(7));
  for (auto h : {fingerprint_hash::sha_384, fingerprint_hash::sha_512}) {
    mspi::sdp_fingerprint x;
    x.hash = h;
    x.digest.fill(std::byte{0xc3});
    CHECK(mspi::parse_fingerprint_attribute(mspi::to_string(x)) == x);
  }
  // Refused: deprecated or unknown hashes, a digest of the wrong length, missing or stray separators.
  for (std::string_view bad : {"md5 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B", "sha-224 00:11",
                               "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C",
                               "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:CD",
                               "sha-1 4AAD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:",
                               "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AG", "sha-1", ""})
    CHECK_FALSE(mspi::parse_fingerprint_attribute(bad));
}

TEST_CASE("a=setup: the four RFC 4145 roles, and SDP carries both attributes at either level", "[mspi][sdp][dtls]") {
  for (auto s : {sdp_setup::active, sdp_setup::passive, sdp_setup::actpass, sdp_setup::holdconn})
    CHECK(mspi::parse_setup_attribute(mspi::to_string(s)) == s);
  CHECK_FALSE(mspi::parse_setup_attribute("ACTIVE"));
  CHECK_FALSE(mspi::parse_setup_attribute("both"));
  const std::string fp = "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB";
  const std::string text = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\na=fingerprint:" + fp +
                           "\r\na=setup:actpass\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
                           "m=audio 4000 UDP/TLS/RTP/SAVP 0\r\nm=audio 4002 RTP/AVP 0\r\na=setup:passive\r\n"
                           "a=fingerprint:sha-999 00\r\na=fingerprint:sha-256 " + std::string(95, 'x') + "\r\n";
  auto sd = mspi::parse_sdp(text);
  REQUIRE(sd);
  REQUIRE(sd->media.size() == 2);
  CHECK(sd->media[0].protocol == "UDP/TLS/RTP/SAVP");
  REQUIRE(sd->media[0].fingerprints.size() == 1);  // the session level's
  CHECK(mspi::to_string(sd->media[0].fingerprints[0]) == fp);
  CHECK(sd->media[0].setup == sdp_setup::actpass);
  CHECK(sd->media[1].setup == sdp_setup::passive);  // its own
  CHECK(sd->media[1].fingerprints.size() == 1);     // its own lines do not parse: the session's apply
  const auto out = mspi::to_string(*sd);
  CHECK(out.find("a=fingerprint:" + fp + "\r\na=setup:actpass\r\n") != std::string::npos);
  auto back = mspi::parse_sdp(out);
  REQUIRE(back);
  CHECK(mspi::to_string(*back) == out);
}

TEST_CASE("dtls_certificate: an EC P-256 self-signed certificate and its SHA-256 fingerprint", "[mspi][dtls]") {
  const auto a = mspi::dtls_certificate::generate();
  const auto b = mspi::dtls_certificate::generate();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->fingerprint().hash == fingerprint_hash::sha_256);
  CHECK(mspi::certificate_fingerprint(a->x509(), fingerprint_hash::sha_256) == a->fingerprint());
  CHECK(a->fingerprint() != b->fingerprint());
  CHECK(EVP_PKEY_is_a(a->key(), "EC") == 1);
  CHECK(X509_verify(a->x509(), a->key()) == 1);  // self-signed
  CHECK(X509_check_private_key(a->x509(), a->key()) == 1);
}

namespace {

// Two transports on one io_context (made by the test with `make`), each one's datagrams posted to the other.
struct transport_pair {
  boost::asio::io_context io;
  std::shared_ptr<const mspi::dtls_certificate> ca = mspi::dtls_certificate::generate(), cb = mspi::dtls_certificate::generate();
  std::shared_ptr<mspi::dtls_transport> a, b;
  std::error_code ea = mspi::dtls_errc::handshake_failed, eb = mspi::dtls_errc::handshake_failed;
  int done_a = 0, done_b = 0;

  std::shared_ptr<mspi::dtls_transport> make(mspi::dtls_role role, std::shared_ptr<const mspi::dtls_certificate> cert,
                                             mspi::sdp_fingerprint remote, std::vector<mspi::srtp_suite> suites,
                                             std::shared_ptr<mspi::dtls_transport>& to, std::error_code& e, int& done) {
    return std::make_shared<mspi::dtls_transport>(
        io.get_executor(), cert, role, std::vector{remote}, suites,
        [this, &to](std::span<const std::byte> d) {
          boost::asio::post(io, [&to, v = std::vector<std::byte>(d.begin(), d.end())] {
            if (to) to->handle(v);
          });
        },
        [&e, &done](std::error_code ec, const std::optional<mspi::dtls_srtp_keys>&) {
          e = ec;
          ++done;
        });
  }
  void run(std::chrono::milliseconds d = 3s) {
    b->start();
    a->start();
    io.run_for(d);
  }
};

}  // namespace

TEST_CASE("dtls_transport: a handshake in memory gives mirrored SRTP keys that protect both ways", "[mspi][dtls]") {
  for (auto suite : {mspi::srtp_suite::aes_cm_128_hmac_sha1_80, mspi::srtp_suite::aead_aes_128_gcm,
                     mspi::srtp_suite::aes_cm_128_hmac_sha1_32}) {
    transport_pair p;
    p.a = p.make(mspi::dtls_role::client, p.ca, p.cb->fingerprint(), {suite}, p.b, p.ea, p.done_a);
    p.b = p.make(mspi::dtls_role::server, p.cb, p.ca->fingerprint(), {suite}, p.a, p.eb, p.done_b);
    p.run(2s);
    REQUIRE(p.done_a == 1);
    REQUIRE(p.done_b == 1);
    CHECK_FALSE(p.ea);
    CHECK_FALSE(p.eb);
    REQUIRE(p.a->keys());
    REQUIRE(p.b->keys());
    const auto& ka = *p.a->keys();
    const auto& kb = *p.b->keys();
    CHECK(ka.suite == suite);
    CHECK(kb.suite == suite);
    CHECK(ka.local == kb.remote);
    CHECK(ka.remote == kb.local);
    CHECK(ka.local != ka.remote);
    WARN("DTLS-SRTP handshake in memory (" << mspi::srtp_suite_name(suite) << "): " << p.a->handshake_ms() << " ms");
    // The exported keys work: a protects, b checks and decrypts.
    const auto n = mspi::srtp_key_salt_bytes(suite);
    mspi::srtp_session tx, rx;
    std::error_code ec;
    tx.start(suite, std::span<const std::byte>(ka.local.data(), n), mspi::srtp_direction::outbound, ec);
    REQUIRE_FALSE(ec);
    rx.start(suite, std::span<const std::byte>(kb.remote.data(), n), mspi::srtp_direction::inbound, ec);
    REQUIRE_FALSE(ec);
    std::array<std::byte, 200> packet{};
    std::vector<std::byte> payload(40, std::byte{0x5a});
    const auto plain = mspi::write_rtp(packet, mspi::rtp_header{false, 0, 1, 160, 0x1234}, payload);
    const auto sealed = tx.protect_rtp(packet, plain, ec);
    REQUIRE(sealed > plain);
    CHECK(rx.unprotect_rtp(packet, sealed, ec) == plain);
  }
}

TEST_CASE("dtls_transport: a certificate that matches no a=fingerprint fails the handshake on both sides", "[mspi][dtls]") {
  transport_pair p;
  auto wrong = p.ca->fingerprint();
  wrong.digest[5] ^= std::byte{1};
  p.a = p.make(mspi::dtls_role::client, p.ca, p.cb->fingerprint(), {mspi::srtp_suite::aes_cm_128_hmac_sha1_80}, p.b, p.ea, p.done_a);
  p.b = p.make(mspi::dtls_role::server, p.cb, wrong, {mspi::srtp_suite::aes_cm_128_hmac_sha1_80}, p.a, p.eb, p.done_b);
  p.run(3s);
  REQUIRE(p.done_b == 1);
  CHECK(p.eb == mspi::dtls_errc::fingerprint_mismatch);
  CHECK_FALSE(p.b->keys());
  // The client got the alert: it never has keys (it retries, bounded, and gives up or times out).
  CHECK_FALSE(p.a->keys());
  CHECK(p.a->current_state() != mspi::dtls_transport::state::connected);
}

TEST_CASE("dtls_transport: garbage datagrams are bounded, never crash, and a real handshake still succeeds after",
          "[mspi][dtls]") {
  transport_pair p;
  p.a = p.make(mspi::dtls_role::client, p.ca, p.cb->fingerprint(), {mspi::srtp_suite::aes_cm_128_hmac_sha1_80}, p.b, p.ea, p.done_a);
  p.b = p.make(mspi::dtls_role::server, p.cb, p.ca->fingerprint(), {mspi::srtp_suite::aes_cm_128_hmac_sha1_80}, p.a, p.eb, p.done_b);
  p.b->start();
  // A record header of a ClientHello (content type 22, DTLS 1.0, epoch 0) followed by junk, and oversize.
  std::vector<std::byte> hello(120, std::byte{0xee});
  hello[0] = std::byte{22};
  hello[1] = std::byte{0xfe};
  hello[2] = std::byte{0xff};
  hello[12] = std::byte{0};
  hello[13] = std::byte{107};
  hello[14] = std::byte{1};  // handshake type client_hello
  p.b->handle(hello);
  p.b->handle(std::vector<std::byte>(3000, std::byte{22}));
  p.b->handle(std::vector<std::byte>(1, std::byte{22}));
  p.io.run_for(50ms);
  CHECK(p.done_b == 0);  // still waiting for a real ClientHello
  p.a->start();
  p.io.run_for(2s);
  CHECK(p.done_a == 1);
  CHECK(p.done_b == 1);
  CHECK_FALSE(p.eb);
  CHECK(p.b->keys());
}

TEST_CASE("DTLS-SRTP mandatory on both sides: UDP/TLS/RTP/SAVP, a tone crosses encrypted, stats say dtls",
          "[mspi][rtp_opus][dtls]") {
  msp_side a(with_dtls(mspi::srtp_policy::mandatory)), b(with_dtls(mspi::srtp_policy::mandatory));
  const auto [offer, answer] = ptapi_test::connect(a, b);
  CHECK(offer.find(" UDP/TLS/RTP/SAVP 111 0 8 101\r\n") != std::string::npos);
  CHECK(offer.find("a=fingerprint:sha-256 ") != std::string::npos);
  CHECK(offer.find("a=setup:actpass\r\n") != std::string::npos);
  CHECK(offer.find("a=crypto") == std::string::npos);  // no key in the SDP
  CHECK(answer.find(" UDP/TLS/RTP/SAVP 111 101\r\n") != std::string::npos);
  CHECK(answer.find("a=setup:active\r\n") != std::string::npos);
  const auto so = mspi::parse_sdp(offer), sa = mspi::parse_sdp(answer);
  REQUIRE(so);
  REQUIRE(sa);
  CHECK(so->media[0].fingerprints.at(0) != sa->media[0].fingerprints.at(0));  // one certificate per MSP

  const auto t = ptapi_test::sine_samples(48000, 1000);
  REQUIRE(a.out->write(t) == t.size());
  REQUIRE(eventually([&] { return b.received_packets() >= 50; }, 5s));
  std::this_thread::sleep_for(300ms);
  CHECK(heard_frequency(b.read_all()) == Approx(1000).epsilon(0.02));
  for (const auto& s : {a.call->capture_stream()->statistics(), b.call->render_stream()->statistics()}) {
    CHECK(s.secured);
    CHECK(s.srtp_keying == "dtls");
    CHECK(s.srtp_suite == "AES_CM_128_HMAC_SHA1_80");
    CHECK(s.dtls_handshake_ms >= 0);
  }
  WARN("DTLS-SRTP handshake between two MSPs on loopback: answerer (client) "
       << b.call->render_stream()->statistics().dtls_handshake_ms << " ms, offerer (server) "
       << a.call->render_stream()->statistics().dtls_handshake_ms << " ms");
  CHECK(b.call->render_stream()->statistics().dtls_dropped == 0);
  CHECK(a.count(channel_message_type::media_error) == 0);
  CHECK(b.count(channel_message_type::media_error) == 0);
}

TEST_CASE("DTLS-SRTP optional: plain RTP with a peer whose SRTP is off, DTLS with one that has it",
          "[mspi][rtp_opus][dtls]") {
  {
    msp_side a(with_dtls(mspi::srtp_policy::optional)), b;
    const auto [offer, answer] = ptapi_test::connect(a, b);
    CHECK(offer.find(" RTP/AVP 111 0 8 101\r\n") != std::string::npos);  // RFC 8643 style
    CHECK(offer.find("a=fingerprint:sha-256 ") != std::string::npos);
    CHECK(answer.find("a=fingerprint") == std::string::npos);
    const auto t = ptapi_test::sine_samples(24000, 800);
    REQUIRE(a.out->write(t) == t.size());
    REQUIRE(eventually([&] { return b.received_packets() >= 20; }));
    CHECK_FALSE(b.call->render_stream()->statistics().secured);
  }
  {
    msp_side a(with_dtls(mspi::srtp_policy::optional)), b(with_dtls(mspi::srtp_policy::optional));
    const auto [offer, answer] = ptapi_test::connect(a, b);
    CHECK(answer.find(" RTP/AVP 111 101\r\n") != std::string::npos);
    CHECK(answer.find("a=setup:active\r\n") != std::string::npos);
    const auto t = ptapi_test::sine_samples(24000, 800);
    REQUIRE(a.out->write(t) == t.size());
    REQUIRE(eventually([&] { return b.received_packets() >= 20; }, 5s));
    CHECK(b.call->render_stream()->statistics().srtp_keying == "dtls");
  }
  {  // Mandatory DTLS-SRTP against an SDES-less, DTLS-less peer: the negotiation fails with the reason.
    msp_side a(with_dtls(mspi::srtp_policy::mandatory)), b;
    b.send(channel_message_type::request_offer);
    auto offer = b.take(channel_message_type::local_offer);
    REQUIRE(offer);
    a.send(channel_message_type::remote_offer, offer->body);
    auto err = a.take(channel_message_type::media_error);
    REQUIRE(err);
    CHECK(err->body.find("a=fingerprint") != std::string::npos);
  }
}

TEST_CASE("DTLS-SRTP: a tampered answer fingerprint fails the call with media_error, no media crosses",
          "[mspi][rtp_opus][dtls]") {
  msp_side a(with_dtls(mspi::srtp_policy::mandatory)), b(with_dtls(mspi::srtp_policy::mandatory));
  a.send(channel_message_type::request_offer);
  auto offer = a.take(channel_message_type::local_offer);
  REQUIRE(offer);
  b.send(channel_message_type::remote_offer, offer->body);
  auto answer = b.take(channel_message_type::local_answer);
  REQUIRE(answer);
  // An attacker on the signalling path swaps one hex digit of b's fingerprint.
  auto tampered = answer->body;
  const auto at = tampered.find("a=fingerprint:sha-256 ") + 22;
  tampered[at] = tampered[at] == '0' ? '1' : '0';
  a.send(channel_message_type::remote_answer, tampered);
  const auto t = ptapi_test::sine_samples(48000, 1000);
  REQUIRE(a.out->write(t) == t.size());
  REQUIRE(b.out->write(t) == t.size());
  a.send(channel_message_type::start_media);
  b.send(channel_message_type::start_media);
  // a (the DTLS server, checking b's certificate) refuses it: the TSP is told, which ends the call.
  auto err = a.take(channel_message_type::media_error, 5s);
  REQUIRE(err);
  CHECK(err->body == std::error_code(mspi::dtls_errc::fingerprint_mismatch).message());
  // And the application sees CME_STREAM_FAIL on both of a's streams, with the reason.
  int failed = 0;
  for (const auto& e : a.stream_events)
    failed += e.event == mspi::call_media_kind::stream_fail && e.error == mspi::dtls_errc::fingerprint_mismatch;
  CHECK(failed == 2);
  std::this_thread::sleep_for(500ms);
  // Nothing was sent in clear, nothing was played: both sides kept their media silent.
  for (auto* s : {&a, &b}) {
    CHECK(s->sent_packets() == 0);
    CHECK(s->received_packets() == 0);
    CHECK_FALSE(s->call->capture_stream()->statistics().secured);
  }
}

TEST_CASE("DTLS-SRTP: DTLS datagrams from a wrong address are dropped and counted, the call goes on",
          "[mspi][rtp_opus][dtls]") {
  msp_side a(with_dtls(mspi::srtp_policy::mandatory)), b(with_dtls(mspi::srtp_policy::mandatory));
  const auto [offer, answer] = ptapi_test::connect(a, b);
  ptapi_test::raw_peer stranger;
  stranger.target = {boost::asio::ip::make_address("127.0.0.1"), ptapi_test::rtp_port_of(offer)};
  std::vector<std::byte> hello(120, std::byte{0xee});
  hello[0] = std::byte{22};
  for (int i = 0; i < 5; ++i) stranger.socket.send_to(boost::asio::buffer(hello), stranger.target);
  REQUIRE(eventually([&] { return a.call->render_stream()->statistics().dtls_dropped == 5; }));
  const auto t = ptapi_test::sine_samples(48000, 600);
  REQUIRE(b.out->write(t) == t.size());
  REQUIRE(eventually([&] { return a.received_packets() >= 30; }, 5s));
  CHECK(a.call->render_stream()->statistics().secured);
  CHECK(a.count(channel_message_type::media_error) == 0);
}

namespace {

// DTLS-SRTP mandatory with fast RTCP (every 200 ms) and rtcp-mux on or off (`rtp_opus_config::rtcp_mux`).
mspi::rtp_opus_config dtls_rtcp(bool mux) {
  auto cfg = with_dtls(mspi::srtp_policy::mandatory);
  cfg.rtcp_interval = 200ms;
  cfg.rtcp_mux = mux;
  return cfg;
}

// Both sides take in SRTCP from the other (accepted: authenticated and parsed) and measure the round trip
// from it; none of it is refused.
void check_srtcp_both_ways(msp_side& a, msp_side& b) {
  const auto t = ptapi_test::sine_samples(48000, 700);
  REQUIRE(a.out->write(t) == t.size());
  REQUIRE(b.out->write(t) == t.size());
  for (auto* s : {&a, &b}) {
    INFO((s == &a ? "offerer" : "answerer"));
    REQUIRE(eventually([&] {
      return s->call->render_stream()->statistics().rtcp_packets >= 4 &&
             s->call->capture_stream()->statistics().rtcp_packets >= 4;
    }, 8s));
    REQUIRE(eventually([&] { return s->call->capture_stream()->statistics().round_trip_ms >= 0; }, 5s));
    const auto rx = s->call->render_stream()->statistics(), tx = s->call->capture_stream()->statistics();
    CHECK(tx.rtcp_packets >= 4);
    CHECK(rx.srtp_rejected == 0);
    CHECK(rx.malformed == 0);
    CHECK(rx.rejected_source == 0);
    CHECK(tx.round_trip_ms < 1000);
    CHECK(tx.packets_lost >= 0);  // the peer's receiver report on our stream, read under the right key
    CHECK(tx.packets_lost <= 5);
    CHECK(rx.secured);
  }
}

}  // namespace

TEST_CASE("DTLS-SRTP offers a=rtcp-mux with a=rtcp, and with it SRTCP flows both ways on the RTP port",
          "[mspi][rtp_opus][dtls][rtcp]") {
  msp_side a(dtls_rtcp(true)), b(dtls_rtcp(true));
  const auto [offer, answer] = ptapi_test::connect(a, b);
  const auto so = mspi::parse_sdp(offer), sa = mspi::parse_sdp(answer);
  REQUIRE(so);
  REQUIRE(sa);
  CHECK(so->media[0].rtcp_mux);
  CHECK(so->media[0].rtcp_port != 0);  // RFC 5761 §5.1.1: the separate port, for a peer that refuses mux
  CHECK(so->media[0].rtcp_port != so->media[0].port);
  CHECK(sa->media[0].rtcp_mux);
  CHECK(sa->media[0].rtcp_port == sa->media[0].port);
  check_srtcp_both_ways(a, b);
  for (auto* s : {&a, &b}) {
    CHECK(s->call->render_stream()->statistics().rtcp_mux);
    CHECK(s->call->render_stream()->statistics().rtcp_dtls_handshake_ms < 0);  // one association keys both
  }
}

TEST_CASE("DTLS-SRTP without rtcp-mux: a second association on the RTCP port keys SRTCP, both ways",
          "[mspi][rtp_opus][dtls][rtcp]") {
  for (const bool offerer_mux : {false, true}) {
    INFO((offerer_mux ? "the answerer refuses rtcp-mux" : "the offer has no rtcp-mux"));
    msp_side a(dtls_rtcp(offerer_mux)), b(dtls_rtcp(false));
    const auto [offer, answer] = ptapi_test::connect(a, b);
    CHECK((offer.find("a=rtcp-mux") != std::string::npos) == offerer_mux);
    CHECK(answer.find("a=rtcp-mux") == std::string::npos);
    check_srtcp_both_ways(a, b);
    for (auto* s : {&a, &b}) {
      const auto st = s->call->render_stream()->statistics();
      CHECK_FALSE(st.rtcp_mux);
      CHECK(st.rtcp_dtls_handshake_ms >= 0);
    }
    CHECK(b.call->render_stream()->statistics().dtls_dropped == 0);  // the client: every reply was from a's ports
  }
}

TEST_CASE("rtcp-mux: plain RTP offers leave it out, and a plain offer with it is answered with it",
          "[mspi][rtp_opus][rtcp]") {
  mspi::rtp_opus_config plain;
  plain.rtcp_interval = 200ms;
  msp_side a(plain), b(plain), c([&] {
    auto off = plain;
    off.rtcp_mux = false;
    return off;
  }());
  a.send(channel_message_type::request_offer);
  auto offer = a.take(channel_message_type::local_offer);
  REQUIRE(offer);
  CHECK(offer->body.find("a=rtcp-mux") == std::string::npos);
  CHECK(offer->body.find("a=rtcp:") != std::string::npos);
  // The same offer with a=rtcp-mux (as a peer that offers it would write it): b answers with it, c does not.
  auto muxed = offer->body;
  muxed.insert(muxed.find("a=rtcp:"), "a=rtcp-mux\r\n");
  b.send(channel_message_type::remote_offer, muxed);
  auto answer = b.take(channel_message_type::local_answer);
  REQUIRE(answer);
  CHECK(answer->body.find("a=rtcp-mux\r\n") != std::string::npos);
  c.send(channel_message_type::remote_offer, muxed);
  auto refused = c.take(channel_message_type::local_answer);
  REQUIRE(refused);
  CHECK(refused->body.find("a=rtcp-mux") == std::string::npos);
}
