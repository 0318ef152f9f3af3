// `softphone listen` and `softphone call`: a SIP softphone written the TAPI 3 way. The SIP TSP and the RTP
// MSP are registered as one provider pair; calls are answered from the call notification, terminals are
// selected on the call and the file terminals start on CME_STREAM_ACTIVE, as in demo.cpp. The main thread
// runs a small loop (keys, timed actions, the status line); the event handlers only record what happened.
#include "sip_phone.hpp"

#include "console.hpp"
#include "report.hpp"
#include "speech.hpp"

#include <tspi/sip/bind_address.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/tsp.hpp>
#include <tspi/sip/uri.hpp>
#include <tspi/tapi.hpp>

#include <mspi/audio_file.hpp>
#if PTAPI_WITH_DSP
#include <mspi/dsp/dtmf_detector.hpp>
#include <mspi/dsp/tone_media.hpp>
#endif
#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>
#include <mspi/terminals/media_control.hpp>
#include <mspi/terminals/media_streaming.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace softphone {

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using mspi::media_type;
using mspi::terminal_direction;
using tspi::call_state;
using tspi::call_state_cause;

/// How long an outgoing call may ring before the softphone gives up on it.
constexpr auto ring_timeout = 60s;
/// How long the softphone waits for a hung-up call to report `disconnected`.
constexpr auto hangup_timeout = 5s;

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// ---- command-line values ----


/// "IP[:PORT]" or "[IPv6][:PORT]" (a bare IPv6 literal too, `tspi::sip::parse_bind_address`); `option`
/// names it in the error.
tspi::sip::bind_address parse_bind(const std::string& text, std::uint16_t default_port, const char* option = "--bind") {
  std::error_code ec;
  auto out = tspi::sip::parse_bind_address(text, default_port, ec);
  if (ec)
    throw input_error(std::string("bad ") + option + " '" + text + "': expected IP[:PORT] with an IP literal, e.g. 127.0.0.1:" +
                      std::to_string(default_port ? default_port : 5060));
  return out;
}

/// A URI the softphone can call or transfer to: sip: (assumed when missing) or sips: (over TLS); the host an
/// IP literal, localhost or a DNS name (RFC 3263, resolved by the TSP).
std::string checked_uri(const std::string& text, const char* what) {
  std::string s = text;
  if (lower(s.substr(0, 4)) != "sip:" && lower(s.substr(0, 5)) != "sips:") s = "sip:" + s;
  const auto u = tspi::sip::parse_uri(s);
  if (!u || u->host.empty()) throw input_error(std::string("bad ") + what + " '" + text + "': not a SIP URI (sip:user@host:port)");
  return u->to_string();
}

