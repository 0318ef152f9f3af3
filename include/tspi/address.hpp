// ptapi - portable TAPI
// tspi/address.hpp: the address object (ITAddress, ITMediaSupport, ITTerminalSupport on one handle).
#pragma once

#include <tspi/address_capabilities.hpp>
#include <tspi/call.hpp>
#include <tspi/detail/backends.hpp>
#include <tspi/forward.hpp>
#include <tspi/tsp.hpp>

#include <mspi/error.hpp>
#include <mspi/media_types.hpp>
#include <mspi/terminal_support.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tspi {

/// An address (TAPI's `ITAddress`): one line/address of a registered provider pair, where calls are
/// made and arrive. A cheap, copyable handle; `tapi::addresses()` lists them.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe; any thread may call any member.
class address {
 public:
  /// An empty handle.
  address() = default;
  /// Wraps a backend (the TAPI object makes addresses).
  explicit address(std::shared_ptr<detail::address_backend> backend) : backend_(std::move(backend)) {}

  /// True unless default-constructed.
  [[nodiscard]] explicit operator bool() const noexcept { return backend_ != nullptr; }
  /// Handles are equal when they refer to the same address.
  friend bool operator==(const address& a, const address& b) noexcept { return a.backend_ == b.backend_; }

  /// ITAddress::get_AddressName
  [[nodiscard]] const std::string& name() const { return backend().info().name; }
  /// ITAddress::get_DialableAddress
  [[nodiscard]] const std::string& dialable_address() const { return backend().info().dialable_address; }
  /// ITAddress::get_ServiceProviderName: the TSP's name.
  [[nodiscard]] std::string_view provider_name() const { return backend().provider_name(); }
  /// ITAddress::get_State
  [[nodiscard]] address_state state() const { return backend().state(); }
  /// ITMediaSupport::get_MediaTypes
  [[nodiscard]] mspi::media_type media_types() const { return backend().info().media; }
  /// ITMediaSupport::QueryMediaType: true when calls on this address can carry all of `media`.
  [[nodiscard]] bool query_media_type(mspi::media_type media) const { return mspi::contains(media_types(), media); }
  /// The capabilities the provider reports (LINEADDRESSCAPS subset).
  [[nodiscard]] const address_info& capabilities() const { return backend().info(); }
  /// ITAddressCapabilities::get_AddressCapability: the value of `cap` for this address, from its provider
  /// pair's abilities (what each value is: `address_capability_value`), e.g. `capability(address_capability::
  /// call_features1) & line_call_feature::hold`. Errors: `invalid_handle` on an empty handle,
  /// `invalid_argument` for a value outside `address_capability`. Thread safety: any thread; does not block.
  [[nodiscard]] std::uint32_t capability(tspi::address_capability cap, std::error_code& ec) const {
    ec = !backend_ ? std::error_code(mspi::tapi_errc::invalid_handle)
         : static_cast<int>(cap) > static_cast<int>(tspi::address_capability::generate_digit_default_duration)
             ? std::error_code(mspi::tapi_errc::invalid_argument)
             : std::error_code();
    return ec ? 0 : backend_->capability(cap);
  }
  /// ITAddressCapabilities::get_AddressCapability, throwing `std::system_error` on the errors above.
  [[nodiscard]] std::uint32_t capability(tspi::address_capability cap) const {
    std::error_code ec;
    const auto v = capability(cap, ec);
    mspi::throw_if(ec, "capability");
    return v;
  }
  /// ITAddressCapabilities::get_AddressCapabilityString: the text of `cap` (`address_capability_text`: the
  /// protocol, e.g. "SIP", and the provider's name; the others empty). Errors as `capability`.
  [[nodiscard]] std::string capability_string(tspi::address_capability_string cap, std::error_code& ec) const {
    ec = !backend_ ? std::error_code(mspi::tapi_errc::invalid_handle)
         : static_cast<int>(cap) > static_cast<int>(tspi::address_capability_string::permanent_device_guid)
             ? std::error_code(mspi::tapi_errc::invalid_argument)
             : std::error_code();
    return ec ? std::string() : backend_->capability_string(cap);
  }
  /// ITAddressCapabilities::get_AddressCapabilityString, throwing `std::system_error` on the errors above.
  [[nodiscard]] std::string capability_string(tspi::address_capability_string cap) const {
    std::error_code ec;
    auto v = capability_string(cap, ec);
    mspi::throw_if(ec, "capability_string");
    return v;
  }

