// Local conferences through the TAPI API (ITBasicCallControl::Conference, Finish(FM_ASCONFERENCE),
// RemoveFromConference, ITCallHub, ITTAPI::EnumerateCallHubs, TE_CALLHUB) over SIP and loopback: alice hosts, each party answers with a capture terminal that sends a tone of its own
// and a render terminal that records; each party must hear the others' tones and not its own.
#include "mspi/tone_support.hpp"
#include "tspi/loopback_fixture.hpp"
#include "tspi/sip_fixture.hpp"

#include <mspi/conference_bridge.hpp>
#include <mspi/terminals/media_streaming.hpp>
#include <tspi/call_hub.hpp>

#include <boost/asio/use_future.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <chrono>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;
using ptapi_test::sip_party;
using ptapi_test::wait_state;
using tspi::call_state;

// A SIP party that answers every call with a tone of `hz` (amplitude 3000) and records what it hears.
struct tone_party {
  double hz;
  std::shared_ptr<mspi::media_streaming_terminal> ear =
      std::make_shared<mspi::media_streaming_terminal>(mspi::terminal_direction::render, 5 * 48000);
  sip_party sip;  // last: its handler uses the members above until it is gone

  explicit tone_party(double f) : hz(f) {
    sip.tapi.register_call_notifications(sip.address);
    sip.tapi.on_call_notification().connect([this](const tspi::call_notification_event& e) {
      auto c = e.call;
      std::error_code ec;  // the ear records the first call only (a terminal is on one stream at a time)
      c.select_terminal_on_call(std::make_shared<ptapi_test::tone_terminal>(hz, 3000), ec);
      c.select_terminal_on_call(ear, ec);
      c.async_answer([](std::error_code) {});
    });
  }
  // Drops what it heard so far.
  void flush() {
    std::vector<std::int16_t> chunk(4800);
    while (ear->read(chunk) > 0) {}
  }
  // The last second of what it heard since the last flush.
  std::vector<std::int16_t> last_second() {
    std::vector<std::int16_t> all, chunk(4800);
    while (auto n = ear->read(chunk)) all.insert(all.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (all.size() > 48000) all.erase(all.begin(), all.end() - 48000);
    return all;
  }
};

// The hub events alice saw, in order. The handler's state is shared with it: hub events still come while
// alice's TAPI object shuts down, after this log (declared after alice) is gone.
struct hub_log {
  struct state {
    std::mutex m;
    std::vector<tspi::call_hub_event> events;
  };
  std::shared_ptr<state> seen = std::make_shared<state>();
  explicit hub_log(tspi::tapi& t) {
    t.on_call_hub().connect([s = seen](const tspi::call_hub_event& e) {
      std::lock_guard lock(s->m);
      s->events.push_back(e);
    });
  }
  std::size_t count(tspi::call_hub_event_kind k) {
    std::lock_guard lock(seen->m);
    return static_cast<std::size_t>(std::count_if(seen->events.begin(), seen->events.end(), [k](const auto& e) { return e.kind == k; }));
  }
  bool wait_count(tspi::call_hub_event_kind k, std::size_t n, std::chrono::milliseconds t = 5s) {
    for (auto end = std::chrono::steady_clock::now() + t; std::chrono::steady_clock::now() < end;) {
      if (count(k) >= n) return true;
      std::this_thread::sleep_for(10ms);
    }
    return count(k) >= n;
  }
};

// The amplitude of `hz` in the last second `p` heard, after a second of listening.
double hears(tone_party& p, double hz) {
  p.flush();
  std::this_thread::sleep_for(1200ms);
  const auto heard = p.last_second();
  REQUIRE(heard.size() >= 24000);
  return ptapi_test::steady_tone_amplitude(heard, hz);
}

// Each of `parties` hears every other one (amplitude > 500 of 3000) and its own tone at least 20 dB below
// the weakest other. Returns the smallest margin in dB.
double check_mix(std::vector<std::unique_ptr<tone_party>>& parties) {
  std::vector<std::vector<std::int16_t>> heard;
  for (auto& p : parties) p->flush();
  std::this_thread::sleep_for(1200ms);
  for (auto& p : parties) heard.push_back(p->last_second());
  double worst = 1e9;
  for (std::size_t k = 0; k < parties.size(); ++k) {
    std::vector<double> others;
    for (std::size_t j = 0; j < parties.size(); ++j)
      if (j != k) others.push_back(parties[j]->hz);
    INFO("party " << k << " (" << parties[k]->hz << " Hz)");
    worst = std::min(worst, ptapi_test::check_tones(heard[k], others, {parties[k]->hz}));
  }
  return worst;
}

// alice calls parties[0], then conferences in each further party (Conference + Finish(FM_ASCONFERENCE)).
// Returns alice's calls, in party order.
std::vector<tspi::call> host(sip_party& alice, std::vector<std::unique_ptr<tone_party>>& parties) {
  std::vector<tspi::call> calls;
  calls.push_back(alice.address.create_call(parties[0]->sip.uri));
  calls[0].connect();
  REQUIRE(calls[0].state() == call_state::connected);
  for (std::size_t k = 1; k < parties.size(); ++k) {
    auto consult = alice.address.create_call(parties[k]->sip.uri);
    calls[0].conference(consult);  // first time: holds calls[0]; later the conference keeps talking
    REQUIRE(consult.state() == call_state::connected);
    consult.finish(tspi::finish_mode::as_conference);
    calls.push_back(consult);
  }
  REQUIRE(wait_state(alice.log, calls[0], call_state::connected));
  return calls;
}

}  // namespace

