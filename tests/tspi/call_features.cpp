// ITBasicCallControl's less common methods (issue 11): Dial (as DTMF on a connected call), ParkDirect (SIP:
// REFER to the park address), ParkIndirect, Unpark and Pickup (SIP: an INVITE to the park or pickup
// address, CIL_REASON unpark/pickup), HandoffDirect/Indirect (no other application), SetQOS (DiffServ
// marking of the RTP MSP's packets), with their TAPI errors and ITAddressCapabilities bits, through the
// loopback provider (no park, unpark or pickup) and the SIP provider against a hand-driven peer.
#include "tspi/sip_blocking_peer.hpp"
#include "tspi/sip_fixture.hpp"

#include <tspi/address_capabilities.hpp>
#include <tspi/sip/detail/user_to_user.hpp>
#include <tspi/sip/transaction.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using namespace ptapi_test;
using tspi::call_state;
using mspi::tapi_errc;
using mspi::qos_service_level;

namespace {

const std::string peer_sdp =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6996 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

// `peer` answers the next INVITE (200 with SDP, then the ACK); returns it.
tspi::sip::message answer_invite(sip_blocking_peer& peer) {
  auto invite = peer.answer_invite(peer_sdp);
  REQUIRE(invite);
  return *invite;
}

// `call` hangs up and `peer` answers the BYE.
void hang_up(sip_party& ua, sip_blocking_peer& peer, const tspi::call& call) {
  auto done = call.async_disconnect(tspi::disconnect_code::normal, boost::asio::use_future);
  auto bye = peer.request("BYE");
  REQUIRE(bye);
  peer.send(tspi::sip::make_response(*bye, 200), peer.last_from_port);
  CHECK(done.get() == std::error_code{});
  CHECK(wait_state(ua.log, call, call_state::disconnected));
}

// Every call to bob is answered, from the event handler.
void bob_answers(loopback_fixture& f) {
  f.tapi.register_call_notifications(f.bob);
  f.tapi.on_call_notification().connect([](const tspi::call_notification_event& e) {
    auto c = e.call;
    c.async_answer([](std::error_code) {});
  });
}

// Collects into `heard` the digit of every TE_DIGITEVENT of `f`'s calls (guarded by f.log.m).
void collect_digits(loopback_fixture& f, std::string& heard) {
  f.tapi.on_digit().connect([&f, &heard](const tspi::digit_event& e) {
    std::lock_guard lock(f.log.m);
    heard += e.digit;
    f.log.cv.notify_all();
  });
}

// alice connects a call to bob (`bob_answers`); returns it and bob's side of it.
std::pair<tspi::call, tspi::call> alice_calls_bob(loopback_fixture& f) {
  auto call = f.alice.create_call("bob");
  call.connect();
  REQUIRE(f.log.wait([&] { return !f.log.offered.empty(); }));
  std::lock_guard lock(f.log.m);
  return {call, f.log.offered.back()};
}

}  // namespace

TEST_CASE("Dial sends a dialable string's digits as DTMF on a connected call, and refuses modifiers",
          "[tspi][sip][call_features][dtmf]") {
  sip_party alice, bob;
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  std::error_code ec;
  call.dial("123", ec);
  CHECK(ec == tapi_errc::invalid_call_state);  // idle: nothing to dial into
  call.connect();
  for (const char* modifier : {"1,2", "12W3", "9@", "$", "1!", "P123"}) {
    call.dial(modifier, ec);
    CHECK(ec == tapi_errc::dial_modifier_not_supported);
  }
  for (const char* bad : {"+49 30", "12x", " - ", "", "1;2"}) {
    call.dial(bad, ec);
    CHECK(ec == tapi_errc::invalid_address);
  }
  call.dial("(12) 3-4.#", ec);  // formatting skipped: 1234#
  REQUIRE_FALSE(ec);
  CHECK(call.async_dial("T5;", boost::asio::use_future).get() == std::error_code{});  // tone mode, partial dial
  CHECK(bob.log.wait([&] { return std::string(bob.digits.begin(), bob.digits.end()) == "1234#5"; }));
  call.disconnect();
}

