// SRTP (RFC 3711) with SDES keys (RFC 4568) in the RTP/Opus MSP: the a=crypto parser, the libsrtp2
// session, and calls driven through the TSP <-> MSP channel (policies, the wire, tampering, re-keying).
// Drives the shipped providers' own members: their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/rtp_call_support.hpp"
#include "mspi/tone_support.hpp"

#include <mspi/rtp/srtp.hpp>
#include <mspi/sdp_crypto.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mspi::channel_message_type;
using mspi::srtp_suite;
using ptapi_test::eventually;
using ptapi_test::heard_frequency;
using ptapi_test::msp_side;

// The key of RFC 4568 §9.1's example (30 bytes of AES_CM key || salt).
constexpr std::string_view rfc_key = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

mspi::rtp_opus_config with_srtp(mspi::srtp_policy policy) {
  mspi::rtp_opus_config cfg;
  cfg.srtp = policy;
  cfg.allow_sdes_over_insecure_signalling = true;  // no TLS yet: the keys cross the test's own channel
  return cfg;
}


std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> v(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) v[i] = static_cast<std::byte>(s[i]);
  return v;
}

}  // namespace

TEST_CASE("a=crypto: RFC 4568's example parses, and to_string writes it back", "[mspi][sdp][srtp]") {
  auto r = mspi::parse_crypto_attribute(std::string("1 AES_CM_128_HMAC_SHA1_80 inline:") + std::string(rfc_key) + "|2^20|1:4");
  CHECK_FALSE(r.crypto);  // the RFC's example has a 2^20 lifetime and an MKI: both refused
  CHECK(r.error == "a key lifetime below 2^31 packets is not supported");
  r = mspi::parse_crypto_attribute(std::string("1 AES_CM_128_HMAC_SHA1_80 inline:") + std::string(rfc_key) + "|1:4");
  CHECK(r.error == "MKI is not supported");
  r = mspi::parse_crypto_attribute(std::string("7 AES_CM_128_HMAC_SHA1_32 inline:") + std::string(rfc_key) + "|2^31");
  REQUIRE(r.crypto);
  CHECK(r.crypto->tag == 7);
  CHECK(r.crypto->suite == srtp_suite::aes_cm_128_hmac_sha1_32);
  CHECK(r.crypto->key().size() == 30);
  CHECK(to_string(*r.crypto) == std::string("7 AES_CM_128_HMAC_SHA1_32 inline:") + std::string(rfc_key));

  // GCM: 28 bytes, base64 with one padding character; accepted without it as well.
  auto gcm = mspi::detail::fresh_crypto(3, srtp_suite::aead_aes_128_gcm);
  const auto text = to_string(gcm);
  CHECK(text.size() == std::string_view("3 AEAD_AES_128_GCM inline:").size() + 40);
  CHECK(text.back() == '=');
  for (const auto& t : {text, text.substr(0, text.size() - 1) + " WSH=64"}) {
    auto back = mspi::parse_crypto_attribute(t);
    REQUIRE(back.crypto);
    CHECK(back.crypto->suite == srtp_suite::aead_aes_128_gcm);
    CHECK(std::equal(back.crypto->key().begin(), back.crypto->key().end(), gcm.key().begin(), gcm.key().end()));
  }
}

