// The SIP TSP against a hand-driven peer: what it answers to requests it does not support, malformed
// input during a call, INFO digits, REFER (blind transfer), REGISTER with digest authentication, and
// Record-Route from a proxy in front of the UAS.
#include <tspi/sip/digest.hpp>
#include <tspi/sip/transaction.hpp>

#include "sip_fixture.hpp"
#include "sip_blocking_peer.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/use_future.hpp>

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

using namespace ptapi_test;
using tspi::call_state;
using tspi::call_state_cause;

namespace {

const std::string sdp_offer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6998 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

// A request from `peer` to the party at `to_port`, as literal text.
std::string request(const sip_blocking_peer& peer, const std::string& method, std::uint16_t to_port, const std::string& call_id,
                    int cseq, const std::string& extra = {}, const std::string& body = {}, const std::string& to_tag = {}) {
  std::string m = method + " sip:ptapi@127.0.0.1:" + std::to_string(to_port) + " SIP/2.0\r\n";
  m += "Via: " + peer.via() + "\r\n";
  m += "From: <sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">;tag=rawtag\r\n";
  m += "To: <sip:ptapi@127.0.0.1:" + std::to_string(to_port) + ">" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\r\n";
  if (!call_id.empty()) m += "Call-ID: " + call_id + "\r\n";
  m += "CSeq: " + std::to_string(cseq) + " " + method + "\r\n";
  m += "Max-Forwards: 70\r\nContact: <sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">\r\n";
  m += extra;
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return m;
}

std::string to_tag_of(const tspi::sip::message& r) {
  auto to = tspi::sip::parse_name_addr(r.header("To").value_or(""));
  return to ? to->tag() : std::string();
}
}  // namespace

TEST_CASE("the SIP TSP answers what it does not support with the RFC 3261 responses", "[tspi][sip][uas]") {
  sip_party ua;
  const auto port = ua.port();
  ua.auto_answer();
  sip_blocking_peer peer;

  peer.send(request(peer, "OPTIONS", port, "opt-1", 1), port);
  auto r = peer.response(200);
  REQUIRE(r);
  CHECK(r->header("Allow").value_or("").find("INVITE") != std::string_view::npos);

  peer.send(request(peer, "FROB", port, "frob-1", 1), port);
  CHECK(peer.response(501));
  peer.send(request(peer, "SUBSCRIBE", port, "sub-1", 1, "Event: presence\r\n"), port);
  r = peer.response(405);
  REQUIRE(r);
  CHECK(r->header("Allow"));

  peer.send(request(peer, "INVITE", port, "req-1", 1, "Require: 100rel\r\nContent-Type: application/sdp\r\n", sdp_offer), port);
  r = peer.response(420);
  REQUIRE(r);
  CHECK(r->header("Unsupported").value_or("") == "100rel");

  peer.send(request(peer, "INVITE", port, "typ-1", 1, "Content-Type: text/plain\r\n", "hello"), port);
  CHECK(peer.response(415));

  peer.send(request(peer, "BYE", port, "nobody-1", 1, {}, {}, "sometag"), port);
  CHECK(peer.response(481));

  peer.send(request(peer, "INVITE", port, "", 1, "Content-Type: application/sdp\r\n", sdp_offer), port);  // no Call-ID
  CHECK(peer.response(400));
  CHECK(ua.log.offered.empty());  // none of these became a call
}

TEST_CASE("malformed, truncated and oversized input leave a call up", "[tspi][sip][uas][robustness]") {
  sip_party ua;
  const auto port = ua.port();
  ua.auto_answer();
  sip_blocking_peer peer;
  const std::string cid = "robust-1";
  const auto invite = request(peer, "INVITE", port, cid, 1, "Content-Type: application/sdp\r\n", sdp_offer);
  peer.send(invite, port);
  auto ok = peer.response(200);
  REQUIRE(ok);
  const auto tag = to_tag_of(*ok);
  REQUIRE_FALSE(tag.empty());
  peer.send(request(peer, "ACK", port, cid, 1, {}, {}, tag), port);
  auto c = ua.last_offered();
  REQUIRE(c);
  REQUIRE(wait_state(ua.log, c, call_state::connected));

  peer.send(std::string("\x01\x02 not sip at all \xff", 20), port);
  peer.send(std::string(65000, 'X'), port);
  peer.send(invite.substr(0, invite.size() / 2), port);  // truncated: Content-Length exceeds the bytes
  auto huge = request(peer, "OPTIONS", port, "huge-1", 1, "X-Pad: " + std::string(30000, 'p') + "\r\n");
  peer.send(huge, port);  // a header line over the limit
  peer.send(request(peer, "OPTIONS", port, cid, 2, {}, {}, tag), port);  // in-dialog: still there
  CHECK(peer.response(200));
  CHECK(c.state() == call_state::connected);

  peer.send(request(peer, "BYE", port, cid, 3, {}, {}, tag), port);
  CHECK(peer.response(200));
  REQUIRE(wait_state(ua.log, c, call_state::disconnected));
  CHECK(c.info().cause == call_state_cause::disconnect_normal);
}

