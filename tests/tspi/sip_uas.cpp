// The SIP TSP against a hand-driven peer: what it answers to requests it does not support (a sips: URI in
// clear included), malformed input during a call, INFO digits, REFER (blind transfer, and REFER to us),
// REGISTER with digest authentication, the public address learned from the registrar, advertised addresses of a wildcard bind,
// Record-Route from a proxy in front of the UAS; PRACK (RFC 3262), forks, early media and UPDATE
// (RFC 3311); session timers (RFC 4028).
#include <tspi/sip/detail/advertised_address.hpp>
#include <tspi/sip/detail/reliable_provisional.hpp>
#include <tspi/sip/detail/session_expires.hpp>
#include <tspi/sip/digest.hpp>
#include <tspi/sip/history_info.hpp>
#include <tspi/sip/transaction.hpp>

#include "sip_fixture.hpp"
#include "sip_blocking_peer.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
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

// Settings of a party with one account `aor` that registers at `registrar`.
tspi::sip::sip_config registering(const sip_blocking_peer& registrar, const std::string& aor) {
  auto cfg = sip_party::config(0);
  tspi::sip::sip_account account;
  account.aor = aor;
  account.registrar = "127.0.0.1:" + std::to_string(registrar.port());
  cfg.accounts.push_back(account);
  return cfg;
}

std::string to_tag_of(const tspi::sip::message& r) {
  auto to = tspi::sip::parse_name_addr(r.header("To").value_or(""));
  return to ? to->tag() : std::string();
}

// `peer` calls the (auto-answering) party at `port` with Call-ID `call_id` and ACKs its 200; returns the
// party's To tag (empty when no 200 came).
std::string answered_call(sip_blocking_peer& peer, std::uint16_t port, const std::string& call_id) {
  peer.send(request(peer, "INVITE", port, call_id, 1, "Content-Type: application/sdp\r\n", sdp_offer), port);
  auto ok = peer.response(200);
  if (!ok) return {};
  const auto tag = to_tag_of(*ok);
  peer.send(request(peer, "ACK", port, call_id, 1, {}, {}, tag), port);
  return tag;
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
  CHECK(r->header("Allow").value_or("").find("PRACK, UPDATE") != std::string_view::npos);

  peer.send(request(peer, "FROB", port, "frob-1", 1), port);
  CHECK(peer.response(501));
  peer.send(request(peer, "SUBSCRIBE", port, "sub-1", 1, "Event: presence\r\n"), port);
  r = peer.response(405);
  REQUIRE(r);
  CHECK(r->header("Allow"));

  peer.send(request(peer, "INVITE", port, "req-1", 1, "Require: 100rel, frobnication\r\nContent-Type: application/sdp\r\n", sdp_offer), port);
  r = peer.response(420);
  REQUIRE(r);
  CHECK(r->header("Unsupported").value_or("") == "frobnication");  // 100rel is supported (RFC 3262)

  peer.send(request(peer, "INVITE", port, "typ-1", 1, "Content-Type: text/plain\r\n", "hello"), port);
  CHECK(peer.response(415));

  peer.send(request(peer, "BYE", port, "nobody-1", 1, {}, {}, "sometag"), port);
  CHECK(peer.response(481));

  peer.send(request(peer, "INVITE", port, "", 1, "Content-Type: application/sdp\r\n", sdp_offer), port);  // no Call-ID
  CHECK(peer.response(400));

  // A sips: Request-URI that arrived over UDP (RFC 5630): refused, never served in clear; OPTIONS too.
  for (const std::string method : {"INVITE", "OPTIONS"}) {
    auto clear = request(peer, method, port, "sips-" + method, 1, "Content-Type: application/sdp\r\n", sdp_offer);
    clear.replace(0, clear.find(' ') + 5, method + " sips:");
    REQUIRE(clear.rfind(method + " sips:ptapi@127.0.0.1:", 0) == 0);
    peer.send(clear, port);
    CHECK(peer.response(416));
  }
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
  const auto tag = answered_call(peer, port, "info-1");
  REQUIRE_FALSE(tag.empty());
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
  auto invite = peer.answer_invite(sdp_offer);
  REQUIRE(invite);
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
  std::mutex m;
  std::vector<tspi::sip::message> sent;  // the trace's outgoing messages
  std::vector<int> outcomes;             // on_registration (Catch2 is not thread-safe: checked on this thread)
  std::vector<std::size_t> accounts;
  cfg.trace = [&](const tspi::sip::message& msg, bool outgoing) {
    std::lock_guard lock(m);
    if (outgoing) sent.push_back(msg);
  };
  cfg.on_registration = [&](std::size_t account_index, int status, std::string_view) {
    std::lock_guard lock(m);
    accounts.push_back(account_index);
    outcomes.push_back(status);
  };
  auto ua = std::make_unique<sip_party>(cfg);
  CHECK(ua->uri == "sip:alice@example.test");
  CHECK(ua->address.state() == tspi::address_state::out_of_service);  // until registered

  auto first = registrar.request("REGISTER");
  REQUIRE(first);
  CHECK(first->request_uri == "sip:example.test");  // RFC 3261 §10.2: the domain; the registrar is the next hop
  CHECK(first->header("User-Agent").value_or("") == cfg.user_agent);
  CHECK(first->header("Expires").value_or("") == "3600");
  {  // the trace shows the REGISTER as it went: with the Via and Max-Forwards the transaction layer adds
    std::lock_guard lock(m);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].to_string() == first->to_string());
    CHECK(sent[0].header("Via").value_or("").find(";rport") != std::string_view::npos);
    CHECK(sent[0].header("Max-Forwards").value_or("") == "70");
  }
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
  {
    std::lock_guard lock(m);
    CHECK(outcomes == std::vector<int>{200});  // the challenge is answered, not reported
    CHECK(accounts == std::vector<std::size_t>{0});
  }

  ua.reset();  // shutdown: Expires 0, pre-authorized with the remembered challenge
  auto bye = registrar.request("REGISTER");
  REQUIRE(bye);
  CHECK(bye->header("Expires").value_or("") == "0");
  CHECK(bye->header("Authorization"));
}

