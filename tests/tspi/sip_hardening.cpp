// The SIP TSP against hostile or careless peers (issue 7): refusals with 503 + Retry-After, no media
// before the ACK (the "voice hammer"), no-answer expiry, Call-ID reuse after a call is released, and
// digest credentials only for configured realms.
#include <tspi/sip/digest.hpp>
#include <tspi/sip/transaction.hpp>

#include "sip_blocking_peer.hpp"
#include "sip_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/ip/udp.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace ptapi_test;
using tspi::call_state;
using tspi::call_state_cause;

namespace {

// An SDP offer (PCMU, so media never pauses) whose c=/m= name 127.0.0.1:`port`.
std::string offer_to(std::uint16_t port) {
  return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " + std::to_string(port) +
         " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
}

// A request from `peer` to the party at `to_port`, as literal text (a fresh branch each time).
std::string request(const sip_blocking_peer& peer, const std::string& method, std::uint16_t to_port, const std::string& call_id,
                    int cseq, const std::string& body = {}, const std::string& to_tag = {}) {
  std::string m = method + " sip:ptapi@127.0.0.1:" + std::to_string(to_port) + " SIP/2.0\r\n";
  m += "Via: " + peer.via() + "\r\n";
  m += "From: <sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">;tag=rawtag\r\n";
  m += "To: <sip:ptapi@127.0.0.1:" + std::to_string(to_port) + ">" + (to_tag.empty() ? "" : ";tag=" + to_tag) + "\r\n";
  m += "Call-ID: " + call_id + "\r\nCSeq: " + std::to_string(cseq) + " " + method + "\r\n";
  m += "Max-Forwards: 70\r\nContact: <sip:raw@127.0.0.1:" + std::to_string(peer.port()) + ">\r\n";
  if (!body.empty()) m += "Content-Type: application/sdp\r\n";
  m += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return m;
}

std::string to_tag_of(const tspi::sip::message& r) {
  auto to = tspi::sip::parse_name_addr(r.header("To").value_or(""));
  return to ? to->tag() : std::string();
}

// A UDP socket that counts the datagrams reaching it (the "third address" of the voice hammer).
class datagram_counter {
 public:
  using udp = boost::asio::ip::udp;
  datagram_counter() : socket_(io_, udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) { socket_.non_blocking(true); }
  [[nodiscard]] std::uint16_t port() const { return socket_.local_endpoint().port(); }
  // Datagrams received during `d`.
  int count_for(std::chrono::milliseconds d) {
    int n = 0;
    const auto end = std::chrono::steady_clock::now() + d;
    char buf[2048];
    while (std::chrono::steady_clock::now() < end) {
      boost::system::error_code ec;
      udp::endpoint from;
      (void)socket_.receive_from(boost::asio::buffer(buf), from, 0, ec);
      if (ec == boost::asio::error::would_block) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      else if (!ec) ++n;
    }
    return n;
  }

 private:
  boost::asio::io_context io_;
  udp::socket socket_;
};

// A party that answers every call at once with a silent capture terminal selected (PCMU: a packet
// every 20 ms once media runs).
struct answering_party : sip_party {
  std::vector<streaming_pair> media;  // one pair per call (the notification handler's thread only)
  answering_party() {
    tapi.register_call_notifications(address);
    tapi.on_call_notification().connect([this](const tspi::call_notification_event& e) {
      media.emplace_back(address.terminals()).select_on(e.call);
      auto c = e.call;
      c.async_answer([](std::error_code) {});
    });
  }
  ~answering_party() { tapi.shutdown(); }  // before `media` goes: the handler uses it until then
};

}  // namespace

