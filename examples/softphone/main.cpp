// softphone: a ptapi example. `softphone demo` places a call between two loopback addresses and
// measures it; `softphone listen` and `softphone call` are a SIP softphone; `softphone devices` lists
// the sound devices. See README.md next to this file.
#include "demo.hpp"
#include "devices.hpp"
#include "sip_phone.hpp"
#include "speech.hpp"

#include <mspi/portaudio.hpp>

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

namespace {

// --aec, --aec-tail (demo, listen, call).
void add_aec_options(CLI::App* cmd, softphone::aec_options& o) {
  cmd->add_option("--aec", o.mode, "With --device: echo cancellation, noise suppression and AGC (speexdsp): on or off")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--aec-tail", o.tail_ms, "With --aec on: echo tail in ms the canceller models (10-2000)")
      ->check(CLI::Range(10U, 2000U))
      ->capture_default_str();
}

// The options `listen` and `call` share.
void add_sip_options(CLI::App* cmd, softphone::sip_options& o) {
  cmd->add_option("--bind", o.bind, "IP[:PORT] for SIP (UDP and TCP) and RTP")->capture_default_str();
  cmd->add_option("--account", o.account, "Address-of-record sip:user@domain (default: sip:ptapi@<bind>)");
  cmd->add_option("--password", o.password, "Digest password of --account");
  cmd->add_option("--registrar", o.registrar, "host[:port] to REGISTER --account with");
  cmd->add_option("--realm", o.realms, "Digest realm --account may answer (repeatable; default: the registrar's)");
  cmd->add_flag("--allow-rfc2069", o.allow_rfc2069, "Answer Digest challenges without qop (RFC 2069; weak)");
  cmd->add_option("--play", o.play, "WAV to play into the call once, then silence (mono/stereo 16-bit, 8-48 kHz)");
  cmd->add_option("--record", o.record, "WAV recording of what the call receives (listen: OUT-2.wav... for later calls)");
  cmd->add_option("--codec", o.codecs, "Codecs to offer/accept in preference order: opus, pcmu, pcma (default: all three)")
      ->delimiter(',');
  cmd->add_option("--opus-bitrate", o.opus_bitrate, "Opus bitrate in bits/s (SDP maxaveragebitrate; default 24000)")
      ->check(CLI::Range(6000, 510000));
  cmd->add_flag("--json", o.json, "Also print each call's report as one JSON object on the last line");
  cmd->add_flag("--device", o.device, "Talk and listen through the default microphone and speakers");
  add_aec_options(cmd, o.aec);
  cmd->add_flag("--sip-trace", o.sip_trace, "Print every SIP message sent and received on stderr");
  cmd->add_option("--srtp", o.srtp,
                  "SRTP: off, sdes (keys in the SDP, RFC 4568) or dtls (DTLS-SRTP, RFC 5764: a handshake on the media "
                  "port, fine over clear SIP); best effort unless --srtp-required")
      ->check(CLI::IsMember({"off", "sdes", "dtls"}))
      ->capture_default_str();
  cmd->add_flag("--srtp-required", o.srtp_required, "With --srtp sdes|dtls: SRTP mandatory (RTP/SAVP or UDP/TLS/RTP/SAVP); a peer without it fails the call");
  cmd->add_flag("--allow-insecure-sdes", o.allow_insecure_sdes,
                "Let SDES keys cross SIP that may be unencrypted (required with --srtp sdes unless --tls-only)");
  cmd->add_option("--tls-cert", o.tls_cert,
                  "PEM certificate chain for SIP over TLS: also listen on TLS (--tls-port), and offered as our client "
                  "certificate when a TLS server asks for one (mutual TLS)");
  cmd->add_option("--tls-key", o.tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--tls-ca", o.tls_ca, "PEM CA file trusted for TLS servers' certificates (default: the system's store)");
  cmd->add_option("--tls-port", o.tls_port, "TLS listening port with --tls-cert (default: the --bind port + 1, 5061)")
      ->check(CLI::Range(0, 65535));
  cmd->add_flag("--tls-insecure", o.tls_insecure,
                "INSECURE, tests only: accept any TLS server certificate (no chain or host name check)");
  cmd->add_option("--tls-client-certs", o.tls_client_certs,
                  "Our TLS listener asks callers for a certificate: none, optional (verified when sent) or required "
                  "(refused without one); verified against --tls-ca (default: the system's store)")
      ->check(CLI::IsMember({"none", "optional", "required"}))
      ->capture_default_str();
  cmd->add_flag("--tls-only", o.tls_only, "SIP over TLS only (no UDP/TCP; needs --tls-cert): sip: URIs go over TLS too; allows --srtp sdes");
  cmd->add_option("--public-address", o.public_address,
                  "IP to advertise in Contact and SDP (NAT with forwarded ports; default: the local or learned address)");
  cmd->add_option("--stun", o.stun,
                  "STUN server IP[:PORT] (default port 3478): advertise the media's server-reflexive address in SDP "
                  "(RFC 8489; waits at most 1 s per call, else the local address; --public-address wins)");
  cmd->add_option("--turn", o.turn,
                  "TURN server IP[:PORT] (default port 3478, UDP; needs --ice, --turn-user): offer a relayed ICE "
                  "candidate allocated there (RFC 8656)");
  cmd->add_option("--turn-user", o.turn_user, "TURN username (long-term credentials, RFC 8489 9.2)");
  cmd->add_option("--turn-password", o.turn_password, "TURN password");
  cmd->add_flag("--ice", o.ice,
                "ICE (RFC 8445) for the media with peers that offer or answer it: candidates in SDP, checks, RTP "
                "and RTCP on one port (rtcp-mux); others get plain RTP");
  cmd->add_flag("--inband-dtmf", o.inband_dtmf,
                "Also detect DTMF sent as audio (in-band, for G.711 peers without RFC 4733 telephone-event); the "
                "digits are reported as digits_received");
  cmd->add_option("--t1-ms", o.t1_ms, "SIP timer T1 in ms (timer B, the INVITE timeout, is 64*T1)")
      ->capture_default_str()
      ->group("Advanced");
  cmd->add_option("--dns", o.dns, "DNS server host:port for SIP names (RFC 3263; repeatable or a comma list; default: /etc/resolv.conf)")
      ->delimiter(',');
  cmd->add_option("--outbound-proxy", o.outbound_proxy, "SIP URI of an outbound proxy for --account's requests (Route ;lr)");
}

}  // namespace

