// ptapi - portable TAPI
// tspi/tsp.hpp: the contract of a Telephony Service Provider (the TSPI essentials), checked by a C++20
// concept, and the callbacks a TSP makes into the TAPI object (LINEEVENT, ASYNC_COMPLETION).
#pragma once

#include <tspi/call_info.hpp>
#include <tspi/call_state.hpp>
#include <tspi/digit_generation.hpp>
#include <tspi/forward.hpp>

#include <mspi/media_types.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tspi {

/// TSPI's `DRV_REQUESTID`: identifies one asynchronous request until its `completion`.
using request_id = std::uint64_t;
/// TSPI's `HTAPICALL`: the TAPI object's handle of a call, given to the TSP. Never 0, never reused.
using call_id = std::uint64_t;

/// TAPI 3's `ADDRESS_STATE`.
enum class address_state : std::uint8_t {
  in_service,      ///< AS_INSERVICE
  out_of_service,  ///< AS_OUTOFSERVICE
};

/// What a TSP tells about one of its addresses (TSPI_lineGetAddressCaps / LINEADDRESSCAPS, condensed).
struct address_info {
  std::string name;                                   ///< Address name, unique in the provider ("alice").
  std::string dialable_address;                       ///< What a caller dials to reach it.
  mspi::media_type media = mspi::media_type::audio;   ///< Media types calls on it may use.
  std::uint32_t max_active_calls = 16;                ///< LINEADDRESSCAPS::dwMaxNumActiveCalls.
  address_state initial_state = address_state::in_service;  ///< State before the TSP reports any change
                                                             ///< (e.g. out of service until registered).
  /// LINEADDRESSCAPS::dwAddressTypes: the forms `create_call` destinations may take (LINEADDRESSTYPE_ bits,
  /// `line_address_type` in tspi/address_capabilities.hpp); default LINEADDRESSTYPE_PHONENUMBER.
  std::uint32_t address_types = 0x1;
};

/// A call a TSP announces (LINE_NEWCALL): an incoming call (then LINE_CALLSTATE offering), or, with
/// `outgoing`, a call the TSP places on its own (e.g. as the transferee of a transfer: then the TSP reports
/// dialing, proceeding... as for `make_call`).
struct incoming_call_info {
  std::size_t address_id = 0;                        ///< Index into the TSP's `addresses()`.
  std::string caller_id;                             ///< Calling party number/URI (CIS_CALLERIDNUMBER).
  std::string caller_name;                           ///< Calling party name (CIS_CALLERIDNAME), may be empty.
  std::string called_id;                             ///< Called party (CIS_CALLEDIDNUMBER).
  mspi::media_type media = mspi::media_type::audio;  ///< Media types of the call.
  /// CIL_ORIGIN: false = inbound (the usual LINE_NEWCALL); true = a call the TSP places itself (outbound;
  /// `caller_id`/`called_id` are then our address and the destination).
  bool outgoing = false;
  call_reason reason = call_reason::direct;           ///< CIL_REASON of the call (e.g. `transfer`).
  /// CIL_RELATEDCALLID: for an inbound call that replaces one of this TSP's calls (RFC 3891 Replaces: we are a
  /// consultation transfer's target), the replaced call's id (`new_call`'s result for it); 0 otherwise.
  call_id replaces = 0;
  /// CIS_COMMENT of an inbound call: what the caller said the call is about (SIP: Subject, RFC 3261 §20.36).
  std::string comment{};
  /// CIS_REDIRECTINGIDNUMBER / NAME of an inbound call that was forwarded to us (SIP: Diversion, RFC 5806, or
  /// History-Info, RFC 7044), known when the call is offered; the TSP's later LINE_CALLINFO reports them too.
  std::string redirecting_id{};
  std::string redirecting_name{};  ///< See `redirecting_id`.
  /// CIB_USERUSERINFO of an inbound call: the caller application's bytes (SIP: User-to-User, RFC 7433).
  std::string user_user_info{};
};

/// The LINECALLPARAMS strings and buffers an application set on an outgoing call before Connect
/// (ITCallInfo::put_CallInfoString / SetCallInfoBuffer, `call::set_info_string` / `set_info_buffer`), for a
/// TSP's `make_call` overload that takes them (see `has_call_params`). Each is empty when not set; the
/// strings hold no control character.
struct call_params {
  std::string calling_party_id;  ///< CIS_CALLINGPARTYID (LINECALLPARAMS' CallingPartyID).
  std::string comment;           ///< CIS_COMMENT (Comment).
  std::string called_party_name; ///< CIS_CALLEDPARTYFRIENDLYNAME (CalledParty).
  /// CIB_USERUSERINFO (LINECALLPARAMS' UserUserInfo): bytes for the far end's application, at most
  /// `max_user_user_info_size` (call_info_buffer.hpp); may hold any byte.
  std::string user_user_info;
};

