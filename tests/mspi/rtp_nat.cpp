// NAT traversal of the RTP/Opus MSP (issue 9): server-reflexive addresses learned through STUN on the media
// sockets themselves (RFC 8445 §5.1.1.2) and advertised in the SDP, the bounded fallback to the host address,
// a configured public address, and STUN told from RTP on the media socket (RFC 7983). Against coturn on
// 127.0.0.1:7530 (this file's ports: 7530-7549; 7531-7539 are coturn's relay range, unused with
// --stun-only) and against scripted or silent servers on ephemeral ports.
// Drives the shipped providers' own members: their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/rtp_call_support.hpp"
#include "support/coturn.hpp"

#include <mspi/detail/random.hpp>
#include <mspi/ice/candidate.hpp>
#include <mspi/ice/credentials.hpp>
#include <mspi/stun/message.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace stun = mspi::stun;
using udp = asio::ip::udp;
using namespace std::chrono_literals;
using ptapi_test::msp_side;

constexpr std::uint16_t coturn_port = 7530;

mspi::rtp_opus_config stun_config(udp::endpoint server, std::chrono::milliseconds timeout = 2000ms) {
  mspi::rtp_opus_config cfg;
  cfg.local_address = "127.0.0.1";
  cfg.stun_server = server;
  cfg.stun_timeout = timeout;
  cfg.rtcp_interval = 200ms;
  return cfg;
}

// A STUN server on a thread of its own: answers each Binding request with XOR-MAPPED-ADDRESS 203.0.113.5 and
// the client's port + 1000 (a NAT's mapping); `extra` more copies of each answer are sent `extra_delay` later
// (a late duplicate that reaches the socket once media reads it). Silent when `answer` is false.
struct scripted_stun_server {
  explicit scripted_stun_server(bool answer = true, int extra = 0, std::chrono::milliseconds extra_delay = 0ms)
      : answer_(answer), extra_(extra), extra_delay_(extra_delay) {
    thread_ = std::thread([this] { run(); });
  }
  ~scripted_stun_server() {
    stop_ = true;
    thread_.join();
  }
  scripted_stun_server(const scripted_stun_server&) = delete;
  scripted_stun_server& operator=(const scripted_stun_server&) = delete;
  [[nodiscard]] udp::endpoint endpoint() const { return socket_.local_endpoint(); }

  static inline const auto nat_address = asio::ip::make_address("203.0.113.5");
  std::atomic<int> requests{0};

 private:
  void run() {
    socket_.non_blocking(true);
    std::array<std::byte, 1500> in{};
    struct pending {
      std::vector<std::byte> bytes;
      udp::endpoint to;
      std::chrono::steady_clock::time_point at;
    };
    std::vector<pending> later;
    while (!stop_) {
      udp::endpoint from;
      boost::system::error_code ec;
      const std::size_t n = socket_.receive_from(asio::buffer(in), from, 0, ec);
      const auto now = std::chrono::steady_clock::now();
      for (auto it = later.begin(); it != later.end();)
        if (it->at <= now) {
          socket_.send_to(asio::buffer(it->bytes), it->to, 0, ec);
          it = later.erase(it);
        } else {
          ++it;
        }
      if (n == 0) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      stun::message_view request;
      if (stun::message_view::parse(std::span(in).first(n), request) || request.klass() != stun::message_class::request)
        continue;
      ++requests;
      if (!answer_) continue;
      std::array<std::byte, 548> out{};
      stun::message_writer w(out, stun::method::binding, stun::message_class::success_response, request.transaction());
      w.add_xor_address(stun::attribute_type::xor_mapped_address,
                        udp::endpoint(nat_address, static_cast<std::uint16_t>(from.port() + 1000)));
      w.add_fingerprint();
      std::vector<std::byte> bytes(w.bytes().begin(), w.bytes().end());
      socket_.send_to(asio::buffer(bytes), from, 0, ec);
      for (int i = 0; i < extra_; ++i) later.push_back({bytes, from, now + extra_delay_});
    }
  }

