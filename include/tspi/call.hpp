// ptapi - portable TAPI
// tspi/call.hpp: the call object (ITBasicCallControl, ITCallInfo, ITStreamControl on one handle; the
// ITLegacyCallMediaControl methods come from legacy_call_media_control.hpp).
#pragma once

#include <tspi/call_info_buffer.hpp>
#include <tspi/call_info_long.hpp>
#include <tspi/call_state.hpp>
#include <tspi/legacy_call_media_control.hpp>
#include <tspi/tapi_event.hpp>
#include <tspi/detail/backends.hpp>
#include <tspi/detail/call_ops.hpp>

#include <mspi/error.hpp>
#include <mspi/qos.hpp>
#include <mspi/stream_control.hpp>
#include <mspi/terminal.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/system_executor.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace tspi {

class address;
class call_hub;

/// A call (TAPI's call object: `ITBasicCallControl`, `ITCallInfo`, `ITLegacyCallMediaControl(2)` from its
/// base `legacy_call_media_control` and, aggregated from the MSP, `ITStreamControl`). A cheap, copyable
/// handle; copies refer to the same call.
///
/// Operations come in three forms, as in Asio: throwing (`std::system_error` naming the operation),
/// `std::error_code&`, and `async_*(token)` with completion signature `void(std::error_code)` (callbacks,
/// `use_future`, `use_awaitable`, `deferred`...; with no token, Asio's `deferred`, so `co_await
/// call.async_connect()` works in a coroutine). `async_connect` and `async_gather_digits` can be cancelled (see there);
/// `async_gather_digits` completes with `void(std::error_code, gathered_digits)`. All
/// operations are `const`: they act on the call, not on the handle. Async handlers run on their associated executor, by default the
/// TAPI object's event executor, and never inside the initiating call. The completion's `std::error_code`
/// is a value, not an exception: `async_connect(use_future)` gives a `std::future<std::error_code>` and
/// `co_await async_connect(use_awaitable)` gives the `std::error_code`.
///
/// @par Lifetime (TAPI's `Release` by reference count, as COM does it)
/// Every `call` handle the application holds counts as one reference: copies, the handles inside events
/// (also while queued for delivery), `address::create_call`'s and `address::calls()`'s results. The TAPI
/// object's own bookkeeping never counts. A call is released (its MSP call shut down, the provider told
/// with TSPI_lineCloseCall, the call gone from `address::calls()`) as soon as it is `disconnected` and
/// no handle refers to it any more, or at once by `release()`, or by `tapi::shutdown`. An outgoing call
/// that was never connected is released likewise when its last handle goes while it is still `idle`.
/// A call that is not over stays while no handle refers to it (an incoming call rings, a connected call
/// goes on) until it ends; the `disconnected` event then brings a handle, and the call is released
/// once that event has been delivered and nobody kept a copy. So an application that drops its handles
/// frees every call without calling `release()`. The last handle may be dropped on any thread (an event
/// handler, after `shutdown`, after the `tapi` object is gone): the release itself runs on the TAPI
/// object's thread, shortly after. `tapi::live_calls()` counts the calls not yet released.
///
/// A handle outlives its call safely: once the call is released (`release`, its last handle, or the TAPI
/// object shut down), every action fails with `tapi_errc::invalid_handle` (or `not_initialized`) and never
/// acts on another call; `info()` keeps reporting the call as it last was.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; any thread may call any member. The synchronous forms
/// block until the provider finishes, so do not call `connect` synchronously from the event executor's
/// thread when the far end is answered by that same thread's event handlers: use `async_connect`.
class call : public legacy_call_media_control<call> {
 public:
  /// The default executor of the async forms: the TAPI object's event executor.
  using executor_type = boost::asio::any_io_executor;

  /// An empty handle; every operation fails with `invalid_handle`.
  call() = default;
  /// Wraps a backend (the TAPI object makes calls; applications get them from `address::create_call`
  /// and from events).
  explicit call(std::shared_ptr<detail::call_backend> backend) : backend_(std::move(backend)) {}

  /// True unless default-constructed. A valid handle may still be stale: see `info(ec)`.
  [[nodiscard]] explicit operator bool() const noexcept { return backend_ != nullptr; }
  /// Handles are equal when they refer to the same call.
  friend bool operator==(const call& a, const call& b) noexcept { return a.backend_ == b.backend_; }

  /// The event executor (for async completions).
  [[nodiscard]] executor_type get_executor() const {
    return backend_ ? backend_->executor() : executor_type(boost::asio::system_executor());
  }

