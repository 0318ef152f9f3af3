// ptapi - portable TAPI
// tspi/address_capabilities.hpp: ITAddressCapabilities (ADDRESS_CAPABILITY, ADDRESS_CAPABILITY_STRING) and
// the LINEADDRESSCAPS / LINEDEVCAPS flag values its answers are made of.
#pragma once

#include <tspi/call_info_buffer.hpp>
#include <tspi/forward.hpp>
#include <tspi/tsp.hpp>

#include <mspi/channel.hpp>
#include <mspi/conference_bridge.hpp>
#include <mspi/error.hpp>
#include <mspi/tones.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace tspi {

/// TAPI 3's `ADDRESS_CAPABILITY` (tapi3if.h, same values): what `address::capability` reports, a flattened
/// view of LINEDEVCAPS and LINEADDRESSCAPS. Each value's meaning and what ptapi answers for it is given at
/// `address_capability_value`.
enum class address_capability : std::uint8_t {
  address_types = 0x00,                    ///< AC_ADDRESSTYPES: `line_address_type` bits.
  bearer_modes = 0x01,                     ///< AC_BEARERMODES: `line_bearer_mode` bits.
  max_active_calls = 0x02,                 ///< AC_MAXACTIVECALLS
  max_on_hold_calls = 0x03,                ///< AC_MAXONHOLDCALLS
  max_on_hold_pending_calls = 0x04,        ///< AC_MAXONHOLDPENDINGCALLS: calls held pending a transfer or conference.
  max_num_conference = 0x05,               ///< AC_MAXNUMCONFERENCE: parties of one conference.
  max_num_trans_conf = 0x06,               ///< AC_MAXNUMTRANSCONF
  monitor_digit_support = 0x07,            ///< AC_MONITORDIGITSUPPORT: `line_digit_mode` bits.
  generate_digit_support = 0x08,           ///< AC_GENERATEDIGITSUPPORT: `line_digit_mode` bits.
  generate_tone_modes = 0x09,              ///< AC_GENERATETONEMODES: `mspi::tone_mode` bits.
  generate_tone_max_num_freq = 0x0a,       ///< AC_GENERATETONEMAXNUMFREQ
  monitor_tone_max_num_freq = 0x0b,        ///< AC_MONITORTONEMAXNUMFREQ
  monitor_tone_max_num_entries = 0x0c,     ///< AC_MONITORTONEMAXNUMENTRIES
  dev_cap_flags = 0x0d,                    ///< AC_DEVCAPFLAGS: `line_dev_cap_flags` bits.
  answer_modes = 0x0e,                     ///< AC_ANSWERMODES: `line_answer_mode` bits.
  line_features = 0x0f,                    ///< AC_LINEFEATURES: `line_feature` bits.
  settable_dev_status = 0x10,              ///< AC_SETTABLEDEVSTATUS
  park_support = 0x11,                     ///< AC_PARKSUPPORT: LINEPARKMODE_ bits.
  caller_id_support = 0x12,                ///< AC_CALLERIDSUPPORT: `line_call_party_id` bits.
  called_id_support = 0x13,                ///< AC_CALLEDIDSUPPORT
  connected_id_support = 0x14,             ///< AC_CONNECTEDIDSUPPORT
  redirection_id_support = 0x15,           ///< AC_REDIRECTIONIDSUPPORT
  redirecting_id_support = 0x16,           ///< AC_REDIRECTINGIDSUPPORT
  address_cap_flags = 0x17,                ///< AC_ADDRESSCAPFLAGS: `line_addr_cap_flags` bits.
  call_features1 = 0x18,                   ///< AC_CALLFEATURES1: `line_call_feature` bits.
  call_features2 = 0x19,                   ///< AC_CALLFEATURES2: `line_call_feature2` bits.
  remove_from_conf_caps = 0x1a,            ///< AC_REMOVEFROMCONFCAPS: `line_remove_from_conf` value.
  remove_from_conf_state = 0x1b,           ///< AC_REMOVEFROMCONFSTATE: `line_call_state` of a removed party.
  transfer_modes = 0x1c,                   ///< AC_TRANSFERMODES: `line_transfer_mode` bits.
  address_features = 0x1d,                 ///< AC_ADDRESSFEATURES: `line_addr_feature` bits.
  predictive_auto_transfer_states = 0x1e,  ///< AC_PREDICTIVEAUTOTRANSFERSTATES
  max_call_data_size = 0x1f,               ///< AC_MAXCALLDATASIZE (bytes)
  line_id = 0x20,                          ///< AC_LINEID
  address_id = 0x21,                       ///< AC_ADDRESSID
  forward_modes = 0x22,                    ///< AC_FORWARDMODES: `forward_mode` bits.
  max_forward_entries = 0x23,              ///< AC_MAXFORWARDENTRIES
  max_specific_entries = 0x24,             ///< AC_MAXSPECIFICENTRIES: caller-specific forwarding entries.
  min_fwd_num_rings = 0x25,                ///< AC_MINFWDNUMRINGS
  max_fwd_num_rings = 0x26,                ///< AC_MAXFWDNUMRINGS
  max_call_completions = 0x27,             ///< AC_MAXCALLCOMPLETIONS
  call_completion_conditions = 0x28,       ///< AC_CALLCOMPLETIONCONDITIONS
  call_completion_modes = 0x29,            ///< AC_CALLCOMPLETIONMODES
  permanent_device_id = 0x2a,              ///< AC_PERMANENTDEVICEID
  gather_digits_min_timeout = 0x2b,        ///< AC_GATHERDIGITSMINTIMEOUT (ms)
  gather_digits_max_timeout = 0x2c,        ///< AC_GATHERDIGITSMAXTIMEOUT (ms)
  generate_digit_min_duration = 0x2d,      ///< AC_GENERATEDIGITMINDURATION (ms)
  generate_digit_max_duration = 0x2e,      ///< AC_GENERATEDIGITMAXDURATION (ms)
  generate_digit_default_duration = 0x2f,  ///< AC_GENERATEDIGITDEFAULTDURATION (ms)
};

