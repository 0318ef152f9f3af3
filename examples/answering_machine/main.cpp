// answering_machine: the classic TAPI 3 sample, on ptapi. It registers for incoming calls on its SIP
// addresses, answers after N rings, plays a greeting, records the caller's message into a WAV named by the
// caller and the time, and ends the recording on silence, hang-up, '#' or a maximum length; '0' forwards
// the caller (a consultation transfer, ITBasicCallControl::Transfer + Finish). `--list` lists the messages.
// The event handlers only note what happened; the main loop acts on it. See README.md next to this file.
#include <tspi/sip/tsp.hpp>
#include <tspi/sip/uri.hpp>
#include <tspi/tapi.hpp>

#include <mspi/audio_file.hpp>
#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>

#include <boost/asio/ip/address.hpp>

#include <CLI/CLI.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sndfile.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
std::chrono::milliseconds ms(double seconds) { return std::chrono::milliseconds(std::lround(seconds * 1000)); }
namespace fs = std::filesystem;

struct options {
  std::string bind = "0.0.0.0:5060";
  std::string bind_host;  // --bind, split and checked by `parse_bind`
  std::uint16_t bind_port = 5060;
  std::vector<std::string> accounts;  // AORs; each an address of the SIP provider
  std::string password, registrar;
  std::string greeting, messages = "messages", forward_to;
  int rings = 2;
  double ring_seconds = 6, max_seconds = 120, silence_seconds = 5, silence_dbfs = -45;
  std::optional<int> calls;  // exit after this many calls ended
  bool list = false;
};

