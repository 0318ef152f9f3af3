// STUN (RFC 8489) and ICE basics (RFC 8445, RFC 7983): RFC 5769's test vectors read, verified and
// rebuilt; hostile input refused without reading outside the datagram; a Binding transaction against
// coturn started here on 127.0.0.1:7500 (this file's ports: 7500-7509; 7501-7509 are coturn's relay
// range) and against a silent server (an ephemeral port).
#include <mspi/ice/gathering.hpp>
#include <mspi/ice/ice.hpp>
#include <mspi/stun/client.hpp>
#include <mspi/stun/message.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/coturn.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace stun = mspi::stun;
using udp = asio::ip::udp;

std::vector<std::byte> hex(const char* s) {
  std::vector<std::byte> out;
  for (const char* p = s; *p;) {
    if (*p == ' ' || *p == '\n') {
      ++p;
      continue;
    }
    out.push_back(static_cast<std::byte>(std::stoi(std::string(p, 2), nullptr, 16)));
    p += 2;
  }
  return out;
}

std::span<const std::byte> text(std::string_view s) { return std::as_bytes(std::span<const char>(s.data(), s.size())); }
std::string_view as_text(std::span<const std::byte> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// RFC 5769 §2.1-§2.4, byte for byte.
const auto sample_request = hex(
    "00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74"
    "00 24 00 04 6e 00 01 ff"
    "80 29 00 08 93 2f f9 b1 51 26 3b 36"
    "00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20"
    "00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2"
    "80 28 00 04 e5 7a 3b cf");
const auto sample_ipv4_response = hex(
    "01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 08 00 01 a1 47 e1 12 a6 43"
    "00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7"
    "80 28 00 04 c0 7d 4c 96");
const auto sample_ipv6_response = hex(
    "01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae"
    "80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20"
    "00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9"
    "00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41"
    "80 28 00 04 c8 fb 0b 4c");
const auto sample_long_term_request = hex(
    "00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e"
    "00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00"
    "00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41"
    "00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00"
    "00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66");
constexpr std::string_view password = "VOkJxbRl1RmTxUk/WvJxBt";
const stun::transaction_id sample_id = [] {
  stun::transaction_id id{};
  auto b = hex("b7 e7 a7 01 bc 34 d6 86 fa 87 df ae");
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}();

stun::message_view parsed(std::span<const std::byte> d) {
  stun::message_view m;
  auto ec = stun::message_view::parse(d, m);
  INFO(ec.message());
  REQUIRE_FALSE(ec);
  return m;
}

}  // namespace

TEST_CASE("stun: RFC 5769 sample request parses and verifies", "[stun]") {
  auto m = parsed(sample_request);
  CHECK(stun::looks_like_stun(sample_request));
  CHECK(m.method() == stun::method::binding);
  CHECK(m.klass() == stun::message_class::request);
  CHECK(m.transaction() == sample_id);
  REQUIRE(m.attributes().size() == 6);
  CHECK(as_text(m.find(stun::attribute_type::software)->value) == "STUN test client");
  CHECK(as_text(m.find(stun::attribute_type::username)->value) == "evtj:h6vY");  // padding not in the value
  CHECK(m.find(stun::attribute_type::priority)->value.size() == 4);
  CHECK(m.find(stun::attribute_type::ice_controlled)->value.size() == 8);
  CHECK_FALSE(stun::check_fingerprint(m));
  CHECK_FALSE(stun::check_integrity(m, text(password)));
  CHECK(stun::check_integrity(m, text("VOkJxbRl1RmTxUk/WvJxBT")) == stun::stun_errc::bad_integrity);
}

TEST_CASE("stun: RFC 5769 sample responses give their mapped addresses", "[stun]") {
  for (const auto* d : {&sample_ipv4_response, &sample_ipv6_response}) {
    auto m = parsed(*d);
    CHECK(m.klass() == stun::message_class::success_response);
    CHECK(m.transaction() == sample_id);
    CHECK(as_text(m.find(stun::attribute_type::software)->value) == "test vector");
    CHECK_FALSE(stun::check_fingerprint(m));
    CHECK_FALSE(stun::check_integrity(m, text(password)));
    udp::endpoint ep;
    REQUIRE_FALSE(stun::mapped_address(m, ep));
    CHECK(ep.port() == 32853);
    if (d == &sample_ipv4_response)
      CHECK(ep.address() == asio::ip::make_address("192.0.2.1"));
    else
      CHECK(ep.address() == asio::ip::make_address("2001:db8:1234:5678:11:2233:4455:6677"));
  }
}

