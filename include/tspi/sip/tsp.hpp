// ptapi - portable TAPI
// tspi/sip/tsp.hpp: the SIP TSP: a SIP user agent (RFC 3261) whose accounts are TAPI addresses and whose
// INVITE sessions are TAPI calls. Media is the paired MSP's business: SDP bodies travel over the TSP <-> MSP
// channel, as TAPI intends.
#pragma once

#include <ptapi/config.hpp>
#include <tspi/sip/tsp_fwd.hpp>

// Separate compilation: the above declares the provider; ptapi/src.hpp compiles the rest.
#if PTAPI_FULL_DEFINITIONS

#include <tspi/call_state.hpp>
#include <tspi/sip/causes.hpp>
#include <tspi/sip/config.hpp>
#include <tspi/sip/detail/call_information.hpp>
#include <tspi/sip/detail/diversion.hpp>
#include <tspi/sip/detail/registration.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/dialog.hpp>
#include <tspi/sip/digest.hpp>
#include <tspi/sip/dns/resolver.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/transport.hpp>
#include <tspi/sip/uri.hpp>
#include <tspi/tsp.hpp>

#include <mspi/channel.hpp>
#include <mspi/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace tspi::sip {

/// The SIP TSP (the role of TAPI 3's H.323 and IPConf providers, for SIP). Pair it with an SDP-speaking
/// MSP (`mspi::rtp_opus_msp`): `tapi.register_provider<sip::sip_tsp, mspi::rtp_opus_msp>(sip_cfg, media_cfg)`.
///
/// Each account of `sip_config` is one address (name = its AOR). Call control maps onto SIP as follows:
///
/// | TAPI | SIP |
/// |---|---|
/// | `connect` | INVITE with the MSP's offer and `Supported: 100rel`; 100 → in_progress, 180/183 → ringback (in_progress), 2xx → ACK, connected |
/// | `set_info_string` before `connect` (LINECALLPARAMS) | CIS_CALLEDPARTYFRIENDLYNAME → the To display-name; CIS_COMMENT → Subject (RFC 3261 §20.36); CIS_CALLINGPARTYID → P-Preferred-Identity (RFC 3325 §9.2; one that is not a SIP URI or `user@host` ends the call as a bad address, `provider_detail` saying so); CIS_DISPLAYABLEADDRESS stays local |
/// | `set_info_buffer(user_user_info)` before `connect` | User-to-User: the bytes in hex, `;encoding=hex` (RFC 7433 §4.1) |
/// | `unpark`, `pickup` (TSPI_lineUnpark, TSPI_linePickup) | an INVITE to the call's destination (the park or pickup address), as `connect`; a pickup group → `invalid_group_id` |
/// | `park_direct` (TSPI_linePark, directed) | REFER with Refer-To the park address, as `blind_transfer` |
/// | 1xx with SDP (early media, RFC 3261 §13.2.1) | the SDP goes to the MSP as the answer and media starts while the call is in progress (stream events as usual); the last early SDP received wins until the 2xx, whose SDP (or the winning dialog's reliable 1xx's) takes over, applied only if different |
/// | 1xx with `Require: 100rel` + RSeq | PRACK with RAck in that early dialog (RFC 3262 §4); a repeated or out-of-order RSeq is ignored |
/// | 2xx of a second fork (another To tag) | ACK + BYE in that dialog (RFC 3261 §13.2.2.4); the call stays with the first 2xx |
/// | a destination, registrar or outbound proxy by host name | RFC 3263 §4 (NAPTR → SRV → A/AAAA, `dns_resolver`, servers from `sip_config::dns`) before the request leaves; no address → disconnected (badaddress), `provider_detail` saying why |
/// | `sips:` or `;transport=tls` destination | over TLS (RFC 3261 §26.2, `sip_config::tls`; NAPTR SIPS+D2T, SRV `_sips._tcp`, port 5061), the server's certificate verified and naming the URI's host (RFC 5922); a `sips:` target behind a non-TLS outbound proxy, or TLS not enabled → disconnected (badaddress) at once, `provider_detail` "requires TLS": never replaced by UDP/TCP |
/// | TLS handshake failure (untrusted certificate, wrong name, timeout) | like a transport error: the next DNS target, then disconnected (unreachable), `provider_detail` naming the destination and the certificate problem |
/// | a call over TLS | `provider_call_info::signalling_secured`: our hop is TLS and the URI is `sips:` (every hop TLS, §26.2.2) or no proxy is in the path; Contact `sips:`, Via `SIP/2.0/TLS` |
/// | request outside a dialog with a `sips:` Request-URI that arrived over UDP or TCP | 416 (RFC 5630 §3.1.3: a `sips:` URI means TLS on every hop; never served in clear), no call is offered |
/// | timeout, transport error or 503 to our INVITE | the same INVITE (new transaction) to the next DNS target (RFC 3263 §4.3); after the last one, disconnected as below |
/// | 3xx to our INVITE | the INVITE to its Contacts in q order (RFC 3261 §8.1.3.4), at most `sip_config::max_redirects`, loops skipped; the 3xx's Diversion headers go into the new INVITE (RFC 5806 §3), and History-Info (RFC 7044) records the retargeting (an entry for the dialled URI, index 1, with the 3xx as escaped Reason; the Contact's entry, index 1.1, mp=1, with its RFC 4458 cause, else cause = the 3xx's status; each further 3xx a child entry); `provider_detail` names the redirection, `redirecting_id` the URI that redirected (the 3xx's Diversion, else the one dialled), `redirection_id` the Contact followed (without its `cause`), `redirecting_name` / `redirection_name` their display-names |
/// | `sip_account::outbound_proxy` | INVITE and REGISTER carry `Route: <proxy;lr>` and go to the proxy (RFC 3261 §8.1.2) |
/// | 401/407 to our INVITE | the same INVITE with credentials, if the account may answer the challenge (see below) |
/// | incoming INVITE | 100 + 180 (with `Require: 100rel`, the 180 is reliable: RSeq, retransmitted with T1, 2·T1... until PRACK (answered 200); none within 64·T1 → 500, disconnected (unavail), RFC 3262 §3); `call_notification_event` (owner), `offering`; no owner → 480; no room (`max_active_calls`, MSP capacity) or a resource failure → 503 + Retry-After (`sip_config::retry_after`) |
/// | nobody answers within `no_answer_timeout` | 480; disconnected (noanswer) |
/// | `forward` rules of the called address (TSPI_lineForward) | unconditional: 302 at once, no new call; busy: 302 instead of the 486 of `disconnect` offering (normal) or the 503 of no room; no answer: 302 after `num_rings_no_answer` × `ring_period`, disconnected (forwarded → normal). Contact = the rule's destination with the RFC 4458 `cause` (302, 486, 408), Diversion (RFC 5806) = our AOR with the reason and counter=1 |
/// | incoming INVITE with Diversion (RFC 5806) | `call_info::reason` fwd_uncond / fwd_busy / fwd_noanswer (redirect for other reasons), `redirecting_id` / `redirecting_name` = its first URI and display-name, known at the call notification |
/// | incoming INVITE with Subject | `call_info::comment` (CIS_COMMENT) |
/// | incoming INVITE with User-to-User | the first hex-encoded value's bytes (at most `max_user_user_info_size`) → `call_info::user_user_info` (CIB_USERUSERINFO); other encodings ignored |
/// | incoming INVITE with History-Info (RFC 7044) and no Diversion | the last retargeting (the last entry with an `mp` naming another entry; RFC 4244 entries: the last with a `cause`): `call_info::reason` from its RFC 4458 `cause` (486 fwd_busy, 408 fwd_noanswer, 302 or none fwd_uncond, others redirect), `redirecting_id` / `redirecting_name` = the entry it was retargeted from; a History-Info that does not parse (or more than 32 entries) is ignored |
/// | `answer` | 200 with the MSP's answer → connected; media starts when the ACK arrives (none within 64*T1 → BYE, disconnected (unavail), and no media was ever sent) |
/// | `disconnect` offering | 486 (normal), 603 (rejected), 480 (noanswer): `reject_status` |
/// | `disconnect` in progress | CANCEL (after a provisional response, RFC 3261 §9.1); a late 2xx gets ACK + BYE |
/// | `disconnect` connected/held | BYE |
/// | `hold(true)` / `hold(false)` | re-INVITE with `a=sendonly` / `a=sendrecv` (RFC 3264 §8.4) → hold / connected |
/// | `blind_transfer` | REFER (RFC 3515); completes on 202; a NOTIFY with a 2xx sipfrag → BYE, disconnected |
/// | `complete_transfer` (call::finish after call::transfer) | REFER in the primary dialog, Refer-To = the consultation call's far end with `?Replaces=` its dialog (RFC 5589 §7); completes on 202; a NOTIFY with a 2xx sipfrag → BYE of the primary call, and of the consultation call unless the target has ended it (its BYE after the Replaces) |
/// | incoming INVITE with Replaces (RFC 3891) naming a confirmed dialog of ours | a new call (`call_info::reason` transfer) answered at once without ringing (200 with the MSP's answer), and the replaced call ends with BYE (disconnected, normal); no such dialog → 481; two Replaces → 400 |
/// | `generate_digits` | RFC 4733 telephone-events by the MSP; its digits_generated / generate_failed (and tone_generated / tone_cancelled for tones) → LINE_GENERATE (`digit_generation_event`) |
/// | far end's REFER in a connected call (we are the transferee) | `sip_config::accept_refer`: 202, NOTIFY `100 Trying`, a new outgoing call to Refer-To (with Referred-By, and Replaces when Refer-To carries one) announced by `call_notification_event` (owner), `call_info::reason` = `transfer`, `incoming` false; its final response goes back as a NOTIFY sipfrag (Subscription-State terminated); once it connects the old call ends (the transferor's BYE, or ours 8*T1 later: disconnected, normal). Refused by policy, or no owner/room for the new call → 603; not exactly one Refer-To → 400; a second REFER while one runs → 491 |
/// | session timer (RFC 4028, `sip_config::session_expires`, `min_se`) | `Supported: timer`, Session-Expires and Min-SE in INVITEs; an offer below our Min-SE → 422; a 422 → the INVITE again with its Min-SE; the refresher (as the 2xx says) refreshes at half the interval: an UPDATE without offer when the peer's INVITE or 2xx Allows UPDATE (§9; on 405/501 a re-INVITE), else a re-INVITE of the unchanged session; without a refresh by interval − min(32 s, interval/3): BYE, disconnected (tempfailure → `disconnect_failed`) |
/// | far end's BYE | 200; disconnected (normal) |
/// | far end's UPDATE (RFC 3311), early or confirmed dialog | without SDP: 200 (target refresh); with SDP: offer to the MSP, its answer in the 200; 491 while our offer is pending, 500 + Retry-After while one to us is (the INVITE's, before our 2xx) |
/// | far end's CANCEL | 200 + 487; disconnected (cancelled) |
/// | failure responses | disconnected with `disconnect_mode_for_status` (causes.hpp) |
/// | INVITE sent or received, each response to it | LINE_CALLINFO (`call::info()`): Call-ID, responses, final status and reason, connected party, refused-challenge detail, header section (see `provider_call_info`) |
///
/// Also: OPTIONS answered 200 with Allow/Accept/Supported; INFO with `application/dtmf-relay` reported as
/// digits; unknown methods 501, known but unsupported ones (SUBSCRIBE, MESSAGE, REFER outside a dialog)
/// 405; UPDATE or PRACK outside a dialog 405; a Require naming an extension other than `100rel` and (while
/// session timers are on) `timer` → 420; a body other than SDP → 415; an offer the MSP cannot take
/// → 488; a request in an unknown dialog → 481; a lower CSeq within a dialog → 500. REGISTER with refresh
/// and digest authentication (RFC 8760) for accounts with a registrar, un-REGISTER at shutdown.
///
/// Registration and NAT: REGISTER goes to the registrar with the AOR's domain as Request-URI (RFC 3261
/// §10.2) and User-Agent; each outcome reaches `sip_config::on_registration`. The address is out of
/// service until the first 2xx (a call created before fails with `invalid_address_state`: wait for the
/// address's state event, see `address::create_call`). When the 2xx's Via `received`/`rport` (RFC 3581)
/// differ from our Contact, the account registers again at once with that address as Contact (removing
/// the old binding in the same REGISTER), and its calls use it too. A bind on the wildcard address
/// advertises, in Contact and the SDP `o=`/`c=` lines, the interface that routes to the peer (Via too);
/// `sip_config::public_address` replaces both. Keep-alives toward the registrar: `sip_keepalive`.
///
/// Hardening (every packet may be hostile):
/// - **No media to an unverified address.** An incoming call's media starts only when the ACK of our 2xx
///   arrives, whether auto-answered or not: the INVITE's `c=` could name a third party (the "voice hammer"),
///   and until the ACK nothing shows that its sender receives at the dialog's address. An unACKed 2xx
///   costs no media work. A re-INVITE from the peer that changes `c=` is taken: it comes within an
///   established, ACKed dialog whose Call-ID and tags (random, unguessable) only the peer knows, so it is
///   as trustworthy as the dialog; the MSP's source check (RTP from the negotiated address only) applies.
/// - **Digest answers only configured realms.** Credentials go only to realms of `sip_account::realms`
///   (by default the realm of the registrar's first challenge), and only with a qop unless
///   `sip_account::allow_rfc2069`. A challenge refused by that policy ends the call with `blocked`
///   (TAPI 3 `disconnect_blocked`, the same mode as a challenge that cannot be answered at all: the far
///   end demands credentials the account will not give it); no credentials are sent.
/// - **Nothing thrown reaches the transport.** A std::exception while handling a request answers it 503 +
///   Retry-After (resource exhaustion: std::bad_alloc, or a std::system_error for EMFILE, ENFILE, ENOMEM,
///   EAGAIN, ENOBUFS) or 500, if still unanswered; a call set up for it ends (tempfailure → disconnect_failed);
///   the stack runs on.
/// - **Nothing is kept for ended calls.** An ended call's Call-ID is free again 64*T1 after it ended, or
///   at `close_call`, whichever comes first; `close_call` drops everything of the call.
///
/// Not covered: RFC 3263 §5 (responses go to the request's source, RFC 3581 style, not to a resolved
/// Via sent-by), failover of REGISTER and in-dialog requests to further DNS targets (they use the first),
/// a negative DNS cache, strict routing, TLS (and so SIPS+D2T NAPTR records); of RFC 3262: reliable 1xx
/// only when the INVITE requires 100rel (not when it only supports it), offer/answer in PRACK or in a
/// reliable 1xx of ours (our 1xx carry no SDP; a PRACK's body is ignored); early media of several forks
/// mixed (one plays: the last SDP received); more than 16 early dialogs per INVITE (further ones are
/// reported, not PRACKed or played); UPDATE in an early dialog checks no CSeq order; of RFC 4028: the peer's
/// UPDATE refreshes (answered 200 without Session-Expires; our timers are not restarted by them) and
/// offerless re-INVITE refreshes, a 491 or 422 to a refresh re-INVITE retried; REFER with
/// `id`-tagged repeat subscriptions (RFC 3515 §2.4.6).
///
/// @par Thread Safety
/// The TAPI object calls every member on its core thread, and the SIP stack runs there too.
class sip_tsp {
 public:
  using config_type = sip_config;  ///< Settings, given at registration.