  /// ITCallInfo: state, cause, privilege, caller, called and connected IDs, origin, and what the provider
  /// reported (`provider_call_info`: e.g. the SIP Call-ID and final status). Reading is not an action, so it
  /// works on a stale handle too (it then reports the call as it last was, e.g. in an event delivered
  /// during shutdown). Error: `invalid_handle` only for an empty handle.
  [[nodiscard]] call_info info(std::error_code& ec) const {
    ec = backend_ ? std::error_code{} : make_error_code(mspi::tapi_errc::invalid_handle);
    return ec ? call_info{} : backend_->info();
  }
  /// ITCallInfo, throwing `std::system_error` for an empty handle.
  [[nodiscard]] call_info info() const {
    std::error_code ec;
    auto i = info(ec);
    mspi::throw_if(ec, "call_info");
    return i;
  }
  /// ITCallInfo::get_CallState (throws for an empty handle). Cheaper than `info()`: reads no stream.
  [[nodiscard]] call_state state() const {
    if (!backend_) mspi::throw_if(make_error_code(mspi::tapi_errc::invalid_handle), "call_info");
    return backend_->state();
  }

  /// ITCallInfo::get_Address: the address the call is on (throws when stale). Defined in address.hpp.
  [[nodiscard]] tspi::address address() const;