TEST_CASE("ParkDirect sends REFER to the park address, Unpark and Pickup INVITE theirs with CIL_REASON",
          "[tspi][sip][call_features][transfer]") {
  sip_party ua;
  sip_blocking_peer peer;
  const std::string at_peer = "@127.0.0.1:" + std::to_string(peer.port());

  // Park: a REFER whose Refer-To is the park address (RFC 5359's Call Park), completed by the 202.
  auto call = ua.address.create_call("sip:raw" + at_peer);
  auto connected = call.async_connect(boost::asio::use_future);
  (void)answer_invite(peer);
  REQUIRE(connected.get() == std::error_code{});
  std::error_code ec;
  call.park_direct("", ec);
  CHECK(ec == tapi_errc::invalid_address);
  CHECK(call.park_indirect(ec).empty());
  CHECK(ec == tapi_errc::not_supported);  // no switch-chosen park address in SIP
  auto parked = call.async_park_direct("sip:701" + at_peer, boost::asio::use_future);
  auto refer = peer.request("REFER");
  REQUIRE(refer);
  CHECK(refer->header("Refer-To").value_or("") == "<sip:701" + at_peer + ">");
  peer.send(tspi::sip::make_response(*refer, 202), peer.last_from_port);
  CHECK(parked.get() == std::error_code{});
  hang_up(ua, peer, call);

  // Unpark: an INVITE to the park address; the call's reason is unpark from then on.
  auto retrieve = ua.address.create_call("sip:701" + at_peer);
  CHECK(retrieve.info().reason == tspi::call_reason::direct);
  auto retrieved = retrieve.async_unpark(boost::asio::use_future);
  auto invite = answer_invite(peer);
  CHECK(invite.request_uri == "sip:701" + at_peer);
  CHECK(retrieved.get() == std::error_code{});
  CHECK(retrieve.info().reason == tspi::call_reason::unpark);
  retrieve.unpark(ec);
  CHECK(ec == tapi_errc::invalid_call_state);  // not idle any more
  hang_up(ua, peer, retrieve);

  // Pickup: SIP has no group field (invalid_group_id, nothing sent); without one, an INVITE to the pickup address.
  auto grouped = ua.address.create_call("sip:*8" + at_peer);
  grouped.pickup("sales", ec);
  CHECK(ec == tapi_errc::invalid_group_id);
  CHECK_FALSE(peer.request("INVITE", std::chrono::milliseconds(300)));
  auto pick = ua.address.create_call("sip:*8" + at_peer);
  auto picked = pick.async_pickup("", boost::asio::use_future);
  invite = answer_invite(peer);
  CHECK(invite.request_uri == "sip:*8" + at_peer);
  CHECK(picked.get() == std::error_code{});
  CHECK(pick.info().reason == tspi::call_reason::pickup);
  hang_up(ua, peer, pick);

  namespace cf = tspi::line_call_feature;
  namespace af = tspi::line_addr_feature;
  using cap = tspi::address_capability;
  CHECK((ua.address.capability(cap::call_features1) & (cf::park | cf::dial | cf::set_qos)) == (cf::park | cf::dial | cf::set_qos));
  CHECK((ua.address.capability(cap::address_features) & (af::pickup | af::unpark)) == (af::pickup | af::unpark));
  CHECK(ua.address.capability(cap::park_support) == tspi::line_park_mode::directed);
}

