// SIP transport layer (RFC 3261 §18): UDP, TCP and TLS on loopback, framing, connection reuse, errors.
#include <tspi/sip/transport.hpp>

#include "support/sip_raw_peer.hpp"
#include "support/tls_certificates.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <openssl/ssl.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <system_error>

using namespace ptapi_test;
namespace sip = tspi::sip;
using sip::transport_protocol;

namespace {
const auto loopback = asio::ip::make_address("127.0.0.1");

sip::message options(std::string_view branch, std::string_view call_id = "c1") {
  auto m = sip::parse_message(sip_request("OPTIONS", branch, call_id, 1));
  REQUIRE(m);
  return *m;
}

// A transport listening on 127.0.0.1 (both protocols), recording what arrives and what fails.
struct recording_transport {
  explicit recording_transport(asio::io_context& io, sip::transport_config cfg = {}) : t(io.get_executor(), cfg) {
    std::error_code ec;
    t.listen(transport_protocol::udp, loopback, 0, ec);
    REQUIRE_FALSE(ec);
    t.listen(transport_protocol::tcp, loopback, 0, ec);
    REQUIRE_FALSE(ec);
    t.on_message = [this](sip::message&& m, const sip::peer& from) { got.emplace_back(std::move(m), from); };
    t.on_error = [this](const sip::peer& to, std::error_code ec2) { errors.emplace_back(to, ec2); };
  }
  sip::peer udp() const { return *t.local(transport_protocol::udp); }
  sip::peer tcp() const { return *t.local(transport_protocol::tcp); }
  asio::ip::tcp::endpoint tcp_endpoint() const { return {loopback, tcp().port}; }
  asio::ip::udp::endpoint udp_endpoint() const { return {loopback, udp().port}; }

  sip::transport t;
  std::vector<std::pair<sip::message, sip::peer>> got;
  std::vector<std::pair<sip::peer, std::error_code>> errors;
};

// A closed port: bind, read the port, close.
std::uint16_t unused_tcp_port(asio::io_context& io) {
  asio::ip::tcp::acceptor a(io, {loopback, 0});
  return a.local_endpoint().port();
}
}  // namespace

TEST_CASE("transport: UDP and TCP listen on ephemeral ports and report them", "[sip][transport]") {
  asio::io_context io;
  sip::transport t(io.get_executor());
  CHECK_FALSE(t.local(transport_protocol::udp));
  CHECK_FALSE(t.local(transport_protocol::tcp));
  std::error_code ec;
  t.listen(transport_protocol::udp, loopback, 0, ec);
  REQUIRE_FALSE(ec);
  t.listen(transport_protocol::tcp, loopback, 0, ec);
  REQUIRE_FALSE(ec);
  auto u = t.local(transport_protocol::udp);
  auto p = t.local(transport_protocol::tcp);
  REQUIRE(u);
  REQUIRE(p);
  CHECK(u->protocol == transport_protocol::udp);
  CHECK(p->protocol == transport_protocol::tcp);
  CHECK(u->address == loopback);
  CHECK(u->port != 0);
  CHECK(p->port != 0);
  CHECK(u->to_string() == "udp:127.0.0.1:" + std::to_string(u->port));

  t.listen(transport_protocol::udp, loopback, 0, ec);  // a second UDP socket is refused
  CHECK(ec == std::errc::already_connected);

  sip::transport other(io.get_executor());
  other.listen(transport_protocol::udp, loopback, u->port, ec);  // port in use
  CHECK(ec);
  CHECK_FALSE(other.local(transport_protocol::udp));

  t.close();
  CHECK_FALSE(t.local(transport_protocol::udp));
  t.listen(transport_protocol::udp, loopback, 0, ec);
  CHECK(ec);
}

TEST_CASE("transport: a UDP message arrives parsed with its source, and malformed datagrams are dropped", "[sip][transport]") {
  asio::io_context io;
  recording_transport a(io), b(io);
  a.t.send(b.udp(), options("z9hG4bKudp1"));
  REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
  CHECK(b.got[0].first.method == "OPTIONS");
  CHECK(b.got[0].first.header("Via") == "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKudp1;rport");
  CHECK(b.got[0].second == a.udp());
  CHECK(a.t.stats().sent == 1);
  CHECK(b.t.stats().received == 1);

  raw_udp_peer raw(io);
  raw.send("this is not SIP\r\n\r\n", b.udp_endpoint());
  raw.send("INVITE sip:x SIP/2.0\r\nVia SIP/2.0/UDP 1.2.3.4\r\n\r\n", b.udp_endpoint());  // header without ':'
  raw.send(std::string(70000 > 65000 ? 1400 : 0, 'x'), b.udp_endpoint());
  raw.send("\r\n\r\n", b.udp_endpoint());  // keep-alive: ignored, not malformed
  raw.send(sip_request("OPTIONS", "z9hG4bKraw", "c2", 1, opts().port(raw.port())), b.udp_endpoint());
  REQUIRE(run_until(io, [&] { return b.got.size() == 2; }));
  CHECK(b.got[1].second.port == raw.port());
  CHECK(b.got[1].second.address == loopback);
  CHECK(b.t.stats().malformed_dropped == 3);
  CHECK(b.t.stats().keepalives == 1);
  CHECK(b.t.stats().received == 2);
}

TEST_CASE("transport: a datagram above parse_limits::max_message_bytes is dropped", "[sip][transport]") {
  asio::io_context io;
  sip::transport_config cfg;
  cfg.limits.max_message_bytes = 600;
  recording_transport b(io, cfg);
  raw_udp_peer raw(io);
  raw.send(sip_request("MESSAGE", "z9hG4bKbig", "c", 1, opts().port(raw.port()).body(std::string(700, 'a'))), b.udp_endpoint());
  raw.send(sip_request("MESSAGE", "z9hG4bKsmall", "c", 2, opts().port(raw.port()).body("hi")), b.udp_endpoint());
  REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
  CHECK(b.got[0].first.body == "hi");
  CHECK(b.t.stats().malformed_dropped == 1);
}

