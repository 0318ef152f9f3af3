// SIP DNS (RFC 3263 §4 on c-ares): SRV order (RFC 2782), the first lookup and transport of a URI, NAPTR
// selection, the TTL cache, and real resolutions against a dnsmasq started here on 127.0.0.1:7053.
#include <tspi/sip/dns/cache.hpp>
#include <tspi/sip/dns/resolver.hpp>
#include <tspi/sip/dns/selection.hpp>
#include <tspi/sip/dns/srv_order.hpp>

#include "support/child_process.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace sip = tspi::sip;
namespace asio = boost::asio;
using sip::transport_protocol;

namespace {
std::vector<std::string> targets_of(const std::vector<sip::srv_record>& v) {
  std::vector<std::string> out;
  for (const auto& r : v) out.push_back(r.target);
  return out;
}

sip::uri parse(const char* s) {
  auto u = sip::parse_uri(s);
  REQUIRE(u);
  return *u;
}

std::optional<std::string> find_dnsmasq() {
  return ptapi_test::find_program({"/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"});
}

constexpr std::uint16_t dns_port = 7053;  // this file's port (7050-7059)

// dnsmasq serving the test zone on 127.0.0.1:7053 (records with a 60 s TTL; other names in .test do not
// exist), stopped at destruction.
struct dnsmasq {
  explicit dnsmasq(const std::string& path)
      : process(std::vector<std::string>{path, "--no-daemon", "--conf-file=/dev/null", "--port=" + std::to_string(dns_port),
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--pid-file=", "--log-facility=/dev/null", "--local-ttl=60", "--local=/test/",
                // srv.test: SRV only (UDP), two priorities, three targets
                "--srv-host=_sip._udp.srv.test,b.srv.test,7061,20,0",
                "--srv-host=_sip._udp.srv.test,a.srv.test,7060,10,0",
                "--srv-host=_sip._udp.srv.test,c.srv.test,7062,30,0",
                "--host-record=a.srv.test,127.0.0.11", "--host-record=b.srv.test,127.0.0.12",
                "--host-record=c.srv.test,127.0.0.13",
                // naptr.test: NAPTR prefers TCP (order 10) over UDP (order 20), plus a SIPS one
                "--naptr-record=naptr.test,5,10,S,SIPS+D2T,,_sips._tcp.naptr.test",
                "--naptr-record=naptr.test,20,10,S,SIP+D2U,,_sip._udp.naptr.test",
                "--naptr-record=naptr.test,10,10,S,SIP+D2T,,_sip._tcp.naptr.test",
                "--srv-host=_sip._tcp.naptr.test,t.naptr.test,7063,10,0",
                "--srv-host=_sip._udp.naptr.test,u.naptr.test,7064,10,0",
                "--srv-host=_sips._tcp.naptr.test,s.naptr.test,7065,10,0",
                "--host-record=t.naptr.test,127.0.0.21", "--host-record=u.naptr.test,127.0.0.22",
                "--host-record=s.naptr.test,127.0.0.23",
                // plain.test: an address only
                "--host-record=plain.test,127.0.0.31,::1"},
                dns_port) {}
  void stop() { process.stop(); }
  ptapi_test::child_process process;
};

struct outcome {
  std::error_code ec;
  std::vector<sip::peer> peers;
};

sip::dns_config test_dns() {
  sip::dns_config cfg;
  cfg.servers = {"127.0.0.1:" + std::to_string(dns_port)};
  cfg.timeout = std::chrono::milliseconds(300);
  cfg.tries = 1;
  return cfg;
}

outcome resolve(asio::io_context& io, sip::dns_resolver& r, const char* u) {
  std::optional<outcome> got;
  r.resolve(parse(u), [&](std::error_code ec, std::vector<sip::peer> p) { got = outcome{ec, std::move(p)}; });
  io.restart();
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5); !got && std::chrono::steady_clock::now() < end;)
    io.run_for(std::chrono::milliseconds(20));
  REQUIRE(got);
  return *got;
}