  asio::io_context io_;
  udp::socket socket_{io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  bool answer_;
  int extra_;
  std::chrono::milliseconds extra_delay_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

mspi::stream_statistics render_stats(msp_side& s) { return s.call->render_stream()->statistics(); }

// The TSP asks `s` for an offer: its SDP, parsed.
mspi::session_description offer_of(msp_side& s) {
  s.send(mspi::channel_message_type::request_offer);
  auto offer = s.take(mspi::channel_message_type::local_offer);
  REQUIRE(offer);
  auto sd = mspi::parse_sdp(offer->body);
  REQUIRE(sd);
  return *sd;
}

}  // namespace

TEST_CASE("rtp_opus_msp::initialize checks the NAT settings", "[mspi][rtp_opus][nat]") {
  auto init = [](const mspi::rtp_opus_config& cfg) {
    mspi::rtp_opus_msp msp(cfg);
    std::error_code ec;
    msp.initialize(mspi::msp_context{.address_name = "t", .event_signal = [] {}}, ec);
    return ec;
  };
  auto cfg = stun_config({asio::ip::make_address("127.0.0.1"), 3478});
  CHECK_FALSE(init(cfg));
  cfg.stun_timeout = 5ms;
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
  cfg.stun_timeout = 20s;
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
  cfg = stun_config({asio::ip::make_address("127.0.0.1"), 0});
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
  cfg = stun_config({asio::ip::make_address("0.0.0.0"), 3478});
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
  cfg = {};
  cfg.public_address = "nat.example";
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
  cfg.public_address = "198.51.100.1";
  CHECK_FALSE(init(cfg));
  // TURN: needs ICE, a usable address and a username; relay-only needs TURN.
  cfg = {};
  cfg.turn_server = udp::endpoint(asio::ip::make_address("127.0.0.1"), 3478);
  cfg.turn_username = "u";
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
  cfg.ice = true;
  CHECK_FALSE(init(cfg));
  cfg.ice_relay_only = true;
  CHECK_FALSE(init(cfg));
  cfg.turn_username.clear();
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
  cfg.turn_username = "u";
  cfg.turn_server = udp::endpoint(asio::ip::make_address("0.0.0.0"), 3478);
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
  cfg.turn_server.reset();
  CHECK(init(cfg) == mspi::tapi_errc::invalid_argument);
}

TEST_CASE("rtp nat: the server-reflexive address from coturn is advertised and carries media", "[mspi][rtp_opus][nat]") {
  auto path = ptapi_test::find_turnserver();
  if (!path) {
    WARN("coturn not installed (Debian: coturn): server-reflexive gathering against a server skipped");
    return;
  }
  ptapi_test::coturn server(*path, coturn_port);
  REQUIRE(ptapi_test::udp_bound(coturn_port));
  // Bound on the wildcard address: without STUN the offer would say c=0.0.0.0; coturn sees 127.0.0.1.
  auto cfg = stun_config({asio::ip::make_address("127.0.0.1"), coturn_port});
  cfg.local_address = "0.0.0.0";
  msp_side a(cfg);
  mspi::rtp_opus_config plain;
  plain.rtcp_interval = 200ms;
  msp_side b(plain);
  auto [offer, answer] = ptapi_test::connect(a, b);
  auto sd = mspi::parse_sdp(offer);
  REQUIRE(sd);
  CHECK(sd->media[0].address == "127.0.0.1");
  const auto s = render_stats(a);
  INFO(s.stun_error);
  CHECK(s.server_reflexive);
  CHECK(s.stun_error.empty());
  CHECK(s.local_address == "127.0.0.1");
  CHECK(s.local_port == sd->media[0].port);
  CHECK(s.gathering_ms >= 0);
  CHECK(s.gathering_ms < 2000);
  // A second call finds coturn running (the first may reach it while it is still starting its threads).
  msp_side c(cfg);
  c.send(mspi::channel_message_type::request_offer);
  REQUIRE(c.take(mspi::channel_message_type::local_offer));
  const auto warm = render_stats(c);
  CHECK(warm.server_reflexive);
  std::printf("rtp nat: server-reflexive gathering (RTP + RTCP sockets) against coturn on 127.0.0.1: %.3f ms "
              "(coturn just started), %.3f ms (second call)\n", s.gathering_ms, warm.gathering_ms);
  // The peer sends to the advertised address and port: media flows both ways.
  CHECK(ptapi_test::eventually([&] { return a.received_packets() >= 10 && b.received_packets() >= 10; }));
  CHECK(render_stats(a).malformed == 0);
  // B has no STUN server: it reports none.
  CHECK_FALSE(render_stats(b).server_reflexive);
  CHECK(render_stats(b).gathering_ms == -1);
}

TEST_CASE("rtp nat: the NAT's mapping is advertised for RTP and RTCP, late STUN answers are not read as RTP",
          "[mspi][rtp_opus][nat]") {
  scripted_stun_server server(true, 1, 600ms);
  msp_side a(stun_config(server.endpoint()));
  ptapi_test::raw_peer peer;
  const auto sd = offer_of(a);
  CHECK(sd.connection_address == "203.0.113.5");
  CHECK(sd.media[0].address == "203.0.113.5");
  const auto s = render_stats(a);
  CHECK(s.server_reflexive);
  CHECK(s.local_address == "203.0.113.5");
  CHECK(s.local_port == sd.media[0].port);
  // One Binding per socket: RTP and RTCP ports are each the socket's own mapping.
  CHECK(server.requests >= 2);
  CHECK(sd.media[0].rtcp_port != 0);
  CHECK(sd.media[0].rtcp_port != sd.media[0].port);
  // Media starts towards the raw peer; the server's late duplicate answers reach both media sockets.
  a.send(mspi::channel_message_type::remote_answer, peer.offer("111", "a=rtpmap:111 opus/48000/2\r\n"));
  a.send(mspi::channel_message_type::start_media);
  CHECK(ptapi_test::eventually([&] { return render_stats(a).stun_dropped >= 2; }));
  const auto after = render_stats(a);
  CHECK(after.malformed == 0);
  CHECK(after.rejected_source == 0);
  CHECK(after.packets == 0);
}

TEST_CASE("rtp nat: a silent STUN server delays the offer by the bound, then the host address is advertised",
          "[mspi][rtp_opus][nat]") {
  scripted_stun_server server(false);
  msp_side a(stun_config(server.endpoint(), 150ms));
  const auto start = std::chrono::steady_clock::now();
  a.send(mspi::channel_message_type::request_offer);
  const auto waited = std::chrono::steady_clock::now() - start;
  auto offer = a.take(mspi::channel_message_type::local_offer);
  REQUIRE(offer);
  auto sd = mspi::parse_sdp(offer->body);
  REQUIRE(sd);
  CHECK(sd->media[0].address == "127.0.0.1");
  CHECK(waited < 1s);  // the bound plus the margin, not the STUN client's 39.5 s
  const auto s = render_stats(a);
  CHECK_FALSE(s.server_reflexive);
  CHECK(s.stun_error == std::error_code(stun::stun_errc::timeout).message());
  CHECK(s.local_address == "127.0.0.1");
  CHECK(s.local_port == sd->media[0].port);
  CHECK(server.requests >= 2);  // retransmitted within the bound (first RTO: 50 ms)
  // A later offer says the same.
  a.send(mspi::channel_message_type::request_offer);
  auto reoffer = a.take(mspi::channel_message_type::local_offer);
  REQUIRE(reoffer);
  CHECK(mspi::parse_sdp(reoffer->body)->media[0].port == sd->media[0].port);
}

TEST_CASE("rtp nat: a configured public address wins over STUN, which is then not used", "[mspi][rtp_opus][nat]") {
  scripted_stun_server server(true);
  auto cfg = stun_config(server.endpoint());
  cfg.public_address = "198.51.100.20";
  msp_side a(cfg);
  const auto sd = offer_of(a);
  CHECK(sd.media[0].address == "198.51.100.20");
  const auto s = render_stats(a);
  CHECK_FALSE(s.server_reflexive);
  CHECK(s.local_address == "198.51.100.20");
  CHECK(s.gathering_ms == -1);
  CHECK(server.requests == 0);
}

// ---- ICE (RFC 8445, RFC 8839) ----

namespace {

mspi::rtp_opus_config ice_config() {
  mspi::rtp_opus_config cfg;
  cfg.local_address = "127.0.0.1";
  cfg.ice = true;
  cfg.ice_ta = 10ms;  // loopback: fast pacing and retransmission keep the test short
  cfg.ice_rto = 100ms;
  cfg.rtcp_interval = 200ms;
  return cfg;
}

mspi::stream_statistics capture_stats(msp_side& s) { return s.call->capture_stream()->statistics(); }

// Connects `a` (offerer) and `b` (answerer): their offer and answer, parsed (the texts are logged with the
// next assertion).
std::pair<mspi::session_description, mspi::session_description> connect_parsed(msp_side& a, msp_side& b) {
  auto [offer, answer] = ptapi_test::connect(a, b);
  UNSCOPED_INFO(offer);
  UNSCOPED_INFO(answer);
  auto o = mspi::parse_sdp(offer);
  auto an = mspi::parse_sdp(answer);
  REQUIRE(o);
  REQUIRE(an);
  return {*o, *an};
}

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span<const char>(s.data(), s.size())); }

