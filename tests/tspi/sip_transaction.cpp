// SIP transaction layer (RFC 3261 §17, RFC 6026, §18.2 / RFC 3581): real sockets on loopback, the far
// side driven with literal SIP text from plain Asio sockets, timers shortened.
#include <tspi/sip/transaction.hpp>

#include "support/sip_raw_peer.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <string>
#include <vector>

using namespace ptapi_test;
namespace sip = tspi::sip;
using sip::transaction_state;
using sip::transport_protocol;

namespace {
const auto loopback = asio::ip::make_address("127.0.0.1");

// The layer on 127.0.0.1 (UDP and TCP) and a raw UDP peer playing the other side.
struct fixture {
  explicit fixture(sip::timer_config timers = {std::chrono::milliseconds(20), std::chrono::milliseconds(80), std::chrono::milliseconds(100)},
                   const asio::ip::address& addr = loopback)
      : tr(io.get_executor()), raw(io, addr) {
    std::error_code ec;
    tr.listen(transport_protocol::udp, addr, 0, ec);
    REQUIRE_FALSE(ec);
    tr.listen(transport_protocol::tcp, addr, 0, ec);
    REQUIRE_FALSE(ec);
    layer.emplace(tr, timers);
    layer->on_request = [this](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
      requests.push_back(t);
      if (on_req) on_req(t, req);
    };
  }
  [[nodiscard]] asio::ip::udp::endpoint ep() const { return {tr.local(transport_protocol::udp)->address, tr.local(transport_protocol::udp)->port}; }
  [[nodiscard]] asio::ip::tcp::endpoint tcp_ep() const { return {tr.local(transport_protocol::tcp)->address, tr.local(transport_protocol::tcp)->port}; }
  [[nodiscard]] sip::peer raw_peer() const { return {transport_protocol::udp, raw.endpoint().address(), raw.port()}; }
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 3000ms) { return run_until(io, pred, timeout); }

  asio::io_context io;
  sip::transport tr;
  raw_udp_peer raw;
  std::optional<sip::transaction_layer> layer;
  std::vector<std::shared_ptr<sip::server_transaction>> requests;
  std::function<void(std::shared_ptr<sip::server_transaction>, const sip::message&)> on_req;
};

// Records what a client transaction reports.
struct recorder {
  std::vector<int> statuses;
  std::vector<sip::message> messages;
  int failures = 0;
  std::error_code ec;
  sip::transaction_layer::response_handler handler() {
    return [this](const sip::message* r, std::error_code e) {
      if (r) {
        statuses.push_back(r->status);
        messages.push_back(*r);
      } else {
        ++failures;
        ec = e;
      }
    };
  }
};

// A request as the TU builds it (no Via: the layer adds it).
sip::message tu_request(std::string method, int cseq = 1, std::string call_id = "tu-call-1") {
  sip::message m;
  m.method = method;
  m.request_uri = "sip:bob@127.0.0.1";
  m.add("From", "<sip:alice@127.0.0.1>;tag=tufrom");
  m.add("To", "<sip:bob@127.0.0.1>");
  m.add("Call-ID", std::move(call_id));
  m.add("CSeq", std::to_string(cseq) + " " + method);
  m.add("Route", "<sip:proxy.invalid;lr>");
  return m;
}

std::string without_line(std::string text, std::string_view prefix) {
  auto p = text.find(prefix);
  REQUIRE(p != std::string::npos);
  text.erase(p, text.find("\r\n", p) + 2 - p);
  return text;
}

using ms = std::chrono::milliseconds;
ms gap(const raw_received* a, const raw_received* b) { return std::chrono::duration_cast<ms>(b->at - a->at); }
}  // namespace