  /// Keeps the settings; nothing opens before `provider_init`. Throws only std::bad_alloc.
  explicit sip_tsp(const config_type& cfg = {}) : cfg_(cfg) {}
  sip_tsp(const sip_tsp&) = delete;
  sip_tsp& operator=(const sip_tsp&) = delete;
  ~sip_tsp() { provider_shutdown(); }

  /// LINEDEVCAPS::ProviderInfo
  [[nodiscard]] std::string_view provider_name() const noexcept { return "ptapi SIP"; }
  /// ACS_PROTOCOL (the TSP contract's optional `protocol()`): "SIP" (RFC 3261).
  [[nodiscard]] std::string_view protocol() const noexcept { return "SIP"; }
  /// Where the paired MSP binds and offers media when its settings name no address: `listen_address`
  /// (the TSP contract's optional `media_address()`). Never throws.
  [[nodiscard]] std::string media_address() const { return cfg_.listen_address; }
  /// True when every call's signalling goes over TLS (RFC 3261 §26.2): `sip_config::tls` on, `udp` and
  /// `tcp` off. The TSP contract's optional `signalling_secured()` (`mspi::msp_context::signalling_secured`:
  /// the MSP may then offer SDES keys, RFC 4568 §8.1). Each call also reports its own case in
  /// `provider_call_info::signalling_secured`. Never throws.
  [[nodiscard]] bool signalling_secured() const noexcept { return cfg_.tls && !cfg_.udp && !cfg_.tcp; }