// The STUN messages the raw peer receives within `duration` (RTP and RTCP skipped).
std::vector<std::vector<std::byte>> stun_received(ptapi_test::raw_peer& peer, std::chrono::milliseconds duration) {
  std::vector<std::vector<std::byte>> got;
  peer.socket.non_blocking(true);
  std::array<std::byte, 1500> buf{};
  for (auto end = std::chrono::steady_clock::now() + duration; std::chrono::steady_clock::now() < end;) {
    boost::system::error_code ec;
    udp::endpoint from;
    const std::size_t n = peer.socket.receive_from(asio::buffer(buf), from, 0, ec);
    if (ec) {
      std::this_thread::sleep_for(1ms);
      continue;
    }
    if (n > 0 && mspi::ice::classify(std::to_integer<std::uint8_t>(buf[0])) == mspi::ice::datagram_kind::stun)
      got.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return got;
}

}  // namespace

TEST_CASE("ice: two endpoints negotiate ICE, select the host pair and carry media and RTCP over it",
          "[mspi][rtp_opus][nat][ice]") {
  auto cfg_a = ice_config();
  cfg_a.public_address = "192.0.2.1";  // A's c= is unreachable (TEST-NET-1): only ICE finds its host candidate
  msp_side a(cfg_a);
  msp_side b(ice_config());
  const auto [o, an] = connect_parsed(a, b);
  for (const auto* m : {&o.media[0], &an.media[0]}) {
    CHECK(mspi::ice::valid({m->ice_ufrag, m->ice_pwd}));
    CHECK(m->rtcp_mux);
    REQUIRE(m->candidates.size() == 1);
    CHECK(m->candidates[0].type == mspi::ice::candidate_type::host);
    CHECK(m->candidates[0].address.address().to_string() == "127.0.0.1");
  }
  CHECK(o.media[0].address == "192.0.2.1");
  CHECK(o.media[0].ice_ufrag != an.media[0].ice_ufrag);
  REQUIRE(ptapi_test::eventually([&] {
    return render_stats(a).ice_state == "connected" && render_stats(b).ice_state == "connected";
  }));
  // B sends to A's host candidate, not to the c= address.
  const auto sb = render_stats(b);
  CHECK(sb.remote_address == "127.0.0.1");
  CHECK(sb.remote_port == o.media[0].candidates[0].address.port());
  CHECK(render_stats(a).remote_port == an.media[0].candidates[0].address.port());
  CHECK(ptapi_test::eventually([&] { return a.received_packets() >= 20 && b.received_packets() >= 20; }));
  // RTCP is multiplexed on the RTP port (RFC 5761): reports arrive, so the round trip is known.
  CHECK(ptapi_test::eventually([&] { return capture_stats(a).round_trip_ms >= 0 && capture_stats(b).round_trip_ms >= 0; }));
  CHECK(render_stats(a).ice_checks_answered >= 1);
  CHECK(render_stats(b).ice_checks_answered >= 1);
  CHECK(render_stats(a).malformed == 0);
  std::printf("ice: time to the selected pair on loopback (Ta 10 ms, RTO 100 ms): offerer %.3f ms, answerer %.3f ms\n",
              render_stats(a).ice_connect_ms, render_stats(b).ice_connect_ms);
}