TEST_CASE("make_response copies Via, From, To, Call-ID, CSeq and adds the To tag", "[sip][transaction]") {
  auto req = sip::parse_message(
      "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP p1;branch=z9hG4bK1, SIP/2.0/UDP p2;branch=z9hG4bK2\r\n"
      "From: <sip:a@h>;tag=f\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 7 INVITE\r\nContact: <sip:a@p1>\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(req);
  auto r = sip::make_response(*req, 180, "tt");
  CHECK(r.status == 180);
  CHECK(r.reason == "Ringing");
  REQUIRE(r.headers_named("Via").size() == 2);
  CHECK(r.headers_named("Via")[0] == "SIP/2.0/UDP p1;branch=z9hG4bK1");
  CHECK(r.headers_named("Via")[1] == "SIP/2.0/UDP p2;branch=z9hG4bK2");
  CHECK(r.header("From") == "<sip:a@h>;tag=f");
  CHECK(r.header("To") == "<sip:b@h>;tag=tt");
  CHECK(r.header("Call-ID") == "x");
  CHECK(r.header("CSeq") == "7 INVITE");
  CHECK_FALSE(r.header("Contact"));
  auto again = sip::make_response(sip::make_response(*req, 200, "tt"), 200, "other");  // a To with a tag keeps it
  CHECK(again.header("To") == "<sip:b@h>;tag=tt");
  CHECK(sip::make_response(*req, 100).header("To") == "<sip:b@h>");
  CHECK(sip::make_response(*req, 486, {}, "Busy Now").reason == "Busy Now");
  auto text = sip::make_response(*req, 200, "tt").to_string();
  CHECK(text.starts_with("SIP/2.0 200 OK\r\n"));
}

TEST_CASE("client INVITE: retransmitted on UDP with doubling intervals, until a provisional response", "[sip][transaction]") {
  fixture f({ms(40), ms(4000), ms(5000)});
  recorder r;
  auto txn = f.layer->send_request(tu_request("INVITE"), f.raw_peer(), r.handler());
  CHECK(txn->state() == transaction_state::calling);
  CHECK(txn->method() == "INVITE");
  CHECK(txn->branch().starts_with("z9hG4bK"));
  CHECK(f.layer->live_transactions() == 1);
  REQUIRE(f.wait([&] { return f.raw.requests("INVITE").size() >= 3; }));
  auto inv = f.raw.requests("INVITE");
  CHECK(inv[1]->text == inv[0]->text);
  CHECK(inv[2]->text == inv[0]->text);
  CHECK(gap(inv[0], inv[1]) >= ms(30));
  CHECK(gap(inv[1], inv[2]) >= ms(70));
  // Doubled: T1 + 2 T1 = 120 ms from the first (timers fire late, never early). Comparing the two gaps instead
  // failed under TSan, where the first retransmission came 87 ms late and the second on time (80 ms).
  CHECK(gap(inv[0], inv[2]) >= ms(110));
  const auto& m = *inv[0]->msg;
  CHECK(m.header("Via") == "SIP/2.0/UDP 127.0.0.1:" + std::to_string(f.ep().port()) + ";branch=" + std::string(txn->branch()) + ";rport");
  CHECK(m.header("Max-Forwards") == "70");

  f.raw.send(sip::make_response(m, 100), f.ep());
  REQUIRE(f.wait([&] { return r.statuses.size() == 1; }));
  CHECK(r.statuses[0] == 100);
  CHECK(txn->state() == transaction_state::proceeding);
  CHECK(txn->last_status() == 100);
  run_for(f.io, 30ms);
  const auto n = f.raw.requests("INVITE").size();
  run_for(f.io, 400ms);
  CHECK(f.raw.requests("INVITE").size() == n);
  CHECK(f.layer->stats().retransmissions_sent >= 2);
  CHECK(r.failures == 0);
}

TEST_CASE("client INVITE: timer B ends an unanswered INVITE with timed_out, once", "[sip][transaction]") {
  fixture f({ms(10), ms(4000), ms(5000)});
  recorder r;
  const auto start = sclock::now();
  auto txn = f.layer->send_request(tu_request("INVITE"), f.raw_peer(), r.handler());
  REQUIRE(f.wait([&] { return r.failures == 1; }));
  CHECK(sclock::now() - start >= ms(630));
  CHECK(r.ec == std::errc::timed_out);
  CHECK(r.statuses.empty());
  CHECK(txn->state() == transaction_state::terminated);
  CHECK(f.layer->live_transactions() == 0);
  CHECK(f.layer->stats().timeouts == 1);
  run_for(f.io, 50ms);  // the peer reads what was on the way when timer B fired (the 630 ms retransmission)
  const auto sent = f.raw.requests("INVITE").size();
  CHECK(sent >= 6);  // 0, 10, 30, 70, 150, 310, 630 ms
  run_for(f.io, 100ms);
  CHECK(r.failures == 1);
  CHECK(f.raw.requests("INVITE").size() == sent);
}

TEST_CASE("client INVITE: the layer ACKs a non-2xx final response, and ACKs its retransmissions", "[sip][transaction]") {
  fixture f({ms(20), ms(4000), ms(5000)});
  recorder r;
  std::vector<std::string> sent;  // on_send: as on the wire, without retransmissions
  f.layer->on_send = [&](const sip::message& m, const sip::peer& to) {
    CHECK(to == f.raw_peer());
    sent.push_back(m.to_string());
  };
  auto txn = f.layer->send_request(tu_request("INVITE"), f.raw_peer(), r.handler());
  REQUIRE(f.wait([&] { return !f.raw.requests("INVITE").empty(); }));
  const auto inv = *f.raw.requests("INVITE")[0]->msg;
  REQUIRE(sent.size() == 1);
  CHECK(sent[0] == f.raw.requests("INVITE")[0]->text);  // with the Via and Max-Forwards the layer added
  f.raw.send(sip::make_response(inv, 180, "rtag"), f.ep());
  f.raw.send(sip::make_response(inv, 486, "rtag"), f.ep());
  REQUIRE(f.wait([&] { return r.statuses.size() == 2 && f.raw.requests("ACK").size() == 1; }));
  CHECK(r.statuses == std::vector<int>{180, 486});
  CHECK(txn->state() == transaction_state::completed);
  const auto& ack = *f.raw.requests("ACK")[0]->msg;
  CHECK(ack.request_uri == inv.request_uri);
  CHECK(ack.headers_named("Via").size() == 1);
  CHECK(ack.header("Via") == inv.header("Via"));  // same branch (RFC 3261 §17.1.1.3)
  CHECK(ack.header("CSeq") == "1 ACK");
  CHECK(ack.header("From") == inv.header("From"));
  CHECK(ack.header("Call-ID") == inv.header("Call-ID"));
  CHECK(ack.header("To") == "<sip:bob@127.0.0.1>;tag=rtag");
  CHECK(ack.header("Route") == "<sip:proxy.invalid;lr>");
  CHECK(ack.body.empty());

  f.raw.send(sip::make_response(inv, 486, "rtag"), f.ep());  // retransmitted final: ACKed again, not passed up
  REQUIRE(f.wait([&] { return f.raw.requests("ACK").size() == 2; }));
  CHECK(f.raw.requests("ACK")[1]->text == f.raw.requests("ACK")[0]->text);
  run_for(f.io, 30ms);
  CHECK(r.statuses.size() == 2);
  REQUIRE(sent.size() == 2);  // the INVITE and the first ACK only
  CHECK(sent[1] == f.raw.requests("ACK")[0]->text);
  REQUIRE(f.wait([&] { return f.layer->live_transactions() == 0; }));  // timer D = 64·T1 on UDP
  CHECK(txn->state() == transaction_state::terminated);
  CHECK(r.failures == 0);
}

TEST_CASE("client INVITE: 2xx responses (retransmissions too) go to the TU until timer M, then to on_stray_response", "[sip][transaction]") {
  fixture f({ms(10), ms(40), ms(50)});
  recorder r;
  std::vector<int> stray;
  f.layer->on_stray_response = [&](const sip::message& m, const sip::peer& from) {
    stray.push_back(m.status);
    CHECK(from == f.raw_peer());
  };
  auto txn = f.layer->send_request(tu_request("INVITE"), f.raw_peer(), r.handler());
  REQUIRE(f.wait([&] { return !f.raw.requests("INVITE").empty(); }));
  const auto inv = *f.raw.requests("INVITE")[0]->msg;
  f.raw.send(sip::make_response(inv, 200, "a"), f.ep());
  f.raw.send(sip::make_response(inv, 200, "a"), f.ep());
  f.raw.send(sip::make_response(inv, 200, "fork-b"), f.ep());
  REQUIRE(f.wait([&] { return r.statuses.size() == 3; }));
  CHECK(txn->state() == transaction_state::accepted);
  CHECK(r.messages[2].header("To")->ends_with("tag=fork-b"));
  CHECK(f.raw.requests("ACK").empty());  // the ACK of a 2xx is the TU's
  REQUIRE(f.wait([&] { return txn->state() == transaction_state::terminated; }));  // timer M = 64·T1
  f.raw.send(sip::make_response(inv, 200, "a"), f.ep());
  REQUIRE(f.wait([&] { return stray.size() == 1; }));
  CHECK(r.statuses.size() == 3);
  CHECK(f.layer->stats().stray_responses == 1);

  // send_ack: a request of its own with a new branch.
  auto ack = tu_request("ACK");
  ack.set("To", std::string(*r.messages[0].header("To")));
  f.layer->send_ack(ack, f.raw_peer());
  REQUIRE(f.wait([&] { return f.raw.requests("ACK").size() == 1; }));
  const auto& sent = *f.raw.requests("ACK")[0]->msg;
  auto v = sip::parse_via(*sent.header("Via"));
  REQUIRE(v);
  CHECK(v->branch().starts_with("z9hG4bK"));
  CHECK(v->branch() != std::string(txn->branch()));
  CHECK(sent.header("Max-Forwards") == "70");
}

TEST_CASE("client non-INVITE: timer E doubles up to T2 and timer F ends it with timed_out", "[sip][transaction]") {
  fixture f({ms(10), ms(40), ms(50)});
  recorder r;
  const auto start = sclock::now();
  auto txn = f.layer->send_request(tu_request("OPTIONS"), f.raw_peer(), r.handler());
  CHECK(txn->state() == transaction_state::trying);
  REQUIRE(f.wait([&] { return r.failures == 1; }));
  CHECK(sclock::now() - start >= ms(630));
  CHECK(r.ec == std::errc::timed_out);
  CHECK(f.layer->live_transactions() == 0);
  auto sent = f.raw.requests("OPTIONS");
  // 0, 10, 30, 70, then every 40 ms to 640: at least 12 within timer F shows that the interval stopped
  // doubling at T2. On a loaded machine a datagram may arrive late (so gaps between arrivals can shrink to
  // nothing), never early: each retransmission arrives no sooner than its nominal time.
  REQUIRE(sent.size() >= 12);
  for (std::size_t i = 1; i < sent.size(); ++i) {
    const ms due = i < 4 ? ms((1 << i) * 10 - 10) : ms(70) + static_cast<int>(i - 3) * ms(40);
    INFO("retransmission " << i << " due at " << due.count() << " ms");
    CHECK(sent[i]->at - start >= due);
  }
}

TEST_CASE("client non-INVITE: retransmitted every T2 in Proceeding, the final response ends it after timer K", "[sip][transaction]") {
  fixture f({ms(10), ms(60), ms(300)});
  recorder r;
  int stray = 0;
  f.layer->on_stray_response = [&](const sip::message&, const sip::peer&) { ++stray; };
  auto txn = f.layer->send_request(tu_request("MESSAGE"), f.raw_peer(), r.handler());
  REQUIRE(f.wait([&] { return !f.raw.requests("MESSAGE").empty(); }));
  const auto req = *f.raw.requests("MESSAGE")[0]->msg;
  f.raw.send(sip::make_response(req, 100), f.ep());
  REQUIRE(f.wait([&] { return r.statuses.size() == 1; }));
  CHECK(txn->state() == transaction_state::proceeding);
  const auto before = f.raw.requests("MESSAGE").size();
  run_for(f.io, 250ms);
  auto sent = f.raw.requests("MESSAGE");
  CHECK(sent.size() - before >= 2);
  CHECK(sent.size() - before <= 5);
  for (std::size_t i = before; i + 1 < sent.size(); ++i) CHECK(gap(sent[i], sent[i + 1]) >= ms(50));

  f.raw.send(sip::make_response(req, 202), f.ep());
  REQUIRE(f.wait([&] { return r.statuses.size() == 2; }));
  CHECK(txn->state() == transaction_state::completed);
  f.raw.send(sip::make_response(req, 202), f.ep());  // absorbed in Completed
  run_for(f.io, 30ms);
  CHECK(r.statuses.size() == 2);
  CHECK(stray == 0);
  const auto n = f.raw.requests("MESSAGE").size();
  REQUIRE(f.wait([&] { return txn->state() == transaction_state::terminated; }));  // timer K = T4
  CHECK(f.raw.requests("MESSAGE").size() == n);
  f.raw.send(sip::make_response(req, 202), f.ep());  // now nobody's
  REQUIRE(f.wait([&] { return stray == 1; }));
  CHECK(r.failures == 0);
}

TEST_CASE("server INVITE: 100 Trying at once, a retransmitted INVITE is absorbed and gets the last response again", "[sip][transaction]") {
  fixture f;
  f.on_req = [](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
    t->respond(sip::make_response(req, 180, "srv"));
  };
  std::vector<int> sent;  // on_send: the automatic 100 too, no retransmissions
  f.layer->on_send = [&](const sip::message& m, const sip::peer&) { sent.push_back(m.status); };
  const auto text = sip_request("INVITE", "z9hG4bKinv1", "call-a", 1, opts().port(f.raw.port()).extra("Timestamp: 54\r\n"));
  f.raw.send(text, f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(180).size() == 1; }));
  REQUIRE(f.raw.inbox().size() == 2);
  const auto& trying = *f.raw.inbox()[0].msg;
  CHECK(trying.status == 100);
  CHECK(trying.header("To") == "<sip:bob@127.0.0.1>");
  CHECK(trying.header("Timestamp") == "54");
  CHECK(trying.header("Call-ID") == "call-a");
  REQUIRE(f.requests.size() == 1);
  CHECK(f.requests[0]->state() == transaction_state::proceeding);
  CHECK(f.requests[0]->status() == 180);
  CHECK(f.requests[0]->is_invite());

  f.raw.send(text, f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(180).size() == 2; }));
  CHECK(f.raw.responses(180)[1]->text == f.raw.responses(180)[0]->text);
  CHECK(f.requests.size() == 1);
  CHECK(f.layer->stats().retransmissions_absorbed == 1);
  CHECK(sent == std::vector<int>{100, 180});

  f.requests[0]->respond(sip::make_response(f.requests[0]->request(), 200, "srv"));
  REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 1; }));
  CHECK(f.requests[0]->state() == transaction_state::accepted);
  const auto before = f.raw.responses(200).size();
  f.raw.send(text, f.ep());  // in Accepted, before the ACK: the 2xx again
  REQUIRE(f.wait([&] { return f.raw.responses(200).size() > before; }));
  CHECK(f.requests.size() == 1);
  f.requests[0]->respond(sip::make_response(f.requests[0]->request(), 486));  // after the final: ignored
  CHECK(f.layer->stats().ignored_responses == 1);
}