std::vector<mspi::audio_codec> parse_codecs(const std::vector<std::string>& names) {
  std::vector<mspi::audio_codec> out;
  for (const auto& n : names) {
    const auto l = lower(n);
    const auto c = l == "opus" ? mspi::audio_codec::opus
                   : l == "pcmu" ? mspi::audio_codec::pcmu
                   : l == "pcma" ? mspi::audio_codec::pcma
                                 : throw input_error("bad --codec '" + n + "': expected opus, pcmu or pcma");
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

/// The codec a stream reports (its SDP encoding name), lower case; "none" before media started.
std::string codec_of(const mspi::stream_statistics& s) { return s.codec.empty() ? "none" : lower(s.codec); }

// "IP:port", "[IPv6]:port".
std::string transport_text(const std::string& ip, std::uint16_t port) {
  return ip.find(':') == std::string::npos ? fmt::format("{}:{}", ip, port) : fmt::format("[{}]:{}", ip, port);
}

// What the advertised media address is, by where it came from (`demo_report::media_address_kind`): with
// --turn the gathering is the TURN Allocate, whose XOR-MAPPED-ADDRESS is the server-reflexive address
// (RFC 8656 §7.3) and no STUN server is asked; with --stun a STUN Binding (RFC 8489).
std::string media_address_kind(const mspi::stream_statistics& s, bool turn, bool public_address) {
  if (!s.relayed_address.empty() && s.local_address == s.relayed_address && s.local_port == s.relayed_port)
    return "relayed (TURN)";
  if (s.server_reflexive) return turn ? "server-reflexive (TURN)" : "server-reflexive (STUN)";
  return public_address ? "public" : "host";
}

/// --sip-trace: prints the SIP messages of our transactions (and stray responses) on stderr.
class sip_trace {
 public:
  /// The trace callback (the TSP's thread).
  void on_message(const tspi::sip::message& m, bool outgoing) { print(m, outgoing ? "--> sent\n" : "<-- received\n"); }
  /// The stray-trace callback (the TSP's thread): responses that matched none of our transactions.
  void on_stray(const tspi::sip::message& m) { print(m, "<-- received (matches no transaction)\n"); }

 private:
  void print(const tspi::sip::message& m, const char* what) {
    auto text = m.to_string();
    std::lock_guard lock(m_);
    std::cerr << what << text << (text.ends_with('\n') ? "" : "\n") << std::flush;
  }
  std::mutex m_;
};

// ---- calls ----

struct call_entry {
  tspi::call call;
  std::uint64_t id = 0;
  int number = 0;
  bool incoming = false;
  std::string remote;
  // Media (set once, before the call can become active).
  mspi::terminal_ptr mouth, ear;
  std::shared_ptr<mspi::file_playback_terminal> player;
  std::shared_ptr<mspi::file_recording_terminal> recorder;
  std::string record_path;
  // Guarded by phone::m_.
  bool player_started = false;
  std::vector<std::string> states;
  call_state state = call_state::idle;
  call_state_cause cause = call_state_cause::none;
  bool connected = false, over = false, reported = false, answering = false;
  bool hold_sent = false, unhold_sent = false;  // listen --hold-after
  bool replaced = false;  // an inbound call replaced it (RFC 3891: it may end before any RTP)
  std::optional<steady::time_point> connected_at, answer_at;
  std::string digits;
  std::vector<std::string> tones;  // names of the tones detected (DetectTones)
  mspi::stream_ptr tx, rx;
  std::optional<std::error_code> transfer_result;
};

class phone {
 public:
  phone(const sip_options& o, bool listening) : o_(o) {
    // Check everything the user gave before anything is opened or written.
    const auto bind = parse_bind(o.bind, listening ? 5060 : 0);
    if (o.t1_ms < 1 || o.t1_ms > 10000) throw input_error("--t1-ms must be 1..10000");
    if (!listening) target_ = checked_uri(o.target, "URI");
    if (o.transfer_to) transfer_to_ = checked_uri(*o.transfer_to, "--transfer-to");
    if (o.conference_with) conference_with_ = checked_uri(*o.conference_with, "conference");
    if (o.forward) (void)checked_uri(*o.forward, "--forward");
    if (o.transfer_to.has_value() != o.transfer_after.has_value())
      throw input_error("--transfer-to and --transfer-after go together");
    if (o.attended && !o.transfer_to) throw input_error("--attended needs --transfer-to");
    if (!o.dtmf.empty() && o.dtmf.find_first_not_of("0123456789*#ABCDabcd") != std::string::npos)
      throw input_error("bad --dtmf '" + o.dtmf + "': digits are 0-9 * # A-D");
    if (o.play) {
      const auto said = load_speech(o.play);  // throws input_error when unreadable
      play_seconds_ = static_cast<double>(said.samples.size()) / mspi::pipeline_rate_hz;
    }
    tspi::sip::sip_config cfg;
    cfg.listen_address = bind.host;
    cfg.port = bind.port;
    cfg.timers.t1 = std::chrono::milliseconds(o.t1_ms);
    cfg.user_agent = "ptapi-softphone/0.1";
    if (o.account) {
      tspi::sip::sip_account a;
      a.aor = *o.account;
      const auto u = tspi::sip::parse_uri(a.aor);
      if (!u || u->user.empty()) throw input_error("bad --account '" + a.aor + "': expected sip:user@domain");
      a.password = o.password.value_or("");
      a.registrar = o.registrar.value_or("");
      a.realms = o.realms;
      a.allow_rfc2069 = o.allow_rfc2069;
      a.outbound_proxy = o.outbound_proxy.value_or("");
      cfg.accounts.push_back(a);
    } else if (o.password || o.registrar || !o.realms.empty() || o.allow_rfc2069 || o.outbound_proxy) {
      throw input_error("--password, --registrar, --realm, --allow-rfc2069 and --outbound-proxy need --account");
    }
    if (o.public_address) {
      boost::system::error_code bec;
      (void)boost::asio::ip::make_address(*o.public_address, bec);
      if (bec) throw input_error("bad --public-address '" + *o.public_address + "': expected an IP address");
      cfg.public_address = *o.public_address;
    }
    cfg.on_registration = [this](std::size_t, int status, std::string_view reason) {
      std::lock_guard lock(m_);
      registration_status_ = status;
      registration_reason_ = reason;
      cv_.notify_all();
    };
    cfg.dns.servers = o.dns;
    // SIP over TLS: always as a client (sips: URIs), as a server with --tls-cert.
    if (o.tls_cert.has_value() != o.tls_key.has_value()) throw input_error("--tls-cert and --tls-key go together");
    if (o.tls_only && !o.tls_cert) throw input_error("--tls-only needs --tls-cert and --tls-key (our TLS listener is our Contact)");
    cfg.tls = true;
    cfg.transport.tls.certificate_chain_file = o.tls_cert.value_or("");
    cfg.transport.tls.private_key_file = o.tls_key.value_or("");
    cfg.transport.tls.ca_file = o.tls_ca.value_or("");
    cfg.transport.tls.insecure_skip_verification = o.tls_insecure;
    cfg.transport.tls.client_certificates = o.tls_client_certs == "required"   ? tspi::sip::tls_client_certificates::required
                                            : o.tls_client_certs == "optional" ? tspi::sip::tls_client_certificates::optional
                                                                               : tspi::sip::tls_client_certificates::none;
    if (cfg.transport.tls.client_certificates != tspi::sip::tls_client_certificates::none && !o.tls_cert)
      throw input_error("--tls-client-certs needs --tls-cert and --tls-key (it applies to our TLS listener)");
    cfg.tls_port = static_cast<std::uint16_t>(o.tls_port.value_or(bind.port == 0 ? 0 : bind.port + 1));
    if (o.tls_only) cfg.udp = cfg.tcp = false;
    if (o.sip_trace) {
      cfg.trace = [this](const tspi::sip::message& m, bool outgoing) { trace_.on_message(m, outgoing); };
      cfg.stray_trace = [this](const tspi::sip::message& m) { trace_.on_stray(m); };
    }
    mspi::rtp_opus_config media;
    media.local_address = bind.host;
    media.cname = "softphone@" + bind.host;
    if (!o.codecs.empty()) media.codecs = parse_codecs(o.codecs);
    if (o.opus_bitrate) media.opus.bitrate_bps = *o.opus_bitrate;
    if (o.srtp_required && o.srtp == "off") throw input_error("--srtp-required needs --srtp sdes or dtls");
    if (o.srtp == "sdes" && !o.allow_insecure_sdes && !o.tls_only)
      throw input_error("--srtp sdes sends the media keys in the SDP; without --tls-only that needs --allow-insecure-sdes");
    if (o.srtp != "off") media.srtp = o.srtp_required ? mspi::srtp_policy::mandatory : mspi::srtp_policy::optional;
    if (o.srtp == "dtls") media.srtp_keying = mspi::srtp_key_exchange::dtls;
    media.allow_sdes_over_insecure_signalling = o.allow_insecure_sdes;
    if (o.public_address) media.public_address = *o.public_address;  // wins over --stun
    media.ice = o.ice;
#if PTAPI_WITH_DSP
    media.tones = mspi::dsp::tone_media();  // --tone, and the ringback/busy detection of every call
    if (o.inband_dtmf) media.inband_digits = mspi::dsp::dtmf_detection();
#else
    if (o.inband_dtmf) throw input_error("--inband-dtmf needs the dsp component (spandsp)");
#endif
    if (o.stun) {
      const auto stun = parse_bind(*o.stun, 3478, "--stun");  // RFC 8489 §18.6: STUN's default port
      media.stun_server = boost::asio::ip::udp::endpoint(boost::asio::ip::make_address(stun.host), stun.port);
    }
    if (o.turn) {
      if (!o.ice || o.turn_user.empty()) throw input_error("--turn needs --ice and --turn-user");
      const auto turn = parse_bind(*o.turn, 3478, "--turn");  // RFC 8656 §4: TURN's default port over UDP
      media.turn_server = boost::asio::ip::udp::endpoint(boost::asio::ip::make_address(turn.host), turn.port);
      media.turn_username = o.turn_user;
      media.turn_password = o.turn_password;
    }
    ptime_ms_ = static_cast<int>(media.ptime.count());
    // --record: created now, so that an unwritable path is an input error (exit 2) before any call.
    if (o.record && !o.device) {
      std::error_code ec;
      auto w = mspi::wav_writer::create(*o.record, mspi::pipeline_rate_hz, 1, ec);
      if (ec) throw input_error("cannot create '" + *o.record + "': " + ec.message());
    }

    tapi_.register_provider<tspi::sip::sip_tsp, mspi::rtp_opus_msp>(cfg, media);
    tapi_.set_event_filter(tspi::tapi_event::all);
    connect_handlers();
    std::error_code ec;
    tapi_.initialize(ec);
    if (ec == mspi::tapi_errc::invalid_argument)
      throw input_error("bad --bind, --account, --registrar, --outbound-proxy, --dns or --tls-* file (" + ec.message() + ")");
    if (ec) throw std::runtime_error("cannot listen on " + o.bind + ": " + ec.message());
    address_ = tapi_.addresses().at(0);
    if (listening && o.forward) {  // ITAddress::Forward
      tspi::forward_information rules;
      rules.set_num_rings_no_answer(static_cast<std::uint32_t>(o.forward_rings));
      rules.set_forward_type(o.forward_on == "busy"        ? tspi::forward_mode::busy
                             : o.forward_on == "no-answer" ? tspi::forward_mode::no_answer
                                                           : tspi::forward_mode::unconditional,
                             checked_uri(*o.forward, "--forward"));
      address_.forward(rules, ec);
      if (ec) throw input_error("cannot forward to '" + *o.forward + "': " + ec.message());
    }
  }
  phone(const phone&) = delete;
  phone& operator=(const phone&) = delete;
  ~phone() { tapi_.shutdown(); }

  int listen(console& con);
  int call(console& con);

 private:
  void connect_handlers();
  std::shared_ptr<call_entry> entry_for(const tspi::call& c);  // creates it
  std::shared_ptr<call_entry> find_entry(std::uint64_t id);     // nullptr once the call was reported
  void attach_terminals(call_entry& c);
  void handle_key(char key, console& con);
  // ITBasicCallControl::Conference (dials `uri`, holds `primary` unless conferenced), then Finish(FM_ASCONFERENCE).
  // `connect_first`: `uri` is connected as a call of its own before Conference, which then holds nothing.
  void add_to_conference(const tspi::call& primary, const std::string& uri, bool connect_first = false);
  void answer_due();
  void hold_due();  // listen --hold-after: hold / unhold each connected call when due
  void hang_up(call_entry& c);
  std::shared_ptr<call_entry> current_call();
  void refresh_status(console& con);
  demo_report make_report(call_entry& c);
  bool report_finished();  // prints the reports of the calls that ended and drops them; false when one failed
  void forget(call_entry& c);

  sip_options o_;
  std::string target_, transfer_to_, conference_with_;
  double play_seconds_ = 0;
  int ptime_ms_ = 20;
  sip_trace trace_;  // outlives the TAPI object (its trace callback)
  std::mutex m_;
  // The last REGISTER outcome (sip_config::on_registration), guarded by m_; 0 before any.
  int registration_status_ = 0;
  std::string registration_reason_;
  bool wait_for_registration();
  std::condition_variable cv_;
  std::vector<std::shared_ptr<call_entry>> calls_;  // calls not yet reported (ended calls are dropped)
  int numbered_ = 0;                               // calls seen so far
  int ended_ = 0;
  steady::time_point last_status_{};
  tspi::tapi tapi_;  // last: destroyed (and shut down) first
  tspi::address address_;
};

std::shared_ptr<call_entry> phone::entry_for(const tspi::call& c) {
  const auto info = c.info();
  std::lock_guard lock(m_);
  for (auto& e : calls_)
    if (e->id == info.id) return e;
  auto e = std::make_shared<call_entry>();
  e->call = c;
  e->id = info.id;
  e->number = ++numbered_;
  e->incoming = info.incoming;
  e->remote = info.incoming ? info.caller_id : info.reason == tspi::call_reason::transfer ? info.called_id : target_;
  calls_.push_back(e);
  return e;
}

std::shared_ptr<call_entry> phone::find_entry(std::uint64_t id) {
  std::lock_guard lock(m_);
  for (auto& e : calls_)
    if (e->id == id) return e;
  return nullptr;
}

void phone::connect_handlers() {
  tapi_.on_call_notification().connect([this](const tspi::call_notification_event& e) {
    auto c = entry_for(e.call);
    if (!c->incoming) {  // the SIP provider placed it: the far end transferred us (REFER, CIL_REASON transfer)
      say(fmt::format("call {}: transferred to {}", c->number, c->remote));
      attach_terminals(*c);
      return;
    }
    const auto info = e.call.info();
    const auto replaced = info.reason == tspi::call_reason::transfer && info.related_call_id
                              ? find_entry(info.related_call_id)  // CIL_RELATEDCALLID: the call it replaces
                              : nullptr;
    say(fmt::format("call {}: incoming from {}{}", c->number, c->remote,
                    replaced ? fmt::format(" (replaces call {})", replaced->number)
                    : o_.auto_answer ? "" : " (press 'a' to answer, 'h' to reject)"));
    attach_terminals(*c);
    std::lock_guard lock(m_);
    if (replaced) replaced->replaced = true;
    // A call replacing one of ours (RFC 3891: we are a consultation transfer's target) is answered by the
    // provider itself.
    if (o_.auto_answer && e.call.info().reason != tspi::call_reason::transfer)
      c->answer_at = steady::now() + std::chrono::milliseconds(o_.answer_delay_ms);
    cv_.notify_all();
  });
  tapi_.on_call_state().connect([this](const tspi::call_state_event& e) {
    auto c = find_entry(e.call.info().id);  // made by the notification (incoming) or call() (outgoing)
    if (!c) return;
    std::string line = fmt::format("call {} {}: {}", c->number, c->remote, tspi::to_string(e.state));
    if (e.state == call_state::disconnected) line += " (" + std::string(tspi::to_string(e.cause)) + ")";
    say(line);
    mspi::stream_ptr tx, rx;
    if (e.state == call_state::connected) {
#if PTAPI_WITH_DSP
      // The US plan's ringback (2 s bursts) and busy (0.5 s bursts), reported by name (app-specific 1, 2).
      static const std::vector<mspi::detect_tone> progress{{1, 1500, {440, 480, 0}}, {2, 350, {480, 620, 0}}};
      e.call.async_detect_tones(progress, [](std::error_code) {});
#endif
      std::error_code ec;
      if (auto sc = e.call.stream_control(ec)) {
        tx = sc->find_stream(media_type::audio, terminal_direction::capture);
        rx = sc->find_stream(media_type::audio, terminal_direction::render);
      }
    }
    std::lock_guard lock(m_);
    c->states.emplace_back(tspi::to_string(e.state));
    c->state = e.state;
    c->cause = e.cause;
    if (e.state == call_state::connected) {
      c->connected = true;
      if (!c->connected_at) c->connected_at = steady::now();
      if (!c->tx) c->tx = tx;
      if (!c->rx) c->rx = rx;
    }
    if (e.state == call_state::disconnected) c->over = true;
    cv_.notify_all();
  });
  tapi_.on_call_media().connect([this](const tspi::call_media_event& e) {
    // CME_STREAM_ACTIVE: start the stream's file terminals; the player only once (--play plays once).
    if (e.event != mspi::call_media_kind::stream_active || !e.stream) return;
    auto c = find_entry(e.call.info().id);
    if (!c) return;
    for (const auto& t : e.stream->terminals()) {
      auto control = std::dynamic_pointer_cast<mspi::media_control>(t);
      if (!control) continue;
      if (t == c->mouth && c->player) {
        std::lock_guard lock(m_);
        if (std::exchange(c->player_started, true)) continue;
      }
      std::error_code ec;
      control->start(ec);
      if (ec) say(fmt::format("call {}: cannot start {}: {}", c->number, t->name(), ec.message()));
    }
  });
  tapi_.on_tone_detection().connect([this](const tspi::tone_detection_event& e) {
    auto c = find_entry(e.call.info().id);
    if (!c) return;
    const std::string name = e.app_specific == 1 ? "ringback" : e.app_specific == 2 ? "busy" : "tone";
    say(fmt::format("call {}: {} tone heard", c->number, name));
    std::lock_guard lock(m_);
    c->tones.push_back(name);
  });
  tapi_.on_digit().connect([this](const tspi::digit_event& e) {
    auto c = find_entry(e.call.info().id);
    if (!c) return;
    say(fmt::format("call {}: digit {}", c->number, e.digit));
    std::lock_guard lock(m_);
    c->digits += e.digit;
  });
  tapi_.on_address().connect([this](const tspi::address_event& e) {
    if (e.kind != tspi::address_event_kind::state) return;
    try {
      say(e.address.name() + (e.address.state() == tspi::address_state::in_service ? ": registered" : ": not registered"));
    } catch (const std::system_error&) {
    }
    std::lock_guard lock(m_);
    cv_.notify_all();  // wait_for_registration
  });
}

void phone::attach_terminals(call_entry& c) {
  auto& ts = address_.terminals();
  std::error_code ec;
  if (o_.device) {
    c.mouth = ts.default_static_terminal(media_type::audio, terminal_direction::capture, ec);
    if (!ec) c.ear = ts.default_static_terminal(media_type::audio, terminal_direction::render, ec);
    if (ec) say(fmt::format("call {}: no sound device: {}", c.number, ec.message()));
    if (!ec) {
      if (const auto why = apply_aec(c.mouth, c.ear, o_.aec); !why.empty())
        say(fmt::format("call {}: echo cancellation {}: {}", c.number, o_.aec.mode, why));
    }
  } else {
    if (o_.play) {
      c.player = ts.create_file_playback_terminal({*o_.play}, ec);
      c.mouth = c.player;
    } else {  // nothing to say: silence (the terminal pads an empty ring with zeros)
      c.mouth = ts.create_media_streaming_terminal(terminal_direction::capture, ec);
    }
    if (ec) say(fmt::format("call {}: cannot create the capture terminal: {}", c.number, ec.message()));
    ec.clear();
    if (o_.record) {
      c.record_path = *o_.record;
      if (c.number > 1) {  // OUT.wav, OUT-2.wav, OUT-3.wav...
        std::filesystem::path p(*o_.record);
        c.record_path = (p.parent_path() / (p.stem().string() + "-" + std::to_string(c.number) + p.extension().string())).string();
      }
      c.recorder = ts.create_file_recording_terminal(c.record_path, ec);
      c.ear = c.recorder;
    } else {  // not recorded, but received (and counted): a render terminal nobody reads
      c.ear = ts.create_media_streaming_terminal(terminal_direction::render, ec);
    }
    if (ec) say(fmt::format("call {}: cannot create the render terminal: {}", c.number, ec.message()));
  }
  for (const auto& t : {c.mouth, c.ear}) {
    if (!t) continue;
    c.call.select_terminal_on_call(t, ec);
    if (ec) say(fmt::format("call {}: cannot select {}: {}", c.number, t->name(), ec.message()));
  }
}

void phone::hang_up(call_entry& c) {
  const int n = c.number;
  if (auto hub = c.call.hub()) {  // hosting a conference: ITCallHub::Clear hangs up every leg
    hub.async_clear([n](std::error_code ec) {
      if (ec) say(fmt::format("call {}: clearing the conference failed: {}", n, ec.message()));
    });
    return;
  }
  c.call.async_disconnect(tspi::disconnect_code::normal, [n](std::error_code ec) {
    if (ec) say(fmt::format("call {}: hang-up failed: {}", n, ec.message()));
  });
}

void phone::add_to_conference(const tspi::call& primary, const std::string& uri, bool connect_first) {
  say("calling " + uri + " to add it to the call");
  std::error_code e;
  auto consult = address_.create_call(uri, media_type::audio, e);
  if (e) return say("conference failed: " + e.message());
  auto conference = [primary, consult](std::error_code e) {
    if (e) return say("conference failed: " + e.message());
    primary.async_conference(consult, [consult](std::error_code e) {
      if (e) return say("conference failed: " + e.message());
      consult.async_finish(tspi::finish_mode::as_conference, [consult](std::error_code e) {
        if (e) return say("conference failed: " + e.message());
        const auto n = consult.hub().num_calls();
        say(n == 2 ? std::string("three-way conference: everyone hears the others")
                   : fmt::format("conference of {} parties and you: everyone hears the others", n));
      });
    });
  };
  if (connect_first) return consult.async_connect(conference);
  conference({});
}

std::shared_ptr<call_entry> phone::current_call() {
  std::lock_guard lock(m_);
  for (auto it = calls_.rbegin(); it != calls_.rend(); ++it)
    if (!(*it)->over) return *it;
  return nullptr;
}

void phone::answer_due() {
  std::vector<std::shared_ptr<call_entry>> due;
  {
    std::lock_guard lock(m_);
    for (auto& c : calls_)
      if (c->answer_at && *c->answer_at <= steady::now() && !c->answering && !c->over) {
        c->answering = true;
        due.push_back(c);
      }
  }
  for (auto& c : due) {
    const int n = c->number;
    c->call.async_answer([n](std::error_code ec) {
      if (ec) say(fmt::format("call {}: answer failed: {}", n, ec.message()));
    });
  }
}

void phone::hold_due() {
  if (!o_.hold_after) return;
  const auto after = [](double s) { return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s)); };
  std::vector<std::pair<std::shared_ptr<call_entry>, bool>> due;  // the call, hold (true) or unhold
  {
    std::lock_guard lock(m_);
    const auto now = steady::now();
    for (auto& c : calls_) {
      if (c->over || !c->connected_at) continue;
      const auto el = now - *c->connected_at;
      if (!c->hold_sent && el >= after(*o_.hold_after)) {
        c->hold_sent = true;
        due.emplace_back(c, true);
      } else if (c->hold_sent && !c->unhold_sent && el >= after(*o_.hold_after + o_.hold_for)) {
        c->unhold_sent = true;
        due.emplace_back(c, false);
      }
    }
  }
  for (auto& [c, hold] : due) {
    const int n = c->number;
    say(fmt::format("call {}: {}", n, hold ? "hold" : "unhold"));
    c->call.async_hold(hold, [n, hold](std::error_code ec) {
      if (ec) say(fmt::format("call {}: {} failed: {}", n, hold ? "hold" : "unhold", ec.message()));
    });
  }
}