TEST_CASE("INFO with application/dtmf-relay is reported as a digit event", "[tspi][sip][uas][dtmf]") {
  sip_party ua;
  const auto port = ua.port();
  ua.auto_answer();
  sip_blocking_peer peer;
  peer.send(request(peer, "INVITE", port, "info-1", 1, "Content-Type: application/sdp\r\n", sdp_offer), port);
  auto ok = peer.response(200);
  REQUIRE(ok);
  const auto tag = to_tag_of(*ok);
  peer.send(request(peer, "ACK", port, "info-1", 1, {}, {}, tag), port);
  peer.send(request(peer, "INFO", port, "info-1", 2, "Content-Type: application/dtmf-relay\r\n", "Signal=7\r\nDuration=160\r\n", tag),
            port);
  CHECK(peer.response(200));
  REQUIRE(ua.log.wait([&] { return !ua.digits.empty(); }));
  CHECK(ua.digits_seen() == "7");
  peer.send(request(peer, "BYE", port, "info-1", 3, {}, {}, tag), port);
  CHECK(peer.response(200));
}

TEST_CASE("blind transfer sends REFER and ends the call when the NOTIFY reports success", "[tspi][sip][transfer]") {
  sip_party ua;
  const auto port = ua.port();
  sip_blocking_peer peer;
  auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
  auto connected = call.async_connect(boost::asio::use_future);

  auto invite = peer.request("INVITE");
  REQUIRE(invite);
  auto ok = tspi::sip::make_response(*invite, 200, "far");
  ok.add("Contact", "<sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">");
  ok.add("Content-Type", "application/sdp");
  ok.body = sdp_offer;
  peer.send(ok, peer.last_from_port);
  REQUIRE(peer.request("ACK"));
  REQUIRE(connected.get() == std::error_code{});

  auto transferred = call.async_blind_transfer("sip:carol@127.0.0.1:5999", boost::asio::use_future);
  auto refer = peer.request("REFER");
  REQUIRE(refer);
  CHECK(refer->header("Refer-To").value_or("") == "<sip:carol@127.0.0.1:5999>");
  CHECK(refer->header("Referred-By"));
  peer.send(tspi::sip::make_response(*refer, 202), peer.last_from_port);
  CHECK(transferred.get() == std::error_code{});
  CHECK(call.state() == call_state::connected);

  // Progress, then success (RFC 3515 §2.4.5): the transferor hangs up.
  auto notify = [&](int cseq, const std::string& frag, const std::string& state) {
    tspi::sip::message n;
    n.method = "NOTIFY";
    n.request_uri = "sip:ptapi@127.0.0.1:" + std::to_string(port);
    n.add("Via", peer.via());
    n.add("From", "<sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">;tag=far");
    n.add("To", std::string(invite->header("From").value_or("")));
    n.add("Call-ID", std::string(invite->header("Call-ID").value_or("")));
    n.add("CSeq", std::to_string(cseq) + " NOTIFY");
    n.add("Max-Forwards", "70");
    n.add("Event", "refer");
    n.add("Subscription-State", state);
    n.add("Content-Type", "message/sipfrag;version=2.0");
    n.body = frag;
    peer.send(n, port);
    return peer.response(200);
  };
  CHECK(notify(1, "SIP/2.0 100 Trying\r\n", "active;expires=60"));
  CHECK(call.state() == call_state::connected);
  CHECK(notify(2, "SIP/2.0 200 OK\r\n", "terminated;reason=noresource"));
  auto bye = peer.request("BYE");
  REQUIRE(bye);
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
  REQUIRE(wait_state(ua.log, call, call_state::disconnected));
  CHECK(call.info().cause == call_state_cause::disconnect_normal);
}

TEST_CASE("an account registers with digest authentication and un-registers at shutdown", "[tspi][sip][register]") {
  sip_blocking_peer registrar;
  auto cfg = sip_party::config(0);
  tspi::sip::sip_account account;
  account.aor = "sip:alice@example.test";
  account.password = "secret";
  account.registrar = "127.0.0.1:" + std::to_string(registrar.port());
  account.expires = std::chrono::seconds(3600);
  cfg.accounts.push_back(account);
  auto ua = std::make_unique<sip_party>(cfg);
  CHECK(ua->uri == "sip:alice@example.test");
  CHECK(ua->address.state() == tspi::address_state::out_of_service);  // until registered

  auto first = registrar.request("REGISTER");
  REQUIRE(first);
  CHECK(first->request_uri == "sip:127.0.0.1:" + std::to_string(registrar.port()));
  CHECK(first->header("Expires").value_or("") == "3600");
  CHECK_FALSE(first->header("Authorization"));
  auto challenge = tspi::sip::make_response(*first, 401, "reg");
  challenge.add("WWW-Authenticate", "Digest realm=\"example.test\", nonce=\"n0nce\", algorithm=SHA-256, qop=\"auth\"");
  registrar.send(challenge, registrar.last_from_port);

  auto second = registrar.request("REGISTER");
  REQUIRE(second);
  std::error_code ec;
  auto creds = tspi::sip::parse_digest_response(second->header("Authorization").value_or(""), ec);
  REQUIRE(creds);
  CHECK(creds->username == "alice");
  CHECK(creds->algorithm == tspi::sip::digest_algorithm::sha256);
  CHECK(tspi::sip::verify_digest_response(*creds, "secret", "REGISTER"));
  CHECK_FALSE(tspi::sip::verify_digest_response(*creds, "wrong", "REGISTER"));
  auto ok = tspi::sip::make_response(*second, 200, "reg");
  ok.add("Contact", std::string(second->header("Contact").value_or("")) + ";expires=3600");
  registrar.send(ok, registrar.last_from_port);
  REQUIRE(ua->log.wait([&] { return !ua->log.address_events.empty(); }));
  CHECK(ua->address.state() == tspi::address_state::in_service);

  ua.reset();  // shutdown: Expires 0, pre-authorized with the remembered challenge
  auto bye = registrar.request("REGISTER");
  REQUIRE(bye);
  CHECK(bye->header("Expires").value_or("") == "0");
  CHECK(bye->header("Authorization"));
}

TEST_CASE("a refused registration leaves the address out of service and is retried", "[tspi][sip][register]") {
  sip_blocking_peer registrar;
  auto cfg = sip_party::config(0);
  tspi::sip::sip_account account;
  account.aor = "sip:bob@example.test";
  account.registrar = "127.0.0.1:" + std::to_string(registrar.port());
  cfg.accounts.push_back(account);
  cfg.registration_retry = std::chrono::seconds(1);
  sip_party ua(cfg);
  auto first = registrar.request("REGISTER");
  REQUIRE(first);
  registrar.send(tspi::sip::make_response(*first, 403), registrar.last_from_port);
  CHECK(ua.address.state() == tspi::address_state::out_of_service);
  auto retry = registrar.request("REGISTER", 3s);  // tried again after registration_retry
  REQUIRE(retry);
  CHECK(retry->header("CSeq").value_or("").substr(0, 2) == "2 ");
  std::error_code ec;
  (void)ua.address.create_call("sip:carol@127.0.0.1:5999", mspi::media_type::audio, ec);
  CHECK(ec == mspi::tapi_errc::invalid_address_state);
}

TEST_CASE("behind a record-routing proxy the UAS copies Record-Route and routes its BYE through it", "[tspi][sip][uas][proxy]") {
  // RFC 3261 §12.1.1 (the UAS copies Record-Route, in order, into responses that establish the dialog) and
  // §12.2.1.1 (its requests in the dialog carry that route set and go to the first entry). The peer plays
  // the proxy nearest the UAS (and, through it, the caller); the second entry is a proxy further away.
  sip_party ua;
  const auto port = ua.port();
  ua.auto_answer();
  sip_blocking_peer peer;
  const std::string near = "<sip:127.0.0.1:" + std::to_string(peer.port()) + ";lr;ftag=rawtag>";
  const std::string far = "<sip:192.0.2.7;lr>";
  const std::vector<std::string_view> route_set{near, far};
  const std::string cid = "rr-1";
  peer.send(request(peer, "INVITE", port, cid, 1,
                    "Record-Route: " + near + "\r\nRecord-Route: " + far + "\r\nContent-Type: application/sdp\r\n", sdp_offer),
            port);
  std::vector<tspi::sip::message> provisional;
  auto ok = peer.receive([&](const tspi::sip::message& m) {
    if (m.status > 100 && m.status < 200) provisional.push_back(m);
    return m.status == 200;
  });
  REQUIRE(ok);
  CHECK(ok->headers_named("Record-Route") == route_set);
  for (const auto& p : provisional) CHECK(p.headers_named("Record-Route") == route_set);
  const auto tag = to_tag_of(*ok);
  peer.send(request(peer, "ACK", port, cid, 1, {}, {}, tag), port);
  auto c = ua.last_offered();
  REQUIRE(c);
  REQUIRE(wait_state(ua.log, c, call_state::connected));

  c.async_disconnect(tspi::disconnect_code::normal, [](std::error_code) {});
  auto bye = peer.request("BYE");  // it reached the peer: the first Route entry, not the Contact's address
  REQUIRE(bye);
  CHECK(bye->headers_named("Route") == route_set);
  CHECK(bye->request_uri == "sip:raw@127.0.0.1:" + std::to_string(peer.port()));  // the remote target (Contact)
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
  CHECK(wait_state(ua.log, c, call_state::disconnected));
}

TEST_CASE("an outbound proxy gets out-of-dialog INVITEs with a preloaded Route, redirected ones too", "[tspi][sip][proxy][redirect]") {
  // RFC 3261 §8.1.2 (loose routing: Route <proxy;lr>, the Request-URI stays the destination, whose host
  // name only the proxy resolves) and §8.1.3.4 (a 3xx's Contact becomes the new Request-URI; the new
  // INVITE, CSeq + 1, goes through the proxy again).
  sip_blocking_peer proxy;
  auto cfg = sip_party::config(0);
  tspi::sip::sip_account account;
  account.aor = "sip:alice@example.test";
  account.outbound_proxy = "sip:127.0.0.1:" + std::to_string(proxy.port());
  cfg.accounts.push_back(account);
  sip_party ua(cfg);
  auto call = ua.address.create_call("sip:bob@callee.example.test");
  auto connected = call.async_connect(boost::asio::use_future);
  auto invite = proxy.request("INVITE");
  REQUIRE(invite);
  CHECK(invite->request_uri == "sip:bob@callee.example.test");
  CHECK(invite->header("Route").value_or("") == "<sip:127.0.0.1:" + std::to_string(proxy.port()) + ";lr>");
  auto moved = tspi::sip::make_response(*invite, 302, "mv");
  moved.add("Contact", "<sip:bob@second.example.test>;q=0.4, <sip:bob@first.example.test>;q=0.9");
  proxy.send(moved, proxy.last_from_port);
  auto again = proxy.request("INVITE");
  REQUIRE(again);
  CHECK(again->request_uri == "sip:bob@first.example.test");  // the higher q first
  CHECK(again->header("CSeq").value_or("") == "2 INVITE");
  CHECK(again->header("Call-ID") == invite->header("Call-ID"));
  CHECK(again->header("Route") == invite->header("Route"));
  auto ok = tspi::sip::make_response(*again, 200, "far");
  ok.add("Contact", "<sip:bob@127.0.0.1:" + std::to_string(proxy.port()) + ">");
  ok.add("Content-Type", "application/sdp");
  ok.body = sdp_offer;
  proxy.send(ok, proxy.last_from_port);
  REQUIRE(proxy.request("ACK"));
  REQUIRE(connected.get() == std::error_code{});
  CHECK(call.info().provider_responses == std::vector<int>{302, 200});
  CHECK(call.info().provider_detail == "redirected by 302 to sip:bob@first.example.test");
}

TEST_CASE("3xx redirects: loops skipped, the limit kept; sips: and transport=tls refused at once", "[tspi][sip][redirect]") {
  auto cfg = sip_party::config(0);
  cfg.max_redirects = 1;
  sip_party ua(cfg);
  sip_blocking_peer first, second;
  const auto first_uri = "sip:bob@127.0.0.1:" + std::to_string(first.port());
  const auto second_uri = "sip:bob@127.0.0.1:" + std::to_string(second.port());
  auto call = ua.address.create_call(first_uri);
  auto connected = call.async_connect(boost::asio::use_future);
  auto invite = first.request("INVITE");
  REQUIRE(invite);
  auto moved = tspi::sip::make_response(*invite, 301, "mv");
  moved.add("Contact", "<" + first_uri + ">, <" + second_uri + ">;q=0.1");  // the first is a loop
  first.send(moved, first.last_from_port);
  auto redirected = second.request("INVITE");
  REQUIRE(redirected);
  CHECK(redirected->request_uri == second_uri);
  auto again = tspi::sip::make_response(*redirected, 302, "mv2");
  again.add("Contact", "<sip:carol@127.0.0.1:5999>");  // beyond max_redirects = 1
  second.send(again, second.last_from_port);
  CHECK(connected.get() != std::error_code{});
  REQUIRE(wait_state(ua.log, call, call_state::disconnected));
  CHECK(call.info().provider_detail == "more than 1 redirections; last to sip:carol@127.0.0.1:5999");

  for (const char* tls : {"sips:bob@127.0.0.1:5999", "sip:bob@127.0.0.1:5999;transport=tls"}) {
    auto c = ua.address.create_call(tls);
    (void)c.async_connect(boost::asio::use_future).get();
    REQUIRE(wait_state(ua.log, c, call_state::disconnected));
    CHECK(c.info().cause == call_state_cause::disconnect_badaddress);
    CHECK(c.info().provider_detail.find("requires TLS") != std::string::npos);
  }
}
