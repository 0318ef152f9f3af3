// answering_machine: the classic TAPI 3 sample, on ptapi: answers SIP calls after N rings, plays a greeting,
// records the caller's message until silence, hang-up, '#' or a maximum length; '0' forwards the caller
// (consultation transfer). Everything runs in the event handlers, one at a time on the TAPI object's event
// thread (the ring timer too), so nothing needs a lock. `--list` lists the messages. See README.md.
#include <tspi/sip/bind_address.hpp>
#include <tspi/sip/tsp.hpp>
#include <tspi/sip/uri.hpp>
#include <tspi/tapi.hpp>

#include <mspi/audio_file.hpp>
#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>

#include <boost/asio/steady_timer.hpp>

#include <CLI/CLI.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
std::chrono::milliseconds ms(double seconds) { return std::chrono::milliseconds(std::lround(seconds * 1000)); }

struct options {
  std::string bind = "0.0.0.0:5060";
  std::vector<std::string> accounts;  // AORs; each an address of the SIP provider
  std::string password, registrar, greeting, messages = "messages", forward_to;
  int rings = 2;
  double ring_seconds = 6, max_seconds = 120, silence_seconds = 5, silence_dbfs = -45;
  std::optional<int> calls;  // exit after this many calls ended
  bool list = false;
};

/// One caller leaving a message (used on the event thread only).
struct message_call {
  message_call(tspi::call c, std::string from) : call(std::move(c)), caller(std::move(from)) {}
  tspi::call call;
  std::string caller;
  std::shared_ptr<mspi::file_playback_terminal> greeting;
  std::shared_ptr<mspi::file_recording_terminal> recorder;  // ends itself on silence or at the maximum length
  std::unique_ptr<boost::asio::steady_timer> rings;
  bool greeted = false, ending = false;
};

/// Prints a failure of the running machine (none when `ec` is clear).
void report(const std::string& what, std::error_code ec) {
  if (ec) std::cerr << "answering_machine: " << what << ": " << ec.message() << '\n';
}

/// `user@host` of a caller ID URI, reduced to characters safe in a file name.
std::string file_stem(const std::string& caller_id) {
  const auto u = tspi::sip::parse_uri(caller_id);
  std::string s = u ? (u->user.empty() ? u->host : u->user + "@" + u->host) : "unknown";
  for (auto& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '@' && ch != '.' && ch != '-' && ch != '+') ch = '_';
  return s.empty() ? "unknown" : s;
}

class machine {
 public:
  machine(const options& o, const tspi::sip::bind_address& bind) : o_(o) {
    tspi::sip::sip_config cfg;
    cfg.listen_address = bind.host;
    cfg.port = bind.port;
    cfg.user_agent = "ptapi-answering-machine/0.1";
    tspi::sip::sip_account account;  // one per --account, all with the same password and registrar
    account.password = o.password;
    account.registrar = o.registrar;
    for (const auto& aor : o.accounts) {
      account.aor = aor;
      cfg.accounts.push_back(account);
    }
    mspi::rtp_opus_config media;
    media.local_address = cfg.listen_address;
    tapi_.register_provider<tspi::sip::sip_tsp, mspi::rtp_opus_msp>(cfg, media);
    tapi_.set_event_filter(tspi::tapi_event::all);
    connect_handlers();
    tapi_.initialize();  // throws std::system_error: a busy --bind, a bad --account
    for (const auto& a : tapi_.addresses()) tapi_.register_call_notifications(a);
  }
  ~machine() { tapi_.shutdown(); }  // each call's `disconnected` handler removes it (and its ring timer)
  [[nodiscard]] bool done() const { return o_.calls && ended_ >= *o_.calls; }
  [[nodiscard]] int kept() const { return kept_; }

 private:
  void connect_handlers() {
    tapi_.on_call_notification().connect([this](const tspi::call_notification_event& e) { offered(e.call); });
    tapi_.on_call_state().connect([this](const tspi::call_state_event& e) {  // LINECALLSTATE_DISCONNECTED: done
      if (e.state == tspi::call_state::disconnected) finish(e.call);
    });
    tapi_.on_call_media().connect([this](const tspi::call_media_event& e) {  // CME_STREAM_ACTIVE: greet, once
      auto* c = find(e.call);
      if (!c || e.event != mspi::call_media_kind::stream_active || !e.stream ||
          e.stream->direction() != mspi::terminal_direction::capture || std::exchange(c->greeted, true))
        return;
      std::error_code ec;
      c->greeting->start(ec);
      report("cannot play the greeting", ec);
    });
    tapi_.on_file_terminal().connect([this](const tspi::file_terminal_event& e) {
      auto* c = find(e.call);
      if (!c || c->ending) return;
      using cause = mspi::file_terminal_cause;
      std::error_code ec;
      if (e.terminal == c->greeting && e.cause == cause::end_of_file) c->recorder->start(ec);  // the beep would go here
      report("cannot record", ec);
      if (e.terminal == c->recorder && e.cause == cause::silence) hang_up(*c, "silence");
      if (e.terminal == c->recorder && e.cause == cause::max_duration) hang_up(*c, "maximum length");
    });
    tapi_.on_digit().connect([this](const tspi::digit_event& e) {  // DTMF from the caller
      auto* c = find(e.call);
      if (!c || c->ending) return;
      if (e.digit == '#') hang_up(*c, "'#' pressed");
      if (e.digit == '0' && !o_.forward_to.empty()) forward(*c);
    });
  }