void phone::handle_key(char key, console& con) {
  auto c = current_call();
  if (key == 'a') {
    std::lock_guard lock(m_);
    for (auto& e : calls_)
      if (e->state == call_state::offering && !e->answer_at && !e->over) {
        e->answer_at = steady::now();
        break;
      }
    return;
  }
  if (!c) return;
  call_state state;
  {
    std::lock_guard lock(m_);
    state = c->state;
  }
  const int n = c->number;
  if (key == 'h') {
    hang_up(*c);
  } else if (key == 'o') {
    const bool hold = state != call_state::hold;
    say(fmt::format("call {}: {}", n, hold ? "hold" : "unhold"));
    c->call.async_hold(hold, [n](std::error_code ec) {
      if (ec) say(fmt::format("call {}: hold/unhold failed: {}", n, ec.message()));
    });
  } else if (key == 's') {  // ITBasicCallControl::SwapHold: this call on hold, the held one back
    std::shared_ptr<call_entry> held;
    {
      std::lock_guard lock(m_);
      for (auto& e : calls_)
        if (e != c && e->state == call_state::hold && !e->over) held = e;
    }
    if (!held) return say(fmt::format("call {}: no held call to swap with", n));
    const int m = held->number;
    c->call.async_swap_hold(held->call, [n, m](std::error_code ec) {
      say(fmt::format("call {}: {}", n, ec ? "swap hold failed: " + ec.message() : fmt::format("held, call {} back", m)));
    });
  } else if (key == 'c' || key == 'r') {
    if (key == 'r')  // ITBasicCallControl::RemoveFromConference: this call stays up, with you only
      return c->call.async_remove_from_conference([n](std::error_code ec) {
        say(fmt::format("call {}: {}", n, ec ? "remove from conference failed: " + ec.message() : std::string("removed from the conference")));
      });
    const auto line = con.read_line("add to a conference (sip:user@host:port): ");
    try {
      add_to_conference(c->call, checked_uri(line, "URI"));
    } catch (const input_error& e) {
      say(std::string("softphone: ") + e.what());
    }
  } else if (key == 't') {
    const auto line = con.read_line("transfer to (sip:user@host:port): ");
    std::string uri;
    try {
      uri = checked_uri(line, "URI");
    } catch (const input_error& e) {
      say(std::string("softphone: ") + e.what());
      return;
    }
    c->call.async_blind_transfer(uri, [n](std::error_code ec) {
      say(fmt::format("call {}: transfer {}", n, ec ? "failed: " + ec.message() : std::string("accepted")));
    });
  } else if (std::string_view("0123456789*#").find(key) != std::string_view::npos) {
    c->call.async_generate_digits(std::string(1, key), [n](std::error_code ec) {
      if (ec) say(fmt::format("call {}: DTMF failed: {}", n, ec.message()));
    });
  }
}

