// ptapi - portable TAPI
// tspi/sip/session/provider.hpp: sip_tsp as a TAPI provider: TSPI_providerInit/Shutdown (settings, sockets,
// registrations), the call table (lineDrop, lineCloseCall) and the MSP channel of each call.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/outbound_proxy.hpp>
#include <tspi/sip/detail/registration.hpp>
#include <tspi/sip/dns/resolver.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/digest.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/transport.hpp>
#include <tspi/sip/uri.hpp>
#include <tspi/detail/media_reports.hpp>

#include <mspi/channel.hpp>
#include <mspi/error.hpp>

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace tspi::sip {

inline void sip_tsp::provider_init(const tsp_context& ctx, std::error_code& ec) {
  ec.clear();
  boost::system::error_code bec;
  const auto addr = boost::asio::ip::make_address(cfg_.listen_address, bec);
  if (!cfg_.public_address.empty() && !bec) (void)boost::asio::ip::make_address(cfg_.public_address, bec);
  const bool bad_timer = cfg_.session_expires.count() > 0 && (cfg_.min_se.count() < 1 || cfg_.session_expires < cfg_.min_se);
  // TLS only needs a certificate: without a listening socket there is no Via sent-by (RFC 3261 §18.1.1).
  const bool tls_only = !cfg_.udp && !cfg_.tcp;
  if (bec || (tls_only && (!cfg_.tls || cfg_.transport.tls.certificate_chain_file.empty())) || bad_timer) {
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
    accounts_.push_back({a, u, digest_client(), {}});
  }
  for (const auto& a : cfg_.accounts) {
    auto u = parse_uri(a.aor);
    if (!u || u->user.empty()) {
      ec = mspi::tapi_errc::invalid_argument;
      return;
    }
    accounts_.push_back({a, *u,
                         digest_client({a.username.empty() ? u->user : a.username, a.password},
                                       digest_policy{a.realms, false, a.allow_rfc2069}), {}});
    if (!a.outbound_proxy.empty() &&
        (!(accounts_.back().proxy = detail::loose_route_uri(a.outbound_proxy)) ||
         plan_resolution(*accounts_.back().proxy, transports()).first == dns_plan::step::failed)) {  // TLS not enabled
      ec = mspi::tapi_errc::invalid_argument;
      return;
    }
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
    if (!ec && cfg_.tls && transport_->tls_error()) {  // a certificate, key or CA file that does not load
      ec = mspi::tapi_errc::invalid_argument;
      return close_stack();
    }
    if (!ec && cfg_.tls && !cfg_.transport.tls.certificate_chain_file.empty())
      transport_->listen(transport_protocol::tls, addr, cfg_.tls_port, ec);
    if (!ec) break;
    close_stack();
    if (cfg_.port != 0 || !cfg_.udp || ec != std::errc::address_in_use || attempt >= 8) return;
  }
  if (cfg_.accounts.empty() && cfg_.port == 0) accounts_[0].aor.port = port;
  if (cfg_.accounts.empty() && tls_only) {  // the default account is reached over TLS: sips:ptapi@<address>:<TLS port>
    accounts_[0].aor.scheme = "sips";
    accounts_[0].aor.port = transport_->local(transport_protocol::tls)->port;
  }
  layer_ = std::make_unique<transaction_layer>(*transport_, cfg_.timers);
  layer_->on_request = [this](std::shared_ptr<server_transaction> tx, const message& m) { on_request(std::move(tx), m); };
  layer_->on_stray_ack = [](const message&, const peer&) {};
  hook_wire();
  transport_->on_pong = [this](const peer& from) {
    for (auto& r : registrations_)
      if (r->registrar_peer() == from) r->on_pong();
  };
  layer_->on_stray_response = [this](const message& r, const peer&) {
    try {
      on_stray_response(r);
    } catch (const std::exception&) {  // nothing escapes into the transport; the response is dropped
    }
  };
  std::error_code dns_ec;
  dns_ = std::make_unique<dns_resolver>(ctx.executor, cfg_.dns, transports(), srv_random{}, dns_ec);
  if (dns_ec) {
    ec = mspi::tapi_errc::invalid_argument;
    return close_stack();
  }
  registrations_.clear();
  for (std::size_t i = 0; i < accounts_.size(); ++i) {
    if (accounts_[i].config.registrar.empty()) continue;
    auto registrar = parse_destination(accounts_[i].config.registrar);
    // a registrar that does not parse or asks for TLS (never downgraded) is a configuration error
    if (!registrar || plan_resolution(first_hop(i, *registrar), transports()).first == dns_plan::step::failed ||
        plan_resolution(*registrar, transports()).first == dns_plan::step::failed) {
      ec = mspi::tapi_errc::invalid_argument;
      return close_stack();
    }
    start_registration(i, *registrar);
  }
}

inline void sip_tsp::start_registration(std::size_t i, uri registrar) {
  dns_->resolve(first_hop(i, registrar), [this, i, registrar](std::error_code ec, std::vector<peer> hops) {
    if (!ec) note_tls_names(first_hop(i, registrar), hops);
    if (ec) {  // out of service until a later resolution succeeds (RFC 3263 gives no registrar address)
      auto wait = std::make_shared<boost::asio::steady_timer>(ctx_.executor, cfg_.registration_retry);
      registration_waits_.push_back(wait);
      wait->async_wait([this, i, registrar, weak = std::weak_ptr(wait)](const boost::system::error_code& e) {
        auto w = weak.lock();  // gone: the provider shut down
        if (e || !w || !dns_) return;
        std::erase(registration_waits_, w);
        start_registration(i, registrar);
      });
      return;
    }
    registrations_.push_back(std::make_shared<detail::registration>(
        *layer_, ctx_.executor, i, accounts_[i].config, accounts_[i].aor, registrar, hops.front(),
        [this, i](transport_protocol p) { return contact_uri(p, i); }, cfg_.registration_retry,
        [this](std::size_t id, bool ok) {
          ctx_.events->address_state_changed(id, ok ? address_state::in_service : address_state::out_of_service);
        },
        cfg_.trace));
    registrations_.back()->set_options({cfg_.user_agent, cfg_.on_registration, cfg_.keepalive, cfg_.public_address.empty()});
    registrations_.back()->start();
  });
}

inline void sip_tsp::provider_shutdown() {
  for (auto& r : registrations_) r->unregister();
  registrations_.clear();
  for (auto& [id, s] : sessions_) s->call = 0;
  sessions_.clear();
  by_call_id_.clear();
  close_stack();
}

inline void sip_tsp::drop(request_id req, call_id call, disconnect_code code) {
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
      if (!s->invite_server) break;
      if (auto rule = forward_rule(s->address_id, s->invite, forward_trigger::busy); rule && code == disconnect_code::normal) {
        respond_forwarded(*s->invite_server, *rule, s->address_id, forward_trigger::busy, s->local_tag);  // busy: 302
        return end(*s, line_disconnect_mode::forwarded);
      }
      respond(*s->invite_server, reject_status(code), s->local_tag);
      break;
    case P::confirmed: send_in_dialog(*s, "BYE"); break;
    case P::ended: break;
  }
  end(*s, line_disconnect_mode::normal);
}

