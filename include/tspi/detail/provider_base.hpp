// ptapi - portable TAPI
// tspi/detail/provider_base.hpp: the type-erased control plane of one registered TSP/MSP pair, as the
// TAPI object's core sees it (provider_pair.hpp implements it).
#pragma once

#include <tspi/address_capabilities.hpp>
#include <tspi/call_state.hpp>
#include <tspi/detail/backends.hpp>
#include <tspi/tsp.hpp>

#include <mspi/media_types.hpp>
#include <mspi/qos.hpp>
#include <mspi/stream_control.hpp>
#include <mspi/terminal_support.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <system_error>
#include <vector>

namespace tspi::detail {

class core;

/// The control plane of one registered TSP/MSP pair, type-erased for the core. The pair itself
/// (provider_pair.hpp) binds the TSP to its MSP at compile time and routes the channel between them.
class provider_base {
 public:
  virtual ~provider_base() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  virtual void initialize(core& c, std::error_code& ec) = 0;
  virtual void shutdown() = 0;
  [[nodiscard]] virtual std::vector<address_info> addresses() const = 0;
  virtual std::shared_ptr<mspi::stream_control> create_msp_call(std::size_t address_id, call_id call,
                                                                mspi::media_type media, std::error_code& ec) = 0;
  virtual void shutdown_msp_call(call_id call) = 0;
  virtual mspi::terminal_support& terminals(std::size_t address_id) = 0;
  /// TSPI_lineMakeCall, with the application's strings when the TSP takes them (`has_call_params`).
  virtual void make_call(request_id req, std::size_t address_id, call_id call, std::string_view destination,
                         mspi::media_type media, const call_params& params) = 0;
  virtual void answer(request_id req, call_id call) = 0;
  virtual void drop(request_id req, call_id call, disconnect_code code) = 0;
  virtual void close_call(call_id call) = 0;
  virtual void control(request_id req, call_id call, const call_request& r) = 0;
  /// TSPI_lineUnpark / TSPI_linePickup: place `call` (idle, as `make_call`) to retrieve or pick up a call;
  /// not_supported (through the core's completion) when the TSP lacks the member. Core thread.
  virtual void unpark(request_id req, std::size_t address_id, call_id call, std::string_view destination,
                      mspi::media_type media) = 0;
  virtual void pickup(request_id req, std::size_t address_id, call_id call, std::string_view destination,
                      std::string_view group_id, mspi::media_type media) = 0;
  /// ITBasicCallControl::SetQOS's media half: the MSP call's `set_qos(level)`; `not_supported` when the MSP
  /// call has none, `invalid_call_state` when the call has no MSP call (shut down). Core thread.
  virtual std::error_code qos_media(call_id call, mspi::qos_service_level level) = 0;
  /// TSPI_lineForward, or not_supported (through the core's completion) when the TSP lacks it.
  virtual void forward(request_id req, std::size_t address_id, const forward_information& f) = 0;
  /// Whether the MSP mixes local conferences (it has `create_conference_bridge`; see mspi::conference_bridge).
  [[nodiscard]] virtual bool local_conference() const = 0;
  /// Joins `call`'s MSP call to the MSP's conference bridge number `hub` (`join`), or takes it out; through
  /// the TSP <-> MSP channel (`conference_join` / `conference_leave`). Core thread.
  virtual void conference_media(call_id call, std::uint64_t hub, bool join) = 0;
  /// Hands a tone request of `call` to its MSP call directly (tones are media only; TSPI_lineGenerateTone
  /// and TSPI_lineMonitorTones' roles): the MSP call's `generate_tone` / `detect_tones`. Returns their
  /// error, `tapi_errc::not_supported` when the MSP has no such members, `invalid_call_state` when the
  /// call has no MSP call (shut down). Core thread.
  virtual std::error_code tone_media(call_id call, const tone_media_request& r) = 0;
  /// What the pair can do (its TSP's and MSP's optional members, the MSP's configuration): what the
  /// addresses' ITAddressCapabilities values are computed from. Any thread (constant after construction).
  [[nodiscard]] virtual provider_features features() const = 0;
  /// Diagnostic: per-call entries the pair keeps (MSP calls, MSP data held for the TSP, calls the TSP
  /// knows); 0 once every call is released. Core thread.
  [[nodiscard]] virtual std::size_t call_entries() const = 0;
};

}  // namespace tspi::detail
