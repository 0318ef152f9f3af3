// Call control through the TAPI object: event filter, causes, privileges, stale handles, async forms.
#include <tspi/call.hpp>

#include "loopback_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

using namespace ptapi_test;
using tspi::call_state;
using tspi::call_state_cause;

namespace {
// Bob answers (or rejects) every call offered to him, from his event handler.
void auto_answer(loopback_fixture& f, bool reject = false) {
  f.tapi.register_call_notifications(f.bob);
  f.tapi.on_call_notification().connect([reject](const tspi::call_notification_event& e) {
    auto c = e.call;
    if (reject) c.async_disconnect(tspi::disconnect_code::rejected, [](std::error_code) {});
    else c.async_answer([](std::error_code) {});
  });
}
call_state_cause last_cause(loopback_fixture& f, std::uint64_t id) {
  std::lock_guard lock(f.log.m);
  call_state_cause c = call_state_cause::none;
  for (std::size_t i = 0; i < f.log.states.size(); ++i)
    if (f.log.states[i].first == id) c = f.log.causes[i];
  return c;
}
}  // namespace

TEST_CASE("no events are delivered until the application sets an event filter", "[tspi][events]") {
  event_log log;
  tspi::tapi t;
  t.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();
  log.attach(t);
  t.initialize();
  auto c = t.find_address("alice").create_call("nobody");
  std::error_code ec;
  c.connect(ec);
  CHECK(ec == mspi::tapi_errc::invalid_address);
  t.shutdown();
  CHECK(log.states.empty());

  // With a filter of call states only, media events stay away.
  event_log log2;
  tspi::tapi t2;
  t2.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();
  log2.attach(t2);
  t2.set_event_filter(tspi::tapi_event::call_state);
  t2.initialize();
  auto c2 = t2.find_address("alice").create_call("nobody");
  c2.connect(ec);
  t2.shutdown();
  CHECK_FALSE(log2.states.empty());
  CHECK(log2.media.empty());
  CHECK(log2.offered.empty());
}

TEST_CASE("an unknown destination ends with bad_address and connect reports it", "[tspi][call]") {
  loopback_fixture f;
  auto c = f.alice.create_call("carol");
  std::error_code ec;
  c.connect(ec);
  CHECK(ec == mspi::tapi_errc::invalid_address);
  CHECK(c.state() == call_state::disconnected);
  CHECK(c.info().cause == call_state_cause::disconnect_badaddress);
}

TEST_CASE("a call to an address nobody owns is rejected as busy", "[tspi][call]") {
  loopback_fixture f;  // bob never registers for calls
  auto c = f.alice.create_call("bob");
  std::error_code ec;
  c.connect(ec);
  CHECK(ec == mspi::tapi_errc::dest_busy);
  CHECK(c.info().cause == call_state_cause::disconnect_busy);
}

TEST_CASE("a rejected call ends with rejected for the caller", "[tspi][call]") {
  loopback_fixture f;
  auto_answer(f, /*reject=*/true);
  auto c = f.alice.create_call("bob");
  std::error_code ec;
  c.connect(ec);
  CHECK(ec == mspi::tapi_errc::request_failed);
  CHECK(c.info().cause == call_state_cause::disconnect_rejected);
  const auto id = c.info().id;
  REQUIRE(f.log.wait([&] {
    auto s = f.log.states_of_locked(id);
    return !s.empty() && s.back() == call_state::disconnected;
  }));
  CHECK(f.log.states_of(id) == std::vector<call_state>{call_state::in_progress, call_state::disconnected});
}

TEST_CASE("the callee sees cancelled when the caller gives up while it rings", "[tspi][call]") {
  loopback_fixture f;
  f.tapi.register_call_notifications(f.bob);
  auto c = f.alice.create_call("bob");
  auto pending = c.async_connect(boost::asio::use_future);
  REQUIRE(f.log.wait([&] { return !f.log.offered.empty(); }));
  tspi::call incoming;
  {
    std::lock_guard lock(f.log.m);
    incoming = f.log.offered.front();
  }
  CHECK(incoming.info().incoming);
  CHECK(incoming.info().caller_id == "alice");
  REQUIRE(f.log.wait([&] { return !f.log.states_of_locked(incoming.info().id).empty(); }));
  CHECK(incoming.state() == call_state::offering);
  c.disconnect();
  CHECK(pending.get() == mspi::tapi_errc::dropped);  // use_future yields the std::error_code as its value
  const auto in_id = incoming.info().id;
  REQUIRE(f.log.wait([&] {
    auto s = f.log.states_of_locked(in_id);
    return !s.empty() && s.back() == call_state::disconnected;
  }));
  CHECK(last_cause(f, in_id) == call_state_cause::disconnect_cancelled);
}

