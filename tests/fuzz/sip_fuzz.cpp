// ptapi_fuzz target `sip`: the SIP parsers, tspi/sip/{message,headers,uri,digest,bind_address}.hpp, and
// mspi::parse_sdp on message bodies. Built by -DPTAPI_BUILD_FUZZERS=ON with clang (tests/fuzz/CMakeLists.txt).
//
// Besides "no crash, no sanitizer report", it checks properties that hold for every input (each
// failure traps):
//  - framing: a frame found in the input frames to the same length on its own;
//  - limits are monotone: a message accepted under tight limits is accepted, equal, under the defaults;
//  - round trips: a parsed message, and every Via, CSeq, From/To/Contact (and the other name-addr headers:
//    Route, Refer-To, Referred-By, Diversion, P-Asserted-Identity), Request-URI, Digest challenge and
//    Digest credentials built from it, reads back equal from its own to_string(), and the re-serialized
//    message frames as one whole TCP frame;
//  - consultation transfer (RFC 3891): a Replaces header that parses reads back equal from the text
//    rebuilt from it, and any Replaces value escaped into a Refer-To URI's headers part (as the transferor
//    sends it) comes back unchanged through the URI parser and the transferee's decoder (the URI parses
//    exactly when it fits `max_uri_bytes`). Diversion (RFC 5806) reasons map to a call reason without
//    trapping;
//  - History-Info (RFC 7044): at most max_history_entries, each entry's target round-trips, and the
//    redirection read from it names one of its URIs (without headers or `cause`) with one of its causes.
// The message round trip re-parses with limits widened by what serialization may add, because
// to_string() normalizes: LF becomes CRLF and Content-Length is always written (so the text can grow
// past max_message_bytes: a 65535-byte LF-only datagram becomes longer), compact names are expanded
// (`x:` becomes `Session-Expires: `, so a line grows by up to 15 bytes and can pass max_line_bytes), and
// the Content-Length field it adds can be one header more than max_headers. Under the same limits the
// re-parse can therefore fail for valid reasons; under the widened ones it must not.
#include "fuzz.hpp"

#include <tspi/sip/bind_address.hpp>
#include <tspi/sip/detail/diversion.hpp>
#include <tspi/sip/detail/replaces.hpp>
#include <tspi/sip/detail/user_to_user.hpp>
#include <tspi/sip/digest.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/history_info.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/uri.hpp>

#include <mspi/sdp.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sip = tspi::sip;

