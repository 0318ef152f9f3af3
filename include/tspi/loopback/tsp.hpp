// ptapi - portable TAPI
// tspi/loopback/tsp.hpp: the loopback TSP: addresses in one process that call each other through the
// whole TAPI path (TSP -> TAPI object -> MSP, channel both ways), deterministically.
#pragma once

#include <ptapi/config.hpp>
#include <tspi/loopback/tsp_fwd.hpp>

// Separate compilation: the above declares the provider; ptapi/src.hpp compiles the rest.
#if PTAPI_FULL_DEFINITIONS

#include <tspi/call_info.hpp>
#include <tspi/call_state.hpp>
#include <tspi/forward.hpp>
#include <tspi/tsp.hpp>
#include <tspi/detail/media_reports.hpp>

#include <mspi/channel.hpp>
#include <mspi/media_types.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace tspi {

/// The loopback TSP. Calling one of its addresses from another creates the far leg as an incoming call
/// on the destination address (LINE_NEWCALL), carries the SDP offer and answer between the two legs'
/// MSPs, and maps `answer`/`drop` onto both legs:
///
/// | action | calling leg | called leg |
/// |---|---|---|
/// | make_call | dialing (in_progress), ringback when offered | offering |
/// | answer (called leg) | connected | connected |
/// | drop before answer by the caller | disconnected normal | disconnected cancelled |
/// | drop of an offering call with `rejected` / `noanswer` | disconnected rejected / noanswer | disconnected normal |
/// | drop after answer | disconnected normal | disconnected normal |
/// | unknown destination | disconnected badaddress | — |
/// | destination without owner, full (its `max_active_calls` or its MSP's capacity), without an open MSP instance, or whose MSP call cannot be set up (a resource error) | disconnected busy | — |
/// | an MSP cannot negotiate (`media_error`) | disconnected incompatible (failed) | same |
/// | `forward` rule of the called address (TSPI_lineForward) | stays in ringback; `redirecting_id` = the forwarding address, `redirection_id` = its destination | unconditional: the call arrives at the destination, never at the forwarding address; busy (the application drops the offering call with `normal`, or the address has no room): the offering leg ends normal and the call goes to the destination; no answer (not answered within `num_rings_no_answer` × `loopback_config::ring_period`): the offering leg ends `forwarded` (disconnect_normal) and the call goes on. The destination's call has `reason` fwd_uncond / fwd_busy / fwd_noanswer and `redirecting_id` the forwarding address. Rules are followed at most once per address of the provider (no loop) |
/// | generate_digits (connected) | its MSP sends the digits to the other leg; their end → LINE_GENERATE | its MSP reports them (LINE_MONITORDIGITS) |
///
/// Everything runs on the TAPI object's thread, so a call's events always come in the same order.
class loopback_tsp {
 public:
  using config_type = loopback_config;  ///< Settings, given at registration.

  /// A provider with the addresses of `cfg`; the registry constructs it at `tapi::register_provider`.
  /// Throws only std::bad_alloc. Not thread-safe until initialized: the TAPI object owns it.
  explicit loopback_tsp(const config_type& cfg = {}) : cfg_(cfg) {}

  /// LINEDEVCAPS::ProviderInfo
  [[nodiscard]] std::string_view provider_name() const noexcept { return "ptapi loopback"; }
  /// ACS_PROTOCOL (the TSP contract's optional `protocol()`): "loopback" (calls between this process's addresses).
  [[nodiscard]] std::string_view protocol() const noexcept { return "loopback"; }

  /// TSPI_providerInit: keeps the context. Error: `invalid_argument` when two addresses share a name.
  void provider_init(const tsp_context& ctx, std::error_code& ec) {
    for (std::size_t i = 0; i < cfg_.addresses.size(); ++i)
      for (std::size_t j = i + 1; j < cfg_.addresses.size(); ++j)
        if (cfg_.addresses[i] == cfg_.addresses[j]) {
          ec = mspi::tapi_errc::invalid_argument;
          return;
        }
    ctx_ = ctx;
    msp_open_.assign(cfg_.addresses.size(), false);
    ec.clear();
  }
  /// TSPI_providerShutdown
  void provider_shutdown() { legs_.clear(); }