TEST_CASE("server INVITE: a 2xx is retransmitted (T1, 2T1, ... T2) until the ACK, matched by dialog", "[sip][transaction]") {
  fixture f({ms(20), ms(80), ms(100)});
  std::vector<sip::message> acks;
  int timeouts = 0;
  f.on_req = [&](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
    t->on_ack = [&](const sip::message& a) { acks.push_back(a); };
    t->on_ack_timeout = [&] { ++timeouts; };
    auto ok = sip::make_response(req, 200, "t200");
    ok.add("Contact", "<sip:bob@127.0.0.1>");
    t->respond(std::move(ok));
  };
  f.raw.send(sip_request("INVITE", "z9hG4bKinv2", "call-b", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(200).size() >= 4; }));
  auto oks = f.raw.responses(200);
  CHECK(gap(oks[0], oks[1]) >= ms(15));
  CHECK(gap(oks[1], oks[2]) >= ms(35));
  CHECK(gap(oks[2], oks[3]) >= ms(70));  // 4·T1 capped at T2 = 80 ms
  CHECK(oks[3]->text == oks[0]->text);

  // The ACK of a 2xx has a branch of its own (RFC 3261 §13.2.2.4).
  const auto ack = sip_request("ACK", "z9hG4bKack2", "call-b", 1, opts().port(f.raw.port()).to_tag("t200"));
  f.raw.send(ack, f.ep());
  REQUIRE(f.wait([&] { return acks.size() == 1; }));
  CHECK(acks[0].method == "ACK");
  CHECK(acks[0].header("To")->ends_with("tag=t200"));
  CHECK(f.requests[0]->state() == transaction_state::accepted);  // until timer L
  run_for(f.io, 30ms);
  const auto n = f.raw.responses(200).size();
  run_for(f.io, 300ms);
  CHECK(f.raw.responses(200).size() == n);
  f.raw.send(ack, f.ep());  // a retransmitted ACK: absorbed
  run_for(f.io, 30ms);
  CHECK(acks.size() == 1);
  REQUIRE(f.wait([&] { return f.layer->live_transactions() == 0; }));
  CHECK(timeouts == 0);
  CHECK(f.requests[0]->state() == transaction_state::terminated);
  // The request was trimmed to what a finished transaction needs.
  CHECK(f.requests[0]->request().header("Call-ID") == "call-b");
  CHECK(f.requests[0]->request().header("CSeq") == "1 INVITE");
  CHECK(f.requests[0]->request().method == "INVITE");
  CHECK_FALSE(f.requests[0]->request().header("From"));
  CHECK_FALSE(f.requests[0]->request().header("Max-Forwards"));
}

TEST_CASE("server INVITE: on_ack_timeout when no ACK follows a 2xx within 64*T1", "[sip][transaction]") {
  fixture f({ms(10), ms(40), ms(50)});
  int timeouts = 0;
  f.on_req = [&](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
    t->on_ack_timeout = [&] { ++timeouts; };
    t->respond(sip::make_response(req, 200, "t"));
  };
  const auto start = sclock::now();
  f.raw.send(sip_request("INVITE", "z9hG4bKinv3", "call-t", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return timeouts == 1; }));
  CHECK(sclock::now() - start >= ms(630));
  CHECK(f.layer->live_transactions() == 0);
  const auto n = f.raw.responses(200).size();
  CHECK(n >= 10);  // 0, 10, 30, 70, then every 40 ms
  run_for(f.io, 100ms);
  CHECK(f.raw.responses(200).size() == n);
  CHECK(timeouts == 1);
}

TEST_CASE("server INVITE: timer G retransmits a non-2xx final (doubling to T2) and timer H ends it without an ACK", "[sip][transaction]") {
  fixture f({ms(10), ms(40), ms(50)});
  int timeouts = 0, acks = 0;
  f.on_req = [&](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
    t->on_ack = [&](const sip::message&) { ++acks; };
    t->on_ack_timeout = [&] { ++timeouts; };
    t->respond(sip::make_response(req, 603, "d"));
  };
  const auto start = sclock::now();
  f.raw.send(sip_request("INVITE", "z9hG4bKh1", "call-h", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return timeouts == 1; }));
  CHECK(sclock::now() - start >= ms(630));
  CHECK(acks == 0);
  CHECK(f.requests[0]->state() == transaction_state::terminated);
  auto finals = f.raw.responses(603);
  REQUIRE(finals.size() >= 10);  // 0, 10, 30, 70, then every 40 ms
  CHECK(gap(finals[1], finals[2]) >= ms(15));
  for (std::size_t i = 3; i + 1 < finals.size(); ++i) CHECK(gap(finals[i], finals[i + 1]) >= ms(30));
  run_for(f.io, 100ms);
  CHECK(f.raw.responses(603).size() == finals.size());
}