TEST_CASE("ice: an endpoint with ICE and one without talk plain RTP", "[mspi][rtp_opus][nat][ice]") {
  msp_side a(ice_config());
  mspi::rtp_opus_config plain;
  plain.rtcp_interval = 200ms;
  msp_side b(plain);
  SECTION("the ICE side offers") {
    auto [offer, answer] = ptapi_test::connect(a, b);
    CHECK(offer.find("a=ice-ufrag:") != std::string::npos);
    CHECK(answer.find("a=ice-") == std::string::npos);
    CHECK(answer.find("a=candidate") == std::string::npos);
  }
  SECTION("the plain side offers") {
    auto [offer, answer] = ptapi_test::connect(b, a);
    CHECK(offer.find("a=ice-") == std::string::npos);
    CHECK(answer.find("a=ice-") == std::string::npos);
    CHECK(answer.find("a=rtcp-mux") == std::string::npos);
  }
  CHECK(ptapi_test::eventually([&] { return a.received_packets() >= 10 && b.received_packets() >= 10; }));
  CHECK(render_stats(a).ice_state.empty());
  CHECK(ptapi_test::eventually([&] { return capture_stats(a).round_trip_ms >= 0; }));
}

TEST_CASE("ice: checks are answered only with the right credentials and role conflicts get 487",
          "[mspi][rtp_opus][nat][ice]") {
  msp_side a(ice_config());
  ptapi_test::raw_peer peer;
  const auto o = offer_of(a);
  const std::string a_ufrag = o.media[0].ice_ufrag, a_pwd = o.media[0].ice_pwd;
  const std::string peer_ufrag = "rawpeer1", peer_pwd = "0123456789abcdefghijklmnop";
  const udp::endpoint a_rtp(asio::ip::make_address("127.0.0.1"), o.media[0].port);
  peer.target = a_rtp;
  const std::string ice_lines = "a=rtpmap:111 opus/48000/2\r\na=ice-ufrag:" + peer_ufrag + "\r\na=ice-pwd:" + peer_pwd +
                                "\r\na=candidate:1 1 UDP 2130706431 127.0.0.1 " + std::to_string(peer.port()) +
                                " typ host\r\na=rtcp-mux\r\n";
  a.send(mspi::channel_message_type::remote_answer, peer.offer("111", ice_lines));
  a.send(mspi::channel_message_type::start_media);

  // A (the offerer, controlling) checks the peer: USERNAME "peer:a", ICE-CONTROLLING, PRIORITY, and
  // MESSAGE-INTEGRITY under the peer's password.
  auto checks = stun_received(peer, 300ms);
  REQUIRE_FALSE(checks.empty());
  stun::message_view check;
  REQUIRE_FALSE(stun::message_view::parse(checks[0], check));
  CHECK(check.klass() == stun::message_class::request);
  CHECK_FALSE(stun::check_fingerprint(check));
  CHECK_FALSE(stun::check_integrity(check, bytes_of(peer_pwd)));
  const auto* user = check.find(stun::attribute_type::username);
  REQUIRE(user);
  CHECK(std::string_view(reinterpret_cast<const char*>(user->value.data()), user->value.size()) == peer_ufrag + ":" + a_ufrag);
  CHECK(check.find(stun::attribute_type::ice_controlling));
  CHECK(check.find(stun::attribute_type::priority));

  // Requests from the peer: `user`, MESSAGE-INTEGRITY with `key`, optional ICE-CONTROLLING tie-breaker.
  auto request = [&](const std::string& username, const std::string& key, std::optional<std::uint64_t> controlling) {
    stun::transaction_id id{};
    mspi::detail::random_bytes(id);
    std::array<std::byte, 548> out{};
    stun::message_writer w(out, stun::method::binding, stun::message_class::request, id);
    w.add(stun::attribute_type::username, std::string_view(username));
    w.add_u32(stun::attribute_type::priority, 1862270975U);
    if (controlling) w.add_u64(stun::attribute_type::ice_controlling, *controlling);
    else w.add_u64(stun::attribute_type::ice_controlled, 1);
    w.add_message_integrity(bytes_of(key));
    w.add_fingerprint();
    REQUIRE_FALSE(w.error());
    peer.socket.send_to(asio::buffer(w.bytes().data(), w.bytes().size()), a_rtp);
    return id;
  };
  auto answers_to = [&](const stun::transaction_id& id) {
    std::vector<std::vector<std::byte>> found;
    for (auto& m : stun_received(peer, 300ms)) {
      stun::message_view v;
      if (!stun::message_view::parse(m, v) && v.transaction() == id) found.push_back(m);
    }
    return found;
  };
  const auto dropped_before = render_stats(a).stun_dropped;
  CHECK(answers_to(request(a_ufrag + ":" + peer_ufrag, "wrong-password-0123456789", std::nullopt)).empty());
  CHECK(answers_to(request("nobody00:" + peer_ufrag, a_pwd, std::nullopt)).empty());
  CHECK(answers_to(request(a_ufrag, a_pwd, std::nullopt)).empty());  // no ":" after our ufrag
  // Malformed STUN and a message too short for a header: dropped, no crash.
  const std::array<std::byte, 8> stub{std::byte{0}, std::byte{1}, std::byte{0}, std::byte{40}};
  peer.socket.send_to(asio::buffer(stub), a_rtp);
  auto truncated = std::vector<std::byte>(checks[0].begin(), checks[0].end() - 4);
  peer.socket.send_to(asio::buffer(truncated), a_rtp);
  CHECK(ptapi_test::eventually([&] { return render_stats(a).stun_dropped >= dropped_before + 5; }));
  CHECK(render_stats(a).ice_checks_answered == 0);
  CHECK(render_stats(a).malformed == 0);

  // The right credentials: a success response, XOR-MAPPED-ADDRESS = the peer's address, under A's password.
  auto ok = answers_to(request(a_ufrag + ":" + peer_ufrag, a_pwd, std::nullopt));
  REQUIRE(ok.size() == 1);
  stun::message_view response;
  REQUIRE_FALSE(stun::message_view::parse(ok[0], response));
  CHECK(response.klass() == stun::message_class::success_response);
  CHECK_FALSE(stun::check_fingerprint(response));
  CHECK_FALSE(stun::check_integrity(response, bytes_of(a_pwd)));
  udp::endpoint mapped;
  REQUIRE_FALSE(stun::mapped_address(response, mapped));
  CHECK(mapped == peer.socket.local_endpoint());
  CHECK(render_stats(a).ice_checks_answered == 1);

  // Role conflict: A controls; a peer that also controls with a lower tie-breaker gets 487 (RFC 8445 §7.3.1.1).
  auto conflict = answers_to(request(a_ufrag + ":" + peer_ufrag, a_pwd, std::uint64_t{0}));
  REQUIRE(conflict.size() == 1);
  stun::message_view error;
  REQUIRE_FALSE(stun::message_view::parse(conflict[0], error));
  CHECK(error.klass() == stun::message_class::error_response);
  CHECK(stun::error_code_of(error).code == 487);
  CHECK_FALSE(stun::check_integrity(error, bytes_of(a_pwd)));
}