TEST_CASE("a SIP conference of a host and two parties: conference holds and dials, finish joins, each party hears "
          "the other and not itself", "[tspi][sip][conference]") {
  sip_party alice;
  hub_log hubs(alice.tapi);
  std::vector<std::unique_ptr<tone_party>> parties;
  for (double f : {500.0, 1100.0}) parties.push_back(std::make_unique<tone_party>(f));

  auto primary = alice.address.create_call(parties[0]->sip.uri);
  primary.connect();
  auto consult = alice.address.create_call(parties[1]->sip.uri);
  CHECK_FALSE(primary.hub());
  primary.conference(consult);
  CHECK(consult.state() == call_state::connected);
  CHECK(consult.info().related_call_id == primary.info().id);  // CIL_RELATEDCALLID
  CHECK(primary.info().related_call_id == 0);
  REQUIRE(wait_state(alice.log, primary, call_state::hold));
  auto hub = primary.hub();
  REQUIRE(hub);
  CHECK(hub.state() == tspi::call_hub_state::active);
  CHECK(hub.calls() == std::vector<tspi::call>{primary});
  CHECK_FALSE(consult.hub());  // not joined before Finish

  std::error_code ec;
  consult.finish(tspi::finish_mode::as_transfer, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);  // flagged for a conference, not a transfer
  consult.finish(tspi::finish_mode::as_conference);
  REQUIRE(wait_state(alice.log, primary, call_state::connected));
  CHECK(consult.hub() == hub);
  CHECK(hub.num_calls() == 2);
  consult.finish(tspi::finish_mode::as_conference, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);  // the flag is gone once joined

  const double margin = check_mix(parties);
  std::printf("SIP conference of 2 parties: own tone at least %.1f dB below the other\n", margin);

  REQUIRE(hubs.wait_count(tspi::call_hub_event_kind::call_joined, 2));
  {
    std::lock_guard lock(hubs.seen->m);
    REQUIRE(hubs.seen->events.size() >= 3);
    CHECK(hubs.seen->events[0].kind == tspi::call_hub_event_kind::hub_created);
    CHECK(hubs.seen->events[0].call == primary);
    CHECK(hubs.seen->events[1].kind == tspi::call_hub_event_kind::call_joined);
    CHECK(hubs.seen->events[1].call == primary);
    CHECK(hubs.seen->events[2].kind == tspi::call_hub_event_kind::call_joined);
    CHECK(hubs.seen->events[2].call == consult);
    CHECK(hubs.seen->events[2].hub == hub);
  }

  hub.clear();
  REQUIRE(wait_state(alice.log, primary, call_state::disconnected));
  REQUIRE(wait_state(alice.log, consult, call_state::disconnected));
  CHECK(hub.state() == tspi::call_hub_state::idle);
  CHECK(hub.calls().empty());
  CHECK_FALSE(primary.hub());
  CHECK(hubs.wait_count(tspi::call_hub_event_kind::hub_idle, 1));
  CHECK(hubs.count(tspi::call_hub_event_kind::call_left) == 2);
  CHECK(alice.tapi.illegal_transitions() == 0);
}

