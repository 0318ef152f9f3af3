// TURN client (RFC 8656, mspi/turn/): ChannelData framing; the long-term credential, stale-nonce and
// hostile-input paths against a scripted server; Allocate, permissions, Send/Data indications, ChannelBind
// and ChannelData, refreshes and deallocation against coturn started here on 127.0.0.1.
// This file's ports: 7510-7529 (one coturn per test case, each on its own listening port and relay
// ports: see `ports` below). Skipped (with a warning) only when coturn is not installed.
#include <mspi/turn/allocation.hpp>
#include <mspi/turn/channel_data.hpp>

#include "support/child_process.hpp"
#include "support/coturn.hpp"
#include "support/counting_allocator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace stun = mspi::stun;
namespace turn = mspi::turn;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span<const char>(s.data(), s.size())); }
std::string text_of(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
const asio::ip::address loopback = asio::ip::make_address("127.0.0.1");

// Runs `io` until `done()` or `limit`; returns done().
bool run_until(asio::io_context& io, const std::function<bool()>& done, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.restart();
    io.run_for(10ms);
  }
  return done();
}

// One async operation's result, filled by its handler.
template <class... Args>
struct result {
  std::optional<std::tuple<std::error_code, Args...>> value;
  auto handler() {
    return [this](std::error_code ec, Args... args) { value.emplace(ec, args...); };
  }
  std::error_code ec() const { return std::get<0>(*value); }
};

// Allocates with `a` (REQUIREs that the operation completes) and returns its outcome.
std::pair<std::error_code, turn::allocate_result> allocate(asio::io_context& io, turn::allocation& a) {
  result<turn::allocate_result> r;
  a.async_allocate(r.handler());
  REQUIRE(run_until(io, [&] { return r.value.has_value(); }));
  return {r.ec(), std::get<1>(*r.value)};
}

// Binds a channel from `a` to `peer` (REQUIREs success) and returns its number.
std::uint16_t bind_channel(asio::io_context& io, turn::allocation& a, const udp::endpoint& peer) {
  result<std::uint16_t> r;
  a.async_bind_channel(peer, r.handler());
  REQUIRE(run_until(io, [&] { return r.value.has_value(); }));
  INFO(r.ec().message());
  REQUIRE_FALSE(r.ec());
  return std::get<1>(*r.value);
}

// A plain UDP peer: receives one datagram (from, text) within a bound time.
std::optional<std::pair<udp::endpoint, std::string>> receive_one(asio::io_context& io, udp::socket& s,
                                                                  std::chrono::milliseconds limit = 2000ms) {
  std::array<std::byte, 2048> buf{};
  udp::endpoint from;
  std::optional<std::pair<udp::endpoint, std::string>> got;
  s.async_receive_from(asio::buffer(buf), from, [&](boost::system::error_code ec, std::size_t n) {
    if (!ec) got.emplace(from, text_of(std::span(buf).first(n)));
  });
  run_until(io, [&] { return got.has_value(); }, limit);
  if (!got) s.cancel();
  io.restart();
  io.poll();  // the cancelled handler, which refers to this frame
  return got;
}

}  // namespace

TEST_CASE("turn: ChannelData framing follows RFC 8656 12.4-12.5", "[turn]") {
  const auto head = turn::channel_data_header(0x4001, 5);
  CHECK(head == std::array<std::byte, 4>{std::byte{0x40}, std::byte{0x01}, std::byte{0}, std::byte{5}});
  std::vector<std::byte> d(head.begin(), head.end());
  for (auto b : bytes_of("hello")) d.push_back(b);
  turn::channel_data cd;
  REQUIRE(turn::parse_channel_data(d, cd));
  CHECK(cd.channel == 0x4001);
  CHECK(text_of(cd.payload) == "hello");
  d.insert(d.end(), 3, std::byte{0});  // padding to 12 bytes (UDP: optional, allowed)
  REQUIRE(turn::parse_channel_data(d, cd));
  CHECK(text_of(cd.payload) == "hello");
  d.push_back(std::byte{0});  // 4 bytes after the data: not padding
  CHECK_FALSE(turn::parse_channel_data(d, cd));
  d.resize(8);  // length 5, 4 bytes of data: truncated
  CHECK_FALSE(turn::parse_channel_data(d, cd));
  for (std::size_t n = 0; n < 4; ++n) CHECK_FALSE(turn::parse_channel_data(std::span(d).first(n), cd));
  auto reserved = turn::channel_data_header(0x5000, 0);  // 0x5000..0xFFFF: reserved (RFC 8656 §12)
  CHECK_FALSE(turn::parse_channel_data(reserved, cd));
  auto below = turn::channel_data_header(0x3FFF, 0);
  CHECK_FALSE(turn::parse_channel_data(below, cd));
  auto empty = turn::channel_data_header(0x4FFF, 0);
  REQUIRE(turn::parse_channel_data(empty, cd));
  CHECK(cd.payload.empty());
  CHECK(turn::valid_channel(0x4000));
  CHECK(turn::valid_channel(0x4FFF));
  CHECK(stun::message_type(stun::method::allocate, stun::message_class::request) == 0x0003);
  CHECK(stun::message_type(stun::method::data, stun::message_class::indication) == 0x0017);
  CHECK(stun::message_type(stun::method::channel_bind, stun::message_class::success_response) == 0x0109);
}