  // LINECALLSTATE_OFFERING: the terminals are chosen now, the call is answered after `rings` rings.
  void offered(const tspi::call& call) {
    const auto info = call.info();
    message_call c(call, info.caller_id);
    const auto when = fmt::format("{:%Y%m%d-%H%M%S}", fmt::gmtime(std::time(nullptr)));
    const auto path = fs::path(o_.messages) / fmt::format("{}_{}-{}.wav", file_stem(info.caller_id), when, info.id);
    auto& ts = call.address().terminals();
    std::error_code ec;
    c.greeting = ts.create_file_playback_terminal({o_.greeting}, ec);
    if (!ec) c.recorder = ts.create_file_recording_terminal(path.string(), ec);
    if (!ec) c.recorder->set_limits({ms(o_.max_seconds), ms(o_.silence_seconds), o_.silence_dbfs});
    for (const mspi::terminal_ptr& t : {mspi::terminal_ptr(c.greeting), mspi::terminal_ptr(c.recorder)})
      if (!ec) call.select_terminal_on_call(t, ec);
    report("cannot take a message from " + c.caller, ec);  // e.g. the messages directory went away: refuse
    if (ec) return call.async_disconnect(tspi::disconnect_code::rejected, [](std::error_code) {});  // the call
    std::cout << "call from " << c.caller << ", answering after " << o_.rings << " ring(s)" << std::endl;
    c.rings = std::make_unique<boost::asio::steady_timer>(tapi_.get_executor(), ms(o_.rings * o_.ring_seconds));
    c.rings->async_wait([call](boost::system::error_code ec) {  // cancelled when the call ends first
      if (!ec) call.async_answer([](std::error_code ec) { report("answer failed", ec); });
    });
    calls_.emplace(info.id, std::move(c));
  }

  // The message ends (`what` says why); the caller is then hung up on or forwarded.
  static void end_message(message_call& c, const std::string& what) {
    std::cout << "call from " << c.caller << ": " << what << std::endl;
    c.ending = true;
    c.recorder->stop();
  }
  static void hang_up(message_call& c, const std::string& why) {
    end_message(c, "hanging up (" + why + ")");
    c.call.async_disconnect(tspi::disconnect_code::normal, [](std::error_code) {});
  }
  // Consultation transfer (ITBasicCallControl::Transfer, then Finish(FM_ASTRANSFER) on the new call).
  void forward(message_call& c) {
    end_message(c, "forwarding to " + o_.forward_to);
    const auto failed = [caller = c.call](std::error_code ec) {
      report("forwarding failed", ec);
      caller.async_disconnect(tspi::disconnect_code::normal, [](std::error_code) {});
    };
    std::error_code ec;
    auto consult = c.call.address().create_call(o_.forward_to, mspi::media_type::audio, ec);
    if (ec) return failed(ec);
    c.call.async_transfer(consult, [consult, failed](std::error_code ec) {
      if (ec) return failed(ec);
      consult.async_finish(tspi::finish_mode::as_transfer, [failed](std::error_code ec) {
        if (ec) failed(ec);
      });
    });
  }

  // The call is over: the message is kept when it holds any audio, else its file is removed.
  void finish(const tspi::call& call) {
    auto* c = find(call);
    if (!c) return;
    const auto path = c->recorder->file_name();
    const auto samples = c->recorder->samples_recorded();
    c->recorder->close();
    std::error_code ec;
    if (samples == 0) fs::remove(path, ec);
    kept_ += samples > 0;
    const double seconds = double(samples) / mspi::pipeline_rate_hz;
    std::cout << (samples ? fmt::format("message from {}: {} ({:.1f} s)", c->caller, path, seconds)
                          : fmt::format("call from {}: no message", c->caller))
              << std::endl;
    calls_.erase(call.info().id);  // its ring timer is cancelled
    ++ended_;
  }