/// One caller leaving a message.
struct message_call {
  tspi::call call;
  std::uint64_t id = 0;
  std::string caller;
  std::shared_ptr<mspi::file_playback_terminal> greeting;
  std::shared_ptr<mspi::file_recording_terminal> recorder;  // ends itself on silence or at the maximum length
  steady::time_point answer_at;
  // Set by the event handlers (under machine::m_), acted upon by the main loop.
  bool greeting_started = false, greeting_over = false, over = false, end_key = false, forward_key = false;
  const char* recording_ended = nullptr;  // why the recorder stopped by itself
  // The main loop's own.
  bool answered = false, recording = false, ending = false;
};

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
  explicit machine(const options& o) : o_(o) {
    tspi::sip::sip_config cfg;
    cfg.listen_address = o.bind_host;
    cfg.port = o.bind_port;
    cfg.user_agent = "ptapi-answering-machine/0.1";
    for (const auto& aor : o.accounts) {
      tspi::sip::sip_account account;
      account.aor = aor;
      account.password = o.password;
      account.registrar = o.registrar;
      cfg.accounts.push_back(account);
    }
    mspi::rtp_opus_config media;
    media.local_address = cfg.listen_address;
    tapi_.register_provider<tspi::sip::sip_tsp, mspi::rtp_opus_msp>(cfg, media);
    tapi_.set_event_filter(tspi::tapi_event::all);
    connect_handlers();
    tapi_.initialize();  // throws std::system_error: a bad or busy --bind, a bad --account
    for (const auto& a : tapi_.addresses()) tapi_.register_call_notifications(a);
  }
  ~machine() { tapi_.shutdown(); }

  /// Runs until `--calls` calls ended or `stop` is set. Returns the number of messages kept.
  int run(const std::atomic<bool>& stop) {
    while (!stop && !(o_.calls && ended_ >= *o_.calls)) {
      std::this_thread::sleep_for(20ms);
      std::vector<std::shared_ptr<message_call>> calls;
      {
        std::lock_guard lock(m_);
        calls = calls_;
      }
      for (auto& c : calls) tick(*c);
      std::lock_guard lock(m_);
      std::erase_if(calls_, [](const auto& c) { return c->ending && c->over; });
    }
    return kept_;
  }

 private:
  void connect_handlers() {
    tapi_.on_call_notification().connect([this](const tspi::call_notification_event& e) { offered(e.call); });
    tapi_.on_call_state().connect([this](const tspi::call_state_event& e) {
      if (e.state != tspi::call_state::disconnected) return;
      if (auto c = find(e.call)) with_lock([&] { c->over = true; });
    });
    tapi_.on_call_media().connect([this](const tspi::call_media_event& e) {  // CME_STREAM_ACTIVE: greet
      auto c = find(e.call);
      if (!c || e.event != mspi::call_media_kind::stream_active || !e.stream) return;
      if (e.stream->direction() != mspi::terminal_direction::capture) return;
      bool first = false;
      with_lock([&] { first = !std::exchange(c->greeting_started, true); });  // once: not again after a hold
      std::error_code ec;
      if (first) c->greeting->start(ec);
      if (ec) std::cerr << "answering_machine: cannot play the greeting: " << ec.message() << '\n';
    });
    tapi_.on_file_terminal().connect([this](const tspi::file_terminal_event& e) {  // greeting or message over
      auto c = find(e.call);
      if (c && e.terminal == c->greeting && e.cause == mspi::file_terminal_cause::end_of_file)
        with_lock([&] { c->greeting_over = true; });
      const char* why = e.cause == mspi::file_terminal_cause::silence        ? "silence"
                        : e.cause == mspi::file_terminal_cause::max_duration ? "maximum length"
                                                                             : nullptr;
      if (c && e.terminal == c->recorder && why) with_lock([&] { c->recording_ended = why; });
    });
    tapi_.on_digit().connect([this](const tspi::digit_event& e) {  // RFC 4733 DTMF from the caller
      auto c = find(e.call);
      if (c && e.digit == '#') with_lock([&] { c->end_key = true; });
      if (c && e.digit == '0') with_lock([&] { c->forward_key = true; });
    });
  }

  // LINECALLSTATE_OFFERING: the terminals are chosen now, the call is answered after `rings` rings.
  void offered(const tspi::call& call) {
    auto c = std::make_shared<message_call>();
    c->call = call;
    const auto info = call.info();
    c->id = info.id;
    c->caller = info.caller_id;
    const auto when = fmt::format("{:%Y%m%d-%H%M%S}", fmt::gmtime(std::time(nullptr)));
    const auto path = fs::path(o_.messages) / fmt::format("{}_{}-{}.wav", file_stem(info.caller_id), when, info.id);
    auto& ts = call.address().terminals();
    std::error_code ec;
    c->greeting = ts.create_file_playback_terminal({o_.greeting}, ec);
    if (!ec) c->recorder = ts.create_file_recording_terminal(path.string(), ec);
    if (!ec) c->recorder->set_limits({ms(o_.max_seconds), ms(o_.silence_seconds), o_.silence_dbfs});
    for (const mspi::terminal_ptr& t : {mspi::terminal_ptr(c->greeting), mspi::terminal_ptr(c->recorder)})
      if (!ec) call.select_terminal_on_call(t, ec);
    if (ec) {  // e.g. the messages directory went away: refuse the call rather than lose its message
      std::cerr << "answering_machine: cannot take a message from " << c->caller << ": " << ec.message() << '\n';
      call.async_disconnect(tspi::disconnect_code::rejected, [](std::error_code) {});
      return;
    }
    c->answer_at = steady::now() + ms(o_.rings * o_.ring_seconds);
    std::cout << "call from " << c->caller << ", answering after " << o_.rings << " ring(s)" << std::endl;
    std::lock_guard lock(m_);
    calls_.push_back(std::move(c));
  }

  void tick(message_call& c) {
    bool greeting_over, over, end_key, forward_key;
    const char* recording_ended;
    with_lock([&] {
      greeting_over = c.greeting_over;
      over = c.over;
      end_key = std::exchange(c.end_key, false);
      forward_key = std::exchange(c.forward_key, false);
      recording_ended = c.recording_ended;
    });
    const auto now = steady::now();
    if (over) return finish(c);
    if (!c.answered && now >= c.answer_at) {
      c.answered = true;
      c.call.async_answer([](std::error_code ec) {
        if (ec) std::cerr << "answering_machine: answer failed: " << ec.message() << '\n';
      });
    }
    if (greeting_over && !std::exchange(c.recording, true)) {  // the beep would go here: recording starts
      std::error_code ec;
      c.recorder->start(ec);
    }
    const char* why = end_key ? "'#' pressed" : recording_ended;
    if (forward_key && !o_.forward_to.empty() && !c.ending) {
      std::cout << "call from " << c.caller << ": forwarding to " << o_.forward_to << std::endl;
      c.ending = true;
      c.recorder->stop();
      // Consultation transfer (ITBasicCallControl::Transfer, then Finish(FM_ASTRANSFER) on the new call).
      std::error_code ec;
      auto consult = c.call.address().create_call(o_.forward_to, mspi::media_type::audio, ec);
      const auto failed = [caller = c.call](std::error_code ec) {
        std::cerr << "answering_machine: forwarding failed: " << ec.message() << '\n';
        caller.async_disconnect(tspi::disconnect_code::normal, [](std::error_code) {});
      };
      if (ec) failed(ec);
      else
        c.call.async_transfer(consult, [consult, failed](std::error_code ec) {
          if (ec) return failed(ec);
          consult.async_finish(tspi::finish_mode::as_transfer, [failed](std::error_code ec) {
            if (ec) failed(ec);
          });
        });
    } else if (why && !c.ending) {
      std::cout << "call from " << c.caller << ": hanging up (" << why << ")" << std::endl;
      c.ending = true;
      c.recorder->stop();
      c.call.async_disconnect(tspi::disconnect_code::normal, [](std::error_code) {});
    }
  }

  // The call is over: the message is kept when it holds any audio, else its file is removed.
  void finish(message_call& c) {
    if (!c.recorder) return;  // finished already
    c.ending = true;
    const auto path = c.recorder->file_name();
    const auto samples = c.recorder->samples_recorded();
    c.recorder->close();
    c.recorder.reset();
    ++ended_;
    if (samples == 0) {
      std::error_code ec;
      fs::remove(path, ec);
      std::cout << "call from " << c.caller << ": no message" << std::endl;
      return;
    }
    ++kept_;
    std::cout << fmt::format("message from {}: {} ({:.1f} s)", c.caller, path, double(samples) / mspi::pipeline_rate_hz) << std::endl;
  }

  std::shared_ptr<message_call> find(const tspi::call& call) {
    const auto id = call.info().id;
    std::lock_guard lock(m_);
    for (auto& c : calls_)
      if (c->id == id) return c;
    return nullptr;
  }
  template <class F>
  void with_lock(F&& f) {
    std::lock_guard lock(m_);
    f();
  }

  options o_;
  std::mutex m_;
  std::vector<std::shared_ptr<message_call>> calls_;
  int ended_ = 0, kept_ = 0;
  tspi::tapi tapi_;  // last: shut down first
};