TEST_CASE("a refused registration leaves the address out of service and is retried", "[tspi][sip][register]") {
  sip_blocking_peer registrar;
  auto cfg = registering(registrar, "sip:bob@example.test");
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

// ---- early dialogs: reliable provisional responses (RFC 3262), forks, early media, UPDATE (RFC 3311) ----
namespace {
// A response of the far end (UAS) to the library's INVITE, with our Contact, To tag `tag` and `extra` fields.
tspi::sip::message far_response(const sip_blocking_peer& peer, const tspi::sip::message& invite, int status,
                                const std::string& tag, std::vector<std::pair<std::string, std::string>> extra = {},
                                const std::string& sdp = {}) {
  auto r = tspi::sip::make_response(invite, status, tag);
  r.add("Contact", "<sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">");
  for (auto& [n, v] : extra) r.add(n, v);
  if (!sdp.empty()) {
    r.add("Content-Type", "application/sdp");
    r.body = sdp;
  }
  return r;
}
std::uint32_t cseq_number(const tspi::sip::message& m) {
  auto cs = tspi::sip::parse_cseq(m.header("CSeq").value_or(""));
  return cs ? cs->number : 0;
}
}  // namespace

TEST_CASE("UAC: reliable 1xx are PRACKed once and in RSeq order, a second fork's 2xx gets ACK + BYE",
          "[tspi][sip][uas][100rel][fork]") {
  sip_party ua;
  sip_blocking_peer peer;
  auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
  auto connected = call.async_connect(boost::asio::use_future);
  auto invite = peer.request("INVITE");
  REQUIRE(invite);
  CHECK(invite->header("Supported").value_or("").find("100rel") != std::string_view::npos);
  const auto to = peer.last_from_port;
  auto reliable = [&](std::uint32_t rseq) {
    return far_response(peer, *invite, 183, "forkA", {{"Require", "100rel"}, {"RSeq", std::to_string(rseq)}});
  };
  auto is_prack = [](const tspi::sip::message& m) { return m.method == "PRACK"; };

  peer.send(reliable(5), to);
  auto prack = peer.request("PRACK");
  REQUIRE(prack);
  CHECK(prack->header("RAck").value_or("") == "5 1 INVITE");
  CHECK(to_tag_of(*prack) == "forkA");
  CHECK(prack->request_uri == "sip:raw@127.0.0.1:" + std::to_string(peer.port()));  // the 183's Contact
  CHECK(cseq_number(*prack) == 2);
  peer.send(tspi::sip::make_response(*prack, 200), peer.last_from_port);

  peer.send(reliable(5), to);  // a retransmission
  peer.send(reliable(7), to);  // out of order (6 is missing)
  CHECK_FALSE(peer.receive(is_prack, std::chrono::milliseconds(400)));
  peer.send(reliable(6), to);
  prack = peer.request("PRACK");
  REQUIRE(prack);
  CHECK(prack->header("RAck").value_or("") == "6 1 INVITE");
  CHECK(cseq_number(*prack) == 3);
  peer.send(tspi::sip::make_response(*prack, 200), peer.last_from_port);
  CHECK(call.state() == call_state::in_progress);

  peer.send(far_response(peer, *invite, 200, "forkA", {}, sdp_offer), to);
  auto ack = peer.request("ACK");
  REQUIRE(ack);
  CHECK(to_tag_of(*ack) == "forkA");
  REQUIRE(connected.get() == std::error_code{});

  // Another fork answers too (RFC 3261 §13.2.2.4): ACK and BYE in its dialog; the call stays up.
  const auto fork_b = far_response(peer, *invite, 200, "forkB", {}, sdp_offer);
  peer.send(fork_b, to);
  ack = peer.request("ACK");
  REQUIRE(ack);
  CHECK(to_tag_of(*ack) == "forkB");
  auto bye = peer.request("BYE");
  REQUIRE(bye);
  CHECK(to_tag_of(*bye) == "forkB");
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
  peer.send(fork_b, to);  // its retransmission: the ACK again, no second BYE
  ack = peer.request("ACK");
  REQUIRE(ack);
  CHECK(to_tag_of(*ack) == "forkB");
  CHECK_FALSE(peer.request("BYE", std::chrono::milliseconds(300)));
  CHECK(call.state() == call_state::connected);

  call.disconnect();
  bye = peer.request("BYE");
  REQUIRE(bye);
  CHECK(to_tag_of(*bye) == "forkA");
  CHECK(cseq_number(*bye) == 4);  // after the PRACKs (2, 3) of the early dialog that became the call
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
}

TEST_CASE("UAC: a 183 with SDP starts media while the call is in progress, the 200's SDP takes over",
          "[tspi][sip][uas][early_media]") {
  sip_party ua;
  sip_blocking_peer peer;
  auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
  streaming_pair media(ua.address.terminals());  // streams become active only with terminals on them
  media.select_on(call);
  auto connected = call.async_connect(boost::asio::use_future);
  auto invite = peer.request("INVITE");
  REQUIRE(invite);
  const auto to = peer.last_from_port;
  auto active = [&] {
    return std::count(ua.log.media.begin(), ua.log.media.end(), mspi::call_media_kind::stream_active);
  };
  peer.send(far_response(peer, *invite, 183, "early", {}, sdp_offer), to);
  REQUIRE(ua.log.wait([&] { return active() == 2; }));  // capture and render streams, before any 2xx
  CHECK(call.state() == call_state::in_progress);

  peer.send(far_response(peer, *invite, 200, "early", {}, sdp_offer), to);  // the same SDP: nothing changes
  REQUIRE(peer.request("ACK"));
  REQUIRE(connected.get() == std::error_code{});
  CHECK(call.state() == call_state::connected);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  {
    std::lock_guard lock(ua.log.m);
    CHECK(active() == 2);
  }
  call.disconnect();
  auto bye = peer.request("BYE");
  REQUIRE(bye);
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
}

TEST_CASE("UAS: a 180 to an INVITE requiring 100rel is retransmitted until PRACKed, no PRACK ends the call with 500",
          "[tspi][sip][uas][100rel]") {
  sip_party ua;  // T1 = 50 ms
  const auto port = ua.port();
  ua.tapi.register_call_notifications(ua.address);  // offered, never answered
  sip_blocking_peer peer;

  peer.send(request(peer, "INVITE", port, "rel-1", 1, "Require: 100rel\r\nContent-Type: application/sdp\r\n", sdp_offer), port);
  std::vector<std::chrono::steady_clock::time_point> at;
  std::optional<tspi::sip::message> ringing;
  for (int i = 0; i < 4; ++i) {
    auto r = peer.response(180, std::chrono::milliseconds(1000));
    REQUIRE(r);
    at.push_back(std::chrono::steady_clock::now());
    CHECK(r->header("Require").value_or("") == "100rel");
    if (ringing) CHECK(r->header("RSeq") == ringing->header("RSeq"));  // the same response again
    ringing = r;
  }
  // T1, 2*T1, 4*T1 between copies (50, 100, 200 ms); loopback and scheduling add a little.
  const auto gap = [&](int i) { return std::chrono::duration_cast<std::chrono::milliseconds>(at[i + 1] - at[i]).count(); };
  CHECK(gap(2) > gap(0));  // doubling (with slack for loaded machines)
  CHECK(gap(2) >= 150);

  const auto tag = to_tag_of(*ringing);
  const std::string rseq(ringing->header("RSeq").value_or(""));
  peer.send(request(peer, "PRACK", port, "rel-1", 2, "RAck: " + std::to_string(std::stoul(rseq) + 1) + " 1 INVITE\r\n", {}, tag), port);
  CHECK(peer.response(481));  // not the RSeq sent
  peer.send(request(peer, "PRACK", port, "rel-1", 3, "RAck: " + rseq + " 1 INVITE\r\n", {}, tag), port);
  CHECK(peer.response(200));
  CHECK_FALSE(peer.response(180, std::chrono::milliseconds(500)));  // PRACKed: no more copies
  auto c = ua.last_offered();
  REQUIRE(c);
  CHECK(c.state() == call_state::offering);

  // Another call whose 180 is never PRACKed: 64*T1 (3.2 s) after it, the INVITE gets 500 (RFC 3262 §3).
  peer.send(request(peer, "INVITE", port, "rel-2", 1, "Require: 100rel\r\nContent-Type: application/sdp\r\n", sdp_offer), port);
  REQUIRE(ua.log.wait([&] { return ua.log.offered.size() == 2; }));
  auto c2 = ua.last_offered();
  auto refused = peer.response(500, std::chrono::milliseconds(5000));
  REQUIRE(refused);
  CHECK(refused->header("Call-ID").value_or("") == "rel-2");
  REQUIRE(wait_state(ua.log, c2, call_state::disconnected));
  CHECK(c.state() == call_state::offering);  // the PRACKed call is not affected
}

TEST_CASE("UPDATE in a confirmed dialog: with an offer answered in the 200, without one 200, 491 on glare",
          "[tspi][sip][uas][update]") {
  sip_party ua;
  const auto port = ua.port();
  ua.auto_answer();
  sip_blocking_peer peer;
  const auto tag = answered_call(peer, port, "upd-1");
  REQUIRE_FALSE(tag.empty());
  auto c = ua.last_offered();
  REQUIRE(c);
  REQUIRE(wait_state(ua.log, c, call_state::connected));

  std::string moved = sdp_offer;
  moved.replace(moved.find("6998"), 4, "7006");
  peer.send(request(peer, "UPDATE", port, "upd-1", 2, "Content-Type: application/sdp\r\n", moved, tag), port);
  auto answered = peer.response(200);
  REQUIRE(answered);
  CHECK(answered->header("CSeq").value_or("") == "2 UPDATE");
  CHECK(answered->header("Content-Type").value_or("") == "application/sdp");
  CHECK(answered->body.find("m=audio ") != std::string::npos);
  CHECK(answered->header("Contact"));

  peer.send(request(peer, "UPDATE", port, "upd-1", 3, {}, {}, tag), port);
  answered = peer.response(200);
  REQUIRE(answered);
  CHECK(answered->body.empty());

  // Glare (RFC 3311 §5.2): an offer while our re-INVITE's (hold) is unanswered gets 491.
  auto held = c.async_hold(true, boost::asio::use_future);
  auto reinvite = peer.request("INVITE");
  REQUIRE(reinvite);
  peer.send(request(peer, "UPDATE", port, "upd-1", 4, "Content-Type: application/sdp\r\n", moved, tag), port);
  CHECK(peer.response(491));
  auto reinvite_ok = tspi::sip::make_response(*reinvite, 200);
  reinvite_ok.add("Contact", "<sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">");
  reinvite_ok.add("Content-Type", "application/sdp");
  reinvite_ok.body = sdp_offer.substr(0, sdp_offer.find("a=sendrecv")) + "a=recvonly\r\n";
  peer.send(reinvite_ok, peer.last_from_port);
  REQUIRE(peer.request("ACK"));
  CHECK(held.get() == std::error_code{});
  CHECK(c.state() == call_state::hold);
  peer.send(request(peer, "UPDATE", port, "upd-1", 5, "Content-Type: application/sdp\r\n", moved, tag), port);
  CHECK(peer.response(200));  // no offer pending any more

  peer.send(request(peer, "UPDATE", port, "upd-1", 6, {}, {}, "wrongtag"), port);
  CHECK(peer.response(481));
  peer.send(request(peer, "BYE", port, "upd-1", 7, {}, {}, tag), port);
  CHECK(peer.response(200));
}

TEST_CASE("the registrar's received/rport becomes the Contact, registered again with the old binding removed",
          "[tspi][sip][register][nat]") {
  // RFC 3581 §9: the 2xx's top Via tells the source the registrar saw; behind a NAT it differs from our Contact.
  sip_blocking_peer registrar;
  auto cfg = registering(registrar, "sip:alice@example.test");
  cfg.keepalive.udp = tspi::sip::sip_keepalive::method::options;  // RFC 5626 §4.4.1 over UDP, seen below
  cfg.keepalive.udp_interval = std::chrono::seconds(1);
  sip_party ua(cfg);
  auto first = registrar.request("REGISTER");
  REQUIRE(first);
  const auto local_contact = std::string(first->header("Contact").value_or(""));
  CHECK(local_contact.find("@127.0.0.1:") != std::string::npos);
  auto nat_ok = [&](const tspi::sip::message& req) {
    auto r = tspi::sip::make_response(req, 200, "reg");
    auto v = tspi::sip::parse_via(req.header("Via").value_or(""));
    REQUIRE(v);
    v->set_param("received", "192.0.2.50");
    v->set_param("rport", "40000");
    r.headers.erase(std::find_if(r.headers.begin(), r.headers.end(), [](auto& h) { return h.name == "Via"; }));
    r.prepend("Via", v->to_string());
    return r;
  };
  registrar.send(nat_ok(*first), registrar.last_from_port);
  auto second = registrar.request("REGISTER");  // at once, not at the refresh
  REQUIRE(second);
  const auto contacts = second->headers_named("Contact");
  REQUIRE(contacts.size() == 2);
  CHECK(contacts[0] == local_contact + ";expires=0");
  CHECK(contacts[1] == "<sip:alice@192.0.2.50:40000>");
  CHECK(ua.address.state() == tspi::address_state::out_of_service);  // not before the corrected binding
  registrar.send(nat_ok(*second), registrar.last_from_port);
  REQUIRE(ua.log.wait([&] { return !ua.log.address_events.empty(); }));
  CHECK(ua.address.state() == tspi::address_state::in_service);
  // Registered with the same address: no more REGISTERs, but a keep-alive toward the registrar every second.
  std::vector<std::string> seen;
  const auto keepalive = registrar.receive([&](const tspi::sip::message& m) {
    seen.push_back(m.method);
    return m.method == "OPTIONS";
  }, std::chrono::milliseconds(2500));
  REQUIRE(keepalive);
  CHECK(seen == std::vector<std::string>{"OPTIONS"});
  CHECK(keepalive->request_uri == "sip:example.test");
  CHECK(keepalive->header("User-Agent"));

  // Calls from the account carry the public Contact too.
  auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(registrar.port()));
  call.async_connect([](std::error_code) {});
  auto invite = registrar.request("INVITE");
  REQUIRE(invite);
  CHECK(invite->header("Contact").value_or("") == "<sip:alice@192.0.2.50:40000>");
  registrar.send(tspi::sip::make_response(*invite, 486, "busy"), registrar.last_from_port);
  REQUIRE(wait_state(ua.log, call, call_state::disconnected));
}

TEST_CASE("a wildcard bind advertises the interface that routes to the peer, a public address replaces it",
          "[tspi][sip][nat]") {
  for (const std::string public_address : {"", "203.0.113.5"}) {
    auto cfg = sip_party::config(0, "0.0.0.0");
    cfg.public_address = public_address;
    sip_party ua(cfg);
    sip_blocking_peer peer;
    auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
    call.async_connect([](std::error_code) {});
    auto invite = peer.request("INVITE");
    REQUIRE(invite);
    const std::string host = public_address.empty() ? "127.0.0.1" : public_address;
    CAPTURE(host);
    CHECK(invite->header("Contact").value_or("").find("@" + host + ":") != std::string_view::npos);
    CHECK(invite->header("Via").value_or("").find(" 127.0.0.1:") != std::string_view::npos);  // routed local
    CHECK(invite->body.find("c=IN IP4 " + host + "\r\n") != std::string::npos);
    CHECK(invite->body.find(" IN IP4 " + host + "\r\n") < invite->body.find("c="));  // o=
    CHECK(invite->body.find("0.0.0.0") == std::string::npos);
    peer.send(tspi::sip::make_response(*invite, 486, "busy"), peer.last_from_port);
    REQUIRE(wait_state(ua.log, call, call_state::disconnected));
  }
}

TEST_CASE("advertise_sdp_address rewrites unspecified o=/c= addresses, or all with a public address", "[sip][nat]") {
  using tspi::sip::detail::advertise_sdp_address;
  const std::string sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
                          "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 224.2.1.1/127\r\n";
  CHECK(advertise_sdp_address(sdp, "192.0.2.1", false) ==
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 224.2.1.1/127\r\n");
  CHECK(advertise_sdp_address(sdp, "2001:db8::1", true) ==
        "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\nc=IN IP6 2001:db8::1/127\r\n");
  CHECK(advertise_sdp_address("o=x\nc=IN IP6 ::\n", "10.0.0.1", false) == "o=x\nc=IN IP4 10.0.0.1\n");
  CHECK(advertise_sdp_address(sdp, "not-an-ip", true) == sdp);
}


// ---- session timers (RFC 4028) and being the transferee of a REFER (RFC 3515) ----
namespace {

// Settings with test-only session timer intervals (RFC 4028 forbids Min-SE below 90 s; sip_config allows
// it so that a refresh and an expiry take seconds).
tspi::sip::sip_config short_timers(std::chrono::seconds session_expires, std::chrono::seconds min_se) {
  auto cfg = sip_party::config(0);
  cfg.session_expires = session_expires;
  cfg.min_se = min_se;
  return cfg;
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t);
}

// `peer` answers `invite` (from the party) with 200, SDP and an optional extra header.
void answer_invite(sip_blocking_peer& peer, const tspi::sip::message& invite, const std::string& extra_name = {},
                   const std::string& extra_value = {}) {
  auto ok = tspi::sip::make_response(invite, 200, "far");
  ok.add("Contact", "<sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">");
  if (!extra_name.empty()) ok.add(extra_name, extra_value);
  ok.add("Content-Type", "application/sdp");
  ok.body = sdp_offer;
  peer.send(ok, peer.last_from_port);
}

// The party calls `peer`, which answers; returns the connected call and its INVITE.
std::pair<tspi::call, tspi::sip::message> call_peer(sip_party& ua, sip_blocking_peer& peer) {
  auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
  auto connected = call.async_connect(boost::asio::use_future);
  auto invite = peer.request("INVITE");
  REQUIRE(invite);
  answer_invite(peer, *invite);
  REQUIRE(peer.request("ACK"));
  REQUIRE(connected.get() == std::error_code{});
  return {call, *invite};
}

// A request from `peer` within the dialog of a call the party placed (`invite` is its INVITE, the peer's
// tag "far").
tspi::sip::message in_dialog(const sip_blocking_peer& peer, const tspi::sip::message& invite, std::uint16_t port,
                             const std::string& method, int cseq) {
  tspi::sip::message n;
  n.method = method;
  n.request_uri = "sip:ptapi@127.0.0.1:" + std::to_string(port);
  n.add("Via", peer.via());
  n.add("From", "<sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">;tag=far");
  n.add("To", std::string(invite.header("From").value_or("")));
  n.add("Call-ID", std::string(invite.header("Call-ID").value_or("")));
  n.add("CSeq", std::to_string(cseq) + " " + method);
  n.add("Max-Forwards", "70");
  n.add("Contact", "<sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">");
  return n;
}

}  // namespace

TEST_CASE("session timer refresh intervals follow RFC 4028 §10", "[tspi][sip][session_timer]") {
  using namespace std::chrono;
  CHECK(tspi::sip::detail::session_refresh_after(seconds(1800)) == seconds(900));
  CHECK(tspi::sip::detail::session_expiry_after(seconds(1800)) == seconds(1768));  // 32 s before
  CHECK(tspi::sip::detail::session_expiry_after(seconds(90)) == seconds(60));      // a third before
  auto se = tspi::sip::detail::parse_session_expires(" 600 ;refresher=uas");
  REQUIRE(se);
  CHECK(se->interval == seconds(600));
  CHECK(se->refresher == "uas");
  CHECK_FALSE(tspi::sip::detail::parse_session_expires("0"));
  CHECK_FALSE(tspi::sip::detail::parse_session_expires("soon"));
}

TEST_CASE("session timer as UAS: 422 below Min-SE, Require timer taken, a refresh keeps the call, none ends it",
          "[tspi][sip][session_timer]") {
  sip_party ua(short_timers(std::chrono::seconds(2), std::chrono::seconds(2)));
  const auto port = ua.port();
  ua.auto_answer();
  sip_blocking_peer peer;
  peer.send(request(peer, "INVITE", port, "st-small", 1, "Supported: timer\r\nSession-Expires: 1\r\nContent-Type: application/sdp\r\n",
                    sdp_offer),
            port);
  auto r = peer.response(422);
  REQUIRE(r);
  CHECK(r->header("Min-SE").value_or("") == "2");

  const std::string timer = "Supported: timer\r\nRequire: timer\r\nSession-Expires: 3;refresher=uac\r\nMin-SE: 2\r\n";
  peer.send(request(peer, "INVITE", port, "st-1", 1, timer + "Content-Type: application/sdp\r\n", sdp_offer), port);
  auto ok = peer.response(200);
  REQUIRE(ok);
  CHECK(ok->header("Session-Expires").value_or("") == "2;refresher=uac");  // shortened to ours, the UAC refreshes
  CHECK(ok->header("Require").value_or("") == "timer");
  const auto tag = to_tag_of(*ok);
  peer.send(request(peer, "ACK", port, "st-1", 1, {}, {}, tag), port);
  auto c = ua.last_offered();
  REQUIRE(c);
  REQUIRE(wait_state(ua.log, c, call_state::connected));
  CHECK(ua.log.offered.size() == 1);  // the 422 made no call

  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // refresh at 0.8 s (expiry would be at 1.33 s)
  peer.send(request(peer, "INVITE", port, "st-1", 2, timer + "Content-Type: application/sdp\r\n", sdp_offer, tag), port);
  const auto refreshed = std::chrono::steady_clock::now();
  auto ok2 = peer.response(200);
  REQUIRE(ok2);
  CHECK(ok2->header("Session-Expires").value_or("") == "2;refresher=uac");
  peer.send(request(peer, "ACK", port, "st-1", 2, {}, {}, tag), port);

  auto bye = peer.request("BYE", std::chrono::seconds(4));  // no more refreshes: we hang up
  REQUIRE(bye);
  const auto waited = since(refreshed);
  INFO("BYE " << waited.count() << " ms after the refresh");
  CHECK(waited >= std::chrono::milliseconds(1100));  // counted from the refresh, not from the answer
  CHECK(waited <= std::chrono::milliseconds(3000));
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
  REQUIRE(wait_state(ua.log, c, call_state::disconnected));
  CHECK(c.info().cause == call_state_cause::disconnect_failed);
}

TEST_CASE("session timer as UAC: a 422 is retried with its Min-SE, and the refresher re-INVITEs at half the interval",
          "[tspi][sip][session_timer]") {
  sip_party ua(short_timers(std::chrono::seconds(2), std::chrono::seconds(1)));
  sip_blocking_peer peer;
  auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
  auto connected = call.async_connect(boost::asio::use_future);
  auto invite = peer.request("INVITE");
  REQUIRE(invite);
  CHECK(tspi::sip::detail::lists_option(*invite, "Supported", "timer"));  // beside 100rel
  CHECK(invite->header("Session-Expires").value_or("") == "2");
  CHECK(invite->header("Min-SE").value_or("") == "1");
  auto too_small = tspi::sip::make_response(*invite, 422, "far");
  too_small.add("Min-SE", "3");
  peer.send(too_small, peer.last_from_port);

  auto retry = peer.request("INVITE");
  REQUIRE(retry);
  CHECK(retry->header("Session-Expires").value_or("") == "3");
  CHECK(retry->header("Min-SE").value_or("") == "3");
  CHECK(retry->header("CSeq").value_or("") == "2 INVITE");
  answer_invite(peer, *retry, "Session-Expires", "3;refresher=uac");
  REQUIRE(peer.request("ACK"));
  REQUIRE(connected.get() == std::error_code{});
  CHECK(call.info().provider_responses == std::vector<int>{422, 200});
  const auto answered = std::chrono::steady_clock::now();

  auto refresh = peer.request("INVITE", std::chrono::seconds(4));
  REQUIRE(refresh);
  const auto waited = since(answered);
  INFO("refresh " << waited.count() << " ms after the answer");
  CHECK(waited >= std::chrono::milliseconds(1200));  // half of 3 s
  CHECK(waited <= std::chrono::milliseconds(2500));
  CHECK(refresh->header("Session-Expires").value_or("") == "3;refresher=uac");
  CHECK(refresh->body.find("a=sendrecv") != std::string::npos);  // the session unchanged
  answer_invite(peer, *refresh, "Session-Expires", "3;refresher=uac");
  REQUIRE(peer.request("ACK"));
  CHECK(call.state() == call_state::connected);

  auto dropped = call.async_disconnect(tspi::disconnect_code::normal, boost::asio::use_future);
  auto bye = peer.request("BYE");
  REQUIRE(bye);
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
  CHECK(dropped.get() == std::error_code{});
}

TEST_CASE("a REFER to us places a new call with reason transfer, NOTIFYs its progress, and drops the old call",
          "[tspi][sip][transferee]") {
  sip_party ua;
  ua.tapi.register_call_notifications(ua.address);  // the transfer's call is notified like an incoming one
  sip_party carol;
  carol.auto_answer();
  const auto port = ua.port();
  sip_blocking_peer peer;
  auto [call, invite] = call_peer(ua, peer);

  auto refer = in_dialog(peer, invite, port, "REFER", 1);
  refer.add("Refer-To", "<" + carol.uri + ">");
  refer.add("Referred-By", "<sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">");
  peer.send(refer, port);
  REQUIRE(peer.response(202));

  auto sipfrag = [&](const std::string& status) {
    auto n = peer.request("NOTIFY");
    REQUIRE(n);
    CHECK(n->header("Event").value_or("") == "refer");
    CHECK(n->header("Content-Type").value_or("") == "message/sipfrag;version=2.0");
    CHECK(n->body.rfind("SIP/2.0 " + status, 0) == 0);
    peer.send(tspi::sip::make_response(*n, 200), peer.last_from_port);
    return std::string(n->header("Subscription-State").value_or(""));
  };
  CHECK(sipfrag("100").rfind("active", 0) == 0);
  CHECK(sipfrag("200").rfind("terminated", 0) == 0);

  tspi::call transferred = ua.last_offered();
  REQUIRE(transferred);
  REQUIRE(wait_state(ua.log, transferred, call_state::connected));
  const auto info = transferred.info();
  CHECK(info.reason == tspi::call_reason::transfer);
  CHECK_FALSE(info.incoming);
  CHECK(info.called_id == carol.uri);
  auto carols = carol.last_offered();
  REQUIRE(carols);
  CHECK(carols.info().dev_specific.find("Referred-By: <sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">") !=
        std::string::npos);

  // The transferor did not hang up after the 200 NOTIFY: the transferee does (RFC 5589 §6).
  auto bye = peer.request("BYE");
  REQUIRE(bye);
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
  REQUIRE(wait_state(ua.log, call, call_state::disconnected));
  CHECK(call.info().cause == call_state_cause::disconnect_normal);
  CHECK(transferred.state() == call_state::connected);
  CHECK(call.info().reason == tspi::call_reason::direct);
  transferred.disconnect();
}

TEST_CASE("a REFER refused by policy gets 603 and the call stays up", "[tspi][sip][transferee]") {
  auto cfg = sip_party::config(0);
  cfg.accept_refer = false;
  sip_party ua(cfg);
  ua.tapi.register_call_notifications(ua.address);
  const auto port = ua.port();
  sip_blocking_peer peer;
  auto [call, invite] = call_peer(ua, peer);
  auto refer = in_dialog(peer, invite, port, "REFER", 1);
  refer.add("Refer-To", "<sip:carol@127.0.0.1:5999>");
  peer.send(refer, port);
  CHECK(peer.response(603));
  auto no_refer_to = in_dialog(peer, invite, port, "REFER", 2);
  peer.send(no_refer_to, port);
  CHECK(peer.response(400));
  CHECK(call.state() == call_state::connected);
  CHECK(ua.log.offered.empty());  // no new call
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
  moved.add("Contact", "<sip:bob@second.example.test>;q=0.4, \"Bob at First\" <sip:bob@first.example.test>;q=0.9");
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
  CHECK(call.info().redirection_id == "sip:bob@first.example.test");
  CHECK(call.info().redirection_name == "Bob at First");  // CIS_REDIRECTIONIDNAME: the Contact's display-name
  CHECK(call.info().redirecting_name.empty());            // no Diversion: the dialled URI, which has none
}

TEST_CASE("3xx redirects: loops skipped, the limit kept, sips: and transport=tls refused at once", "[tspi][sip][redirect]") {
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
  // RFC 7044: the dialled URI (index 1, with the 301 as Reason), the Contact followed (the loop left no entry).
  CHECK(redirected->header("History-Info").value_or("") ==
        "<" + first_uri + "?Reason=SIP%3Bcause%3D301>;index=1, <" + second_uri + ";cause=301>;index=1.1;mp=1");
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

TEST_CASE("History-Info (RFC 7044): the last retargeting and its RFC 4458 cause, malformed entries refused",
          "[sip][history_info]") {
  using tspi::sip::parse_history_info;
  // RFC 7044 §11 style: alice's call to bob, bob's registered contact, then busy → voicemail.
  const std::string a = "<sip:bob@example.com>;index=1, <sip:bob@192.0.2.4>;index=1.1;rc=1";
  const std::string b = "<sip:vm@example.com;cause=486?Reason=SIP%3Bcause%3D486>;index=1.2;mp=1";
  const auto h = parse_history_info({a, b});
  REQUIRE(h);
  REQUIRE(h->size() == 3);
  CHECK((*h)[1].index == "1.1");
  CHECK((*h)[1].mapped_from.empty());
  CHECK((*h)[2].mapped_from == "1");
  CHECK((*h)[2].cause == 486);
  auto r = tspi::sip::redirection_of(*h);
  REQUIRE(r);
  CHECK(r->redirecting.to_string() == "sip:bob@example.com");
  CHECK(r->cause == 486);
  CHECK(tspi::sip::reason_of_history_cause(r->cause) == tspi::call_reason::fwd_busy);
  CHECK(tspi::sip::reason_of_history_cause(408) == tspi::call_reason::fwd_noanswer);
  CHECK(tspi::sip::reason_of_history_cause(0) == tspi::call_reason::fwd_uncond);
  CHECK(tspi::sip::reason_of_history_cause(487) == tspi::call_reason::redirect);

  // RFC 4244 entries (no mp): the last one with a cause, retargeted from the one before it; its own cause
  // parameter is not part of the redirecting URI.
  r = tspi::sip::redirection_of(*parse_history_info({"<sip:a@x;cause=302>;index=1, <sip:b@y;cause=408>;index=1.1"}));
  REQUIRE(r);
  CHECK(r->redirecting.to_string() == "sip:a@x");
  CHECK(r->cause == 408);

  // Never retargeted: no redirection. A call's own entries only (index 1, rc 1.1).
  CHECK_FALSE(tspi::sip::redirection_of(*parse_history_info({a})));
  CHECK(parse_history_info({})->empty());

  // Malformed: no index, a bad index or mp, not a name-addr, too many entries.
  for (const char* bad : {"<sip:a@x>", "<sip:a@x>;index=1..2", "<sip:a@x>;index=1.a", "<sip:a@x>;index=1;mp=x",
                          "<sip:a@x>;index=123456", "sip:a@x;index=1, <", "<sip:a@x>;index=."}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_history_info({bad}));
  }
  std::string many;
  for (std::size_t i = 0; i <= tspi::sip::max_history_entries; ++i) many += (i ? ", " : "") + std::string("<sip:a@x>;index=1");
  CHECK_FALSE(parse_history_info({many}));
  CHECK(parse_history_info({many.substr(many.find(", ") + 2)}));  // exactly the maximum
}

TEST_CASE("a UAC following 3xx responses records each retargeting in History-Info (RFC 7044)", "[sip][history_info]") {
  tspi::sip::message invite;
  invite.method = "INVITE";
  invite.request_uri = "sip:bob@example.com";
  // The first 3xx: an entry for the dialled URI with the response as escaped Reason, then its child.
  REQUIRE(tspi::sip::add_history_entry(invite, *tspi::sip::parse_uri("sip:carol@example.com"), 302));
  CHECK(invite.headers_named("History-Info") ==
        std::vector<std::string_view>{"<sip:bob@example.com?Reason=SIP%3Bcause%3D302>;index=1, "
                                      "<sip:carol@example.com;cause=302>;index=1.1;mp=1"});
  // A second 3xx from carol, whose Contact says why itself (RFC 4458 cause 486, busy): a child of carol's entry.
  REQUIRE(tspi::sip::add_history_entry(invite, *tspi::sip::parse_uri("sip:vm@example.com;cause=486"), 301));
  const auto h = tspi::sip::parse_history_info(invite.headers_named("History-Info"));
  REQUIRE(h);
  REQUIRE(h->size() == 3);
  CHECK((*h)[1].target.address.headers == "Reason=SIP%3Bcause%3D301");
  CHECK((*h)[2].index == "1.1.1");
  CHECK((*h)[2].mapped_from == "1.1");
  CHECK((*h)[2].cause == 486);
  // What the new target learns from it: carol redirected the call, because she was busy.
  const auto r = tspi::sip::redirection_of(*h);
  REQUIRE(r);
  CHECK(r->redirecting.to_string() == "sip:carol@example.com");
  CHECK(tspi::sip::reason_of_history_cause(r->cause) == tspi::call_reason::fwd_busy);

  // A History-Info that does not parse, or one that is full, is left as it is.
  tspi::sip::message bad;
  bad.request_uri = "sip:bob@example.com";
  bad.add("History-Info", "<sip:a@x>;index=x");
  CHECK_FALSE(tspi::sip::add_history_entry(bad, *tspi::sip::parse_uri("sip:carol@example.com"), 302));
  CHECK(bad.headers_named("History-Info") == std::vector<std::string_view>{"<sip:a@x>;index=x"});
  std::string full;
  for (std::size_t i = 0; i + 1 < tspi::sip::max_history_entries; ++i) full += (i ? ", " : "") + std::string("<sip:a@x>;index=1");
  bad.set("History-Info", full);
  CHECK_FALSE(tspi::sip::add_history_entry(bad, *tspi::sip::parse_uri("sip:carol@example.com"), 302));
}

TEST_CASE("an INVITE retargeted per History-Info is reported with the redirecting party and the reason",
          "[tspi][sip][uas][history_info]") {
  sip_party ua;
  const auto port = ua.port();
  std::mutex m;
  std::vector<std::string> at_notification;  // CIS_REDIRECTINGIDNUMBER/NAME as the call notification saw them
  ua.tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    const auto i = e.call.info();
    std::lock_guard lock(m);
    at_notification.push_back(i.redirecting_id + " " + i.redirecting_name);
  });
  ua.auto_answer();
  sip_blocking_peer peer;
  const std::string history = "History-Info: \"Bob B.\" <sip:bob@example.com>;index=1,<sip:bob@192.0.2.4>;index=1.1;rc=1\r\n"
                              "History-Info: <sip:ptapi@127.0.0.1;cause=408>;index=1.2;mp=1\r\n";
  // The peer's INVITE with `headers`, answered and ACKed: the call it made at the party.
  const auto answered_with = [&](const std::string& cid, const std::string& headers) {
    peer.send(request(peer, "INVITE", port, cid, 1, headers + "Content-Type: application/sdp\r\n", sdp_offer), port);
    auto answer = peer.response(200);
    REQUIRE(answer);
    peer.send(request(peer, "ACK", port, cid, 1, {}, {}, to_tag_of(*answer)), port);
    auto offered = ua.last_offered();  // answered, so offered before the 200
    REQUIRE(offered.info().provider_call_id == cid);
    return offered;
  };
  auto c = answered_with("hi-1", history);
  CHECK(c.info().reason == tspi::call_reason::fwd_noanswer);
  CHECK(c.info().redirecting_id == "sip:bob@example.com");
  CHECK(c.info().redirecting_name == "Bob B.");

  // Diversion wins when both are present; a History-Info that does not parse is ignored.
  c = answered_with("hi-2", "Diversion: Carol <sip:carol@example.com>;reason=user-busy\r\n" + history);
  CHECK(c.info().reason == tspi::call_reason::fwd_busy);
  CHECK(c.info().redirecting_id == "sip:carol@example.com");
  CHECK(c.info().redirecting_name == "Carol");

  c = answered_with("hi-3", "History-Info: <sip:x@y>;index=zz\r\n");
  CHECK(c.info().reason == tspi::call_reason::direct);
  CHECK(c.info().redirecting_id.empty());
  std::lock_guard lock(m);  // known when the call was offered, not only after the provider's LINE_CALLINFO
  CHECK(at_notification == std::vector<std::string>{"sip:bob@example.com Bob B.", "sip:carol@example.com Carol", " "});
}