void phone::refresh_status(console& con) {
  if (!con.interactive() || steady::now() - last_status_ < 1s) return;
  last_status_ = steady::now();
  auto c = current_call();
  if (!c) return con.status(fmt::format("{}: idle", address_.name()));
  mspi::stream_ptr tx, rx;
  std::optional<steady::time_point> since;
  call_state state;
  {
    std::lock_guard lock(m_);
    tx = c->tx;
    rx = c->rx;
    since = c->connected_at;
    state = c->state;
  }
  const auto secs = since ? std::chrono::duration_cast<std::chrono::seconds>(steady::now() - *since).count() : 0;
  const auto sent = tx ? tx->statistics() : mspi::stream_statistics{};
  const auto got = rx ? rx->statistics() : mspi::stream_statistics{};
  const auto rtt = got.round_trip_ms >= 0 ? fmt::format("  rtt {:.0f} ms", got.round_trip_ms) : std::string();
  con.status(fmt::format("call {} {} {:02}:{:02} {}{}  sent {}  received {}  lost {}  jitter {:.1f} ms{}", c->number,
                         tspi::to_string(state), secs / 60, secs % 60, codec_of(got), got.secured ? " srtp/" + got.srtp_keying : std::string(),
                         sent.packets, got.packets, got.packets_lost, got.jitter_ms, rtt));
}

