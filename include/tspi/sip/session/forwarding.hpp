// ptapi - portable TAPI
// tspi/sip/session/forwarding.hpp: call forwarding of sip_tsp (TSPI_lineForward): a 302 with a Diversion
// header (RFC 5806) and the RFC 4458 `cause` in its Contact for calls to a forwarded address, and what a Diversion header says about a call that
// arrives forwarded.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/diversion.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/uri.hpp>

#include <mspi/error.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace tspi::sip {

inline void sip_tsp::forward(request_id req, std::size_t address_id, const forward_information& f) {
  if (address_id >= accounts_.size()) return sink().completion(req, mspi::tapi_errc::invalid_argument);
  for (const auto& e : f.entries())
    if (!parse_destination(e.destination)) return sink().completion(req, mspi::tapi_errc::invalid_address);
  if (f.empty()) forwards_.erase(address_id);
  else forwards_[address_id] = f;
  sink().completion(req, {});
}

inline const forward_entry* sip_tsp::forward_rule(std::size_t address_id, const message& invite,
                                                  forward_trigger t) const {
  auto it = forwards_.find(address_id);
  if (it == forwards_.end()) return nullptr;
  const auto from = parse_name_addr(invite.header("From").value_or(""));
  return find_forward_rule(it->second, t, [&](std::string_view caller) {
    return from && detail::same_caller(from->address, caller);
  });
}

inline std::chrono::milliseconds sip_tsp::no_answer_forward_delay(std::size_t address_id) const {
  auto it = forwards_.find(address_id);
  const auto rings = it == forwards_.end() ? 0 : it->second.num_rings_no_answer();
  return cfg_.ring_period * rings;
}

inline void sip_tsp::respond_forwarded(server_transaction& tx, const forward_entry& rule, std::size_t address_id,
                                       forward_trigger t, const std::string& to_tag) {
  auto r = response_for(tx, 302, to_tag.empty() ? random_token(10) : to_tag);
  auto target = parse_destination(rule.destination);  // checked by `forward`
  // RFC 4458 / RFC 7044 §9.1: why the call is retargeted, for the caller's History-Info and Request-URI.
  if (target && !target->param("cause")) target->params.push_back({"cause", std::to_string(detail::history_cause(t))});
  r.add("Contact", "<" + (target ? target->to_string() : rule.destination) + ">");
  // RFC 5806 §4: who diverted (our AOR), why, and how often this call was diverted so far.
  r.add("Diversion", "<" + accounts_[address_id].aor.to_string() + ">;reason=" +
                         std::string(detail::diversion_reason(t)) + ";counter=1");
  send_response(tx, std::move(r));
}

}  // namespace tspi::sip