TEST_CASE("transport: TCP frames a message split across writes and messages pipelined in one write", "[sip][transport][tcp]") {
  asio::io_context io;
  recording_transport b(io);
  auto raw = raw_tcp_stream::connect(io, b.tcp_endpoint());
  const auto m1 = sip_request("MESSAGE", "z9hG4bKs1", "c", 1, opts().proto("TCP").body("first body"));
  const auto m2 = sip_request("MESSAGE", "z9hG4bKs2", "c", 2, opts().proto("TCP").body("second"));
  const auto m3 = sip_request("MESSAGE", "z9hG4bKs3", "c", 3, opts().proto("TCP"));

  // Split inside the header, then inside the body.
  raw->write(m1.substr(0, 30));
  run_for(io, 30ms);
  CHECK(b.got.empty());
  raw->write(m1.substr(30, m1.size() - 34));
  run_for(io, 30ms);
  CHECK(b.got.empty());
  raw->write(m1.substr(m1.size() - 4));
  REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
  CHECK(b.got[0].first.body == "first body");

  // Two and a half messages in one write, then the rest (with a CRLF keep-alive between messages).
  raw->write(m2 + "\r\n" + m3 + m1.substr(0, 50));
  REQUIRE(run_until(io, [&] { return b.got.size() == 3; }));
  CHECK(b.got[1].first.body == "second");
  CHECK(b.got[2].first.header("Via") == "SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKs3;rport");
  raw->write(m1.substr(50));
  REQUIRE(run_until(io, [&] { return b.got.size() == 4; }));
  CHECK(b.got[3].first.body == "first body");

  const sip::peer from{transport_protocol::tcp, loopback, raw->local_endpoint().port()};
  for (const auto& g : b.got) CHECK(g.second == from);
  CHECK(b.t.stats().tcp_accepted == 1);
  CHECK(b.t.stats().tcp_connections == 1);
  CHECK(b.t.stats().malformed_dropped == 0);

  // The response goes back over the same connection.
  CHECK(b.t.has_connection(from));
  b.t.send(from, sip::parse_message("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKs1\r\nCSeq: 1 MESSAGE\r\n\r\n").value());
  REQUIRE(run_until(io, [&] { return raw->inbox().size() == 1; }));
  REQUIRE(raw->inbox()[0].msg);
  CHECK(raw->inbox()[0].msg->status == 200);
  CHECK(b.t.stats().tcp_connections == 1);
}

TEST_CASE("transport: a TCP stream that cannot be framed closes the connection", "[sip][transport][tcp]") {
  asio::io_context io;
  recording_transport b(io);
  SECTION("no Content-Length") {
    auto raw = raw_tcp_stream::connect(io, b.tcp_endpoint());
    raw->write("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKx\r\n\r\n");
    REQUIRE(run_until(io, [&] { return raw->eof(); }));
  }
  SECTION("a header larger than max_message_bytes") {
    auto raw = raw_tcp_stream::connect(io, b.tcp_endpoint());
    raw->write("OPTIONS sip:x SIP/2.0\r\nX-Junk: " + std::string(70000, 'a'));
    REQUIRE(run_until(io, [&] { return raw->eof(); }));
  }
  CHECK(b.got.empty());
  CHECK(b.t.stats().malformed_dropped == 1);
  REQUIRE(run_until(io, [&] { return b.t.stats().tcp_connections == 0; }));
}

TEST_CASE("transport: a framed but malformed TCP message is dropped and the connection stays", "[sip][transport][tcp]") {
  asio::io_context io;
  recording_transport b(io);
  auto raw = raw_tcp_stream::connect(io, b.tcp_endpoint());
  raw->write("BAD LINE\r\nContent-Length: 0\r\n\r\n" + sip_request("OPTIONS", "z9hG4bKok", "c", 1, opts().proto("TCP")));
  REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
  CHECK(b.t.stats().malformed_dropped == 1);
  run_for(io, 20ms);
  CHECK_FALSE(raw->eof());
}

TEST_CASE("transport: a double-CRLF keep-alive on TCP gets a CRLF pong", "[sip][transport][tcp]") {
  asio::io_context io;
  recording_transport b(io);
  auto raw = raw_tcp_stream::connect(io, b.tcp_endpoint());
  raw->write("\r\n\r\n");
  REQUIRE(run_until(io, [&] { return raw->pending() == "\r\n"; }));
  CHECK(b.t.stats().keepalives == 1);
  CHECK(b.t.stats().malformed_dropped == 0);
  CHECK(b.t.stats().sent == 0);
}

TEST_CASE("transport: our double-CRLF ping over TCP gets the peer's pong, reported by on_pong", "[sip][transport][tcp]") {
  // RFC 5626 §4.4.1 from the client side: a's ping opens the connection, b answers it, a sees the pong.
  asio::io_context io;
  recording_transport a(io), b(io);
  std::vector<sip::peer> pongs;
  a.t.on_pong = [&](const sip::peer& from) { pongs.push_back(from); };
  a.t.send_text(b.tcp(), std::string("\r\n\r\n"));
  REQUIRE(run_until(io, [&] { return pongs.size() == 1; }));
  CHECK(pongs[0] == b.tcp());
  CHECK(a.t.stats().pongs == 1);
  CHECK(b.t.stats().keepalives == 1);
  CHECK(b.t.stats().pongs == 0);  // the ping itself is no pong
  CHECK(a.t.stats().malformed_dropped == 0);
  CHECK(a.got.empty());
}

TEST_CASE("transport: TCP send connects once, queues while connecting, and the reply reuses the connection", "[sip][transport][tcp]") {
  asio::io_context io;
  recording_transport a(io), b(io);
  a.t.send(b.tcp(), options("z9hG4bKt1"));
  a.t.send(b.tcp(), options("z9hG4bKt2"));
  CHECK(a.t.has_connection(b.tcp()));
  REQUIRE(run_until(io, [&] { return b.got.size() == 2; }));
  CHECK(b.got[0].first.header("Via")->find("z9hG4bKt1") != std::string_view::npos);
  CHECK(b.got[1].first.header("Via")->find("z9hG4bKt2") != std::string_view::npos);
  const auto from = b.got[0].second;
  CHECK(from.protocol == transport_protocol::tcp);
  CHECK(from.port != a.tcp().port);  // the connection's ephemeral port, not the listener's

  b.t.send(from, sip::parse_message("SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n").value());
  REQUIRE(run_until(io, [&] { return a.got.size() == 1; }));
  CHECK(a.got[0].second == b.tcp());  // arrives on a's connection to b's listener
  a.t.send(b.tcp(), options("z9hG4bKt3"));
  REQUIRE(run_until(io, [&] { return b.got.size() == 3; }));
  CHECK(b.got[2].second == from);
  CHECK(a.t.stats().tcp_connected == 1);
  CHECK(b.t.stats().tcp_accepted == 1);
  CHECK(a.t.stats().sent == 3);
  CHECK(a.errors.empty());
  CHECK(b.errors.empty());
}

TEST_CASE("transport: a TCP connect failure goes to on_error, later, with the destination", "[sip][transport][tcp]") {
  asio::io_context io;
  recording_transport a(io);
  const sip::peer nobody{transport_protocol::tcp, loopback, unused_tcp_port(io)};
  a.t.send(nobody, options("z9hG4bKrefused"));
  a.t.send(nobody, options("z9hG4bKrefused2"));
  CHECK(a.errors.empty());  // never from inside send
  REQUIRE(run_until(io, [&] { return !a.errors.empty(); }));
  run_for(io, 20ms);
  REQUIRE(a.errors.size() == 1);  // one report per failed connection
  CHECK(a.errors[0].first == nobody);
  CHECK(a.errors[0].second == std::errc::connection_refused);
  CHECK_FALSE(a.t.has_connection(nobody));
  CHECK(a.t.stats().tcp_connections == 0);
  CHECK(a.t.stats().send_errors == 1);
}