namespace {

// A scripted TURN server on an ephemeral port with the long-term credentials u/p in realm "ptapi.test":
// `script` answers each request (parsed) and may send anything from `socket` or `other` (a spoofer).
struct scripted_turn {
  explicit scripted_turn(asio::io_context& io)
      : socket(io, udp::endpoint(loopback, 0)), other(io, udp::endpoint(loopback, 0)) {
    REQUIRE(stun::long_term_key("u", "ptapi.test", "p", key));
  }
  void serve(std::function<void(const stun::message_view&)> s) {
    script = std::move(s);
    receive();
  }
  void receive() {
    socket.async_receive_from(asio::buffer(buffer), client, [this](boost::system::error_code ec, std::size_t n) {
      if (ec) return;
      stun::message_view m;
      if (!stun::message_view::parse(std::span(buffer).first(n), m)) {
        ++requests;
        script(m);
      }
      receive();
    });
  }
  // Whether the request carries USERNAME u, realm ptapi.test, `nonce` and a valid MESSAGE-INTEGRITY.
  bool authenticated(const stun::message_view& m, std::string_view nonce) const {
    const auto* n = m.find(stun::attribute_type::nonce);
    const auto* u = m.find(stun::attribute_type::username);
    return n && u && text_of(n->value) == nonce && text_of(u->value) == "u" && !stun::check_integrity(m, key);
  }
  // Sends a response to `m` of class `c` from `via`; `fill` adds attributes; `integrity` adds MI (the
  // key or, with `wrong_key`, another); `id_xor` changes the transaction ID.
  void respond(const stun::message_view& m, stun::message_class c, udp::socket& via,
               const std::function<void(stun::message_writer&)>& fill, bool integrity, bool wrong_key = false,
               std::uint8_t id_xor = 0) {
    auto id = m.transaction();
    id[0] ^= std::byte{id_xor};
    std::array<std::byte, 600> out{};
    stun::message_writer w(out, m.method(), c, id);
    fill(w);
    if (integrity) w.add_message_integrity(wrong_key ? std::span<const std::byte>(bytes_of("wrong")) : std::span<const std::byte>(key));
    w.add_fingerprint();
    REQUIRE_FALSE(w.error());
    via.send_to(asio::buffer(w.bytes().data(), w.bytes().size()), client);
  }
  void challenge(const stun::message_view& m, int code, std::string_view nonce) {
    respond(m, stun::message_class::error_response, socket, [&](stun::message_writer& w) {
      w.add_error_code(code, code == 401 ? "Unauthorized" : "Stale Nonce")
          .add(stun::attribute_type::realm, std::string_view("ptapi.test"))
          .add(stun::attribute_type::nonce, nonce);
    }, false);
  }
  void allocated(const stun::message_view& m, udp::socket* via = nullptr, bool wrong_key = false,
                 std::uint8_t id_xor = 0) {
    respond(m, stun::message_class::success_response, via ? *via : socket, [&](stun::message_writer& w) {
      w.add_xor_address(stun::attribute_type::xor_relayed_address, relayed)
          .add_xor_address(stun::attribute_type::xor_mapped_address, client)
          .add_u32(stun::attribute_type::lifetime, 600);
    }, true, wrong_key, id_xor);
  }
  void send_raw(udp::socket& via, std::span<const std::byte> d) { via.send_to(asio::buffer(d.data(), d.size()), client); }