/// TAPI 3's `ADDRESS_CAPABILITY_STRING` (tapi3if.h, same values): what `address::capability_string` reports.
enum class address_capability_string : std::uint8_t {
  protocol = 0,                 ///< ACS_PROTOCOL: TAPI has GUIDs for PSTN/H.323/multicast; ptapi names the protocol ("SIP").
  address_device_specific = 1,  ///< ACS_ADDRESSDEVICESPECIFIC
  line_device_specific = 2,     ///< ACS_LINEDEVICESPECIFIC
  provider_specific = 3,        ///< ACS_PROVIDERSPECIFIC: the provider's name.
  switch_specific = 4,          ///< ACS_SWITCHSPECIFIC
  permanent_device_guid = 5,    ///< ACS_PERMANENTDEVICEGUID
};

/// LINEADDRESSTYPE_ (tapi.h): the address types `address::create_call` destinations may have.
namespace line_address_type {
inline constexpr std::uint32_t phone_number = 0x1;  ///< LINEADDRESSTYPE_PHONENUMBER
inline constexpr std::uint32_t sdp = 0x2;  ///< LINEADDRESSTYPE_SDP
inline constexpr std::uint32_t email_name = 0x4;  ///< LINEADDRESSTYPE_EMAILNAME
inline constexpr std::uint32_t domain_name = 0x8;  ///< LINEADDRESSTYPE_DOMAINNAME
inline constexpr std::uint32_t ip_address = 0x10;  ///< LINEADDRESSTYPE_IPADDRESS
}  // namespace line_address_type
/// LINEBEARERMODE_ (tapi.h).
namespace line_bearer_mode {
inline constexpr std::uint32_t voice = 0x1;  ///< LINEBEARERMODE_VOICE
inline constexpr std::uint32_t speech = 0x2;  ///< LINEBEARERMODE_SPEECH
}  // namespace line_bearer_mode
/// LINEDIGITMODE_ (tapi.h).
namespace line_digit_mode {
inline constexpr std::uint32_t pulse = 0x1;  ///< LINEDIGITMODE_PULSE
inline constexpr std::uint32_t dtmf = 0x2;  ///< LINEDIGITMODE_DTMF
inline constexpr std::uint32_t dtmf_end = 0x4;  ///< LINEDIGITMODE_DTMFEND: the end of a DTMF digit too
}  // namespace line_digit_mode
/// LINEDEVCAPFLAGS_ (tapi.h): the TAPI 3 ones.
namespace line_dev_cap_flags {
inline constexpr std::uint32_t msp = 0x200;  ///< LINEDEVCAPFLAGS_MSP: the line has a media service provider
inline constexpr std::uint32_t call_hub = 0x400;  ///< LINEDEVCAPFLAGS_CALLHUB
inline constexpr std::uint32_t call_hub_tracking = 0x800;  ///< LINEDEVCAPFLAGS_CALLHUBTRACKING
}  // namespace line_dev_cap_flags
/// LINEANSWERMODE_ (tapi.h).
namespace line_answer_mode {
inline constexpr std::uint32_t none = 0x1;  ///< LINEANSWERMODE_NONE: answering leaves the other calls as they are
inline constexpr std::uint32_t drop = 0x2;  ///< LINEANSWERMODE_DROP
inline constexpr std::uint32_t hold = 0x4;  ///< LINEANSWERMODE_HOLD
}  // namespace line_answer_mode
/// LINEFEATURE_ (tapi.h).
namespace line_feature {
inline constexpr std::uint32_t forward = 0x4;  ///< LINEFEATURE_FORWARD
inline constexpr std::uint32_t make_call = 0x8;  ///< LINEFEATURE_MAKECALL
}  // namespace line_feature
/// LINECALLPARTYID_ (tapi.h).
namespace line_call_party_id {
inline constexpr std::uint32_t blocked = 0x1;  ///< LINECALLPARTYID_BLOCKED
inline constexpr std::uint32_t out_of_area = 0x2;  ///< LINECALLPARTYID_OUTOFAREA
inline constexpr std::uint32_t name = 0x4;  ///< LINECALLPARTYID_NAME
inline constexpr std::uint32_t address = 0x8;  ///< LINECALLPARTYID_ADDRESS
inline constexpr std::uint32_t partial = 0x10;  ///< LINECALLPARTYID_PARTIAL
inline constexpr std::uint32_t unknown = 0x20;  ///< LINECALLPARTYID_UNKNOWN
inline constexpr std::uint32_t unavail = 0x40;  ///< LINECALLPARTYID_UNAVAIL
}  // namespace line_call_party_id
/// LINEADDRCAPFLAGS_ (tapi.h): those ptapi reports.
namespace line_addr_cap_flags {
inline constexpr std::uint32_t fwd_num_rings = 0x1;  ///< LINEADDRCAPFLAGS_FWDNUMRINGS
inline constexpr std::uint32_t secure = 0x4;  ///< LINEADDRCAPFLAGS_SECURE
inline constexpr std::uint32_t dialed = 0x20;  ///< LINEADDRCAPFLAGS_DIALED
inline constexpr std::uint32_t fwd_status_valid = 0x20000;  ///< LINEADDRCAPFLAGS_FWDSTATUSVALID
}  // namespace line_addr_cap_flags
/// LINECALLFEATURE_ (tapi.h).
namespace line_call_feature {
inline constexpr std::uint32_t accept = 0x1;  ///< LINECALLFEATURE_ACCEPT
inline constexpr std::uint32_t add_to_conf = 0x2;  ///< LINECALLFEATURE_ADDTOCONF
inline constexpr std::uint32_t answer = 0x4;  ///< LINECALLFEATURE_ANSWER
inline constexpr std::uint32_t blind_transfer = 0x8;  ///< LINECALLFEATURE_BLINDTRANSFER
inline constexpr std::uint32_t complete_call = 0x10;  ///< LINECALLFEATURE_COMPLETECALL
inline constexpr std::uint32_t complete_transf = 0x20;  ///< LINECALLFEATURE_COMPLETETRANSF
inline constexpr std::uint32_t dial = 0x40;  ///< LINECALLFEATURE_DIAL
inline constexpr std::uint32_t drop = 0x80;  ///< LINECALLFEATURE_DROP
inline constexpr std::uint32_t gather_digits = 0x100;  ///< LINECALLFEATURE_GATHERDIGITS
inline constexpr std::uint32_t generate_digits = 0x200;  ///< LINECALLFEATURE_GENERATEDIGITS
inline constexpr std::uint32_t generate_tone = 0x400;  ///< LINECALLFEATURE_GENERATETONE
inline constexpr std::uint32_t hold = 0x800;  ///< LINECALLFEATURE_HOLD
inline constexpr std::uint32_t monitor_digits = 0x1000;  ///< LINECALLFEATURE_MONITORDIGITS
inline constexpr std::uint32_t monitor_media = 0x2000;  ///< LINECALLFEATURE_MONITORMEDIA
inline constexpr std::uint32_t monitor_tones = 0x4000;  ///< LINECALLFEATURE_MONITORTONES
inline constexpr std::uint32_t park = 0x8000;  ///< LINECALLFEATURE_PARK
inline constexpr std::uint32_t prepare_add_conf = 0x10000;  ///< LINECALLFEATURE_PREPAREADDCONF
inline constexpr std::uint32_t redirect = 0x20000;  ///< LINECALLFEATURE_REDIRECT
inline constexpr std::uint32_t remove_from_conf = 0x40000;  ///< LINECALLFEATURE_REMOVEFROMCONF
inline constexpr std::uint32_t secure_call = 0x80000;  ///< LINECALLFEATURE_SECURECALL
inline constexpr std::uint32_t setup_conf = 0x1000000;  ///< LINECALLFEATURE_SETUPCONF
inline constexpr std::uint32_t setup_transfer = 0x2000000;  ///< LINECALLFEATURE_SETUPTRANSFER
inline constexpr std::uint32_t swap_hold = 0x4000000;  ///< LINECALLFEATURE_SWAPHOLD
inline constexpr std::uint32_t unhold = 0x8000000;  ///< LINECALLFEATURE_UNHOLD
inline constexpr std::uint32_t set_qos = 0x40000000;  ///< LINECALLFEATURE_SETQOS
}  // namespace line_call_feature
/// LINECALLFEATURE2_ (tapi.h).
namespace line_call_feature2 {
inline constexpr std::uint32_t no_hold_conference = 0x1;  ///< LINECALLFEATURE2_NOHOLDCONFERENCE
inline constexpr std::uint32_t one_step_transfer = 0x2;  ///< LINECALLFEATURE2_ONESTEPTRANSFER
inline constexpr std::uint32_t transfer_norm = 0x40;  ///< LINECALLFEATURE2_TRANSFERNORM
inline constexpr std::uint32_t transfer_conf = 0x80;  ///< LINECALLFEATURE2_TRANSFERCONF
}  // namespace line_call_feature2
/// LINEREMOVEFROMCONF_ (tapi.h).
namespace line_remove_from_conf {
inline constexpr std::uint32_t none = 0x1;  ///< LINEREMOVEFROMCONF_NONE
inline constexpr std::uint32_t last = 0x2;  ///< LINEREMOVEFROMCONF_LAST
inline constexpr std::uint32_t any = 0x3;  ///< LINEREMOVEFROMCONF_ANY
}  // namespace line_remove_from_conf
/// LINETRANSFERMODE_ (tapi.h).
namespace line_transfer_mode {
inline constexpr std::uint32_t transfer = 0x1;  ///< LINETRANSFERMODE_TRANSFER
inline constexpr std::uint32_t conference = 0x2;  ///< LINETRANSFERMODE_CONFERENCE
}  // namespace line_transfer_mode
/// LINEADDRFEATURE_ (tapi.h).
namespace line_addr_feature {
inline constexpr std::uint32_t forward = 0x1;  ///< LINEADDRFEATURE_FORWARD
inline constexpr std::uint32_t make_call = 0x2;  ///< LINEADDRFEATURE_MAKECALL
inline constexpr std::uint32_t pickup = 0x4;  ///< LINEADDRFEATURE_PICKUP
inline constexpr std::uint32_t unpark = 0x80;  ///< LINEADDRFEATURE_UNPARK
}  // namespace line_addr_feature
/// LINEPARKMODE_ (tapi.h).
namespace line_park_mode {
inline constexpr std::uint32_t directed = 0x1;  ///< LINEPARKMODE_DIRECTED: parked at an address the application names
inline constexpr std::uint32_t nondirected = 0x2;  ///< LINEPARKMODE_NONDIRECTED: parked where the switch chooses
}  // namespace line_park_mode