std::vector<std::string> strings(const std::vector<sip::peer>& v) {
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(p.to_string());
  return out;
}
}  // namespace

TEST_CASE("dns: SRV records in RFC 2782 order with an injected random source", "[sip][dns]") {
  std::vector<sip::srv_record> records = {{"c", 1, 20, 0}, {"a", 1, 10, 60}, {"dot", 1, 5, 0}, {"b", 1, 10, 40}, {"z", 1, 10, 0}};
  records[2].target = ".";
  std::vector<std::uint32_t> bounds;
  auto lowest = [&](std::uint32_t bound) { bounds.push_back(bound); return 0u; };
  // 0 picks the first record whose running sum reaches it: the zero-weight one, placed first
  CHECK(targets_of(sip::order_srv(records, lowest)) == std::vector<std::string>{"z", "a", "b", "c"});
  CHECK(bounds == std::vector<std::uint32_t>{100, 100});  // sums of the remaining weights; single records draw nothing
  auto highest = [](std::uint32_t bound) { return bound; };
  CHECK(targets_of(sip::order_srv(records, highest)) == std::vector<std::string>{"b", "a", "z", "c"});
  // a seeded source spreads first choices by weight: "a" (60) first about 60 % of the time
  auto random = sip::make_srv_random(42);
  int a_first = 0;
  for (int i = 0; i < 2000; ++i) a_first += sip::order_srv({{"a", 1, 1, 60}, {"b", 1, 1, 40}}, random).front().target == "a";
  CHECK(a_first > 1100);
  CHECK(a_first < 1300);
}

TEST_CASE("dns: what a URI looks up first and over which transport (RFC 3263 §4.1-4.2)", "[sip][dns]") {
  using step = sip::dns_plan::step;
  const sip::dns_transports both;
  CHECK(sip::plan_resolution(parse("sips:bob@example.com"), both).error == sip::dns_errc::tls_required);
  CHECK(sip::plan_resolution(parse("sip:bob@192.0.2.1;transport=TLS"), both).error == sip::dns_errc::tls_required);
  CHECK(sip::plan_resolution(parse("sip:bob@example.com;transport=sctp"), both).error == sip::dns_errc::transport_unsupported);
  auto literal = sip::plan_resolution(parse("sip:bob@[::1]:5070;transport=tcp"), both);
  CHECK(literal.first == step::literal);
  CHECK(literal.target.to_string() == "tcp:[::1]:5070");
  CHECK(sip::plan_resolution(parse("sip:bob@localhost"), both).target.to_string() == "udp:127.0.0.1:5060");
  CHECK(sip::plan_resolution(parse("sip:bob@example.com:5080"), both).first == step::addresses);
  auto srv = sip::plan_resolution(parse("sip:bob@example.com;transport=tcp"), both);
  CHECK(srv.first == step::srv);
  CHECK(srv.transport == transport_protocol::tcp);
  CHECK(sip::plan_resolution(parse("sip:bob@example.com"), both).first == step::naptr);
  CHECK(sip::plan_resolution(parse("sip:bob@example.com"), {false, true}).transport == transport_protocol::tcp);
}

TEST_CASE("dns: NAPTR records a SIP client follows, in order, enabled transports only", "[sip][dns]") {
  std::vector<sip::naptr_record> records = {{20, 5, "s", "SIP+D2U", "_sip._udp.x"}, {10, 9, "S", "sip+d2t", "_sip._tcp.x"},
                                            {5, 1, "s", "SIPS+D2T", "_sips._tcp.x"}, {10, 1, "u", "E2U+sip", "!x!"},
                                            {1, 1, "s", "SIP+D2S", "_sip._sctp.x"}};
  auto both = sip::usable_naptr(records, {}, 8);
  REQUIRE(both.size() == 2);
  CHECK(both[0] == std::pair<transport_protocol, std::string>{transport_protocol::tcp, "_sip._tcp.x"});
  CHECK(both[1] == std::pair<transport_protocol, std::string>{transport_protocol::udp, "_sip._udp.x"});
  CHECK(sip::usable_naptr(records, {true, false}, 8).size() == 1);
  CHECK(sip::usable_naptr(records, {}, 1).size() == 1);
}

