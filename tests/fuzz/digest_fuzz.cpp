// ptapi - portable TAPI
// ptapi_fuzz target `digest`: the Digest challenges of a 401/407 (tspi/sip/digest.hpp) and the client that
// answers them. The input is a header block, one `Name: value` per line (LF or CRLF), added to a 401
// response as is, so WWW-Authenticate and Proxy-Authenticate values reach the parsers exactly as the
// message parser hands them over. Properties (a failure traps):
//  - every challenge parse_digest_challenge accepts reads back equal from its own to_string();
//  - a digest_client with the default policy takes none; one that allows every realm and RFC 2069 takes a
//    challenge exactly when parse_digest_challenges finds one; then
//    authorize() adds at most max_challenges credentials, each of a challenged realm, each parsing back
//    and verifying with the password; a second authorize() counts nc up by one for qop challenges (when no challenge was dropped).
#include "fuzz.hpp"

#include <tspi/sip/digest.hpp>
#include <tspi/sip/message.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace sip = tspi::sip;

namespace ptapi_fuzz {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Each Authorization / Proxy-Authorization of `request` parses, names a challenged realm and verifies.
std::vector<sip::digest_response> check_credentials(const sip::message& request, const sip::message& challenge) {
  std::vector<sip::digest_response> out;
  for (const char* name : {"Authorization", "Proxy-Authorization"}) {
    const bool proxy = name[0] == 'P';
    const auto challenged = challenge.headers_named(proxy ? "Proxy-Authenticate" : "WWW-Authenticate");
    std::error_code ec;
    const auto offered = sip::parse_digest_challenges(challenged, ec);
    for (auto v : request.headers_named(name)) {
      auto r = sip::parse_digest_response(v, ec);
      PTAPI_FUZZ_CHECK(r.has_value());
      PTAPI_FUZZ_CHECK(std::any_of(offered.begin(), offered.end(), [&](const auto& c) { return c.realm == r->realm; }));
      PTAPI_FUZZ_CHECK(sip::verify_digest_response(*r, "secret", request.method, request.body));
      out.push_back(std::move(*r));
    }
  }
  PTAPI_FUZZ_CHECK(out.size() <= sip::digest_client::max_challenges);
  return out;
}

}  // namespace

void fuzz_digest(input in) {
  sip::message response;
  response.status = 401;
  response.reason = "Unauthorized";
  std::string_view text = as_text(in);
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    const auto colon = line.find(':');
    // The message parser ends a line at CR LF or LF, so no value it hands over holds a CR.
    if (colon == std::string_view::npos || trim(line).find('\r') != std::string_view::npos) continue;
    response.add(std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }

  bool any = false;
  for (const char* name : {"WWW-Authenticate", "Proxy-Authenticate"}) {
    const auto values = response.headers_named(name);
    std::error_code ec;
    for (auto v : values)
      if (auto c = sip::parse_digest_challenge(v, ec)) {
        auto back = sip::parse_digest_challenge(c->to_string(), ec);
        PTAPI_FUZZ_CHECK(back && *back == *c);
      }
    any = any || !sip::parse_digest_challenges(values, ec).empty();
  }

  // The default policy answers no challenge at all (credentials only to configured realms).
  sip::digest_client cautious({"alice", "secret"});
  PTAPI_FUZZ_CHECK(cautious.on_challenge(response) && !cautious.has_challenge());
  // A client that trusts every realm and allows RFC 2069 takes every challenge the parser finds.
  sip::digest_client client({"alice", "secret"}, sip::digest_policy{{}, true, true});
  const std::error_code taken = client.on_challenge(response);
  PTAPI_FUZZ_CHECK(!taken == any && client.has_challenge() == any);
  if (!any) return;
  sip::message request;
  request.method = "INVITE";
  request.request_uri = "sip:bob@biloxi.example.com";
  request.body = "v=0\r\n";
  PTAPI_FUZZ_CHECK(!client.authorize(request));
  const auto first = check_credentials(request, response);
  PTAPI_FUZZ_CHECK(!first.empty());
  PTAPI_FUZZ_CHECK(!client.on_challenge(response));  // the same challenges again: remembered, not doubled
  PTAPI_FUZZ_CHECK(!client.authorize(request));
  const auto second = check_credentials(request, response);
  PTAPI_FUZZ_CHECK(second.size() == first.size());
  if (first.size() == sip::digest_client::max_challenges) return;  // more realms than kept: some were replaced
  for (std::size_t i = 0; i < first.size(); ++i)
    PTAPI_FUZZ_CHECK(second[i].qop.empty() ? second[i].nc == 0 : second[i].nc == first[i].nc + 1);
}

}  // namespace ptapi_fuzz