TEST_CASE("the loopback provider refuses park, unpark and pickup, Handoff finds no target, SetQOS checks its arguments",
          "[tspi][loopback][call_features]") {
  loopback_fixture f;
  bob_answers(f);
  auto call = f.alice.create_call("bob");
  std::error_code ec;
  call.unpark(ec);
  CHECK(ec == tapi_errc::not_supported);
  call.pickup({}, ec);
  CHECK(ec == tapi_errc::not_supported);
  CHECK(call.state() == call_state::idle);  // refused before anything was placed
  CHECK(call.info().reason == tspi::call_reason::direct);
  call.park_direct("701", ec);
  CHECK(ec == tapi_errc::invalid_call_state);
  (void)call.park_indirect(ec);
  CHECK(ec == tapi_errc::invalid_call_state);

  call.handoff_direct("", ec);
  CHECK(ec == tapi_errc::invalid_argument);
  call.handoff_direct("dialer.exe", ec);
  CHECK(ec == tapi_errc::target_not_found);
  call.handoff_indirect(mspi::media_type::video, ec);
  CHECK(ec == tapi_errc::invalid_media_type);
  CHECK(call.async_handoff_indirect(mspi::media_type::audio, boost::asio::use_future).get() == tapi_errc::target_not_found);

  call.set_qos(mspi::media_type::video, qos_service_level::needed, ec);
  CHECK(ec == tapi_errc::invalid_media_type);
  call.set_qos(mspi::media_type::audio, static_cast<qos_service_level>(7), ec);
  CHECK(ec == tapi_errc::invalid_argument);
  call.set_qos(mspi::media_type::audio, qos_service_level::needed, ec);  // before media: applies to its sockets
  CHECK_FALSE(ec);

  call.connect();
  call.park_direct("701", ec);
  CHECK(ec == tapi_errc::not_supported);
  (void)call.park_indirect(ec);
  CHECK(ec == tapi_errc::not_supported);
  CHECK(call.async_set_qos(mspi::media_type::audio, qos_service_level::best_effort, boost::asio::use_future).get() ==
        std::error_code{});
  call.disconnect();
  REQUIRE(wait_state(f.log, call, call_state::disconnected));
  call.set_qos(mspi::media_type::audio, qos_service_level::needed, ec);
  CHECK(ec == tapi_errc::invalid_call_state);

  namespace cf = tspi::line_call_feature;
  namespace af = tspi::line_addr_feature;
  using cap = tspi::address_capability;
  CHECK((f.alice.capability(cap::call_features1) & cf::park) == 0);
  CHECK((f.alice.capability(cap::call_features1) & (cf::dial | cf::set_qos)) == (cf::dial | cf::set_qos));
  CHECK((f.alice.capability(cap::address_features) & (af::pickup | af::unpark)) == 0);
  CHECK(f.alice.capability(cap::park_support) == 0);
}

TEST_CASE("put_CallInfoString before Connect: the INVITE carries To display-name, Subject and P-Preferred-Identity",
          "[tspi][sip][call_features][call_info]") {
  sip_party ua;
  sip_blocking_peer peer;
  using item = tspi::call_info_string;
  auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
  std::error_code ec;
  call.set_info_string(item::caller_id_name, "Mallory", ec);  // the provider's to fill, not the application's
  CHECK(ec == tapi_errc::invalid_argument);
  call.set_info_string(item::comment, "hi\r\nX-Injected: 1", ec);  // would end the header line
  CHECK(ec == tapi_errc::invalid_argument);
  call.set_info_string(item::comment, std::string(tspi::max_info_string_size + 1, 'x'), ec);
  CHECK(ec == tapi_errc::invalid_argument);
  call.set_info_string(item::comment, "Invoice 42, \"urgent\"");
  call.set_info_string(item::called_party_friendly_name, "Raw \"the\" Peer");
  call.set_info_string(item::calling_party_id, "sip:+493012345@example.test");
  CHECK(call.async_set_info_string(item::displayable_address, "+49 30 12345", boost::asio::use_future).get() ==
        std::error_code{});
  const auto info = call.info();
  CHECK(tspi::info_string(info, item::comment) == "Invoice 42, \"urgent\"");
  CHECK(tspi::info_string(info, item::displayable_address) == "+49 30 12345");
  CHECK(tspi::info_string(info, item::calling_party_id) == "sip:+493012345@example.test");
  CHECK(tspi::info_string(info, item::called_id_number) == "sip:raw@127.0.0.1:" + std::to_string(peer.port()));

  auto connected = call.async_connect(boost::asio::use_future);
  auto invite = answer_invite(peer);
  REQUIRE(connected.get() == std::error_code{});
  CHECK(invite.header("Subject").value_or("") == "Invoice 42, \"urgent\"");
  CHECK(invite.header("P-Preferred-Identity").value_or("") == "<sip:+493012345@example.test>");
  auto to = tspi::sip::parse_name_addr(invite.header("To").value_or(""));
  REQUIRE(to);
  CHECK(to->display_name == "Raw \"the\" Peer");
  std::string text;
  for (const auto& h : invite.headers) text += h.value;
  CHECK(text.find("+49 30 12345") == std::string::npos);  // the displayable address stays local
  call.set_info_string(item::comment, "too late", ec);
  CHECK(ec == tapi_errc::invalid_call_state);
  hang_up(ua, peer, call);

  // A calling party ID that is no SIP address ends the call as a bad address, saying why.
  auto bad = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
  bad.set_info_string(item::calling_party_id, "not a uri");
  (void)bad.async_connect(boost::asio::use_future).get();
  REQUIRE(wait_state(ua.log, bad, call_state::disconnected));
  CHECK(bad.info().cause == tspi::call_state_cause::disconnect_badaddress);
  CHECK(bad.info().provider_detail.find("calling party ID") != std::string::npos);
  CHECK_FALSE(peer.request("INVITE", std::chrono::milliseconds(200)));
}