/// A call-control request beyond make_call/answer/drop, for the TSP's optional members (see the concept).
struct call_request {
  /// Which TSPI function the request stands for.
  enum class kind : std::uint8_t {
    hold,             ///< TSPI_lineHold: put a connected call on hold.
    unhold,           ///< TSPI_lineUnhold: take a held call off hold.
    blind_transfer,   ///< TSPI_lineBlindTransfer: transfer to `argument` (a dialable address).
    generate_digits,  ///< TSPI_lineGenerateDigits (LINEDIGITMODE_DTMF): send `argument`'s digits.
    /// TSPI_lineCompleteTransfer (LINETRANSFERMODE_TRANSFER): connect the far end of the call with the far
    /// end of `consultation`, a call of the same TSP, and leave both (consultation transfer).
    complete_transfer,
    /// TSPI_linePark (LINEPARKMODE_DIRECTED): park the connected or held call at `argument` (a dialable
    /// address where the switch keeps it; ITBasicCallControl::ParkDirect); the call then ends.
    park,
  };
  kind what = kind::hold;  ///< The request.
  /// Destination (blind_transfer), park address (park) or digits `0-9 * # A-D` (generate_digits); else empty.
  std::string argument;
  call_id consultation = 0;  ///< complete_transfer: the consultation call; else 0.
  /// generate_digits: how long each digit sounds, and the pause after it (TSPI_lineGenerateDigits'
  /// dwDuration, GenerateDigits2), `mspi::min_digit_duration_ms`..`max_digit_duration_ms`; 0 (also for
  /// the other requests): the MSP's default timing.
  std::chrono::milliseconds duration{0};
};

/// The TAPI object's side of the TSPI: what a TSP calls (LINEEVENT messages and ASYNC_COMPLETION).
/// A TSP calls these only on the executor it was given in `tsp_context`.
class line_event_sink {
 public:
  /// ASYNC_COMPLETION: request `id` finished; `ec` empty on success.
  virtual void completion(request_id id, std::error_code ec) = 0;
  /// LINE_NEWCALL + LINE_CALLSTATE(offering): a call arrived (or, with `info.outgoing`, the TSP places
  /// one itself, e.g. a transfer's new call; the same owner and room rules apply). The TAPI object creates the call object and
  /// its MSP call before returning, so the TSP may send MSP data for it at once. Returns 0 when the call
  /// is refused, and then `ec` says why; the TSP rejects the call and must not use the id:
  /// - `tapi_errc::not_owner`: no application owns calls of that address and media type (TAPI's
  ///   unowned-call rule; SIP answers 480);
  /// - `tapi_errc::call_unavailable`: the address has no room for another call (its `max_active_calls`,
  ///   or the MSP's media capacity; SIP answers 503 with Retry-After);
  /// - any other code (e.g. `std::errc::too_many_files_open`, `std::errc::not_enough_memory`): setting
  ///   the call up failed for lack of a resource (SIP answers 503 with Retry-After).
  /// Never throws: a failure to set the call up is reported through `ec`.
  virtual call_id new_call(const incoming_call_info& info, std::error_code& ec) = 0;
  /// `new_call` for TSPs that need no reason: 0 when the call is refused.
  call_id new_call(const incoming_call_info& info) {
    std::error_code ignored;
    return new_call(info, ignored);
  }
  /// LINE_CALLSTATE: the call's TSPI state, with `mode` = a `line_disconnect_mode` for disconnected.
  /// Transitions that TAPI 3's table forbids are ignored (and counted).
  virtual void call_state(call_id call, line_call_state state, std::uint32_t mode = 0) = 0;
  /// LINE_SENDMSPDATA: bytes for the call's MSP, delivered in order (TSP -> MSP channel).
  virtual void send_msp_data(call_id call, std::span<const std::byte> data) = 0;
  /// LINE_ADDRESSSTATE: an address went in or out of service (e.g. registration).
  virtual void address_state_changed(std::size_t address_id, address_state state) = 0;
  /// LINE_MONITORDIGITS (LINEDIGITMODE_DTMF): the far end sent DTMF `digit` (`0-9 * # A-D`) on the call.
  virtual void digit_detected(call_id call, char digit) = 0;
  /// LINE_MONITORDIGITS (LINEDIGITMODE_DTMF) for a digit recognised in the call's received audio
  /// (in-band DTMF; the MSP's `channel_message_type::inband_digit_detected`). The default forwards to
  /// `digit_detected` (the source is then lost); the TAPI object's sink reports it as `digit_source::in_band`.
  virtual void inband_digit_detected(call_id call, char digit) { digit_detected(call, digit); }
  /// LINE_MONITORTONE: a tone of the call's DetectTones list (`call::detect_tones`) was recognised in its
  /// received audio; `app_specific` is that tone's `mspi::detect_tone::app_specific` (the MSP's
  /// `channel_message_type::tone_detected`). The default ignores it; the TAPI object's sink raises a
  /// `tone_detection_event`.
  virtual void tone_detected(call_id call, std::uint32_t app_specific) {
    (void)call;
    (void)app_specific;
  }
  /// LINE_GENERATE: a digit or tone generation request of the call ended with `termination` (the MSP's
  /// `channel_message_type::digits_generated` / `generate_failed` for digits, `tone_generated` /
  /// `tone_cancelled` for tones; one per request). The default ignores it; the TAPI object's sink raises a
  /// `digit_generation_event` for a request it counted as running.
  virtual void generation_ended(call_id call, generation_kind kind, generate_termination termination) {
    (void)call;
    (void)kind;
    (void)termination;
  }
  /// LINE_CALLINFO: the call's provider-filled information changed; `info` is its whole current set
  /// (see `provider_call_info`), which replaces the call's copy. The TAPI object raises
  /// `tapi_event::call_info_change` with the causes that changed. Ignored for an unknown or released
  /// call. A TSP that has nothing to say never calls it.
  virtual void call_info_changed(call_id call, const provider_call_info& info) = 0;