TEST_CASE("illegal operations give TAPI's error codes", "[tspi][call]") {
  loopback_fixture f;
  auto_answer(f);
  auto c = f.alice.create_call("bob");
  std::error_code ec;
  c.answer(ec);  // an outgoing idle call cannot be answered
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  c.release(ec);  // nor released before it is over
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  c.connect();
  c.connect(ec);  // connect twice
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  c.disconnect();
  c.disconnect(tspi::disconnect_code::normal, ec);  // exactly one disconnected
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  CHECK_THROWS_AS(f.alice.create_call("bob", mspi::media_type::video), std::system_error);
  CHECK_THROWS_AS(f.alice.create_call(""), std::system_error);
}

TEST_CASE("a released call's handle is stale and never acts on another call", "[tspi][call][stale]") {
  loopback_fixture f;
  auto_answer(f);
  auto first = f.alice.create_call("bob");
  first.connect();
  first.disconnect();
  auto copy = first;
  first.release();

  auto second = f.alice.create_call("bob");
  second.connect();
  std::error_code ec;
  copy.disconnect(tspi::disconnect_code::normal, ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  CHECK(copy.info().state == call_state::disconnected);  // reading the last-known info is allowed
  CHECK(copy.stream_control(ec) == nullptr);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  CHECK(second.state() == call_state::connected);  // untouched by the stale handle
  CHECK(f.alice.calls().size() == 1);
  second.disconnect();

  tspi::call empty;
  empty.connect(ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  f.tapi.shutdown();
  second.disconnect(tspi::disconnect_code::normal, ec);
  CHECK(ec == mspi::tapi_errc::not_initialized);
}

TEST_CASE("async forms work with callbacks, futures and C++20 coroutines", "[tspi][call][async]") {
  boost::asio::io_context io;  // receives completions from the TAPI object's thread: must outlive it
  loopback_fixture f;
  auto_answer(f);

  std::promise<std::error_code> cb;
  auto c1 = f.alice.create_call("bob");
  c1.async_connect([&](std::error_code ec) { cb.set_value(ec); });
  CHECK_FALSE(cb.get_future().get());
  c1.async_disconnect(tspi::disconnect_code::normal, boost::asio::use_future).get();

  std::vector<call_state> seen;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto c = f.alice.create_call("bob");
        const std::error_code ec = co_await c.async_connect(boost::asio::use_awaitable);
        CHECK_FALSE(ec);
        seen.push_back(c.state());
        co_await c.async_disconnect(tspi::disconnect_code::normal, boost::asio::use_awaitable);
        seen.push_back(c.state());
      },
      boost::asio::detached);
  io.run();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == call_state::connected);
}

TEST_CASE("owner and monitor registrations are notified, and a monitor alone does not take calls", "[tspi][events]") {
  std::mutex m;  // before the fixture: its handler may run until the TAPI object is gone
  std::vector<std::pair<tspi::call_notification_kind, std::uint64_t>> seen;
  loopback_fixture f;
  const auto monitor_id = f.tapi.register_call_notifications(f.bob, /*monitor=*/true, /*owner=*/false);
  std::error_code ec;
  auto unowned = f.alice.create_call("bob");
  unowned.connect(ec);
  CHECK(ec == mspi::tapi_errc::dest_busy);  // monitors do not own: the call is rejected

  const auto owner_id = f.tapi.register_call_notifications(f.bob);
  f.tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    std::lock_guard lock(m);
    seen.emplace_back(e.kind, e.registration);
    if (e.kind == tspi::call_notification_kind::owner) tspi::call(e.call).async_answer([](std::error_code) {});
  });
  auto c = f.alice.create_call("bob");
  c.connect();
  c.disconnect();
  REQUIRE(f.log.wait([&] { std::lock_guard lock(m); return seen.size() == 2; }));
  std::lock_guard lock(m);
  CHECK(seen[0] == std::pair{tspi::call_notification_kind::owner, owner_id});
  CHECK(seen[1] == std::pair{tspi::call_notification_kind::monitor, monitor_id});
  CHECK(f.tapi.unregister_notifications(monitor_id));
  CHECK_FALSE(f.tapi.unregister_notifications(monitor_id));
}