  udp::socket socket, other;
  udp::endpoint client;
  udp::endpoint relayed{asio::ip::make_address("192.0.2.50"), 50000};
  std::array<std::byte, 16> key{};
  std::array<std::byte, 1500> buffer{};
  std::function<void(const stun::message_view&)> script;
  int requests = 0;
};

}  // namespace

TEST_CASE("turn: long-term credentials, stale nonce and hostile responses against a scripted server", "[turn]") {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(loopback, 0));
  scripted_turn server(io);
  std::vector<std::string> nonces_seen;
  server.serve([&](const stun::message_view& m) {
    const auto* n = m.find(stun::attribute_type::nonce);
    nonces_seen.push_back(n ? text_of(n->value) : "");
    if (m.method() != stun::method::allocate) return;
    if (!n) return server.challenge(m, 401, "nonce-1");
    if (text_of(n->value) == "nonce-1") return server.challenge(m, 438, "nonce-2");  // the nonce went stale
    REQUIRE(server.authenticated(m, "nonce-2"));
    // Dropped: another transaction ID, another source, a MESSAGE-INTEGRITY with another key, ChannelData
    // on no bound channel, a truncated one, a Data indication before any permission, and bytes that are neither.
    server.allocated(m, &server.socket, false, 0x55);
    server.allocated(m, &server.other);
    server.allocated(m, &server.socket, true);
    const auto cd = turn::channel_data_header(0x4000, 3);
    server.send_raw(server.socket, cd);
    std::array<std::byte, 6> truncated{cd[0], cd[1], std::byte{0}, std::byte{200}, std::byte{1}, std::byte{2}};
    server.send_raw(server.socket, truncated);
    server.respond(m, stun::message_class::indication, server.socket, [&](stun::message_writer& w) {
      w.add_xor_address(stun::attribute_type::xor_peer_address, udp::endpoint(loopback, 9)).add(stun::attribute_type::data, std::string_view("x"));
    }, false);
    server.send_raw(server.socket, bytes_of("\x80 not turn"));
    // Taken: the server's own answer.
    server.allocated(m);
  });
  turn::allocation a(socket, server.socket.local_endpoint(), {"u", "p"});
  const auto [ec, r] = allocate(io, a);
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  CHECK(r.relayed == server.relayed);
  CHECK(r.mapped == socket.local_endpoint());
  CHECK(r.lifetime == 600s);
  CHECK(a.state() == turn::allocation_state::allocated);
  CHECK(nonces_seen == std::vector<std::string>{"", "nonce-1", "nonce-2"});
  CHECK(a.statistics().challenges == 1);
  CHECK(a.statistics().stale_nonces == 1);
  run_until(io, [&] { return a.statistics().dropped >= 7; }, 500ms);
  CHECK(a.statistics().dropped == 6);  // the spoofer's is not from the server: not even counted
  CHECK(a.statistics().channel_data_received == 0);
  CHECK(a.statistics().data_indications_received == 0);

  // handle(): what a media socket's receive path gets back.
  std::array<std::byte, 8> cd{};
  const auto h = turn::channel_data_header(0x4000, 4);
  std::copy(h.begin(), h.end(), cd.begin());
  CHECK(a.handle(udp::endpoint(loopback, 1), cd).what == turn::received::kind::not_from_server);
  CHECK(a.handle(server.socket.local_endpoint(), cd).what == turn::received::kind::dropped);  // no channel bound
  // Sending needs a permission first.
  CHECK(a.send_to(udp::endpoint(loopback, 9), bytes_of("x")) == turn::turn_errc::no_permission);
  // A moved allocation is the same allocation; closing it sends Refresh with LIFETIME 0 (not waited for).
  turn::allocation moved(std::move(a));
  CHECK(moved.state() == turn::allocation_state::allocated);
  CHECK(moved.result().relayed == server.relayed);
  const int before = server.requests;
  moved.close();
  CHECK(moved.state() == turn::allocation_state::deallocated);
  REQUIRE(run_until(io, [&] { return server.requests == before + 1; }, 2000ms));
  CHECK(nonces_seen.back() == "nonce-2");  // the Refresh carries the credentials
}

