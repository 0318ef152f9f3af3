#include <tspi/call_state.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <utility>

using tspi::call_state;

namespace {
// TAPI 3's CALL_STATE remarks table, transcribed row by row from Microsoft's documentation
// (ne-tapi3if-call_state), plus ptapi's documented addition of idle/offering -> queued.
const std::set<std::pair<call_state, call_state>> documented = {
    {call_state::idle, call_state::in_progress},     {call_state::idle, call_state::connected},
    {call_state::idle, call_state::disconnected},    {call_state::idle, call_state::offering},
    {call_state::idle, call_state::hold},            {call_state::idle, call_state::queued},
    {call_state::in_progress, call_state::connected}, {call_state::in_progress, call_state::disconnected},
    {call_state::in_progress, call_state::hold},     {call_state::connected, call_state::hold},
    {call_state::connected, call_state::disconnected}, {call_state::offering, call_state::connected},
    {call_state::offering, call_state::disconnected}, {call_state::offering, call_state::hold},
    {call_state::offering, call_state::queued},      {call_state::hold, call_state::connected},
    {call_state::hold, call_state::disconnected},    {call_state::queued, call_state::connected},
    {call_state::queued, call_state::disconnected},  {call_state::queued, call_state::hold},
};
constexpr std::array all = {call_state::idle,    call_state::in_progress, call_state::connected, call_state::disconnected,
                            call_state::offering, call_state::hold,       call_state::queued};
}  // namespace

TEST_CASE("every legal and illegal call-state transition follows TAPI 3's table", "[tspi][call_state]") {
  int legal = 0;
  for (auto from : all)
    for (auto to : all) {
      INFO(tspi::to_string(from) << " -> " << tspi::to_string(to));
      const bool expected = documented.count({from, to}) > 0;
      CHECK(tspi::is_legal_transition(from, to) == expected);
      legal += expected;
    }
  CHECK(legal == 20);
  for (auto s : all) {
    CHECK_FALSE(tspi::is_legal_transition(s, call_state::idle));            // nothing enters idle
    CHECK_FALSE(tspi::is_legal_transition(call_state::disconnected, s));    // nothing leaves disconnected
  }
}

TEST_CASE("TSPI call states map onto TAPI 3 call states", "[tspi][call_state]") {
  using tspi::line_call_state;
  CHECK(tspi::to_call_state(line_call_state::dialing) == call_state::in_progress);
  CHECK(tspi::to_call_state(line_call_state::ringback) == call_state::in_progress);
  CHECK(tspi::to_call_state(line_call_state::busy) == call_state::in_progress);
  CHECK(tspi::to_call_state(line_call_state::offering) == call_state::offering);
  CHECK(tspi::to_call_state(line_call_state::accepted) == call_state::offering);
  CHECK(tspi::to_call_state(line_call_state::connected) == call_state::connected);
  CHECK(tspi::to_call_state(line_call_state::conferenced) == call_state::connected);
  CHECK(tspi::to_call_state(line_call_state::onholdpendtransfer) == call_state::hold);
  CHECK(tspi::to_call_state(line_call_state::idle) == call_state::disconnected);
  CHECK_FALSE(tspi::to_call_state(line_call_state::unknown).has_value());
}

TEST_CASE("disconnect modes map onto TAPI 3 causes", "[tspi][call_state]") {
  using tspi::call_state_cause;
  using tspi::line_disconnect_mode;
  CHECK(tspi::to_cause(line_disconnect_mode::busy, false) == call_state_cause::disconnect_busy);
  CHECK(tspi::to_cause(line_disconnect_mode::reject, false) == call_state_cause::disconnect_rejected);
  CHECK(tspi::to_cause(line_disconnect_mode::badaddress, false) == call_state_cause::disconnect_badaddress);
  CHECK(tspi::to_cause(line_disconnect_mode::noanswer, false) == call_state_cause::disconnect_noanswer);
  CHECK(tspi::to_cause(line_disconnect_mode::cancelled, false) == call_state_cause::disconnect_cancelled);
  CHECK(tspi::to_cause(line_disconnect_mode::blocked, false) == call_state_cause::disconnect_blocked);
  CHECK(tspi::to_cause(line_disconnect_mode::congestion, true) == call_state_cause::disconnect_failed);
  // Unknown reasons: normal for a call that talked, failed for one that never connected.
  CHECK(tspi::to_cause(line_disconnect_mode::unknown, true) == call_state_cause::disconnect_normal);
  CHECK(tspi::to_cause(line_disconnect_mode::unknown, false) == call_state_cause::disconnect_failed);
  // A connect that never connected completes with the cause as an error.
  CHECK(make_error_code(tspi::connect_error(call_state_cause::disconnect_busy)) == mspi::tapi_errc::dest_busy);
  CHECK(make_error_code(tspi::connect_error(call_state_cause::disconnect_badaddress)) == mspi::tapi_errc::invalid_address);
}