namespace {

// One ICE agent on its own UDP socket on 127.0.0.1, reading the socket and handing STUN to the agent.
struct agent_on_socket {
  agent_on_socket(asio::io_context& io, bool controlling, mspi::ice::agent_timing timing)
      : socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), creds(mspi::ice::make_credentials()),
        controlling(controlling) {
    agent = std::make_shared<mspi::ice::agent>(
        io.get_executor(), creds, mspi::detail::random_value<std::uint64_t>(),
        mspi::ice::candidate_priority(mspi::ice::candidate_type::host, 65535, 1), timing,
        [this](std::span<const std::byte> b, const udp::endpoint& to) {
          boost::system::error_code ignored;
          socket.send_to(asio::buffer(b.data(), b.size()), to, 0, ignored);
        },
        [] {});
    receive();
  }
  void receive() {
    socket.async_receive_from(asio::buffer(buffer), from, [this](boost::system::error_code ec, std::size_t n) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec && reading) agent->handle(std::span(buffer).first(n), from);
      receive();
    });
  }
  void start(const agent_on_socket& peer) {
    mspi::ice::candidate c{"1", 1, mspi::ice::candidate_priority(mspi::ice::candidate_type::host, 65535, 1),
                           peer.socket.local_endpoint(), mspi::ice::candidate_type::host, {}};
    agent->start(peer.creds, std::span(&c, 1), controlling, true);
  }
  udp::socket socket;
  mspi::ice::credentials creds;
  bool controlling, reading = true;
  std::shared_ptr<mspi::ice::agent> agent;
  std::array<std::byte, 1500> buffer{};
  udp::endpoint from;
};