  /// TSPI_providerInit: checks the settings, binds UDP/TCP and starts the registrations (each once its
  /// registrar, or the account's outbound proxy, is resolved: a name that does not resolve leaves the
  /// address out of service and is looked up again every `registration_retry`). Errors:
  /// `tapi_errc::invalid_argument` (see `sip_config`; also a registrar or outbound proxy that requires
  /// TLS, and DNS servers c-ares cannot parse); the system error when a socket cannot be bound
  /// (`address_in_use`...).
  void provider_init(const tsp_context& ctx, std::error_code& ec);

  /// TSPI_providerShutdown: un-REGISTERs (Expires: 0, not awaited), ends what is left and closes the sockets.
  void provider_shutdown();

  /// TSPI_lineGetAddressCaps: one address per account, named by its AOR (empty before `provider_init`). An
  /// account with a registrar is out of service until its first registration succeeds (AE_STATE then).
  [[nodiscard]] std::vector<address_info> addresses() const {
    std::vector<address_info> out;
    for (const auto& a : accounts_)
      out.push_back({a.aor.to_string(), a.aor.to_string(), mspi::media_type::audio, cfg_.max_active_calls,
                     a.config.registrar.empty() ? address_state::in_service : address_state::out_of_service,
                     0x1 | 0x8 | 0x10});  // LINEADDRESSTYPE_PHONENUMBER | DOMAINNAME | IPADDRESS: user, user@host, URIs
    return out;
  }

