// tspi::sip::parse_bind_address: `IP[:PORT]`, `[IPv6][:PORT]` and bare IPv6 literals, and every way a
// command line can get it wrong.
#include <tspi/sip/bind_address.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <system_error>

using tspi::sip::parse_bind_address;

TEST_CASE("parse_bind_address: IPv4 and IPv6 literals with and without a port", "[tspi][sip][bind_address]") {
  struct row {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  for (const auto& r : {row{"127.0.0.1:5070", "127.0.0.1", 5070}, row{"0.0.0.0", "0.0.0.0", 5060},
                        row{"10.1.2.3:0", "10.1.2.3", 0}, row{"[::1]:5080", "::1", 5080}, row{"[::1]", "::1", 5060},
                        row{"::1", "::1", 5060}, row{"fe80::1:2", "fe80::1:2", 5060}, row{"1.2.3.4:65535", "1.2.3.4", 65535}}) {
    INFO(r.text);
    std::error_code ec;
    const auto b = parse_bind_address(r.text, 5060, ec);
    REQUIRE_FALSE(ec);
    CHECK(b.host == r.host);
    CHECK(b.port == r.port);
  }
  CHECK(parse_bind_address("192.0.2.1", 3478).port == 3478);  // the default is the caller's (STUN here)
}

TEST_CASE("parse_bind_address refuses names, bad ports and broken brackets", "[tspi][sip][bind_address]") {
  for (const std::string text : {"", "nonsense", "localhost:5060", "example.com", "127.0.0.1:", "127.0.0.1:65536",
                                 "127.0.0.1:50x", "127.0.0.1:-1", "127.0.0.1: 5060", "[::1", "[::1]5060", "[::1]:",
                                 "[127.0.0.1:5060", "[]:5060", ":5060", "1.2.3.4.5", "1.2.3:4:5", "1.2.3.4:5060:1"}) {
    INFO("'" << text << "'");
    std::error_code ec;
    const auto b = parse_bind_address(text, 5060, ec);
    CHECK(ec == mspi::tapi_errc::invalid_address);
    CHECK(b.host.empty());
  }
  std::error_code ec;
  (void)parse_bind_address(std::string(300, '1'), 5060, ec);  // longer than any address: refused unread
  CHECK(ec == mspi::tapi_errc::invalid_address);
  try {
    (void)parse_bind_address("bad", 5060);
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == mspi::tapi_errc::invalid_address);
    CHECK(std::string(e.what()).find("parse_bind_address") != std::string::npos);
  }
}