inline void sip_tsp::close_call(call_id call) {
  auto it = sessions_.find(call);
  if (it == sessions_.end()) return;
  it->second->call = 0;
  forget_call_id(*it->second, call);
  if (it->second->timer) it->second->timer->cancel();
  sessions_.erase(it);
}

inline void sip_tsp::create_msp_instance(std::size_t address_id) {
  if (msp_open_.size() <= address_id) msp_open_.resize(address_id + 1, false);
  msp_open_[address_id] = true;
}

inline void sip_tsp::close_msp_instance(std::size_t address_id) {
  if (address_id < msp_open_.size()) msp_open_[address_id] = false;
}

inline void sip_tsp::receive_msp_data(call_id call, std::span<const std::byte> data) {
  auto msg = mspi::decode_channel_message(data);
  auto s = find(call);
  if (!msg || !s) return;
  using T = mspi::channel_message_type;
  switch (msg->type) {
    case T::local_offer: on_local_offer(s, advertised_sdp(std::string(msg->body), s->address_id, s->remote)); break;
    case T::local_answer: on_local_answer(*s, advertised_sdp(std::string(msg->body), s->address_id, s->remote)); break;
    case T::media_error: on_media_error(*s); break;
    default: tspi::detail::report_media_event(sink(), call, *msg); break;  // digits and tones, received or generated
  }
}

}  // namespace tspi::sip