TEST_CASE("turn: endless stale nonces and a refused password end the Allocate with their errors", "[turn]") {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(loopback, 0));
  scripted_turn server(io);
  int n = 0;
  server.serve([&](const stun::message_view& m) {
    if (!m.find(stun::attribute_type::nonce)) return server.challenge(m, 401, "first");
    server.challenge(m, 438, "stale-" + std::to_string(++n));
  });
  turn::allocation a(socket, server.socket.local_endpoint(), {"u", "p"});
  CHECK(allocate(io, a).first == turn::turn_errc::stale_nonce);
  CHECK(a.last_error_code() == 438);
  CHECK(server.requests == 1 + 3);  // the challenge, then max_auth_retries
  CHECK(a.state() == turn::allocation_state::failed);

  // 401 to the request with credentials: wrong password.
  udp::socket socket2(io, udp::endpoint(loopback, 0));
  scripted_turn server2(io);
  server2.serve([&](const stun::message_view& m) { server2.challenge(m, 401, "n"); });
  turn::allocation b(socket2, server2.socket.local_endpoint(), {"u", "wrong"});
  CHECK(allocate(io, b).first == turn::turn_errc::unauthorized);
  CHECK(b.last_error_code() == 401);
  CHECK(server2.requests == 2);
}

TEST_CASE("turn: the operations take Asio's completion tokens (deferred by default, use_awaitable)", "[turn]") {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(loopback, 0));
  scripted_turn server(io);
  // A server without authentication: every request succeeds (Allocate's with a relayed address).
  server.serve([&](const stun::message_view& m) {
    if (m.method() == stun::method::allocate) return server.allocated(m);
    server.respond(m, stun::message_class::success_response, server.socket, [](stun::message_writer&) {}, false);
  });
  turn::allocation a(socket, server.socket.local_endpoint(), {"u", "p"});
  const udp::endpoint peer(asio::ip::make_address("192.0.2.9"), 7000);
  std::vector<std::string> steps;
  auto coroutine = [&]() -> asio::awaitable<void> {
    auto [ec, channel] = co_await a.async_bind_channel(peer, asio::use_awaitable);
    steps.push_back("bind " + ec.message() + " " + std::to_string(channel));
    const std::error_code ec2 = co_await a.async_create_permission(peer.address(), asio::use_awaitable);
    steps.push_back("permission " + ec2.message());
    const std::error_code ec3 = co_await a.async_deallocate(asio::use_awaitable);
    steps.push_back("deallocate " + ec3.message());
  };
  // No token: a deferred operation, launched here; the coroutine follows it.
  auto deferred = a.async_allocate();
  std::move(deferred)([&](std::error_code ec, turn::allocate_result r) {
    steps.push_back("allocate " + ec.message() + " " + r.relayed.address().to_string());
    asio::co_spawn(io, coroutine(), asio::detached);
  });
  REQUIRE(run_until(io, [&] { return steps.size() == 4; }));
  const std::string ok = std::error_code().message();
  CHECK(steps == std::vector<std::string>{"allocate " + ok + " 192.0.2.50", "bind " + ok + " 16384",
                                          "permission " + ok, "deallocate " + ok});
  CHECK(a.state() == turn::allocation_state::deallocated);
  CHECK(a.statistics().challenges == 0);  // the server never asked for credentials
}

namespace {

// One coturn per test case (ctest runs cases in parallel): its listening port, then its relay ports.
struct ports {
  std::uint16_t listening, relays;
};
constexpr ports allocate_ports{7510, 2}, indication_ports{7513, 2}, two_client_ports{7516, 3},
    refresh_ports{7520, 2}, five_tuple_ports{7523, 3}, stale_ports{7527, 2};  // ... 7529

// coturn started on `port`, or null (with a warning: the test is skipped) when it is not installed.
std::unique_ptr<ptapi_test::coturn> start_coturn(ports p, std::vector<std::string> extra = {}) {
  const auto path = ptapi_test::find_turnserver();
  if (!path) {
    WARN("coturn not installed (Debian: coturn): TURN against a server skipped");
    return nullptr;
  }
  auto options = ptapi_test::coturn::turn_user();
  options.insert(options.end(), extra.begin(), extra.end());
  auto server = std::make_unique<ptapi_test::coturn>(*path, p.listening, std::move(options), p.relays);
  REQUIRE(ptapi_test::udp_bound(p.listening));
  return server;
}

// An allocation on coturn from a fresh socket, allocated (REQUIREd).
struct client {
  client(asio::io_context& io, std::uint16_t port, turn::allocation_options options = {})
      : socket(io, udp::endpoint(loopback, 0)), a(socket, udp::endpoint(loopback, port), {"u", "p"}, options) {
    a.set_data_handler([this](const udp::endpoint& peer, std::span<const std::byte> payload) {
      got.emplace_back(peer, text_of(payload));
    });
    const auto [ec, r] = allocate(io, a);
    INFO(ec.message());
    REQUIRE_FALSE(ec);
    relayed = r.relayed;
  }
  udp::socket socket;
  turn::allocation a;
  udp::endpoint relayed;
  std::vector<std::pair<udp::endpoint, std::string>> got;
};

std::error_code wait(asio::io_context& io, result<>& r) {
  REQUIRE(run_until(io, [&] { return r.value.has_value(); }));
  return r.ec();
}

}  // namespace