TEST_CASE("a SIP conference of three parties: one leaves, the other two go on hearing each other",
          "[tspi][sip][conference]") {
  sip_party alice;
  hub_log hubs(alice.tapi);
  std::vector<std::unique_ptr<tone_party>> parties;
  for (double f : {450.0, 950.0, 1450.0}) parties.push_back(std::make_unique<tone_party>(f));
  auto calls = host(alice, parties);
  auto hub = calls[0].hub();
  REQUIRE(hub.num_calls() == 3);
  check_mix(parties);

  calls[2].disconnect();  // the third party leaves
  REQUIRE(hubs.wait_count(tspi::call_hub_event_kind::call_left, 1));
  CHECK(hub.num_calls() == 2);
  CHECK(hub.state() == tspi::call_hub_state::active);
  parties.pop_back();
  std::this_thread::sleep_for(300ms);
  check_mix(parties);
  CHECK_FALSE(hub.async_clear(boost::asio::use_future).get());
  REQUIRE(hubs.wait_count(tspi::call_hub_event_kind::hub_idle, 1));  // once both calls have disconnected
  CHECK(hub.state() == tspi::call_hub_state::idle);
}

TEST_CASE("a SIP conference of six parties: each hears the five others and not itself", "[tspi][sip][conference]") {
  sip_party alice;
  std::vector<std::unique_ptr<tone_party>> parties;
  for (double f : {400.0, 620.0, 860.0, 1130.0, 1470.0, 1790.0}) parties.push_back(std::make_unique<tone_party>(f));
  auto calls = host(alice, parties);
  REQUIRE(calls[0].hub().num_calls() == 6);
  const double margin = check_mix(parties);
  std::printf("SIP conference of 6 parties: own tone at least %.1f dB below the others\n", margin);
  std::error_code ec;
  calls[3].hub().clear(ec);
  CHECK_FALSE(ec);
}

// The mix of eight is not judged here (the six-party test does that): on a loaded machine nine TAPI objects'
// media threads are what this test is not about.
TEST_CASE("a SIP conference of eight parties, the bridge's most: a ninth is refused before it is dialled",
          "[tspi][sip][conference]") {
  sip_party alice;
  std::vector<std::unique_ptr<tone_party>> parties;
  for (double f : {400.0, 620.0, 860.0, 1130.0, 1470.0, 1790.0, 2150.0, 2530.0})
    parties.push_back(std::make_unique<tone_party>(f));
  static_assert(mspi::conference_bridge::max_parties == 8);
  auto calls = host(alice, parties);
  auto hub = calls[0].hub();
  REQUIRE(hub.num_calls() == 8);

  tone_party ninth(3000);
  auto consult = alice.address.create_call(ninth.sip.uri);
  std::error_code ec;
  calls[5].conference(consult, ec);  // any member's hub: the same one
  CHECK(ec == mspi::tapi_errc::conference_full);
  CHECK(consult.state() == call_state::idle);  // never dialled
  CHECK(hub.num_calls() == 8);
  CHECK_FALSE(consult.hub());
  CHECK(calls[5].state() == call_state::connected);  // nothing was held
  CHECK(ninth.sip.tapi.live_calls() == 0);
  CHECK_THROWS_AS(calls[0].conference(consult), std::system_error);
  hub.clear(ec);
  CHECK_FALSE(ec);
}