  /// TSPI_lineGetAddressCaps for every address.
  [[nodiscard]] std::vector<address_info> addresses() const {
    std::vector<address_info> out;
    for (const auto& name : cfg_.addresses)
      out.push_back({name, name, mspi::media_type::audio, cfg_.max_active_calls});
    return out;
  }

  /// TSPI_lineMakeCall: completes at once; the call proceeds as in the table above. Error (completion):
  /// `no_driver` when the address has no open MSP instance.
  void make_call(request_id req, std::size_t address_id, call_id call, std::string_view destination, mspi::media_type media) {
    if (address_id >= msp_open_.size() || !msp_open_[address_id]) {
      sink().completion(req, mspi::tapi_errc::no_driver);
      return;
    }
    legs_[call] = leg{address_id, false, 0, media, {}, false, false};
    sink().completion(req, {});
    sink().call_state(call, line_call_state::dialing);
    auto dest = find(destination);
    if (!dest) {
      sink().call_state(call, line_call_state::disconnected, static_cast<std::uint32_t>(line_disconnect_mode::badaddress));
      return;
    }
    legs_[call].destination = *dest;
    send(call, mspi::channel_message_type::request_offer);  // the offer comes back in receive_msp_data
  }

  /// TSPI_lineForward: the forwarding rules of `address_id` (replacing its previous ones; an empty list
  /// turns forwarding off), applied to calls offered afterwards (see the table). Completes at once. Errors
  /// (completion): `invalid_argument` (no such address), `invalid_address` (a destination that is not an
  /// address of this provider).
  void forward(request_id req, std::size_t address_id, const forward_information& f) {
    if (address_id >= cfg_.addresses.size()) return sink().completion(req, mspi::tapi_errc::invalid_argument);
    for (const auto& e : f.entries())
      if (!find(e.destination)) return sink().completion(req, mspi::tapi_errc::invalid_address);
    if (f.empty()) forwards_.erase(address_id);
    else forwards_[address_id] = f;
    sink().completion(req, {});
  }

  /// TSPI_lineAnswer on a called leg: both legs connect and their media starts.
  void answer(request_id req, call_id call) {
    auto* l = get(call);
    if (!l || !l->incoming || !l->peer) {
      sink().completion(req, mspi::tapi_errc::invalid_call_state);
      return;
    }
    l->answered = true;
    sink().completion(req, {});
    try_connect(call);
  }

  /// TSPI_lineDrop: ends this leg and its peer (see the table for the causes).
  void drop(request_id req, call_id call, disconnect_code code) {
    auto* l = get(call);
    if (!l) {
      sink().completion(req, mspi::tapi_errc::invalid_call_state);
      return;
    }
    const call_id peer = l->peer;
    const bool was_connected = l->connected;
    auto peer_mode = line_disconnect_mode::normal;
    if (!was_connected) {
      if (!l->incoming) peer_mode = line_disconnect_mode::cancelled;  // caller gave up
      else if (code == disconnect_code::rejected) peer_mode = line_disconnect_mode::reject;
      else if (code == disconnect_code::noanswer) peer_mode = line_disconnect_mode::noanswer;
    }
    const auto busy = l->incoming && !was_connected && peer && code == disconnect_code::normal
                          ? forward_target(peer, l->address_id, forward_trigger::busy)
                          : std::nullopt;
    sink().completion(req, {});
    end_leg(call, line_disconnect_mode::normal);
    if (busy) return retarget(peer, *busy, call_reason::fwd_busy);  // LINEFORWARDMODE_BUSY
    if (peer) end_leg(peer, peer_mode);
  }

  /// TSPI_lineGenerateDigits (LINEDIGITMODE_DTMF) on a connected leg: the leg's MSP sends `digits` to
  /// the other leg (RFC 4733, or in-band audio; see `mspi::channel_message_type::generate_digits`) and
  /// reports their end, which comes back as LINE_GENERATE; `duration` (GenerateDigits2) is each digit's
  /// and each pause's length, 0 the MSP's default. Error (completion): `invalid_call_state` when the leg
  /// is not connected.
  void generate_digits(request_id req, call_id call, std::string_view digits,
                       std::chrono::milliseconds duration = std::chrono::milliseconds{0}) {
    auto* l = get(call);
    if (!l || !l->connected) {
      sink().completion(req, mspi::tapi_errc::invalid_call_state);
      return;
    }
    send(call, mspi::channel_message_type::generate_digits,
         mspi::generate_digits_body(digits, static_cast<std::uint32_t>(duration.count())));
    sink().completion(req, {});
  }