TEST_CASE("turn: Allocate on coturn gives a relayed address, a wrong password gets 401", "[turn]") {
  const auto server = start_coturn(allocate_ports);
  if (!server) return;
  asio::io_context io;
  client c(io, allocate_ports.listening);
  CHECK(c.relayed.address() == loopback);
  CHECK(c.relayed.port() > allocate_ports.listening);
  CHECK(c.relayed.port() <= allocate_ports.listening + allocate_ports.relays);
  CHECK(c.a.result().mapped == c.socket.local_endpoint());  // loopback: no NAT
  CHECK(c.a.result().lifetime.count() > 0);
  CHECK(c.a.statistics().challenges == 1);

  udp::socket socket(io, udp::endpoint(loopback, 0));
  turn::allocation wrong(socket, udp::endpoint(loopback, allocate_ports.listening), {"u", "not-p"});
  const auto ec = allocate(io, wrong).first;
  CHECK(ec == turn::turn_errc::unauthorized);
  CHECK(ec.message() == "TURN server refused the credentials (401 Unauthorized)");
  CHECK(wrong.last_error_code() == 401);
  CHECK(wrong.state() == turn::allocation_state::failed);
}

TEST_CASE("turn: a UDP peer and a client talk through coturn with Send/Data indications, then ChannelData", "[turn]") {
  const auto server = start_coturn(indication_ports);
  if (!server) return;
  asio::io_context io;
  client c(io, indication_ports.listening);
  udp::socket peer(io, udp::endpoint(loopback, 0));
  const auto peer_ep = peer.local_endpoint();

  // Without a permission the relay drops what the peer sends (RFC 8656 §9).
  peer.send_to(asio::buffer(std::string_view("early")), c.relayed);
  result<> perm;
  c.a.async_create_permission(loopback, perm.handler());
  REQUIRE_FALSE(wait(io, perm));
  CHECK(c.a.has_permission(loopback));
  CHECK(c.got.empty());

  // Send indication out, Data indication in.
  REQUIRE_FALSE(c.a.send_to(peer_ep, bytes_of("hello via send")));
  auto in = receive_one(io, peer);
  REQUIRE(in);
  CHECK(in->first == c.relayed);
  CHECK(in->second == "hello via send");
  peer.send_to(asio::buffer(std::string_view("reply via data")), c.relayed);
  REQUIRE(run_until(io, [&] { return !c.got.empty(); }, 2000ms));
  CHECK(c.got.back() == std::pair{peer_ep, std::string("reply via data")});
  CHECK(c.a.statistics().send_indications_sent == 1);
  CHECK(c.a.statistics().data_indications_received == 1);

  // ChannelBind, then ChannelData both ways (an odd length: no padding over UDP).
  const auto channel = bind_channel(io, c.a, peer_ep);
  CHECK(turn::valid_channel(channel));
  CHECK(c.a.channel_of(peer_ep) == channel);
  REQUIRE_FALSE(c.a.send_to(peer_ep, bytes_of("hello via channel")));
  in = receive_one(io, peer);
  REQUIRE(in);
  CHECK(in->first == c.relayed);
  CHECK(in->second == "hello via channel");
  peer.send_to(asio::buffer(std::string_view("reply via channel")), c.relayed);
  REQUIRE(run_until(io, [&] { return c.got.size() == 2; }, 2000ms));
  CHECK(c.got.back() == std::pair{peer_ep, std::string("reply via channel")});
  CHECK(c.a.statistics().channel_data_sent == 1);
  CHECK(c.a.statistics().channel_data_received == 1);
  CHECK(c.a.statistics().send_indications_sent == 1);
  // The steady-state paths allocate nothing: ChannelData and Send indications out, ChannelData in
  // (handle() on what the server would send). Counted by tests/support/counting_allocator.hpp, whose
  // operators zero_alloc.cpp links into the test binary.
  udp::socket peer2(io, udp::endpoint(loopback, 0));  // same address (permitted), no channel
  std::array<std::byte, 4 + 160> from_server{};
  const auto cd_head = turn::channel_data_header(channel, 160);
  std::copy(cd_head.begin(), cd_head.end(), from_server.begin());
  const std::array<std::byte, 160> rtp{};
  const auto allocations_before = ptapi_test::all_allocations();
  std::size_t delivered = 0;
  for (int i = 0; i < 50; ++i) {
    CHECK_FALSE(c.a.send_to(peer_ep, rtp));
    CHECK_FALSE(c.a.send_to(peer2.local_endpoint(), rtp));
    const auto r = c.a.handle(c.a.server(), from_server);
    delivered += r.what == turn::received::kind::data && r.peer == peer_ep && r.payload.size() == 160;
  }
  const auto allocations = ptapi_test::all_allocations() - allocations_before;
  CHECK(delivered == 50);
  if (ptapi_test::all_allocations() == 0)
    WARN("the counting allocator is not linked (a partial test build without zero_alloc.cpp): allocations not checked");
  else
    CHECK(allocations == 0);
  CHECK(c.a.statistics().send_indications_sent == 51);
  // Binding the same peer again gives the same channel at once.
  CHECK(bind_channel(io, c.a, peer_ep) == channel);
}

