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
#include <tspi/sip/detail/registration.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/dialog.hpp>
#include <tspi/sip/digest.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/transport.hpp>
#include <tspi/sip/uri.hpp>
#include <tspi/tsp.hpp>

#include <mspi/channel.hpp>
#include <mspi/error.hpp>

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
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
/// | `connect` | INVITE with the MSP's offer; 100 → in_progress, 180/183 → ringback (in_progress), 2xx → ACK, connected |
/// | 401/407 to our INVITE | the same INVITE with credentials, if the account may answer the challenge (see below) |
/// | incoming INVITE | 100 + 180; `call_notification_event` (owner), `offering`; no owner → 480; no room (`max_active_calls`, MSP capacity) or a resource failure → 503 + Retry-After (`sip_config::retry_after`) |
/// | nobody answers within `no_answer_timeout` | 480; disconnected (noanswer) |
/// | `answer` | 200 with the MSP's answer → connected; media starts when the ACK arrives (none within 64*T1 → BYE, disconnected (unavail), and no media was ever sent) |
/// | `disconnect` offering | 486 (normal), 603 (rejected), 480 (noanswer): `reject_status` |
/// | `disconnect` in progress | CANCEL (after a provisional response, RFC 3261 §9.1); a late 2xx gets ACK + BYE |
/// | `disconnect` connected/held | BYE |
/// | `hold(true)` / `hold(false)` | re-INVITE with `a=sendonly` / `a=sendrecv` (RFC 3264 §8.4) → hold / connected |
/// | `blind_transfer` | REFER (RFC 3515); completes on 202; a NOTIFY with a 2xx sipfrag → BYE, disconnected |
/// | `generate_digits` | RFC 4733 telephone-events by the MSP |
/// | far end's BYE | 200; disconnected (normal) |
/// | far end's CANCEL | 200 + 487; disconnected (cancelled) |
/// | failure responses | disconnected with `disconnect_mode_for_status` (causes.hpp) |
///
/// Also: OPTIONS answered 200 with Allow/Accept/Supported; INFO with `application/dtmf-relay` reported as
/// digits; unknown methods 501, known but unsupported ones (UPDATE, PRACK, SUBSCRIBE, MESSAGE, REFER to us)
/// 405; a Require naming an extension → 420; a body other than SDP → 415; an offer the MSP cannot take
/// → 488; a request in an unknown dialog → 481; a lower CSeq within a dialog → 500. REGISTER with refresh
/// and digest authentication (RFC 8760) for accounts with a registrar, un-REGISTER at shutdown.
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
/// Not covered: DNS (RFC 3263; hosts must be IP literals or `localhost`), strict routing, forking (the
/// first 2xx wins), PRACK/100rel, UPDATE, session timers, TLS, early media.
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
  /// Where the paired MSP binds and offers media when its settings name no address: `listen_address`
  /// (the TSP contract's optional `media_address()`). Never throws.
  [[nodiscard]] std::string media_address() const { return cfg_.listen_address; }

  /// TSPI_providerInit: checks the settings, binds UDP/TCP and starts the registrations. Errors:
  /// `tapi_errc::invalid_argument` (see `sip_config`); the system error when a socket cannot be bound
  /// (`address_in_use`...).
  void provider_init(const tsp_context& ctx, std::error_code& ec) {
    ec.clear();
    boost::system::error_code bec;
    const auto addr = boost::asio::ip::make_address(cfg_.listen_address, bec);
    if (bec || (!cfg_.udp && !cfg_.tcp)) {
      ec = mspi::tapi_errc::invalid_argument;
      return;
    }
    accounts_.clear();
    if (cfg_.accounts.empty()) {
      sip_account a;
      uri u;
      u.user = "ptapi";
      u.host = cfg_.listen_address;
      u.port = cfg_.port;
      a.aor = u.to_string();
      accounts_.push_back({a, u, digest_client()});
    }
    for (const auto& a : cfg_.accounts) {
      auto u = parse_uri(a.aor);
      if (!u || u->user.empty()) {
        ec = mspi::tapi_errc::invalid_argument;
        return;
      }
      accounts_.push_back({a, *u,
                           digest_client({a.username.empty() ? u->user : a.username, a.password},
                                         digest_policy{a.realms, false, a.allow_rfc2069})});
    }
    ctx_ = ctx;
    std::uint16_t port = cfg_.port;
    // With an ephemeral port, TCP takes UDP's port; when another socket holds that TCP port, try again
    // with another ephemeral port (a few times) rather than fail.
    for (int attempt = 0;; ++attempt) {
      ec.clear();
      port = cfg_.port;
      transport_ = std::make_unique<transport>(ctx.executor, cfg_.transport);
      if (cfg_.udp) {
        transport_->listen(transport_protocol::udp, addr, port, ec);
        if (ec) return close_stack();
        if (port == 0) port = transport_->local(transport_protocol::udp)->port;
      }
      if (cfg_.tcp) transport_->listen(transport_protocol::tcp, addr, port, ec);
      if (!ec) break;
      close_stack();
      if (cfg_.port != 0 || !cfg_.udp || ec != std::errc::address_in_use || attempt >= 8) return;
    }
    if (cfg_.accounts.empty() && cfg_.port == 0) accounts_[0].aor.port = port;
    layer_ = std::make_unique<transaction_layer>(*transport_, cfg_.timers);
    layer_->on_request = [this](std::shared_ptr<server_transaction> tx, const message& m) { on_request(std::move(tx), m); };
    layer_->on_stray_ack = [](const message&, const peer&) {};
    layer_->on_stray_response = [this](const message& r, const peer&) {
      try {
        on_stray_response(r);
      } catch (const std::exception&) {  // nothing escapes into the transport; the response is dropped
      }
    };
    registrations_.clear();
    for (std::size_t i = 0; i < accounts_.size(); ++i) {
      if (accounts_[i].config.registrar.empty()) continue;
      auto registrar = parse_destination(accounts_[i].config.registrar);
      auto hop = registrar ? resolve(*registrar) : std::nullopt;
      if (!hop) {
        ec = mspi::tapi_errc::invalid_argument;
        return close_stack();
      }
      registrations_.push_back(std::make_shared<detail::registration>(
          *layer_, ctx.executor, i, accounts_[i].config, accounts_[i].aor, *registrar, *hop,
          [this, i](transport_protocol p) { return contact_uri(p, i); }, cfg_.registration_retry,
          [this](std::size_t id, bool ok) {
            ctx_.events->address_state_changed(id, ok ? address_state::in_service : address_state::out_of_service);
          },
          cfg_.trace));
      registrations_.back()->start();
    }
  }

  /// TSPI_providerShutdown: un-REGISTERs (Expires: 0, not awaited), ends what is left and closes the sockets.
  void provider_shutdown() {
    for (auto& r : registrations_) r->unregister();
    registrations_.clear();
    for (auto& [id, s] : sessions_) s->call = 0;
    sessions_.clear();
    by_call_id_.clear();
    close_stack();
  }

  /// TSPI_lineGetAddressCaps: one address per account, named by its AOR (empty before `provider_init`). An
  /// account with a registrar is out of service until its first registration succeeds (AE_STATE then).
  [[nodiscard]] std::vector<address_info> addresses() const {
    std::vector<address_info> out;
    for (const auto& a : accounts_)
      out.push_back({a.aor.to_string(), a.aor.to_string(), mspi::media_type::audio, cfg_.max_active_calls,
                     a.config.registrar.empty() ? address_state::in_service : address_state::out_of_service});
    return out;
  }

  /// TSPI_lineMakeCall: `destination` is a SIP URI, or `user@host[:port]` (then `sip:` is assumed).
  /// Completes at once; a destination that does not parse, or whose host is not an IP literal or
  /// `localhost`, ends the call with `badaddress`. Error (completion): `no_driver` without an open MSP.
  void make_call(request_id req, std::size_t address_id, call_id call, std::string_view destination, mspi::media_type) {
    if (address_id >= accounts_.size() || address_id >= msp_open_.size() || !msp_open_[address_id]) {
      sink().completion(req, mspi::tapi_errc::no_driver);
      return;
    }
    auto s = std::make_shared<detail::session>();
    s->call = call;
    s->address_id = address_id;
    sessions_[call] = s;
    sink().completion(req, {});
    sink().call_state(call, line_call_state::dialing);
    auto target = parse_destination(destination);
    auto to = target ? resolve(*target) : std::nullopt;
    if (!to) return end(*s, line_disconnect_mode::badaddress);
    s->target = *target;
    s->remote = *to;
    s->local_tag = random_token(10);
    send_msp(call, mspi::channel_message_type::request_offer);  // INVITE goes out with the offer
  }

  /// TSPI_lineAnswer: sends 200 with the MSP's answer (at once, or as soon as the MSP has made it).
  /// Error (completion): `invalid_call_state` unless the call is an offering incoming call.
  void answer(request_id req, call_id call) {
    auto s = find(call);
    if (!s || !s->incoming || s->phase != detail::session_phase::offered) {
      sink().completion(req, mspi::tapi_errc::invalid_call_state);
      return;
    }
    s->phase = detail::session_phase::answering;
    s->answer_request = req;
    if (!s->local_sdp.empty()) send_2xx(*s);
  }

  /// TSPI_lineDrop: rejects (offering), cancels (in progress) or hangs up (connected); completes at once
  /// and reports `disconnected` (normal).
  void drop(request_id req, call_id call, disconnect_code code) {
    auto s = find(call);
    if (!s || s->phase == detail::session_phase::ended) {
      sink().completion(req, mspi::tapi_errc::invalid_call_state);
      return;
    }
    sink().completion(req, {});
    using P = detail::session_phase;
    switch (s->phase) {
      case P::preparing: break;
      case P::inviting:
        s->cancel_pending = true;
        if (auto tx = s->invite_tx.lock()) layer_->cancel(tx, [](const message*, std::error_code) {});
        break;
      case P::offered:
      case P::answering:
        if (s->invite_server) respond(*s->invite_server, reject_status(code), s->local_tag);
        break;
      case P::confirmed: send_in_dialog(*s, "BYE"); break;
      case P::ended: break;
    }
    end(*s, line_disconnect_mode::normal);
  }

  /// TSPI_lineCloseCall: forgets the call and its Call-ID (a later INVITE with that Call-ID is a new call);
  /// SIP transactions still running finish on their own. Nothing of the call stays in the TSP.
  void close_call(call_id call) {
    auto it = sessions_.find(call);
    if (it == sessions_.end()) return;
    it->second->call = 0;
    forget_call_id(*it->second, call);
    if (it->second->timer) it->second->timer->cancel();
    sessions_.erase(it);
  }

  /// TSPI_lineCreateMSPInstance: calls on `address_id` may start.
  void create_msp_instance(std::size_t address_id) {
    if (msp_open_.size() <= address_id) msp_open_.resize(address_id + 1, false);
    msp_open_[address_id] = true;
  }
  /// TSPI_lineCloseMSPInstance: no new calls start on `address_id`.
  void close_msp_instance(std::size_t address_id) {
    if (address_id < msp_open_.size()) msp_open_[address_id] = false;
  }

  /// TSPI_lineReceiveMSPData: the MSP's offers, answers, errors and detected digits.
  void receive_msp_data(call_id call, std::span<const std::byte> data) {
    auto msg = mspi::decode_channel_message(data);
    auto s = find(call);
    if (!msg || !s) return;
    using T = mspi::channel_message_type;
    switch (msg->type) {
      case T::local_offer: on_local_offer(s, std::string(msg->body)); break;
      case T::local_answer: on_local_answer(*s, std::string(msg->body)); break;
      case T::media_error: on_media_error(*s); break;
      case T::digit_detected:
        if (msg->body.size() == 1) sink().digit_detected(call, msg->body[0]);
        break;
      default: break;
    }
  }

  /// TSPI_lineHold: re-INVITE with `a=sendonly`; completes on its 2xx (then `onhold`). Errors
  /// (completion): `invalid_call_state` (not connected, or a re-INVITE pending); `request_failed` when
  /// refused; `timeout`.
  void hold(request_id req, call_id call) { reinvite(req, call, detail::reinvite_kind::hold); }
  /// TSPI_lineUnhold: re-INVITE with `a=sendrecv`; completes on its 2xx (then `connected`).
  void unhold(request_id req, call_id call) { reinvite(req, call, detail::reinvite_kind::unhold); }

  /// TSPI_lineBlindTransfer: REFER (RFC 3515 §2.4) with Refer-To `destination` (a SIP URI or user@host).
  /// Completes on the 2xx; errors (completion): `invalid_call_state` unless connected or held;
  /// `invalid_address` when `destination` does not parse; `request_failed` when refused; `timeout`.
  void blind_transfer(request_id req, call_id call, std::string_view destination) {
    auto s = find(call);
    if (!s || s->phase != detail::session_phase::confirmed || s->transfer_request) {
      sink().completion(req, mspi::tapi_errc::invalid_call_state);
      return;
    }
    auto target = parse_destination(destination);
    if (!target) {
      sink().completion(req, mspi::tapi_errc::invalid_address);
      return;
    }
    s->transfer_request = req;
    auto refer = s->dialog->make_request("REFER");
    refer.add("Refer-To", "<" + target->to_string() + ">");
    refer.add("Referred-By", s->dialog->local.to_string());
    add_common(refer, s->remote.protocol);
    send_request(s, std::move(refer), [this, s](const message* r, std::error_code ec) {
      if (r && r->status < 200) return;
      const auto req = std::exchange(s->transfer_request, 0);
      if (!req || !s->call) return;
      if (r && r->status < 300) {
        s->transferring = true;
        sink().completion(req, {});
      } else {
        sink().completion(req, ec ? mspi::tapi_errc::timeout : mspi::tapi_errc::request_failed);
      }
    });
  }

  /// TSPI_lineGenerateDigits (DTMF): hands the digits to the MSP (RFC 4733); completes at once.
  void generate_digits(request_id req, call_id call, std::string_view digits) {
    auto s = find(call);
    if (!s || s->phase != detail::session_phase::confirmed) {
      sink().completion(req, mspi::tapi_errc::invalid_call_state);
      return;
    }
    send_msp(call, mspi::channel_message_type::generate_digits, digits);
    sink().completion(req, {});
  }

 private:
  using session_ptr = std::shared_ptr<detail::session>;
  struct account_entry {
    sip_account config;
    uri aor;
    digest_client auth;  // INVITE challenges (registrations keep their own)
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
  void close_stack() {
    if (layer_) layer_->close();
    if (transport_) transport_->close();
    layer_.reset();
    transport_.reset();
  }

  // A dialled destination: a SIP URI, or user@host[:port] with `sip:` assumed.
  static std::optional<uri> parse_destination(std::string_view d) {
    d = detail::trim(d);
    const bool has_scheme = d.size() > 4 && (detail::iequals(d.substr(0, 4), "sip:") || detail::iequals(d.substr(0, 5), "sips:"));
    return parse_uri(has_scheme ? std::string(d) : "sip:" + std::string(d));
  }

  // Where a URI's requests go: IP literal or localhost, port, transport parameter (RFC 3263 is not done).
  std::optional<peer> resolve(const uri& u) const {
    peer p;
    auto t = u.param("transport");
    p.protocol = t && detail::iequals(*t, "tcp") ? transport_protocol::tcp : transport_protocol::udp;
    if ((p.protocol == transport_protocol::tcp && !cfg_.tcp) || (p.protocol == transport_protocol::udp && !cfg_.udp))
      p.protocol = cfg_.udp ? transport_protocol::udp : transport_protocol::tcp;
    boost::system::error_code bec;
    p.address = boost::asio::ip::make_address(detail::iequals(u.host, "localhost") ? "127.0.0.1" : u.host, bec);
    if (bec) return std::nullopt;
    p.port = u.port_or_default();
    return p;
  }

  uri contact_uri(transport_protocol p, std::size_t address_id = 0) const {
    uri c;
    c.user = address_id < accounts_.size() ? accounts_[address_id].aor.user : "ptapi";
    c.host = cfg_.listen_address;
    if (auto l = transport_ ? transport_->local(p) : std::nullopt) c.port = l->port;
    if (p == transport_protocol::tcp) c.params.push_back({"transport", "tcp"});
    return c;
  }
  void add_common(message& m, transport_protocol p, std::size_t address_id = 0) const {
    if (m.method != "ACK" && m.method != "CANCEL" && m.method != "BYE" && !m.header("Contact"))
      m.add("Contact", "<" + contact_uri(p, address_id).to_string() + ">");
    if (!cfg_.user_agent.empty()) m.add(m.is_request() ? "User-Agent" : "Server", cfg_.user_agent);
  }
  static constexpr std::string_view allow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY";

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
    s->info.provider_responses.push_back(r.status);
    if (r.status >= 200 && s->info.provider_status == 0) {
      s->info.provider_status = r.status;
      s->info.provider_reason = r.reason;
    }
    report_info(*s);
  }
  void trace(const message& m, bool outgoing) const {
    if (cfg_.trace) cfg_.trace(m, outgoing);
  }
  void respond(server_transaction& tx, int status, const std::string& to_tag = {}, std::string body = {},
               std::string_view content_type = {}) {
    auto r = make_response(tx.request(), status, to_tag);
    if (status == 405 || (status >= 200 && status < 300 && tx.request().method != "BYE")) r.add("Allow", std::string(allow));
    if (status == 415) r.add("Accept", "application/sdp");
    if (tx.request().method == "INVITE" && status > 100 && status < 300) {
      // §12.1.1: responses that establish the dialog carry the request's Record-Route values, in order, so
      // the caller's ACK and later requests go through the proxies that asked to stay on the path.
      for (auto rr : tx.request().headers_named("Record-Route")) r.add("Record-Route", std::string(rr));
      add_common(r, tx.source().protocol);
    } else if (!cfg_.user_agent.empty())
      r.add("Server", cfg_.user_agent);
    note_sent(tx, r);
    if (!body.empty()) {
      r.add("Content-Type", std::string(content_type));
      r.body = std::move(body);
    }
    trace(r, true);
    tx.respond(std::move(r));
  }
  void send_request(const session_ptr& s, message m, transaction_layer::response_handler h) {
    trace(m, true);
    layer_->send_request(std::move(m), s->remote, [this, h = std::move(h)](const message* r, std::error_code ec) {
      if (r) trace(*r, false);
      h(r, ec);
    });
  }
  void send_in_dialog(detail::session& s, std::string method) {
    if (!s.dialog) return;
    auto m = s.dialog->make_request(std::move(method));
    add_common(m, s.remote.protocol, s.address_id);
    trace(m, true);
    layer_->send_request(std::move(m), s.remote, [this](const message* r, std::error_code) {
      if (r) trace(*r, false);
    });
  }

  // The call is over for TAPI (once): media stops, `disconnected` with `mode`.
  void end(detail::session& s, line_disconnect_mode mode) {
    if (s.phase == detail::session_phase::ended) return;
    s.phase = detail::session_phase::ended;
    linger(s);
    if (!s.call) return;
    if (s.media_started) send_msp(s.call, mspi::channel_message_type::stop_media);
    s.media_started = false;
    if (s.answer_request) sink().completion(std::exchange(s.answer_request, 0), mspi::tapi_errc::invalid_call_state);
    if (s.reinvite_request) sink().completion(std::exchange(s.reinvite_request, 0), mspi::tapi_errc::dropped);
    if (s.transfer_request) sink().completion(std::exchange(s.transfer_request, 0), mspi::tapi_errc::dropped);
    sink().call_state(s.call, line_call_state::disconnected, static_cast<std::uint32_t>(mode));
  }
  // The Call-ID of `s`, as by_call_id_ knows it.
  static std::string call_id_of(const detail::session& s) {
    if (s.dialog) return s.dialog->call_id;
    return std::string(s.invite.header("Call-ID").value_or(""));
  }
  // Drops the Call-ID entry of `s` if it still names `call` (a new call may have taken the Call-ID).
  void forget_call_id(const detail::session& s, call_id call) {
    auto it = by_call_id_.find(call_id_of(s));
    if (it != by_call_id_.end() && it->second == call) by_call_id_.erase(it);
  }
  // Runs `fn(session)` after `after` on the session's timer (replacing what it waited for), unless the
  // session is gone by then.
  template <class F>
  void arm(detail::session& s, std::chrono::steady_clock::duration after, F fn) {
    if (!s.timer) s.timer.emplace(ctx_.executor);
    s.timer->expires_after(after);
    std::weak_ptr<detail::session> weak = find(s.call);
    s.timer->async_wait([weak, fn = std::move(fn)](const boost::system::error_code& ec) {
      auto p = weak.lock();
      if (!ec && p) fn(*p);
    });
  }
  // An ended session keeps its Call-ID for 64*T1 (retransmissions of its last transactions still find
  // it, RFC 3261 §17), then the Call-ID is free again for a new call even while the application holds
  // the ended call.
  void linger(detail::session& s) {
    if (!s.call || !find(s.call)) return;
    arm(s, 64 * cfg_.timers.t1, [this](detail::session& p) { forget_call_id(p, p.call); });
  }
  void start_media(detail::session& s) {
    if (s.media_started || !s.call) return;
    s.media_started = true;
    send_msp(s.call, mspi::channel_message_type::start_media);
  }

  // ---- UAC: INVITE ----
  void on_local_offer(const session_ptr& s, std::string sdp) {
    if (s->phase == detail::session_phase::preparing) return send_invite(s, std::move(sdp));
    if (s->phase == detail::session_phase::confirmed && s->reinvite != detail::reinvite_kind::none) return send_reinvite(s, std::move(sdp));
    if (s->incoming && s->late_offer) {  // our offer goes in the 2xx
      s->local_sdp = std::move(sdp);
      if (s->phase == detail::session_phase::answering) send_2xx(*s);
    }
  }

  void send_invite(const session_ptr& s, std::string sdp) {
    const auto& acct = accounts_[s->address_id];
    message m;
    m.method = "INVITE";
    m.request_uri = s->target.to_string();
    name_addr from{acct.config.display_name, acct.aor, {}};
    from.set_param("tag", s->local_tag);
    m.add("From", from.to_string());
    m.add("To", name_addr{{}, s->target, {}}.to_string());
    m.add("Call-ID", random_token(20) + "@" + cfg_.listen_address);
    m.add("CSeq", "1 INVITE");
    add_common(m, s->remote.protocol, s->address_id);
    m.add("Allow", std::string(allow));
    m.add("Content-Type", "application/sdp");
    m.body = std::move(sdp);
    s->invite = m;
    by_call_id_[std::string(*m.header("Call-ID"))] = s->call;
    s->info.provider_call_id = std::string(*m.header("Call-ID"));
    report_info(*s);
    s->phase = detail::session_phase::inviting;
    send_invite_tx(s);
  }
  void send_invite_tx(const session_ptr& s) {
    trace(s->invite, true);
    s->invite_tx = layer_->send_request(s->invite, s->remote, [this, s](const message* r, std::error_code ec) {
      if (r) trace(*r, false);
      on_invite_response(s, r, ec);
    });
  }

  void on_invite_response(const session_ptr& s, const message* r, std::error_code ec) {
    using P = detail::session_phase;
    if (!r) {  // Timer B or a transport error (RFC 3261 §8.1.3.1: as 408 / 503)
      if (s->phase == P::inviting) end(*s, ec == std::errc::timed_out ? line_disconnect_mode::noanswer : line_disconnect_mode::unreachable);
      return;
    }
    const bool initial = s->phase == P::inviting && s->call;  // a response to the call's initial INVITE
    if (r->status < 200) {
      if (!initial) return;
      note_response(*s, *r, false);
      if (r->status == 180 || r->status == 183) sink().call_state(s->call, line_call_state::ringback);
      else if (r->status == 100) sink().call_state(s->call, line_call_state::proceeding);
      return;
    }
    if (r->status < 300) {
      if (initial) {
        detail::note_connected(s->info, *r);
        note_response(*s, *r, true);
      }
      return on_invite_2xx(s, *r);
    }
    if ((r->status == 401 || r->status == 407) && s->phase == P::inviting && !s->cancel_pending) {
      if (retry_with_credentials(s, *r)) {
        if (initial) note_response(*s, *r, false);
        return;
      }
      const auto& acct = accounts_[s->address_id];
      s->info.provider_detail = detail::challenge_refusal(*r, s->target.to_string(), !acct.config.password.empty(),
                                                          s->auth_attempts > 0, acct.auth.policy());
    }
    if (initial) note_response(*s, *r, true);
    if (s->phase == P::inviting) end(*s, disconnect_mode_for_status(r->status));
  }

  void on_invite_2xx(const session_ptr& s, const message& r) {
    if (s->ack) {  // a retransmitted 2xx: the same ACK again (RFC 3261 §13.2.2.4)
      trace(*s->ack, true);
      layer_->send_ack(*s->ack, s->remote);
      return;
    }
    auto d = dialog::as_uac(s->invite, r);
    if (!d) {  // no Contact or To tag: unusable; end it
      if (s->phase == detail::session_phase::inviting) end(*s, line_disconnect_mode::unavail);
      return;
    }
    s->dialog = std::move(*d);
    if (auto hop = resolve(s->dialog->next_hop())) s->remote = *hop;
    auto cs = parse_cseq(s->invite.header("CSeq").value_or(""));
    auto ack = s->dialog->make_request("ACK", cs ? cs->number : 1);
    s->dialog->local_cseq = cs ? cs->number : 1;
    s->ack = ack;
    trace(ack, true);
    layer_->send_ack(std::move(ack), s->remote);
    if (s->cancel_pending || !s->call || s->phase != detail::session_phase::inviting) {
      send_in_dialog(*s, "BYE");  // dropped meanwhile: the dialog is ended at once
      return;
    }
    s->phase = detail::session_phase::confirmed;
    send_msp(s->call, mspi::channel_message_type::remote_answer, r.body);
    sink().call_state(s->call, line_call_state::connected);
    start_media(*s);
  }

  // Digest authentication of an INVITE (RFC 3261 §22.2, RFC 8760): the same INVITE with CSeq + 1, a new
  // branch and the credentials. False when the account has none or they were refused already.
  // Only realms the account may answer (sip_account::realms, else its registrar's); never RFC 2069
  // unless allowed: a refused challenge ends the call (`blocked`) and no credentials leave.
  bool retry_with_credentials(const session_ptr& s, const message& challenge) {
    auto& acct = accounts_[s->address_id];
    if (s->auth_attempts >= 2 || acct.config.password.empty()) return false;
    if (acct.config.realms.empty())
      for (const auto& r : registrations_)
        if (r->account() == s->address_id && r->realms() != acct.auth.policy().realms)
          acct.auth.set_policy(digest_policy{r->realms(), false, acct.config.allow_rfc2069});
    if (acct.auth.on_challenge(challenge)) return false;  // no usable or allowed Digest challenge
    auto cs = parse_cseq(s->invite.header("CSeq").value_or(""));
    s->invite.set("CSeq", std::to_string((cs ? cs->number : 1) + 1) + " INVITE");
    s->invite.remove("Via");
    if (acct.auth.authorize(s->invite)) return false;
    ++s->auth_attempts;
    send_invite_tx(s);
    return true;
  }

  // ---- UAS ----
  // The TSP boundary for requests: nothing thrown while handling one reaches the transport. A request
  // still unanswered gets 503 + Retry-After (resource exhaustion: memory, file descriptors, threads) or
  // 500; a call set up for it ends (`tempfailure`).
  void on_request(std::shared_ptr<server_transaction> tx, const message& m) {
    try {
      handle_request(tx, m);
    } catch (const std::exception& e) {
      contain_failure(*tx, e);
    }
  }
  static bool is_resource_exhaustion(const std::exception& e) {
    if (dynamic_cast<const std::bad_alloc*>(&e)) return true;
    auto se = dynamic_cast<const std::system_error*>(&e);
    if (!se) return false;
    const auto c = se->code().default_error_condition();
    for (auto errc : {std::errc::too_many_files_open, std::errc::too_many_files_open_in_system, std::errc::not_enough_memory,
                      std::errc::resource_unavailable_try_again, std::errc::no_buffer_space})
      if (c == errc) return true;
    return false;
  }
  void contain_failure(server_transaction& tx, const std::exception& e) noexcept {
    try {
      const bool exhausted = is_resource_exhaustion(e);
      auto it = by_call_id_.find(std::string(tx.request().header("Call-ID").value_or("")));
      auto s = it == by_call_id_.end() ? nullptr : find(it->second);
      if (s && s->invite_server.get() != &tx) s = nullptr;
      if (tx.status() < 200) {
        if (exhausted) respond_unavailable(tx, s ? s->local_tag : std::string());
        else respond(tx, 500, s ? s->local_tag : std::string());
      }
      if (s) end(*s, line_disconnect_mode::tempfailure);
    } catch (const std::exception&) {  // out of memory while answering: the request stays unanswered
    }
  }
  // 503 Service Unavailable with Retry-After (RFC 3261 §21.5.4, §20.33).
  void respond_unavailable(server_transaction& tx, const std::string& to_tag = {}) {
    auto r = make_response(tx.request(), 503, to_tag);
    if (cfg_.retry_after.count() > 0) r.add("Retry-After", std::to_string(cfg_.retry_after.count()));
    if (!cfg_.user_agent.empty()) r.add("Server", cfg_.user_agent);
    trace(r, true);
    tx.respond(std::move(r));
  }

  void handle_request(const std::shared_ptr<server_transaction>& tx, const message& m) {
    trace(m, false);
    if (m.method == "INVITE" && cfg_.trace) trace(make_response(m, 100), true);  // sent by the transaction layer (§17.2.1)
    auto to = parse_name_addr(m.header("To").value_or(""));
    const bool in_dialog = to && !to->tag().empty();
    if (in_dialog) return on_in_dialog_request(tx, m);
    if (m.method == "INVITE") return on_invite(tx, m);
    if (m.method == "OPTIONS") return respond(*tx, 200, random_token(10));
    if (m.method == "BYE" || m.method == "INFO" || m.method == "NOTIFY") return respond(*tx, 481);
    if (m.method == "ACK") return;
    respond(*tx, is_known_method(m.method) ? 405 : 501);
  }
  static bool is_known_method(std::string_view m) {
    for (auto k : {"UPDATE", "PRACK", "SUBSCRIBE", "MESSAGE", "PUBLISH", "REFER", "REGISTER"})
      if (m == k) return true;
    return false;
  }

  // An INVITE outside a dialog: a new call (RFC 3261 §13.3).
  void on_invite(std::shared_ptr<server_transaction> tx, const message& m) {
    if (auto req = m.header("Require")) {
      auto r = make_response(m, 420);
      r.add("Unsupported", std::string(*req));
      trace(r, true);
      return tx->respond(std::move(r));
    }
    if (!m.body.empty() && !detail::iequals(detail::trim(m.header("Content-Type").value_or("")), "application/sdp"))
      return respond(*tx, 415);
    const auto cid = std::string(m.header("Call-ID").value_or(""));
    if (by_call_id_.count(cid)) return respond(*tx, 482);  // a second INVITE of a call we have (merged/forked)
    auto ruri = parse_uri(m.request_uri);
    if (!ruri) return respond(*tx, 416);
    auto address_id = find_account(*ruri);
    if (!address_id) return respond(*tx, 404);
    if (*address_id >= msp_open_.size() || !msp_open_[*address_id]) return respond(*tx, 480);
    auto from = parse_name_addr(m.header("From").value_or(""));
    incoming_call_info info;
    info.address_id = *address_id;
    info.caller_id = from ? from->address.to_string() : std::string();
    info.caller_name = from ? from->display_name : std::string();
    info.called_id = ruri->to_string();
    std::error_code refused;
    const call_id call = sink().new_call(info, refused);
    if (!call) {
      if (refused == mspi::tapi_errc::not_owner) return respond(*tx, 480);  // TAPI's unowned-call rule
      return respond_unavailable(*tx);  // no room (max_active_calls, MSP capacity) or no resource
    }
    auto s = std::make_shared<detail::session>();
    s->call = call;
    s->address_id = *address_id;
    s->incoming = true;
    s->phase = detail::session_phase::offered;
    s->invite = m;
    s->invite_server = tx;
    s->local_tag = random_token(10);
    s->remote = tx->source();
    sessions_[call] = s;
    by_call_id_[cid] = call;
    s->info.provider_call_id = cid;
    if (auto to = parse_name_addr(m.header("To").value_or(""))) s->info.called_name = to->display_name;
    s->info.provider_responses.push_back(100);  // the transaction layer's 100 Trying (RFC 3261 §17.2.1)
    s->info.dev_specific = detail::header_section(m);
    report_info(*s);
    std::weak_ptr<detail::session> weak = s;
    tx->on_cancel = [this, weak] {
      auto s = weak.lock();
      if (!s || (s->phase != detail::session_phase::offered && s->phase != detail::session_phase::answering)) return;
      respond(*s->invite_server, 487, s->local_tag);
      end(*s, line_disconnect_mode::cancelled);
    };
    respond(*tx, 180, s->local_tag);
    sink().call_state(call, line_call_state::offering);
    if (cfg_.no_answer_timeout.count() > 0)
      arm(*s, cfg_.no_answer_timeout, [this](detail::session& p) {
        if (p.phase != detail::session_phase::offered || !p.invite_server) return;
        respond(*p.invite_server, 480, p.local_tag);
        end(p, line_disconnect_mode::noanswer);
      });
    if (m.body.empty()) {
      s->late_offer = true;
      send_msp(call, mspi::channel_message_type::request_offer);
    } else {
      send_msp(call, mspi::channel_message_type::remote_offer, m.body);
    }
  }

  std::optional<std::size_t> find_account(const uri& ruri) const {
    for (std::size_t i = 0; i < accounts_.size(); ++i)
      if (accounts_[i].aor.user == ruri.user) return i;
    if (accounts_.size() == 1) return 0;  // one account: it takes every call sent here
    return std::nullopt;
  }

  void on_local_answer(detail::session& s, std::string sdp) {
    if (s.remote_reinvite) {  // the peer's re-INVITE: answer it
      auto tx = std::exchange(s.remote_reinvite, nullptr);
      respond(*tx, 200, s.local_tag, std::move(sdp), "application/sdp");
      return;
    }
    if (!s.incoming || (s.phase != detail::session_phase::offered && s.phase != detail::session_phase::answering)) return;
    s.local_sdp = std::move(sdp);
    if (s.phase == detail::session_phase::answering) send_2xx(s);
  }

  void on_media_error(detail::session& s) {
    if (s.remote_reinvite) return respond(*std::exchange(s.remote_reinvite, nullptr), 488, s.local_tag);
    using P = detail::session_phase;
    if (s.incoming && (s.phase == P::offered || s.phase == P::answering)) {
      respond(*s.invite_server, 488, s.local_tag);
      return end(s, line_disconnect_mode::incompatible);
    }
    if (s.phase == P::preparing) return end(s, line_disconnect_mode::incompatible);
    if (s.phase == P::inviting) {
      s.cancel_pending = true;
      if (auto tx = s.invite_tx.lock()) layer_->cancel(tx, [](const message*, std::error_code) {});
      return end(s, line_disconnect_mode::incompatible);
    }
    if (s.phase == P::confirmed) {  // the answer was unusable (RFC 3264 §6 gives no way back): hang up
      send_in_dialog(s, "BYE");
      end(s, line_disconnect_mode::incompatible);
    }
  }

  // 200 OK to the INVITE with our SDP (RFC 3261 §13.3.1.4): the dialog starts; connected.
  void send_2xx(detail::session& s) {
    auto d = dialog::as_uas(s.invite, s.local_tag);
    if (!d) {
      respond(*s.invite_server, 400, s.local_tag);
      return end(s, line_disconnect_mode::unavail);
    }
    s.dialog = std::move(*d);
    if (auto hop = resolve(s.dialog->next_hop())) s.remote = *hop;
    s.remote.protocol = s.invite_server->source().protocol;
    std::weak_ptr<detail::session> weak = find(s.call);
    s.invite_server->on_ack = [this, weak](const message& ack) {
      trace(ack, false);
      auto s = weak.lock();
      if (!s || !s->call || s->phase != detail::session_phase::confirmed) return;
      if (s->late_offer && !ack.body.empty()) send_msp(s->call, mspi::channel_message_type::remote_answer, ack.body);
      start_media(*s);  // only now: the peer has shown it receives at the dialog's address
    };
    s.invite_server->on_ack_timeout = [this, weak] {
      auto s = weak.lock();
      if (!s || s->phase != detail::session_phase::confirmed) return;
      send_in_dialog(*s, "BYE");  // RFC 3261 §13.3.1.4: no ACK, the dialog ends
      end(*s, line_disconnect_mode::unavail);
    };
    respond(*s.invite_server, 200, s.local_tag, s.local_sdp, "application/sdp");
    s.phase = detail::session_phase::confirmed;
    if (s.answer_request) sink().completion(std::exchange(s.answer_request, 0), {});
    sink().call_state(s.call, line_call_state::connected);
    if (s.timer) s.timer->cancel();  // answered: no no-answer expiry
    // No start_media here: media waits for the ACK (on_ack), for every incoming call.
  }

  // Requests within a dialog (RFC 3261 §12.2.2).
  void on_in_dialog_request(std::shared_ptr<server_transaction> tx, const message& m) {
    const auto cid = std::string(m.header("Call-ID").value_or(""));
    auto it = by_call_id_.find(cid);
    auto s = it == by_call_id_.end() ? nullptr : find(it->second);
    if (m.method == "ACK") return;  // an ACK the layer did not match: nothing to do
    if (!s || !s->dialog || !s->dialog->matches_request(m)) return respond(*tx, 481);
    if (!s->dialog->accept_remote_cseq(m)) return respond(*tx, 500);
    if (m.method == "BYE") {
      respond(*tx, 200);
      return end(*s, line_disconnect_mode::normal);
    }
    if (s->phase != detail::session_phase::confirmed) return respond(*tx, 481);
    if (m.method == "INVITE") return on_reinvite(s, std::move(tx), m);
    if (m.method == "OPTIONS") return respond(*tx, 200);
    if (m.method == "INFO") return on_info(*s, *tx, m);
    if (m.method == "NOTIFY") return on_notify(*s, *tx, m);
    respond(*tx, is_known_method(m.method) ? 405 : 501);
  }

  void on_reinvite(const session_ptr& s, std::shared_ptr<server_transaction> tx, const message& m) {
    if (s->reinvite != detail::reinvite_kind::none || s->remote_reinvite) return respond(*tx, 491);  // RFC 3261 §14.2
    if (m.body.empty()) return respond(*tx, 488);  // an offerless re-INVITE is not supported
    if (auto hop = parse_name_addr(m.header("Contact").value_or(""))) s->dialog->remote_target = hop->address;
    s->remote_reinvite = std::move(tx);
    send_msp(s->call, mspi::channel_message_type::remote_offer, m.body);
  }

  // INFO with application/dtmf-relay ("Signal=5"): a digit (the common non-RFC 4733 way).
  void on_info(detail::session& s, server_transaction& tx, const message& m) {
    const auto type = detail::trim(m.header("Content-Type").value_or(""));
    if (!m.body.empty() && !detail::iequals(type, "application/dtmf-relay")) return respond(tx, 415);
    respond(tx, 200);
    auto p = m.body.find("Signal=");
    if (p == std::string::npos) return;
    auto v = detail::trim(std::string_view(m.body).substr(p + 7, 2));
    if (!v.empty() && std::string_view("0123456789*#ABCDabcd").find(v[0]) != std::string_view::npos)
      sink().digit_detected(s.call, static_cast<char>(std::toupper(static_cast<unsigned char>(v[0]))));
  }

  // NOTIFY of our REFER's implicit subscription (RFC 3515 §2.4.5): a final 2xx sipfrag ends this call.
  void on_notify(detail::session& s, server_transaction& tx, const message& m) {
    respond(tx, 200);
    if (!s.transferring) return;
    auto frag = parse_message(m.body + (m.body.find("\r\n\r\n") == std::string::npos ? "\r\n\r\n" : ""));
    int status = 0;
    if (frag && !frag->is_request()) status = frag->status;
    else if (m.body.rfind("SIP/2.0 ", 0) == 0) (void)detail::parse_int(std::string_view(m.body).substr(8, 3), status);
    if (status < 200) return;
    s.transferring = false;
    if (status < 300) {
      send_in_dialog(s, "BYE");
      end(s, line_disconnect_mode::normal);
    }
  }

  // ---- hold / unhold: our re-INVITE ----
  void reinvite(request_id req, call_id call, detail::reinvite_kind kind) {
    auto s = find(call);
    if (!s || s->phase != detail::session_phase::confirmed || s->reinvite != detail::reinvite_kind::none ||
        s->remote_reinvite) {
      sink().completion(req, mspi::tapi_errc::invalid_call_state);
      return;
    }
    s->reinvite = kind;
    s->reinvite_request = req;
    send_msp(call, mspi::channel_message_type::request_offer, kind == detail::reinvite_kind::hold ? "sendonly" : "sendrecv");
  }

  void send_reinvite(const session_ptr& s, std::string sdp) {
    auto m = s->dialog->make_request("INVITE");
    add_common(m, s->remote.protocol, s->address_id);
    m.add("Content-Type", "application/sdp");
    m.body = std::move(sdp);
    const auto number = s->dialog->local_cseq;
    send_request(s, std::move(m), [this, s, number](const message* r, std::error_code ec) {
      if (r && r->status < 200) return;
      const auto kind = std::exchange(s->reinvite, detail::reinvite_kind::none);
      const auto req = std::exchange(s->reinvite_request, 0);
      if (r && r->status < 300) {
        auto ack = s->dialog->make_request("ACK", number);
        trace(ack, true);
        layer_->send_ack(std::move(ack), s->remote);
        if (!s->call || s->phase != detail::session_phase::confirmed) return;
        send_msp(s->call, mspi::channel_message_type::remote_answer, r->body);
        s->on_hold = kind == detail::reinvite_kind::hold;
        sink().call_state(s->call, s->on_hold ? line_call_state::onhold : line_call_state::connected);
        if (req) sink().completion(req, {});
        return;
      }
      if (req && s->call) sink().completion(req, ec ? mspi::tapi_errc::timeout : mspi::tapi_errc::request_failed);
      if (!r || r->status == 481 || r->status == 408) {  // RFC 3261 §14.1: the dialog is gone
        send_in_dialog(*s, "BYE");
        end(*s, line_disconnect_mode::unavail);
      }
    });
  }

  void on_stray_response(const message& r) {
    if (cfg_.stray_trace) cfg_.stray_trace(r);
    // A 2xx retransmission for an INVITE whose transaction has ended: ACK it again (RFC 3261 §13.2.2.4).
    auto cs = parse_cseq(r.header("CSeq").value_or(""));
    if (!cs || cs->method != "INVITE" || r.status < 200 || r.status >= 300) return;
    auto it = by_call_id_.find(std::string(r.header("Call-ID").value_or("")));
    if (it == by_call_id_.end()) return;
    if (auto s = find(it->second); s && s->ack) {
      trace(*s->ack, true);
      layer_->send_ack(*s->ack, s->remote);
    }
  }

  config_type cfg_;
  tsp_context ctx_;
  std::vector<account_entry> accounts_;
  std::vector<bool> msp_open_;
  std::unique_ptr<transport> transport_;
  std::unique_ptr<transaction_layer> layer_;
  std::vector<std::shared_ptr<detail::registration>> registrations_;
  std::unordered_map<call_id, session_ptr> sessions_;
  std::unordered_map<std::string, call_id> by_call_id_;  // SIP Call-ID -> TAPI call
};

static_assert(telephony_service_provider<sip_tsp>);

}  // namespace tspi::sip

#endif  // PTAPI_FULL_DEFINITIONS