TEST_CASE("the callee reads the caller's comment (Subject) as CIS_COMMENT", "[tspi][sip][call_features][call_info]") {
  sip_party alice, bob;
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  call.set_info_string(tspi::call_info_string::comment, "about the order");
  call.connect();
  auto at_bob = bob.last_offered();
  REQUIRE(at_bob);
  CHECK(at_bob.info().comment == "about the order");
  CHECK(at_bob.info().calling_party_id.empty());  // an application setting, never filled from the network
  call.disconnect();
}

TEST_CASE("DetectDigits turns a call's digit events off and on, and a call's own event filter holds back its events",
          "[tspi][loopback][call_features][dtmf]") {
  loopback_fixture f;
  bob_answers(f);
  std::string heard;  // guarded by f.log.m: the digits bob's call reported
  collect_digits(f, heard);
  const auto calls = alice_calls_bob(f);
  const auto& call = calls.first;
  const auto& at_bob = calls.second;
  std::error_code ec;
  for (std::uint32_t unsupported : {tspi::line_digit_mode::pulse, tspi::line_digit_mode::dtmf_end}) {
    at_bob.detect_digits(unsupported, ec);
    CHECK(ec == tapi_errc::invalid_mode);
  }
  at_bob.detect_digits(0);  // off: the digits arrive, no event says so
  call.generate_digits("12");
  const auto id = call.info().id;
  CHECK(f.log.wait([&] {  // its TE_GENERATEEVENT: the digits went out (log.wait holds log.m)
    return std::any_of(f.log.sequence.begin(), f.log.sequence.end(), [&](const auto& e) { return e.first == id && e.second == "done digits"; });
  }));
  std::this_thread::sleep_for(300ms);
  CHECK(f.log.wait([&] { return heard.empty(); }, 0ms));
  CHECK(at_bob.async_detect_digits(tspi::line_digit_mode::dtmf, boost::asio::use_future).get() == std::error_code{});
  call.generate_digits("3");
  CHECK(f.log.wait([&] { return heard == "3"; }));

  // ITCallInfo2: alice's call stops reporting its state; bob's call still does.
  call.set_event_filter(tspi::tapi_event::call_notification, false, ec);
  CHECK(ec == tapi_errc::invalid_argument);
  call.set_event_filter(tspi::tapi_event::none, false, ec);
  CHECK(ec == tapi_errc::invalid_argument);
  CHECK(call.event_filter(tspi::tapi_event::call_state));
  call.set_event_filter(tspi::tapi_event::call_state | tspi::tapi_event::generate_event, false);
  CHECK_FALSE(call.event_filter(tspi::tapi_event::call_state));
  CHECK(call.event_filter(tspi::tapi_event::call_media));
  const auto before = f.log.states_of(call.info().id).size();
  call.disconnect();
  REQUIRE(wait_state(f.log, at_bob, call_state::disconnected));
  std::this_thread::sleep_for(200ms);
  CHECK(f.log.states_of(call.info().id).size() == before);
  CHECK(call.state() == call_state::disconnected);  // the call itself went on as usual
  CHECK_FALSE(tspi::call().event_filter(tspi::tapi_event::call_state));
}