namespace {

bool same_params(const std::vector<sip::detail::parameter>& a, const std::vector<sip::detail::parameter>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  return true;
}

bool same_uri(const sip::uri& a, const sip::uri& b) {
  return a.scheme == b.scheme && a.user == b.user && a.password == b.password && a.host == b.host && a.port == b.port &&
         a.headers == b.headers && same_params(a.params, b.params);
}

void check_uri(std::string_view text) {
  auto u = sip::parse_uri(text);
  if (!u) return;
  auto back = sip::parse_uri(u->to_string());
  PTAPI_FUZZ_CHECK(back && same_uri(*u, *back));
}

// A bind address that parses (tspi/sip/bind_address.hpp) reads back equal from its own text form.
void check_bind_address(std::string_view text) {
  std::error_code ec;
  const auto b = sip::parse_bind_address(text.substr(0, 300), 5060, ec);
  if (ec) return;
  const auto host = b.host.find(':') == std::string::npos ? b.host : "[" + b.host + "]";
  const auto back = sip::parse_bind_address(host + ":" + std::to_string(b.port), 1, ec);
  PTAPI_FUZZ_CHECK(!ec && back.host == b.host && back.port == b.port);
}

void check_name_addr(std::string_view text) {
  auto na = sip::parse_name_addr(text);
  if (!na) return;
  (void)na->tag();
  auto back = sip::parse_name_addr(na->to_string());
  PTAPI_FUZZ_CHECK(back && back->display_name == na->display_name && same_uri(back->address, na->address) &&
                   same_params(back->params, na->params));
}

// History-Info (RFC 7044): bounded, every entry's target round-trips as a name-addr, and the redirection
// it yields is one of its entries' URIs with the cause of one of them.
void check_history_info(const std::vector<std::string_view>& values) {
  const auto h = sip::parse_history_info(values);
  if (!h) return;
  PTAPI_FUZZ_CHECK(h->size() <= sip::max_history_entries);
  for (const auto& e : *h) {
    check_name_addr(e.target.to_string());
    PTAPI_FUZZ_CHECK(!e.cause || (*e.cause >= 300 && *e.cause <= 699));
  }
  if (auto r = sip::redirection_of(*h)) {
    PTAPI_FUZZ_CHECK(r->redirecting.headers.empty() && !r->redirecting.param("cause"));
    PTAPI_FUZZ_CHECK(std::any_of(h->begin(), h->end(), [&](const sip::history_entry& e) {
      return e.target.address.host == r->redirecting.host && e.target.address.user == r->redirecting.user;
    }));
    PTAPI_FUZZ_CHECK(r->cause == 0 || std::any_of(h->begin(), h->end(), [&](const auto& e) { return e.cause == r->cause; }));
    (void)sip::reason_of_history_cause(r->cause);
  }
}

void check_via(std::string_view text) {
  auto v = sip::parse_via(text);
  if (!v) return;
  (void)v->branch();
  auto back = sip::parse_via(v->to_string());
  PTAPI_FUZZ_CHECK(back && back->transport == v->transport && back->host == v->host && back->port == v->port &&
                   same_params(back->params, v->params));
}

void check_cseq(std::string_view text) {
  auto c = sip::parse_cseq(text);
  if (!c) return;
  auto back = sip::parse_cseq(c->to_string());
  PTAPI_FUZZ_CHECK(back && back->number == c->number && back->method == c->method);
}

// Every challenge in `values` reads back from its own text, and credentials built for it parse back
// equal and verify.
void check_digest(const std::vector<std::string_view>& values, const sip::message& m) {
  std::error_code ec;
  for (auto v : values) (void)sip::parse_digest_challenge(v, ec);
  const auto all = sip::parse_digest_challenges(values, ec);
  (void)sip::select_digest_challenge(values, ec);
  const std::string uri = m.request_uri.empty() ? std::string("sip:registrar.example.com") : m.request_uri;
  const std::string method = m.method.empty() ? std::string("REGISTER") : m.method;
  for (const auto& c : all) {
    auto back = sip::parse_digest_challenge(c.to_string(), ec);
    PTAPI_FUZZ_CHECK(back && *back == c);
    auto r = sip::make_digest_response(c, {"alice", "secret"}, method, uri, m.body, "0a4f113b", 1, ec);
    PTAPI_FUZZ_CHECK(r.has_value());
    PTAPI_FUZZ_CHECK(sip::verify_digest_response(*r, "secret", method, m.body));
    auto parsed = sip::parse_digest_response(r->to_string(), ec);
    PTAPI_FUZZ_CHECK(parsed.has_value());
    // quote() writes a CR inside the Request-URI as SP (a quoted-string cannot carry it).
    if (uri.find('\r') == std::string::npos) PTAPI_FUZZ_CHECK(*parsed == *r);
  }
}

// RFC 3891 §6.1: a parsed Replaces value rebuilt reads back equal; the raw value survives the escaping into a
// Refer-To URI's headers (refer.hpp) and the decoding of them (transferee.hpp).
void check_replaces(std::string_view text) {
  namespace d = sip::detail;
  if (auto r = d::parse_replaces(text)) {
    auto back = d::parse_replaces(r->call_id + ";to-tag=" + r->to_tag + ";from-tag=" + r->from_tag +
                                  (r->early_only ? ";early-only" : ""));
    PTAPI_FUZZ_CHECK(back && back->call_id == r->call_id && back->to_tag == r->to_tag &&
                     back->from_tag == r->from_tag && back->early_only == r->early_only);
  }
  const auto escaped = d::escape_uri_header(text);
  PTAPI_FUZZ_CHECK(d::uri_header("Replaces=" + escaped, "Replaces") == text);
  const auto refer_to = "sip:carol@192.0.2.3:5060?Replaces=" + escaped;
  auto u = sip::parse_uri(refer_to);
  PTAPI_FUZZ_CHECK(u.has_value() == (refer_to.size() <= sip::max_uri_bytes));  // the URI parser's only bound
  PTAPI_FUZZ_CHECK(!u || d::uri_header(u->headers, "Replaces") == text);
}

// RFC 7433 §4.1: decoded user-user information is at most the limit, and encodes back to a value that decodes
// to the same bytes.
void check_user_to_user(const std::vector<std::string_view>& values) {
  namespace d = sip::detail;
  if (auto bytes = d::parse_user_to_user(values, 128)) {
    PTAPI_FUZZ_CHECK(bytes->size() <= 128);
    const auto value = d::user_to_user_value(*bytes);
    PTAPI_FUZZ_CHECK(d::parse_user_to_user({value}, 128) == bytes);
  }
}

bool same_message_ignoring_content_length(const sip::message& a, const sip::message& b) {
  if (a.method != b.method || a.request_uri != b.request_uri || a.status != b.status || a.reason != b.reason || a.body != b.body)
    return false;
  auto is_cl = [](const sip::header_field& h) { return sip::detail::iequals(h.name, "Content-Length"); };
  std::size_t i = 0, j = 0;
  for (;;) {
    while (i < a.headers.size() && is_cl(a.headers[i])) ++i;
    while (j < b.headers.size() && is_cl(b.headers[j])) ++j;
    if (i == a.headers.size() || j == b.headers.size()) return i == a.headers.size() && j == b.headers.size();
    if (a.headers[i].name != b.headers[j].name || a.headers[i].value != b.headers[j].value) return false;
    ++i;
    ++j;
  }
}

}  // namespace