  /// TSPI_lineMakeCall: `destination` is a SIP URI, or `user@host[:port]` (then `sip:` is assumed); the
  /// host may be a name (RFC 3263, asynchronous: the call stays `dialing` meanwhile). Completes at once;
  /// a destination that does not parse, requires TLS, or whose first hop does not resolve ends the call
  /// with `badaddress` (`provider_detail` saying why). Error (completion): `no_driver` without an open MSP.
  void make_call(request_id req, std::size_t address_id, call_id call, std::string_view destination, mspi::media_type media) {
    make_call(req, address_id, call, destination, media, call_params{});
  }
  /// TSPI_lineMakeCall with LINECALLPARAMS' strings (`call::set_info_string`): as above, the INVITE carrying
  /// them (see the table). A `params.calling_party_id` that is not a SIP URI or `user@host` ends the call with
  /// `badaddress`.
  void make_call(request_id req, std::size_t address_id, call_id call, std::string_view destination, mspi::media_type,
                 const call_params& params);

  /// TSPI_lineAnswer: sends 200 with the MSP's answer (at once, or as soon as the MSP has made it).
  /// Error (completion): `invalid_call_state` unless the call is an offering incoming call.
  void answer(request_id req, call_id call);

  /// TSPI_lineDrop: rejects (offering), cancels (in progress) or hangs up (connected); completes at once
  /// and reports `disconnected` (normal).
  void drop(request_id req, call_id call, disconnect_code code);

  /// TSPI_lineCloseCall: forgets the call and its Call-ID (a later INVITE with that Call-ID is a new call);
  /// SIP transactions still running finish on their own. Nothing of the call stays in the TSP.
  void close_call(call_id call);

  /// TSPI_lineCreateMSPInstance: calls on `address_id` may start.
  void create_msp_instance(std::size_t address_id);
  /// TSPI_lineCloseMSPInstance: no new calls start on `address_id`.
  void close_msp_instance(std::size_t address_id);

  /// TSPI_lineReceiveMSPData: the MSP's offers, answers, errors and detected digits.
  void receive_msp_data(call_id call, std::span<const std::byte> data);

  /// TSPI_lineHold: re-INVITE with `a=sendonly`; completes on its 2xx (then `onhold`). Errors
  /// (completion): `invalid_call_state` (not connected, or a re-INVITE pending); `request_failed` when
  /// refused; `timeout`.
  void hold(request_id req, call_id call) { reinvite(req, call, detail::reinvite_kind::hold); }
  /// TSPI_lineUnhold: re-INVITE with `a=sendrecv`; completes on its 2xx (then `connected`).
  void unhold(request_id req, call_id call) { reinvite(req, call, detail::reinvite_kind::unhold); }

  /// TSPI_lineBlindTransfer: REFER (RFC 3515 §2.4) with Refer-To `destination` (a SIP URI or `user@host`).
  /// Completes on the 2xx; errors (completion): `invalid_call_state` unless connected or held;
  /// `invalid_address` when `destination` does not parse; `request_failed` when refused; `timeout`.
  void blind_transfer(request_id req, call_id call, std::string_view destination);

  /// TSPI_linePark (LINEPARKMODE_DIRECTED): parks the call as PBXs offer it (RFC 5359's Call Park example:
  /// the parked party is transferred to the park server): a REFER with Refer-To `park_address` (e.g.
  /// `sip:701@pbx`), exactly as `blind_transfer`, with its completion and errors.
  void park(request_id req, call_id call, std::string_view park_address) { blind_transfer(req, call, park_address); }

