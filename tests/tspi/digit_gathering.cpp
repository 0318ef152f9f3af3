// Digit gathering (ITLegacyCallMediaControl2::GatherDigits, TSPI_lineGatherDigits): the rules alone
// (detail::digit_gatherer, with a fake clock), then on real SIP calls whose far end sends RFC 4733 DTMF.
#include <tspi/detail/digit_gatherer.hpp>

#include "tspi/sip_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include <future>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

using namespace ptapi_test;
using tspi::gather_termination;
using tspi::detail::digit_gatherer;

namespace {

const digit_gatherer::clock::time_point t0{};

tspi::gather_digits_options options(std::size_t max, std::string terminators = "", int first_ms = 0, int inter_ms = 0) {
  tspi::gather_digits_options o;
  o.max_digits = max;
  o.terminators = std::move(terminators);
  o.first_timeout = std::chrono::milliseconds(first_ms);
  o.inter_timeout = std::chrono::milliseconds(inter_ms);
  return o;
}

}  // namespace

TEST_CASE("digit_gatherer: buffer full, terminator kept as the last digit, case folded", "[tspi][gather]") {
  digit_gatherer full(options(3), t0);
  CHECK_FALSE(full.on_digit('1', t0));
  CHECK_FALSE(full.on_digit('a', t0));
  CHECK(full.on_digit('3', t0) == gather_termination::buffer_full);
  CHECK(full.result().digits == "1A3");
  CHECK(full.result().termination == gather_termination::buffer_full);

  digit_gatherer term(options(10, "#*"), t0);
  CHECK_FALSE(term.on_digit('4', t0));
  CHECK(term.on_digit('#', t0) == gather_termination::term_digit);
  CHECK(term.result().digits == "4#");

  digit_gatherer lower(options(10, "d"), t0);  // terminators are case-folded too
  CHECK(lower.on_digit('D', t0) == gather_termination::term_digit);
}

TEST_CASE("digit_gatherer: first and inter-digit timeouts follow the digits", "[tspi][gather]") {
  using std::chrono::milliseconds;
  digit_gatherer g(options(5, "", 1000, 300), t0);
  REQUIRE(g.deadline() == t0 + milliseconds(1000));
  CHECK_FALSE(g.on_deadline(t0 + milliseconds(999)));
  CHECK_FALSE(g.on_digit('7', t0 + milliseconds(500)));
  REQUIRE(g.deadline() == t0 + milliseconds(800));  // now the inter-digit timeout
  CHECK_FALSE(g.on_deadline(t0 + milliseconds(1000)) == gather_termination::first_timeout);
  CHECK(g.result().digits == "7");

  digit_gatherer first(options(5, "", 200, 300), t0);
  CHECK(first.on_deadline(t0 + milliseconds(200)) == gather_termination::first_timeout);
  CHECK(first.result().digits.empty());

  digit_gatherer inter(options(5, "", 0, 300), t0);
  CHECK_FALSE(inter.deadline());  // no first-digit limit
  CHECK_FALSE(inter.on_digit('1', t0 + milliseconds(10000)));
  CHECK(inter.on_deadline(t0 + milliseconds(10300)) == gather_termination::inter_timeout);
  CHECK(inter.result().digits == "1");
}

namespace {

// alice calls bob; bob answers; returns (alice's call, bob's call), both connected.
std::pair<tspi::call, tspi::call> connected_pair(sip_party& alice, sip_party& bob) {
  bob.auto_answer();
  auto call = alice.address.create_call(bob.uri);
  call.select_terminal_on_call(alice.address.terminals().create_media_streaming_terminal(mspi::terminal_direction::capture));
  call.connect();
  REQUIRE(call.state() == tspi::call_state::connected);
  auto answered = bob.last_offered();
  REQUIRE(wait_state(bob.log, answered, tspi::call_state::connected));
  return {call, answered};
}

}  // namespace

