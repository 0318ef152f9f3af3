// ptapi - portable TAPI
// mspi/rtp_opus/detail/srtp_negotiation.hpp: SDES offer/answer (RFC 4568 §7) for the audio stream, under
// the MSP's SRTP policy (rtp_opus_config::srtp).
#pragma once

#include <mspi/detail/random.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/sdp.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mspi::detail {

/// The SRTP keys of a call, as negotiated: both `sdp_crypto` lines carry the same suite.
struct srtp_keys {
  sdp_crypto local;   ///< Ours (our offer's chosen line, or our answer): protects what we send.
  sdp_crypto remote;  ///< The peer's: checks and decrypts what we receive.
  bool operator==(const srtp_keys&) const = default;
};

/// The RTP profile of an m-line's protocol (RFC 3551, RFC 3711 §12, RFC 5124): plain RTP/AVP(F), SRTP
/// RTP/SAVP(F), DTLS-SRTP UDP/TLS/RTP/SAVP(F) (RFC 5764 §8), or one we cannot carry.
enum class rtp_profile : std::uint8_t { plain, savp, dtls_savp, unsupported };

/// See `rtp_profile`. Never throws.
inline rtp_profile profile_of(std::string_view protocol) noexcept {
  if (protocol == "RTP/AVP" || protocol == "RTP/AVPF") return rtp_profile::plain;
  if (protocol == "RTP/SAVP" || protocol == "RTP/SAVPF") return rtp_profile::savp;
  if (protocol == "UDP/TLS/RTP/SAVP" || protocol == "UDP/TLS/RTP/SAVPF") return rtp_profile::dtls_savp;
  return rtp_profile::unsupported;
}

/// A crypto line with `tag`, `suite` and a fresh key || salt from OpenSSL's CSPRNG (RFC 4568 §6.1,
/// §8.2: keys must be unpredictable). Throws what `random_bytes` throws.
inline sdp_crypto fresh_crypto(std::uint32_t tag, srtp_suite suite) {
  sdp_crypto c;
  c.tag = tag;
  c.suite = suite;
  random_bytes(std::span<std::byte>(c.key_salt.data(), srtp_key_salt_bytes(suite)));
  return c;
}

/// Our offer's crypto lines: one per `cfg.srtp_suites`, in order, tags 1, 2, 3, each with a fresh key.
inline std::vector<sdp_crypto> offer_crypto(const rtp_opus_config& cfg) {
  std::vector<sdp_crypto> out;
  std::uint32_t tag = 1;
  for (auto s : cfg.srtp_suites) out.push_back(fresh_crypto(tag++, s));
  return out;
}

/// What the SRTP part of an exchange decided: `error` empty and `keys` set (SRTP) or not (plain RTP), or
/// `error` says why the policy cannot be met.
struct srtp_outcome {
  std::optional<srtp_keys> keys;
  std::string error;
};

/// Why SDES may not be used when the policy wants it (empty: it may). See `rtp_opus_config::srtp`.
inline std::string_view sdes_refusal(const rtp_opus_config& cfg, bool signalling_secured) noexcept {
  if (cfg.srtp_keying == srtp_key_exchange::sdes && cfg.srtp == srtp_policy::mandatory && !signalling_secured && !cfg.allow_sdes_over_insecure_signalling)
    return "SRTP is mandatory, but SDES keys may not cross unprotected signalling (no TLS; "
           "see allow_sdes_over_insecure_signalling)";
  return {};
}

/// Whether SDES is in use for this MSP: policy not off and the signalling protected or explicitly not required.
inline bool sdes_enabled(const rtp_opus_config& cfg, bool signalling_secured) noexcept {
  return cfg.srtp != srtp_policy::off && cfg.srtp_keying == srtp_key_exchange::sdes && (signalling_secured || cfg.allow_sdes_over_insecure_signalling);
}

namespace srtp_detail {
inline std::string refused_lines(const sdp_media& m) {
  std::string s;
  for (auto r : m.crypto_refused) {
    s += s.empty() ? " (" : "; ";
    s += r;
  }
  return s.empty() ? s : s + ")";
}
}  // namespace srtp_detail

