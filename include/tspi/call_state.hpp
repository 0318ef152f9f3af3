// ptapi - portable TAPI
// tspi/call_state.hpp: TAPI 3 call states and their transition table, the TSPI call states
// (LINECALLSTATE_*) and disconnect modes, and how they map onto each other.
#pragma once

#include <mspi/error.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace tspi {

/// TAPI's error codes (TAPI_E_*), as telephony code names them: the same enum as `mspi::tapi_errc` (one
/// error category for media and telephony, `tapi_category()`), so `tspi::tapi_errc::dest_busy` and
/// `mspi::tapi_errc::dest_busy` compare equal.
using mspi::tapi_errc;

/// TAPI 3's `CALL_STATE`. Values are TAPI's.
enum class call_state : std::uint8_t {
  idle = 0,          ///< CS_IDLE: created, not yet connected (initial for incoming and outgoing calls).
  in_progress = 1,   ///< CS_INPROGRESS: connect called, the provider is working on it.
  connected = 2,     ///< CS_CONNECTED: talking.
  disconnected = 3,  ///< CS_DISCONNECTED: over; final. The cause says why.
  offering = 4,      ///< CS_OFFERING: an incoming call offered to the application.
  hold = 5,          ///< CS_HOLD
  queued = 6,        ///< CS_QUEUED
};

/// "idle", "in_progress", ...; the names the softphone prints and reports.
constexpr std::string_view to_string(call_state s) noexcept {
  switch (s) {
    case call_state::idle: return "idle";
    case call_state::in_progress: return "in_progress";
    case call_state::connected: return "connected";
    case call_state::disconnected: return "disconnected";
    case call_state::offering: return "offering";
    case call_state::hold: return "hold";
    case call_state::queued: return "queued";
  }
  return "?";
}

/// TAPI 3's transition table (`CALL_STATE` remarks): whether a call may go from `from` to `to`.
/// Nothing leads into idle and nothing leaves disconnected, so a call has exactly one disconnected state.
/// TAPI documents no edge into queued; ptapi allows idle/offering → queued for queue addresses.
constexpr bool is_legal_transition(call_state from, call_state to) noexcept {
  using enum call_state;
  switch (from) {
    case idle: return to == in_progress || to == connected || to == disconnected || to == offering || to == hold || to == queued;
    case in_progress: return to == connected || to == disconnected || to == hold;
    case connected: return to == hold || to == disconnected;
    case disconnected: return false;
    case offering: return to == connected || to == disconnected || to == hold || to == queued;
    case hold: return to == connected || to == disconnected;
    case queued: return to == connected || to == disconnected || to == hold;
  }
  return false;
}

/// TAPI 3's `CALL_STATE_EVENT_CAUSE` for disconnected calls (`CEC_*`).
enum class call_state_cause : std::uint8_t {
  none,                  ///< CEC_NONE: every state but disconnected.
  disconnect_normal,     ///< CEC_DISCONNECT_NORMAL
  disconnect_busy,       ///< CEC_DISCONNECT_BUSY
  disconnect_badaddress, ///< CEC_DISCONNECT_BADADDRESS
  disconnect_noanswer,   ///< CEC_DISCONNECT_NOANSWER
  disconnect_cancelled,  ///< CEC_DISCONNECT_CANCELLED
  disconnect_rejected,   ///< CEC_DISCONNECT_REJECTED
  disconnect_failed,     ///< CEC_DISCONNECT_FAILED
  disconnect_blocked,    ///< CEC_DISCONNECT_BLOCKED
};

/// "normal", "busy", ...; for reports.
constexpr std::string_view to_string(call_state_cause c) noexcept {
  switch (c) {
    case call_state_cause::none: return "none";
    case call_state_cause::disconnect_normal: return "normal";
    case call_state_cause::disconnect_busy: return "busy";
    case call_state_cause::disconnect_badaddress: return "bad_address";
    case call_state_cause::disconnect_noanswer: return "no_answer";
    case call_state_cause::disconnect_cancelled: return "cancelled";
    case call_state_cause::disconnect_rejected: return "rejected";
    case call_state_cause::disconnect_failed: return "failed";
    case call_state_cause::disconnect_blocked: return "blocked";
  }
  return "?";
}

/// The error an unsuccessful `connect` completes with, from the disconnect cause of a call that never
/// connected: busy → dest_busy, no answer → dest_no_answer, bad address → invalid_address, rejected or
/// blocked → request_failed... and normal (the remote hung up before answering) → dropped.
constexpr mspi::tapi_errc connect_error(call_state_cause c) noexcept {
  using enum call_state_cause;
  switch (c) {
    case disconnect_busy: return mspi::tapi_errc::dest_busy;
    case disconnect_noanswer: return mspi::tapi_errc::dest_no_answer;
    case disconnect_badaddress: return mspi::tapi_errc::invalid_address;
    case disconnect_cancelled: return mspi::tapi_errc::request_cancelled;
    case disconnect_rejected:
    case disconnect_blocked: return mspi::tapi_errc::request_failed;
    case disconnect_failed: return mspi::tapi_errc::dest_unavailable;
    case none:
    case disconnect_normal: return mspi::tapi_errc::dropped;
  }
  return mspi::tapi_errc::dropped;
}