 protected:
  ~line_event_sink() = default;
};

/// What the TAPI object hands a TSP at `provider_init` (TSPI_providerInit + TSPI_lineOpen).
struct tsp_context {
  boost::asio::any_io_executor executor;  ///< The TAPI object's thread: every call into the TSP runs here,
                                          ///< and the TSP calls `events` only from here.
  line_event_sink* events = nullptr;      ///< Where the TSP reports.
};

/// The TSP contract (TSPI essentials). A type `T` models it when it has:
/// - `T::config_type` and a constructor `T(const T::config_type&)`;
/// - `provider_name()` → something convertible to `std::string_view` (LINEDEVCAPS::ProviderInfo);
/// - `provider_init(const tsp_context&, std::error_code&)` / `provider_shutdown()` (TSPI_providerInit,
///   TSPI_providerShutdown);
/// - `addresses()` → `std::vector<address_info>` (TSPI_lineGetNumAddressIDs + TSPI_lineGetAddressCaps);
/// - `make_call(request_id, std::size_t address_id, call_id, std::string_view destination, mspi::media_type)`
///   (TSPI_lineMakeCall, asynchronous: the TSP reports `completion` when the call is under way);
/// - `answer(request_id, call_id)` (TSPI_lineAnswer), `drop(request_id, call_id, disconnect_code)`
///   (TSPI_lineDrop), both asynchronous;
/// - `close_call(call_id)` (TSPI_lineCloseCall: the call handle is gone; complete outstanding requests);
/// - `create_msp_instance(std::size_t address_id)` / `close_msp_instance(std::size_t address_id)`
///   (TSPI_lineCreateMSPInstance / TSPI_lineCloseMSPInstance: the paired MSP of that address was
///   initialized / is about to shut down; MSP data for its calls flows only in between);
/// - `receive_msp_data(call_id, std::span<const std::byte>)` (TSPI_lineReceiveMSPData: MSP -> TSP channel;
///   call 0 for address-level data).
///
/// Optional members (a TSP without them makes the TAPI object answer `tapi_errc::not_supported`), all
/// asynchronous with a `completion`: `hold(request_id, call_id)` (TSPI_lineHold), `unhold(request_id, call_id)`
/// (TSPI_lineUnhold), `blind_transfer(request_id, call_id, std::string_view destination)`
/// (TSPI_lineBlindTransfer), `generate_digits(request_id, call_id, std::string_view digits)`
/// (TSPI_lineGenerateDigits; a TSP that also takes a fourth `std::chrono::milliseconds duration`, 0 for the
/// default timing, gets GenerateDigits2's duration, `call_request::duration`; without it a request with a
/// duration is answered `not_supported`), `complete_transfer(request_id, call_id call, call_id consultation)`
/// (TSPI_lineCompleteTransfer, LINETRANSFERMODE_TRANSFER), `park(request_id, call_id, std::string_view
/// park_address)` (TSPI_linePark, LINEPARKMODE_DIRECTED). See `has_call_request`. `unpark(request_id,
/// std::size_t address_id, call_id, std::string_view destination, mspi::media_type)` (TSPI_lineUnpark) and
/// `pickup(request_id, std::size_t address_id, call_id, std::string_view destination, std::string_view
/// group_id, mspi::media_type)` (TSPI_linePickup): place a new call as `make_call` does (the TSP reports its
/// states alike), to retrieve the call parked at `destination` / to pick up the call alerting at `destination`
/// or in group `group_id`; see `has_unpark`, `has_pickup`. `forward(request_id, std::size_t address_id, const
/// forward_information&)` (TSPI_lineForward: the address's whole forwarding list, replacing the previous
/// one; an empty list turns forwarding off); see `has_forward`. And `std::string media_address() const`: the
/// signalling address, given to the paired MSP as `mspi::msp_context::signalling_address` (a ptapi
/// addition, so that a program names its IP address once). And `std::string_view protocol() const`: the
/// signalling protocol's name, reported as ITAddressCapabilities' ACS_PROTOCOL (`address::capability_string`).
///
/// Every member is called on the context's executor, one at a time.
template <class T>
concept telephony_service_provider =
    requires { typename T::config_type; } && std::constructible_from<T, const typename T::config_type&> &&
    requires(T& t, const T& ct, const tsp_context& ctx, std::error_code& ec, request_id req, call_id call,
             std::size_t address_id, std::string_view destination, mspi::media_type media, disconnect_code code,
             std::span<const std::byte> data) {
      { ct.provider_name() } -> std::convertible_to<std::string_view>;
      { t.provider_init(ctx, ec) } -> std::same_as<void>;
      { t.provider_shutdown() } -> std::same_as<void>;
      { ct.addresses() } -> std::same_as<std::vector<address_info>>;
      { t.make_call(req, address_id, call, destination, media) } -> std::same_as<void>;
      { t.answer(req, call) } -> std::same_as<void>;
      { t.drop(req, call, code) } -> std::same_as<void>;
      { t.close_call(call) } -> std::same_as<void>;
      { t.create_msp_instance(address_id) } -> std::same_as<void>;
      { t.close_msp_instance(address_id) } -> std::same_as<void>;
      { t.receive_msp_data(call, data) } -> std::same_as<void>;
    };

