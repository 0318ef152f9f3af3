// ptapi - portable TAPI
// mspi/msp.hpp: the contract of a Media Service Provider (ITMSPAddress), checked by a C++20 concept.
#pragma once

#include <mspi/media_pool.hpp>
#include <mspi/media_types.hpp>
#include <mspi/msp_event.hpp>
#include <mspi/stream_control.hpp>
#include <mspi/terminal_support.hpp>

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>

namespace mspi {

/// What the TAPI object hands an MSP address at `initialize` (ITMSPAddress::Initialize).
struct msp_context {
  std::string address_name{};           ///< The address this MSP instance serves.
  std::function<void()> event_signal{}; ///< Call after queuing events (TAPI's `hEvent`); safe from any thread.
  /// The paired TSP's signalling address (its optional `media_address()`, e.g. the SIP listen address);
  /// an MSP whose own settings name no address binds and offers media there. Empty: none given.
  std::string signalling_address{};
  /// The TAPI object's media threads, shared by all its MSP addresses (see `media_pool`); null: the MSP
  /// makes threads of its own. It outlives the MSP's `shutdown` (the TAPI object stops it afterwards).
  std::shared_ptr<media_pool> media = nullptr;
  /// True when the paired TSP's signalling is protected (SIP over TLS, RFC 3261 §26) for every call of this
  /// address, so that keys in the SDP (SDES, RFC 4568 §8.1) stay secret; from the TSP's optional
  /// `signalling_secured()` member. False (default): SDES only where the MSP's settings allow it anyway.
  bool signalling_secured = false;
};

/// The MSP contract (TAPI's `ITMSPAddress`, plus `ITTerminalSupport` on the same object).
///
/// A type `M` models it when it has:
/// - `M::config_type` and a constructor `M(const M::config_type&)`;
/// - `M::call_type`, its MSP call object, derived from `mspi::stream_control` (ITStreamControl);
/// - `initialize(const msp_context&, std::error_code&)` / `shutdown()` (ITMSPAddress::Initialize/Shutdown);
/// - `create_msp_call(msp_handle, media_type, std::error_code&)` returning `std::shared_ptr<M::call_type>`
///   with the default streams made (ITMSPAddress::CreateMSPCall; `invalid_media_type` when unsupported);
/// - `shutdown_msp_call(const std::shared_ptr<M::call_type>&)` (ITMSPAddress::ShutdownMSPCall);
/// - `receive_tsp_data(const std::shared_ptr<M::call_type>&, std::span<const std::byte>)`, the call being
///   null for address-level data (ITMSPAddress::ReceiveTSPData);
/// - `get_event(std::error_code&)` returning `std::optional<msp_event>`, `no_event` when empty
///   (ITMSPAddress::GetEvent);
/// - `terminals()` returning `mspi::terminal_support&` (ITTerminalSupport);
/// - `media_types()` returning the `media_type` mask it supports (ITMediaSupport::get_MediaTypes).
///
/// The TAPI object calls every member from its own thread, one call at a time; the MSP's media may run
/// on threads of its own.
template <class M>
concept media_service_provider =
    requires { typename M::config_type; typename M::call_type; } &&
    std::derived_from<typename M::call_type, stream_control> &&
    std::constructible_from<M, const typename M::config_type&> &&
    requires(M& m, const M& cm, const msp_context& ctx, msp_handle h, media_type mt, std::error_code& ec,
             const std::shared_ptr<typename M::call_type>& call, std::span<const std::byte> data) {
      { m.initialize(ctx, ec) } -> std::same_as<void>;
      { m.shutdown() } -> std::same_as<void>;
      { m.create_msp_call(h, mt, ec) } -> std::same_as<std::shared_ptr<typename M::call_type>>;
      { m.shutdown_msp_call(call) } -> std::same_as<void>;
      { m.receive_tsp_data(call, data) } -> std::same_as<void>;
      { m.get_event(ec) } -> std::same_as<std::optional<msp_event>>;
      { m.terminals() } -> std::same_as<terminal_support&>;
      { cm.media_types() } -> std::same_as<media_type>;
    };

}  // namespace mspi