/// `--list`: the messages in the directory, oldest first, with caller, time and length.
int list_messages(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".wav") files.push_back(e.path());
  if (ec) {
    std::cerr << "answering_machine: cannot list '" << dir << "': " << ec.message() << '\n';
    return 2;
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    const auto when = [](const fs::path& p) { auto s = p.stem().string(); return s.substr(s.rfind('_') + 1); };
    return when(a) < when(b);
  });
  for (const auto& f : files) {
    SF_INFO info{};
    SNDFILE* sf = sf_open(f.c_str(), SFM_READ, &info);
    const double seconds = sf && info.samplerate > 0 ? double(info.frames) / info.samplerate : 0;
    if (sf) sf_close(sf);
    const auto stem = f.stem().string();
    const auto cut = stem.rfind('_');
    std::cout << fmt::format("{:<32} {:<22} {:6.1f} s  {}", stem.substr(0, cut), stem.substr(cut + 1), seconds, f.string())
              << std::endl;
  }
  std::cout << files.size() << " message(s)" << std::endl;
  return 0;
}

/// "IP[:PORT]" or "[IPv6][:PORT]" into `o.bind_host`/`o.bind_port`; false when it is not that.
bool parse_bind(options& o) {
  const auto u = tspi::sip::parse_uri("sip:" + o.bind);
  boost::system::error_code ec;
  if (!u || !u->user.empty() || !u->params.empty()) return false;
  o.bind_host = boost::asio::ip::make_address(u->host, ec).to_string();
  o.bind_port = u->port ? u->port : 5060;
  return !ec;
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
  if (!parse_bind(o)) {
    std::cerr << "answering_machine: bad --bind '" << o.bind << "': expected IP[:PORT], e.g. 127.0.0.1:5060\n";
    return 2;
  }
  if (o.greeting.empty()) {
    std::cerr << "answering_machine: --greeting is required (unless --list)\n";
    return 2;
  }
  std::error_code ec;
  (void)mspi::read_audio_file(o.greeting, ec);  // a greeting that is not audio is the user's error, not a caller's
  if (ec) {
    std::cerr << "answering_machine: cannot read --greeting '" << o.greeting << "': " << ec.message() << '\n';
    return 2;
  }
  fs::create_directories(o.messages, ec);
  if (ec || !fs::is_directory(o.messages)) {
    std::cerr << "answering_machine: cannot use '" << o.messages << "' for messages: " << (ec ? ec.message() : "not a directory") << '\n';
    return 2;
  }
  std::signal(SIGINT, [](int) { stop_requested = true; });
  std::signal(SIGTERM, [](int) { stop_requested = true; });
  try {
    machine m(o);
    std::cout << "answering on " << o.bind << ", messages in " << o.messages << std::endl;
    const int kept = m.run(stop_requested);
    std::cout << kept << " message(s) recorded" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "answering_machine: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