TEST_CASE("a=crypto: what we cannot honour is refused with its reason", "[mspi][sdp][srtp]") {
  const std::string key(rfc_key);
  const std::vector<std::pair<std::string, std::string_view>> cases{
      {"x AES_CM_128_HMAC_SHA1_80 inline:" + key, "the tag is not 1-9 digits"},
      {"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key, "the tag is not 1-9 digits"},
      {"1 AES_256_CM_HMAC_SHA1_80 inline:" + key, "unsupported crypto suite"},
      {"1 AES_CM_128_HMAC_SHA1_80 uri:http://x", "the key is not inline:"},
      {"1 AES_CM_128_HMAC_SHA1_80", "the key is not inline:"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key, "several keys (MKI) are not supported"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(4), "the key is not base64 of the suite's key and salt"},
      {"1 AEAD_AES_128_GCM inline:" + key, "the key is not base64 of the suite's key and salt"},  // 30 bytes, not 28
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key.substr(0, 39) + "*", "the key is not base64 of the suite's key and salt"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20", "a key lifetime below 2^31 packets is not supported"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1048576", "a key lifetime below 2^31 packets is not supported"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^x", "the key lifetime is malformed"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|", "the key lifetime is malformed"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " UNENCRYPTED_SRTP", "unsupported SDES session parameter"},
      {"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=1", "unsupported SDES session parameter"},
  };
  for (const auto& [line, reason] : cases) {
    INFO(line);
    auto r = mspi::parse_crypto_attribute(line);
    CHECK_FALSE(r.crypto);
    CHECK(r.error == reason);
  }
  // In a description: usable lines are kept in order, the others listed with their reasons.
  const std::string sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                          "m=audio 4000 RTP/SAVP 0\r\n"
                          "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + key + "\r\n"
                          "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" + key + "\r\n";
  auto sd = mspi::parse_sdp(sdp);
  REQUIRE(sd);
  REQUIRE(sd->media[0].crypto.size() == 1);
  CHECK(sd->media[0].crypto[0].tag == 2);
  REQUIRE(sd->media[0].crypto_refused.size() == 1);
  CHECK(sd->media[0].crypto_refused[0] == "unsupported crypto suite");
  CHECK(to_string(*sd).find("a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:" + key + "\r\n") != std::string::npos);
  std::string many = sdp;
  for (int i = 0; i < 15; ++i) many += "a=crypto:9 X inline:A\r\n";
  CHECK_FALSE(mspi::parse_sdp(many));  // more than sdp_max_crypto lines in one m-line
}

TEST_CASE("srtp_session: each suite protects, and refuses a tampered or replayed packet", "[mspi][srtp]") {
  for (auto suite : {srtp_suite::aes_cm_128_hmac_sha1_80, srtp_suite::aes_cm_128_hmac_sha1_32, srtp_suite::aead_aes_128_gcm}) {
    INFO(mspi::srtp_suite_name(suite));
    const auto key = mspi::detail::fresh_crypto(1, suite);
    mspi::srtp_session tx, rx;
    std::error_code ec;
    tx.start(suite, key.key(), mspi::srtp_direction::outbound, ec);
    REQUIRE_FALSE(ec);
    rx.start(suite, key.key(), mspi::srtp_direction::inbound, ec);
    REQUIRE_FALSE(ec);
    CHECK(rx.suite() == suite);

    const auto payload = bytes_of("twenty bytes of talk");
    std::array<std::byte, 200> packet{};
    const std::size_t plain = mspi::write_rtp(packet, mspi::rtp_header{false, 111, 1000, 960, 0x1234}, payload);
    const std::size_t sealed = tx.protect_rtp(packet, plain, ec);
    REQUIRE_FALSE(ec);
    CHECK(sealed == plain + (suite == srtp_suite::aes_cm_128_hmac_sha1_32 ? 4 : suite == srtp_suite::aead_aes_128_gcm ? 16 : 10));
    CHECK(std::search(packet.begin(), packet.begin() + sealed, payload.begin(), payload.end()) == packet.begin() + sealed);

    auto tampered = packet;
    tampered[15] ^= std::byte{1};
    CHECK(rx.unprotect_rtp(tampered, sealed, ec) == 0);
    CHECK(ec == std::error_code(srtp_err_status_auth_fail, mspi::srtp_category()));
    auto copy = packet;
    REQUIRE(rx.unprotect_rtp(copy, sealed, ec) == plain);
    auto view = mspi::parse_rtp(std::span<const std::byte>(copy.data(), plain));
    REQUIRE(view);
    CHECK(std::equal(view->payload.begin(), view->payload.end(), payload.begin(), payload.end()));
    copy = packet;
    CHECK(rx.unprotect_rtp(copy, sealed, ec) == 0);  // the same packet again
    CHECK(ec == std::error_code(srtp_err_status_replay_fail, mspi::srtp_category()));

    mspi::srtp_session wrong;  // another key
    wrong.start(suite, mspi::detail::fresh_crypto(1, suite).key(), mspi::srtp_direction::inbound, ec);
    copy = packet;
    CHECK(wrong.unprotect_rtp(copy, sealed, ec) == 0);
    CHECK(tx.protect_rtp(std::span<std::byte>(packet).first(plain + 10), plain, ec) == 0);  // room for 10 bytes:
    CHECK(ec == std::errc::no_buffer_space);  // libsrtp may write up to SRTP_MAX_TRAILER_LEN, so it is refused
  }
}

