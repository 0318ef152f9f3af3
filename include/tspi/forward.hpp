// ptapi - portable TAPI
// tspi/forward.hpp: call forwarding settings of an address (ITForwardInformation, ITForwardInformation2;
// TAPI 2's LINEFORWARDLIST), given to `address::forward`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tspi {

/// TAPI's forward types (`LINEFORWARDMODE_*`, with their bit values): which calls an entry forwards. The
/// `*_specific` kinds apply to one caller only (`forward_entry::caller`); the others to every caller.
/// TAPI's `*INTERNAL`/`*EXTERNAL` kinds (a switch's notion of inside callers) are not listed: no shipped
/// provider can tell them apart.
enum class forward_mode : std::uint32_t {
  unconditional = 0x1,              ///< LINEFORWARDMODE_UNCOND: every call, at once.
  unconditional_specific = 0x8,     ///< LINEFORWARDMODE_UNCONDSPECIFIC: every call of `caller`, at once.
  busy = 0x10,                      ///< LINEFORWARDMODE_BUSY: calls arriving while the address is busy.
  busy_specific = 0x80,             ///< LINEFORWARDMODE_BUSYSPECIFIC: the same, for `caller` only.
  no_answer = 0x100,                ///< LINEFORWARDMODE_NOANSW: calls not answered within the rings.
  no_answer_specific = 0x800,       ///< LINEFORWARDMODE_NOANSWSPECIFIC: the same, for `caller` only.
  busy_no_answer = 0x1000,          ///< LINEFORWARDMODE_BUSYNA: busy or not answered.
  busy_no_answer_specific = 0x8000, ///< LINEFORWARDMODE_BUSYNASPECIFIC: the same, for `caller` only.
};

/// True for the `*_specific` modes, whose entry names a caller.
[[nodiscard]] constexpr bool is_caller_specific(forward_mode m) noexcept {
  return m == forward_mode::unconditional_specific || m == forward_mode::busy_specific ||
         m == forward_mode::no_answer_specific || m == forward_mode::busy_no_answer_specific;
}

/// One forwarding rule (an entry of TAPI 2's LINEFORWARDLIST, LINEFORWARD).
struct forward_entry {
  forward_mode mode = forward_mode::unconditional;  ///< LINEFORWARD::dwForwardMode
  std::string destination;  ///< Where calls go: a dialable address (SIP: a URI). LINEFORWARD::DestAddress
  std::string caller;       ///< For the `*_specific` modes: the caller (SIP: a URI or `user@host`); else empty.
                            ///< LINEFORWARD::CallerAddress
  /// Member-wise equality.
  friend bool operator==(const forward_entry&, const forward_entry&) = default;
};

/// TAPI 3's `ITForwardInformation` (+ `ITForwardInformation2`): the forwarding settings given to
/// `address::forward`. A value type: one entry per (mode, caller), and the number of rings after which a
/// call counts as not answered.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe (a plain value; copy it to share).
class forward_information {
 public:
  /// ITForwardInformation::put_NumRingsNoAnswer: rings before a `no_answer`/`busy_no_answer` rule applies
  /// (default 3). A provider converts rings to time (the SIP provider: `sip_config::ring_period` each).
  void set_num_rings_no_answer(std::uint32_t rings) noexcept { rings_ = rings; }
  /// ITForwardInformation::get_NumRingsNoAnswer.
  [[nodiscard]] std::uint32_t num_rings_no_answer() const noexcept { return rings_; }

  /// ITForwardInformation::SetForwardType: forwards calls of `mode` to `destination` (replacing the rule
  /// of the same mode and caller). `caller` names the caller for the `*_specific` modes and must be empty
  /// for the others. Checks nothing else: `address::forward` reports bad rules (`invalid_address`,
  /// `invalid_argument`). Throws only std::bad_alloc.
  void set_forward_type(forward_mode mode, std::string_view destination, std::string_view caller = {}) {
    for (auto& e : entries_)
      if (e.mode == mode && e.caller == caller) {
        e.destination = destination;
        return;
      }
    entries_.push_back({mode, std::string(destination), std::string(caller)});
  }
  /// ITForwardInformation::get_ForwardTypeDestination: the destination of the rule for `mode` (and
  /// `caller`), or nullopt when there is none. Throws only std::bad_alloc.
  [[nodiscard]] std::optional<std::string> forward_type_destination(forward_mode mode, std::string_view caller = {}) const {
    for (const auto& e : entries_)
      if (e.mode == mode && e.caller == caller) return e.destination;
    return std::nullopt;
  }
  /// ITForwardInformation::Clear: no rule (forwarding off once given to `address::forward`); the ring
  /// count is kept.
  void clear() noexcept { entries_.clear(); }
  /// Every rule, in the order they were set (TAPI 2's LINEFORWARDLIST).
  [[nodiscard]] const std::vector<forward_entry>& entries() const noexcept { return entries_; }
  /// True when there is no rule.
  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

  /// Equal rules (same order) and ring count.
  friend bool operator==(const forward_information&, const forward_information&) = default;

 private:
  std::uint32_t rings_ = 3;
  std::vector<forward_entry> entries_;
};

/// What makes a forwarding rule apply to an incoming call: at once (unconditional), when the address is
/// busy (the application rejects the offered call, or there is no room for it), or when the call is not
/// answered within `forward_information::num_rings_no_answer` rings.
enum class forward_trigger : std::uint8_t { unconditional, busy, no_answer };

/// True when a rule of `mode` applies to calls that meet `t` (`busy_no_answer*` to both busy and no answer).
[[nodiscard]] constexpr bool forward_applies(forward_mode mode, forward_trigger t) noexcept {
  using M = forward_mode;
  switch (t) {
    case forward_trigger::unconditional: return mode == M::unconditional || mode == M::unconditional_specific;
    case forward_trigger::busy:
      return mode == M::busy || mode == M::busy_specific || mode == M::busy_no_answer || mode == M::busy_no_answer_specific;
    case forward_trigger::no_answer:
      return mode == M::no_answer || mode == M::no_answer_specific || mode == M::busy_no_answer ||
             mode == M::busy_no_answer_specific;
  }
  return false;
}

/// The rule of `f` that sends on a call meeting `t` whose caller is accepted by `is_caller` (called with a
/// `*_specific` rule's `caller`; it decides what "the same caller" means for the provider): a rule for
/// this caller wins over the general one; nullptr when none applies. The pointer is into `f`. Pure.
template <class IsCaller>
[[nodiscard]] const forward_entry* find_forward_rule(const forward_information& f, forward_trigger t, IsCaller&& is_caller) {
  const forward_entry* general = nullptr;
  for (const auto& e : f.entries()) {
    if (!forward_applies(e.mode, t)) continue;
    if (!is_caller_specific(e.mode)) {
      if (!general) general = &e;
    } else if (is_caller(std::string_view(e.caller))) {
      return &e;
    }
  }
  return general;
}

}  // namespace tspi