template <class F>
bool run_until(asio::io_context& io, F done, std::chrono::milliseconds limit) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end && !done();)
    io.run_for(5ms);
  return done();
}

}  // namespace

TEST_CASE("ice: consent freshness keeps the selected pair while the peer answers, and ends it when it stops",
          "[nat][ice]") {
  asio::io_context io;
  mspi::ice::agent_timing timing;
  timing.ta = 5ms;
  timing.rto = 50ms;
  timing.consent_interval = 50ms;
  timing.consent_timeout = 300ms;
  agent_on_socket a(io, true, timing), b(io, false, timing);
  a.start(b);
  b.start(a);
  REQUIRE(run_until(io, [&] {
    return a.agent->state() == mspi::ice::agent_state::connected && b.agent->state() == mspi::ice::agent_state::connected;
  }, 3s));
  CHECK(a.agent->selected() == b.socket.local_endpoint());
  CHECK(b.agent->selected() == a.socket.local_endpoint());
  // Two consent timeouts pass with the peer answering: consent is refreshed, the pair stays.
  const auto answered = b.agent->checks_answered();
  run_until(io, [] { return false; }, 700ms);
  CHECK(a.agent->state() == mspi::ice::agent_state::connected);
  CHECK_FALSE(a.agent->consent_lost());
  CHECK(b.agent->checks_answered() >= answered + 5);  // about one per consent_interval
  // The peer goes silent: consent is lost after consent_timeout (RFC 7675 §5.1).
  b.reading = false;
  const auto silent = std::chrono::steady_clock::now();
  CHECK(run_until(io, [&] { return a.agent->consent_lost(); }, 2s));
  CHECK(a.agent->state() == mspi::ice::agent_state::failed);
  const auto lost_after = std::chrono::steady_clock::now() - silent;
  CHECK(lost_after >= 200ms);  // the last answer was at most 1.2 intervals before
  a.agent->stop();
  b.agent->stop();
}