/// TAPI 3's `FINISH_MODE`: how `call::finish` completes a consultation call (ITBasicCallControl::Finish).
enum class finish_mode : std::uint8_t {
  as_transfer,    ///< FM_ASTRANSFER: transfer the primary call's far end to this call's far end.
  as_conference,  ///< FM_ASCONFERENCE: join this call to the primary call's conference.
};

/// TAPI 3's `DISCONNECT_CODE`: why the application drops a call (ITBasicCallControl::Disconnect).
enum class disconnect_code : std::uint8_t {
  normal,     ///< DC_NORMAL
  noanswer,   ///< DC_NOANSWER
  rejected,   ///< DC_REJECTED
};

/// TSPI call states (`LINECALLSTATE_*`, bit values as in TAPI 2) that a TSP reports with `call_state`.
enum class line_call_state : std::uint32_t {
  idle = 0x1,
  offering = 0x2,
  accepted = 0x4,
  dialtone = 0x8,
  dialing = 0x10,
  ringback = 0x20,
  busy = 0x40,
  specialinfo = 0x80,
  connected = 0x100,
  proceeding = 0x200,
  onhold = 0x400,
  conferenced = 0x800,
  onholdpendconf = 0x1000,
  onholdpendtransfer = 0x2000,
  disconnected = 0x4000,
  unknown = 0x8000,
};

/// TSPI disconnect modes (`LINEDISCONNECTMODE_*`), the mode of a `disconnected` line call state.
enum class line_disconnect_mode : std::uint32_t {
  normal = 0x1,
  unknown = 0x2,
  reject = 0x4,
  pickup = 0x8,
  forwarded = 0x10,
  busy = 0x20,
  noanswer = 0x40,
  badaddress = 0x80,
  unreachable = 0x100,
  congestion = 0x200,
  incompatible = 0x400,
  unavail = 0x800,
  nodialtone = 0x1000,
  numberchanged = 0x2000,
  outoforder = 0x4000,
  tempfailure = 0x8000,
  qosunavail = 0x10000,
  blocked = 0x20000,
  donotdisturb = 0x40000,
  cancelled = 0x80000,
};

/// The TAPI 3 state a TSPI state shows as (ptapi's decision where TAPI documents none; see the
/// object-model reference §3.3): dialtone/dialing/proceeding/ringback/busy/specialinfo → in_progress,
/// offering/accepted → offering, connected/conferenced → connected, the on-hold family → hold,
/// disconnected/idle → disconnected; unknown → no change (nullopt).
constexpr std::optional<call_state> to_call_state(line_call_state s) noexcept {
  using enum line_call_state;
  switch (s) {
    case dialtone:
    case dialing:
    case proceeding:
    case ringback:
    case busy:
    case specialinfo: return call_state::in_progress;
    case offering:
    case accepted: return call_state::offering;
    case connected:
    case conferenced: return call_state::connected;
    case onhold:
    case onholdpendconf:
    case onholdpendtransfer: return call_state::hold;
    case disconnected:
    case idle: return call_state::disconnected;
    case unknown: return std::nullopt;
  }
  return std::nullopt;
}

/// The TAPI 3 cause of a TSPI disconnect mode (object-model reference §3.4). `was_connected` decides
/// the unknown/unavailable modes: normal for a call that was talking, failed for one that never was.
constexpr call_state_cause to_cause(line_disconnect_mode m, bool was_connected) noexcept {
  using enum line_disconnect_mode;
  switch (m) {
    case normal:
    case pickup:
    case forwarded: return call_state_cause::disconnect_normal;
    case unknown:
    case unavail: return was_connected ? call_state_cause::disconnect_normal : call_state_cause::disconnect_failed;
    case reject:
    case donotdisturb: return call_state_cause::disconnect_rejected;
    case busy: return call_state_cause::disconnect_busy;
    case noanswer: return call_state_cause::disconnect_noanswer;
    case badaddress:
    case numberchanged: return call_state_cause::disconnect_badaddress;
    case unreachable:
    case congestion:
    case incompatible:
    case nodialtone:
    case outoforder:
    case tempfailure:
    case qosunavail: return call_state_cause::disconnect_failed;
    case blocked: return call_state_cause::disconnect_blocked;
    case cancelled: return call_state_cause::disconnect_cancelled;
  }
  return call_state_cause::disconnect_failed;
}

/// TAPI 3's `CALL_PRIVILEGE`.
enum class call_privilege : std::uint8_t {
  owner,    ///< CP_OWNER: may answer, connect and disconnect the call.
  monitor,  ///< CP_MONITOR: may only watch it.
};

}  // namespace tspi