  /// ITAddress::CreateCall: a new outgoing call in state idle, with its MSP call and default streams
  /// (one capture and one render stream per media type). `destination` is what the provider dials.
  /// Errors: `invalid_media_type` when the address cannot carry `media`; `invalid_address` for an empty
  /// destination; `invalid_address_state` when out of service (an address whose provider must register
  /// it first, e.g. a SIP account with a registrar, is out of service until its registration succeeds and
  /// again after it fails: wait for the `tapi_event::address` event of kind `address_event_kind::state`
  /// with `state() == address_state::in_service`, bounded by the registration's own timeout, then create
  /// the call; `sip_config::on_registration` tells the registrar's status); `not_initialized` after shutdown;
  /// `call_unavailable` when the address has its maximum of active calls or its MSP no room (e.g.
  /// `rtp_opus_config::max_calls`, descriptors near `RLIMIT_NOFILE`); the resource error (e.g.
  /// `std::errc::too_many_files_open`, `not_enough_memory`) when the MSP call cannot be set up. Never
  /// throws in this form. The call is released once it is over and its last handle is gone (see `call`).
  [[nodiscard]] call create_call(std::string_view destination, mspi::media_type media, std::error_code& ec) {
    if (!backend_) {
      ec = mspi::tapi_errc::invalid_handle;
      return {};
    }
    return call(backend_->create_call(destination, media, ec));
  }
  /// ITAddress::CreateCall, throwing `std::system_error` on the errors above.
  [[nodiscard]] call create_call(std::string_view destination, mspi::media_type media = mspi::media_type::audio) {
    std::error_code ec;
    auto c = create_call(destination, media, ec);
    mspi::throw_if(ec, "create_call");
    return c;
  }

  /// ITAddress::EnumerateCalls: the calls on this address not yet released. The handles count as
  /// references (see `call`): a disconnected call listed here is released once they are dropped.
  [[nodiscard]] std::vector<call> calls() const {
    std::vector<call> out;
    for (auto& b : backend().calls()) out.emplace_back(std::move(b));
    return out;
  }

  /// ITAddress::Forward (TSPI_lineForward): replaces the address's forwarding with `f`'s rules; an empty
  /// `f` turns forwarding off. Completes when the provider has taken the rules. The SIP provider applies
  /// them to calls arriving afterwards: `unconditional` answers the INVITE with 302 at once (the
  /// application never sees the call), `busy` replaces the 486/503 of a busy address (no room, or the
  /// application dropping the offered call with `disconnect_code::normal`), `no_answer` answers 302 once
  /// `num_rings_no_answer` rings of `sip_config::ring_period` have passed (the offered call then ends,
  /// `disconnected` with `disconnect_normal`: LINEDISCONNECTMODE_FORWARDED); the 302 carries a Diversion header (RFC 5806) naming this
  /// address and the reason, its Contact the RFC 4458 cause. The loopback provider sends the call on to
  /// the destination address in the same three cases (`loopback_tsp`'s table). The `*_specific` rules
  /// apply to their caller only and take precedence.
  /// Errors: `invalid_address` (an empty destination, or one the provider cannot dial); `invalid_argument`
  /// (a `*_specific` rule without a caller or another rule with one, more than `max_forward_rings` (100)
  /// rings, more than `max_forward_entries` (64) rules);
  /// `not_supported` by a provider without forwarding; `not_initialized`; `invalid_handle`.
  /// Thread safety: any thread; blocks until the provider answers (use `async_forward` on an event handler).
  void forward(const forward_information& f, std::error_code& ec) const {
    ec = backend_ ? detail::wait_for([&](detail::completion done) { backend_->forward(f, std::move(done)); })
                  : make_error_code(mspi::tapi_errc::invalid_handle);
  }
  /// Forward, throwing `std::system_error` (naming "forward") on the errors above.
  void forward(const forward_information& f) const {
    std::error_code ec;
    forward(f, ec);
    mspi::throw_if(ec, "forward");
  }
  /// Forward, asynchronously: completion `void(std::error_code)` on the handler's associated executor
  /// (default: the TAPI object's event executor).
  template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(std::error_code)) Token = detail::default_token>
  auto async_forward(forward_information f, Token&& token = {}) const {
    return detail::initiate(std::forward<Token>(token), backend_, forward_op{std::move(f)});
  }
  /// ITAddress::get_CurrentForwardInfo: the rules the provider last accepted (none at first). Any thread.
  [[nodiscard]] forward_information current_forward_info() const { return backend().current_forward(); }

  /// ITTerminalSupport: static (device) terminals, default terminals, dynamic terminal creation.
  [[nodiscard]] mspi::terminal_support& terminals() const { return backend_nonconst().terminals(); }

 private:
  friend class tapi;
  struct forward_op {
    forward_information f;
    void operator()(detail::address_backend& b, detail::completion d) const { b.forward(f, std::move(d)); }
  };
  // The backend (for the TAPI object).
  [[nodiscard]] const std::shared_ptr<detail::address_backend>& backend_ptr() const noexcept { return backend_; }
  [[nodiscard]] const detail::address_backend& backend() const {
    if (!backend_) throw std::system_error(mspi::tapi_errc::invalid_handle, "address");
    return *backend_;
  }
  [[nodiscard]] detail::address_backend& backend_nonconst() const {
    if (!backend_) throw std::system_error(mspi::tapi_errc::invalid_handle, "address");
    return *backend_;
  }
  std::shared_ptr<detail::address_backend> backend_;
};

inline address call::address() const {
  std::error_code ec = backend_ ? backend_->check() : make_error_code(mspi::tapi_errc::invalid_handle);
  mspi::throw_if(ec, "call_address");
  return tspi::address(backend_->address());
}

}  // namespace tspi
