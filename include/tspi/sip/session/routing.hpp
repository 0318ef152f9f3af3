// ptapi - portable TAPI
// tspi/sip/session/routing.hpp: where sip_tsp's requests go: the destination or the account's outbound
// proxy resolved by RFC 3263 (DNS), failover to the next target (§4.3), 3xx redirects (RFC 3261 §8.1.3.4),
// the preloaded Route of the outbound proxy (§8.1.2), and in-dialog next hops that are host names.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/dns/selection.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/history_info.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/uri.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace tspi::sip {

inline uri sip_tsp::first_hop(std::size_t address_id, const uri& target) const {
  if (address_id < accounts_.size() && accounts_[address_id].proxy) return *accounts_[address_id].proxy;
  return target;
}

inline void sip_tsp::add_route(message& m, std::size_t address_id) const {
  if (address_id >= accounts_.size() || !accounts_[address_id].proxy || m.header("Route")) return;
  m.add("Route", "<" + accounts_[address_id].proxy->to_string() + ">");
}

inline void sip_tsp::note_tls_names(const uri& hop, const std::vector<peer>& targets) const {
  if (!transport_) return;
  for (const auto& t : targets)
    if (t.protocol == transport_protocol::tls) transport_->set_tls_server_name(t, hop.host);
}

inline void sip_tsp::route_call(const session_ptr& s, std::function<void(const session_ptr&)> then) {
  // A sips: or ;transport=tls target is refused without TLS, and behind a proxy not reached over TLS:
  // its hops must be TLS too (§26.2.2).
  auto plan = plan_resolution(s->target, transports());
  if (plan.first == dns_plan::step::failed) return refuse_destination(*s, plan.error, s->target);
  const auto hop = first_hop(s->address_id, s->target);
  if (plan.tls_only && !plan_resolution(hop, transports()).tls_only)
    return refuse_destination(*s, dns_errc::tls_required, hop);
  std::weak_ptr<detail::session> weak = s;
  dns_->resolve(hop, [this, weak, hop, then = std::move(then)](std::error_code ec, std::vector<peer> targets) {
    auto s = weak.lock();
    if (!s || s->phase == detail::session_phase::ended) return;
    if (ec) return refuse_destination(*s, ec, hop);
    note_tls_names(hop, targets);
    s->targets = std::move(targets);
    s->target_index = 0;
    s->remote = s->targets.front();
    then(s);
  });
}

inline void sip_tsp::refuse_destination(detail::session& s, std::error_code ec, const uri& hop) {
  s.info.provider_detail = fmt::format("cannot reach {}: {}", hop.to_string(), ec.message());
  report_info(s);
  end(s, line_disconnect_mode::badaddress);
}

inline void sip_tsp::resend_invite(const session_ptr& s) {
  auto cs = parse_cseq(s->invite.header("CSeq").value_or(""));
  s->invite.set("CSeq", std::to_string((cs ? cs->number : 1) + 1) + " INVITE");
  s->invite.remove("Via");  // a new client transaction: new branch
  send_invite_tx(s);
}

inline bool sip_tsp::fail_over(const session_ptr& s) {
  if (s->phase != detail::session_phase::inviting || s->cancel_pending || s->target_index + 1 >= s->targets.size())
    return false;
  s->remote = s->targets[++s->target_index];
  resend_invite(s);
  return true;
}

inline bool sip_tsp::follow_redirect(const session_ptr& s, const message& r) {
  if (s->phase != detail::session_phase::inviting || s->cancel_pending) return false;
  // Contacts in descending q (RFC 3261 §8.1.3.4, §20.10: no q = 1.0), after those still pending.
  std::vector<std::pair<double, name_addr>> fresh;
  for (auto c : r.headers_named("Contact")) {
    auto na = parse_name_addr(c);
    if (!na || fresh.size() >= 16) continue;
    double q = 1.0;
    if (auto qv = na->param("q")) q = std::strtod(std::string(*qv).c_str(), nullptr);
    na->params.clear();  // q, expires: the Contact's header parameters, not the target's
    fresh.emplace_back(q, std::move(*na));
  }
  std::stable_sort(fresh.begin(), fresh.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [q, u] : fresh)
    if (s->redirect_targets.size() < 32) s->redirect_targets.push_back(std::move(u));
  while (!s->redirect_targets.empty()) {
    const auto contact = s->redirect_targets.front();
    auto next = contact.address;
    s->redirect_targets.erase(s->redirect_targets.begin());
    const auto text = next.to_string();
    // a loop: a URI tried already (the dialled one included)
    if (std::find(s->tried_uris.begin(), s->tried_uris.end(), text) != s->tried_uris.end()) continue;
    if (s->redirects >= cfg_.max_redirects) {
      s->info.provider_detail = fmt::format("more than {} redirections; last to {}", cfg_.max_redirects, text);
      return false;
    }
    ++s->redirects;
    s->tried_uris.push_back(text);
    s->target = next;
    // RFC 5806 §3: the 3xx's Diversion headers travel in the new INVITE, ahead of those it had.
    const auto diversions = r.headers_named("Diversion");
    const auto earlier = std::find_if(s->invite.headers.begin(), s->invite.headers.end(),
                                      [](const header_field& h) { return detail::iequals(h.name, "Diversion"); });
    std::vector<header_field> fresh_diversions;
    for (auto d : diversions)
      if (fresh_diversions.size() < 8) fresh_diversions.push_back({"Diversion", std::string(d)});
    s->invite.headers.insert(earlier, fresh_diversions.begin(), fresh_diversions.end());
    // RFC 7044: the retargeting is recorded in History-Info (a History-Info that does not parse is left as it is).
    (void)add_history_entry(s->invite, next, r.status);
    const auto by = diversions.empty() ? std::nullopt : parse_name_addr(diversions.front());
    s->info.redirecting_id = by ? by->address.to_string() : s->invite.request_uri;
    s->info.redirecting_name = by ? by->display_name : std::string();
    s->info.redirection_name = contact.display_name;
    auto address = next;  // CIS_REDIRECTIONID: the address, without the RFC 4458 cause
    std::erase_if(address.params, [](const detail::parameter& p) { return detail::iequals(p.name, "cause"); });
    s->info.redirection_id = address.to_string();
    s->invite.request_uri = text;
    s->info.provider_detail = fmt::format("redirected by {} to {}", r.status, text);
    report_info(*s);
    route_call(s, [this](const session_ptr& s) { resend_invite(s); });
    return true;
  }
  return false;
}

inline void sip_tsp::route_in_dialog(const session_ptr& s, std::function<void(const session_ptr&)> then) {
  const auto hop = s->dialog->next_hop();
  if (auto literal = resolve(hop)) {
    s->remote = *literal;
    return then(s);
  }
  std::weak_ptr<detail::session> weak = s;
  dns_->resolve(hop, [this, weak, hop, then = std::move(then)](std::error_code ec, std::vector<peer> targets) {
    auto s = weak.lock();
    if (!s) return;
    if (!ec) note_tls_names(hop, targets);
    if (!ec) s->remote = targets.front();  // else: stays where the dialog's first request went
    then(s);
  });
}

}  // namespace tspi::sip