TEST_CASE("server INVITE: CANCEL gets 200 and on_cancel, the TU's 487 is retransmitted until the layer gets its ACK", "[sip][transaction]") {
  fixture f({ms(20), ms(80), ms(100)});
  int cancels = 0;
  std::vector<sip::message> acks;
  f.on_req = [&](std::shared_ptr<sip::server_transaction> t, const sip::message&) {
    std::weak_ptr<sip::server_transaction> w = t;
    t->on_cancel = [&cancels, w] {
      ++cancels;
      auto self = w.lock();
      REQUIRE(self);
      self->respond(sip::make_response(self->request(), 487, "c487"));
    };
    t->on_ack = [&](const sip::message& a) { acks.push_back(a); };
  };
  f.raw.send(sip_request("INVITE", "z9hG4bKc1", "call-c", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(100).size() == 1; }));
  const auto cancel = sip_request("CANCEL", "z9hG4bKc1", "call-c", 1, opts().port(f.raw.port()));
  f.raw.send(cancel, f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(200, "CANCEL").size() == 1 && f.raw.responses(487, "INVITE").size() >= 1; }));
  CHECK(cancels == 1);
  CHECK(f.requests.size() == 1);  // the CANCEL did not reach on_request
  f.raw.send(cancel, f.ep());     // retransmitted CANCEL: the 200 again
  REQUIRE(f.wait([&] { return f.raw.responses(200, "CANCEL").size() == 2; }));
  CHECK(cancels == 1);
  REQUIRE(f.wait([&] { return f.raw.responses(487).size() >= 2; }));  // timer G
  CHECK(f.requests[0]->state() == transaction_state::completed);

  // The ACK of a non-2xx has the INVITE's branch.
  f.raw.send(sip_request("ACK", "z9hG4bKc1", "call-c", 1, opts().port(f.raw.port()).to_tag("c487")), f.ep());
  REQUIRE(f.wait([&] { return acks.size() == 1; }));
  CHECK(f.requests[0]->state() == transaction_state::confirmed);
  run_for(f.io, 30ms);
  const auto n = f.raw.responses(487).size();
  run_for(f.io, 200ms);
  CHECK(f.raw.responses(487).size() == n);
  REQUIRE(f.wait([&] { return f.requests[0]->state() == transaction_state::terminated; }));  // timer I = T4
  CHECK(f.layer->stats().stray_acks == 0);
}

TEST_CASE("server INVITE: without on_cancel the layer answers 487 itself", "[sip][transaction]") {
  fixture f;
  f.raw.send(sip_request("INVITE", "z9hG4bKc2", "call-c2", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.requests.size() == 1; }));
  f.raw.send(sip_request("CANCEL", "z9hG4bKc2", "call-c2", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(487, "INVITE").size() == 1 && f.raw.responses(200, "CANCEL").size() == 1; }));
  CHECK(f.requests[0]->status() == 487);
}

TEST_CASE("server: a CANCEL that matches no transaction is answered 481", "[sip][transaction]") {
  fixture f;
  f.raw.send(sip_request("CANCEL", "z9hG4bKnone", "call-x", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(481, "CANCEL").size() == 1; }));
  CHECK(f.requests.empty());
  CHECK(f.layer->stats().unmatched_cancels == 1);
}

TEST_CASE("server: malformed requests get 400 or are dropped, and never reach the TU", "[sip][transaction]") {
  fixture f;
  const auto good = sip_request("OPTIONS", "z9hG4bKb1", "call-400", 1, opts().port(f.raw.port()));
  SECTION("no Call-ID") {
    f.raw.send(without_line(good, "Call-ID:"), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(400).size() == 1; }));
    CHECK(f.raw.responses(400)[0]->msg->reason.find("Call-ID") != std::string::npos);
    CHECK(f.raw.responses(400)[0]->msg->header("CSeq") == "1 OPTIONS");
  }
  SECTION("no From") {
    f.raw.send(without_line(good, "From:"), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(400).size() == 1; }));
  }
  SECTION("CSeq method differs from the method") {
    auto bad = good;
    bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: 1 INVITE");
    f.raw.send(bad, f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(400).size() == 1; }));
  }
  SECTION("unparseable CSeq") {
    auto bad = good;
    bad.replace(bad.find("CSeq: 1 OPTIONS"), 15, "CSeq: x OPTIONS");
    f.raw.send(bad, f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(400).size() == 1; }));
  }
  CHECK(f.layer->stats().bad_requests == 1);
  CHECK(f.requests.empty());
  CHECK(f.layer->live_transactions() == 0);
}

TEST_CASE("server: a request without a usable Via, or a bad ACK, is dropped without a response", "[sip][transaction]") {
  fixture f;
  f.raw.send(without_line(sip_request("OPTIONS", "z9hG4bKv", "c", 1, opts().port(f.raw.port())), "Via:"), f.ep());
  auto bad_via = sip_request("OPTIONS", "z9hG4bKv2", "c", 1, opts().port(f.raw.port()));
  bad_via.replace(bad_via.find("SIP/2.0/UDP"), 11, "HTTP/1.1/UDP");
  f.raw.send(bad_via, f.ep());
  f.raw.send(without_line(sip_request("ACK", "z9hG4bKv3", "c", 1, opts().port(f.raw.port())), "Call-ID:"), f.ep());
  REQUIRE(f.wait([&] { return f.layer->stats().dropped == 3; }));
  run_for(f.io, 50ms);
  CHECK(f.raw.inbox().empty());
  CHECK(f.requests.empty());
}

TEST_CASE("server: garbage datagrams are dropped while a transaction in progress completes", "[sip][transaction]") {
  fixture f;
  std::vector<sip::message> acks;
  f.on_req = [&](std::shared_ptr<sip::server_transaction> t, const sip::message&) {
    t->on_ack = [&](const sip::message& a) { acks.push_back(a); };
  };
  f.raw.send(sip_request("INVITE", "z9hG4bKg1", "call-g", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.requests.size() == 1; }));
  f.raw.send("\x16\x03\x01 binary junk", f.ep());
  f.raw.send("SIP/2.0 999 Nope\r\n\r\n", f.ep());
  f.raw.send("INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKg1\r\nbroken header\r\n\r\n", f.ep());
  REQUIRE(f.wait([&] { return f.tr.stats().malformed_dropped == 3; }));
  CHECK(f.requests[0]->state() == transaction_state::proceeding);
  f.requests[0]->respond(sip::make_response(f.requests[0]->request(), 200, "g"));
  REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 1; }));
  f.raw.send(sip_request("ACK", "z9hG4bKg1ack", "call-g", 1, opts().port(f.raw.port()).to_tag("g")), f.ep());
  REQUIRE(f.wait([&] { return acks.size() == 1; }));
  CHECK(f.requests.size() == 1);
}