/// What one provider pair can do, as the TAPI object learns it from the TSP and MSP types (their optional
/// members, checked at compile time) and the MSP's configuration: the input of `address_capability_value`.
/// A plain value.
struct provider_features {
  bool hold = false;               ///< The TSP has `hold` (TSPI_lineHold).
  bool unhold = false;             ///< The TSP has `unhold` (TSPI_lineUnhold).
  bool blind_transfer = false;     ///< The TSP has `blind_transfer` (TSPI_lineBlindTransfer).
  bool complete_transfer = false;  ///< The TSP has `complete_transfer` (consultation transfer).
  bool generate_digits = false;    ///< The TSP has `generate_digits` (TSPI_lineGenerateDigits).
  bool forward = false;            ///< The TSP has `forward` (TSPI_lineForward).
  bool local_conference = false;   ///< The MSP mixes local conferences (`create_conference_bridge`).
  bool tone_generation = false;    ///< The MSP generates tones (and is configured to).
  bool tone_detection = false;     ///< The MSP detects tones (and is configured to).
  bool park = false;               ///< The TSP has `park` (TSPI_linePark, directed).
  bool unpark = false;             ///< The TSP has `unpark` (TSPI_lineUnpark).
  bool pickup = false;             ///< The TSP has `pickup` (TSPI_linePickup).
  bool qos = false;                ///< The MSP's calls mark their media (`set_qos`, ITBasicCallControl::SetQOS).
  std::string protocol;            ///< The TSP's signalling protocol (its optional `protocol()`), e.g. "SIP".
};