TEST_CASE("gather_digits collects the far end's DTMF up to a terminator, and TE_GATHERDIGITS says so",
          "[tspi][sip][gather]") {
  // Declared before the parties: a handler may still run until bob's TAPI object is gone.
  std::vector<tspi::digits_gathered_event> events;
  sip_party alice, bob;
  bob.tapi.on_digits_gathered().connect([&](const tspi::digits_gathered_event& e) {
    std::lock_guard lock(bob.log.m);
    events.push_back(e);
    bob.log.cv.notify_all();
  });
  auto [call, answered] = connected_pair(alice, bob);

  auto gathered = std::async(std::launch::async, [c = answered] { return c.gather_digits(options(8, "#", 5000)); });
  std::this_thread::sleep_for(100ms);  // the gathering starts before the digits
  call.generate_digits("25#9");
  const auto r = gathered.get();
  CHECK(r.digits == "25#");
  CHECK(r.termination == gather_termination::term_digit);
  REQUIRE(bob.log.wait([&] { return !events.empty(); }));
  CHECK(events[0].digits == "25#");
  CHECK(events[0].termination == gather_termination::term_digit);
  CHECK(events[0].call.info().id == answered.info().id);
  REQUIRE(bob.log.wait([&] { return bob.digits.size() >= 4; }));  // digit events still come, all of them
  CHECK(bob.digits_seen() == "25#9");

  // Buffer full (use_future with a std::error_code gives the code as a value, beside the digits).
  auto full = answered.async_gather_digits(options(2), boost::asio::use_future);
  call.generate_digits("0*7");
  auto [full_ec, full_r] = full.get();
  CHECK_FALSE(full_ec);
  CHECK(full_r.digits == "0*");
  CHECK(full_r.termination == gather_termination::buffer_full);
  call.disconnect();
}

TEST_CASE("gather_digits ends on timeouts and is cancelled by a new gathering, a slot, or the call's end",
          "[tspi][sip][gather]") {
  sip_party alice, bob;
  auto [call, answered] = connected_pair(alice, bob);

  std::error_code ec;
  auto first = answered.gather_digits(options(4, "", 300), ec);
  CHECK_FALSE(ec);
  CHECK(first.termination == gather_termination::first_timeout);
  CHECK(first.digits.empty());

  auto inter = std::async(std::launch::async, [c = answered] {
    std::error_code e;
    auto r = c.gather_digits(options(4, "", 0, 500), e);
    return std::make_pair(e, r);
  });
  std::this_thread::sleep_for(100ms);
  call.generate_digits("3");
  auto [inter_ec, inter_r] = inter.get();
  CHECK_FALSE(inter_ec);
  CHECK(inter_r.digits == "3");
  CHECK(inter_r.termination == gather_termination::inter_timeout);

  // A new gathering cancels the one in progress (TAPI), which completes with operation_canceled.
  auto old = answered.async_gather_digits(options(4), boost::asio::use_future);
  std::this_thread::sleep_for(50ms);
  auto replacing = answered.async_gather_digits(options(4, "", 200), boost::asio::use_future);
  CHECK(std::get<0>(old.get()) == std::errc::operation_canceled);
  CHECK(std::get<1>(replacing.get()).termination == gather_termination::first_timeout);

  // A cancellation slot ends it with `cancel` and the digits so far.
  boost::asio::cancellation_signal signal;
  std::promise<std::pair<std::error_code, tspi::gathered_digits>> slot_result;
  answered.async_gather_digits(options(8),
                               boost::asio::bind_cancellation_slot(signal.slot(), [&](std::error_code e, tspi::gathered_digits r) {
                                 slot_result.set_value({e, std::move(r)});
                               }));
  call.generate_digits("12");
  REQUIRE(bob.log.wait([&] { return bob.digits.size() >= 3; }));  // "3" earlier, then "1" and "2"
  boost::asio::post(bob.tapi.get_executor(), [&] { signal.emit(boost::asio::cancellation_type::terminal); });
  auto [slot_ec, slot_r] = slot_result.get_future().get();
  CHECK(slot_ec == std::errc::operation_canceled);
  CHECK(slot_r.termination == gather_termination::cancel);
  CHECK(slot_r.digits == "12");

  // The call's end cancels a gathering in progress.
  auto pending = answered.async_gather_digits(options(8), boost::asio::use_future);
  std::this_thread::sleep_for(50ms);
  call.disconnect();
  auto [pending_ec, pending_r] = pending.get();
  CHECK(pending_ec == std::errc::operation_canceled);
  CHECK(pending_r.termination == gather_termination::cancel);
}

TEST_CASE("gather_digits checks its options and the call's state", "[tspi][sip][gather]") {
  sip_party alice, bob;
  auto [call, answered] = connected_pair(alice, bob);
  std::error_code ec;
  answered.gather_digits(options(0), ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  answered.gather_digits(options(257), ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  answered.gather_digits(options(4, "", -5), ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);
  answered.gather_digits(options(4, "#x"), ec);
  CHECK(ec == mspi::tapi_errc::invalid_digits);
  call.disconnect();
  REQUIRE(wait_state(bob.log, answered, tspi::call_state::disconnected));
  answered.gather_digits(options(4, "", 100), ec);
  CHECK(ec == mspi::tapi_errc::invalid_call_state);
  CHECK_THROWS_AS(tspi::call{}.gather_digits(options(1)), std::system_error);
}