TEST_CASE("server: received and rport are filled in and responses follow them (RFC 3261 §18.2, RFC 3581)", "[sip][transaction]") {
  fixture f;
  const auto raw_port = std::to_string(f.raw.port());
  f.on_req = [](std::shared_ptr<sip::server_transaction> t, const sip::message& req) { t->respond(sip::make_response(req, 200)); };

  SECTION("rport: the source port, and received even for a matching address") {
    f.raw.send(sip_request("OPTIONS", "z9hG4bKr1", "c1", 1, opts().host("192.0.2.1").port(5999)), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 1; }));  // sent to the source, not 192.0.2.1:5999
    CHECK(f.raw.responses(200)[0]->msg->header("Via") ==
          "SIP/2.0/UDP 192.0.2.1:5999;branch=z9hG4bKr1;rport=" + raw_port + ";received=127.0.0.1");
    CHECK(f.requests[0]->request().header("Via") == f.raw.responses(200)[0]->msg->header("Via"));
    CHECK(f.requests[0]->source() == f.raw_peer());

    f.raw.send(sip_request("OPTIONS", "z9hG4bKr2", "c2", 1, opts().port(f.raw.port())), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 2; }));
    CHECK(f.raw.responses(200)[1]->msg->header("Via") ==
          "SIP/2.0/UDP 127.0.0.1:" + raw_port + ";branch=z9hG4bKr2;rport=" + raw_port + ";received=127.0.0.1");
  }
  SECTION("no rport, a host name: received, and the sent-by port") {
    f.raw.send(sip_request("OPTIONS", "z9hG4bKr3", "c3", 1, opts().host("uac.invalid").port(f.raw.port()).rport(false)), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 1; }));
    CHECK(f.raw.responses(200)[0]->msg->header("Via") == "SIP/2.0/UDP uac.invalid:" + raw_port + ";branch=z9hG4bKr3;received=127.0.0.1");
  }
  SECTION("no rport, sent-by is the source address: nothing added") {
    f.raw.send(sip_request("OPTIONS", "z9hG4bKr4", "c4", 1, opts().port(f.raw.port()).rport(false)), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 1; }));
    CHECK(f.raw.responses(200)[0]->msg->header("Via") == "SIP/2.0/UDP 127.0.0.1:" + raw_port + ";branch=z9hG4bKr4");
  }
  SECTION("no rport: the response goes to the sent-by port, not the source port") {
    raw_udp_peer other(f.io);
    f.raw.send(sip_request("OPTIONS", "z9hG4bKr5", "c5", 1, opts().port(other.port()).rport(false)), f.ep());
    REQUIRE(f.wait([&] { return other.responses(200).size() == 1; }));
    CHECK(f.raw.inbox().empty());
  }
}

TEST_CASE("server: a request with an RFC 2543 branch (no magic cookie) is matched by its fields", "[sip][transaction]") {
  fixture f;
  int cancels = 0;
  f.on_req = [&](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
    t->on_cancel = [&] { ++cancels; };
    t->respond(sip::make_response(req, 180, "old"));
  };
  const auto inv = sip_request("INVITE", "oldbranch1", "call-2543", 5, opts().port(f.raw.port()));
  f.raw.send(inv, f.ep());
  f.raw.send(inv, f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(180).size() == 2; }));
  CHECK(f.requests.size() == 1);
  f.raw.send(sip_request("CANCEL", "oldbranch1", "call-2543", 5, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return cancels == 1; }));
  f.raw.send(sip_request("INVITE", "oldbranch1", "call-2543", 6, opts().port(f.raw.port())), f.ep());  // new CSeq: new request
  REQUIRE(f.wait([&] { return f.requests.size() == 2; }));
}

TEST_CASE("server non-INVITE: the final response is resent for retransmissions until timer J", "[sip][transaction]") {
  fixture f({ms(10), ms(40), ms(50)});
  f.on_req = [](std::shared_ptr<sip::server_transaction> t, const sip::message& req) { t->respond(sip::make_response(req, 200, "o")); };
  const auto text = sip_request("OPTIONS", "z9hG4bKj1", "call-j", 1, opts().port(f.raw.port()));
  f.raw.send(text, f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 1; }));
  CHECK(f.requests[0]->state() == transaction_state::completed);
  f.raw.send(text, f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 2; }));
  CHECK(f.requests.size() == 1);
  run_for(f.io, 100ms);
  CHECK(f.raw.responses(200).size() == 2);  // no retransmission of non-INVITE responses by timer
  REQUIRE(f.wait([&] { return f.layer->live_transactions() == 0; }));  // J = 64·T1
  f.raw.send(text, f.ep());  // after J: a new request
  REQUIRE(f.wait([&] { return f.requests.size() == 2; }));
}

TEST_CASE("server: without on_request the layer answers 503", "[sip][transaction]") {
  fixture f;
  f.layer->on_request = nullptr;
  f.raw.send(sip_request("OPTIONS", "z9hG4bK503", "c", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(503).size() == 1; }));
}

TEST_CASE("server: an ACK matching nothing goes to on_stray_ack", "[sip][transaction]") {
  fixture f;
  std::vector<sip::peer> from;
  f.layer->on_stray_ack = [&](const sip::message& a, const sip::peer& p) {
    CHECK(a.method == "ACK");
    from.push_back(p);
  };
  f.raw.send(sip_request("ACK", "z9hG4bKstray", "c", 1, opts().port(f.raw.port()).to_tag("x")), f.ep());
  REQUIRE(f.wait([&] { return from.size() == 1; }));
  CHECK(from[0] == f.raw_peer());
  CHECK(f.raw.inbox().empty());
}

TEST_CASE("client: cancel() is held until a provisional response, then sent like the INVITE", "[sip][transaction]") {
  fixture f({ms(50), ms(4000), ms(100)});
  recorder inv_r, can_r;
  auto inv = f.layer->send_request(tu_request("INVITE"), f.raw_peer(), inv_r.handler());
  auto can = f.layer->cancel(inv, can_r.handler());
  CHECK(f.layer->live_transactions() == 1);  // held, not started
  run_for(f.io, 30ms);
  CHECK(f.raw.requests("CANCEL").empty());
  recorder again;
  f.layer->cancel(inv, again.handler());  // a second one while the first is pending
  REQUIRE(f.wait([&] { return again.failures == 1; }));
  CHECK(again.ec == std::errc::operation_in_progress);

  const auto invite = *f.raw.requests("INVITE")[0]->msg;
  f.raw.send(sip::make_response(invite, 180, "r"), f.ep());
  REQUIRE(f.wait([&] { return f.raw.requests("CANCEL").size() == 1; }));
  const auto& c = *f.raw.requests("CANCEL")[0]->msg;
  CHECK(c.request_uri == invite.request_uri);
  CHECK(c.header("Via") == invite.header("Via"));
  CHECK(c.headers_named("Via").size() == 1);
  CHECK(c.header("From") == invite.header("From"));
  CHECK(c.header("To") == invite.header("To"));
  CHECK(c.header("Call-ID") == invite.header("Call-ID"));
  CHECK(c.header("CSeq") == "1 CANCEL");
  CHECK(c.header("Route") == invite.header("Route"));
  CHECK(can->method() == "CANCEL");
  CHECK(can->branch() == inv->branch());

  f.raw.send(sip::make_response(c, 200, "r"), f.ep());
  f.raw.send(sip::make_response(invite, 487, "r"), f.ep());
  REQUIRE(f.wait([&] { return can_r.statuses.size() == 1 && inv_r.statuses.size() == 2 && f.raw.requests("ACK").size() == 1; }));
  CHECK(can_r.statuses[0] == 200);
  CHECK(inv_r.statuses == std::vector<int>{180, 487});
  CHECK(f.raw.requests("ACK")[0]->msg->header("Via") == invite.header("Via"));

  recorder late;
  f.layer->cancel(inv, late.handler());  // the INVITE has its final response: nothing is sent
  REQUIRE(f.wait([&] { return late.failures == 1; }));
  CHECK(late.ec == std::errc::operation_canceled);
  CHECK(f.raw.requests("CANCEL").size() == 1);
}

TEST_CASE("client: a held CANCEL is dropped when the INVITE ends without a provisional response", "[sip][transaction]") {
  fixture f({ms(50), ms(4000), ms(100)});
  recorder inv_r, can_r;
  auto inv = f.layer->send_request(tu_request("INVITE"), f.raw_peer(), inv_r.handler());
  f.layer->cancel(inv, can_r.handler());
  REQUIRE(f.wait([&] { return !f.raw.requests("INVITE").empty(); }));
  f.raw.send(sip::make_response(*f.raw.requests("INVITE")[0]->msg, 603, "d"), f.ep());
  REQUIRE(f.wait([&] { return can_r.failures == 1 && inv_r.statuses.size() == 1; }));
  CHECK(can_r.ec == std::errc::operation_canceled);
  run_for(f.io, 30ms);
  CHECK(f.raw.requests("CANCEL").empty());
}