TEST_CASE("an INVITE beyond max_active_calls gets 503 with Retry-After", "[tspi][sip][sip_hardening]") {
  auto cfg = sip_party::config(0);
  cfg.max_active_calls = 1;
  cfg.retry_after = std::chrono::seconds(7);
  sip_party ua(cfg);
  ua.tapi.register_call_notifications(ua.address);  // owner, never answers
  const auto port = ua.port();
  sip_blocking_peer peer;

  peer.send(request(peer, "INVITE", port, "room-1", 1, offer_to(7000)), port);
  REQUIRE(peer.response(180));
  peer.send(request(peer, "INVITE", port, "room-2", 1, offer_to(7002)), port);
  auto r = peer.response(503);
  REQUIRE(r);
  CHECK(r->header("Retry-After").value_or("") == "7");
  CHECK(r->header("Call-ID").value_or("") == "room-2");
  REQUIRE(ua.log.wait([&] { return !ua.log.offered.empty(); }, std::chrono::milliseconds(2000)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  {
    std::lock_guard lock(ua.log.m);
    CHECK(ua.log.offered.size() == 1);  // the refused INVITE never became a call
  }
  auto first = ua.last_offered();
  REQUIRE(first);
  CHECK(first.state() == call_state::offering);  // the first call is untouched
}

TEST_CASE("an auto-answered call sends no media before the ACK (voice hammer)", "[tspi][sip][sip_hardening]") {
  answering_party ua;
  const auto port = ua.port();
  datagram_counter third;  // the address the INVITE's c= names: not the signalling peer
  sip_blocking_peer peer;
  const std::string cid = "hammer-1";
  peer.send(request(peer, "INVITE", port, cid, 1, offer_to(third.port())), port);
  auto ok = peer.response(200);
  REQUIRE(ok);
  auto c = ua.last_offered();
  REQUIRE(c);
  REQUIRE(wait_state(ua.log, c, call_state::connected));

  const int before_ack = third.count_for(std::chrono::milliseconds(2000));  // 2xx retransmitted, no ACK yet (64*T1 = 3.2 s)
  std::printf("voice hammer: %d datagrams reached the c= address in 2 s before the ACK\n", before_ack);
  CHECK(before_ack == 0);

  peer.send(request(peer, "ACK", port, cid, 1, {}, to_tag_of(*ok)), port);
  const int after_ack = third.count_for(std::chrono::milliseconds(1000));
  std::printf("voice hammer: %d datagrams in the 1 s after the ACK\n", after_ack);
  CHECK(after_ack > 10);  // 20 ms packets: the ACK is the gate
  CHECK(c.state() == call_state::connected);
}

TEST_CASE("ten unACKed 2xx end their calls without any media having been sent", "[tspi][sip][sip_hardening]") {
  answering_party ua;
  const auto port = ua.port();
  datagram_counter third;
  sip_blocking_peer peer;
  for (int i = 0; i < 10; ++i) peer.send(request(peer, "INVITE", port, "noack-" + std::to_string(i), 1, offer_to(third.port())), port);
  const int sent = third.count_for(std::chrono::milliseconds(4000));  // past 64*T1 = 3.2 s after the last 2xx
  std::printf("10 unACKed INVITEs: %d datagrams reached the c= address\n", sent);
  CHECK(sent == 0);
  REQUIRE(ua.log.wait([&] {
    if (ua.log.offered.size() < 10) return false;
    for (const auto& c : ua.log.offered) {
      auto v = ua.log.states_of_locked(c.info().id);
      if (std::find(v.begin(), v.end(), call_state::disconnected) == v.end()) return false;
    }
    return true;
  }, std::chrono::milliseconds(3000)));
  std::set<std::string> ended;  // Call-IDs the UA sent BYE for (RFC 3261 §13.3.1.4)
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (ended.size() < 10 && std::chrono::steady_clock::now() < deadline)
    if (auto bye = peer.request("BYE", std::chrono::milliseconds(500))) ended.emplace(bye->header("Call-ID").value_or(""));
  std::printf("10 unACKed INVITEs: BYE for %zu calls\n", ended.size());
  CHECK(ended.size() == 10);
}

TEST_CASE("an incoming call nobody answers expires with 480 and noanswer", "[tspi][sip][sip_hardening]") {
  auto cfg = sip_party::config(0);
  cfg.no_answer_timeout = std::chrono::milliseconds(300);
  sip_party ua(cfg);
  ua.tapi.register_call_notifications(ua.address);  // owner, never answers
  const auto port = ua.port();
  sip_blocking_peer peer;
  const auto t0 = std::chrono::steady_clock::now();
  peer.send(request(peer, "INVITE", port, "ring-1", 1, offer_to(7004)), port);
  REQUIRE(peer.response(180));
  auto r = peer.response(480);
  REQUIRE(r);
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("no-answer expiry: 480 after %lld ms (configured 300 ms)\n", static_cast<long long>(after.count()));
  CHECK(after >= std::chrono::milliseconds(250));
  auto c = ua.last_offered();
  REQUIRE(c);
  REQUIRE(wait_state(ua.log, c, call_state::disconnected));
  CHECK(c.info().cause == call_state_cause::disconnect_noanswer);

  // The expired call no longer takes room: with max_active_calls 1 a new call would still be offered.
  peer.send(request(peer, "INVITE", port, "ring-2", 1, offer_to(7006)), port);
  CHECK(peer.response(180));
}

TEST_CASE("a Call-ID is free again once its call ended and was released", "[tspi][sip][sip_hardening]") {
  sip_party ua;
  ua.auto_answer();
  const auto port = ua.port();
  sip_blocking_peer peer;
  const std::string cid = "reuse-1";
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    peer.send(request(peer, "INVITE", port, cid, 1, offer_to(7008)), port);
    auto ok = peer.response(200);
    REQUIRE(ok);  // not 482: the earlier call with this Call-ID is gone
    const auto tag = to_tag_of(*ok);
    peer.send(request(peer, "ACK", port, cid, 1, {}, tag), port);
    auto c = ua.last_offered();
    REQUIRE(c);
    REQUIRE(wait_state(ua.log, c, call_state::connected));
    peer.send(request(peer, "BYE", port, cid, 2, {}, tag), port);
    REQUIRE(peer.response(200));
    REQUIRE(wait_state(ua.log, c, call_state::disconnected));
    if (round == 0) {  // ended but not released, within 64*T1: still the old call's Call-ID
      peer.send(request(peer, "INVITE", port, cid, 3, offer_to(7008)), port);
      CHECK(peer.response(482));
    }
    {
      std::lock_guard lock(ua.log.m);
      ua.log.offered.clear();
    }
    c.release();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // close_call runs on the TAPI thread
  }
  std::lock_guard lock(ua.log.m);
  CHECK(ua.log.offered.empty());
}

namespace {
// Calls `peer` from `ua` and answers its INVITE with a 401 carrying `challenge`. Returns the second INVITE
// (with credentials) if one comes within 1 s.
std::optional<tspi::sip::message> challenge_call(sip_party& ua, sip_blocking_peer& peer, const std::string& challenge,
                                                 tspi::call& call) {
  call = ua.address.create_call("sip:bob@127.0.0.1:" + std::to_string(peer.port()));
  call.async_connect([](std::error_code) {});
  auto invite = peer.request("INVITE");
  if (!invite) return std::nullopt;
  auto r = tspi::sip::make_response(*invite, 401, "peer401");
  r.add("WWW-Authenticate", challenge);
  peer.send(r, peer.last_from_port);
  return peer.request("INVITE", std::chrono::milliseconds(1000));
}
sip_party& account_party(std::optional<sip_party>& slot, std::vector<std::string> realms, bool rfc2069) {
  auto cfg = sip_party::config(0);
  tspi::sip::sip_account a;
  a.aor = "sip:alice@127.0.0.1";
  a.password = "secret";
  a.realms = std::move(realms);
  a.allow_rfc2069 = rfc2069;
  cfg.accounts.push_back(a);
  return slot.emplace(cfg);
}
}  // namespace

TEST_CASE("digest credentials go only to configured realms, and RFC 2069 only when allowed", "[tspi][sip][sip_hardening][digest]") {
  std::optional<sip_party> slot;
  sip_blocking_peer peer;
  tspi::call call;
  struct refused_case {
    const char* what;
    std::vector<std::string> realms;
    const char* challenge;
  };
  const refused_case refused[] = {
      {"a foreign realm with MD5 without qop (no realms configured, no registrar)", {},
       R"(Digest realm="evil.example", nonce="abc", algorithm=MD5)"},
      {"a foreign realm with qop, other realms configured", {"home.example"}, R"(Digest realm="evil.example", nonce="abc", qop="auth")"},
      {"the configured realm without qop, RFC 2069 not allowed", {"home.example"}, R"(Digest realm="home.example", nonce="abc")"},
  };
  for (const auto& rc : refused) {
    DYNAMIC_SECTION(rc.what << ": no credentials") {
      auto& ua = account_party(slot, rc.realms, false);
      auto second = challenge_call(ua, peer, rc.challenge, call);
      CHECK_FALSE(second);  // the raw peer sees no second INVITE
      REQUIRE(wait_state(ua.log, call, call_state::disconnected));
      CHECK(call.info().cause == call_state_cause::disconnect_blocked);
      // The call's information says why, naming the realm (what the softphone prints).
      const std::string challenge = rc.challenge;
      const auto from = challenge.find("realm=\"") + 7;
      const auto realm = challenge.substr(from, challenge.find('"', from) - from);
      const auto info = call.info();
      INFO(info.provider_detail);
      CHECK(info.provider_detail.starts_with("refused to "));
      CHECK(info.provider_detail.find("realm \"" + realm + "\"") != std::string::npos);
      CHECK((info.provider_status == 401 || info.provider_status == 407));
    }
  }
  SECTION("the configured realm with qop: answered") {
    auto& ua = account_party(slot, {"home.example"}, false);
    auto second = challenge_call(ua, peer, R"(Digest realm="home.example", nonce="abc", algorithm=SHA-256, qop="auth")", call);
    REQUIRE(second);
    std::error_code ec;
    auto creds = tspi::sip::parse_digest_response(second->header("Authorization").value_or(""), ec);
    REQUIRE(creds);
    CHECK(creds->realm == "home.example");
    CHECK(tspi::sip::verify_digest_response(*creds, "secret", "INVITE", second->body));
    call.disconnect();
  }
  SECTION("the configured realm without qop, RFC 2069 allowed: answered") {
    auto& ua = account_party(slot, {"home.example"}, true);
    auto second = challenge_call(ua, peer, R"(Digest realm="home.example", nonce="abc")", call);
    REQUIRE(second);
    CHECK(second->header("Authorization"));
    call.disconnect();
  }
}