  /// TSPI_lineUnpark: retrieves the call parked at `destination` by calling it (an INVITE to the park address:
  /// the PBX connects the parked party, RFC 5359's Call Park example). As `make_call`, with its errors.
  void unpark(request_id req, std::size_t address_id, call_id call, std::string_view destination, mspi::media_type media) {
    make_call(req, address_id, call, destination, media);
  }

  /// TSPI_linePickup: picks up the call alerting at `destination` by calling it (an INVITE to the PBX's pickup
  /// address, e.g. `sip:*8@pbx` or a directed-pickup code; RFC 5359's Call Pickup example). As `make_call`.
  /// Error (completion): `invalid_group_id` for a non-empty `group_id` (SIP has no pickup group field: PBXs
  /// encode the group in the pickup address), and the call is not placed.
  void pickup(request_id req, std::size_t address_id, call_id call, std::string_view destination,
              std::string_view group_id, mspi::media_type media) {
    if (!group_id.empty()) return sink().completion(req, mspi::tapi_errc::invalid_group_id);
    make_call(req, address_id, call, destination, media);
  }

  /// TSPI_lineCompleteTransfer (LINETRANSFERMODE_TRANSFER): REFER in `call`'s dialog with Refer-To =
  /// `consultation`'s remote target carrying `Replaces` for the consultation dialog (RFC 5589 §7, RFC 3891).
  /// Completes on the 2xx; the NOTIFY with a 2xx sipfrag then ends `call` (BYE), and the target's BYE
  /// ends `consultation`. Errors (completion): `invalid_call_state` unless both calls are confirmed
  /// (connected or held) and no REFER is pending on `call`; `request_failed` when refused; `timeout`.
  void complete_transfer(request_id req, call_id call, call_id consultation);

  /// TSPI_lineGenerateDigits (DTMF): hands the digits to the MSP (RFC 4733); completes at once.
  void generate_digits(request_id req, call_id call, std::string_view digits,
                       std::chrono::milliseconds duration = std::chrono::milliseconds{0});

  /// TSPI_lineForward: the address's forwarding rules (see `address::forward`), replacing the previous
  /// ones; they apply to INVITEs arriving afterwards (302 + Diversion, RFC 5806). Completes at once;
  /// errors (completion): `invalid_argument` for an unknown address, `invalid_address` when a destination
  /// is not a SIP URI or `user@host`.
  void forward(request_id req, std::size_t address_id, const forward_information& f);

 private:
  using session_ptr = std::shared_ptr<detail::session>;
  struct account_entry {
    sip_account config;
    uri aor;
    digest_client auth;  // INVITE challenges (registrations keep their own)
    std::optional<uri> proxy;  // sip_account::outbound_proxy with `lr`
  };

  line_event_sink& sink() { return *ctx_.events; }
  session_ptr find(call_id call) const {
    auto it = sessions_.find(call);
    return it == sessions_.end() ? nullptr : it->second;
  }
  void send_msp(call_id call, mspi::channel_message_type type, std::string_view body = {}) {
    if (!call) return;
    auto frame = mspi::encode_channel_message(type, body);
    sink().send_msp_data(call, std::span<const std::byte>(frame));
  }
  // ---- common helpers (session/common.hpp) ----
  void close_stack();

  // A dialled destination: a SIP URI, or user@host[:port] with `sip:` assumed.
  static std::optional<uri> parse_destination(std::string_view d);

  // Where a URI's requests go when its host is an IP literal or localhost (else nullopt: see routing.hpp).
  std::optional<peer> resolve(const uri& u) const;
  // The transports a URI may be resolved to (sip_config::udp, tcp, tls).
  dns_transports transports() const noexcept { return {cfg_.udp, cfg_.tcp, cfg_.tls}; }
  // RFC 5922 §7: the TLS ones of `targets`, resolved from `hop`, must present a certificate naming hop's host.
  void note_tls_names(const uri& hop, const std::vector<peer>& targets) const;

  // The Contact of `address_id` over `p`: host `advertised_host`, or the address and (UDP) port the
  // account's registrar saw (Via received/rport, RFC 3581); our listening port.
  uri contact_uri(transport_protocol p, std::size_t address_id = 0, const peer* to = nullptr) const;
  void add_common(message& m, transport_protocol p, std::size_t address_id = 0, const peer* to = nullptr) const;
  // The address we advertise to `to` (nullptr: unknown): `public_address`, else the bound address, else
  // for a wildcard bind the interface routing to `to` (or to the account's registrar).
  std::string advertised_host(std::size_t address_id, const peer* to) const;
  // The MSP's SDP with the advertised address in `o=`/`c=` (wildcard bind, public address).
  std::string advertised_sdp(std::string sdp, std::size_t address_id, const peer& to) const;
  // Traces of what crosses the wire (sip_config::trace): the layer's sends, the transport's requests.
  void hook_wire();
  static constexpr std::string_view allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, PRACK, UPDATE, REFER";
  // Option tags we accept in Require (RFC 3261 §20.32) besides `timer` (while session timers are on); the
  // rest get 420 with Unsupported.
  static constexpr std::string_view supported = "100rel";