TEST_CASE("transport: a TCP connection whose queue exceeds max_tcp_queued_bytes is closed with no_buffer_space", "[sip][transport][tcp]") {
  asio::io_context io;
  sip::transport_config cfg;
  cfg.max_tcp_queued_bytes = 16 * 1024;
  recording_transport a(io, cfg), b(io);
  auto big = options("z9hG4bKbig");
  big.body = std::string(1000, 'x');
  int sent = 0;
  for (; sent < 40 && (sent == 0 || a.t.has_connection(b.tcp())); ++sent)
    a.t.send(b.tcp(), big);  // nothing is written before the executor runs: the queue grows
  CHECK(sent > 10);
  CHECK(sent < 17);
  REQUIRE(run_until(io, [&] { return !a.errors.empty(); }));
  CHECK(a.errors[0].first == b.tcp());
  CHECK(a.errors[0].second == std::errc::no_buffer_space);
  CHECK_FALSE(a.t.has_connection(b.tcp()));
  run_for(io, 50ms);
  CHECK(b.got.empty());  // the connection was closed before it was established
  a.t.send(b.tcp(), options("z9hG4bKafter"));  // a new connection works
  REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
}

TEST_CASE("transport: sending over a protocol that does not listen is an error", "[sip][transport]") {
  asio::io_context io;
  sip::transport t(io.get_executor());
  std::vector<std::error_code> errors;
  t.on_error = [&](const sip::peer&, std::error_code ec) { errors.push_back(ec); };
  t.send({transport_protocol::udp, loopback, 5060}, options("z9hG4bKnone"));
  REQUIRE(run_until(io, [&] { return !errors.empty(); }));
  CHECK(errors[0] == std::errc::not_connected);
}

TEST_CASE("transport: at max_tcp_connections a newcomer evicts the idle connection, or is closed when none can go",
          "[sip][transport][tcp]") {
  asio::io_context io;
  sip::transport_config cfg;
  SECTION("the one connection is idle: evicted for the newcomer") {
    cfg.max_tcp_connections = 1;
    recording_transport b(io, cfg);
    auto first = raw_tcp_stream::connect(io, b.tcp_endpoint());
    REQUIRE(run_until(io, [&] { return b.t.stats().tcp_accepted == 1; }));
    auto second = raw_tcp_stream::connect(io, b.tcp_endpoint());
    REQUIRE(run_until(io, [&] { return first->eof(); }));
    CHECK(b.t.stats().tcp_evicted == 1);
    second->write(sip_request("OPTIONS", "z9hG4bKsecond", "c", 1, opts().proto("TCP")));
    REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
    CHECK_FALSE(second->eof());
  }
  SECTION("nothing can be evicted: the newcomer is closed at once") {
    cfg.max_tcp_connections = 0;
    recording_transport b(io, cfg);
    auto first = raw_tcp_stream::connect(io, b.tcp_endpoint());
    REQUIRE(run_until(io, [&] { return first->eof(); }));
    CHECK(b.t.stats().tcp_rejected == 1);
    CHECK(b.t.stats().tcp_accepted == 0);
  }
}

TEST_CASE("transport: an idle TCP connection is closed after tcp_idle_timeout", "[sip][transport][tcp]") {
  asio::io_context io;
  sip::transport_config cfg;
  cfg.tcp_idle_timeout = std::chrono::seconds(1);
  recording_transport b(io, cfg);
  auto raw = raw_tcp_stream::connect(io, b.tcp_endpoint());
  const auto start = sclock::now();
  run_for(io, 600ms);
  raw->write(sip_request("OPTIONS", "z9hG4bKidle", "c", 1, opts().proto("TCP")));  // activity pushes the deadline
  REQUIRE(run_until(io, [&] { return raw->eof(); }, 4000ms));
  CHECK(sclock::now() - start >= 1500ms);
  CHECK(b.got.size() == 1);
  CHECK(b.t.stats().tcp_connections == 0);
}

TEST_CASE("transport: close() stops callbacks, and destruction with operations pending is safe", "[sip][transport]") {
  asio::io_context io;
  int messages = 0, errors = 0;
  raw_udp_peer raw(io);
  asio::ip::udp::endpoint target;
  {
    sip::transport t(io.get_executor());
    std::error_code ec;
    t.listen(transport_protocol::udp, loopback, 0, ec);
    REQUIRE_FALSE(ec);
    t.listen(transport_protocol::tcp, loopback, 0, ec);
    REQUIRE_FALSE(ec);
    target = {loopback, t.local(transport_protocol::udp)->port};
    t.on_message = [&](sip::message&&, const sip::peer&) { ++messages; };
    t.on_error = [&](const sip::peer&, std::error_code) { ++errors; };
    raw.send(sip_request("OPTIONS", "z9hG4bKa", "c", 1, opts().port(raw.port())), target);
    REQUIRE(run_until(io, [&] { return messages == 1; }));
    t.send({transport_protocol::tcp, loopback, unused_tcp_port(io)}, options("z9hG4bKpending"));  // connect pending
    t.close();
    t.close();
    raw.send(sip_request("OPTIONS", "z9hG4bKb", "c", 2, opts().port(raw.port())), target);
    t.send({transport_protocol::udp, loopback, raw.port()}, options("z9hG4bKafter"));
    run_for(io, 50ms);
    CHECK(messages == 1);
    CHECK(errors == 0);
    CHECK(raw.inbox().empty());

    sip::transport t2(io.get_executor());  // destroyed with a receive, an accept and a connect pending
    t2.listen(transport_protocol::udp, loopback, 0, ec);
    t2.listen(transport_protocol::tcp, loopback, 0, ec);
    t2.on_error = [&](const sip::peer&, std::error_code) { ++errors; };
    t2.send({transport_protocol::tcp, loopback, unused_tcp_port(io)}, options("z9hG4bKpending2"));
  }
  run_for(io, 50ms);
  CHECK(errors == 0);
}

TEST_CASE("transport: a callback may destroy the transport", "[sip][transport]") {
  asio::io_context io;
  auto t = std::make_unique<sip::transport>(io.get_executor());
  std::error_code ec;
  t->listen(transport_protocol::udp, loopback, 0, ec);
  REQUIRE_FALSE(ec);
  const asio::ip::udp::endpoint target{loopback, t->local(transport_protocol::udp)->port};
  int messages = 0;
  t->on_message = [&](sip::message&&, const sip::peer&) {
    ++messages;
    t.reset();
  };
  raw_udp_peer raw(io);
  raw.send(sip_request("OPTIONS", "z9hG4bK1", "c", 1, opts().port(raw.port())), target);
  raw.send(sip_request("OPTIONS", "z9hG4bK2", "c", 2, opts().port(raw.port())), target);
  REQUIRE(run_until(io, [&] { return messages == 1; }));
  run_for(io, 30ms);
  CHECK(messages == 1);
  CHECK_FALSE(t);
}

