// The Asio forms of call operations (default completion token, cancellation, outstanding work), what an
// incoming call meets when the application cannot hear of it, and where the MSP's address comes from.
#include "loopback_fixture.hpp"
#include "sip_fixture.hpp"

#include <tspi/sip/tsp.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <system_error>
#include <thread>

using namespace std::chrono_literals;

TEST_CASE("async_connect with no token is awaitable (deferred), the io_context waits for it", "[tspi][async]") {
  ptapi_test::loopback_fixture f;
  f.tapi.register_call_notifications(f.bob);
  f.tapi.on_call_notification().connect([](const tspi::call_notification_event& e) { e.call.answer(); });
  boost::asio::io_context io;
  std::optional<std::error_code> result;
  auto call = f.alice.create_call("bob");
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> { result = co_await call.async_connect(); },
                        boost::asio::detached);
  io.run_for(10s);  // no work guard: only the pending connect keeps the io_context running
  REQUIRE(result);
  CHECK_FALSE(*result);
  CHECK(call.state() == tspi::call_state::connected);
  call.disconnect();
}

TEST_CASE("cancelling async_connect drops the call and completes with operation_canceled", "[tspi][async]") {
  ptapi_test::loopback_fixture f;
  f.tapi.register_call_notifications(f.bob);  // bob's phone rings; nobody answers
  boost::asio::io_context io;
  boost::asio::cancellation_signal cancel;
  std::optional<std::error_code> result;
  auto call = f.alice.create_call("bob");
  // The handler, and so the slot, live on `io`: the cancellation is emitted there too (Asio's rule).
  call.async_connect(boost::asio::bind_cancellation_slot(
      cancel.slot(), boost::asio::bind_executor(io, [&](std::error_code ec) { result = ec; })));
  boost::asio::steady_timer ringing(io, 300ms);
  ringing.async_wait([&](boost::system::error_code) {
    CHECK(call.state() == tspi::call_state::in_progress);  // still ringing at bob's
    cancel.emit(boost::asio::cancellation_type::terminal);
  });
  io.run_for(10s);  // returns once the handler ran: the operation keeps `io` busy until then
  REQUIRE(result);
  CHECK(*result == std::errc::operation_canceled);
  CHECK(call.state() == tspi::call_state::disconnected);
}

TEST_CASE("a cancellation after the call connected leaves it connected", "[tspi][async]") {
  ptapi_test::loopback_fixture f;
  f.tapi.register_call_notifications(f.bob);
  f.tapi.on_call_notification().connect([](const tspi::call_notification_event& e) { e.call.answer(); });
  boost::asio::io_context io;
  boost::asio::cancellation_signal cancel;
  std::optional<std::error_code> result;
  auto call = f.alice.create_call("bob");
  call.async_connect(boost::asio::bind_cancellation_slot(cancel.slot(), boost::asio::bind_executor(io, [&](std::error_code ec) {
    result = ec;
    cancel.emit(boost::asio::cancellation_type::terminal);  // too late: the slot is cleared before the handler
  })));
  io.run_for(10s);
  REQUIRE(result);
  CHECK_FALSE(*result);
  std::this_thread::sleep_for(200ms);
  CHECK(call.state() == tspi::call_state::connected);
  call.disconnect();
}

TEST_CASE("an incoming call while the filter lacks call notifications is refused at once", "[tspi][async]") {
  ptapi_test::event_log log;
  tspi::tapi tapi;
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>();
  tapi.set_event_filter(tspi::tapi_event::call_state);  // call_notification forgotten
  tapi.initialize();
  tapi.register_call_notifications(tapi.find_address("bob"));
  auto call = tapi.find_address("alice").create_call("bob");
  std::error_code ec;
  const auto t0 = std::chrono::steady_clock::now();
  call.connect(ec);  // would wait forever for an answer nobody can give
  CHECK(ec == tspi::tapi_errc::dest_busy);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(tapi.unnotified_calls() == 1);
  tapi.shutdown();
}

TEST_CASE("a SIP program names its address once: the media is offered on the SIP listen address", "[tspi][sip][async]") {
  ptapi_test::sip_party alice(0, "127.0.0.3");
  tspi::tapi bob;
  bob.register_provider<tspi::sip::sip_tsp, mspi::rtp_opus_msp>(ptapi_test::sip_party::config(0, "127.0.0.4"));
  bob.set_event_filter(tspi::tapi_event::call_notification);  // the media settings name no address
  bob.on_call_notification().connect([](const tspi::call_notification_event& e) { e.call.answer(); });
  bob.initialize();
  const auto bob_address = bob.addresses().at(0);
  bob.register_call_notifications(bob_address);
  auto call = alice.address.create_call(bob_address.name());
  call.connect();
  std::string remote;  // known once the media thread has started the negotiated media (just after connect)
  for (auto deadline = std::chrono::steady_clock::now() + 3s; remote.empty() && std::chrono::steady_clock::now() < deadline;) {
    for (auto& s : call.stream_control()->streams())
      if (remote.empty()) remote = s->statistics().remote_address;
    if (remote.empty()) std::this_thread::sleep_for(10ms);
  }
  CHECK(remote == "127.0.0.4");  // bob's SDP carries his SIP listen address
  call.disconnect();
  bob.shutdown();
}