demo_report phone::make_report(call_entry& c) {
  if (c.recorder) c.recorder->close();  // finalize the WAV
  demo_report r;
  mspi::stream_ptr tx, rx;
  {
    std::lock_guard lock(m_);
    r.states = c.states;
    r.end_cause = tspi::to_string(c.cause);
    r.connected = c.connected;
    r.normal_end = c.over && c.cause == call_state_cause::disconnect_normal;
    tx = c.tx;
    rx = c.rx;
  }
  std::error_code stale;  // a released call reports empty information
  const auto info = c.call.info(stale);
  const auto sent = tx ? tx->statistics() : mspi::stream_statistics{};
  r.codec = codec_of(sent);
  r.ptime_ms = sent.ptime_ms > 0 ? sent.ptime_ms : ptime_ms_;
  if (sent.secured) {
    r.srtp_suite = sent.srtp_suite;
    r.srtp_keying = sent.srtp_keying;
  }
  if (!sent.local_address.empty()) {
    r.media_address = transport_text(sent.local_address, sent.local_port);
    r.media_address_kind = media_address_kind(sent, o_.turn.has_value(), o_.public_address.has_value());
    r.stun_error = sent.stun_error;
  }
  r.ice_state = sent.ice_state;
  if (sent.ice_connect_ms >= 0) r.ice_connect_ms = sent.ice_connect_ms;
  if (sent.ice_state == "connected" && !sent.remote_address.empty())
    r.ice_remote = transport_text(sent.remote_address, sent.remote_port);
  r.ice_relayed = sent.ice_relayed;
  if (!sent.relayed_address.empty()) r.relayed_address = transport_text(sent.relayed_address, sent.relayed_port);
  r.turn_error = sent.turn_error;
  r.relayed_datagrams = sent.relayed_datagrams;
  r.forward = measure(tx, rx);
  auto& d = r.forward;
  r.reverse.packets_sent = sent.packets;
  r.reverse.packets_lost = sent.packets_lost;
  r.reverse.jitter_ms = sent.jitter_ms;
  const auto got = rx ? rx->statistics() : mspi::stream_statistics{};
  r.rtcp.mux = sent.rtcp_mux;
  r.rtcp.sent = sent.rtcp_packets;
  r.rtcp.received = got.rtcp_packets;
  if (sent.round_trip_ms >= 0) r.rtcp.round_trip_ms = sent.round_trip_ms;
  if (sent.rtcp_dtls_handshake_ms >= 0) r.rtcp.dtls_handshake_ms = sent.rtcp_dtls_handshake_ms;
  if (c.recorder) {
    std::error_code ec;
    const auto heard = mspi::read_audio_file(c.record_path, ec);
    d.recorded = !ec;
    d.recorded_seconds = static_cast<double>(heard.size()) / mspi::pipeline_rate_hz;
    d.audible = rms(heard) > 100;  // about -50 dBFS: not silence
  }
  r.play = o_.play.value_or("");
  r.record = c.record_path;
  r.both_ways = d.packets_sent > 0 && d.packets_received > 0;
  sip_report s;
  s.role = c.incoming ? "callee" : "caller";
  s.local = address_.name();
  s.remote = c.remote;
  s.sip_responses = info.provider_responses;
  s.tls = info.signalling_secured;
  {
    std::lock_guard lock(m_);
    s.digits_received = c.digits;
    s.tones_received = c.tones;
  }
  if (info.provider_status >= 300) s.reason = fmt::format("{} {}", info.provider_status, info.provider_reason);
  r.sip = s;
  return r;
}