void ptapi_fuzz::fuzz_sip(input bytes) {
  const std::string_view in = as_text(bytes);
  const sip::parse_limits limits;
  check_bind_address(in);

  // Stream framing (TCP): a frame is self-contained.
  if (auto n = sip::framed_length(in); n && *n > 0) {
    PTAPI_FUZZ_CHECK(*n <= in.size());
    PTAPI_FUZZ_CHECK(sip::framed_length(in.substr(0, *n)) == n);
    (void)sip::framed_length(in.substr(*n));  // the next, pipelined, message
    (void)sip::parse_message(in.substr(0, *n));
  }

  // A truncated message (Content-Length beyond the bytes present; answered 400 if a request) is exactly
  // one that parse_message rejects, and its body is empty.
  if (auto t = sip::parse_truncated_message(in)) {
    PTAPI_FUZZ_CHECK(!sip::parse_message(in));
    PTAPI_FUZZ_CHECK(t->body.empty());
  }

  // Tight limits accept a subset of what the defaults accept, with the same result.
  sip::parse_limits tight;
  tight.max_message_bytes = 2048;
  tight.max_headers = 8;
  tight.max_line_bytes = 128;
  tight.max_body_bytes = 256;
  const auto small = sip::parse_message(in, tight);

  const auto m = sip::parse_message(in, limits);
  if (small) PTAPI_FUZZ_CHECK(m && same_message_ignoring_content_length(*small, *m));
  if (!m) return;

  // The structured values the transaction and dialog layers read.
  for (auto v : m->headers_named("Via")) check_via(v);
  if (auto c = m->header("CSeq")) check_cseq(*c);
  for (const char* name :
       {"From", "To", "Contact", "Route", "Record-Route", "Refer-To", "Referred-By", "Diversion", "P-Asserted-Identity"})
    for (auto v : m->headers_named(name)) check_name_addr(v);
  for (auto v : m->headers_named("Replaces")) check_replaces(v);
  check_user_to_user(m->headers_named("User-to-User"));
  if (auto d = sip::parse_name_addr(m->header("Diversion").value_or("")))
    (void)sip::detail::reason_of_diversion(d->param("reason").value_or(""));
  check_history_info(m->headers_named("History-Info"));
  if (m->is_request()) check_uri(m->request_uri);
  check_digest(m->headers_named("WWW-Authenticate"), *m);
  check_digest(m->headers_named("Proxy-Authenticate"), *m);
  for (const char* name : {"Authorization", "Proxy-Authorization"})
    for (auto v : m->headers_named(name)) {
      std::error_code ec;
      (void)sip::parse_digest_response(v, ec);
    }
  if (auto sd = mspi::parse_sdp(m->body)) (void)mspi::parse_sdp(mspi::to_string(*sd));

  // Round trip of the whole message (limits widened for what serialization adds; see the top).
  const std::string text = m->to_string();
  sip::parse_limits wide = limits;
  wide.max_message_bytes = std::numeric_limits<std::size_t>::max();
  wide.max_headers = limits.max_headers + 1;
  wide.max_line_bytes = limits.max_line_bytes + 16;
  const auto back = sip::parse_message(text, wide);
  PTAPI_FUZZ_CHECK(back.has_value());
  PTAPI_FUZZ_CHECK(same_message_ignoring_content_length(*m, *back));
  PTAPI_FUZZ_CHECK(back->to_string() == text);
  PTAPI_FUZZ_CHECK(sip::framed_length(text, wide) == text.size());
}