  // LINE_CALLINFO: the call's information as `s.info` holds it now.
  void report_info(detail::session& s) {
    if (s.call) sink().call_info_changed(s.call, s.info);
  }
  // A response to the call's initial INVITE (UAC); `settles`: see detail::note_invite_response.
  void note_response(detail::session& s, const message& r, bool settles) {
    detail::note_invite_response(s.info, r, settles);
    report_info(s);
  }
  // A response of ours to a call's initial INVITE (UAS) joins its information.
  void note_sent(const server_transaction& tx, const message& r) {
    if (tx.request().method != "INVITE") return;
    auto it = by_call_id_.find(std::string(tx.request().header("Call-ID").value_or("")));
    auto s = it == by_call_id_.end() ? nullptr : find(it->second);
    if (!s || s->invite_server.get() != &tx) return;
    detail::record_response(s->info, r.status);
    if (r.status >= 200 && s->info.provider_status == 0) {
      s->info.provider_status = r.status;
      s->info.provider_reason = r.reason;
    }
    report_info(*s);
  }
  // `sip_config::trace` of a response received by one of our transactions. Requests received and every
  // message sent are traced where they cross the wire (provider_init hooks the transport's `on_message`
  // and the layer's `on_send`), so that the trace shows Via, Max-Forwards and retransmitted requests as
  // they were; for those this does nothing.
  void trace(const message& m, bool outgoing) const {
    if (cfg_.trace && !outgoing && !m.is_request()) cfg_.trace(m, false);
  }
  void respond(server_transaction& tx, int status, const std::string& to_tag = {}, std::string body = {},
               std::string_view content_type = {});
  // The response `respond` sends (for adding fields), and sending one built so.
  message response_for(const server_transaction& tx, int status, const std::string& to_tag = {}, std::string body = {},
                       std::string_view content_type = {}) const;
  void send_response(server_transaction& tx, message r);
  void send_request(const session_ptr& s, message m, transaction_layer::response_handler h);
  void send_in_dialog(detail::session& s, std::string method);

  // The call is over for TAPI (once): media stops, `disconnected` with `mode`.
  void end(detail::session& s, line_disconnect_mode mode);
  // The Call-ID of `s`, as by_call_id_ knows it.
  static std::string call_id_of(const detail::session& s) {
    if (s.dialog) return s.dialog->call_id;
    return std::string(s.invite.header("Call-ID").value_or(""));
  }
  // Drops the Call-ID entry of `s` if it still names `call` (a new call may have taken the Call-ID).
  void forget_call_id(const detail::session& s, call_id call);
  // Runs `fn(session)` after `after` on the session's timer (replacing what it waited for), unless the
  // session is gone by then.
  template <class F>
  void arm(detail::session& s, std::chrono::steady_clock::duration after, F fn) {
    arm_timer(s.timer, s, after, std::move(fn));
  }
  // The same on another timer of the session.
  template <class F>
  void arm_timer(std::optional<boost::asio::steady_timer>& timer, detail::session& s,
                 std::chrono::steady_clock::duration after, F fn) {
    if (!timer) timer.emplace(ctx_.executor);
    timer->expires_after(after);
    std::weak_ptr<detail::session> weak = find(s.call);
    timer->async_wait([weak, fn = std::move(fn)](const boost::system::error_code& ec) {
      auto p = weak.lock();
      if (!ec && p) fn(*p);
    });
  }
  // An ended session keeps its Call-ID for 64*T1 (retransmissions of its last transactions still find
  // it, RFC 3261 §17), then the Call-ID is free again for a new call even while the application holds
  // the ended call.
  void linger(detail::session& s);

  void start_media(detail::session& s);

  // ---- UAC: INVITE (session/outgoing_invite.hpp) ----
  void on_local_offer(const session_ptr& s, std::string sdp);
  void send_invite(const session_ptr& s, std::string sdp);
  void send_invite_tx(const session_ptr& s);
  void on_invite_response(const session_ptr& s, const message* r, std::error_code ec);
  void on_invite_2xx(const session_ptr& s, const message& r);
  // The ACK of the 2xx `r` to the dialog's next hop; connected (or BYE when dropped meanwhile).
  void send_ack_and_connect(const session_ptr& s, const message& r);

  // ---- session/auth_retry.hpp ----
  // Digest authentication of an INVITE (RFC 3261 §22.2, RFC 8760): the same INVITE with CSeq + 1, a new
  // branch and the credentials. False when the account has none or they were refused already.
  // Only realms the account may answer (sip_account::realms, else its registrar's); never RFC 2069
  // unless allowed: a refused challenge ends the call (`blocked`) and no credentials leave.
  bool retry_with_credentials(const session_ptr& s, const message& challenge);

  // ---- UAS: taking requests (session/requests.hpp) ----
  // The TSP boundary for requests: nothing thrown while handling one reaches the transport. A request
  // still unanswered gets 503 + Retry-After (resource exhaustion: memory, file descriptors, threads) or
  // 500; a call set up for it ends (`tempfailure`).
  void on_request(std::shared_ptr<server_transaction> tx, const message& m);

  static bool is_resource_exhaustion(const std::exception& e);
  void contain_failure(server_transaction& tx, const std::exception& e) noexcept;
  // 503 Service Unavailable with Retry-After (RFC 3261 §21.5.4, §20.33).
  void respond_unavailable(server_transaction& tx, const std::string& to_tag = {});

  void handle_request(const std::shared_ptr<server_transaction>& tx, const message& m);
  static bool is_known_method(std::string_view m);

  // ---- UAS: INVITE (session/incoming_invite.hpp) ----
  // An INVITE outside a dialog: a new call (RFC 3261 §13.3).
  void on_invite(std::shared_ptr<server_transaction> tx, const message& m);