/// The SRTP side of answering the remote offer's m-line `offer` (RFC 4568 §7.1.2): with SDES enabled, the
/// first of its usable `a=crypto` lines whose suite is in `cfg.srtp_suites` is chosen and answered with
/// its tag and a fresh key of ours. Errors: the offer is RTP/SAVP and SDES is off; the offer is SRTP
/// (RTP/SAVP), or the policy mandatory, and no line is usable; the profile is not RTP/AVP(F) or
/// RTP/SAVP(F). An RTP/AVP offer without (usable) crypto under `optional` gives plain RTP.
inline srtp_outcome answer_srtp(const sdp_media& offer, const rtp_opus_config& cfg, bool sdes) {
  const auto profile = profile_of(offer.protocol);
  if (profile == rtp_profile::unsupported)
    return {std::nullopt, "unsupported media profile " + offer.protocol + " (RTP/AVP, RTP/SAVP or UDP/TLS/RTP/SAVP)"};
  if (profile == rtp_profile::dtls_savp)
    return {std::nullopt, "the peer requires DTLS-SRTP (UDP/TLS/RTP/SAVP), which this address does not use (see srtp_keying)"};
  if (!sdes) {
    if (cfg.srtp == srtp_policy::mandatory) return {std::nullopt, std::string(sdes_refusal(cfg, false))};
    if (profile == rtp_profile::savp)
      return {std::nullopt, cfg.srtp == srtp_policy::off
                                ? "the peer requires SRTP (RTP/SAVP) and SRTP is off here"
                                : "the peer requires SRTP (RTP/SAVP), but SDES keys may not cross unprotected signalling here"};
    return {};
  }
  for (const auto& c : offer.crypto)
    if (std::find(cfg.srtp_suites.begin(), cfg.srtp_suites.end(), c.suite) != cfg.srtp_suites.end())
      return {srtp_keys{fresh_crypto(c.tag, c.suite), c}, {}};
  if (profile == rtp_profile::savp || cfg.srtp == srtp_policy::mandatory)
    return {std::nullopt, (offer.crypto.empty() && offer.crypto_refused.empty()
                               ? std::string("SRTP is mandatory and the peer offers no a=crypto")
                               : "no acceptable a=crypto in the peer's offer" + srtp_detail::refused_lines(offer))};
  return {};
}

/// The SRTP side of the remote answer `answer` to our offer, whose crypto lines were `offered` (empty
/// when it had none). SRTP when the answer carries one `a=crypto` naming an offered tag with the same
/// suite (RFC 4568 §7.1.3). Errors: an answer crypto line that names no offered tag/suite; SRTP answered
/// on RTP/SAVP without crypto; no crypto when the policy is mandatory; a profile other than RTP/AVP(F)
/// and RTP/SAVP(F).
inline srtp_outcome accept_answer_srtp(const sdp_media& answer, const std::vector<sdp_crypto>& offered,
                                       const rtp_opus_config& cfg) {
  const auto profile = profile_of(answer.protocol);
  if (profile == rtp_profile::unsupported || profile == rtp_profile::dtls_savp)
    return {std::nullopt, "unsupported media profile " + answer.protocol + " in the answer"};
  if (offered.empty()) {
    if (profile == rtp_profile::savp) return {std::nullopt, "the answer is RTP/SAVP, but no SRTP was offered"};
    return {};
  }
  if (!answer.crypto.empty()) {
    const auto& a = answer.crypto.front();
    auto mine = std::find_if(offered.begin(), offered.end(),
                             [&a](const sdp_crypto& o) { return o.tag == a.tag && o.suite == a.suite; });
    if (mine == offered.end()) return {std::nullopt, "the answer's a=crypto names no offered tag and suite"};
    return {srtp_keys{*mine, a}, {}};
  }
  if (profile == rtp_profile::savp || cfg.srtp == srtp_policy::mandatory)
    return {std::nullopt, "SRTP is mandatory and the answer carries no usable a=crypto" + srtp_detail::refused_lines(answer)};
  return {};
}

}  // namespace mspi::detail