TEST_CASE("transport: local_for resolves an unspecified bound address to the outgoing interface", "[sip][transport]") {
  asio::io_context io;
  sip::transport t(io.get_executor());
  std::error_code ec;
  t.listen(transport_protocol::udp, asio::ip::make_address("0.0.0.0"), 0, ec);
  REQUIRE_FALSE(ec);
  CHECK(t.local(transport_protocol::udp)->address.is_unspecified());
  auto l = t.local_for({transport_protocol::udp, loopback, 5060});
  REQUIRE(l);
  CHECK(l->address == loopback);
  CHECK(l->port == t.local(transport_protocol::udp)->port);
  CHECK_FALSE(t.local_for({transport_protocol::tcp, loopback, 5060}));
  // Datagrams to 127.0.0.1 arrive on the wildcard socket.
  int messages = 0;
  t.on_message = [&](sip::message&&, const sip::peer& from) {
    ++messages;
    CHECK(from.address == loopback);
  };
  raw_udp_peer raw(io);
  raw.send(sip_request("OPTIONS", "z9hG4bKw", "c", 1, opts().port(raw.port())), {loopback, l->port});
  REQUIRE(run_until(io, [&] { return messages == 1; }));
}

TEST_CASE("transport: IPv6 loopback over UDP and TCP", "[sip][transport][ipv6]") {
  asio::io_context io;
  const auto v6 = asio::ip::make_address("::1");
  {
    asio::ip::udp::socket probe(io);
    boost::system::error_code bec;
    probe.open(asio::ip::udp::v6(), bec);
    if (!bec) probe.bind({v6, 0}, bec);
    if (bec) {
      WARN("::1 cannot be bound here; IPv6 test skipped");
      return;
    }
  }
  sip::transport a(io.get_executor()), b(io.get_executor());
  std::error_code ec;
  for (auto* t : {&a, &b})
    for (auto p : {transport_protocol::udp, transport_protocol::tcp}) {
      t->listen(p, v6, 0, ec);
      REQUIRE_FALSE(ec);
    }
  std::vector<std::pair<sip::message, sip::peer>> got;
  b.on_message = [&](sip::message&& m, const sip::peer& from) { got.emplace_back(std::move(m), from); };
  a.send(*b.local(transport_protocol::udp), options("z9hG4bKv6u"));
  a.send(*b.local(transport_protocol::tcp), options("z9hG4bKv6t"));
  REQUIRE(run_until(io, [&] { return got.size() == 2; }));
  for (const auto& g : got) CHECK(g.second.address == v6);
  CHECK(a.local(transport_protocol::udp)->to_string().starts_with("udp:[::1]:"));

  // An IPv4 destination cannot be reached from a socket bound to ::1: reported, not thrown.
  std::vector<std::error_code> errors;
  a.on_error = [&](const sip::peer&, std::error_code e) { errors.push_back(e); };
  a.send({transport_protocol::udp, loopback, 5060}, options("z9hG4bKv4"));
  REQUIRE(run_until(io, [&] { return !errors.empty(); }));
  CHECK(errors[0]);
}

// --- TCP resource limits (issue 7, point 10) ---------------------------------------------------------

namespace {
std::string tcp_options(std::string_view branch, int cseq = 1) {
  return sip_request("OPTIONS", branch, "tcp-limits", cseq, opts().proto("TCP"));
}
// Connects and waits until the transport has accepted the connection.
std::unique_ptr<raw_tcp_stream> accepted_connection(asio::io_context& io, recording_transport& b) {
  const auto before = b.t.stats().tcp_accepted + b.t.stats().tcp_source_rejected + b.t.stats().tcp_rejected;
  auto raw = raw_tcp_stream::connect(io, b.tcp_endpoint());
  REQUIRE(run_until(io, [&] {
    const auto s = b.t.stats();
    return s.tcp_accepted + s.tcp_source_rejected + s.tcp_rejected > before;
  }));
  return raw;
}
}  // namespace

TEST_CASE("transport: a TCP connection that completes no message within tcp_message_timeout is closed, a live one stays",
          "[sip][transport][tcp][sip_transport]") {
  asio::io_context io;
  sip::transport_config cfg;
  cfg.tcp_message_timeout = 300ms;
  recording_transport b(io, cfg);
  auto silent = accepted_connection(io, b);
  auto partial = accepted_connection(io, b);
  partial->write("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1");
  auto live = accepted_connection(io, b);
  // The live connection delivers a complete message every 100 ms for 900 ms (three timeouts).
  const auto start = sclock::now();
  int sent = 0;
  while (sclock::now() - start < 900ms) {
    live->write(tcp_options("z9hG4bKlive" + std::to_string(sent), sent + 1));
    ++sent;
    run_for(io, 100ms);
  }
  CHECK(silent->eof());
  CHECK(partial->eof());
  CHECK_FALSE(live->eof());
  CHECK(b.got.size() == static_cast<std::size_t>(sent));
  CHECK(b.t.stats().tcp_message_timeouts == 2);
  // A message in progress on the live connection has tcp_message_timeout from its first byte.
  live->write("OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\n");
  const auto began = sclock::now();
  REQUIRE(run_until(io, [&] { return live->eof(); }));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(sclock::now() - began);
  CHECK(took >= 250ms);
  CHECK(b.t.stats().tcp_message_timeouts == 3);
  CHECK(b.t.stats().tcp_connections == 0);
  std::printf("tcp_message_timeout 300 ms: silent and partial connections closed, live one served %d messages; "
              "a stalled message closed its connection after %lld ms\n", sent, static_cast<long long>(took.count()));
}

TEST_CASE("transport: a TCP connection idle for tcp_idle_timeout is closed", "[sip][transport][tcp][sip_transport]") {
  asio::io_context io;
  sip::transport_config cfg;
  cfg.tcp_idle_timeout = std::chrono::seconds(1);
  recording_transport b(io, cfg);
  auto raw = accepted_connection(io, b);
  raw->write(tcp_options("z9hG4bKidle"));
  REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
  run_for(io, 500ms);
  CHECK_FALSE(raw->eof());
  REQUIRE(run_until(io, [&] { return raw->eof(); }, 2000ms));
  CHECK(b.t.stats().tcp_idle_closed == 1);
  CHECK(b.t.stats().tcp_message_timeouts == 0);
}