  std::optional<std::size_t> find_account(const uri& ruri) const;
  void on_local_answer(detail::session& s, std::string sdp);
  void on_media_error(detail::session& s);

  // 200 OK to the INVITE with our SDP (RFC 3261 §13.3.1.4): the dialog starts; connected.
  void send_2xx(detail::session& s);

  // Requests within a dialog (RFC 3261 §12.2.2) (session/requests.hpp).
  void on_in_dialog_request(std::shared_ptr<server_transaction> tx, const message& m);
  // A 2xx matching no transaction (session/requests.hpp).
  void on_stray_response(const message& r);

  // ---- re-INVITE: the peer's, and ours for hold / unhold (session/reinvite.hpp) ----
  void on_reinvite(const session_ptr& s, std::shared_ptr<server_transaction> tx, const message& m);

  // ---- DTMF (session/info.hpp) ----
  // INFO with application/dtmf-relay ("Signal=5"): a digit (the common non-RFC 4733 way).
  void on_info(detail::session& s, server_transaction& tx, const message& m);

  // ---- transfer (session/refer.hpp) ----
  // NOTIFY of our REFER's implicit subscription (RFC 3515 §2.4.5): a final 2xx sipfrag ends this call.
  void on_notify(detail::session& s, server_transaction& tx, const message& m);

  // ---- hold / unhold: our re-INVITE (session/reinvite.hpp) ----
  void reinvite(request_id req, call_id call, detail::reinvite_kind kind);
  void send_reinvite(const session_ptr& s, std::string sdp);

  // ---- early dialogs, early media, forks, PRACK of a reliable 1xx: UAC (session/early_media.hpp) ----
  static detail::early_dialog* early_dialog_of(detail::session& s, std::string_view remote_tag);
  // True when `r` (a 2xx) comes from the dialog the call is in (or none is yet).
  static bool is_winning_dialog(const detail::session& s, const message& r);
  // A 1xx to the call's INVITE: its early dialog, PRACK (RFC 3262 §4), early media. False when it is a
  // reliable 1xx repeated or out of order (then nothing else is done with it).
  bool on_provisional(const session_ptr& s, const message& r);
  void send_prack(detail::session& s, detail::early_dialog& e, std::uint32_t rseq);
  void take_early_answer(detail::session& s, detail::early_dialog& e, std::string_view sdp);
  // The 2xx's answer (or the winning dialog's early one) to the MSP, unless it is what already plays.
  void take_final_answer(detail::session& s, const message& r);
  // The confirmed dialog continues the CSeq of its early dialog (after PRACKs).
  void continue_early_dialog(detail::session& s);
  // A 2xx from a fork that lost: ACK, then BYE (once; its retransmissions get the ACK again).
  void end_fork(const session_ptr& s, const message& r);

  // ---- reliable provisional responses: UAS (session/prack.hpp) ----
  // Require option tags of `m` not in `supported`, comma-separated; empty when all are supported.
  std::string unsupported_extensions(const message& m) const;
  // A 1xx to the INVITE of `s`, reliably (RFC 3262 §3) when the INVITE required 100rel.
  void send_provisional(detail::session& s, int status);
  void retransmit_provisional(detail::session& s, std::chrono::steady_clock::duration interval,
                              std::chrono::steady_clock::duration spent);
  // PRACK (early or confirmed dialog): 200 when it acknowledges our unacknowledged 1xx, else 481.
  void on_prack(server_transaction& tx, const message& m);

  // ---- UPDATE, RFC 3311 (session/update.hpp) ----
  // True when `m` is a request of the peer in the call's early dialog.
  bool in_early_dialog(detail::session& s, const message& m);
  void on_update(std::shared_ptr<server_transaction> tx, const message& m);
  // Sends UPDATE in the confirmed dialog of `s` (RFC 3311 §5.1): with `sdp` an offer (its 2xx's answer
  // goes to the MSP as remote_answer), empty a refresh without offer. `done` gets the final response, or
  // (nullptr, timed_out / transport error), or at once (nullptr, operation_not_permitted) when the dialog
  // is not confirmed or an offer of ours is pending. A peer's offer meanwhile gets 491.
  void send_update(const session_ptr& s, std::string sdp, transaction_layer::response_handler done);

  // ---- session timers, RFC 4028 (session/session_timer.hpp) ----
  // Supported: timer, Session-Expires (the negotiated one and our role, or our wish) and Min-SE.
  void add_session_timer_request(message& m, const detail::session& s) const;
  // A 422 to our INVITE: resent with its larger Min-SE (§7.4), at most `session_interval_retries` times.
  bool retry_session_interval(const session_ptr& s, const message& r);
  // A Session-Expires below our Min-SE: answered 422 with our Min-SE (§9); true when it was.
  bool session_interval_too_small(server_transaction& tx, const message& m);
  // UAS: the interval and refresher from the peer's (re-)INVITE (§9).
  void accept_session_timer(detail::session& s, const message& m);
  // UAS: Supported/Require/Session-Expires of our 2xx to an INVITE.
  void add_session_timer_response(const server_transaction& tx, message& r);
  // UAC: the 2xx to our (re-)INVITE sets the interval and roles; the timers restart.
  void on_session_timer_answer(const session_ptr& s, const message& r);
  // (Re)arms the refresh (refresher) and expiry timers of a confirmed session.
  void start_session_timer(detail::session& s);
  // Our refresh: a re-INVITE with the MSP's offer of the same session, or (the peer allows UPDATE, §9) an
  // UPDATE without offer, falling back to a re-INVITE on 405/501.
  void refresh_by_reinvite(detail::session& s);
  void refresh_by_update(const session_ptr& s);