TEST_CASE("address_type_of gives a party ID's LINEADDRESSTYPE_ from its form", "[tspi][call_info]") {
  namespace t = tspi::line_address_type;
  CHECK(tspi::address_type_of("") == 0);
  CHECK(tspi::address_type_of("sip:alice@example.com") == t::email_name);
  CHECK(tspi::address_type_of("SIPS:alice@example.com:5061;transport=tcp") == t::email_name);
  CHECK(tspi::address_type_of("sip:+14255550100@example.com;user=phone") == t::phone_number);
  CHECK(tspi::address_type_of("tel:+1-425-555-0100") == t::phone_number);
  CHECK(tspi::address_type_of("+1 (425) 555-0100") == t::phone_number);
  CHECK(tspi::address_type_of("*8#") == t::phone_number);
  CHECK(tspi::address_type_of("sip:192.0.2.7:5062") == t::ip_address);
  CHECK(tspi::address_type_of("192.0.2.7") == t::ip_address);
  CHECK(tspi::address_type_of("sip:[2001:db8::1]:5060;transport=udp") == t::ip_address);
  CHECK(tspi::address_type_of("2001:db8::1") == t::ip_address);
  CHECK(tspi::address_type_of("sip:pbx.example.com") == t::domain_name);
  CHECK(tspi::address_type_of("bob") == t::domain_name);
  CHECK(tspi::address_type_of("sip:[2001:db8::1") == t::domain_name);  // unterminated: no address
}

TEST_CASE("get_CallInfoLong reads every CIL_ item of a loopback call, put_CallInfoLong sets app-specific and digit modes",
          "[tspi][loopback][call_features][call_info]") {
  using l = tspi::call_info_long;
  loopback_fixture f;
  bob_answers(f);
  const auto calls = alice_calls_bob(f);
  const auto& call = calls.first;
  const auto& at_bob = calls.second;
  REQUIRE(wait_state(f.log, call, call_state::connected));
  const auto mine = call.info(), theirs = at_bob.info();
  CHECK(tspi::info_long(mine, l::media_types_available) == 0x8);  // TAPIMEDIATYPE_AUDIO
  CHECK(tspi::info_long(mine, l::bearer_mode) == tspi::line_bearer_mode::voice);
  CHECK(tspi::info_long(mine, l::origin) == tspi::line_call_origin::outbound);
  CHECK(tspi::info_long(theirs, l::origin) == tspi::line_call_origin::inbound);
  CHECK(tspi::info_long(mine, l::reason) == 0x1);  // LINECALLREASON_DIRECT
  CHECK(tspi::info_long(mine, l::called_id_address_type) == tspi::line_address_type::domain_name);  // "bob"
  REQUIRE(theirs.caller_id == "alice");
  CHECK(tspi::info_long(theirs, l::caller_id_address_type) == tspi::line_address_type::domain_name);
  CHECK(tspi::info_long(mine, l::redirecting_id_address_type) == 0);  // not redirected
  CHECK(tspi::info_long(mine, l::call_id) == static_cast<std::uint32_t>(mine.id));
  CHECK(tspi::info_long(theirs, l::call_id) != tspi::info_long(mine, l::call_id));
  CHECK(tspi::info_long(mine, l::related_call_id) == 0);
  CHECK(tspi::info_long(mine, l::number_of_owners) == 1);
  CHECK(tspi::info_long(mine, l::number_of_monitors) == 0);
  CHECK(tspi::info_long(mine, l::trunk) == 0xFFFFFFFF);
  CHECK(tspi::info_long(mine, l::generate_digit_duration) == 100);
  CHECK(tspi::info_long(mine, l::monitor_digit_modes) == tspi::line_digit_mode::dtmf);
  CHECK(tspi::info_long(mine, l::call_params_flags) == 0);  // the loopback provider's calls are not secured
  for (auto item : {l::call_treatment, l::min_rate, l::max_rate, l::country_code, l::completion_id, l::rate,
                    l::monitor_media_modes})
    CHECK(tspi::info_long(mine, item) == 0);

  // Settable: CIL_APPSPECIFIC (TE_CALLINFOCHANGE) and CIL_MONITORDIGITMODES; nothing else.
  call.set_info_long(l::app_specific, 0xC0FFEE);
  CHECK(tspi::info_long(call.info(), l::app_specific) == 0xC0FFEE);
  CHECK(at_bob.async_set_info_long(l::monitor_digit_modes, 0, boost::asio::use_future).get() == std::error_code{});
  CHECK(tspi::info_long(at_bob.info(), l::monitor_digit_modes) == 0);
  std::error_code ec;
  at_bob.set_info_long(l::monitor_digit_modes, tspi::line_digit_mode::pulse, ec);
  CHECK(ec == tapi_errc::invalid_mode);
  for (auto item : {l::origin, l::reason, l::call_id, l::bearer_mode, l::monitor_media_modes, l::trunk}) {
    call.set_info_long(item, 1, ec);
    CHECK(ec == tapi_errc::invalid_argument);
  }
  CHECK(tspi::info_long(call.info(), l::origin) == tspi::line_call_origin::outbound);
  CHECK_THROWS_AS(tspi::call().set_info_long(l::app_specific, 1), std::system_error);
  call.disconnect();
  REQUIRE(wait_state(f.log, call, call_state::disconnected));
}