TEST_CASE("transport: connections beyond max_tcp_connections_per_source are closed at once", "[sip][transport][tcp][sip_transport]") {
  asio::io_context io;
  sip::transport_config cfg;
  cfg.max_tcp_connections_per_source = 3;
  recording_transport b(io, cfg);
  std::vector<std::unique_ptr<raw_tcp_stream>> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(accepted_connection(io, b));
  REQUIRE(run_until(io, [&] { return conns[3]->eof(); }));
  CHECK(b.t.stats().tcp_source_rejected == 1);
  CHECK(b.t.stats().tcp_accepted == 3);
  for (int i = 0; i < 3; ++i) conns[static_cast<std::size_t>(i)]->write(tcp_options("z9hG4bKsrc" + std::to_string(i)));
  REQUIRE(run_until(io, [&] { return b.got.size() == 3; }));
  for (int i = 0; i < 3; ++i) CHECK_FALSE(conns[static_cast<std::size_t>(i)]->eof());
  // One closes: the source may connect again.
  conns[0]->close();
  REQUIRE(run_until(io, [&] { return b.t.stats().tcp_connections == 2; }));
  auto again = accepted_connection(io, b);
  again->write(tcp_options("z9hG4bKsrc9"));
  REQUIRE(run_until(io, [&] { return b.got.size() == 4; }));
  CHECK(b.t.stats().tcp_source_rejected == 1);
}

TEST_CASE("transport: half-open TCP connections hold only the bytes they sent, within max_tcp_header_bytes",
          "[sip][transport][tcp][sip_transport]") {
  asio::io_context io;
  sip::transport_config cfg;
  cfg.max_tcp_connections = 1024;
  cfg.max_tcp_connections_per_source = 0;
  recording_transport b(io, cfg);
  // 1000 connections (2000 descriptors in this process) where RLIMIT_NOFILE allows, else 200.
  rlimit rl{};
  const bool many = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 4096);
  const std::size_t n = many ? 1000 : 200;
  const std::string head = "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKhalf\r\nX-Pad: ";
  const std::string pad(300 - head.size(), 'p');
  std::vector<std::unique_ptr<raw_tcp_stream>> conns;
  for (std::size_t i = 0; i < n; ++i) {
    conns.push_back(raw_tcp_stream::connect(io, b.tcp_endpoint()));
    conns.back()->write(head + pad);  // 300 bytes of a header, never finished
  }
  REQUIRE(run_until(io, [&] { return b.t.stats().tcp_buffered_bytes == n * 300; }));
  const auto first = b.t.stats().tcp_buffered_bytes;
  // 300 more bytes each: buffers grow to what is held, not to a fixed chunk.
  for (auto& c : conns) c->write(std::string(300, 'q'));
  REQUIRE(run_until(io, [&] { return b.t.stats().tcp_buffered_bytes >= n * 600; }));
  const auto second = b.t.stats().tcp_buffered_bytes;
  CHECK(second <= n * 1200);
  // A header beyond max_tcp_header_bytes (16 KiB) without its end cannot be framed: closed.
  conns[0]->write(std::string(cfg.max_tcp_header_bytes, 'r'));
  REQUIRE(run_until(io, [&] { return conns[0]->eof(); }));
  CHECK(b.t.stats().malformed_dropped == 1);
  // The others complete their messages: delivered, and nothing stays buffered.
  for (std::size_t i = 1; i < n; ++i) conns[i]->write("\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(run_until(io, [&] { return b.got.size() == n - 1; }));
  CHECK(b.t.stats().tcp_buffered_bytes == 0);
  // This side closes first, so that TIME_WAIT holds its listening port, not 1000 ephemeral client ports
  // (a client socket in TIME_WAIT keeps later tests from binding that port).
  b.t.close();
  std::printf("%zu half-open TCP connections: %llu bytes buffered with 300-byte partial headers, %llu with 600 "
              "(%.1f and %.1f bytes per connection); 0 once the messages completed\n",
              n, static_cast<unsigned long long>(first), static_cast<unsigned long long>(second),
              static_cast<double>(first) / n, static_cast<double>(second) / n);
}

TEST_CASE("transport: at max_tcp_connections a newcomer evicts an idle connection that sent nothing",
          "[sip][transport][tcp][sip_transport]") {
  asio::io_context io;
  sip::transport_config cfg;
  cfg.max_tcp_connections = 4;
  cfg.max_tcp_connections_per_source = 0;
  recording_transport b(io, cfg);
  auto idle1 = accepted_connection(io, b);
  auto user = accepted_connection(io, b);
  user->write(tcp_options("z9hG4bKuser"));
  REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
  auto idle2 = accepted_connection(io, b);
  auto idle3 = accepted_connection(io, b);
  CHECK(b.t.stats().tcp_connections == 4);
  // A new client: the oldest connection without a message goes, and the client is served.
  auto client = accepted_connection(io, b);
  client->write(tcp_options("z9hG4bKclient"));
  REQUIRE(run_until(io, [&] { return b.got.size() == 2; }));
  REQUIRE(run_until(io, [&] { return idle1->eof(); }));
  CHECK(b.t.stats().tcp_evicted == 1);
  CHECK(b.t.stats().tcp_rejected == 0);
  // Another: the next silent one (idle2) goes, never the connection that carried a request.
  auto client2 = accepted_connection(io, b);
  REQUIRE(run_until(io, [&] { return idle2->eof(); }));
  client2->write(tcp_options("z9hG4bKclient2"));
  REQUIRE(run_until(io, [&] { return b.got.size() == 3; }));
  CHECK_FALSE(user->eof());
  CHECK_FALSE(idle3->eof());
  user->write(tcp_options("z9hG4bKuser", 2));
  REQUIRE(run_until(io, [&] { return b.got.size() == 4; }));
  CHECK(b.t.stats().tcp_evicted == 2);
  CHECK(b.t.stats().tcp_connections == 4);
}

TEST_CASE("transport: the default max_tcp_connections leaves headroom below RLIMIT_NOFILE", "[sip][transport][sip_transport]") {
  rlimit rl{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &rl) == 0);
  const auto d = sip::transport_config{}.max_tcp_connections;
  CHECK(d <= 1024);
  CHECK(d >= 16);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= 64) CHECK(d <= rl.rlim_cur / 4);
}

TEST_CASE("transport: an exception thrown by on_message is caught and counted, delivery goes on", "[sip][transport][sip_transport]") {
  asio::io_context io;
  recording_transport b(io);
  int calls = 0;
  b.t.on_message = [&](sip::message&&, const sip::peer&) {
    if (++calls == 1) throw std::system_error(std::make_error_code(std::errc::too_many_files_open), "reactor");
  };
  raw_udp_peer raw(io);
  raw.send(sip_request("OPTIONS", "z9hG4bKe1", "e", 1), b.udp_endpoint());
  raw.send(sip_request("OPTIONS", "z9hG4bKe2", "e", 2), b.udp_endpoint());
  auto tcp = raw_tcp_stream::connect(io, b.tcp_endpoint());
  tcp->write(tcp_options("z9hG4bKe3"));
  REQUIRE(run_until(io, [&] { return calls == 3; }));
  CHECK(b.t.stats().handler_errors == 1);
  CHECK(b.t.stats().received == 3);
}