  // ---- being the transferee, RFC 3515 (session/transferee.hpp) ----
  // A REFER within a confirmed call: 202 and a new outgoing call (reason transfer), or 603 by policy.
  void on_refer(const session_ptr& s, server_transaction& tx, const message& m);
  // Referred-By and Replaces of an INVITE placed for a REFER.
  static void add_referral_headers(const detail::session& s, message& m);
  // The NOTIFY (message/sipfrag) that tells the referrer how the call placed for it ended, once.
  void report_to_referrer(detail::session& s, line_disconnect_mode mode = line_disconnect_mode::normal);
  void send_refer_notify(const session_ptr& s, int status, std::string_view reason);
  // ---- routing: DNS, failover, redirects, outbound proxy (session/routing.hpp) ----
  // The account's outbound proxy, else `target`: what a request outside a dialog is sent to.
  uri first_hop(std::size_t address_id, const uri& target) const;
  // A preloaded Route to the account's outbound proxy (RFC 3261 §8.1.2), unless `m` has a Route.
  void add_route(message& m, std::size_t address_id) const;
  // Resolves the first hop of `s->target` (RFC 3263 §4) into `s->targets`, then `then(s)`; a TLS target
  // or a failed resolution ends the call (badaddress, provider_detail saying why).
  void route_call(const session_ptr& s, std::function<void(const session_ptr&)> then);
  void refuse_destination(detail::session& s, std::error_code ec, const uri& hop);
  // The INVITE again as a new client transaction (CSeq + 1, new branch) to `s->remote`.
  void resend_invite(const session_ptr& s);
  // RFC 3263 §4.3: the INVITE to the next target after a timeout, transport error or 503; false when none.
  bool fail_over(const session_ptr& s);
  // RFC 3261 §8.1.3.4: the INVITE to the 3xx's next Contact (q order, loops skipped, `max_redirects`).
  bool follow_redirect(const session_ptr& s, const message& r);
  // ---- transfer (session/refer.hpp) ----
  // REFER with Refer-To <refer_to> in `s`'s dialog for request `req` (RFC 3515 §2.4).
  void send_refer(request_id req, const session_ptr& s, std::string refer_to);
  // The confirmed session an incoming Replaces header names (RFC 3891 §3), or nullptr.
  session_ptr replaced_session(std::string_view replaces) const;
  // ---- forwarding (session/forwarding.hpp) ----
  using forward_trigger = detail::forward_trigger;
  // The rule of address `address_id` that forwards `invite` when `t` happens: the caller's own rule
  // first, then the general one; nullptr when none.
  const forward_entry* forward_rule(std::size_t address_id, const message& invite, forward_trigger t) const;
  // num_rings_no_answer * ring_period of the address's rules.
  std::chrono::milliseconds no_answer_forward_delay(std::size_t address_id) const;
  // 302 to `rule.destination` (with the RFC 4458 cause of `t`) with Diversion (our AOR, the reason of `t`).
  void respond_forwarded(server_transaction& tx, const forward_entry& rule, std::size_t address_id, forward_trigger t,
                         const std::string& to_tag = {});
  // Sets `s->remote` to the dialog's next hop (DNS for a host name; unchanged when that fails), then `then(s)`.
  void route_in_dialog(const session_ptr& s, std::function<void(const session_ptr&)> then);
  // Starts account `i`'s registration once its registrar (or outbound proxy) is resolved; retries the
  // resolution after `registration_retry` while it fails (the address stays out of service).
  void start_registration(std::size_t i, uri registrar);

  config_type cfg_;
  tsp_context ctx_;
  std::vector<account_entry> accounts_;
  std::vector<bool> msp_open_;
  std::unordered_map<std::size_t, forward_information> forwards_;  // per address, while not empty
  std::unique_ptr<transport> transport_;
  std::unique_ptr<transaction_layer> layer_;
  std::vector<std::shared_ptr<detail::registration>> registrations_;
  std::unordered_map<call_id, session_ptr> sessions_;
  std::unordered_map<std::string, call_id> by_call_id_;  // SIP Call-ID -> TAPI call
  std::unique_ptr<dns_resolver> dns_;                     // RFC 3263 (session/routing.hpp)
  std::vector<std::shared_ptr<boost::asio::steady_timer>> registration_waits_;  // DNS retries of registrars
};

static_assert(telephony_service_provider<sip_tsp>);

}  // namespace tspi::sip

// The definitions of sip_tsp's members, one part of the SIP user agent per file.
#include <tspi/sip/session/provider.hpp>
#include <tspi/sip/session/common.hpp>
#include <tspi/sip/session/outgoing_invite.hpp>
#include <tspi/sip/session/auth_retry.hpp>
#include <tspi/sip/session/incoming_invite.hpp>
#include <tspi/sip/session/requests.hpp>
#include <tspi/sip/session/reinvite.hpp>
#include <tspi/sip/session/refer.hpp>
#include <tspi/sip/session/info.hpp>
#include <tspi/sip/session/early_media.hpp>
#include <tspi/sip/session/prack.hpp>
#include <tspi/sip/session/update.hpp>
#include <tspi/sip/session/session_timer.hpp>
#include <tspi/sip/session/transferee.hpp>
#include <tspi/sip/session/routing.hpp>
#include <tspi/sip/session/forwarding.hpp>

#endif  // PTAPI_FULL_DEFINITIONS