TEST_CASE("hold, transfer and digits are checked by the TAPI object and refused by a TSP without them",
          "[tspi][call]") {
  loopback_fixture f;
  auto_answer(f);
  auto c = f.alice.create_call("bob");
  std::error_code ec;
  // Idle: the state rules come first.
  c.hold(true, ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  c.generate_digits("12", ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  c.connect();
  REQUIRE(c.state() == call_state::connected);
  c.hold(false, ec);  // unhold needs a held call
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  c.generate_digits("12x", ec);
  CHECK(ec == mspi::tapi_errc::invalid_digits);
  c.generate_digits("", ec);
  CHECK(ec == mspi::tapi_errc::invalid_digits);
  c.blind_transfer("", ec);
  CHECK(ec == mspi::tapi_errc::invalid_address);
  // Valid requests reach the loopback TSP, which has neither hold nor blind transfer (it has digits).
  c.hold(true, ec);
  CHECK(ec == mspi::tapi_errc::not_supported);
  c.generate_digits("123#", ec);
  CHECK_FALSE(ec);
  auto f2 = c.async_blind_transfer("carol", boost::asio::use_future);
  CHECK(f2.get() == mspi::tapi_errc::not_supported);
  CHECK(c.state() == call_state::connected);
  c.disconnect();
  tspi::call stale;
  stale.hold(true, ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  // ITAddress::Forward: checked by the TAPI object, then by the loopback TSP (tests/tspi/loopback_forward.cpp).
  tspi::forward_information rules;
  rules.set_forward_type(tspi::forward_mode::no_answer_specific, "bob");
  c.address().forward(rules, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  rules.clear();
  rules.set_forward_type(tspi::forward_mode::unconditional, "nobody");
  c.address().forward(rules, ec);
  CHECK(ec == mspi::tapi_errc::invalid_address);
  CHECK(c.address().current_forward_info().empty());
  rules.clear();
  rules.set_forward_type(tspi::forward_mode::unconditional, "bob");
  c.address().forward(rules, ec);
  CHECK_FALSE(ec);
  CHECK(c.address().current_forward_info() == rules);
  tspi::address none;
  CHECK(none.async_forward(rules, boost::asio::use_future).get() == mspi::tapi_errc::invalid_handle);
}

TEST_CASE("set_app_specific keeps the application's value on the call and raises CIC_APPSPECIFIC once per change",
          "[tspi][call]") {
  loopback_fixture f;
  // Shared with the handler by value: it may run on the event thread until the TAPI object is shut down.
  auto seen = std::make_shared<std::pair<std::mutex, std::vector<tspi::call_info_change_cause>>>();
  f.tapi.on_call_info_change().connect([seen](const tspi::call_info_change_event& e) {
    std::lock_guard lock(seen->first);
    seen->second.push_back(e.cause);
  });
  const auto app_specific_events = [seen] {
    std::lock_guard lock(seen->first);
    return std::count(seen->second.begin(), seen->second.end(), tspi::call_info_change_cause::app_specific);
  };
  auto_answer(f);
  auto c = f.alice.create_call("bob");
  CHECK(c.info().app_specific == 0);
  c.set_app_specific(42);  // an idle call too
  CHECK(c.info().app_specific == 42);
  c.connect();
  c.set_app_specific(42);  // unchanged: no event
  CHECK_FALSE(c.async_set_app_specific(7, boost::asio::use_future).get());
  CHECK(c.info().app_specific == 7);
  for (auto end = std::chrono::steady_clock::now() + 5s; app_specific_events() < 2 && std::chrono::steady_clock::now() < end;)
    std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(50ms);  // a third event would come now
  CHECK(app_specific_events() == 2);
  CHECK(c.info().related_call_id == 0);  // not a consultation call
  c.disconnect();
  tspi::call none;
  std::error_code ec;
  none.set_app_specific(1, ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
}