TEST_CASE("SDES mandatory on both sides: RTP/SAVP, a tone crosses, both streams say secured", "[mspi][rtp_opus][srtp]") {
  msp_side a(with_srtp(mspi::srtp_policy::mandatory)), b(with_srtp(mspi::srtp_policy::mandatory));
  const auto [offer, answer] = ptapi_test::connect(a, b);
  CHECK(offer.find(" RTP/SAVP 111 0 8 101\r\n") != std::string::npos);
  CHECK(offer.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") != std::string::npos);
  CHECK(offer.find("a=crypto:2 AEAD_AES_128_GCM inline:") != std::string::npos);
  CHECK(offer.find("a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:") != std::string::npos);
  CHECK(answer.find(" RTP/SAVP 111 101\r\n") != std::string::npos);
  auto sa = mspi::parse_sdp(answer);
  REQUIRE(sa);
  REQUIRE(sa->media[0].crypto.size() == 1);
  CHECK(sa->media[0].crypto[0].tag == 1);  // the offerer's first choice
  auto so = mspi::parse_sdp(offer);
  CHECK(so->media[0].crypto[0].key_salt != sa->media[0].crypto[0].key_salt);  // each side its own key

  const auto t = ptapi_test::sine_samples(48000, 1000);
  REQUIRE(a.out->write(t) == t.size());
  REQUIRE(eventually([&] { return b.received_packets() >= 50; }));
  std::this_thread::sleep_for(300ms);
  CHECK(heard_frequency(b.read_all()) == Approx(1000).epsilon(0.02));
  for (const auto& s : {a.call->capture_stream()->statistics(), b.call->render_stream()->statistics()}) {
    CHECK(s.secured);
    CHECK(s.srtp_suite == "AES_CM_128_HMAC_SHA1_80");
  }
  CHECK(b.call->render_stream()->statistics().srtp_rejected == 0);
}

TEST_CASE("SDES: a re-offer re-keys both ways and media goes on, GCM when preferred", "[mspi][rtp_opus][srtp]") {
  auto gcm_first = with_srtp(mspi::srtp_policy::optional);
  gcm_first.srtp_suites = {srtp_suite::aead_aes_128_gcm, srtp_suite::aes_cm_128_hmac_sha1_80};
  gcm_first.rtcp_interval = 200ms;
  msp_side a(gcm_first), b(with_srtp(mspi::srtp_policy::mandatory));
  const auto [offer, answer] = ptapi_test::connect(a, b);
  CHECK(offer.find(" RTP/AVP 111 0 8 101\r\n") != std::string::npos);  // optional: RFC 8643 best effort
  CHECK(answer.find(" RTP/AVP 111 101\r\n") != std::string::npos);     // the offer's profile
  CHECK(answer.find("a=crypto:1 AEAD_AES_128_GCM inline:") != std::string::npos);
  const auto t = ptapi_test::sine_samples(48000, 500);
  REQUIRE(a.out->write(t) == t.size());
  REQUIRE(eventually([&] { return b.received_packets() >= 25; }));
  CHECK(b.call->render_stream()->statistics().srtp_suite == "AEAD_AES_128_GCM");
  // SRTCP both ways: the round trip needs each side to read the other's reports.
  REQUIRE(eventually([&] { return a.call->capture_stream()->statistics().round_trip_ms >= 0; }, 2s));

  const auto [offer2, answer2] = ptapi_test::offer_answer(a, b);
  CHECK(mspi::parse_sdp(offer2)->media[0].crypto[0].key_salt != mspi::parse_sdp(offer)->media[0].crypto[0].key_salt);
  CHECK(mspi::parse_sdp(answer2)->media[0].crypto[0].key_salt != mspi::parse_sdp(answer)->media[0].crypto[0].key_salt);
  // After the re-key, a new tone crosses under the new keys.
  (void)b.read_all();
  const auto before = b.received_packets();
  const auto t2 = ptapi_test::sine_samples(48000, 700);
  REQUIRE(a.out->write(t2) == t2.size());
  REQUIRE(eventually([&] { return b.received_packets() >= before + 40; }));
  // A few packets in flight under the old key may be refused around the switch; no more.
  CHECK(b.call->render_stream()->statistics().srtp_rejected <= 5);
  CHECK(heard_frequency(b.read_all()) == Approx(700).epsilon(0.03));
}

TEST_CASE("SDES on the wire: no clear payload, tampered and replayed packets dropped and counted", "[mspi][rtp_opus][srtp]") {
  msp_side a(with_srtp(mspi::srtp_policy::mandatory));
  ptapi_test::raw_peer peer;
  const auto peer_key = mspi::detail::fresh_crypto(5, srtp_suite::aes_cm_128_hmac_sha1_80);
  auto offer = peer.offer("0", "a=rtpmap:0 PCMU/8000\r\na=crypto:" + to_string(peer_key) + "\r\n");
  offer.replace(offer.find("RTP/AVP"), 7, "RTP/SAVP");
  a.send(channel_message_type::remote_offer, offer);
  auto answer = a.take(channel_message_type::local_answer);
  REQUIRE(answer);
  auto sa = mspi::parse_sdp(answer->body);
  REQUIRE(sa);
  CHECK(sa->media[0].protocol == "RTP/SAVP");
  REQUIRE(sa->media[0].crypto.size() == 1);
  const auto a_key = sa->media[0].crypto[0];
  CHECK(a_key.tag == 5);
  peer.target = {boost::asio::ip::make_address("127.0.0.1"), sa->media[0].port};
  a.send(channel_message_type::start_media);

  // What a sends: a 1 kHz tone as PCMU. On the wire, no packet carries the clear G.711 bytes; with a's
  // key each one authenticates and decrypts to exactly them.
  const auto t = ptapi_test::sine_samples(48000, 1000);
  REQUIRE(a.out->write(t) == t.size());
  peer.socket.non_blocking(true);
  mspi::srtp_session from_a;
  std::error_code ec;
  from_a.start(a_key.suite, a_key.key(), mspi::srtp_direction::inbound, ec);
  REQUIRE_FALSE(ec);
  int checked = 0;
  std::array<std::byte, 1600> buf{};
  for (auto end = std::chrono::steady_clock::now() + 600ms; std::chrono::steady_clock::now() < end;) {
    boost::system::error_code bec;
    boost::asio::ip::udp::endpoint from;
    const std::size_t n = peer.socket.receive_from(boost::asio::buffer(buf), from, 0, bec);
    if (bec) {
      std::this_thread::sleep_for(1ms);
      continue;
    }
    const auto wire = std::vector<std::byte>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    const std::size_t plain = from_a.unprotect_rtp(buf, n, ec);
    REQUIRE(plain == n - 10);  // the 80-bit tag
    auto v = mspi::parse_rtp(std::span<const std::byte>(buf.data(), plain));
    REQUIRE(v);
    REQUIRE(v->payload.size() == 160);
    CHECK(std::search(wire.begin(), wire.end(), v->payload.begin(), v->payload.end()) == wire.end());
    ++checked;
  }
  CHECK(checked >= 20);

  // What the peer sends: protected with its key, a's render stream takes it; a tampered copy and a
  // replayed one are dropped and counted, never counted as received.
  mspi::srtp_session to_a;
  to_a.start(peer_key.suite, peer_key.key(), mspi::srtp_direction::outbound, ec);
  REQUIRE_FALSE(ec);
  std::vector<std::byte> silence(160, std::byte{0xff});
  std::vector<std::vector<std::byte>> sent;
  for (std::uint16_t i = 0; i < 10; ++i) {
    std::array<std::byte, 400> p{};
    const std::size_t plain = mspi::write_rtp(p, mspi::rtp_header{i == 0, 0, static_cast<std::uint16_t>(100 + i), 160u * i, 0xabcd}, silence);
    const std::size_t sealed = to_a.protect_rtp(p, plain, ec);
    REQUIRE(sealed > 0);
    sent.emplace_back(p.begin(), p.begin() + static_cast<std::ptrdiff_t>(sealed));
    peer.socket.send_to(boost::asio::buffer(sent.back()), peer.target);
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(eventually([&] { return a.received_packets() == 10; }));
  auto tampered = sent[9];
  tampered[20] ^= std::byte{0x40};
  peer.socket.send_to(boost::asio::buffer(tampered), peer.target);
  peer.socket.send_to(boost::asio::buffer(sent[3]), peer.target);  // replay
  REQUIRE(eventually([&] { return a.call->render_stream()->statistics().srtp_rejected == 2; }));
  const auto rx = a.call->render_stream()->statistics();
  CHECK(rx.packets == 10);
  CHECK(rx.malformed == 0);
  CHECK(rx.secured);
  // A plain RTP packet is refused as well: no clear-text fallback.
  peer.send(mspi::rtp_header{false, 0, 200, 3200, 0xabcd}, silence);
  REQUIRE(eventually([&] { return a.call->render_stream()->statistics().srtp_rejected == 3; }));
  CHECK(a.received_packets() == 10);
}

TEST_CASE("SDES policies that cannot meet fail the negotiation with a clear reason", "[mspi][rtp_opus][srtp]") {
  SECTION("mandatory offers to off: the answerer refuses RTP/SAVP") {
    msp_side a(with_srtp(mspi::srtp_policy::mandatory)), b;
    a.send(channel_message_type::request_offer);
    auto offer = a.take(channel_message_type::local_offer);
    REQUIRE(offer);
    b.send(channel_message_type::remote_offer, offer->body);
    auto err = b.take(channel_message_type::media_error);
    REQUIRE(err);
    CHECK(err->body == "the peer requires SRTP (RTP/SAVP) and SRTP is off here");
    CHECK(b.count(channel_message_type::local_answer) == 0);
  }
  SECTION("off offers to mandatory: no a=crypto") {
    msp_side a, b(with_srtp(mspi::srtp_policy::mandatory));
    a.send(channel_message_type::request_offer);
    auto offer = a.take(channel_message_type::local_offer);
    REQUIRE(offer);
    CHECK(offer->body.find("a=crypto") == std::string::npos);
    b.send(channel_message_type::remote_offer, offer->body);
    auto err = b.take(channel_message_type::media_error);
    REQUIRE(err);
    CHECK(err->body == "SRTP is mandatory and the peer offers no a=crypto");
  }
  SECTION("mandatory offers, and the answer comes back without crypto: the offerer fails") {
    msp_side a(with_srtp(mspi::srtp_policy::mandatory));
    ptapi_test::raw_peer peer;
    a.send(channel_message_type::request_offer);
    REQUIRE(a.take(channel_message_type::local_offer));
    a.send(channel_message_type::remote_answer, peer.offer("0", "a=rtpmap:0 PCMU/8000\r\n"));
    auto err = a.take(channel_message_type::media_error);
    REQUIRE(err);
    CHECK(err->body == "SRTP is mandatory and the answer carries no usable a=crypto");
  }
  SECTION("only an unsupported suite offered: refused, naming why") {
    msp_side b(with_srtp(mspi::srtp_policy::mandatory));
    ptapi_test::raw_peer peer;
    b.send(channel_message_type::remote_offer,
           peer.offer("0", "a=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" + std::string(rfc_key) + "\r\n"));
    auto err = b.take(channel_message_type::media_error);
    REQUIRE(err);
    CHECK(err->body == "no acceptable a=crypto in the peer's offer (unsupported crypto suite)");
  }
  SECTION("mandatory without protected signalling and without the explicit allowance: no offer at all") {
    auto cfg = with_srtp(mspi::srtp_policy::mandatory);
    cfg.allow_sdes_over_insecure_signalling = false;
    msp_side a(cfg);
    a.send(channel_message_type::request_offer);
    auto err = a.take(channel_message_type::media_error);
    REQUIRE(err);
    CHECK(err->body.starts_with("SRTP is mandatory, but SDES keys may not cross unprotected signalling"));
    CHECK(a.count(channel_message_type::local_offer) == 0);
  }
  SECTION("DTLS-SRTP offers are refused by an SDES address (srtp_keying sdes)") {
    msp_side b(with_srtp(mspi::srtp_policy::optional));
    ptapi_test::raw_peer peer;
    auto offer = peer.offer("0", "a=rtpmap:0 PCMU/8000\r\n");
    offer.replace(offer.find("RTP/AVP"), 7, "UDP/TLS/RTP/SAVP");
    b.send(channel_message_type::remote_offer, offer);
    auto err = b.take(channel_message_type::media_error);
    REQUIRE(err);
    CHECK(err->body.starts_with("the peer requires DTLS-SRTP (UDP/TLS/RTP/SAVP), which this address does not use"));
  }
}

TEST_CASE("SDES optional against off: plain RTP both ways, not secured", "[mspi][rtp_opus][srtp]") {
  msp_side a(with_srtp(mspi::srtp_policy::optional)), b;
  const auto [offer, answer] = ptapi_test::connect(a, b);
  CHECK(offer.find("a=crypto:1 ") != std::string::npos);  // offered, best effort, on RTP/AVP
  CHECK(answer.find("a=crypto") == std::string::npos);      // b ignores it
  const auto t = ptapi_test::sine_samples(48000, 1000);
  REQUIRE(a.out->write(t) == t.size());
  REQUIRE(eventually([&] { return b.received_packets() >= 25; }));
  for (const auto& s : {a.call->capture_stream()->statistics(), b.call->render_stream()->statistics()}) {
    CHECK_FALSE(s.secured);
    CHECK(s.srtp_suite.empty());
  }
  CHECK(b.call->render_stream()->statistics().srtp_rejected == 0);
}