// ---- TURN relayed candidates (RFC 8656, RFC 8445 §5.1.1.2) ----
// Against coturn on 127.0.0.1:7750 (relay ports 7751-7759) and 7760 (relay ports 7761-7769); this
// section's range: 7750-7769.

namespace {

// coturn as a TURN server (user u, password p) on 127.0.0.1:`port`, relay ports `port`+1..`port`+9; null,
// with a warning, when coturn is not installed.
std::unique_ptr<ptapi_test::coturn> start_turn_server(std::uint16_t port) {
  auto path = ptapi_test::find_turnserver();
  if (!path) {
    WARN("coturn not installed (Debian: coturn): ICE over TURN skipped");
    return nullptr;
  }
  auto server = std::make_unique<ptapi_test::coturn>(*path, port, ptapi_test::coturn::turn_user(), 9);
  REQUIRE(ptapi_test::udp_bound(port));
  return server;
}

// ICE with a relayed candidate from the TURN server on 127.0.0.1:`port`.
mspi::rtp_opus_config turn_config(std::uint16_t port) {
  auto cfg = ice_config();
  cfg.turn_server = udp::endpoint(asio::ip::make_address("127.0.0.1"), port);
  cfg.turn_username = "u";
  cfg.turn_password = "p";
  cfg.stun_timeout = 3000ms;  // coturn may still be starting its threads
  return cfg;
}

}  // namespace