TEST_CASE("stun: RFC 5769 long-term credential request verifies with MD5(username:realm:password)", "[stun]") {
  auto m = parsed(sample_long_term_request);
  CHECK(m.find(stun::attribute_type::fingerprint) == nullptr);
  CHECK(stun::check_fingerprint(m) == stun::stun_errc::bad_fingerprint);
  CHECK_FALSE(stun::check_fingerprint(m, false));
  const auto* user = m.find(stun::attribute_type::username);
  const auto* realm = m.find(stun::attribute_type::realm);
  REQUIRE(user);
  REQUIRE(realm);
  CHECK(as_text(realm->value) == "example.org");
  CHECK(as_text(m.find(stun::attribute_type::nonce)->value) == "f//499k954d6OL34oL9FSTvy64sA");
  std::array<std::byte, 16> key{};
  // RFC 5769 §2.4's password after SASLprep ("The\u00adM\u00aatr\u2168" -> "TheMatrIX").
  REQUIRE(stun::long_term_key(as_text(user->value), as_text(realm->value), "TheMatrIX", key));
  CHECK_FALSE(stun::check_integrity(m, key));
  REQUIRE(stun::long_term_key(as_text(user->value), as_text(realm->value), "TheMatrix", key));
  CHECK(stun::check_integrity(m, key) == stun::stun_errc::bad_integrity);
}

TEST_CASE("stun: the writer rebuilds RFC 5769's IPv4 and IPv6 responses", "[stun]") {
  for (const auto* d : {&sample_ipv4_response, &sample_ipv6_response}) {
    udp::endpoint mapped;
    REQUIRE_FALSE(stun::mapped_address(parsed(*d), mapped));
    std::array<std::byte, 548> buffer{};
    stun::message_writer w(buffer, stun::method::binding, stun::message_class::success_response, sample_id);
    w.add(stun::attribute_type::software, std::string_view("test vector"))
        .add_xor_address(stun::attribute_type::xor_mapped_address, mapped)
        .add_message_integrity(text(password))
        .add_fingerprint();
    REQUIRE_FALSE(w.error());
    const auto out = w.bytes();
    REQUIRE(out.size() == d->size());
    // Byte for byte, but for SOFTWARE's one padding byte (RFC 5769 pads with a space, the writer with a
    // zero; RFC 8489 §14 lets padding be anything) and the two values that cover it.
    const std::size_t pad = 20 + 4 + 11, integrity = out.size() - 8 - 20;
    for (std::size_t i = 0; i < integrity; ++i)
      if (i != pad) CHECK(out[i] == (*d)[i]);
    CHECK(out[pad] == std::byte{0});
    auto m = parsed(out);
    CHECK_FALSE(stun::check_integrity(m, text(password)));
    CHECK_FALSE(stun::check_fingerprint(m));
    udp::endpoint again;
    REQUIRE_FALSE(stun::mapped_address(m, again));
    CHECK(again == mapped);
    // MESSAGE-INTEGRITY covers the padding: with the RFC's space in it, the writer's HMAC no longer matches.
    std::vector<std::byte> patched(out.begin(), out.end());
    patched[pad] = std::byte{0x20};
    auto with_space = parsed(patched);
    CHECK(stun::check_integrity(with_space, text(password)) == stun::stun_errc::bad_integrity);  // MI covers padding
  }
}