/// Most entries `address::forward` takes (AC_MAXFORWARDENTRIES and AC_MAXSPECIFICENTRIES); more give
/// `tapi_errc::invalid_argument`.
inline constexpr std::size_t max_forward_entries = 64;
/// Most rings a no-answer forwarding rule may wait for (AC_MAXFWDNUMRINGS); more give `invalid_argument`.
inline constexpr std::uint32_t max_forward_rings = 100;

/// How long each digit of `call::generate_digits` sounds, in ms (AC_GENERATEDIGITDEFAULTDURATION and
/// CIL_GENERATEDIGITDURATION: the RTP/Opus MSP's RFC 4733 events, 60 ms apart; its in-band digits last
/// 80 ms with 80 ms pauses) when no duration is given; GenerateDigits2 (`call::generate_digits` with a
/// duration) takes `mspi::min_digit_duration_ms`..`max_digit_duration_ms`.
inline constexpr std::uint32_t generate_digit_duration_ms = 100;

/// The value of `cap` for an address described by `info`, of a provider pair that can do `f`, at position
/// `line_id` of `tapi::addresses()` (ITAddressCapabilities::get_AddressCapability). Every ptapi address is
/// its own line with one address (AC_ADDRESSID 0; AC_PERMANENTDEVICEID = AC_LINEID). What ptapi reports:
/// - address types: `info.address_types`; bearer: voice; answer modes: none (answering a call leaves the
///   others as they are); line and address features: make call, plus forward with `f.forward`;
/// - calls: `info.max_active_calls` active, as many held with `f.hold`, one pending a transfer or a
///   conference with `f.complete_transfer` or `f.local_conference`; conferences of
///   `mspi::conference_bridge::max_parties` with `f.local_conference` (then any party can be removed and
///   stays connected with the host: `remove_from_conf_state` is `call_state_mode`'s LINECALLSTATE_CONNECTED);
/// - digits: RFC 4733 and in-band DTMF detected (`dtmf`; `call::detect_digits`), generated with
///   `f.generate_digits`; gathering timeouts 1 ms to 1 hour (`gather_digits_options`); generated digits
///   last 40 to 1000 ms (GenerateDigits2), 100 ms by default (`generate_digit_duration_ms`);
/// - tones: every `mspi::tone_mode` and custom tones (LINETONEMODE_CUSTOM) of up to `mspi::max_custom_tones`
///   frequencies with `f.tone_generation`;
///   `mspi::max_detect_tones` entries of up to 2 frequencies each with `f.tone_detection`;
/// - party IDs: caller and connected ID with address and name (unknown when the peer sent none), called,
///   redirection and redirecting ID with address;
/// - call features (`line_call_feature`): answer, drop, gather and monitor digits always; hold, unhold,
///   swap hold, blind transfer, setup/complete transfer, generate digits/tone, monitor tones and the
///   conference features as `f` says; dial with `f.generate_digits` (`call::dial` sends DTMF); park with
///   `f.park` (then park support: directed); set QoS with `f.qos`; features2: transfer_norm and
///   no_hold_conference likewise; address features: pickup with `f.pickup`, unpark with `f.unpark`;
/// - forwarding with `f.forward`: every `forward_mode`, `max_forward_entries` entries (as many caller-
///   specific), 0 to `max_forward_rings` rings;
/// - device flags: an MSP always, call hubs with `f.local_conference`.
/// Call data: `max_call_data_size` bytes (`call::set_info_buffer`). Non-directed park, call completion, predictive dialling and settable device status: 0 (not supported).
/// Errors: none (every `address_capability` has a value). Pure.
[[nodiscard]] inline std::uint32_t address_capability_value(const address_info& info, const provider_features& f,
                                                            std::size_t line_id, address_capability cap) noexcept {
  namespace cf = line_call_feature;
  const bool conf = f.local_conference;
  using ac = address_capability;
  switch (cap) {
    case ac::address_types: return info.address_types;
    case ac::bearer_modes: return line_bearer_mode::voice;
    case ac::max_active_calls: return info.max_active_calls;
    case ac::max_on_hold_calls: return f.hold ? info.max_active_calls : 0;
    case ac::max_on_hold_pending_calls: return f.complete_transfer || conf ? 1 : 0;
    case ac::max_num_conference: return conf ? static_cast<std::uint32_t>(mspi::conference_bridge::max_parties) : 0;
    case ac::monitor_digit_support: return line_digit_mode::dtmf;  // digit ends are not reported
    case ac::generate_digit_support: return f.generate_digits ? line_digit_mode::dtmf : 0;
    case ac::generate_tone_modes:
      if (!f.tone_generation) return 0;
      return 0x1 | static_cast<std::uint32_t>(mspi::tone_mode::ringback) |  // LINETONEMODE_CUSTOM: generate_custom_tones
             static_cast<std::uint32_t>(mspi::tone_mode::busy) | static_cast<std::uint32_t>(mspi::tone_mode::beep) |
             static_cast<std::uint32_t>(mspi::tone_mode::billing);
    case ac::generate_tone_max_num_freq: return f.tone_generation ? static_cast<std::uint32_t>(mspi::max_custom_tones) : 0;
    case ac::monitor_tone_max_num_freq: return f.tone_detection ? 2 : 0;
    case ac::monitor_tone_max_num_entries: return f.tone_detection ? static_cast<std::uint32_t>(mspi::max_detect_tones) : 0;
    case ac::dev_cap_flags: return line_dev_cap_flags::msp | (conf ? line_dev_cap_flags::call_hub : 0);
    case ac::answer_modes: return line_answer_mode::none;
    case ac::line_features: return line_feature::make_call | (f.forward ? line_feature::forward : 0);
    case ac::caller_id_support:
    case ac::connected_id_support:
      return line_call_party_id::address | line_call_party_id::name | line_call_party_id::unknown;
    case ac::called_id_support: return line_call_party_id::address;
    case ac::redirection_id_support:
    case ac::redirecting_id_support: return line_call_party_id::address | line_call_party_id::unknown;
    case ac::address_cap_flags:
      return line_addr_cap_flags::dialed |
             (f.forward ? line_addr_cap_flags::fwd_num_rings | line_addr_cap_flags::fwd_status_valid : 0);
    case ac::call_features1:
      return cf::answer | cf::drop | cf::gather_digits | cf::monitor_digits | (f.hold ? cf::hold : 0) |
             (f.unhold ? cf::unhold : 0) | (f.hold && f.unhold ? cf::swap_hold : 0) |
             (f.blind_transfer ? cf::blind_transfer : 0) |
             (f.complete_transfer ? cf::setup_transfer | cf::complete_transf : 0) |
             (f.generate_digits ? cf::generate_digits | cf::dial : 0) | (f.tone_generation ? cf::generate_tone : 0) |
             (f.park ? cf::park : 0) | (f.qos ? cf::set_qos : 0) |
             (f.tone_detection ? cf::monitor_tones : 0) |
             (conf ? cf::setup_conf | cf::prepare_add_conf | cf::add_to_conf | cf::remove_from_conf : 0);
    case ac::call_features2:
      return (f.complete_transfer ? line_call_feature2::transfer_norm : 0) | (conf ? line_call_feature2::no_hold_conference : 0);
    case ac::remove_from_conf_caps: return conf ? line_remove_from_conf::any : line_remove_from_conf::none;
    case ac::remove_from_conf_state: return conf ? 0x100 : 0;  // LINECALLSTATE_CONNECTED
    case ac::transfer_modes: return f.complete_transfer ? line_transfer_mode::transfer : 0;
    case ac::address_features:
      return line_addr_feature::make_call | (f.forward ? line_addr_feature::forward : 0) |
             (f.pickup ? line_addr_feature::pickup : 0) | (f.unpark ? line_addr_feature::unpark : 0);
    case ac::park_support: return f.park ? line_park_mode::directed : 0;
    case ac::line_id:
    case ac::permanent_device_id: return static_cast<std::uint32_t>(line_id);
    case ac::forward_modes: {
      if (!f.forward) return 0;
      std::uint32_t m = 0;
      for (auto mode : {forward_mode::unconditional, forward_mode::unconditional_specific, forward_mode::busy,
                        forward_mode::busy_specific, forward_mode::no_answer, forward_mode::no_answer_specific,
                        forward_mode::busy_no_answer, forward_mode::busy_no_answer_specific})
        m |= static_cast<std::uint32_t>(mode);
      return m;
    }
    case ac::max_forward_entries:
    case ac::max_specific_entries: return f.forward ? static_cast<std::uint32_t>(max_forward_entries) : 0;
    case ac::max_fwd_num_rings: return f.forward ? max_forward_rings : 0;
    case ac::gather_digits_min_timeout: return 1;
    case ac::gather_digits_max_timeout: return 3600000;
    case ac::generate_digit_min_duration: return f.generate_digits ? mspi::min_digit_duration_ms : 0;
    case ac::generate_digit_max_duration: return f.generate_digits ? mspi::max_digit_duration_ms : 0;
    case ac::generate_digit_default_duration: return f.generate_digits ? generate_digit_duration_ms : 0;
    case ac::max_call_data_size: return static_cast<std::uint32_t>(max_call_data_size);
    default: return 0;  // max_num_trans_conf, settable_dev_status, completions, address_id, min rings
  }
}

/// The text of `cap` (ITAddressCapabilities::get_AddressCapabilityString): the protocol's name (`f.protocol`,
/// e.g. "SIP"; TAPI's TAPIPROTOCOL_ GUIDs have none for SIP), the provider's name; the device-specific,
/// switch-specific and GUID strings are empty. Throws only std::bad_alloc.
[[nodiscard]] inline std::string address_capability_text(std::string_view provider_name, const provider_features& f,
                                                         address_capability_string cap) {
  switch (cap) {
    case address_capability_string::protocol: return f.protocol;
    case address_capability_string::provider_specific: return std::string(provider_name);
    default: return {};
  }
}

}  // namespace tspi