TEST_CASE("turn: two clients reach each other relay to relay through coturn (ChannelData both ways)", "[turn]") {
  const auto server = start_coturn(two_client_ports);
  if (!server) return;
  asio::io_context io;
  client a(io, two_client_ports.listening), b(io, two_client_ports.listening);
  REQUIRE(a.relayed != b.relayed);
  bind_channel(io, a.a, b.relayed);
  bind_channel(io, b.a, a.relayed);
  for (int i = 0; i < 5; ++i) {
    REQUIRE_FALSE(a.a.send_to(b.relayed, bytes_of("a->b " + std::to_string(i))));
    REQUIRE_FALSE(b.a.send_to(a.relayed, bytes_of("b->a " + std::to_string(i))));
  }
  REQUIRE(run_until(io, [&] { return a.got.size() == 5 && b.got.size() == 5; }, 3000ms));
  for (int i = 0; i < 5; ++i) {
    CHECK(b.got[static_cast<std::size_t>(i)] == std::pair{a.relayed, "a->b " + std::to_string(i)});
    CHECK(a.got[static_cast<std::size_t>(i)] == std::pair{b.relayed, "b->a " + std::to_string(i)});
  }
  CHECK(a.a.statistics().channel_data_received == 5);
  CHECK(b.a.statistics().channel_data_sent == 5);
}

TEST_CASE("turn: permissions and channels are refreshed by the client (coturn)", "[turn]") {
  const auto server = start_coturn(refresh_ports);
  if (!server) return;
  asio::io_context io;
  turn::allocation_options fast;
  fast.permission_refresh = 1s;
  fast.channel_refresh = 1s;
  client c(io, refresh_ports.listening, fast);
  udp::socket peer(io, udp::endpoint(loopback, 0));
  bind_channel(io, c.a, peer.local_endpoint());
  // 2.5 s: two refreshes of each (the permission came with the channel, RFC 8656 §12.2).
  run_until(io, [] { return false; }, 2500ms);
  CHECK(c.a.statistics().channels_bound >= 3);
  CHECK(c.a.statistics().permissions_installed >= 2);
  CHECK(c.a.statistics().refresh_failures == 0);
}