  message_call* find(const tspi::call& call) {
    auto it = calls_.find(call.info().id);
    return it == calls_.end() ? nullptr : &it->second;
  }

  const options o_;
  tspi::tapi tapi_;  // before calls_: destroyed after them
  std::map<std::uint64_t, message_call> calls_;
  std::atomic<int> ended_{0}, kept_{0};  // read by the main thread
};

/// `--list`: the messages in the directory, oldest first, with caller, time and length.
int list_messages(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".wav") files.push_back(e.path());
  report("cannot list '" + dir + "'", ec);
  if (ec) return 2;
  const auto split = [](const fs::path& p) {  // CALLER_TIME-ID
    const auto stem = p.stem().string();
    const auto cut = stem.rfind('_');
    return std::pair(stem.substr(0, cut), stem.substr(cut + 1));
  };
  std::sort(files.begin(), files.end(), [&](const fs::path& a, const fs::path& b) { return split(a).second < split(b).second; });
  for (const auto& f : files) {
    const auto [caller, when] = split(f);
    const double seconds = mspi::read_audio_file_info(f.string(), ec).seconds();  // 0 when unreadable
    std::cout << fmt::format("{:<32} {:<22} {:6.1f} s  {}", caller, when, seconds, f.string()) << std::endl;
  }
  std::cout << files.size() << " message(s)" << std::endl;
  return 0;
}

std::atomic<bool> stop_requested{false};

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"ptapi answering machine: answers SIP calls, plays a greeting and records messages"};
  app.add_option("--bind", o.bind, "IP:PORT for SIP (UDP and TCP) and RTP")->capture_default_str();
  app.add_option("--account", o.accounts, "Address-of-record sip:user@domain to take calls for (repeatable)");
  app.add_option("--password", o.password, "Digest password of the accounts");
  app.add_option("--registrar", o.registrar, "host[:port] to REGISTER the accounts with");
  app.add_option("--greeting", o.greeting, "WAV played to each caller (mono/stereo 16-bit, 8-48 kHz)")->check(CLI::ExistingFile);
  app.add_option("--messages", o.messages, "Directory of the recorded messages (CALLER_TIME-ID.wav)")->capture_default_str();
  app.add_option("--forward-to", o.forward_to, "SIP URI a caller pressing '0' is transferred to");
  app.add_option("--rings", o.rings, "Rings before answering")->check(CLI::Range(0, 50))->capture_default_str();
  app.add_option("--ring-seconds", o.ring_seconds, "Seconds per ring")->check(CLI::Range(0.0, 30.0))->capture_default_str();
  app.add_option("--max-seconds", o.max_seconds, "Longest message, in s")->check(CLI::Range(1.0, 3600.0))->capture_default_str();
  app.add_option("--silence-seconds", o.silence_seconds, "Silence that ends a message, in s")->check(CLI::Range(0.5, 600.0))->capture_default_str();
  app.add_option("--silence-dbfs", o.silence_dbfs, "Level below which audio is silence, in dBFS (RMS per 20 ms)")->capture_default_str();
  app.add_option("--calls", o.calls, "Exit after this many calls ended");
  app.add_flag("--list", o.list, "List the messages in --messages and exit");
  CLI11_PARSE(app, argc, argv);
  if (o.list) return list_messages(o.messages);
  const auto bad = [](const std::string& what) {  // bad input: one line, exit 2, before anything is opened
    std::cerr << "answering_machine: " << what << '\n';
    return 2;
  };
  std::error_code ec;
  const auto bind = tspi::sip::parse_bind_address(o.bind, 5060, ec);
  if (ec) return bad("bad --bind '" + o.bind + "': expected IP[:PORT], e.g. 127.0.0.1:5060");
  if (o.greeting.empty()) return bad("--greeting is required (unless --list)");
  (void)mspi::read_audio_file(o.greeting, ec);  // a greeting that is not audio is the user's error, not a caller's
  if (ec) return bad("cannot read --greeting '" + o.greeting + "': " + ec.message());
  fs::create_directories(o.messages, ec);
  if (ec || !fs::is_directory(o.messages))
    return bad("cannot use '" + o.messages + "' for messages: " + (ec ? ec.message() : "not a directory"));
  for (int s : {SIGINT, SIGTERM}) std::signal(s, [](int) { stop_requested = true; });
  try {
    machine m(o, bind);
    std::cout << "answering on " << o.bind << ", messages in " << o.messages << std::endl;
    while (!stop_requested && !m.done()) std::this_thread::sleep_for(ms(0.05));
    std::cout << m.kept() << " message(s) recorded" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "answering_machine: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
