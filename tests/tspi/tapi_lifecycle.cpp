// The TAPI object's life: initialize/shutdown, a call alive at shutdown, requests racing shutdown,
// re-initialization, and events on an executor of the application's.
#include <tspi/tapi.hpp>

#include "loopback_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace ptapi_test;
using tspi::call_state;

namespace {
void answer_everything(tspi::tapi& t, const tspi::address& bob) {
  t.register_call_notifications(bob);
  t.on_call_notification().connect([](const tspi::call_notification_event& e) {
    tspi::call(e.call).async_answer([](std::error_code) {});
  });
}
}  // namespace

TEST_CASE("shutdown disconnects a live call once and later requests fail cleanly", "[tspi][lifecycle]") {
  loopback_fixture f;
  answer_everything(f.tapi, f.bob);
  auto c = f.alice.create_call("bob");
  c.connect();
  const auto id = c.info().id;
  f.tapi.shutdown();
  CHECK(c.state() == call_state::disconnected);
  CHECK(c.info().cause == tspi::call_state_cause::disconnect_normal);
  const auto seq = f.log.states_of(id);  // the event thread delivered everything before shutdown returned
  REQUIRE_FALSE(seq.empty());
  CHECK(seq.back() == call_state::disconnected);
  CHECK(std::count(seq.begin(), seq.end(), call_state::disconnected) == 1);

  std::error_code ec;
  c.disconnect(tspi::disconnect_code::normal, ec);
  CHECK(ec == mspi::tapi_errc::not_initialized);
  CHECK(c.async_connect(boost::asio::use_future).get() == mspi::tapi_errc::not_initialized);
  (void)f.alice.create_call("bob", mspi::media_type::audio, ec);
  CHECK(ec == mspi::tapi_errc::not_initialized);
  f.tapi.shutdown();  // idempotent
}

TEST_CASE("requests racing shutdown complete instead of hanging", "[tspi][lifecycle]") {
  for (int round = 0; round < 5; ++round) {
    loopback_fixture f;
    answer_everything(f.tapi, f.bob);
    std::atomic<int> completed{0};
    std::thread caller([&] {
      for (int i = 0; i < 20; ++i) {
        std::error_code ec;
        auto c = f.alice.create_call("bob", mspi::media_type::audio, ec);
        if (ec) {
          ++completed;
          continue;
        }
        c.connect(ec);  // returns: connected, or not_initialized/dropped once shutdown began
        c.disconnect(tspi::disconnect_code::normal, ec);
        ++completed;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5 * round));
    f.tapi.shutdown();
    caller.join();
    CHECK(completed == 20);
  }
}

TEST_CASE("a TAPI object can be initialized again after shutdown", "[tspi][lifecycle]") {
  event_log log;
  tspi::tapi t;
  t.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();
  t.set_event_filter(tspi::tapi_event::call_state | tspi::tapi_event::call_notification);
  for (int round = 0; round < 2; ++round) {
    t.initialize();
    CHECK(t.addresses().size() == 2);
    auto bob = t.find_address("bob");
    t.register_call_notifications(bob);
    auto c = t.find_address("alice").create_call("bob");
    std::promise<void> answered;
    auto conn = t.on_call_notification().connect([&](const tspi::call_notification_event& e) {
      tspi::call(e.call).async_answer([&](std::error_code) { answered.set_value(); });
    });
    c.connect();
    answered.get_future().wait();
    CHECK(c.state() == call_state::connected);
    conn.disconnect();
    t.shutdown();
    CHECK(t.addresses().empty());
  }
  std::error_code ec;
  t.initialize(ec);
  CHECK_FALSE(ec);
  t.initialize(ec);
  CHECK(ec == mspi::tapi_errc::already_initialized);
}

TEST_CASE("events run on the application's executor, one at a time and in order", "[tspi][events]") {
  boost::asio::io_context app;  // the application's own event loop
  auto work = boost::asio::make_work_guard(app);
  std::thread app_thread([&] { app.run(); });
  {
    tspi::tapi t(tspi::tapi_options{app.get_executor()});
    t.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();
    t.set_event_filter(tspi::tapi_event::call_state);
    std::atomic<int> on_app_thread{0}, elsewhere{0};
    std::vector<call_state> seen;  // only touched by handlers: they never run concurrently
    t.on_call_state().connect([&](const tspi::call_state_event& e) {
      (std::this_thread::get_id() == app_thread.get_id() ? on_app_thread : elsewhere)++;
      if (!e.call.info().incoming) seen.push_back(e.state);
    });
    t.initialize();
    answer_everything(t, t.find_address("bob"));
    t.set_event_filter(tspi::tapi_event::call_state | tspi::tapi_event::call_notification);
    auto c = t.find_address("alice").create_call("bob");
    c.connect();
    c.disconnect();
    t.shutdown();
    std::promise<void> drained;  // everything posted to the app loop before this has run
    boost::asio::post(app, [&] { drained.set_value(); });
    drained.get_future().wait();
    CHECK(elsewhere == 0);
    CHECK(on_app_thread >= 5);
    CHECK(seen == std::vector<call_state>{call_state::in_progress, call_state::connected, call_state::disconnected});
  }
  work.reset();
  app_thread.join();
}