TEST_CASE("GenerateDigits2 sends each digit for the asked duration, and refuses one out of range",
          "[tspi][loopback][call_features][dtmf]") {
  loopback_fixture f;
  bob_answers(f);
  std::string heard;  // guarded by f.log.m: the digits bob's call reported
  collect_digits(f, heard);
  auto call = alice_calls_bob(f).first;
  REQUIRE(wait_state(f.log, call, call_state::connected));
  std::error_code ec;
  for (auto bad : {30ms, 1001ms}) {
    call.generate_digits("1", bad, ec);
    CHECK(ec == tapi_errc::invalid_argument);
  }
  call.generate_digits("1x", 100ms, ec);
  CHECK(ec == tapi_errc::invalid_digits);
  const auto id = call.info().id;
  const auto done = [&] {  // its TE_GENERATEEVENT (log.wait holds log.m)
    return std::any_of(f.log.sequence.begin(), f.log.sequence.end(), [&](const auto& e) { return e.first == id && e.second == "done digits"; });
  };
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(call.async_generate_digits("12", 300ms, boost::asio::use_future).get() == std::error_code{});
  CHECK(f.log.wait(done, 5s));
  // Digit, pause, digit and its two repeated end packets: 300 + 300 + 300 + 40 ms (the default: about 300 ms).
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);
  CHECK(f.log.wait([&] { return heard == "12"; }));
  CHECK(f.alice.capability(tspi::address_capability::generate_digit_min_duration) == 40);
  CHECK(f.alice.capability(tspi::address_capability::generate_digit_max_duration) == 1000);
  CHECK(f.alice.capability(tspi::address_capability::generate_digit_default_duration) == 100);

  // CIL_GENERATEDIGITDURATION: the duration of later requests that name none.
  using l = tspi::call_info_long;
  for (std::uint32_t bad : {39u, 1001u}) {
    call.set_info_long(l::generate_digit_duration, bad, ec);
    CHECK(ec == tapi_errc::invalid_argument);
  }
  call.set_info_long(l::generate_digit_duration, 250);
  CHECK(tspi::info_long(call.info(), l::generate_digit_duration) == 250);
  const auto again = std::chrono::steady_clock::now();
  call.dial("3");  // Dial goes as GenerateDigits: 250 ms of tone and two end packets
  CHECK(f.log.wait([&] { return heard == "123"; }));
  CHECK(f.log.wait([&] {
    return std::count_if(f.log.sequence.begin(), f.log.sequence.end(), [&](const auto& e) { return e.first == id && e.second == "done digits"; }) == 2;
  }, 5s));
  CHECK(std::chrono::steady_clock::now() - again >= 250ms);
  call.set_info_long(l::generate_digit_duration, 0);
  CHECK(tspi::info_long(call.info(), l::generate_digit_duration) == 100);
  call.disconnect();
  REQUIRE(wait_state(f.log, call, call_state::disconnected));
}