TEST_CASE("client: no final response 64*T1 after the CANCEL ends the INVITE with timed_out", "[sip][transaction]") {
  fixture f({ms(10), ms(40), ms(50)});
  recorder inv_r, can_r;
  auto inv = f.layer->send_request(tu_request("INVITE"), f.raw_peer(), inv_r.handler());
  REQUIRE(f.wait([&] { return !f.raw.requests("INVITE").empty(); }));
  const auto invite = *f.raw.requests("INVITE")[0]->msg;
  f.raw.send(sip::make_response(invite, 183, "r"), f.ep());
  REQUIRE(f.wait([&] { return inv_r.statuses.size() == 1; }));
  f.layer->cancel(inv, can_r.handler());
  REQUIRE(f.wait([&] { return !f.raw.requests("CANCEL").empty(); }));
  f.raw.send(sip::make_response(*f.raw.requests("CANCEL")[0]->msg, 200, "r"), f.ep());
  const auto start = sclock::now();
  REQUIRE(f.wait([&] { return inv_r.failures == 1; }));
  CHECK(sclock::now() - start >= ms(550));
  CHECK(inv_r.ec == std::errc::timed_out);
  CHECK(can_r.statuses == std::vector<int>{200});
}

TEST_CASE("client: send_request validates its request", "[sip][transaction]") {
  fixture f;
  recorder r;
  CHECK_THROWS_AS(f.layer->send_request(tu_request("ACK"), f.raw_peer(), r.handler()), std::invalid_argument);
  auto no_cseq = tu_request("OPTIONS");
  no_cseq.remove("CSeq");
  CHECK_THROWS_AS(f.layer->send_request(no_cseq, f.raw_peer(), r.handler()), std::invalid_argument);
  auto with_via = tu_request("OPTIONS");
  with_via.add("Via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmine");
  auto t = f.layer->send_request(with_via, f.raw_peer(), r.handler());
  CHECK(t->branch() == "z9hG4bKmine");
  CHECK_THROWS_AS(f.layer->send_request(with_via, f.raw_peer(), r.handler()), std::invalid_argument);  // same branch
  CHECK_THROWS_AS(f.layer->cancel(nullptr, r.handler()), std::invalid_argument);
  CHECK_THROWS_AS(f.layer->cancel(t, r.handler()), std::invalid_argument);  // not an INVITE
  CHECK_THROWS_AS(f.layer->send_ack(tu_request("OPTIONS"), f.raw_peer()), std::invalid_argument);
  f.layer->close();
  CHECK_THROWS_AS(f.layer->send_request(tu_request("OPTIONS"), f.raw_peer(), r.handler()), std::logic_error);
  CHECK_THROWS_AS(f.layer->send_ack(tu_request("ACK"), f.raw_peer()), std::logic_error);
}

TEST_CASE("client over TCP: no retransmissions, responses on the connection, the ACK too, timer D = 0", "[sip][transaction][tcp]") {
  fixture f({ms(20), ms(80), ms(100)});
  raw_tcp_listener uas(f.io);
  recorder r;
  const sip::peer to{transport_protocol::tcp, loopback, uas.port()};
  auto txn = f.layer->send_request(tu_request("INVITE"), to, r.handler());
  CHECK(txn->reliable());
  REQUIRE(f.wait([&] { return uas.streams().size() == 1 && uas.streams()[0]->inbox().size() == 1; }));
  auto& s = *uas.streams()[0];
  const auto invite = *s.inbox()[0].msg;
  CHECK(invite.header("Via")->starts_with("SIP/2.0/TCP 127.0.0.1:" + std::to_string(f.tcp_ep().port()) + ";branch="));
  run_for(f.io, 200ms);
  CHECK(s.inbox().size() == 1);  // timer A is not used on TCP

  const auto both = sip::make_response(invite, 100).to_string() + sip::make_response(invite, 486, "busy").to_string();
  s.write(both.substr(0, both.size() / 2 + 7));  // split across two writes, two messages pipelined
  run_for(f.io, 20ms);
  s.write(both.substr(both.size() / 2 + 7));
  REQUIRE(f.wait([&] { return r.statuses.size() == 2 && s.inbox().size() == 2; }));
  CHECK(r.statuses == std::vector<int>{100, 486});
  CHECK(s.inbox()[1].msg->method == "ACK");
  CHECK(txn->state() == transaction_state::terminated);
  CHECK(f.layer->live_transactions() == 0);
  CHECK(uas.streams().size() == 1);
}

TEST_CASE("server over TCP: responses on the request's connection, no timer G, I and J are 0", "[sip][transaction][tcp]") {
  fixture f({ms(20), ms(80), ms(100)});
  std::vector<sip::message> acks;
  f.on_req = [&](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
    t->on_ack = [&](const sip::message& a) { acks.push_back(a); };
    t->respond(sip::make_response(req, req.method == "INVITE" ? 486 : 200, "tt"));
  };
  auto c = raw_tcp_stream::connect(f.io, f.tcp_ep());
  c->write(sip_request("INVITE", "z9hG4bKti", "call-tcp", 1, opts().proto("TCP").port(c->local_endpoint().port())) +
           sip_request("OPTIONS", "z9hG4bKto", "call-tcp2", 1, opts().proto("TCP").port(c->local_endpoint().port())));
  REQUIRE(f.wait([&] { return c->inbox().size() == 3; }));
  CHECK(c->inbox()[0].msg->status == 100);
  CHECK(c->inbox()[1].msg->status == 486);
  CHECK(c->inbox()[2].msg->status == 200);
  REQUIRE(f.requests.size() == 2);
  CHECK(f.requests[1]->state() == transaction_state::terminated);  // timer J = 0
  CHECK(f.requests[0]->state() == transaction_state::completed);
  run_for(f.io, 150ms);
  CHECK(c->inbox().size() == 3);  // timer G is not used on TCP
  c->write(sip_request("ACK", "z9hG4bKti", "call-tcp", 1, opts().proto("TCP").port(c->local_endpoint().port()).to_tag("tt")));
  REQUIRE(f.wait([&] { return acks.size() == 1; }));
  CHECK(f.requests[0]->state() == transaction_state::terminated);  // timer I = 0
  CHECK(f.layer->live_transactions() == 0);
}

TEST_CASE("server over TCP: when the request's connection is gone, the response opens one to the sent-by port", "[sip][transaction][tcp]") {
  fixture f;
  raw_tcp_listener uac_listener(f.io);
  auto c = raw_tcp_stream::connect(f.io, f.tcp_ep());
  c->write(sip_request("OPTIONS", "z9hG4bKgone", "call-gone", 1, opts().proto("TCP").port(uac_listener.port())));
  REQUIRE(f.wait([&] { return f.requests.size() == 1; }));
  c->close();
  REQUIRE(f.wait([&] { return f.tr.stats().tcp_connections == 0; }));
  f.requests[0]->respond(sip::make_response(f.requests[0]->request(), 200));
  REQUIRE(f.wait([&] { return uac_listener.streams().size() == 1 && uac_listener.streams()[0]->inbox().size() == 1; }));
  CHECK(uac_listener.streams()[0]->inbox()[0].msg->status == 200);
}