TEST_CASE("RemoveFromConference over SIP: the removed party stays connected with the host and hears no one, the "
          "others go on hearing each other, call_hubs lists the hub while it has calls", "[tspi][sip][conference]") {
  sip_party alice;
  hub_log hubs(alice.tapi);
  std::vector<std::unique_ptr<tone_party>> parties;
  for (double f : {450.0, 950.0, 1450.0}) parties.push_back(std::make_unique<tone_party>(f));
  CHECK(alice.tapi.call_hubs().empty());
  auto calls = host(alice, parties);
  auto hub = calls[0].hub();
  REQUIRE(hub.num_calls() == 3);
  CHECK(alice.tapi.call_hubs() == std::vector<tspi::call_hub>{hub});
  check_mix(parties);

  calls[2].remove_from_conference();
  REQUIRE(hubs.wait_count(tspi::call_hub_event_kind::call_left, 1));
  CHECK(calls[2].state() == call_state::connected);
  CHECK_FALSE(calls[2].hub());
  CHECK(hub.calls() == std::vector<tspi::call>{calls[0], calls[1]});
  CHECK(hub.state() == tspi::call_hub_state::active);
  {
    std::lock_guard lock(hubs.seen->m);
    CHECK(hubs.seen->events.back().kind == tspi::call_hub_event_kind::call_left);
    CHECK(hubs.seen->events.back().call == calls[2]);
  }
  auto removed = std::move(parties.back());
  parties.pop_back();
  std::this_thread::sleep_for(300ms);
  const double margin = check_mix(parties);  // the two left hear each other, not the removed one:
  for (auto& p : parties) CHECK(hears(*p, removed->hz) < 100);
  const double a0 = hears(*removed, parties[0]->hz), a1 = hears(*removed, parties[1]->hz);
  CHECK(a0 < 100);  // the host sends the removed party its (silent) capture only
  CHECK(a1 < 100);
  std::printf("SIP RemoveFromConference: the two left %.1f dB apart from their own tone; the removed party hears "
              "them at %.1f and %.1f (of 3000)\n", margin, a0, a1);

  std::error_code ec;
  calls[2].remove_from_conference(ec);
  CHECK(ec == mspi::tapi_errc::no_conference);  // TAPI_E_NOCONFERENCE: not (any more) in one
  CHECK_FALSE(calls[1].async_remove_from_conference(boost::asio::use_future).get());
  CHECK(hub.num_calls() == 1);
  calls[0].remove_from_conference();  // the last: the hub goes idle, the call stays up
  REQUIRE(hubs.wait_count(tspi::call_hub_event_kind::hub_idle, 1));
  CHECK(hub.state() == tspi::call_hub_state::idle);
  CHECK(alice.tapi.call_hubs().empty());
  for (auto& c : calls) {
    CHECK(c.state() == call_state::connected);
    c.disconnect();
  }
  CHECK(hubs.count(tspi::call_hub_event_kind::call_left) == 3);
  CHECK(alice.tapi.illegal_transitions() == 0);
}

TEST_CASE("conference with a consultation call connected already holds nothing: both parties keep talking "
          "to the host, then hear each other", "[tspi][sip][conference]") {
  sip_party alice;
  std::vector<std::unique_ptr<tone_party>> parties;
  for (double f : {550.0, 1250.0}) parties.push_back(std::make_unique<tone_party>(f));
  auto primary = alice.address.create_call(parties[0]->sip.uri);
  primary.connect();
  auto consult = alice.address.create_call(parties[1]->sip.uri);
  consult.connect();  // a call of its own first (e.g. an incoming call answered)
  primary.conference(consult);
  CHECK(primary.state() == call_state::connected);
  consult.finish(tspi::finish_mode::as_conference);
  REQUIRE(primary.hub().num_calls() == 2);
  check_mix(parties);
  const auto states = alice.log.states_of(primary.info().id);
  CHECK(std::find(states.begin(), states.end(), call_state::hold) == states.end());
  primary.hub().clear();
  CHECK(wait_state(alice.log, consult, call_state::disconnected));
}