TEST_CASE("SetCallInfoBuffer: user-user information goes out as User-to-User in hex, call data stays local",
          "[tspi][sip][call_features][call_info]") {
  sip_party ua;
  sip_blocking_peer peer;
  using item = tspi::call_info_buffer;
  auto call = ua.address.create_call("sip:raw@127.0.0.1:" + std::to_string(peer.port()));
  std::error_code ec;
  call.set_info_buffer(item::dev_specific, "x", ec);  // the provider's
  CHECK(ec == tapi_errc::invalid_argument);
  call.set_info_buffer(item::user_user_info, std::string(tspi::max_user_user_info_size + 1, 'u'), ec);
  CHECK(ec == tapi_errc::invalid_argument);
  call.set_info_buffer(item::call_data, std::string(tspi::max_call_data_size + 1, 'd'), ec);
  CHECK(ec == tapi_errc::invalid_argument);
  const std::string uui("\x00\xFF;\r\nA", 6);  // any byte: hex keeps them out of the header's syntax
  call.set_info_buffer(item::user_user_info, uui);
  CHECK(call.async_set_info_buffer(item::call_data, "ticket 7", boost::asio::use_future).get() == std::error_code{});
  CHECK(tspi::info_buffer(call.info(), item::user_user_info) == uui);
  CHECK(tspi::info_buffer(call.info(), item::call_data) == "ticket 7");
  CHECK(tspi::info_buffer(call.info(), item::charging_info).empty());

  auto connected = call.async_connect(boost::asio::use_future);
  auto invite = answer_invite(peer);
  REQUIRE(connected.get() == std::error_code{});
  CHECK(invite.header("User-to-User").value_or("") == "00FF3B0D0A41;encoding=hex");
  std::string text;
  for (const auto& h : invite.headers) text += h.value;
  CHECK(text.find("ticket 7") == std::string::npos);  // call data stays in the TAPI object
  call.set_info_buffer(item::user_user_info, "late", ec);
  CHECK(ec == tapi_errc::invalid_call_state);
  std::mutex m;  // TE_CALLINFOCHANGE CIC_CALLDATA events from now on
  std::condition_variable cv;
  int changes = 0;
  ua.tapi.on_call_info_change().connect([&](const tspi::call_info_change_event& e) {
    if (e.cause != tspi::call_info_change_cause::call_data) return;
    std::lock_guard lock(m);
    ++changes;
    cv.notify_all();
  });
  call.set_info_buffer(item::call_data, "ticket 8");  // any time
  {
    std::unique_lock lock(m);
    CHECK(cv.wait_for(lock, 5s, [&] { return changes == 1; }));
  }
  CHECK(tspi::info_buffer(call.info(), item::call_data) == "ticket 8");
  CHECK(ua.address.capability(tspi::address_capability::max_call_data_size) == tspi::max_call_data_size);
  hang_up(ua, peer, call);
}

TEST_CASE("the callee reads the caller's user-user information (CIB_USERUSERINFO) at the call notification",
          "[tspi][sip][call_features][call_info]") {
  sip_party alice, bob;
  std::mutex m;
  std::string at_notification;
  bob.tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    std::lock_guard lock(m);
    at_notification = tspi::info_buffer(e.call.info(), tspi::call_info_buffer::user_user_info);
  });
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  const std::string uui("\x01\x02\x80 account 4711", 16);
  call.set_info_buffer(tspi::call_info_buffer::user_user_info, uui);
  call.connect();
  auto at_bob = bob.last_offered();
  REQUIRE(at_bob);
  CHECK(tspi::info_buffer(at_bob.info(), tspi::call_info_buffer::user_user_info) == uui);
  std::lock_guard lock(m);
  CHECK(at_notification == uui);
  call.disconnect();
}

TEST_CASE("User-to-User values: hex in, hex out, other encodings and bad hex ignored (RFC 7433 §4.1)", "[tspi][sip][call_info]") {
  namespace d = tspi::sip::detail;
  using values = std::vector<std::string_view>;
  CHECK(d::user_to_user_value(std::string("\x56\xa3\x00", 3)) == "56A300;encoding=hex");
  CHECK(d::parse_user_to_user(values{"56a390;encoding=hex;purpose=isdn-uui"}, 128) == std::string("\x56\xa3\x90", 3));
  CHECK(d::parse_user_to_user(values{"\"0A1B\" ; Encoding=HEX"}, 128) == std::string("\x0a\x1b", 2));
  // The first acceptable value wins, across values and header lines.
  CHECK(d::parse_user_to_user(values{"zz;encoding=base64, 123;encoding=hex", "4142;encoding=hex"}, 128) == "AB");
  CHECK(d::parse_user_to_user(values{"41;encoding=hex, 42;encoding=hex"}, 128) == "A");
  for (std::string_view bad : {"4142", "4142;purpose=isdn-uui", "414;encoding=hex", "41zz;encoding=hex",
                               "\"4142;encoding=hex", ";encoding=hex", "4142;encoding=base64"})
    CHECK_FALSE(d::parse_user_to_user(values{bad}, 128));
  CHECK_FALSE(d::parse_user_to_user(values{}, 128));
  const std::string long_hex = std::string(258, 'a') + ";encoding=hex";  // 129 bytes
  CHECK_FALSE(d::parse_user_to_user(values{long_hex}, 128));
  CHECK(d::parse_user_to_user(values{long_hex}, 129));
}
