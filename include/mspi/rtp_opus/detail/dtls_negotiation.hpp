// ptapi - portable TAPI
// mspi/rtp_opus/detail/dtls_negotiation.hpp: DTLS-SRTP offer/answer (RFC 5763 §5) for the audio stream,
// under the MSP's SRTP policy with rtp_opus_config::srtp_keying == dtls.
#pragma once

#include <mspi/rtp/dtls_certificate.hpp>
#include <mspi/rtp/dtls_transport.hpp>
#include <mspi/rtp_opus/config.hpp>
#include <mspi/rtp_opus/detail/srtp_negotiation.hpp>
#include <mspi/sdp.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mspi::detail {

/// What offer/answer decided for DTLS-SRTP: our role, the peer's fingerprints and our certificate.
struct dtls_parameters {
  dtls_role role = dtls_role::client;
  std::vector<sdp_fingerprint> remote;                   ///< The peer's `a=fingerprint` lines (non-empty).
  std::shared_ptr<const dtls_certificate> certificate;  ///< Ours (the MSP's).
};

/// What the DTLS part of an exchange decided: `error` empty and `dtls` set (DTLS-SRTP) or not (plain RTP),
/// or `error` says why the policy cannot be met.
struct dtls_outcome {
  std::optional<dtls_parameters> dtls;
  std::string error;
};

/// Writes our DTLS-SRTP attributes into our m-line `m`: `a=fingerprint` (SHA-256 of `cert`) and `a=setup`
/// `setup`; the profile UDP/TLS/RTP/SAVP when `savp`, else RTP/AVP (RFC 8643 style best effort).
inline void describe_dtls(sdp_media& m, const dtls_certificate& cert, sdp_setup setup, bool savp) {
  m.fingerprints = {cert.fingerprint()};
  m.setup = setup;
  m.protocol = savp ? "UDP/TLS/RTP/SAVP" : "RTP/AVP";
}

/// The DTLS side of answering the remote offer's m-line `offer` (RFC 5763 §5): with fingerprints and an
/// `a=setup` other than holdconn, DTLS-SRTP with us `client` (answering active) unless the offer says
/// `active` (we answer passive; an absent a=setup means active, RFC 4145 §4). Errors: UDP/TLS/RTP/SAVP
/// without a fingerprint, an RTP/SAVP (SDES) offer, a mandatory policy and no fingerprint, an unknown profile.
inline dtls_outcome answer_dtls(const sdp_media& offer, const rtp_opus_config& cfg,
                                const std::shared_ptr<const dtls_certificate>& cert) {
  const auto profile = profile_of(offer.protocol);
  if (profile == rtp_profile::unsupported)
    return {std::nullopt, "unsupported media profile " + offer.protocol + " (RTP/AVP or UDP/TLS/RTP/SAVP)"};
  if (profile == rtp_profile::savp) return {std::nullopt, "the peer offers SDES (RTP/SAVP); this address uses DTLS-SRTP"};
  const bool usable = !offer.fingerprints.empty() && offer.setup != sdp_setup::holdconn && cert;
  if (!usable) {
    if (profile == rtp_profile::dtls_savp || cfg.srtp == srtp_policy::mandatory)
      return {std::nullopt, offer.fingerprints.empty() ? "DTLS-SRTP is required and the offer has no usable a=fingerprint"
                                                       : "DTLS-SRTP is required and the offer's a=setup is holdconn"};
    return {};
  }
  const bool peer_active = !offer.setup || *offer.setup == sdp_setup::active;
  return {dtls_parameters{peer_active ? dtls_role::server : dtls_role::client, offer.fingerprints, cert}, {}};
}

/// The DTLS side of the remote answer `answer` to our offer (which carried our fingerprint with actpass):
/// DTLS-SRTP when it has fingerprints, as server when it says `active` (or nothing, RFC 4145 §4), client
/// when `passive`. Errors: an answer setup of actpass or holdconn with fingerprints; UDP/TLS/RTP/SAVP, or
/// a mandatory policy, without a fingerprint; an RTP/SAVP or unknown profile.
inline dtls_outcome accept_answer_dtls(const sdp_media& answer, const rtp_opus_config& cfg,
                                       const std::shared_ptr<const dtls_certificate>& cert) {
  const auto profile = profile_of(answer.protocol);
  if (profile == rtp_profile::unsupported || profile == rtp_profile::savp)
    return {std::nullopt, "unsupported media profile " + answer.protocol + " in the answer"};
  if (answer.fingerprints.empty() || !cert) {
    if (profile == rtp_profile::dtls_savp || cfg.srtp == srtp_policy::mandatory)
      return {std::nullopt, "DTLS-SRTP is mandatory and the answer carries no usable a=fingerprint"};
    return {};
  }
  if (answer.setup == sdp_setup::actpass || answer.setup == sdp_setup::holdconn)
    return {std::nullopt, "the answer's a=setup must be active or passive (RFC 5763 §5)"};
  const bool peer_passive = answer.setup == sdp_setup::passive;
  return {dtls_parameters{peer_passive ? dtls_role::client : dtls_role::server, answer.fingerprints, cert}, {}};
}

}  // namespace mspi::detail