TEST_CASE("dns: sips: and transport=tls go over TLS only, and only when TLS is enabled (RFC 3261 §26.2, RFC 3263 §4.1)",
          "[sip][dns][sip_tls]") {
  using step = sip::dns_plan::step;
  const sip::dns_transports all{true, true, true};
  auto sips = sip::plan_resolution(parse("sips:bob@example.com"), all);
  CHECK(sips.first == step::naptr);
  CHECK(sips.transport == transport_protocol::tls);
  CHECK(sips.port == 5061);
  CHECK(sips.tls_only);
  auto literal = sip::plan_resolution(parse("sip:bob@192.0.2.1;transport=TLS"), all);
  CHECK(literal.first == step::literal);
  CHECK(literal.target.to_string() == "tls:192.0.2.1:5061");
  auto srv = sip::plan_resolution(parse("sip:bob@example.com;transport=tls"), all);
  CHECK(srv.first == step::srv);
  CHECK(sip::srv_name(srv.transport, "example.com") == "_sips._tcp.example.com");
  CHECK(sip::plan_resolution(parse("sips:bob@localhost:5071"), all).target.to_string() == "tls:127.0.0.1:5071");
  // TLS enabled changes nothing for sip: without transport=tls
  CHECK(sip::plan_resolution(parse("sip:bob@192.0.2.1"), all).target.to_string() == "udp:192.0.2.1:5060");
  CHECK_FALSE(sip::plan_resolution(parse("sip:bob@example.com"), all).tls_only);
  // TLS only: a sip: URI goes over TLS too
  CHECK(sip::plan_resolution(parse("sip:bob@192.0.2.1"), {false, false, true}).target.to_string() == "tls:192.0.2.1:5061");
  // never downgraded: TLS not enabled
  CHECK(sip::plan_resolution(parse("sips:bob@192.0.2.1"), {true, true, false}).error == sip::dns_errc::tls_required);
  // NAPTR: SIPS+D2T followed when TLS is enabled; for a sips: URI nothing else
  const std::vector<sip::naptr_record> records = {{20, 5, "s", "SIP+D2U", "_sip._udp.x"}, {5, 1, "s", "SIPS+D2T", "_sips._tcp.x"}};
  auto followed = sip::usable_naptr(records, all, 8);
  REQUIRE(followed.size() == 2);
  CHECK(followed[0] == std::pair<transport_protocol, std::string>{transport_protocol::tls, "_sips._tcp.x"});
  auto tls_only = sip::usable_naptr(records, {false, false, true}, 8);
  REQUIRE(tls_only.size() == 1);
  CHECK(tls_only[0].first == transport_protocol::tls);
}

TEST_CASE("dns: the answer cache keeps entries for their TTL and at most its capacity", "[sip][dns]") {
  sip::dns_cache<int> cache(2);
  const auto t0 = std::chrono::steady_clock::now();
  cache.insert("a", 1, std::chrono::seconds(10), t0);
  cache.insert("b", 2, std::chrono::seconds(5), t0);
  cache.insert("zero", 3, std::chrono::seconds(0), t0);  // TTL 0: not cached
  CHECK(cache.size() == 2);
  CHECK(cache.find("a", t0 + std::chrono::seconds(9)) == 1);
  CHECK_FALSE(cache.find("a", t0 + std::chrono::seconds(10)));
  cache.insert("a", 1, std::chrono::seconds(10), t0);
  cache.insert("c", 4, std::chrono::seconds(20), t0);  // full: "b" expires first and makes room
  CHECK_FALSE(cache.find("b", t0));
  CHECK(cache.find("c", t0) == 4);
  CHECK(sip::dns_key("SRV.Test.") == "srv.test");
}