// A reported call is dropped: its handle and terminals go, so the TAPI object releases the
// ended call (a long `listen` keeps nothing per call).
void phone::forget(call_entry& c) {
  std::lock_guard lock(m_);
  std::erase_if(calls_, [&c](const std::shared_ptr<call_entry>& e) { return e.get() == &c; });
  c.call = {};
  c.mouth.reset();
  c.ear.reset();
  c.player.reset();
  c.recorder.reset();
  c.tx.reset();
  c.rx.reset();
}

bool phone::report_finished() {
  std::vector<std::shared_ptr<call_entry>> done;
  {
    std::lock_guard lock(m_);
    for (auto& c : calls_)
      if (c->over && !c->reported) {
        c->reported = true;
        ++ended_;
        done.push_back(c);
      }
  }
  bool ok = true;
  for (auto& c : done) {
    const auto r = make_report(*c);
    std::ostringstream text;
    print_report(text, r);
    auto lines = text.str();
    if (!lines.empty() && lines.back() == '\n') lines.pop_back();
    say(lines);
    if (o_.json) say(to_json(r).dump());
    forget(*c);
    if (!r.connected) {
      std::cerr << fmt::format("softphone: call {} from {} was not answered ({})\n", c->number, c->remote, r.end_cause);
      ok = false;
    } else if (!r.both_ways && !c->replaced) {
      std::cerr << fmt::format("softphone: call {}: RTP did not flow both ways (sent {}, received {})\n", c->number,
                               r.forward.packets_sent, r.forward.packets_received);
      ok = false;
    }
  }
  return ok;
}