TEST_CASE("conference follows TAPI's rules and errors", "[tspi][sip][conference]") {
  sip_party alice;
  tone_party bob(700);
  auto primary = alice.address.create_call(bob.sip.uri);
  auto consult = alice.address.create_call(bob.sip.uri);
  std::error_code ec;
  primary.conference(consult, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);  // the primary call is not connected
  primary.connect();
  primary.conference(primary, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);  // itself
  primary.conference(tspi::call{}, ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  consult.finish(tspi::finish_mode::as_conference, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);  // TAPI: not flagged as a conference
  CHECK_FALSE(primary.hub());
  primary.remove_from_conference(ec);
  CHECK(ec == mspi::tapi_errc::no_conference);
  CHECK(mspi::hresult(mspi::tapi_errc::no_conference) == 0x80040020L);  // TAPI_E_NOCONFERENCE
  CHECK(mspi::hresult(mspi::tapi_errc::conference_full) == 0x80040009L);  // TAPI_E_CONFERENCEFULL
  CHECK_THROWS_AS(primary.remove_from_conference(), std::system_error);
  tspi::call{}.remove_from_conference(ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);

  sip_party other;  // a call of another TAPI object
  auto foreign = other.address.create_call(bob.sip.uri);
  primary.conference(foreign, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);

  auto result = primary.async_conference(consult, boost::asio::use_future);
  CHECK_FALSE(result.get());  // the async form: consult dialled and connected
  CHECK(consult.state() == call_state::connected);
  auto hub = primary.hub();
  REQUIRE(hub);
  REQUIRE(wait_state(alice.log, primary, call_state::hold));
  primary.remove_from_conference(ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);  // held while the consultation call is apart
  CHECK(primary.hub() == hub);
  primary.disconnect();  // the primary leaves before Finish: its hub goes idle
  REQUIRE(wait_state(alice.log, primary, call_state::disconnected));
  CHECK(hub.state() == tspi::call_hub_state::idle);
  consult.finish(tspi::finish_mode::as_conference, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);  // nothing left to join
  consult.disconnect();
  tspi::call_hub none;
  none.clear(ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
}

TEST_CASE("a loopback conference: alice hosts bob and carol from two of her addresses (no hold on loopback), "
          "each hears the other until carol's call is removed from it", "[tspi][loopback][conference]") {
  ptapi_test::event_log log;
  std::map<std::string, std::shared_ptr<mspi::media_streaming_terminal>> ears;  // before the TAPI object:
  std::map<std::string, double> tones{{"bob", 600}, {"carol", 1300}};           // its handlers use them
  tspi::tapi tapi;
  tspi::loopback_config cfg;
  cfg.addresses = {"alice", "alice2", "bob", "carol"};  // each address has an MSP of its own
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>(cfg, {});
  tapi.set_event_filter(tspi::tapi_event::all);
  log.attach(tapi);
  tapi.initialize();
  auto alice = tapi.find_address("alice");
  for (const auto& [name, hz] : tones) {
    ears[name] = std::make_shared<mspi::media_streaming_terminal>(mspi::terminal_direction::render, 5 * 48000);
    tapi.register_call_notifications(tapi.find_address(name));
  }
  tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    auto c = e.call;
    const auto name = c.address().name();
    c.select_terminal_on_call(std::make_shared<ptapi_test::tone_terminal>(tones.at(name), 3000));
    c.select_terminal_on_call(ears.at(name));
    c.async_answer([](std::error_code) {});
  });
  auto primary = alice.create_call("bob");
  primary.connect();
  auto consult = tapi.find_address("alice2").create_call("carol");  // the bridge is shared by the addresses
  primary.conference(consult);
  CHECK(primary.state() == call_state::connected);  // the loopback provider has no hold
  consult.finish(tspi::finish_mode::as_conference);
  REQUIRE(primary.hub().num_calls() == 2);
  std::this_thread::sleep_for(500ms);
  std::vector<std::int16_t> chunk(4800);
  for (auto& [name, ear] : ears)
    while (ear->read(chunk) > 0) {}
  std::this_thread::sleep_for(1200ms);
  // What each heard of the other in the last second: (own, other) amplitudes.
  const auto listen = [&](const std::string& name) {
    std::vector<std::int16_t> heard;
    while (auto n = ears.at(name)->read(chunk))
      heard.insert(heard.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (heard.size() > 48000) heard.erase(heard.begin(), heard.end() - 48000);
    REQUIRE(heard.size() >= 24000);
    return std::pair{ptapi_test::steady_tone_amplitude(heard, tones.at(name)),
                     ptapi_test::steady_tone_amplitude(heard, tones.at(name == "bob" ? "carol" : "bob"))};
  };
  for (const auto& name : {"bob", "carol"}) {
    const auto [own, other] = listen(name);
    INFO(name << " hears its own tone at " << own << " and the other's at " << other);
    CHECK(other > 500);
    CHECK(ptapi_test::decibels(other, own) >= 20);
  }
  auto hub = primary.hub();
  consult.remove_from_conference();  // carol's leg leaves the bridge and stays up with alice
  CHECK(consult.state() == call_state::connected);
  CHECK(hub.calls() == std::vector<tspi::call>{primary});
  std::this_thread::sleep_for(300ms);
  for (auto& [name, ear] : ears)
    while (ear->read(chunk) > 0) {}
  std::this_thread::sleep_for(1200ms);
  for (const auto& name : {"bob", "carol"}) {
    const auto [own, other] = listen(name);
    INFO(name << " hears the other at " << other << " after RemoveFromConference");
    CHECK(other < 100);
  }
  hub.clear();
  CHECK(wait_state(log, primary, call_state::disconnected));
  CHECK(consult.state() == call_state::connected);  // not in the hub any more: Clear leaves it
  consult.disconnect();
  CHECK(wait_state(log, consult, call_state::disconnected));
  tapi.shutdown();
}
