// softphone: `softphone listen` and `softphone call`, a SIP softphone on the SIP TSP (tspi::sip::sip_tsp)
// and the RTP MSP (Opus, PCMU, PCMA; RFC 4733 DTMF).
#pragma once

#include "devices.hpp"

#include <optional>
#include <string>
#include <vector>

namespace softphone {

/// The options of `listen` and `call` (see README.md).
struct sip_options {
  std::string bind;                        ///< "IP[:PORT]" or "[IPv6][:PORT]": SIP listen address and RTP address.
  std::optional<std::string> account;      ///< AOR "sip:user@domain"; with password/registrar one sip_account.
  std::optional<std::string> password;     ///< Digest password of the account.
  std::optional<std::string> registrar;    ///< "host[:port]" to REGISTER with.
  std::vector<std::string> realms;         ///< Digest realms the account answers (sip_account::realms).
  bool allow_rfc2069 = false;              ///< Answer challenges without qop (sip_account::allow_rfc2069).
  std::optional<std::string> play;         ///< WAV played once into each call, then silence.
  std::optional<std::string> record;       ///< WAV recording of what each call receives.
  std::optional<double> seconds;           ///< listen: how long to wait for calls; call: how long the call stays up.
  std::vector<std::string> codecs;         ///< Offered/accepted codecs in preference order: opus, pcmu, pcma.
  std::optional<int> opus_bitrate;         ///< Opus encoder bitrate, bits/s (mspi::opus_config::bitrate_bps).
  bool json = false;                       ///< Print each call's report as JSON on the last line too.
  bool device = false;                     ///< Talk and listen through the default sound devices.
  aec_options aec;                         ///< Echo cancellation on the sound devices (with --device).
  bool sip_trace = false;                  ///< Print every SIP message on stderr.
  int t1_ms = 500;                         ///< SIP timer T1 (timer B = 64*T1).
  std::optional<std::string> public_address;  ///< IP advertised in Contact and SDP (sip_config::public_address).
  bool ice = false;                        ///< ICE for the media (rtp_opus_config::ice).
  bool inband_dtmf = false;                ///< Detect in-band DTMF too (rtp_opus_config::inband_digits).
  std::optional<std::string> stun;         ///< STUN server "IP[:PORT]" for the media's server-reflexive address (rtp_opus_config::stun_server).
  std::optional<std::string> turn;         ///< TURN server "IP[:PORT]" for ICE's relayed candidate (rtp_opus_config::turn_server).
  std::string turn_user;                   ///< TURN username (rtp_opus_config::turn_username).
  std::string turn_password;               ///< TURN password (rtp_opus_config::turn_password).
  // listen
  bool auto_answer = false;
  int answer_delay_ms = 0;
  std::optional<int> calls;                ///< Stop after this many calls have ended.
  std::optional<std::string> forward;      ///< Forward calls to this URI (address::forward) ...
  std::string forward_on = "always";       ///< ... always, on busy, or on no-answer ...
  int forward_rings = 3;                   ///< ... after this many rings (sip_config::ring_period each).
  // call
  std::string target;                      ///< The SIP URI to call.
  std::string dtmf;                        ///< Digits sent 1 s after the call connects.
  std::string tone;                        ///< Tone (busy, ringback, beep, billing) sent 1 s after connecting, for 3 s.
  std::optional<double> hold_after;        ///< Hold this many seconds after connecting (listen: each call) ...
  double hold_for = 2;                     ///< ... for this long, then take the call off hold.
  std::optional<std::string> transfer_to;  ///< Blind-transfer the far end to this URI ...
  std::optional<double> transfer_after;    ///< ... this many seconds after connecting.
  bool attended = false;                   ///< Consultation transfer: call --transfer-to first, then REFER with Replaces.
  std::optional<std::string> conference_with;  ///< `conference`: once connected, add this URI (Conference + Finish).
  bool conference_no_hold = false;  ///< `conference --no-hold`: connect that URI first, so the first call is never held.

  // SRTP (RFC 3711) with SDES keys (RFC 4568)
  std::string srtp = "off";                ///< "off", "sdes" or "dtls": offer/accept SRTP (best effort unless required).
  bool srtp_required = false;              ///< SRTP mandatory (RTP/SAVP): a peer without it fails the call.
  bool allow_insecure_sdes = false;        ///< SDES keys over SIP that may be unencrypted (without --tls-only).
  // SIP over TLS (RFC 3261 §26.2): sips: URIs and ;transport=tls always go over TLS (client side)
  std::optional<std::string> tls_cert;     ///< PEM certificate chain: also listen on TLS (sip_config::tls_port).
  std::optional<std::string> tls_key;      ///< PEM private key of --tls-cert.
  std::optional<std::string> tls_ca;       ///< PEM CA file trusted for servers' certificates; default: the system's.
  std::optional<int> tls_port;             ///< TLS listening port; default: the --bind port + 1 (5061), or ephemeral.
  bool tls_insecure = false;               ///< Accept any server certificate (tests only: no chain or name check).
  std::string tls_client_certs = "none";   ///< "none", "optional", "required": our listener asks for client certificates (tls_config::client_certificates).
  bool tls_only = false;                   ///< No UDP/TCP: every request over TLS (SDES then needs no --allow-insecure-sdes).
  // both
  std::vector<std::string> dns;            ///< DNS servers "host:port" (sip_config::dns.servers); empty = the system's.
  std::optional<std::string> outbound_proxy;  ///< Outbound proxy URI of --account (sip_account::outbound_proxy).
};

/// `softphone listen`: waits for calls and answers them (automatically or with 'a'). Returns the exit
/// code: 0 when every call connected and carried RTP both ways (and, with --calls N, N calls ended);
/// 1 otherwise. @throws input_error (exit code 2) for bad options or files.
int run_listen(const sip_options& options);

/// `softphone call`: places one call. Returns 0 when the call connected, carried RTP both ways and ended
/// normally; 1 when it failed (one line on stderr: the SIP status and the cause). @throws input_error.
int run_call(const sip_options& options);

}  // namespace softphone