TEST_CASE("turn: one 5-tuple holds one allocation, after Refresh with lifetime 0 it takes a new one", "[turn]") {
  const auto server = start_coturn(five_tuple_ports);
  if (!server) return;
  asio::io_context io;
  // The socket's receive path is the test's (receive_mode::external), handing datagrams to the allocations.
  udp::socket socket(io, udp::endpoint(loopback, 0));
  const udp::endpoint turn_server(loopback, five_tuple_ports.listening);
  const turn::allocation_options external{.receive = turn::receive_mode::external};
  std::vector<turn::allocation*> allocations;
  std::vector<std::pair<udp::endpoint, std::string>> relayed, direct;
  std::array<std::byte, 2048> buf{};
  udp::endpoint from;
  std::function<void()> receive = [&] {
    socket.async_receive_from(asio::buffer(buf), from, [&](boost::system::error_code ec, std::size_t n) {
      if (ec) return;
      for (auto* a : allocations) {
        const auto r = a->handle(from, std::span(buf).first(n));
        if (r.what == turn::received::kind::data) relayed.emplace_back(r.peer, text_of(r.payload));
        if (r.what == turn::received::kind::not_from_server) direct.emplace_back(from, text_of(std::span(buf).first(n)));
        if (r.what != turn::received::kind::dropped) break;
      }
      receive();
    });
  };
  receive();

  turn::allocation first(socket, turn_server, {"u", "p"}, external), second(socket, turn_server, {"u", "p"}, external);
  allocations = {&first, &second};
  const auto [ec1, r1] = allocate(io, first);
  REQUIRE_FALSE(ec1);
  CHECK(allocate(io, second).first == turn::turn_errc::allocation_mismatch);
  CHECK(second.last_error_code() == 437);

  // A peer reaches the client through the relay, and directly (not the allocation's: handed back).
  udp::socket peer(io, udp::endpoint(loopback, 0));
  result<> perm;
  first.async_create_permission(loopback, perm.handler());
  REQUIRE_FALSE(wait(io, perm));
  const auto relay = r1.relayed;
  peer.send_to(asio::buffer(std::string_view("relayed")), relay);
  peer.send_to(asio::buffer(std::string_view("direct")), socket.local_endpoint());
  REQUIRE(run_until(io, [&] { return !relayed.empty() && !direct.empty(); }, 2000ms));
  CHECK(relayed.front() == std::pair{peer.local_endpoint(), std::string("relayed")});
  CHECK(direct.front() == std::pair{peer.local_endpoint(), std::string("direct")});

  // Refresh with LIFETIME 0: the relay is gone; the peer's datagrams no longer arrive.
  result<> dealloc;
  first.async_deallocate(dealloc.handler());
  REQUIRE_FALSE(wait(io, dealloc));
  CHECK(first.state() == turn::allocation_state::deallocated);
  CHECK(first.send_to(peer.local_endpoint(), bytes_of("x")) == turn::turn_errc::not_allocated);
  peer.send_to(asio::buffer(std::string_view("after")), relay);
  run_until(io, [] { return false; }, 300ms);
  CHECK(relayed.size() == 1);
  // The 5-tuple is free again: a new allocation from the same socket succeeds (coturn deletes the
  // allocation at its next timer tick, about a second later; until then it answers 437).
  std::error_code last;
  for (int attempt = 0; attempt < 8; ++attempt) {
    turn::allocation third(socket, turn_server, {"u", "p"}, external);
    allocations = {&third};
    last = allocate(io, third).first;
    if (last != turn::turn_errc::allocation_mismatch) break;
    run_until(io, [] { return false; }, 500ms);
  }
  INFO(last.message());
  CHECK_FALSE(last);
  allocations.clear();
  socket.cancel();
  io.restart();
  io.poll();
}

TEST_CASE("turn: the allocation is refreshed before it expires and stale nonces are renewed (coturn)", "[turn]") {
  // Lifetimes of at most 4 s and nonces that go stale after 2 s: a refresh every 2 s, each with 438 first.
  const auto server = start_coturn(stale_ports, {"--max-allocate-lifetime=4", "--stale-nonce=2"});
  if (!server) return;
  asio::io_context io;
  client c(io, stale_ports.listening);
  CHECK(c.a.result().lifetime == 4s);
  udp::socket peer(io, udp::endpoint(loopback, 0));
  bind_channel(io, c.a, peer.local_endpoint());
  // 6.5 s: past the first lifetime, kept by refreshes.
  run_until(io, [&] { return c.a.statistics().refreshes >= 3; }, 6500ms);
  CHECK(c.a.statistics().refreshes >= 2);
  CHECK(c.a.statistics().stale_nonces >= 1);
  CHECK(c.a.statistics().refresh_failures == 0);
  CHECK(c.a.state() == turn::allocation_state::allocated);
  // Still relaying, over the channel.
  peer.send_to(asio::buffer(std::string_view("still here")), c.relayed);
  REQUIRE(run_until(io, [&] { return !c.got.empty(); }, 2000ms));
  CHECK(c.got.back() == std::pair{peer.local_endpoint(), std::string("still here")});
  CHECK(c.a.statistics().channel_data_received == 1);
}