  /// TSPI_lineCloseCall: forgets the leg (and cancels its no-answer forwarding).
  void close_call(call_id call) { legs_.erase(call); }

  /// TSPI_lineCreateMSPInstance: the MSP of `address_id` is up; calls on that address may start.
  void create_msp_instance(std::size_t address_id) {
    if (address_id < msp_open_.size()) msp_open_[address_id] = true;
  }
  /// TSPI_lineCloseMSPInstance: the MSP of `address_id` is going; no new calls start on it.
  void close_msp_instance(std::size_t address_id) {
    if (address_id < msp_open_.size()) msp_open_[address_id] = false;
  }

  /// TSPI_lineReceiveMSPData: the legs' MSPs hand over their SDP offer and answer here, and report the
  /// DTMF digits they receive (RFC 4733 or in-band) as LINE_MONITORDIGITS, the tones they detect as
  /// LINE_MONITORTONE and the end of each digit or tone generation as LINE_GENERATE.
  void receive_msp_data(call_id call, std::span<const std::byte> data) {
    auto msg = mspi::decode_channel_message(data);
    auto* l = get(call);
    if (!msg || !l) return;
    switch (msg->type) {
      case mspi::channel_message_type::local_offer: offer_to_destination(call, std::string(msg->body)); break;
      case mspi::channel_message_type::local_answer:
        l->answer_sdp = std::string(msg->body);
        try_connect(call);
        break;
      case mspi::channel_message_type::media_error: {
        const call_id peer = l->peer;
        end_leg(call, line_disconnect_mode::incompatible);
        if (peer) end_leg(peer, line_disconnect_mode::incompatible);
        break;
      }
      default: detail::report_media_event(sink(), call, *msg); break;  // digits and tones, received or generated
    }
  }

 private:
  struct leg {
    std::size_t address_id = 0;
    bool incoming = false;
    call_id peer = 0;
    mspi::media_type media = mspi::media_type::audio;
    std::string answer_sdp;  // called leg: its MSP's answer, held until the application answers
    bool answered = false;
    bool connected = false;
    std::size_t destination = 0;
    std::string offer{};      // calling leg: its MSP's offer, for the destination a forwarding rule names
    bool ringing = false;     // calling leg: ringback reported
    std::size_t hops = 0;     // calling leg: forwarding rules followed
    call_reason reason = call_reason::direct;  // calling leg: CIL_REASON of the called leg it makes
    provider_call_info info{};  // calling leg: redirecting/redirection IDs
    std::unique_ptr<boost::asio::steady_timer> no_answer{};  // called leg: a no-answer rule's rings
  };

  line_event_sink& sink() { return *ctx_.events; }
  leg* get(call_id c) {
    auto it = legs_.find(c);
    return it == legs_.end() ? nullptr : &it->second;
  }
  std::optional<std::size_t> find(std::string_view name) const {
    for (std::size_t i = 0; i < cfg_.addresses.size(); ++i)
      if (cfg_.addresses[i] == name) return i;
    return std::nullopt;
  }
  void send(call_id c, mspi::channel_message_type type, std::string_view body = {}) {
    auto frame = mspi::encode_channel_message(type, body);
    sink().send_msp_data(c, std::span<const std::byte>(frame));
  }

  // The caller's offer is ready: the called leg appears as an incoming call and gets the offer.
  void offer_to_destination(call_id caller, const std::string& offer) {
    legs_[caller].offer = offer;
    if (auto to = forward_target(caller, legs_[caller].destination, forward_trigger::unconditional))
      return retarget(caller, *to, call_reason::fwd_uncond);
    auto& l = legs_[caller];
    incoming_call_info info;
    info.address_id = l.destination;
    info.caller_id = cfg_.addresses[l.address_id];
    info.called_id = cfg_.addresses[l.destination];
    info.media = l.media;
    info.reason = l.reason;
    info.redirecting_id = l.info.redirecting_id;  // known at the call notification
    std::error_code refused;
    const call_id callee = msp_open_[l.destination] ? sink().new_call(info, refused) : 0;
    if (!callee) {
      if (refused == mspi::tapi_errc::call_unavailable)  // no room: the busy rule applies
        if (auto to = forward_target(caller, l.destination, forward_trigger::busy))
          return retarget(caller, *to, call_reason::fwd_busy);
      end_leg(caller, line_disconnect_mode::busy);
      return;
    }
    legs_[callee] = leg{l.destination, true, caller, l.media, {}, false, false, l.address_id};
    l.peer = callee;
    if (!l.info.redirecting_id.empty()) {
      provider_call_info at_callee;
      at_callee.redirecting_id = l.info.redirecting_id;
      sink().call_info_changed(callee, at_callee);
    }
    sink().call_state(callee, line_call_state::offering);
    send(callee, mspi::channel_message_type::remote_offer, offer);
    if (!std::exchange(l.ringing, true)) sink().call_state(caller, line_call_state::ringback);
    arm_no_answer(caller, callee);
  }