int phone::listen(console& con) {
  tapi_.register_call_notifications(address_);
  say(fmt::format("listening as {}{}", address_.name(),
                  o_.auto_answer ? fmt::format(" (auto-answer after {} ms)", o_.answer_delay_ms) : std::string()));
  if (con.interactive()) say("keys: a answer, h hang up, o hold/unhold, s swap hold, t transfer, c conference, r leave conference, 0-9*# DTMF, q quit");
  const auto deadline = o_.seconds ? std::optional(steady::now() + std::chrono::duration_cast<steady::duration>(
                                                                        std::chrono::duration<double>(*o_.seconds)))
                                   : std::nullopt;
  bool ok = true;
  while (!console::stop_requested() && !(deadline && steady::now() >= *deadline) && !(o_.calls && ended_ >= *o_.calls) &&
         !(con.interactive() && con.eof())) {
    if (auto key = con.poll_key(50ms)) {
      if (*key == 'q') break;
      handle_key(*key, con);
    }
    answer_due();
    hold_due();
    ok = report_finished() && ok;
    refresh_status(con);
  }
  // Hang up what is left, wait (bounded) for it to end, report it.
  std::vector<std::shared_ptr<call_entry>> left;
  {
    std::lock_guard lock(m_);
    for (auto& c : calls_)
      if (!c->over) left.push_back(c);
  }
  for (auto& c : left) hang_up(*c);
  {
    std::unique_lock lock(m_);
    cv_.wait_for(lock, hangup_timeout, [&] { return std::all_of(left.begin(), left.end(), [](auto& c) { return c->over; }); });
  }
  ok = report_finished() && ok;
  con.restore();
  if (o_.calls && ended_ < *o_.calls) {
    std::cerr << fmt::format("softphone: {} of {} calls ended before listening stopped\n", ended_, *o_.calls);
    return 1;
  }
  return ok ? 0 : 1;
}

// With --registrar: waits (at most 64*T1 + 1 s, the REGISTER transaction's timeout) until the account's
// address is in service, as a TAPI application does: its state event, or the REGISTER's outcome. False,
// with the registrar's status and reason printed, when the registration failed or did not finish.
bool phone::wait_for_registration() {
  if (!o_.registrar) return true;
  say(fmt::format("registering as {} at {}", address_.name(), *o_.registrar));
  const auto limit = 64 * std::chrono::milliseconds(o_.t1_ms) + 1s;
  std::unique_lock lock(m_);
  cv_.wait_for(lock, limit, [&] {
    return address_.state() == tspi::address_state::in_service || (registration_status_ >= 300) ||
           console::stop_requested();
  });
  if (address_.state() == tspi::address_state::in_service) {
    say(fmt::format("registered ({} {})", registration_status_, registration_reason_));
    return true;
  }
  if (registration_status_ >= 300)
    std::cerr << fmt::format("softphone: registration failed: {} {}\n", registration_status_, registration_reason_);
  else
    std::cerr << fmt::format("softphone: not registered within {} ms\n",
                             std::chrono::duration_cast<std::chrono::milliseconds>(limit).count());
  return false;
}