TEST_CASE("ice over TURN: two relay-only endpoints select the relay pair through coturn and carry media both ways",
          "[mspi][rtp_opus][nat][ice][turn]") {
  constexpr std::uint16_t turn_port = 7750;
  const auto server = start_turn_server(turn_port);
  if (!server) return;
  auto cfg = turn_config(turn_port);
  cfg.ice_relay_only = true;
  msp_side a(cfg);
  msp_side b(cfg);
  const auto [o, an] = connect_parsed(a, b);
  for (auto* s : {&a, &b}) {
    const auto st = render_stats(*s);
    INFO(st.turn_error);
    CHECK(st.turn_error.empty());
    CHECK(st.relayed_address == "127.0.0.1");
    CHECK(st.relayed_port >= turn_port + 1);
    CHECK(st.relayed_port <= turn_port + 9);
  }
  // Only the relayed candidate is offered, and it is the default candidate (c=, m=).
  for (const auto* m : {&o.media[0], &an.media[0]}) {
    REQUIRE(m->candidates.size() == 1);
    CHECK(m->candidates[0].type == mspi::ice::candidate_type::relayed);
    CHECK(m->candidates[0].priority == mspi::ice::candidate_priority(mspi::ice::candidate_type::relayed, 65535, 1));
    CHECK(m->candidates[0].related.has_value());
    CHECK(m->port == m->candidates[0].address.port());
  }
  CHECK(o.media[0].candidates[0].address.port() == render_stats(a).relayed_port);
  REQUIRE(ptapi_test::eventually([&] {
    return render_stats(a).ice_state == "connected" && render_stats(b).ice_state == "connected";
  }));
  // The selected pair is relay <-> relay: each side's local candidate is its relayed one and its remote one
  // the peer's relayed address.
  CHECK(render_stats(a).ice_relayed);
  CHECK(render_stats(b).ice_relayed);
  CHECK(render_stats(a).remote_port == an.media[0].candidates[0].address.port());
  CHECK(render_stats(b).remote_port == o.media[0].candidates[0].address.port());
  const auto before_a = a.received_packets(), before_b = b.received_packets();
  CHECK(ptapi_test::eventually([&] { return a.received_packets() >= before_a + 20 && b.received_packets() >= before_b + 20; }));
  // coturn relayed it: every datagram each side received came through its allocation (ChannelData or Data
  // indications), and what it sent left through it.
  const auto ra = render_stats(a), rb = render_stats(b);
  CHECK(ra.relayed_datagrams >= ra.packets);
  CHECK(rb.relayed_datagrams >= rb.packets);
  CHECK(capture_stats(a).relayed_datagrams >= capture_stats(a).packets);
  CHECK(capture_stats(b).relayed_datagrams >= capture_stats(b).packets);
  CHECK(ra.malformed == 0);
  CHECK(ra.rejected_source == 0);
  // A channel was bound to the selected pair: media goes as ChannelData (RFC 8656 §12).
  CHECK(ptapi_test::eventually([&] {
    return capture_stats(a).relayed_channel_data >= 10 && capture_stats(b).relayed_channel_data >= 10;
  }));
  std::printf("ice over TURN: time to the selected relay pair on loopback through coturn (Ta 10 ms, RTO 100 ms): "
              "offerer %.3f ms, answerer %.3f ms; allocation (first offer) %.3f ms\n",
              ra.ice_connect_ms, rb.ice_connect_ms, ra.gathering_ms);
}

TEST_CASE("ice over TURN: with host and relayed candidates the host pair wins and the relayed one is offered",
          "[mspi][rtp_opus][nat][ice][turn]") {
  const auto server = start_turn_server(7760);
  if (!server) return;
  const auto cfg = turn_config(7760);
  msp_side a(cfg);
  msp_side b(cfg);
  const auto [o, an] = connect_parsed(a, b);
  // Host first (type preference 126), then relay (0, RFC 8445 §5.1.2.2); the Allocate's mapped address is
  // the host one on loopback, so no server-reflexive candidate.
  for (const auto* m : {&o.media[0], &an.media[0]}) {
    REQUIRE(m->candidates.size() == 2);
    CHECK(m->candidates[0].type == mspi::ice::candidate_type::host);
    CHECK(m->candidates[1].type == mspi::ice::candidate_type::relayed);
    CHECK(m->candidates[0].priority > m->candidates[1].priority);
  }
  REQUIRE(ptapi_test::eventually([&] {
    return render_stats(a).ice_state == "connected" && render_stats(b).ice_state == "connected";
  }));
  CHECK_FALSE(render_stats(a).ice_relayed);
  CHECK_FALSE(render_stats(b).ice_relayed);
  CHECK(render_stats(a).remote_port == an.media[0].candidates[0].address.port());
  CHECK(ptapi_test::eventually([&] { return a.received_packets() >= 20 && b.received_packets() >= 20; }));
  CHECK(capture_stats(a).relayed_channel_data == 0);
  CHECK(render_stats(a).malformed == 0);
}