TEST_CASE("transport: a UDP request with Content-Length beyond the datagram goes to on_truncated_request, a response is dropped",
          "[sip][transport][sip_transport]") {
  asio::io_context io;
  recording_transport b(io);
  std::vector<sip::message> truncated;
  b.t.on_truncated_request = [&](sip::message&& m, const sip::peer&) { truncated.push_back(std::move(m)); };
  raw_udp_peer raw(io);
  auto req = sip_request("MESSAGE", "z9hG4bKt1", "t", 1, opts().body("hello"));
  req.replace(req.find("Content-Length: 5"), 17, "Content-Length: 50");
  raw.send(req, b.udp_endpoint());
  raw.send("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKt2\r\nCSeq: 1 MESSAGE\r\nContent-Length: 9\r\n\r\nabc",
           b.udp_endpoint());
  REQUIRE(run_until(io, [&] { return truncated.size() == 1 && b.t.stats().malformed_dropped == 1; }));
  CHECK(truncated[0].method == "MESSAGE");
  CHECK(truncated[0].header("Call-ID") == "t");
  CHECK(truncated[0].body.empty());
  CHECK(b.got.empty());
  CHECK(b.t.stats().truncated_requests == 1);
}

TEST_CASE("transport: accept() failing with EMFILE backs off and resumes, without spinning", "[sip][transport][tcp][sip_transport]") {
  asio::io_context io;
  recording_transport b(io);
  std::vector<std::unique_ptr<raw_tcp_stream>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(raw_tcp_stream::connect(io, b.tcp_endpoint()));  // in the backlog
  // No descriptor left for this process: the lowest free one becomes the limit.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  const int lowest_free = ::dup(0);
  REQUIRE(lowest_free >= 0);
  ::close(lowest_free);
  struct restore {
    rlimit r;
    ~restore() { ::setrlimit(RLIMIT_NOFILE, &r); }
  } guard{saved};
  rlimit tight = saved;
  tight.rlim_cur = static_cast<rlim_t>(lowest_free);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  run_for(io, 450ms);
  const auto during = b.t.stats();
  ::setrlimit(RLIMIT_NOFILE, &saved);
  CHECK(during.tcp_accepted == 0);
  CHECK(during.accept_errors >= 2);
  CHECK(during.accept_errors <= 6);  // one try per 100 ms, not a busy loop
  REQUIRE(run_until(io, [&] { return b.t.stats().tcp_accepted == 3; }));
  clients[2]->write(tcp_options("z9hG4bKafter"));
  REQUIRE(run_until(io, [&] { return b.got.size() == 1; }));
  std::printf("EMFILE for 450 ms: %llu accept attempts, then 3 connections accepted\n",
              static_cast<unsigned long long>(during.accept_errors));
}

// --- SIP over TLS (RFC 3261 §26.2, RFC 5922) ---

namespace {
// TLS settings trusting `ca` (a server certificate too when `server`), with a short handshake timeout.
sip::transport_config tls_settings(const tls_certificates& certs, bool server, std::string ca) {
  REQUIRE(certs.ok());  // the openssl command made them
  sip::transport_config cfg;
  if (server) {
    cfg.tls.certificate_chain_file = certs.server_chain();
    cfg.tls.private_key_file = certs.server_key();
  }
  cfg.tls.ca_file = std::move(ca);
  cfg.tls.handshake_timeout = 300ms;
  return cfg;
}

// `client` sends OPTIONS (branch `branch`) to `to` over TLS, expecting a certificate that names `domain`.
void send_over_tls(recording_transport& client, const sip::peer& to, const char* domain, const char* branch) {
  client.t.set_tls_server_name(to, domain);
  client.t.send(to, options(branch));
}

// A recording transport that also listens on TLS (127.0.0.1, ephemeral port).
struct tls_transport : recording_transport {
  tls_transport(asio::io_context& io, sip::transport_config cfg) : recording_transport(io, std::move(cfg)) {
    std::error_code ec;
    t.listen(transport_protocol::tls, loopback, 0, ec);
    REQUIRE_FALSE(ec);
  }
  sip::peer tls() const { return *t.local(transport_protocol::tls); }
};

// Throwaway certificates, and a TLS server with them (trusting their CA) on `io`.
struct tls_server_fixture {
  tls_certificates certs;
  asio::io_context io;
  tls_transport server{io, tls_settings(certs, true, certs.ca())};
};
}  // namespace

TEST_CASE_METHOD(tls_server_fixture, "transport: TLS carries framed messages both ways over one verified connection", "[sip][transport][sip_tls]") {
  recording_transport client(io, tls_settings(certs, false, certs.ca()));
  send_over_tls(client, server.tls(), "localhost", "z9hG4bKtls1");
  client.t.send(server.tls(), options("z9hG4bKtls2"));
  CHECK(client.t.has_connection(server.tls()));
  REQUIRE(run_until(io, [&] { return server.got.size() == 2; }));
  CHECK(server.got[1].first.header("Via")->find("z9hG4bKtls2") != std::string_view::npos);
  const auto from = server.got[0].second;
  CHECK(from.protocol == transport_protocol::tls);
  server.t.send(from, sip::parse_message("SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n").value());
  REQUIRE(run_until(io, [&] { return client.got.size() == 1; }));
  CHECK(client.got[0].second == server.tls());  // the answer came back over the same connection
  CHECK(client.t.stats().tls_handshakes == 1);
  CHECK(server.t.stats().tls_handshakes == 1);
  CHECK(server.t.stats().tcp_accepted == 1);
  CHECK(client.errors.empty());
  CHECK(server.errors.empty());
  CHECK(sip::peer{transport_protocol::tls, loopback, 5061}.to_string() == "tls:127.0.0.1:5061");
}

TEST_CASE_METHOD(tls_server_fixture, "transport: a TLS server certificate from an unknown CA or for another name fails with a clear cause, never "
          "in clear", "[sip][transport][sip_tls]") {
  SECTION("unknown CA") {
    recording_transport client(io, tls_settings(certs, false, certs.other_ca()));
    send_over_tls(client, server.tls(), "localhost", "z9hG4bKbadca");
    REQUIRE(run_until(io, [&] { return !client.errors.empty(); }));
    CHECK(client.errors[0].first == server.tls());
    CHECK(client.errors[0].second.category() == sip::tls_certificate_category());
    CHECK(client.errors[0].second.message().find("local issuer") != std::string::npos);
    CHECK(client.t.stats().tls_handshake_failures == 1);
  }
  SECTION("another host name") {
    recording_transport client(io, tls_settings(certs, false, certs.ca()));
    send_over_tls(client, server.tls(), "sip.example.org", "z9hG4bKbadname");
    REQUIRE(run_until(io, [&] { return !client.errors.empty(); }));
    CHECK(client.errors[0].second == sip::tls_errc::identity_mismatch);
  }
  SECTION("insecure_skip_verification accepts it (tests only)") {
    auto cfg = tls_settings(certs, false, certs.other_ca());
    cfg.tls.insecure_skip_verification = true;
    recording_transport client(io, cfg);
    send_over_tls(client, server.tls(), "sip.example.org", "z9hG4bKinsecure");
    REQUIRE(run_until(io, [&] { return server.got.size() == 1; }));
    CHECK(client.errors.empty());
    return;
  }
  run_for(io, 50ms);
  CHECK(server.got.empty());  // nothing delivered, over TLS or anything else
  CHECK(server.t.stats().received == 0);
  CHECK_FALSE(server.t.has_connection(server.tls()));
}