TEST_CASE("stun: a request the writer makes with the sample's attributes verifies", "[stun]") {
  std::array<std::byte, 548> buffer{};
  stun::message_writer w(buffer, stun::method::binding, stun::message_class::request, sample_id);
  w.add(stun::attribute_type::software, std::string_view("STUN test client"))
      .add_u32(stun::attribute_type::priority, 0x6e0001ff)
      .add_u64(stun::attribute_type::ice_controlled, 0x932ff9b151263b36ULL)
      .add(stun::attribute_type::username, std::string_view("evtj:h6vY"))
      .add_message_integrity(text(password))
      .add_fingerprint();
  REQUIRE_FALSE(w.error());
  const auto out = w.bytes();
  REQUIRE(out.size() == sample_request.size());
  // Identical up to USERNAME's padding (RFC 5769: three spaces, the writer: zeros).
  const std::size_t username_pad = 20 + 20 + 8 + 12 + 4 + 9;
  CHECK(std::equal(out.begin(), out.begin() + username_pad, sample_request.begin()));
  auto m = parsed(out);
  CHECK_FALSE(stun::check_integrity(m, text(password)));
  CHECK_FALSE(stun::check_fingerprint(m));
  CHECK(stun::message_type(stun::method::binding, stun::message_class::error_response) == 0x0111);
}