// (A non-INVITE final on TCP ends its transaction at once, timer J = 0: its delivery failure is not reported.)
TEST_CASE("server over TCP: a response that cannot be sent ends the transaction with on_transport_error", "[sip][transaction][tcp]") {
  fixture f;
  std::uint16_t closed_port = 0;
  {
    asio::ip::tcp::acceptor a(f.io, {loopback, 0});
    closed_port = a.local_endpoint().port();
  }
  std::vector<std::error_code> errors;
  f.on_req = [&](std::shared_ptr<sip::server_transaction> t, const sip::message&) {
    t->on_transport_error = [&](std::error_code ec) { errors.push_back(ec); };
  };
  auto c = raw_tcp_stream::connect(f.io, f.tcp_ep());
  c->write(sip_request("INVITE", "z9hG4bKnoway", "call-noway", 1, opts().proto("TCP").port(closed_port)));
  REQUIRE(f.wait([&] { return f.requests.size() == 1 && c->inbox().size() == 1; }));  // the 100 on the connection
  c->close();
  REQUIRE(f.wait([&] { return f.tr.stats().tcp_connections == 0; }));
  f.requests[0]->respond(sip::make_response(f.requests[0]->request(), 486, "x"));
  REQUIRE(f.wait([&] { return errors.size() == 1; }));
  CHECK(errors[0] == std::errc::connection_refused);
  CHECK(f.requests[0]->state() == transaction_state::terminated);
  CHECK(f.layer->live_transactions() == 0);
  CHECK(f.layer->stats().transport_errors == 1);
}

TEST_CASE("client over TCP: a refused connection ends the transaction with the transport's error", "[sip][transaction][tcp]") {
  fixture f;
  std::uint16_t port = 0;
  {
    asio::ip::tcp::acceptor a(f.io, {loopback, 0});
    port = a.local_endpoint().port();
  }
  recorder r;
  auto txn = f.layer->send_request(tu_request("OPTIONS"), {transport_protocol::tcp, loopback, port}, r.handler());
  CHECK(r.failures == 0);  // never from inside send_request
  REQUIRE(f.wait([&] { return r.failures == 1; }));
  CHECK(r.ec == std::errc::connection_refused);
  CHECK(txn->state() == transaction_state::terminated);
  CHECK(f.layer->live_transactions() == 0);
  CHECK(f.layer->stats().transport_errors == 1);
  run_for(f.io, 50ms);
  CHECK(r.failures == 1);
}

TEST_CASE("two layers: INVITE/100/180/200/ACK then BYE/200, over UDP and TCP", "[sip][transaction]") {
  const auto proto = GENERATE(transport_protocol::udp, transport_protocol::tcp);
  asio::io_context io;
  sip::transport ta(io.get_executor()), tb(io.get_executor());
  std::error_code ec;
  for (auto* t : {&ta, &tb})
    for (auto p : {transport_protocol::udp, transport_protocol::tcp}) {
      t->listen(p, loopback, 0, ec);
      REQUIRE_FALSE(ec);
    }
  const sip::timer_config timers{ms(50), ms(200), ms(100)};
  sip::transaction_layer a(ta, timers), b(tb, timers);
  const auto to_b = *tb.local(proto);

  std::vector<std::string> log;
  b.on_request = [&](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
    log.push_back("b got " + req.method);
    if (req.method == "INVITE") {
      t->on_ack = [&](const sip::message&) { log.push_back("b got ACK"); };
      t->respond(sip::make_response(req, 180, "btag"));
      auto ok = sip::make_response(req, 200, "btag");
      ok.add("Contact", "<sip:bob@127.0.0.1>");
      t->respond(std::move(ok));
    } else {
      t->respond(sip::make_response(req, 200));
    }
  };
  recorder inv_r, bye_r;
  auto inv = a.send_request(tu_request("INVITE", 1, "two-layers"), to_b, [&](const sip::message* r, std::error_code e) {
    inv_r.handler()(r, e);
    if (r && r->status == 200) {
      auto ack = tu_request("ACK", 1, "two-layers");
      ack.set("To", std::string(*r->header("To")));
      a.send_ack(std::move(ack), to_b);
    }
  });
  REQUIRE(run_until(io, [&] { return log.size() == 2; }));
  CHECK(log == std::vector<std::string>{"b got INVITE", "b got ACK"});
  CHECK(inv_r.statuses.size() >= 3);
  CHECK(inv_r.statuses.front() == 100);
  CHECK(inv_r.statuses[1] == 180);
  CHECK(inv_r.statuses[2] == 200);

  auto bye = tu_request("BYE", 2, "two-layers");
  bye.set("To", "<sip:bob@127.0.0.1>;tag=btag");
  a.send_request(std::move(bye), to_b, bye_r.handler());
  REQUIRE(run_until(io, [&] { return bye_r.statuses.size() == 1; }));
  CHECK(bye_r.statuses[0] == 200);
  CHECK(log.back() == "b got BYE");
  run_for(io, 100ms);
  CHECK(inv_r.failures == 0);
  CHECK(bye_r.failures == 0);
  CHECK(b.stats().retransmissions_sent <= 1);  // the 2xx may go once more before the ACK lands
  // Everything ends: RFC 6026 timers L and M (64·T1), J and K.
  REQUIRE(run_until(io, [&] { return a.live_transactions() == 0 && b.live_transactions() == 0; }, 6000ms));
  CHECK(inv->state() == transaction_state::terminated);
}

TEST_CASE("IPv6: a transaction over UDP on ::1", "[sip][transaction][ipv6]") {
  const auto v6 = asio::ip::make_address("::1");
  {
    asio::io_context probe_io;
    asio::ip::udp::socket probe(probe_io);
    boost::system::error_code bec;
    probe.open(asio::ip::udp::v6(), bec);
    if (!bec) probe.bind({v6, 0}, bec);
    if (bec) {
      WARN("::1 cannot be bound here; IPv6 test skipped");
      return;
    }
  }
  fixture f({ms(20), ms(80), ms(100)}, v6);
  f.on_req = [](std::shared_ptr<sip::server_transaction> t, const sip::message& req) { t->respond(sip::make_response(req, 200)); };
  const auto port = std::to_string(f.raw.port());
  f.raw.send(sip_request("OPTIONS", "z9hG4bK6a", "c6", 1, opts().host("[::1]").port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(200).size() == 1; }));
  CHECK(f.raw.responses(200)[0]->msg->header("Via") == "SIP/2.0/UDP [::1]:" + port + ";branch=z9hG4bK6a;rport=" + port + ";received=::1");
  CHECK(f.requests[0]->source().address == v6);

  recorder r;
  f.layer->send_request(tu_request("OPTIONS"), f.raw_peer(), r.handler());
  REQUIRE(f.wait([&] { return f.raw.requests("OPTIONS").size() == 1; }));
  const auto& req = *f.raw.requests("OPTIONS")[0]->msg;
  CHECK(req.header("Via")->starts_with("SIP/2.0/UDP [::1]:" + std::to_string(f.ep().port()) + ";branch=z9hG4bK"));
  f.raw.send(sip::make_response(req, 200), f.ep());
  REQUIRE(f.wait([&] { return r.statuses.size() == 1; }));
}

