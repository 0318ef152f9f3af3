// ptapi - portable TAPI
// tspi/detail/backends.hpp: what the call and address handles talk to (implemented by the TAPI object's
// core). Control plane only: media never goes through these.
#pragma once

#include <tspi/address_capabilities.hpp>
#include <tspi/call_info.hpp>
#include <tspi/call_info_buffer.hpp>
#include <tspi/call_info_long.hpp>
#include <tspi/call_state.hpp>
#include <tspi/digit_gathering.hpp>
#include <tspi/tapi_event.hpp>
#include <tspi/tsp.hpp>

#include <mspi/media_types.hpp>
#include <mspi/qos.hpp>
#include <mspi/stream_control.hpp>
#include <mspi/terminal_support.hpp>
#include <mspi/tones.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

namespace tspi {

namespace detail {

/// Completion of a call-control request, called on the TAPI object's thread.
using completion = std::function<void(std::error_code)>;
/// Completion of a digit gathering, called on the TAPI object's thread.
using gather_completion = std::function<void(std::error_code, gathered_digits)>;

class address_backend;
class hub_backend;

/// A tone request for a call's MSP: GenerateTone / GenerateCustomTones, or a DetectTones list.
using tone_media_request = std::variant<mspi::tone_generation, std::vector<mspi::detect_tone>>;

/// One of ITBasicCallControl's less common requests, for `call_backend::feature` (see call.hpp).
struct call_feature_request {
  enum class kind : std::uint8_t {
    dial,              // Dial: `argument` is the dialable string
    park_direct,       // ParkDirect: `argument` is the park address
    park_indirect,     // ParkIndirect
    unpark,            // Unpark
    pickup,            // Pickup: `argument` is the group ID
    handoff_direct,    // HandoffDirect: `argument` is the application's name
    handoff_indirect,  // HandoffIndirect: `media`
    set_qos,           // SetQOS: `media`, `level`
    set_info_string,   // put_CallInfoString: `item`, `argument`
    detect_digits,     // DetectDigits: `value` (LINEDIGITMODE_ bits)
    set_info_long,     // put_CallInfoLong: `long_item`, `value`
    set_info_buffer,   // SetCallInfoBuffer: `buffer_item`, `argument` (the bytes)
  };
  kind what = kind::dial;
  std::string argument;
  mspi::media_type media = mspi::media_type::none;
  mspi::qos_service_level level = mspi::qos_service_level::best_effort;
  call_info_string item = call_info_string::comment;
  call_info_long long_item = call_info_long::app_specific;
  call_info_buffer buffer_item = call_info_buffer::call_data;
  std::uint32_t value = 0;
};

/// The call object behind a `tspi::call` handle.
class call_backend {
 public:
  virtual ~call_backend() = default;
  [[nodiscard]] virtual call_info info() const = 0;
  [[nodiscard]] virtual call_state state() const = 0;  // info().state without reading the streams
  [[nodiscard]] virtual std::error_code check() const = 0;  // stale or shut down?
  virtual void connect(completion done) = 0;
  virtual void answer(completion done) = 0;
  virtual void disconnect(disconnect_code code, completion done) = 0;
  virtual void control(call_request r, completion done) = 0;
  virtual void swap_hold(std::shared_ptr<call_backend> held, completion done) = 0;
  virtual void transfer(std::shared_ptr<call_backend> consultation, completion done) = 0;  // Transfer
  virtual void finish(finish_mode mode, completion done) = 0;                               // Finish
  virtual void conference(std::shared_ptr<call_backend> consultation, completion done) = 0;  // Conference
  virtual void remove_from_conference(completion done) = 0;                                   // RemoveFromConference
  [[nodiscard]] virtual std::shared_ptr<hub_backend> hub() const = 0;                        // get_CallHub
  virtual void gather_digits(gather_digits_options options, gather_completion done) = 0;
  virtual void cancel_gather() = 0;  // ends the gathering in progress, if any, with `cancel`
  virtual void tones(tone_media_request r, completion done) = 0;  // GenerateTone(s) / DetectTones
  virtual void set_app_specific(std::uint32_t value, completion done) = 0;  // put_CallInfoLong(CIL_APPSPECIFIC)
  virtual void feature(call_feature_request r, completion done) = 0;         // Dial, Park*, Unpark, Pickup, Handoff*, SetQOS
  [[nodiscard]] virtual tapi_event event_filter() const = 0;                 // ITCallInfo2::get_EventFilter (any thread)
  virtual void filter_events(tapi_event events, bool enable) = 0;            // ITCallInfo2::put_EventFilter (any thread)
  virtual std::error_code release() = 0;
  [[nodiscard]] virtual std::shared_ptr<mspi::stream_control> streams() const = 0;
  [[nodiscard]] virtual std::shared_ptr<address_backend> address() const = 0;
  [[nodiscard]] virtual boost::asio::any_io_executor executor() const = 0;
};

/// The call hub object behind a `tspi::call_hub` handle (ITCallHub).
class hub_backend {
 public:
  virtual ~hub_backend() = default;
  [[nodiscard]] virtual std::uint64_t id() const = 0;
  [[nodiscard]] virtual std::vector<std::shared_ptr<call_backend>> calls() const = 0;
  [[nodiscard]] virtual bool idle() const = 0;
  virtual void clear(completion done) = 0;                                   // ITCallHub::Clear
  [[nodiscard]] virtual boost::asio::any_io_executor executor() const = 0;   // where async forms complete
};

/// The address object behind a `tspi::address` handle.
class address_backend {
 public:
  virtual ~address_backend() = default;
  [[nodiscard]] virtual const address_info& info() const = 0;
  [[nodiscard]] virtual std::string_view provider_name() const = 0;
  [[nodiscard]] virtual address_state state() const = 0;
  virtual std::shared_ptr<call_backend> create_call(std::string_view destination, mspi::media_type media,
                                                    std::error_code& ec) = 0;
  [[nodiscard]] virtual std::vector<std::shared_ptr<call_backend>> calls() const = 0;
  virtual mspi::terminal_support& terminals() = 0;
  virtual void forward(forward_information f, completion done) = 0;          // ITAddress::Forward
  [[nodiscard]] virtual forward_information current_forward() const = 0;     // get_CurrentForwardInfo
  [[nodiscard]] virtual std::uint32_t capability(address_capability cap) const = 0;          // get_AddressCapability
  [[nodiscard]] virtual std::string capability_string(address_capability_string cap) const = 0;  // ...String
  [[nodiscard]] virtual boost::asio::any_io_executor executor() const = 0;   // where async forms complete
};

/// Runs `start(done)` and blocks the calling thread until `done` is called (on the TAPI object's
/// thread); returns the code it was called with. The synchronous form of every operation.
template <class Start>
std::error_code wait_for(Start&& start) {
  std::promise<std::error_code> promise;
  auto result = promise.get_future();
  std::forward<Start>(start)([&promise](std::error_code ec) { promise.set_value(ec); });
  return result.get();
}

/// `wait_for` for an operation that completes with a result beside the code: returns the code and
/// stores the result in `out`.
template <class Result, class Start>
std::error_code wait_for_result(Result& out, Start&& start) {
  std::promise<std::pair<std::error_code, Result>> promise;
  auto result = promise.get_future();
  std::forward<Start>(start)([&promise](std::error_code ec, Result r) { promise.set_value({ec, std::move(r)}); });
  auto [ec, r] = result.get();
  out = std::move(r);
  return ec;
}

}  // namespace detail
}  // namespace tspi