TEST_CASE_METHOD(tls_server_fixture, "transport: a TLS peer that stalls the handshake is cut after handshake_timeout; garbage instead of a "
          "ClientHello is dropped", "[sip][transport][sip_tls]") {
  const asio::ip::tcp::endpoint ep(loopback, server.tls().port);
  SECTION("incoming: a client that sends nothing") {
    asio::ip::tcp::socket raw(io);
    raw.connect(ep);
    const auto t0 = sclock::now();
    REQUIRE(run_until(io, [&] { return server.t.stats().tls_handshake_timeouts == 1; }, 3000ms));
    CHECK(sclock::now() - t0 >= 250ms);
    CHECK(server.t.stats().tcp_connections == 0);
  }
  SECTION("incoming: plain SIP instead of a ClientHello") {
    asio::ip::tcp::socket raw(io);
    raw.connect(ep);
    asio::write(raw, asio::buffer(sip_request("OPTIONS", "z9hG4bKplain", "c1", 1)));
    REQUIRE(run_until(io, [&] { return server.t.stats().tls_handshake_failures == 1; }));
    CHECK(server.got.empty());
    CHECK(server.t.stats().tcp_connections == 0);
    recording_transport client(io, tls_settings(certs, false, certs.ca()));  // the server still serves others
    send_over_tls(client, server.tls(), "localhost", "z9hG4bKafter");
    REQUIRE(run_until(io, [&] { return server.got.size() == 1; }));
  }
  SECTION("outgoing: a server that never answers the ClientHello") {
    asio::ip::tcp::acceptor mute(io, {loopback, 0});
    asio::ip::tcp::socket accepted(io);
    mute.async_accept(accepted, [](const boost::system::error_code&) {});
    recording_transport client(io, tls_settings(certs, false, certs.ca()));
    const sip::peer silent{transport_protocol::tls, loopback, mute.local_endpoint().port()};
    client.t.send(silent, options("z9hG4bKmute"));
    REQUIRE(run_until(io, [&] { return !client.errors.empty(); }, 3000ms));
    CHECK(client.errors[0].second == std::errc::timed_out);
    CHECK(client.t.stats().tls_handshake_timeouts == 1);
  }
}

TEST_CASE("transport: TLS without a certificate does not listen, unreadable TLS files are reported", "[sip][transport][sip_tls]") {
  asio::io_context io;
  sip::transport plain(io.get_executor());
  std::error_code ec;
  plain.listen(transport_protocol::tls, loopback, 0, ec);
  CHECK(ec == std::errc::invalid_argument);
  CHECK_FALSE(plain.tls_error());
  sip::transport_config cfg;
  cfg.tls.certificate_chain_file = "/nonexistent/server.crt";
  cfg.tls.private_key_file = "/nonexistent/server.key";
  sip::transport broken(io.get_executor(), cfg);
  CHECK(broken.tls_error() == sip::tls_errc::not_configured);
  broken.listen(transport_protocol::tls, loopback, 0, ec);
  CHECK(ec == sip::tls_errc::not_configured);
}

TEST_CASE("transport: beyond max_handshakes_in_progress new TLS connections are closed at once, an established one "
          "keeps working", "[sip][transport][sip_tls]") {
  tls_certificates certs;
  asio::io_context io;
  auto cfg = tls_settings(certs, true, certs.ca());
  cfg.tls.max_handshakes_in_progress = 2;
  tls_transport server(io, cfg);
  recording_transport client(io, tls_settings(certs, false, certs.ca()));
  send_over_tls(client, server.tls(), "localhost", "z9hG4bKbefore");
  REQUIRE(run_until(io, [&] { return server.got.size() == 1; }));
  std::vector<asio::ip::tcp::socket> flood;  // connect and never say hello
  for (int i = 0; i < 5; ++i) flood.emplace_back(io).connect({loopback, server.tls().port});
  REQUIRE(run_until(io, [&] { return server.t.stats().tls_handshakes_rejected == 3; }));
  client.t.send(server.tls(), options("z9hG4bKduring"));  // over the established connection
  REQUIRE(run_until(io, [&] { return server.got.size() == 2; }));
  CHECK(server.t.stats().tcp_connections == 3);  // the client's and two handshakes in progress
  REQUIRE(run_until(io, [&] { return server.t.stats().tls_handshake_timeouts == 2; }));
  CHECK(server.t.stats().tcp_connections == 1);
  CHECK(client.errors.empty());
}

namespace {
// A client that offers `chain`/`key` as its certificate (mutual TLS), trusting `certs`' CA.
sip::transport_config tls_client_with_certificate(const tls_certificates& certs, std::string chain, std::string key) {
  auto cfg = tls_settings(certs, false, certs.ca());
  cfg.tls.certificate_chain_file = std::move(chain);
  cfg.tls.private_key_file = std::move(key);
  return cfg;
}
}  // namespace

TEST_CASE("transport: a TLS listener that requires client certificates accepts a trusted one and refuses a missing or "
          "untrusted one, counting why", "[sip][transport][sip_tls]") {
  tls_certificates certs;
  asio::io_context io;
  auto cfg = tls_settings(certs, true, certs.ca());
  cfg.tls.client_certificates = sip::tls_client_certificates::required;
  tls_transport server(io, cfg);
  SECTION("a certificate signed by the trusted CA: the request arrives") {
    recording_transport client(io, tls_client_with_certificate(certs, certs.server_chain(), certs.server_key()));
    send_over_tls(client, server.tls(), "localhost", "z9hG4bKmutual");
    REQUIRE(run_until(io, [&] { return server.got.size() == 1; }));
    CHECK(server.t.stats().tls_handshakes == 1);
    CHECK(server.t.stats().tls_client_certificates_missing == 0);
    CHECK(server.t.stats().tls_client_certificates_rejected == 0);
    CHECK(client.errors.empty());
    return;
  }
  SECTION("no certificate") {
    recording_transport client(io, tls_settings(certs, false, certs.ca()));
    send_over_tls(client, server.tls(), "localhost", "z9hG4bKnocert");
    REQUIRE(run_until(io, [&] { return server.t.stats().tls_client_certificates_missing == 1; }));
    CHECK(server.t.stats().tls_client_certificates_rejected == 0);
  }
  SECTION("a certificate signed by an untrusted CA") {
    recording_transport client(io, tls_client_with_certificate(certs, certs.rogue_chain(), certs.rogue_key()));
    send_over_tls(client, server.tls(), "localhost", "z9hG4bKrogue");
    REQUIRE(run_until(io, [&] { return server.t.stats().tls_client_certificates_rejected == 1; }));
    CHECK(server.t.stats().tls_client_certificates_missing == 0);
  }
  CHECK(server.t.stats().tls_handshake_failures == 1);
  CHECK(server.t.stats().tls_handshakes == 0);
  REQUIRE(run_until(io, [&] { return server.t.stats().tcp_connections == 0; }));
  run_for(io, 50ms);
  CHECK(server.got.empty());  // nothing delivered from the refused client
}