TEST_CASE("stun: hostile input is refused without reading past the datagram", "[stun]") {
  stun::message_view m;
  // Every proper prefix of a valid message: truncated, or not STUN at all.
  for (std::size_t n = 0; n < sample_request.size(); ++n) {
    std::vector<std::byte> prefix(sample_request.begin(), sample_request.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK(stun::message_view::parse(prefix, m));
  }
  auto bad = sample_request;
  bad[0] = std::byte{0x80};  // an RTP first byte (RFC 7983)
  CHECK_FALSE(stun::looks_like_stun(bad));
  CHECK(stun::message_view::parse(bad, m) == stun::stun_errc::not_stun);
  bad = sample_request;
  bad[5] ^= std::byte{1};  // magic cookie
  CHECK(stun::message_view::parse(bad, m) == stun::stun_errc::not_stun);
  bad = sample_request;
  bad[3] = std::byte{0x59};  // length not a multiple of 4
  CHECK(stun::message_view::parse(bad, m) == stun::stun_errc::not_stun);
  bad = sample_request;
  bad[22] = std::byte{0xff};  // SOFTWARE's length runs past the end
  bad[23] = std::byte{0xf0};
  CHECK(stun::message_view::parse(bad, m) == stun::stun_errc::truncated);
  bad = sample_request;
  bad.push_back(std::byte{0});  // a datagram longer than the header's length
  CHECK(stun::message_view::parse(bad, m) == stun::stun_errc::truncated);
  // A tampered attribute fails integrity and fingerprint.
  bad = sample_request;
  bad[30] ^= std::byte{1};
  REQUIRE_FALSE(stun::message_view::parse(bad, m));
  CHECK(stun::check_integrity(m, text(password)) == stun::stun_errc::bad_integrity);
  CHECK(stun::check_fingerprint(m) == stun::stun_errc::bad_fingerprint);
  // An attribute after FINGERPRINT.
  bad = sample_request;
  for (auto b : hex("00 24 00 04 00 00 00 00")) bad.push_back(b);
  bad[3] = std::byte{0x60};
  CHECK(stun::message_view::parse(bad, m) == stun::stun_errc::bad_fingerprint);
  // More attributes than the bound: 33 empty ones.
  std::array<std::byte, 20 + 33 * 4> many{};
  {
    stun::message_writer w(many, stun::method::binding, stun::message_class::request, sample_id);
    for (int i = 0; i < 33; ++i) w.add(stun::attribute_type::software, std::string_view());
    REQUIRE_FALSE(w.error());
  }
  CHECK(stun::message_view::parse(many, m) == stun::stun_errc::too_many_attributes);
  // Addresses of the wrong size or family.
  const auto short_value = std::span(sample_ipv4_response).subspan(40, 7);  // XOR-MAPPED-ADDRESS's, a byte short
  const stun::attribute short_v4{stun::attribute_type::xor_mapped_address, short_value, 36};
  udp::endpoint ep;
  CHECK(stun::decode_address(short_v4, sample_id, ep) == stun::stun_errc::bad_attribute);
  auto family3 = sample_ipv4_response;
  family3[41] = std::byte{3};  // XOR-MAPPED-ADDRESS value at 40: zero byte, family
  CHECK(stun::mapped_address(parsed(family3), ep) == stun::stun_errc::bad_attribute);
  // Attributes after MESSAGE-INTEGRITY (other than FINGERPRINT) are not reported (RFC 8489 §14.5).
  std::array<std::byte, 200> buffer{};
  stun::message_writer w(buffer, stun::method::binding, stun::message_class::request, sample_id);
  w.add_message_integrity(text(password)).add(stun::attribute_type::username, std::string_view("late"));
  REQUIRE_FALSE(w.error());
  auto late = parsed(w.bytes());
  CHECK(late.find(stun::attribute_type::username) == nullptr);
  CHECK_FALSE(stun::check_integrity(late, text(password)));
  // A writer whose buffer is too small says so and writes nothing more.
  std::array<std::byte, 24> tiny{};
  stun::message_writer t(tiny, stun::method::binding, stun::message_class::request, sample_id);
  t.add(stun::attribute_type::software, std::string_view("ptapi"));
  CHECK(t.error() == stun::stun_errc::buffer_too_small);
  CHECK(t.bytes().empty());
}

namespace {

constexpr std::uint16_t coturn_port = 7500;  // this file's ports: 7500-7509 (7400-7499 are the baresip SRTP tests')

using ptapi_test::find_turnserver;
using ptapi_test::udp_bound;

// coturn as a plain STUN server on 127.0.0.1:7500 and [::1]:7500 (relay range 7501-7509).
struct coturn : ptapi_test::coturn {
  explicit coturn(const std::string& path) : ptapi_test::coturn(path, coturn_port) {}
};

struct outcome {
  std::error_code ec;
  stun::binding_result result;
  bool done = false;
};

outcome bind(asio::io_context& io, udp::socket& socket, udp::endpoint server, stun::binding_options opt) {
  outcome o;
  stun::async_binding(socket, server, opt, [&](std::error_code ec, stun::binding_result r) {
    o = {ec, r, true};
    io.stop();  // other I/O objects (a scripted server) may still wait
  });
  io.run_for(std::chrono::seconds(10));
  io.restart();
  return o;
}

}  // namespace

TEST_CASE("stun: a Binding transaction against coturn gives the socket's address", "[stun]") {
  auto path = find_turnserver();
  if (!path) {
    WARN("coturn not installed (Debian: coturn): STUN Binding against a server skipped");
    return;
  }
  coturn server(*path);
  REQUIRE(udp_bound(coturn_port));
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto o = bind(io, socket, {asio::ip::make_address("127.0.0.1"), coturn_port}, {});
  REQUIRE(o.done);
  INFO(o.ec.message());
  REQUIRE_FALSE(o.ec);
  // On loopback there is no NAT: the server-reflexive address is the socket's own.
  CHECK(o.result.mapped == socket.local_endpoint());
  CHECK(o.result.requests >= 1);
  // The socket serves a second transaction (a fresh transaction ID) after the first.
  auto again = bind(io, socket, {asio::ip::make_address("127.0.0.1"), coturn_port}, {});
  REQUIRE(again.done);
  CHECK_FALSE(again.ec);
  CHECK(again.result.mapped == socket.local_endpoint());
  // IPv6: XOR-MAPPED-ADDRESS masks the address with the transaction ID too (RFC 8489 §14.2).
  boost::system::error_code v6;
  udp::socket socket6(io);
  socket6.open(udp::v6(), v6);
  if (!v6) socket6.bind(udp::endpoint(asio::ip::make_address("::1"), 0), v6);
  for (int i = 0; i < 100 && !v6 && !udp_bound(coturn_port, true); ++i) ::usleep(10000);  // at most 1 s more
  if (v6 || !udp_bound(coturn_port, true)) {
    WARN("::1 cannot be bound here (or coturn does not listen on it); the IPv6 Binding is skipped");
    return;
  }
  auto o6 = bind(io, socket6, {asio::ip::make_address("::1"), coturn_port}, {});
  REQUIRE(o6.done);
  INFO(o6.ec.message());
  REQUIRE_FALSE(o6.ec);
  CHECK(o6.result.mapped == socket6.local_endpoint());
}

TEST_CASE("stun: a Binding transaction to a silent server retransmits, then times out", "[stun]") {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  // The "server" is a bound socket that never answers, but counts what arrives.
  udp::socket silent(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  stun::binding_options opt;
  opt.rto = std::chrono::milliseconds(10);
  opt.request_count = 3;
  opt.last_wait_multiplier = 4;
  auto o = bind(io, socket, silent.local_endpoint(), opt);
  REQUIRE(o.done);
  CHECK(o.ec == stun::stun_errc::timeout);
  CHECK(o.result.requests == 3);
  std::size_t arrived = 0;
  std::array<std::byte, 1500> buf{};
  udp::endpoint from;
  boost::system::error_code ec;
  silent.non_blocking(true);
  for (std::size_t n; (n = silent.receive_from(asio::buffer(buf), from, 0, ec)), !ec;) {
    stun::message_view m;
    REQUIRE_FALSE(stun::message_view::parse(std::span(buf).first(n), m));
    CHECK(m.klass() == stun::message_class::request);
    CHECK_FALSE(stun::check_fingerprint(m));
    CHECK(as_text(m.find(stun::attribute_type::software)->value) == "ptapi");
    ++arrived;
  }
  CHECK(arrived == 3);
}

TEST_CASE("stun: a request that cannot be sent ends the Binding transaction with the socket's error", "[stun]") {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto o = bind(io, socket, {asio::ip::make_address("::1"), coturn_port}, {});  // IPv6 server, IPv4 socket
  REQUIRE(o.done);
  INFO(o.ec.message());
  CHECK(o.ec);
  CHECK(o.ec.category() != stun::stun_category());
  CHECK(o.result.requests == 1);
}

TEST_CASE("ice: one socket tells STUN from RTP/RTCP, DTLS and TURN channels by the first byte", "[stun][ice]") {
  using mspi::ice::datagram_kind;
  CHECK(mspi::ice::classify(std::to_integer<std::uint8_t>(sample_request[0])) == datagram_kind::stun);
  CHECK(mspi::ice::classify(std::to_integer<std::uint8_t>(sample_ipv4_response[0])) == datagram_kind::stun);
  CHECK(mspi::ice::classify(0x80) == datagram_kind::rtp_rtcp);  // RTP version 2
  CHECK(mspi::ice::classify(0x81) == datagram_kind::rtp_rtcp);  // RTCP RR with one block
  CHECK(mspi::ice::classify(22) == datagram_kind::dtls);        // DTLS handshake
  CHECK(mspi::ice::classify(0x40) == datagram_kind::turn_channel);
  CHECK(mspi::ice::classify(16) == datagram_kind::zrtp);
  CHECK(mspi::ice::classify(4) == datagram_kind::unknown);
  CHECK(mspi::ice::classify(0xC0) == datagram_kind::unknown);
}

TEST_CASE("ice: candidate priorities follow RFC 8445 5.1.2", "[stun][ice]") {
  using mspi::ice::candidate_type;
  // The usual host candidate of an agent with one address, RTP component: 2130706431 (as in SDP offers).
  CHECK(mspi::ice::candidate_priority(candidate_type::host, 65535, 1) == 2130706431U);
  CHECK(mspi::ice::candidate_priority(candidate_type::host, 65535, 2) == 2130706430U);
  CHECK(mspi::ice::candidate_priority(candidate_type::server_reflexive, 65535, 1) ==
        (100U << 24) + (65535U << 8) + 255U);
  CHECK(mspi::ice::candidate_priority(candidate_type::relayed, 0, 1) == 255U);
  CHECK(mspi::ice::candidate_priority(candidate_type::peer_reflexive, 0, 1) >
        mspi::ice::candidate_priority(candidate_type::server_reflexive, 65535, 1));
}

namespace {

// A scripted STUN server on an ephemeral port: answers each Binding request with what `answer` writes
// (given the request), sent from `from` (its own socket, or another one to play an off-path spoofer).
struct scripted_server {
  explicit scripted_server(asio::io_context& io) : socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
                                                   other(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  template <class Answer>
  void serve(Answer answer) {
    socket.async_receive_from(asio::buffer(buffer), client, [this, answer](boost::system::error_code ec,
                                                                          std::size_t n) {
      if (ec) return;
      stun::message_view request;
      REQUIRE_FALSE(stun::message_view::parse(std::span(buffer).first(n), request));
      ++requests;
      answer(request);
      serve(answer);
    });
  }
  // Sends a response to `request` of class `c` from `via`, built by `fill`; `id_xor` changes the
  // transaction ID, `break_fingerprint` corrupts FINGERPRINT.
  template <class Fill>
  void respond(const stun::message_view& request, stun::message_class c, udp::socket& via, Fill fill,
               std::uint8_t id_xor = 0, bool break_fingerprint = false) {
    auto id = request.transaction();
    id[0] ^= std::byte{id_xor};
    std::array<std::byte, 548> out{};
    stun::message_writer w(out, stun::method::binding, c, id);
    fill(w);
    w.add_fingerprint();
    REQUIRE_FALSE(w.error());
    std::vector<std::byte> bytes(w.bytes().begin(), w.bytes().end());
    if (break_fingerprint) bytes.back() ^= std::byte{1};
    via.send_to(asio::buffer(bytes), client);
  }
  udp::socket socket, other;
  udp::endpoint client;
  std::array<std::byte, 1500> buffer{};
  int requests = 0;
};

}  // namespace

TEST_CASE("stun: the Binding client takes only the server's answer to its own transaction", "[stun]") {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  scripted_server server(io);
  const udp::endpoint nat(asio::ip::make_address("203.0.113.7"), 4242);
  const udp::endpoint spoofed(asio::ip::make_address("198.51.100.9"), 666);
  server.serve([&](const stun::message_view& request) {
    auto mapped = [](udp::endpoint ep) {
      return [ep](stun::message_writer& w) { w.add_xor_address(stun::attribute_type::xor_mapped_address, ep); };
    };
    // Dropped: another transaction, another source (an off-path spoofer), a broken FINGERPRINT, a request.
    server.respond(request, stun::message_class::success_response, server.socket, mapped(spoofed), 0x55);
    server.respond(request, stun::message_class::success_response, server.other, mapped(spoofed));
    server.respond(request, stun::message_class::success_response, server.socket, mapped(spoofed), 0, true);
    server.respond(request, stun::message_class::request, server.socket, mapped(spoofed));
    // Taken: the server's own answer, with the address a NAT would have mapped.
    server.respond(request, stun::message_class::success_response, server.socket, mapped(nat));
  });
  auto o = bind(io, socket, server.socket.local_endpoint(), {});
  REQUIRE(o.done);
  INFO(o.ec.message());
  REQUIRE_FALSE(o.ec);
  CHECK(o.result.mapped == nat);
  CHECK(o.result.requests == 1);
  CHECK(server.requests == 1);
}

TEST_CASE("stun: an error response ends the Binding transaction with its code", "[stun]") {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  scripted_server server(io);
  server.serve([&](const stun::message_view& request) {
    server.respond(request, stun::message_class::error_response, server.socket, [](stun::message_writer& w) {
      const std::array<std::byte, 4> code{std::byte{0}, std::byte{0}, std::byte{4}, std::byte{20}};  // 420
      std::array<std::byte, 4 + 19> value{};
      std::copy(code.begin(), code.end(), value.begin());
      const std::string_view reason = "Unknown Attribute";
      std::memcpy(value.data() + 4, reason.data(), reason.size());
      w.add(stun::attribute_type::error_code, std::span(value).first(4 + reason.size()));
    });
  });
  auto o = bind(io, socket, server.socket.local_endpoint(), {});
  REQUIRE(o.done);
  CHECK(o.ec == stun::stun_errc::error_response);
  CHECK(o.result.error_code == 420);
}

TEST_CASE("stun: async_binding takes Asio's completion tokens (deferred by default, use_awaitable)", "[stun]") {
  asio::io_context io;
  udp::socket socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  scripted_server server(io);
  const udp::endpoint nat(asio::ip::make_address("203.0.113.7"), 4242);
  server.serve([&](const stun::message_view& request) {
    server.respond(request, stun::message_class::success_response, server.socket, [&](stun::message_writer& w) {
      w.add_xor_address(stun::attribute_type::xor_mapped_address, nat);
    });
  });
  std::vector<udp::endpoint> mapped;
  // A coroutine, with the options as a temporary in the co_await expression (see binding_options).
  auto coroutine = [&]() -> asio::awaitable<void> {
    auto [ec, r] = co_await stun::async_binding(socket, server.socket.local_endpoint(), {}, asio::use_awaitable);
    CHECK_FALSE(ec);
    mapped.push_back(r.mapped);
    io.stop();
  };
  // No token: a deferred operation, launched here; the coroutine's transaction follows it on the socket.
  auto deferred = stun::async_binding(socket, server.socket.local_endpoint());
  std::move(deferred)([&](std::error_code ec, stun::binding_result r) {
    CHECK_FALSE(ec);
    mapped.push_back(r.mapped);
    asio::co_spawn(io, coroutine(), asio::detached);
  });
  io.run_for(std::chrono::seconds(10));
  CHECK(mapped == std::vector<udp::endpoint>{nat, nat});
}

// Regression (session 8): the gathering's deadline used to call cancel() on the sockets it borrows, and the
// Binding transaction did the same when it ended; a media receive loop already running on the socket (which,
// as rtp_media's, ends at operation_aborted) then stopped for good, silently. Now only the gatherer's own
// transactions end.
TEST_CASE("ice: the gathering deadline ends only its own transactions, a receive loop on the socket goes on",
          "[stun][ice][nat]") {
  using namespace std::chrono_literals;
  asio::io_context io;
  const auto loopback = asio::ip::make_address("127.0.0.1");
  udp::socket rtp(io, udp::endpoint(loopback, 0)), rtcp(io, udp::endpoint(loopback, 0));
  udp::socket silent(io, udp::endpoint(loopback, 0));  // a STUN server that never answers
  udp::socket peer(io, udp::endpoint(loopback, 0));
  std::optional<mspi::ice::reflexive_gathering> gathered;
  std::optional<std::chrono::steady_clock::time_point> deadline_at;
  mspi::ice::async_gather_server_reflexive({&rtp, &rtcp}, 2, silent.local_endpoint(), 150ms,
                                           [&](const mspi::ice::reflexive_gathering& r) {
                                             gathered = r;
                                             deadline_at = std::chrono::steady_clock::now();
                                           });
  // The media's receive loop, started while the gathering runs (as rtp_media::on_rtp: it ends at
  // operation_aborted). RTP-like datagrams (first byte 0x80) count before and after the deadline.
  std::array<std::byte, 1500> buffer{};
  udp::endpoint from;
  int before = 0, after = 0;
  bool aborted = false;
  std::function<void()> receive = [&] {
    rtp.async_receive_from(asio::buffer(buffer), from, [&](boost::system::error_code ec, std::size_t n) {
      if (ec == asio::error::operation_aborted) {
        aborted = true;
        return;
      }
      if (!ec && n > 0 && buffer[0] == std::byte{0x80}) ++(gathered ? after : before);
      receive();
    });
  };
  receive();
  // The peer sends one datagram every 10 ms for 400 ms (the deadline comes at 150 ms).
  asio::steady_timer pace(io);
  int sent = 0;
  std::function<void()> tick = [&] {
    const std::array<std::byte, 12> rtp_packet{std::byte{0x80}, std::byte{111}};
    peer.send_to(asio::buffer(rtp_packet), rtp.local_endpoint());
    if (++sent == 40) return;
    pace.expires_after(10ms);
    pace.async_wait([&](boost::system::error_code ec) {
      if (!ec) tick();
    });
  };
  tick();
  io.run_for(600ms);
  REQUIRE(gathered);
  CHECK(gathered->error == stun::stun_errc::timeout);
  CHECK(sent == 40);
  CHECK_FALSE(aborted);
  INFO("received before the deadline " << before << ", after it " << after);
  CHECK(after >= 20);  // about 25 were sent after the deadline, all to the loop (the transactions ended)
}