  // The destination of `address_id`'s rule for `t` that applies to `caller`'s call, unless the call has
  // followed as many rules as there are addresses (a loop).
  std::optional<std::size_t> forward_target(call_id caller, std::size_t address_id, forward_trigger t) const {
    auto c = legs_.find(caller);
    auto f = forwards_.find(address_id);
    if (c == legs_.end() || f == forwards_.end() || c->second.hops >= cfg_.addresses.size()) return std::nullopt;
    const auto& me = cfg_.addresses[c->second.address_id];
    const auto* rule = find_forward_rule(f->second, t, [&](std::string_view who) { return who == me; });
    return rule ? find(rule->destination) : std::nullopt;
  }

  // Sends `caller`'s call on to address `to` (it has no called leg now): CIS_REDIRECTINGID/REDIRECTIONID.
  void retarget(call_id caller, std::size_t to, call_reason reason) {
    auto& l = legs_[caller];
    l.info.redirecting_id = cfg_.addresses[l.destination];
    l.info.redirection_id = cfg_.addresses[to];
    l.destination = to;
    l.reason = reason;
    ++l.hops;
    sink().call_info_changed(caller, l.info);
    offer_to_destination(caller, std::string(l.offer));
  }

  // A no-answer rule of the called address: after its rings, the offering leg ends and the call goes on.
  void arm_no_answer(call_id caller, call_id callee) {
    auto* l = get(callee);
    auto f = forwards_.find(l->address_id);
    if (f == forwards_.end() || !forward_target(caller, l->address_id, forward_trigger::no_answer)) return;
    l->no_answer = std::make_unique<boost::asio::steady_timer>(ctx_.executor, cfg_.ring_period * f->second.num_rings_no_answer());
    l->no_answer->async_wait([this, caller, callee](const boost::system::error_code& ec) {
      auto* l = ec ? nullptr : get(callee);
      if (!l || l->connected || l->peer != caller) return;
      const auto to = forward_target(caller, l->address_id, forward_trigger::no_answer);
      if (!to) return;
      end_leg(callee, line_disconnect_mode::forwarded);
      retarget(caller, *to, call_reason::fwd_noanswer);
    });
  }

  // Connects both legs once the called leg is answered and its MSP has answered the offer.
  void try_connect(call_id callee) {
    auto* l = get(callee);
    if (!l || !l->incoming || !l->answered || l->answer_sdp.empty() || l->connected) return;
    const call_id caller = l->peer;
    auto* c = get(caller);
    if (!c) return;
    send(caller, mspi::channel_message_type::remote_answer, l->answer_sdp);
    l->connected = c->connected = true;
    sink().call_state(callee, line_call_state::connected);
    sink().call_state(caller, line_call_state::connected);
    send(callee, mspi::channel_message_type::start_media);
    send(caller, mspi::channel_message_type::start_media);
  }

  void end_leg(call_id c, line_disconnect_mode mode) {
    auto* l = get(c);
    if (!l) return;
    if (l->connected) send(c, mspi::channel_message_type::stop_media);
    l->peer = 0;
    l->connected = false;
    l->no_answer.reset();  // cancels the wait
    sink().call_state(c, line_call_state::disconnected, static_cast<std::uint32_t>(mode));
  }

  config_type cfg_;
  tsp_context ctx_;
  std::map<call_id, leg> legs_;
  std::vector<bool> msp_open_;  // per address: its MSP instance is open
  std::map<std::size_t, forward_information> forwards_;  // per address: its forwarding rules
};

static_assert(telephony_service_provider<loopback_tsp>);

}  // namespace tspi

#endif  // PTAPI_FULL_DEFINITIONS