int phone::call(console& con) {
  const double seconds = o_.seconds.value_or(o_.play ? play_seconds_ + 1.0 : 10.0);
  const auto up_for = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
  if (!wait_for_registration()) return 1;
  std::error_code ec;
  auto call = address_.create_call(target_, media_type::audio, ec);
  if (ec) throw std::runtime_error("cannot create the call: " + ec.message());
  auto c = entry_for(call);
  attach_terminals(*c);
  say(fmt::format("calling {} from {}", target_, address_.name()));
  if (con.interactive()) say("keys: h hang up, o hold/unhold, s swap hold, t transfer, c conference, r leave conference, 0-9*# DTMF, q quit");
  call.async_connect([](std::error_code) {});  // the outcome arrives as call states

  const auto t0 = steady::now();
  std::optional<steady::time_point> hung_up_at;
  bool tone_sent = false;
  bool dtmf_sent = false, held = false, unheld = false, transferred = false, conferenced = false;
  const auto after = [](double s) { return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s)); };
  const auto do_hang_up = [&] {
    if (hung_up_at) return;
    hung_up_at = steady::now();
    hang_up(*c);
  };
  while (true) {
    bool over, connected;
    std::optional<steady::time_point> since;
    {
      std::lock_guard lock(m_);
      over = c->over;
      connected = c->connected;
      since = c->connected_at;
    }
    if (over) break;
    const auto now = steady::now();
    if (hung_up_at && now - *hung_up_at > hangup_timeout) break;
    if (console::stop_requested() || (con.interactive() && con.eof())) do_hang_up();
    if (!connected && now - t0 > ring_timeout) {
      say(fmt::format("no answer within {} s: hanging up", ring_timeout.count()));
      do_hang_up();
    }
    if (connected && since && !hung_up_at) {
      const auto el = now - *since;
      if (!o_.dtmf.empty() && !dtmf_sent && el >= 1s) {
        dtmf_sent = true;
        say("sending DTMF " + o_.dtmf);
        call.async_generate_digits(o_.dtmf, [](std::error_code e) {
          if (e) say("DTMF failed: " + e.message());
        });
      }
      if (!o_.tone.empty() && !tone_sent && el >= 1s) {
        tone_sent = true;
        say("sending tone " + o_.tone);
        const auto mode = o_.tone == "busy"       ? mspi::tone_mode::busy
                          : o_.tone == "ringback" ? mspi::tone_mode::ringback
                          : o_.tone == "beep"     ? mspi::tone_mode::beep
                                                  : mspi::tone_mode::billing;
        call.async_generate_tone(mode, 3000ms, [](std::error_code e) {
          if (e) say("tone failed: " + e.message());
        });
      }
      if (o_.hold_after && !held && el >= after(*o_.hold_after)) {
        held = true;
        call.async_hold(true, [](std::error_code e) { say(e ? "hold failed: " + e.message() : std::string("on hold")); });
      }
      if (o_.hold_after && held && !unheld && el >= after(*o_.hold_after + o_.hold_for)) {
        unheld = true;
        call.async_hold(false, [](std::error_code e) { say(e ? "unhold failed: " + e.message() : std::string("off hold")); });
      }
      if (o_.transfer_after && !transferred && el >= after(*o_.transfer_after)) {
        transferred = true;
        auto transfer_done = [this, c](std::error_code e) {
          say(e ? "transfer failed: " + e.message() : std::string("transfer accepted"));
          std::lock_guard lock(m_);
          c->transfer_result = e;
        };
        if (!o_.attended) {
          say("transferring to " + transfer_to_);
          call.async_blind_transfer(transfer_to_, transfer_done);
        } else {  // ITBasicCallControl::Transfer (hold + consultation call), then Finish(FM_ASTRANSFER)
          say("calling " + transfer_to_ + " to transfer the call to it");
          std::error_code e;
          auto consult = address_.create_call(transfer_to_, media_type::audio, e);
          if (e) transfer_done(e);
          else
            call.async_transfer(consult, [consult, transfer_done](std::error_code e) {
              if (e) return transfer_done(e);
              say("consultation call connected: completing the transfer");
              consult.async_finish(tspi::finish_mode::as_transfer, transfer_done);
            });
        }
      }
      if (!conference_with_.empty() && !conferenced) {
        conferenced = true;
        add_to_conference(call, conference_with_, o_.conference_no_hold);
      }
      if (el >= up_for) do_hang_up();
    }
    if (auto key = con.poll_key(50ms)) {
      if (*key == 'q') do_hang_up();
      else handle_key(*key, con);
    }
    refresh_status(con);
  }
  {
    std::unique_lock lock(m_);
    cv_.wait_for(lock, hangup_timeout, [&] { return c->over; });
  }
  con.restore();
  const auto r = make_report(*c);
  {
    std::ostringstream text;
    print_report(text, r);
    std::cout << text.str();
    if (o_.json) std::cout << to_json(r).dump() << '\n';
    std::cout << std::flush;
  }
  std::optional<std::error_code> transfer_result;
  {
    std::lock_guard lock(m_);
    transfer_result = c->transfer_result;
  }
  const auto& s = *r.sip;
  const auto cause = r.end_cause;
  std::string failure;
  if (!r.connected) {
    std::error_code stale;
    const auto info = c->call.info(stale);
    if (!s.reason.empty()) failure = fmt::format("call failed: {} ({})", s.reason, cause);
    else if (c->cause == call_state_cause::disconnect_noanswer && info.provider_responses.empty())
      failure = fmt::format("call failed: no response from {} within {:.1f} s (timeout)", target_, 64 * o_.t1_ms / 1000.0);
    else if (c->cause == call_state_cause::disconnect_noanswer)
      failure = fmt::format("call failed: {} did not answer ({})", target_, cause);
    else if (c->cause == call_state_cause::disconnect_failed)
      failure = fmt::format("call failed: {} ({})", info.provider_detail.empty() ? target_ + " is unreachable" : info.provider_detail, cause);
    else if (c->cause == call_state_cause::disconnect_badaddress)
      failure = fmt::format("call failed: bad address {} ({})", info.provider_detail.empty() ? target_ : info.provider_detail, cause);
    else if (c->cause == call_state_cause::disconnect_blocked)
      failure = fmt::format("call failed: {} ({})",
                            info.provider_detail.empty() ? target_ + " asked for authentication" : info.provider_detail, cause);
    else failure = fmt::format("call failed: {}", cause);
  } else if (o_.transfer_to && (!transfer_result || *transfer_result)) {
    failure = "transfer to " + transfer_to_ + " failed" + (transfer_result ? ": " + transfer_result->message() : std::string(" (not attempted)"));
  } else if (!r.both_ways) {
    failure = fmt::format("RTP did not flow both ways (sent {}, received {})", r.forward.packets_sent, r.forward.packets_received);
  } else if (!r.normal_end) {
    failure = "the call did not end normally (" + cause + ")";
  }
  if (failure.empty()) return 0;
  std::cerr << "softphone: " << failure << '\n';
  return 1;
}

}  // namespace

int run_listen(const sip_options& options) {
  phone p(options, true);
  console con;
  return p.listen(con);
}

int run_call(const sip_options& options) {
  phone p(options, false);
  console con;
  return p.call(con);
}

}  // namespace softphone
