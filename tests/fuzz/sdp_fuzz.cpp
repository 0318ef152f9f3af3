// ptapi - portable TAPI
// ptapi_fuzz target `sdp`: mspi::parse_sdp, the parser of every SDP offer and answer a peer sends.
// Properties (a failure traps): a parsed description respects the limits (m-lines, formats, ports, payload
// types, ptime, a connection address per m-line, a=crypto lines (RFC 4568) with a tag of at most 9 digits
// and a reason for each refused one); its text from to_string() parses again whenever it fits in
// sdp_max_bytes; and, when no m-line lists a payload type twice (then a=rtpmap/a=fmtp of the copies
// collapse onto the first), that text is a fixed point: to_string(parse_sdp(text)) == text. ICE (RFC 8839):
// at most sdp_max_candidates `a=candidate` lines are kept per m-line, each within RFC 8445's ranges (component
// 1..256, priority 1..2^31-1, a port, a 1..32 ice-char foundation), and each written one parses back to the
// same candidate (ice::parse_candidate, ice::to_string). DTLS-SRTP (RFC 5763): at most sdp_max_fingerprints
// `a=fingerprint` lines per m-line, each of a supported hash, written in RFC 8122 §5 form (lowercase name,
// uppercase hex pairs with colons) that parses back to the same digest; an `a=setup` role writes and parses
// back to itself.
#include "fuzz.hpp"

#include <mspi/sdp.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace ptapi_fuzz {
namespace {

void check_limits(const mspi::session_description& sd) {
  PTAPI_FUZZ_CHECK(!sd.media.empty() && sd.media.size() <= mspi::sdp_max_media);
  for (const auto& m : sd.media) {
    PTAPI_FUZZ_CHECK(!m.address.empty() && !m.media.empty() && !m.protocol.empty());
    PTAPI_FUZZ_CHECK(m.formats.size() <= mspi::sdp_max_formats);
    PTAPI_FUZZ_CHECK(m.ptime_ms >= 0 && m.ptime_ms <= 1000);
    for (const auto& f : m.formats)
      PTAPI_FUZZ_CHECK(f.payload_type >= 0 && f.payload_type <= 127 && f.clock_rate > 0 && f.channels > 0);
    PTAPI_FUZZ_CHECK(m.crypto.size() + m.crypto_refused.size() <= mspi::sdp_max_crypto);
    for (const auto& c : m.crypto) PTAPI_FUZZ_CHECK(c.tag <= 999999999u && !mspi::srtp_suite_name(c.suite).empty());
    for (auto why : m.crypto_refused) PTAPI_FUZZ_CHECK(!why.empty());
    PTAPI_FUZZ_CHECK(m.fingerprints.size() <= mspi::sdp_max_fingerprints);
    for (const auto& f : m.fingerprints) {
      const std::string text = mspi::to_string(f);
      PTAPI_FUZZ_CHECK(text.size() == mspi::fingerprint_hash_name(f.hash).size() + 3 * mspi::fingerprint_hash_bytes(f.hash));
      const auto hex = std::string_view(text).substr(mspi::fingerprint_hash_name(f.hash).size() + 1);
      PTAPI_FUZZ_CHECK(std::none_of(hex.begin(), hex.end(), [](char c) { return c >= 'a' && c <= 'z'; }));
      PTAPI_FUZZ_CHECK(mspi::parse_fingerprint_attribute(text) == f);
    }
    if (m.setup) PTAPI_FUZZ_CHECK(mspi::parse_setup_attribute(mspi::to_string(*m.setup)) == m.setup);
    PTAPI_FUZZ_CHECK(m.candidates.size() <= mspi::sdp_max_candidates);
    for (const auto& c : m.candidates) {
      PTAPI_FUZZ_CHECK(c.component >= 1 && c.component <= 256 && c.priority >= 1 && c.priority <= 0x7fffffffU);
      PTAPI_FUZZ_CHECK(c.address.port() != 0 && mspi::ice::valid_ice_string(c.foundation, 1, 32));
      const auto back = mspi::ice::parse_candidate(mspi::ice::to_string(c));
      PTAPI_FUZZ_CHECK(back && back->foundation == c.foundation && back->component == c.component &&
                       back->priority == c.priority && back->address == c.address && back->type == c.type &&
                       back->related == c.related);
    }
  }
}

bool has_duplicate_payload_type(const mspi::session_description& sd) {
  for (const auto& m : sd.media)
    for (std::size_t i = 0; i < m.formats.size(); ++i)
      for (std::size_t j = i + 1; j < m.formats.size(); ++j)
        if (m.formats[i].payload_type == m.formats[j].payload_type) return true;
  return false;
}

}  // namespace

void fuzz_sdp(input in) {
  const auto text = as_text(in);
  const auto sd = mspi::parse_sdp(text);
  if (!sd) return;
  PTAPI_FUZZ_CHECK(text.size() <= mspi::sdp_max_bytes);
  check_limits(*sd);
  const std::string out = mspi::to_string(*sd);
  if (out.size() > mspi::sdp_max_bytes) return;
  const auto back = mspi::parse_sdp(out);
  PTAPI_FUZZ_CHECK(back.has_value());
  check_limits(*back);
  if (!has_duplicate_payload_type(*sd)) PTAPI_FUZZ_CHECK(mspi::to_string(*back) == out);
}

}  // namespace ptapi_fuzz