TEST_CASE("dns: a DNS server c-ares cannot parse fails the resolver, literals still need no DNS", "[sip][dns]") {
  asio::io_context io;
  sip::dns_config cfg;
  cfg.servers = {"not a server"};
  std::error_code ec;
  sip::dns_resolver r(io.get_executor(), cfg, {}, {}, ec);
  CHECK(ec == sip::dns_errc::init_failed);
  CHECK(resolve(io, r, "sip:alice@example.test").ec == sip::dns_errc::init_failed);
  CHECK(strings(resolve(io, r, "sip:alice@127.0.0.1:7099").peers) == std::vector<std::string>{"udp:127.0.0.1:7099"});
}

TEST_CASE("dns: resolutions against a real DNS server (dnsmasq)", "[sip][dns]") {
  auto path = find_dnsmasq();
  if (!path) {
    WARN("dnsmasq not installed (Debian: dnsmasq): DNS resolution against a server skipped");
    return;
  }
  dnsmasq server(*path);
  asio::io_context io;
  SECTION("NAPTR, SRV and A/AAAA, then from the cache") {
    std::error_code ec;
    sip::dns_resolver r(io.get_executor(), test_dns(), {}, sip::make_srv_random(1), ec);
    REQUIRE_FALSE(ec);
    auto srv = resolve(io, r, "sip:alice@srv.test");
    INFO(srv.ec.message());
    CHECK_FALSE(srv.ec);
    CHECK(strings(srv.peers) == std::vector<std::string>{"udp:127.0.0.11:7060", "udp:127.0.0.12:7061", "udp:127.0.0.13:7062"});
    // NAPTR order 10 (TCP) before 20 (UDP); SIPS+D2T is not followed (no TLS)
    CHECK(strings(resolve(io, r, "sip:alice@naptr.test").peers) ==
          std::vector<std::string>{"tcp:127.0.0.21:7063", "udp:127.0.0.22:7064"});
    // a transport parameter: only that SRV name
    CHECK(strings(resolve(io, r, "sip:alice@naptr.test;transport=udp").peers) == std::vector<std::string>{"udp:127.0.0.22:7064"});
    // no NAPTR, no SRV: A and AAAA with 5060; a port: A/AAAA with that port
    auto plain = strings(resolve(io, r, "sip:alice@plain.test").peers);
    std::sort(plain.begin(), plain.end());
    CHECK(plain == std::vector<std::string>{"udp:127.0.0.31:5060", "udp:[::1]:5060"});
    CHECK(resolve(io, r, "sip:alice@PLAIN.test:7099;transport=tcp").peers.front().port == 7099);
    CHECK(resolve(io, r, "sip:alice@nothing.test").ec == sip::dns_errc::not_found);
    CHECK(resolve(io, r, "sips:alice@srv.test").ec == sip::dns_errc::tls_required);
    // the server gone, answers come from the cache (TTL 60 s)
    server.stop();
    CHECK(strings(resolve(io, r, "sip:bob@srv.test").peers) == strings(srv.peers));
    CHECK(resolve(io, r, "sip:alice@uncached.test").ec == sip::dns_errc::timeout);
  }
  SECTION("bounded targets, and no answer for a resolver destroyed first") {
    auto cfg = test_dns();
    cfg.max_targets = 2;
    std::error_code ec;
    sip::dns_resolver r(io.get_executor(), cfg, {}, {}, ec);
    REQUIRE_FALSE(ec);
    auto srv = resolve(io, r, "sip:alice@srv.test");
    CHECK(strings(srv.peers) == std::vector<std::string>{"udp:127.0.0.11:7060", "udp:127.0.0.12:7061"});
    bool called = false;
    {
      sip::dns_resolver gone(io.get_executor(), cfg, {}, {}, ec);
      gone.resolve(parse("sip:x@naptr.test"), [&](std::error_code, std::vector<sip::peer>) { called = true; });
      gone.resolve(parse("sip:x@127.0.0.1"), [&](std::error_code, std::vector<sip::peer>) { called = true; });  // posted already
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(500));
    CHECK_FALSE(called);
  }
}