TEST_CASE("lifetime: close() and destruction with timers pending stop every callback", "[sip][transaction]") {
  SECTION("destroyed with timers pending") {
    fixture f({ms(10), ms(40), ms(50)});
    recorder r;
    f.layer->send_request(tu_request("INVITE"), f.raw_peer(), r.handler());
    f.layer->send_request(tu_request("OPTIONS"), f.raw_peer(), r.handler());
    run_for(f.io, 25ms);
    f.layer.reset();
    const auto sent = f.raw.inbox().size();
    run_for(f.io, 800ms);
    CHECK(r.failures == 0);
    CHECK(r.statuses.empty());
    CHECK(f.raw.inbox().size() == sent);
  }
  SECTION("closed from inside a callback") {
    fixture f({ms(10), ms(40), ms(50)});
    int calls = 0;
    auto h = [&](const sip::message*, std::error_code) {
      ++calls;
      f.layer->close();
    };
    auto t1 = f.layer->send_request(tu_request("OPTIONS", 1, "x1"), f.raw_peer(), h);
    auto t2 = f.layer->send_request(tu_request("OPTIONS", 1, "x2"), f.raw_peer(), h);
    REQUIRE(f.wait([&] { return calls == 1; }));  // both time out together; the first closes the layer
    run_for(f.io, 100ms);
    CHECK(calls == 1);
    CHECK(f.layer->live_transactions() == 0);
    CHECK_THROWS_AS(f.layer->send_request(tu_request("OPTIONS"), f.raw_peer(), h), std::logic_error);
    CHECK(t2->state() == transaction_state::terminated);
  }
  SECTION("destroyed from inside its own callbacks") {
    fixture f({ms(10), ms(40), ms(50)});
    int calls = 0;
    f.layer->send_request(tu_request("OPTIONS", 1, "d1"), f.raw_peer(), [&](const sip::message*, std::error_code) {
      ++calls;
      f.layer.reset();  // from a timer (F)
    });
    f.layer->send_request(tu_request("OPTIONS", 1, "d2"), f.raw_peer(), [&](const sip::message*, std::error_code) { ++calls; });
    REQUIRE(f.wait([&] { return calls >= 1; }));
    run_for(f.io, 100ms);
    CHECK(calls == 1);
    CHECK_FALSE(f.layer);

    f.layer.emplace(f.tr, sip::timer_config{ms(10), ms(40), ms(50)});  // and from a received request
    f.layer->on_request = [&](std::shared_ptr<sip::server_transaction>, const sip::message&) {
      ++calls;
      f.layer.reset();
    };
    f.raw.send(sip_request("INVITE", "z9hG4bKdestroy", "c", 1, opts().port(f.raw.port())), f.ep());
    f.raw.send(sip_request("INVITE", "z9hG4bKdestroy", "c", 1, opts().port(f.raw.port())), f.ep());
    REQUIRE(f.wait([&] { return calls == 2; }));
    run_for(f.io, 50ms);
    CHECK(calls == 2);
    CHECK(f.raw.responses(100).size() == 1);  // the retransmission found no layer
  }
  SECTION("a server transaction outliving its layer ignores respond()") {
    fixture f;
    f.raw.send(sip_request("OPTIONS", "z9hG4bKlive", "c", 1, opts().port(f.raw.port())), f.ep());
    REQUIRE(f.wait([&] { return f.requests.size() == 1; }));
    f.layer.reset();
    f.requests[0]->respond(sip::make_response(f.requests[0]->request(), 200));
    run_for(f.io, 50ms);
    CHECK(f.raw.inbox().empty());
  }
}

TEST_CASE("server: a UDP request whose Content-Length exceeds the datagram is answered 400, such a response is dropped",
          "[sip][transaction][sip_transaction]") {
  fixture f;
  // RFC 3261 §18.3: "the server SHOULD generate a 400 (Bad Request) response".
  auto req = sip_request("INVITE", "z9hG4bKcl1", "call-cl", 1, opts().port(f.raw.port()).body("v=0\r\n"));
  req.replace(req.find("Content-Length: 5"), 17, "Content-Length: 500");
  f.raw.send(req, f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(400).size() == 1; }));
  const auto& r = *f.raw.responses(400)[0]->msg;
  CHECK(r.reason.find("Content-Length") != std::string::npos);
  CHECK(r.header("Call-ID") == "call-cl");
  CHECK(r.header("CSeq") == "1 INVITE");
  CHECK(f.tr.stats().truncated_requests == 1);
  CHECK(f.layer->stats().bad_requests == 1);

  // Without a Via nothing can be answered: dropped.
  f.raw.send(without_line(req, "Via:"), f.ep());
  // A truncated response is dropped (no client transaction sees it, no stray response either).
  int strays = 0;
  f.layer->on_stray_response = [&](const sip::message&, const sip::peer&) { ++strays; };
  f.raw.send("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnone\r\nFrom: <sip:a@x>;tag=1\r\n"
             "To: <sip:b@x>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 100\r\n\r\nshort",
             f.ep());
  REQUIRE(f.wait([&] { return f.tr.stats().malformed_dropped == 1 && f.layer->stats().dropped == 1; }));
  run_for(f.io, 30ms);
  CHECK(f.raw.responses(400).size() == 1);
  CHECK(strays == 0);
  CHECK(f.requests.empty());
}

TEST_CASE("server: an exception from on_request is caught: 500, or 503 with Retry-After for resource exhaustion",
          "[sip][transaction][sip_transaction]") {
  fixture f;
  SECTION("a logic error: 500") {
    f.on_req = [](std::shared_ptr<sip::server_transaction>, const sip::message&) { throw std::runtime_error("TU bug"); };
    f.raw.send(sip_request("INVITE", "z9hG4bKx1", "call-x1", 1, opts().port(f.raw.port())), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(500).size() == 1; }));
    CHECK_FALSE(f.raw.responses(500)[0]->msg->header("Retry-After"));
  }
  SECTION("out of descriptors (as a media reactor failing to start): 503 + Retry-After") {
    f.on_req = [](std::shared_ptr<sip::server_transaction>, const sip::message&) {
      throw std::system_error(std::make_error_code(std::errc::too_many_files_open), "eventfd_select_interrupter");
    };
    f.raw.send(sip_request("INVITE", "z9hG4bKx2", "call-x2", 1, opts().port(f.raw.port())), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(503).size() == 1; }));
    CHECK(f.raw.responses(503)[0]->msg->header("Retry-After") == "5");
  }
  SECTION("thrown after the final response: nothing more is sent") {
    f.on_req = [](std::shared_ptr<sip::server_transaction> t, const sip::message& req) {
      t->respond(sip::make_response(req, 486, "busy"));
      throw std::runtime_error("after the answer");
    };
    f.raw.send(sip_request("INVITE", "z9hG4bKx3", "call-x3", 1, opts().port(f.raw.port())), f.ep());
    REQUIRE(f.wait([&] { return f.raw.responses(486).size() == 1; }));
    run_for(f.io, 30ms);
    CHECK(f.raw.responses(500).empty());
    CHECK(f.raw.responses(503).empty());
  }
  CHECK(f.layer->stats().handler_errors == 1);
  // The layer (and io_context::run) runs on: the next request is served.
  f.on_req = [](std::shared_ptr<sip::server_transaction> t, const sip::message& req) { t->respond(sip::make_response(req, 200, "ok")); };
  f.raw.send(sip_request("OPTIONS", "z9hG4bKx9", "call-x9", 1, opts().port(f.raw.port())), f.ep());
  REQUIRE(f.wait([&] { return f.raw.responses(200, "OPTIONS").size() == 1; }));
}

TEST_CASE("client: an exception from a response handler or a timeout handler is caught and the layer runs on",
          "[sip][transaction][sip_transaction]") {
  fixture f;
  int calls = 0;
  f.layer->send_request(tu_request("OPTIONS", 1, "throw-1"), f.raw_peer(), [&](const sip::message*, std::error_code) {
    ++calls;
    throw std::runtime_error("handler bug");
  });
  REQUIRE(f.wait([&] { return f.raw.requests("OPTIONS").size() >= 1; }));
  auto resp = sip::make_response(*f.raw.requests("OPTIONS")[0]->msg, 200, "t");
  f.raw.send(resp, f.ep());
  REQUIRE(f.wait([&] { return calls == 1; }));
  CHECK(f.layer->stats().handler_errors == 1);
  // Timer F's report throws too (T1 = 20 ms: 64*T1 = 1.28 s).
  f.layer->send_request(tu_request("OPTIONS", 2, "throw-2"), f.raw_peer(), [&](const sip::message*, std::error_code ec) {
    CHECK(ec == std::errc::timed_out);
    ++calls;
    throw std::runtime_error("timeout handler bug");
  });
  REQUIRE(f.wait([&] { return calls == 2; }));
  CHECK(f.layer->stats().handler_errors == 2);
  // Timers still run: a third request is retransmitted (timer E) after the throwing timer.
  recorder rec;
  f.layer->send_request(tu_request("OPTIONS", 3, "after"), f.raw_peer(), rec.handler());
  REQUIRE(f.wait([&] {
    int n = 0;
    for (auto* r : f.raw.requests("OPTIONS")) n += r->msg->header("Call-ID") == "after";
    return n >= 2;
  }));
}