  /// ITBasicCallControl::Connect(fSync=TRUE): places the call and waits until it is connected or has
  /// failed. Errors: `invalid_call_state` unless the call is idle; `not_owner`; `invalid_handle`; and, when
  /// the call ends before connecting, the cause as `dest_busy`, `dest_no_answer`, `invalid_address`,
  /// `request_failed` (rejected), `dest_unavailable` (failed), `dropped` (hung up).
  void connect(std::error_code& ec) const { ec = run([](detail::call_backend& b, detail::completion d) { b.connect(std::move(d)); }); }
  /// Connect, throwing `std::system_error` on the errors above.
  void connect() const {
    std::error_code ec;
    connect(ec);
    mspi::throw_if(ec, "connect");
  }
  /// Connect, asynchronously: completes when the call is connected (empty code) or failed (errors above).
  /// Completion signature `void(std::error_code)`. Cancellation (a slot bound to the token, e.g.
  /// `bind_cancellation_slot` or an awaitable operator `||`; any cancellation type): drops the call as
  /// `disconnect` would, and the operation completes with `std::errc::operation_canceled`; a call that
  /// connected first completes normally and stays connected.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_connect(Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_,
                            [](detail::call_backend& b, detail::completion d) { b.connect(std::move(d)); },
                            detail::on_cancel::drop_call);
  }

  /// ITBasicCallControl::Answer: answers an offering call; completes when the provider has answered
  /// (the `connected` state event follows). Errors: `invalid_call_state` unless offering; `not_owner`
  /// for a monitor; `invalid_handle`.
  void answer(std::error_code& ec) const { ec = run([](detail::call_backend& b, detail::completion d) { b.answer(std::move(d)); }); }
  /// Answer, throwing `std::system_error` on the errors above.
  void answer() const {
    std::error_code ec;
    answer(ec);
    mspi::throw_if(ec, "answer");
  }
  /// Answer, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_answer(Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_,
                            [](detail::call_backend& b, detail::completion d) { b.answer(std::move(d)); });
  }

  /// ITBasicCallControl::Disconnect: hangs up (connected), cancels (in progress) or rejects (offering,
  /// with `code`: `rejected`, `noanswer`...). Completes when the provider has dropped the call; the
  /// `disconnected` state event follows. An idle call is left as it is (TAPI returns S_FALSE).
  /// Errors: `invalid_call_state` when already disconnected; `not_owner`; `invalid_handle`.
  void disconnect(disconnect_code code, std::error_code& ec) const {
    ec = run([code](detail::call_backend& b, detail::completion d) { b.disconnect(code, std::move(d)); });
  }
  /// Disconnect, throwing `std::system_error` on the errors above.
  void disconnect(disconnect_code code = disconnect_code::normal) const {
    std::error_code ec;
    disconnect(code, ec);
    mspi::throw_if(ec, "disconnect");
  }
  /// Disconnect, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_disconnect(disconnect_code code, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_,
                            [code](detail::call_backend& b, detail::completion d) { b.disconnect(code, std::move(d)); });
  }

  /// ITBasicCallControl::Hold(fHold): `true` puts a connected call on hold, `false` takes a held call off
  /// hold (SIP: a re-INVITE with `sendonly`, then `sendrecv`, RFC 3264 §8.4). Completes when the provider
  /// has done it; the `hold` / `connected` state event follows. Errors: `invalid_call_state` (not
  /// connected for hold, not held for unhold); `not_supported` by the provider; `not_owner`;
  /// `invalid_handle`; the far end's refusal as `request_failed`; `timeout` when it does not answer.
  void hold(bool on_hold, std::error_code& ec) const { ec = run(detail::ops::hold_op(on_hold)); }
  /// Hold, throwing `std::system_error` on the errors above.
  void hold(bool on_hold) const { throw_on(run(detail::ops::hold_op(on_hold)), "hold"); }
  /// Hold, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_hold(bool on_hold, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::hold_op(on_hold));
  }

  /// ITBasicCallControl::BlindTransfer: asks the far end to call `destination` instead (SIP: REFER,
  /// RFC 3515); completes when the far end has accepted the transfer (202); the call then ends with
  /// `disconnected` once the transfer's outcome arrives (NOTIFY) or the far end hangs up. Errors:
  /// `invalid_call_state` (not connected, offering or held); `invalid_address` (empty or unusable
  /// destination); `not_supported`; `not_owner`; `invalid_handle`; `request_failed` when refused.
  void blind_transfer(std::string_view destination, std::error_code& ec) const { ec = run(detail::ops::transfer_op(destination)); }
  /// BlindTransfer, throwing `std::system_error` on the errors above.
  void blind_transfer(std::string_view destination) const { throw_on(run(detail::ops::transfer_op(destination)), "blind_transfer"); }
  /// BlindTransfer, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_blind_transfer(std::string_view destination, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::transfer_op(destination));
  }

  /// ITBasicCallControl::SwapHold(pCall) (TSPI_lineSwapHold): puts this connected call on hold, then
  /// takes `held`, a held call of the same TAPI object, off hold, as `hold(true)` and `hold(false)` in
  /// that order (SIP: a re-INVITE in each dialog). Completes when the provider has done both; when the
  /// second step fails, this call stays held and the error is the second step's. Errors:
  /// `invalid_call_state` (this call not connected or `held` not on hold); `invalid_argument` (`held` is
  /// this call or a call of another TAPI object); `invalid_handle` (either handle stale or empty); those
  /// of `hold`.
  void swap_hold(const call& held, std::error_code& ec) const { ec = run(detail::ops::swap_op{held.backend_}); }
  /// SwapHold, throwing `std::system_error` on the errors above.
  void swap_hold(const call& held) const { throw_on(run(detail::ops::swap_op{held.backend_}), "swap_hold"); }
  /// SwapHold, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_swap_hold(const call& held, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::swap_op{held.backend_});
  }

  /// ITBasicCallControl::Transfer(pCall, fSync) (TSPI_lineSetupTransfer's role): starts a consultation
  /// transfer of this connected (or held) call to `consultation`, a call made with `address::create_call`
  /// on the same address's provider: this call is put on hold (unless held), then `consultation` is
  /// dialled (unless connected already) and flagged for `finish(finish_mode::as_transfer)`, which
  /// completes the transfer. Completes when `consultation` is connected. Errors: `invalid_call_state`
  /// (this call not connected or held, `consultation` neither idle nor connected); `invalid_argument`
  /// (`consultation` is this call, belongs to another TAPI object or provider, or has no destination:
  /// TAPI's E_INVALIDARG); `not_owner`; `invalid_handle`; those of `hold` and of `connect` on the
  /// consultation call. Any thread.
  void transfer(const call& consultation, std::error_code& ec) const { ec = run(detail::ops::consult_op{consultation.backend_}); }
  /// Transfer, throwing `std::system_error` on the errors above.
  void transfer(const call& consultation) const { throw_on(run(detail::ops::consult_op{consultation.backend_}), "transfer"); }
  /// Transfer, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_transfer(const call& consultation, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::consult_op{consultation.backend_});
  }

  /// ITBasicCallControl::Finish(FINISH_MODE) on a consultation call (TSPI_lineCompleteTransfer):
  /// `finish_mode::as_transfer` connects the far end of the primary call (the one `transfer` was called
  /// on) with the far end of this call, and both calls then end (SIP: REFER in the primary call's dialog
  /// whose Refer-To is this call's far end with `Replaces` naming this call's dialog, RFC 5589 §7 and RFC
  /// 3891; completes on the 202; the primary call ends with BYE once the NOTIFY reports the new call's
  /// 2xx, and this call when the far end replaces it). Errors: `invalid_call_state` when this call is not
  /// flagged by `transfer` (TAPI's rule) or the calls are not connected/held; `not_supported` by
  /// providers without TSPI_lineCompleteTransfer (the loopback provider);
  /// `request_failed` when the far end refuses the REFER; `timeout`; `not_owner`; `invalid_handle`.
  /// `finish_mode::as_conference` (TSPI_lineAddToConference's role) joins this call, flagged by
  /// `conference`, to the primary call's hub: the MSP mixes it with the others, the primary call is taken
  /// off hold if held (event call_joined; completes after the unhold). Errors: `invalid_call_state` when
  /// this call is not flagged by `conference` (a call flagged by `transfer` included, and the reverse), is
  /// not connected, or the primary call is neither connected nor held; `conference_full` when the hub
  /// filled up meanwhile (8 calls: this call stays connected, apart, and flagged); those of `hold`.
  void finish(finish_mode mode, std::error_code& ec) const { ec = run(detail::ops::finish_op{mode}); }
  /// Finish, throwing `std::system_error` on the errors above.
  void finish(finish_mode mode) const { throw_on(run(detail::ops::finish_op{mode}), "finish"); }
  /// Finish, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_finish(finish_mode mode, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::finish_op{mode});
  }

  /// ITBasicCallControl::Conference(pCall, fSync) (TSPI_lineSetupConference's role): starts a local
  /// conference of this connected (or held) call with `consultation`, a call made with
  /// `address::create_call` on the same address's provider, or adds `consultation` to the conference this
  /// call is already in. A call hub (`call::hub`) is made for this call unless it has one (events
  /// hub_created, call_joined); then this call is put on hold (unless held, already conferenced with
  /// others, who keep talking, `consultation` is connected already, as a call of its own, so that there
  /// is no ringing to wait through, or its provider has no hold: loopback), `consultation` is dialled (unless connected already) and flagged for
  /// `finish(finish_mode::as_conference)`, which joins it. Completes when `consultation` is connected.
  /// Errors: as `transfer` (`invalid_call_state`, `invalid_argument`, `not_owner`, `invalid_handle`, those
  /// of `hold` and `connect`); `not_supported` when the provider's MSP does not mix conferences;
  /// `conference_full` (TAPI_E_CONFERENCEFULL), before anything is dialled or held, when this call's hub
  /// already has `mspi::conference_bridge::max_parties` (8) calls. Any thread.
  void conference(const call& consultation, std::error_code& ec) const { ec = run(detail::ops::conference_op{consultation.backend_}); }
  /// Conference, throwing `std::system_error` on the errors above.
  void conference(const call& consultation) const { throw_on(run(detail::ops::conference_op{consultation.backend_}), "conference"); }
  /// Conference, asynchronously.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_conference(const call& consultation, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::conference_op{consultation.backend_});
  }

  /// ITBasicCallControl::RemoveFromConference (TSPI_lineRemoveFromConference's role): takes this call out of
  /// the local conference it is in. The MSP stops mixing it (its far end no longer hears the others, nor
  /// they it; the others go on hearing each other), it leaves its hub (events call_left, then hub_idle if it
  /// was the last) and stays connected as a two-party call with the local user (LINEADDRESSCAPS'
  /// dwRemoveFromConfState CONNECTED; `hold(true)` it if the user should not hear it meanwhile). Any member
  /// may leave, the call the conference was set up on included: each call is one far end, there is no
  /// separate conference call. Errors: `no_conference` when the call is in no hub (never conferenced, or
  /// left); `invalid_call_state` unless connected (e.g. the primary call held while its first consultation
  /// call rings); `not_owner` (monitor privilege); `invalid_handle`, `not_initialized`. Any thread.
  void remove_from_conference(std::error_code& ec) const { ec = run(detail::ops::remove_from_conference_op{}); }
  /// RemoveFromConference, throwing `std::system_error` on the errors above.
  void remove_from_conference() const { throw_on(run(detail::ops::remove_from_conference_op{}), "remove_from_conference"); }
  /// RemoveFromConference, asynchronously: the handler gets the errors above.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_remove_from_conference(Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::remove_from_conference_op{});
  }

  /// ITBasicCallControl::Dial (TSPI_lineDial): dials `destination` on the connected call. ptapi's providers
  /// have no dial tone to dial into (SIP sends the whole destination in the INVITE, RFC 3261 §8.1.1.1), so
  /// the digits go to the far end as DTMF, as `generate_digits` sends them (IVR menus, extensions, PINs;
  /// TE_GENERATEEVENT follows likewise). `destination` is a TAPI dialable string: `0-9 * # A-D` are dialled,
  /// the formatting characters ` ( ) - .` and `T` (tone dialling) are skipped, a final `;` (partial dial) is
  /// accepted. Errors: `dial_modifier_not_supported` for `,` `W` `@` `$` `!` `P` (pauses, waits and flash:
  /// TAPI_E_DIALMODIFIERNOTSUPPORTED); `invalid_address` for any other character or no digit; then those of
  /// `generate_digits` (`invalid_call_state` unless connected, `not_supported`, `not_owner`, `invalid_handle`).
  void dial(std::string_view destination, std::error_code& ec) const { ec = run(detail::ops::feature(detail::ops::kind::dial, destination)); }
  /// Dial, throwing `std::system_error` on the errors above.
  void dial(std::string_view destination) const { throw_on(run(detail::ops::feature(detail::ops::kind::dial, destination)), "dial"); }
  /// Dial, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_dial(std::string_view destination, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::feature(detail::ops::kind::dial, destination));
  }

  /// ITBasicCallControl::ParkDirect (TSPI_linePark, LINEPARKMODE_DIRECTED): parks the connected or held call
  /// at `park_address`, where any phone can retrieve it with `unpark`. SIP, as PBXs offer park (RFC 5359's
  /// Call Park example: the parked party is transferred to the park server): a REFER whose Refer-To is
  /// `park_address` (e.g. `sip:701@pbx`), as `blind_transfer`; completes on the 202, and the call then ends.
  /// Errors: `invalid_address` (empty or unusable `park_address`); `invalid_call_state` unless connected or
  /// held; `not_supported` by providers without TSPI_linePark (the loopback provider); `request_failed`
  /// when the far end refuses; `timeout`; `not_owner`; `invalid_handle`. Any thread.
  void park_direct(std::string_view park_address, std::error_code& ec) const { ec = run(detail::ops::feature(detail::ops::kind::park_direct, park_address)); }
  /// ParkDirect, throwing `std::system_error` on the errors above.
  void park_direct(std::string_view park_address) const { throw_on(run(detail::ops::feature(detail::ops::kind::park_direct, park_address)), "park_direct"); }
  /// ParkDirect, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_park_direct(std::string_view park_address, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::feature(detail::ops::kind::park_direct, park_address));
  }

  /// ITBasicCallControl::ParkIndirect (TSPI_linePark, LINEPARKMODE_NONDIRECTED): parks the call where the
  /// switch chooses and returns that address. No ptapi provider can learn it (SIP has no response that
  /// carries a park orbit; PBXs announce it by voice), so this always fails; AC_PARKSUPPORT says so (no
  /// LINEPARKMODE_NONDIRECTED). Errors: `invalid_call_state` unless connected or held; else `not_supported`;
  /// `not_owner`; `invalid_handle`. Returns the park address (empty on error).
  std::string park_indirect(std::error_code& ec) const {
    ec = run(detail::ops::feature(detail::ops::kind::park_indirect, {}));
    return {};
  }
  /// ParkIndirect, throwing `std::system_error` on the errors above.
  std::string park_indirect() const {
    std::error_code ec;
    auto address = park_indirect(ec);
    throw_on(ec, "park_indirect");
    return address;
  }
  /// ParkIndirect, asynchronously: completion signature `void(std::error_code, std::string)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code, std::string)) Token = detail::default_token>
  auto async_park_indirect(Token&& token = {}) const {
    return detail::initiate<std::string>(std::forward<Token>(token), backend_,
                                         [op = detail::ops::feature(detail::ops::kind::park_indirect, {})](detail::call_backend& b, auto d) {
                                           op(b, [d](std::error_code ec) { d(ec, std::string{}); });
                                         });
  }

  /// ITBasicCallControl::Unpark (TSPI_lineUnpark): places this idle call (made by `address::create_call`
  /// with the park address as destination) to retrieve the call parked there; `call_info::reason` becomes
  /// `call_reason::unpark` (TE_CALLINFOCHANGE `reason`) and the call then goes as `connect` does, completing
  /// when it is connected or has failed. SIP: an INVITE to the park address (the PBX connects the parked
  /// party). Errors: `invalid_call_state` unless idle; `not_supported` by providers without TSPI_lineUnpark
  /// (the loopback provider; the call stays idle); then those of `connect`. Any thread.
  void unpark(std::error_code& ec) const { ec = run(detail::ops::feature(detail::ops::kind::unpark, {})); }
  /// Unpark, throwing `std::system_error` on the errors above.
  void unpark() const { throw_on(run(detail::ops::feature(detail::ops::kind::unpark, {})), "unpark"); }
  /// Unpark, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_unpark(Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::feature(detail::ops::kind::unpark, {}));
  }

  /// ITBasicCallControl::Pickup(pGroupID) (TSPI_linePickup): places this idle call (made by
  /// `address::create_call`) to pick up the call alerting at its destination, or with `group_id` one alerting
  /// in that pickup group; `call_info::reason` becomes `call_reason::pickup` and the call goes as `connect`.
  /// SIP: an INVITE to the destination, the PBX's pickup address (e.g. `sip:*8@pbx`, or a directed pickup
  /// code with the extension); SIP has no group field, so a `group_id` gives `invalid_group_id`. Errors:
  /// `invalid_call_state` unless idle; `not_supported` by providers without TSPI_linePickup (loopback);
  /// `invalid_group_id`; then those of `connect`. Any thread.
  void pickup(std::string_view group_id, std::error_code& ec) const { ec = run(detail::ops::feature(detail::ops::kind::pickup, group_id)); }
  /// Pickup, throwing `std::system_error` on the errors above.
  void pickup(std::string_view group_id = {}) const { throw_on(run(detail::ops::feature(detail::ops::kind::pickup, group_id)), "pickup"); }
  /// Pickup, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_pickup(std::string_view group_id, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::feature(detail::ops::kind::pickup, group_id));
  }

  /// ITBasicCallControl::HandoffDirect(pApplicationName) (lineHandoff): gives ownership of the call to the
  /// named application. A TAPI object is one application and its providers serve it alone, so there is never
  /// another to hand off to: the call stays with this one. Errors: `invalid_argument` for an empty name;
  /// else `target_not_found` (TAPI_E_TARGETNOTFOUND); `not_owner`; `invalid_handle`. Any thread.
  void handoff_direct(std::string_view application, std::error_code& ec) const {
    ec = run(detail::ops::feature(detail::ops::kind::handoff_direct, application));
  }
  /// HandoffDirect, throwing `std::system_error` on the errors above.
  void handoff_direct(std::string_view application) const {
    throw_on(run(detail::ops::feature(detail::ops::kind::handoff_direct, application)), "handoff_direct");
  }
  /// HandoffDirect, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_handoff_direct(std::string_view application, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::feature(detail::ops::kind::handoff_direct, application));
  }

  /// ITBasicCallControl::HandoffIndirect(lMediaType) (lineHandoff by media mode): gives the call to the
  /// highest-priority other application handling `media`; as `handoff_direct`, there is none. Errors:
  /// `invalid_media_type` when `media` is not the call's; else `target_not_found`; `not_owner`;
  /// `invalid_handle`. Any thread.
  void handoff_indirect(mspi::media_type media, std::error_code& ec) const { ec = run(detail::ops::feature(detail::ops::kind::handoff_indirect, {}, media)); }
  /// HandoffIndirect, throwing `std::system_error` on the errors above.
  void handoff_indirect(mspi::media_type media) const {
    throw_on(run(detail::ops::feature(detail::ops::kind::handoff_indirect, {}, media)), "handoff_indirect");
  }
  /// HandoffIndirect, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_handoff_indirect(mspi::media_type media, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::feature(detail::ops::kind::handoff_indirect, {}, media));
  }

  /// ITBasicCallControl::SetQOS(lMediaType, ServiceLevel): the quality of service the call's `media` gets.
  /// TAPI 3 reserved bandwidth (RSVP); ptapi's RTP MSP marks the call's packets instead (DiffServ, RFC 2474:
  /// `mspi::dscp_of`, Expedited Forwarding for `needed` and `if_available`, default forwarding for
  /// `best_effort`, a new call's level), from the next packet on, before or during media. Errors:
  /// `invalid_media_type` when `media` is not the call's (`call_info::media`); `invalid_argument` for a
  /// level outside `mspi::qos_service_level`; `invalid_call_state` once disconnected; `not_supported` when
  /// the MSP cannot mark (AC_CALLFEATURES1 has no LINECALLFEATURE_SETQOS then); `not_owner`;
  /// `invalid_handle`. Any thread.
  void set_qos(mspi::media_type media, mspi::qos_service_level level, std::error_code& ec) const {
    ec = run(detail::ops::feature(detail::ops::kind::set_qos, {}, media, level));
  }
  /// SetQOS, throwing `std::system_error` on the errors above.
  void set_qos(mspi::media_type media, mspi::qos_service_level level) const {
    throw_on(run(detail::ops::feature(detail::ops::kind::set_qos, {}, media, level)), "set_qos");
  }
  /// SetQOS, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_set_qos(mspi::media_type media, mspi::qos_service_level level, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::feature(detail::ops::kind::set_qos, {}, media, level));
  }

  /// ITCallInfo2::put_EventFilter, for whole event kinds (TAPI's per-sub-event choice is not kept): with
  /// `enable` false, the events of the kinds in `events` that concern this call are not delivered, even when
  /// the TAPI object's filter (`tapi::set_event_filter`) lets them through; `true` lets them through again.
  /// A new call has every kind enabled. TE_CALLNOTIFICATION cannot be filtered per call (the call does not
  /// exist for the application before it). Errors: `invalid_argument` when `events` is none or has a kind
  /// outside `call_events`; `invalid_handle` (empty or released). Any thread; takes effect for events
  /// raised afterwards (one already queued for delivery is still delivered).
  void set_event_filter(tapi_event events, bool enable, std::error_code& ec) const {
    ec = backend_ ? backend_->check() : make_error_code(mspi::tapi_errc::invalid_handle);
    if (!ec && (events == tapi_event::none || (static_cast<std::uint32_t>(events) & ~static_cast<std::uint32_t>(call_events))))
      ec = mspi::tapi_errc::invalid_argument;
    if (!ec) backend_->filter_events(events, enable);
  }
  /// put_EventFilter, throwing `std::system_error` on the errors above.
  void set_event_filter(tapi_event events, bool enable) const {
    std::error_code ec;
    set_event_filter(events, enable, ec);
    throw_on(ec, "set_event_filter");
  }
  /// ITCallInfo2::get_EventFilter: true when this call's filter lets every kind in `events` through (the
  /// TAPI object's filter aside); false for an empty handle. Never throws; any thread.
  [[nodiscard]] bool event_filter(tapi_event events) const noexcept {
    const auto mask = static_cast<std::uint32_t>(events);
    return backend_ && (static_cast<std::uint32_t>(backend_->event_filter()) & mask) == mask;
  }

  /// ITCallInfo::put_CallInfoString: sets one of the strings TAPI's LINECALLPARAMS carry when the call is
  /// placed (`settable(item)`: CIS_CALLINGPARTYID, CIS_COMMENT, CIS_DISPLAYABLEADDRESS,
  /// CIS_CALLEDPARTYFRIENDLYNAME; see those `call_info` members for what the SIP provider makes of each),
  /// on an idle outgoing call, before `connect`; an empty `value` clears it. A change raises
  /// TE_CALLINFOCHANGE (`call_info_change_cause::other`). Read them back with `info_string(info(), item)`
  /// (get_CallInfoString). Errors: `invalid_argument` for an item that is not settable, or a value longer than
  /// `max_info_string_size` bytes or holding a control character (CR, LF, NUL...); `invalid_call_state`
  /// unless idle; `not_owner`; `invalid_handle`. Any thread.
  void set_info_string(call_info_string item, std::string_view value, std::error_code& ec) const {
    ec = run(detail::ops::info_string_op(item, value));
  }
  /// put_CallInfoString, throwing `std::system_error` on the errors above.
  void set_info_string(call_info_string item, std::string_view value) const {
    throw_on(run(detail::ops::info_string_op(item, value)), "set_info_string");
  }
  /// put_CallInfoString, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_set_info_string(call_info_string item, std::string_view value, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::info_string_op(item, value));
  }

  /// ITCallInfo::put_CallInfoLong(CIL_APPSPECIFIC) (lineSetAppSpecific): stores the application's own
  /// 32-bit value on the call (`call_info::app_specific`); every application's handles see it, and a change
  /// raises TE_CALLINFOCHANGE with `call_info_change_cause::app_specific`. No provider is involved.
  /// Errors: `not_owner` (monitor privilege), `invalid_handle`, `not_initialized`. Any thread.
  void set_app_specific(std::uint32_t value, std::error_code& ec) const { ec = run(detail::ops::app_specific_op{value}); }
  /// put_CallInfoLong(CIL_APPSPECIFIC), throwing `std::system_error` on the errors above.
  void set_app_specific(std::uint32_t value) const { throw_on(run(detail::ops::app_specific_op{value}), "set_app_specific"); }
  /// put_CallInfoLong(CIL_APPSPECIFIC), asynchronously: the handler gets the errors above.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_set_app_specific(std::uint32_t value, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::app_specific_op{value});
  }

  /// ITCallInfo::put_CallInfoLong: sets `item`, one of the three that `settable(call_info_long)` names:
  /// CIL_APPSPECIFIC as `set_app_specific` does (owner only; TE_CALLINFOCHANGE), CIL_MONITORDIGITMODES as
  /// `detect_digits` does (a monitor may too), CIL_GENERATEDIGITDURATION (owner only; ms, 0 or
  /// `mspi::min_digit_duration_ms`..`max_digit_duration_ms`): the duration of each digit and pause of the
  /// call's later `generate_digits` and `dial` requests that name none (0: the MSP's default timing). Read
  /// the items with `info_long(call.info(), item)`. Errors: `invalid_argument` for any other item (TAPI's
  /// E_INVALIDARG) or a duration out of range; those of `set_app_specific` and `detect_digits`. Any thread.
  void set_info_long(call_info_long item, std::uint32_t value, std::error_code& ec) const {
    ec = run(detail::ops::info_long_op(item, value));
  }
  /// put_CallInfoLong, throwing `std::system_error` on the errors above.
  void set_info_long(call_info_long item, std::uint32_t value) const {
    throw_on(run(detail::ops::info_long_op(item, value)), "set_info_long");
  }
  /// put_CallInfoLong, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_set_info_long(call_info_long item, std::uint32_t value, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::info_long_op(item, value));
  }

  /// ITCallInfo::SetCallInfoBuffer: sets `item`'s bytes (any byte, `bytes.size()` of them), one of the two
  /// that `settable(call_info_buffer)` names: CIB_USERUSERINFO before Connect (at most
  /// `max_user_user_info_size`; the SIP provider sends it as the INVITE's User-to-User header, hex-encoded,
  /// RFC 7433 §4.1; the loopback provider does not carry it), CIB_CALLDATABUFFER at any time (at most
  /// `max_call_data_size`; kept in the TAPI object). A change raises TE_CALLINFOCHANGE (`user_user_info`,
  /// `call_data`). Read them with `info_buffer(call.info(), item)`. Errors: `invalid_argument` for another
  /// item or too many bytes; `invalid_call_state` for user-user information once the call left idle;
  /// `not_owner`; `invalid_handle`. Any thread.
  void set_info_buffer(call_info_buffer item, std::string_view bytes, std::error_code& ec) const {
    ec = run(detail::ops::info_buffer_op(item, bytes));
  }
  /// SetCallInfoBuffer, throwing `std::system_error` on the errors above.
  void set_info_buffer(call_info_buffer item, std::string_view bytes) const {
    throw_on(run(detail::ops::info_buffer_op(item, bytes)), "set_info_buffer");
  }
  /// SetCallInfoBuffer, asynchronously: completion signature `void(std::error_code)`.
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_set_info_buffer(call_info_buffer item, std::string_view bytes, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, detail::ops::info_buffer_op(item, bytes));
  }

  /// ITCallInfo::get_CallHub: the hub of the local conference this call is in (see `call::conference`),
  /// or an empty handle when it is in none (also after it left: a call leaves its hub when it disconnects).
  /// Defined in call_hub.hpp. Any thread.
  [[nodiscard]] call_hub hub() const;

  /// The call's streams (ITStreamControl, aggregated from the MSP call). Error: `invalid_handle`.
  [[nodiscard]] std::shared_ptr<mspi::stream_control> stream_control(std::error_code& ec) const {
    ec = backend_ ? backend_->check() : make_error_code(mspi::tapi_errc::invalid_handle);
    return ec ? nullptr : backend_->streams();
  }
  /// ITStreamControl, throwing `std::system_error` when stale.
  [[nodiscard]] std::shared_ptr<mspi::stream_control> stream_control() const {
    std::error_code ec;
    auto s = stream_control(ec);
    mspi::throw_if(ec, "stream_control");
    return s;
  }

  /// ITBasicCallControl2::SelectTerminalOnCall: selects `t` on the call's stream of the terminal's media
  /// type and direction. Errors: those of `mspi::stream_control::select_terminal_on_call`, `invalid_handle`.
  void select_terminal_on_call(const mspi::terminal_ptr& t, std::error_code& ec) const {
    if (auto sc = stream_control(ec)) sc->select_terminal_on_call(t, ec);
  }
  /// SelectTerminalOnCall, throwing `std::system_error`.
  void select_terminal_on_call(const mspi::terminal_ptr& t) const {
    std::error_code ec;
    select_terminal_on_call(t, ec);
    mspi::throw_if(ec, "select_terminal_on_call");
  }
  /// ITBasicCallControl2::UnselectTerminalOnCall.
  void unselect_terminal_on_call(const mspi::terminal_ptr& t, std::error_code& ec) const {
    if (auto sc = stream_control(ec)) sc->unselect_terminal_on_call(t, ec);
  }
  /// UnselectTerminalOnCall, throwing `std::system_error`.
  void unselect_terminal_on_call(const mspi::terminal_ptr& t) const {
    std::error_code ec;
    unselect_terminal_on_call(t, ec);
    mspi::throw_if(ec, "unselect_terminal_on_call");
  }

  /// Releases a disconnected call now, while handles remain: the provider frees it (TSPI_lineCloseCall)
  /// and this handle, and every copy, becomes stale (dropping them later is harmless). Optional: a
  /// disconnected call is released anyway when its last handle goes (see Lifetime above).
  /// Errors: `invalid_call_state` unless disconnected; `invalid_handle` (also when already released).
  void release(std::error_code& ec) const {
    ec = backend_ ? backend_->release() : make_error_code(mspi::tapi_errc::invalid_handle);
  }
  /// Release, throwing `std::system_error`.
  void release() const {
    std::error_code ec;
    release(ec);
    mspi::throw_if(ec, "release");
  }

 private:
  template <class Op>
  std::error_code run(Op op) const {
    return detail::ops::run(backend_, std::move(op));
  }
  static void throw_on(std::error_code ec, const char* what) { mspi::throw_if(ec, what); }

  std::shared_ptr<detail::call_backend> backend_;
  friend class address;
  friend class legacy_call_media_control<call>;
};

}  // namespace tspi

// call::address() returns an address: defined in address.hpp, which this brings in.
#include <tspi/address.hpp>
// call::hub() returns a call_hub: defined in call_hub.hpp.
#include <tspi/call_hub.hpp>