TEST_CASE("transport: an optional client certificate may be missing but must verify when sent", "[sip][transport][sip_tls]") {
  tls_certificates certs;
  asio::io_context io;
  auto cfg = tls_settings(certs, true, certs.ca());
  cfg.tls.client_certificates = sip::tls_client_certificates::optional;
  tls_transport server(io, cfg);
  recording_transport anonymous(io, tls_settings(certs, false, certs.ca()));
  send_over_tls(anonymous, server.tls(), "localhost", "z9hG4bKanon");
  REQUIRE(run_until(io, [&] { return server.got.size() == 1; }));
  recording_transport rogue(io, tls_client_with_certificate(certs, certs.rogue_chain(), certs.rogue_key()));
  send_over_tls(rogue, server.tls(), "localhost", "z9hG4bKrogue2");
  REQUIRE(run_until(io, [&] { return server.t.stats().tls_client_certificates_rejected == 1; }));
  run_for(io, 50ms);
  CHECK(server.got.size() == 1);
  CHECK(server.t.stats().tls_client_certificates_missing == 0);
}

TEST_CASE("transport: a second TLS connection to the same server and name resumes the session, another name does not",
          "[sip][transport][sip_tls]") {
  tls_certificates certs;
  asio::io_context io;
  tls_transport server(io, tls_settings(certs, true, certs.ca()));
  auto cfg = tls_settings(certs, false, certs.ca());
  recording_transport client(io, cfg);
  server.t.on_message = [&](sip::message&& m, const sip::peer& from) {  // answer, so that the client reads the tickets
    server.got.emplace_back(std::move(m), from);
    server.t.send(from, sip::parse_message("SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n").value());
  };
  const auto exchange = [&](const char* name, const char* branch) {
    const auto answers = client.got.size();
    send_over_tls(client, server.tls(), name, branch);
    REQUIRE(run_until(io, [&] { return client.got.size() == answers + 1; }));
    client.t.close_connection(server.tls());
    CHECK_FALSE(client.t.has_connection(server.tls()));
    REQUIRE(run_until(io, [&] { return server.t.stats().tcp_connections == 0; }));  // closed at both ends
  };
  exchange("localhost", "z9hG4bKfirst");
  CHECK(client.t.stats().tls_sessions_resumed == 0);
  exchange("localhost", "z9hG4bKsecond");
  CHECK(client.t.stats().tls_sessions_resumed == 1);
  CHECK(server.t.stats().tls_sessions_resumed == 1);
  exchange("127.0.0.1", "z9hG4bKothername");  // the certificate names 127.0.0.1 too: a full handshake
  CHECK(client.t.stats().tls_sessions_resumed == 1);
  exchange("localhost", "z9hG4bKthird");
  CHECK(client.t.stats().tls_sessions_resumed == 2);
  CHECK(client.t.stats().tls_handshakes == 4);
  CHECK(client.errors.empty());
  SECTION("max_cached_sessions 0 turns resumption off") {
    auto off = cfg;
    off.tls.max_cached_sessions = 0;
    recording_transport fresh(io, off);
    for (const char* branch : {"z9hG4bKoff1", "z9hG4bKoff2"}) {
      const auto answers = fresh.got.size();
      send_over_tls(fresh, server.tls(), "localhost", branch);
      REQUIRE(run_until(io, [&] { return fresh.got.size() == answers + 1; }));
      fresh.t.close_connection(server.tls());
      REQUIRE(run_until(io, [&] { return server.t.stats().tcp_connections == 0; }));
    }
    CHECK(fresh.t.stats().tls_handshakes == 2);
    CHECK(fresh.t.stats().tls_sessions_resumed == 0);
  }
}

namespace {
// A raw OpenSSL client on a non-blocking socket, driven between runs of `io` (single thread).
struct raw_tls_client {
  raw_tls_client(asio::io_context& io, std::uint16_t port) : io_(io), socket(io) {
    socket.connect({loopback, port});
    socket.non_blocking(true);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    SSL_set_fd(ssl, socket.native_handle());
  }
  ~raw_tls_client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  // Repeats `op` (an SSL call) while it wants to read or write, running `io` between tries; the last
  // SSL_get_error (SSL_ERROR_NONE on success), SSL_ERROR_WANT_READ after 3 s.
  template <class Op>
  int drive(Op op) {
    const auto end = sclock::now() + 3000ms;
    while (sclock::now() < end) {
      const int r = op();
      if (r > 0) return SSL_ERROR_NONE;
      const int err = SSL_get_error(ssl, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return err;
      run_for(io_, 5ms);
    }
    return SSL_ERROR_WANT_READ;
  }
  asio::io_context& io_;
  asio::ip::tcp::socket socket;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
};
}  // namespace

TEST_CASE_METHOD(tls_server_fixture, "transport: a TLS connection closed by the transport ends with close_notify",
                 "[sip][transport][sip_tls]") {
  raw_tls_client raw(io, server.tls().port);
  REQUIRE(raw.drive([&] { return SSL_connect(raw.ssl); }) == SSL_ERROR_NONE);
  const std::string request = sip_request("OPTIONS", "z9hG4bKraw", "c1", 1);
  REQUIRE(raw.drive([&] { return SSL_write(raw.ssl, request.data(), static_cast<int>(request.size())); }) == SSL_ERROR_NONE);
  REQUIRE(run_until(io, [&] { return server.got.size() == 1; }));
  SECTION("the transport closes") {
    server.t.close();  // never blocks: the close_notify exchange runs on the executor
  }
  SECTION("the transport closes that connection") {
    server.t.close_connection(server.got[0].second);
  }
  CHECK(server.t.stats().tls_close_notify_sent == 1);
  char buf[512];
  const int err = raw.drive([&] { return SSL_read(raw.ssl, buf, sizeof buf); });
  CHECK(err == SSL_ERROR_ZERO_RETURN);  // an orderly close, not a truncation (SSL_ERROR_SYSCALL/SSL)
  CHECK(raw.drive([&] { return SSL_shutdown(raw.ssl); }) == SSL_ERROR_NONE);  // our answer completes the exchange
  run_for(io, 50ms);
}