int main(int argc, char** argv) {
  mspi::silence_audio_library_messages();  // a softphone on a headless machine: no ALSA chatter on stderr
  CLI::App app{"ptapi softphone: TAPI 3 calls over SIP and RTP (Opus, G.711)"};
  app.require_subcommand(1);

  softphone::demo_options demo;
  auto* demo_cmd = app.add_subcommand("demo", "Call bob from alice over the loopback provider and measure the call");
  demo_cmd->add_option("--play", demo.play, "WAV alice plays (mono/stereo 16-bit, 8-48 kHz; default: alsa-utils speech)");
  demo_cmd->add_option("--record", demo.record, "WAV where bob records what he hears (default: a temporary file)");
  demo_cmd->add_option("--seconds", demo.seconds, "How long the call stays up (default: the input's length + 1 s)")
      ->check(CLI::Range(0.1, 3600.0));
  demo_cmd->add_option("--ptime", demo.ptime_ms, "RTP packet time in ms: 10, 20, 40 or 60")->capture_default_str();
  demo_cmd->add_flag("--json", demo.json, "Also print the report as one JSON object on the last line");
  demo_cmd->add_flag("--device", demo.device, "Alice talks through the default microphone and speakers (needs a sound card)");
  add_aec_options(demo_cmd, demo.aec);

  softphone::sip_options listen;
  listen.bind = "127.0.0.1:5060";
  auto* listen_cmd = app.add_subcommand("listen", "Wait for SIP calls and answer them");
  add_sip_options(listen_cmd, listen);
  listen_cmd->add_flag("--auto-answer", listen.auto_answer, "Answer every call (otherwise press 'a')");
  listen_cmd->add_option("--answer-delay", listen.answer_delay_ms, "With --auto-answer: let it ring this many ms first")
      ->check(CLI::Range(0, 600000));
  listen_cmd->add_option("--seconds", listen.seconds, "Stop listening after this many seconds")->check(CLI::Range(0.1, 86400.0));
  listen_cmd->add_option("--calls", listen.calls, "Stop after this many calls have ended")->check(CLI::Range(1, 1000000));
  listen_cmd->add_option("--forward", listen.forward, "Forward calls to this SIP URI (ITAddress::Forward: 302 + Diversion)");
  listen_cmd->add_option("--forward-on", listen.forward_on, "When to forward: always, busy (rejected or no room), no-answer")
      ->check(CLI::IsMember({"always", "busy", "no-answer"}))
      ->capture_default_str();
  listen_cmd->add_option("--forward-rings", listen.forward_rings, "With --forward-on no-answer: rings of 6 s before forwarding")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  listen_cmd->add_option("--hold-after", listen.hold_after, "Put each call on hold this many seconds after it connects")
      ->check(CLI::Range(0.0, 86400.0));
  listen_cmd->add_option("--hold-for", listen.hold_for, "... and take it off hold after this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));

  softphone::sip_options call;
  call.bind = "127.0.0.1:0";
  auto* call_cmd = app.add_subcommand("call", "Place one SIP call");
  call_cmd->add_option("uri", call.target, "Who to call: sip:user@host[:port] (host an IP address or a DNS name)")->required();
  add_sip_options(call_cmd, call);
  call_cmd->add_option("--seconds", call.seconds, "How long the call stays up (default: --play's length + 1 s, or 10 s)")
      ->check(CLI::Range(0.1, 86400.0));
  call_cmd->add_option("--dtmf", call.dtmf, "DTMF digits to send 1 s after the call connects (RFC 4733)");
  call_cmd->add_option("--tone", call.tone, "Tone sent in-band 1 s after the call connects, for 3 s (call::generate_tone)")
      ->check(CLI::IsMember({"busy", "ringback", "beep", "billing"}));
  call_cmd->add_option("--hold-after", call.hold_after, "Put the call on hold this many seconds after it connects")
      ->check(CLI::Range(0.0, 86400.0));
  call_cmd->add_option("--hold-for", call.hold_for, "... and take it off hold after this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  call_cmd->add_option("--transfer-to", call.transfer_to, "Blind-transfer the far end to this SIP URI (REFER) ...");
  call_cmd->add_option("--transfer-after", call.transfer_after, "... this many seconds after the call connects")
      ->check(CLI::Range(0.0, 86400.0));
  call_cmd->add_flag("--attended", call.attended,
                     "With --transfer-to: consultation transfer (hold, call the target, then REFER with Replaces)");

  softphone::sip_options conf;
  conf.bind = "127.0.0.1:0";
  std::string second;
  auto* conf_cmd = app.add_subcommand("conference", "Host a three-way call: call URI1, then add URI2 (local mixing)");
  conf_cmd->add_option("uri1", conf.target, "The first party: sip:user@host[:port]")->required();
  conf_cmd->add_option("uri2", second, "The second party, added once the first has answered")->required();
  add_sip_options(conf_cmd, conf);
  conf_cmd->add_flag("--no-hold", conf.conference_no_hold,
                     "Call URI2 as a call of its own first (URI1 stays connected, not held, while URI2 rings), then conference it in");
  conf_cmd->add_option("--seconds", conf.seconds, "How long the conference stays up (default: --play's length + 1 s, or 10 s)")
      ->check(CLI::Range(0.1, 86400.0));

  auto* devices_cmd = app.add_subcommand("devices", "List the PortAudio sound devices");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // bad command line: exit code 2
  }

  try {
    if (devices_cmd->parsed()) return softphone::list_devices();
    if (listen_cmd->parsed()) return softphone::run_listen(listen);
    if (call_cmd->parsed()) return softphone::run_call(call);
    if (conf_cmd->parsed()) {
      conf.conference_with = second;
      return softphone::run_call(conf);
    }
    return softphone::run_demo(demo);
  } catch (const softphone::input_error& e) {
    std::cerr << "softphone: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "softphone: " << e.what() << '\n';
    return 1;
  }
}