/// True when TSP type `T` implements TSPI_lineForward (`address::forward`).
template <class T>
concept has_forward = requires(T& t, request_id req, std::size_t address_id, const forward_information& f) {
  { t.forward(req, address_id, f) } -> std::same_as<void>;
};

/// True when TSP type `T`'s TSPI_lineMakeCall also takes the application's `call_params`: `make_call(request_id,
/// std::size_t address_id, call_id, std::string_view destination, mspi::media_type, const call_params&)`. The
/// TAPI object then calls that overload for every Connect; a TSP without it never sees the strings.
template <class T>
concept has_call_params = requires(T& t, request_id req, std::size_t address_id, call_id call,
                                   std::string_view destination, mspi::media_type media, const call_params& params) {
  { t.make_call(req, address_id, call, destination, media, params) } -> std::same_as<void>;
};

/// True when TSP type `T` implements TSPI_lineUnpark (`call::unpark`).
template <class T>
concept has_unpark = requires(T& t, request_id req, std::size_t address_id, call_id call, std::string_view destination,
                              mspi::media_type media) {
  { t.unpark(req, address_id, call, destination, media) } -> std::same_as<void>;
};

/// True when TSP type `T` implements TSPI_linePickup (`call::pickup`).
template <class T>
concept has_pickup = requires(T& t, request_id req, std::size_t address_id, call_id call, std::string_view destination,
                              std::string_view group_id, mspi::media_type media) {
  { t.pickup(req, address_id, call, destination, group_id, media) } -> std::same_as<void>;
};

/// True when TSP type `T` implements the optional member that serves requests of `kind` K.
template <class T, call_request::kind K>
concept has_call_request = requires(T& t, request_id req, call_id call, std::string_view arg) {
  requires(K != call_request::kind::hold || requires { t.hold(req, call); });
  requires(K != call_request::kind::unhold || requires { t.unhold(req, call); });
  requires(K != call_request::kind::blind_transfer || requires { t.blind_transfer(req, call, arg); });
  requires(K != call_request::kind::generate_digits || requires { t.generate_digits(req, call, arg); });
  requires(K != call_request::kind::complete_transfer || requires { t.complete_transfer(req, call, call); });
  requires(K != call_request::kind::park || requires { t.park(req, call, arg); });
};

}  // namespace tspi
