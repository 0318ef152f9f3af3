// ptapi - portable TAPI
// tspi/sip/session/auth_retry.hpp: sip_tsp's answer to a 401/407 on its INVITE: the same INVITE with Digest
// credentials (RFC 3261 §22.2, RFC 8760), for the realms the account may answer.
#pragma once

#include <tspi/sip/tsp.hpp>
#include <tspi/sip/detail/session.hpp>
#include <tspi/sip/digest.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>

#include <string>

namespace tspi::sip {

inline bool sip_tsp::retry_with_credentials(const session_ptr& s, const message& challenge) {
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

}  // namespace tspi::sip
