// sip_peer: a small TAPI application (sip_tsp + rtp_opus_msp) that the SIPp interop tests
// (tests/interop/sipp/) put on the other side of SIPp. It answers, rejects or lets ring incoming calls,
// or places calls and holds, unholds and hangs them up on a schedule, and prints one line per call
// state and a final `result ok|fail ...` line. Exit status 0 when every expectation held, else 1.
//
//   sip_peer --listen 5700 --auto-answer --calls 10 --seconds 30
//   sip_peer --listen 5760 --call sip:service@127.0.0.1:5761 --hold-after 500 --unhold-after 1500 --hangup-after 2500
//   sip_peer --listen 5750 --account sip:alice@127.0.0.1 --password secret --registrar 127.0.0.1:5751 --register-only
//   sip_peer --listen 7300 --call sip:service@127.0.0.1:7301 --transfers 1 --hangup-after 1500   (REFER to us)
//   sip_peer --listen 7320 --call sip:service@127.0.0.1:7321 --session-expires 1 --min-se 1     (RFC 4028, test-only intervals)
//   sip_peer --listen 8160 --call sip:a@127.0.0.1:8161 --consult sip:b@127.0.0.1:8165 --finish-after 300   (consultation transfer)
//   sip_peer --listen 8180 --forward sip:elsewhere@127.0.0.1:8189 --forward-mode unconditional --forwards 1  (302)
//
// Output lines (stdout, flushed):
//   ready port=P aor=AOR
//   call N <state> [cause]             (state: offering in_progress connected hold disconnected ...)
//   call N placed reason=transfer to=URI  (a call the provider placed for a REFER, CIL_REASON)
//   call N replacing reason=transfer   (an INVITE with Replaces: the provider answers it itself, RFC 3891 §3)
//   call N transfer ok|failed <error>  (--consult: `transfer(consult)`, also finish)
//   forwarded status=S                  (a 3xx the provider sent for a `forward` rule, seen through sip_config::trace)
//   call N hold ok|failed <error>      (also unhold, answer, hangup)
//   address in_service|out_of_service   (TE_ADDRESS state changes)
//   registered                          (a 2xx to our REGISTER, seen through sip_config::trace)
//   call N stream_active render|capture (with --record: CME_STREAM_ACTIVE; the recorder starts then)
//   call N recorded samples=S before_connected=0|1   (with --record, at disconnected: 48 kHz samples
//                                        written, and whether the first was written before `connected`)
//   result ok|fail calls=.. offered=.. connected=.. causes=cause:count,.. illegal=.. [why=...]
#include <tspi/sip/message.hpp>
#include <tspi/sip/tsp.hpp>
#include <tspi/tapi.hpp>

#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/file_recording.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct options {
  std::string bind = "127.0.0.1";
  int port = 0;
  std::string call_uri;             // UAC mode when set
  std::string incoming = "auto";    // auto | reject | ring
  int reject_status = 486;
  int calls = 1;
  int seconds = 30;
  int answer_after_ms = 0;
  int hold_after_ms = -1, unhold_after_ms = -1, hangup_after_ms = -1;
  int gap_ms = 50;                  // between sequential outgoing calls
  int linger_ms = 300;              // after the last call: catch extra calls / late events
  std::string account, password, registrar, display;
  std::vector<std::string> realms;  // Digest realms the account answers
  bool register_only = false;
  bool udp_only = false;
  bool trace = false;
  int t1_ms = 500;
  std::string expect_cause = "normal";
  std::string expect_states;        // comma-separated exact sequence per call, empty = not checked
  std::string record;               // WAV file the first placed call's received audio is recorded into
  int transfers = 0;                // calls the provider places for REFERs (counted with --calls)
  int session_expires = -1, min_se = -1;  // sip_config's, seconds; -1 = the default
  std::string consult;              // consultation transfer of the first placed call to this URI
  int finish_after_ms = 300;        // after the consultation call connected: finish(as_transfer)
  std::string forward;              // address::forward destination
  std::string forward_mode = "unconditional";  // unconditional | busy | no_answer
  int forward_rings = 1;            // forward_information::set_num_rings_no_answer
  int ring_period_ms = -1;          // sip_config::ring_period; -1 = the default
  int forwards = 0;                 // 3xx responses the provider must have sent before finishing
};

[[noreturn]] void usage(const char* why) {
  std::cerr << "sip_peer: " << why << "\n"
            << "usage: sip_peer --listen PORT [--bind IP] [--auto-answer | --reject 486|603|480 | --ring]\n"
               "       [--answer-after MS] [--call URI] [--calls N] [--seconds N] [--hold-after MS]\n"
               "       [--unhold-after MS] [--hangup-after MS] [--account AOR --password PW [--registrar HOST:PORT] [--realm R]...]\n"
               "       [--register-only] [--udp-only] [--t1 MS] [--expect-cause C] [--expect-states S1,S2,..] [--trace]\n"
               "       [--record FILE.wav] [--transfers N] [--session-expires S] [--min-se S]\n"
               "       [--consult URI [--finish-after MS]] [--forward URI [--forward-mode M] [--forward-rings N] [--ring-period MS] [--forwards N]]\n";
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) usage("missing value");
    return argv[++i];
  };
  auto num = [&](int& i) {
    auto v = need(i);
    try {
      return std::stoi(v);
    } catch (...) {
      usage("bad number");
    }
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--listen") o.port = num(i);
    else if (a == "--bind") o.bind = need(i);
    else if (a == "--auto-answer") o.incoming = "auto";
    else if (a == "--reject") o.incoming = "reject", o.reject_status = num(i);
    else if (a == "--ring") o.incoming = "ring";
    else if (a == "--answer-after") o.answer_after_ms = num(i);
    else if (a == "--call") o.call_uri = need(i);
    else if (a == "--calls") o.calls = num(i);
    else if (a == "--seconds") o.seconds = num(i);
    else if (a == "--hold-after") o.hold_after_ms = num(i);
    else if (a == "--unhold-after") o.unhold_after_ms = num(i);
    else if (a == "--hangup-after") o.hangup_after_ms = num(i);
    else if (a == "--gap") o.gap_ms = num(i);
    else if (a == "--linger") o.linger_ms = num(i);
    else if (a == "--account") o.account = need(i);
    else if (a == "--password") o.password = need(i);
    else if (a == "--registrar") o.registrar = need(i);
    else if (a == "--realm") o.realms.push_back(need(i));
    else if (a == "--display-name") o.display = need(i);
    else if (a == "--register-only") o.register_only = true;
    else if (a == "--udp-only") o.udp_only = true;
    else if (a == "--t1") o.t1_ms = num(i);
    else if (a == "--trace") o.trace = true;
    else if (a == "--expect-cause") o.expect_cause = need(i);
    else if (a == "--expect-states") o.expect_states = need(i);
    else if (a == "--record") o.record = need(i);
    else if (a == "--transfers") o.transfers = num(i);
    else if (a == "--session-expires") o.session_expires = num(i);
    else if (a == "--min-se") o.min_se = num(i);
    else if (a == "--consult") o.consult = need(i);
    else if (a == "--finish-after") o.finish_after_ms = num(i);
    else if (a == "--forward") o.forward = need(i);
    else if (a == "--forward-mode") o.forward_mode = need(i);
    else if (a == "--forward-rings") o.forward_rings = num(i);
    else if (a == "--forwards") o.forwards = num(i);
    else if (a == "--ring-period") o.ring_period_ms = num(i);
    else usage(("unknown option " + a).c_str());
  }
  if (o.port <= 0 || o.port > 65535) usage("--listen PORT is required");
  if (o.incoming == "reject" && o.reject_status != 486 && o.reject_status != 603 && o.reject_status != 480)
    usage("--reject takes 486, 603 or 480");
  if (o.register_only && o.registrar.empty()) usage("--register-only needs --registrar");
  if (!o.consult.empty() && o.call_uri.empty()) usage("--consult needs --call");
  if (o.forward_mode != "unconditional" && o.forward_mode != "busy" && o.forward_mode != "no_answer")
    usage("--forward-mode takes unconditional, busy or no_answer");
  return o;
}

struct call_record {
  int number = 0;
  tspi::call call;
  std::vector<std::string> states;
  std::string cause;
  bool connected = false;
  bool done = false;
  std::shared_ptr<mspi::file_recording_terminal> recorder;  // --record, first call only
  clock_type::time_point connected_at{};
};

class peer {
 public:
  explicit peer(options o) : o_(std::move(o)), work_(io_.get_executor()) {}

  int run() {
    timer_thread_ = std::thread([this] { io_.run(); });
    const int rc = run_tapi();
    work_.reset();
    io_.stop();
    timer_thread_.join();
    return rc;
  }

 private:
  int run_tapi() {
    tspi::sip::sip_config cfg;
    cfg.listen_address = o_.bind;
    cfg.port = static_cast<std::uint16_t>(o_.port);
    cfg.tcp = !o_.udp_only;
    cfg.timers.t1 = std::chrono::milliseconds(o_.t1_ms);
    if (o_.session_expires >= 0) cfg.session_expires = std::chrono::seconds(o_.session_expires);
    if (o_.min_se >= 0) cfg.min_se = std::chrono::seconds(o_.min_se);
    if (o_.ring_period_ms >= 0) cfg.ring_period = std::chrono::milliseconds(o_.ring_period_ms);
    if (!o_.account.empty()) {
      tspi::sip::sip_account a;
      a.aor = o_.account;
      a.password = o_.password;
      a.registrar = o_.registrar;
      a.realms = o_.realms;
      a.display_name = o_.display;
      cfg.accounts.push_back(a);
    }
    // The trace hook also tells when a REGISTER is accepted: TAPI raises no address event then, because
    // an address with a registrar is in service from the start (AE_STATE comes only on a change).
    cfg.trace = [this](const tspi::sip::message& m, bool out) {
      if (o_.trace) std::cerr << (out ? "---- sent\n" : "---- received\n") << m.to_string() << '\n';
      if (out && !m.is_request() && m.status >= 300 && m.status < 400) {
        say("forwarded status=" + std::to_string(m.status));
        std::lock_guard lock(m_);
        ++forwarded_;
        cv_.notify_all();
      }
      if (out || m.is_request() || m.status < 200 || m.status >= 300) return;
      auto cseq = m.header("CSeq");
      if (!cseq || cseq->find("REGISTER") == std::string_view::npos) return;
      auto contact = m.header("Contact");
      auto expires = m.header("Expires");
      const bool binding = (contact && contact->find("expires=0") == std::string_view::npos) ||
                           (!contact && expires && *expires != "0");
      if (!binding) return;  // the 200 to the un-REGISTER
      say("registered");
      std::lock_guard lock(m_);
      registered_ = true;
      cv_.notify_all();
    };
    mspi::rtp_opus_config media;
    media.local_address = o_.bind;

    tapi_.register_provider<tspi::sip::sip_tsp, mspi::rtp_opus_msp>(cfg, media);
    tapi_.set_event_filter(tspi::tapi_event::call_notification | tspi::tapi_event::call_state |
                           tspi::tapi_event::address);
    tapi_.on_call_state().connect([this](const tspi::call_state_event& e) { on_state(e); });
    tapi_.on_call_notification().connect([this](const tspi::call_notification_event& e) { on_offer(e); });
    if (!o_.record.empty()) {
      tapi_.set_event_filter(tspi::tapi_event::call_notification | tspi::tapi_event::call_state |
                             tspi::tapi_event::address | tspi::tapi_event::call_media);
      tapi_.on_call_media().connect([this](const tspi::call_media_event& e) { on_media(e); });
    }
    tapi_.on_address().connect([this](const tspi::address_event& e) {
      if (e.kind != tspi::address_event_kind::state) return;
      const bool up = e.address.state() == tspi::address_state::in_service;
      say(std::string("address ") + (up ? "in_service" : "out_of_service"));
      std::lock_guard lock(m_);
      if (!up && o_.register_only) register_failed_ = true;
      cv_.notify_all();
    });
    std::error_code ec;
    tapi_.initialize(ec);
    if (ec) {
      say("result fail why=initialize:" + ec.message());
      return 1;
    }
    address_ = tapi_.addresses().at(0);
    say("ready port=" + std::to_string(o_.port) + " aor=" + address_.name());
    if (!o_.forward.empty()) {
      tspi::forward_information f;
      f.set_num_rings_no_answer(static_cast<std::uint32_t>(o_.forward_rings));
      f.set_forward_type(o_.forward_mode == "busy"        ? tspi::forward_mode::busy
                         : o_.forward_mode == "no_answer" ? tspi::forward_mode::no_answer
                                                          : tspi::forward_mode::unconditional,
                         o_.forward);
      address_.forward(f, ec);
      if (ec) {
        say("result fail why=forward:" + ec.message());
        return 1;
      }
    }
    if (!o_.register_only) {
      // Owning the address's calls also lets the provider place a REFER's call (else it answers 603).
      if (o_.call_uri.empty() || o_.transfers > 0) tapi_.register_call_notifications(address_);
      if (!o_.call_uri.empty()) place_next();
    }

    const auto deadline = clock_type::now() + std::chrono::seconds(o_.seconds);
    bool finished = false;
    {
      std::unique_lock lock(m_);
      finished = cv_.wait_until(lock, deadline, [this] { return finished_locked(); });
    }
    if (finished && !o_.register_only) std::this_thread::sleep_for(std::chrono::milliseconds(o_.linger_ms));
    // Read everything under the lock, then shut down (un-REGISTER, close) before printing the result.
    std::string line;
    bool ok = true;
    {
      std::lock_guard lock(m_);
      line = summary_locked(finished, ok);
    }
    tapi_.shutdown();
    say(line);
    return ok ? 0 : 1;
  }

  bool finished_locked() const {
    if (o_.register_only) return registered_ || register_failed_;
    return done_ >= expected_calls() && forwarded_ >= o_.forwards;
  }

  int expected_calls() const { return o_.calls + o_.transfers + (o_.consult.empty() ? 0 : 1); }

  std::string summary_locked(bool finished, bool& ok) {
    std::ostringstream s;
    std::vector<std::string> why;
    if (!finished) why.push_back("timeout");
    std::map<std::string, int> causes;
    int connected = 0;
    for (auto& [id, r] : calls_) {
      if (r.done) ++causes[r.cause];
      if (r.connected) ++connected;
      if (r.done && r.cause != o_.expect_cause) why.push_back("call" + std::to_string(r.number) + "_cause_" + r.cause);
      if (!o_.expect_states.empty()) {
        std::string seq;
        for (auto& st : r.states) seq += (seq.empty() ? "" : ",") + st;
        if (seq != o_.expect_states) why.push_back("call" + std::to_string(r.number) + "_states_" + seq);
      }
    }
    if (o_.register_only) {
      if (!registered_) why.push_back("not_registered");
    } else if (static_cast<int>(calls_.size()) != expected_calls()) {
      why.push_back("calls_" + std::to_string(calls_.size()) + "_expected_" + std::to_string(expected_calls()));
    }
    if (forwarded_ < o_.forwards) why.push_back("forwarded_" + std::to_string(forwarded_));
    if (control_failures_) why.push_back("control_failures_" + std::to_string(control_failures_));
    const auto illegal = tapi_.illegal_transitions();
    if (illegal) why.push_back("illegal_transitions");
    ok = why.empty();
    s << "result " << (ok ? "ok" : "fail") << " calls=" << calls_.size() << " offered=" << offered_
      << " connected=" << connected << " causes=";
    bool first = true;
    for (auto& [c, n] : causes) {
      s << (first ? "" : ",") << c << ':' << n;
      first = false;
    }
    if (causes.empty()) s << '-';
    s << " illegal=" << illegal;
    if (o_.register_only) s << " registered=" << (registered_ ? 1 : 0);
    if (!ok) {
      s << " why=";
      for (std::size_t i = 0; i < why.size(); ++i) s << (i ? "," : "") << why[i];
    }
    return s.str();
  }

  static void say(const std::string& line) {
    static std::mutex out;
    std::lock_guard lock(out);
    std::cout << line << std::endl;
  }

  // Every handler below runs on the TAPI object's event thread, one at a time.
  call_record& record_of(const tspi::call& c) {
    const auto id = c.info().id;
    auto it = calls_.find(id);
    if (it == calls_.end()) {
      it = calls_.emplace(id, call_record{}).first;
      it->second.number = static_cast<int>(calls_.size());
      it->second.call = c;
    }
    return it->second;
  }

  void on_offer(const tspi::call_notification_event& e) {
    std::unique_lock lock(m_);
    ++offered_;
    auto& r = record_of(e.call);
    auto c = e.call;
    const int n = r.number;
    lock.unlock();
    if (const auto info = c.info(); !info.incoming) {  // placed by the provider (a REFER's call): it dials itself
      say("call " + std::to_string(n) + " placed reason=" + (info.reason == tspi::call_reason::transfer ? "transfer" : "other") +
          " to=" + info.called_id);
      return;
    }
    if (const auto info = c.info(); info.reason == tspi::call_reason::transfer) {  // Replaces: answered by the provider
      say("call " + std::to_string(n) + " replacing reason=transfer");
      return;
    }
    if (o_.incoming == "ring") return;
    if (o_.incoming == "reject") {
      const auto code = o_.reject_status == 486   ? tspi::disconnect_code::normal
                        : o_.reject_status == 603 ? tspi::disconnect_code::rejected
                                                  : tspi::disconnect_code::noanswer;
      c.async_disconnect(code, [this, n](std::error_code ec) { control_done(n, "reject", ec); });
      return;
    }
    after(o_.answer_after_ms, [this, c, n]() mutable {
      c.async_answer([this, n](std::error_code ec) { control_done(n, "answer", ec); });
    });
  }

  void on_state(const tspi::call_state_event& e) {
    std::unique_lock lock(m_);
    auto& r = record_of(e.call);
    const std::string st(tspi::to_string(e.state));
    r.states.push_back(st);
    const int n = r.number;
    auto c = e.call;
    std::string line = "call " + std::to_string(n) + " " + st;
    if (e.state == tspi::call_state::disconnected) {
      r.cause = std::string(tspi::to_string(e.cause));
      line += " " + r.cause;
    }
    say(line);
    if (e.state == tspi::call_state::connected && !r.connected) {
      r.connected = true;
      r.connected_at = clock_type::now();
      lock.unlock();
      schedule_controls(c, n);
      if (n == 1 && !o_.consult.empty() && !o_.call_uri.empty()) start_consultation(c);
      return;
    }
    if (e.state != tspi::call_state::disconnected || r.done) return;
    r.done = true;
    ++done_;
    if (r.recorder) {  // finalize the WAV; was its first sample written before `connected` (early media)?
      r.recorder->close();
      const auto first = r.recorder->first_sample_time();
      const bool early = first && (!r.connected || *first < r.connected_at);
      say("call " + std::to_string(n) + " recorded samples=" + std::to_string(r.recorder->samples_recorded()) +
          " before_connected=" + (early ? "1" : "0"));
    }
    cv_.notify_all();
    lock.unlock();
    std::error_code ec;
    c.release(ec);
    if (ec) say("call " + std::to_string(n) + " release failed " + ec.message());
    if (!o_.call_uri.empty()) {
      std::lock_guard relock(m_);
      if (placed_ < o_.calls) after(o_.gap_ms, [this] { place_next(); });
    }
  }

  // --record: the first call's render stream goes into a recording terminal, started when the stream is
  // active (CME_STREAM_ACTIVE), which for early media is before `connected`.
  void select_recorder(call_record& r) {
    if (o_.record.empty() || r.number != 1) return;
    std::error_code ec;
    r.recorder = address_.terminals().create_file_recording_terminal(o_.record, ec);
    if (!ec) r.call.select_terminal_on_call(r.recorder, ec);
    if (ec) say("call " + std::to_string(r.number) + " record failed " + ec.message());
  }

  void on_media(const tspi::call_media_event& e) {
    if (e.event != mspi::call_media_kind::stream_active || !e.stream) return;
    std::shared_ptr<mspi::file_recording_terminal> rec;
    int n = 0;
    {
      std::lock_guard lock(m_);
      auto& r = record_of(e.call);
      rec = r.recorder;
      n = r.number;
    }
    const bool render = e.stream->direction() == mspi::terminal_direction::render;
    say("call " + std::to_string(n) + " stream_active " + (render ? "render" : "capture"));
    if (!render || !rec) return;
    std::error_code ec;
    rec->start(ec);
    if (ec) say("call " + std::to_string(n) + " record start failed " + ec.message());
  }

  void schedule_controls(tspi::call c, int n) {
    if (o_.hold_after_ms >= 0)
      after(o_.hold_after_ms, [this, c, n]() mutable {
        c.async_hold(true, [this, n](std::error_code ec) { control_done(n, "hold", ec); });
      });
    if (o_.unhold_after_ms >= 0)
      after(o_.unhold_after_ms, [this, c, n]() mutable {
        c.async_hold(false, [this, n](std::error_code ec) { control_done(n, "unhold", ec); });
      });
    if (o_.hangup_after_ms >= 0)
      after(o_.hangup_after_ms, [this, c, n]() mutable {
        if (ended(n)) return;  // the far end (or a transfer) ended it first
        c.async_disconnect(tspi::disconnect_code::normal, [this, n](std::error_code ec) { control_done(n, "hangup", ec); });
      });
  }

  // --consult: ITBasicCallControl::Transfer(consultation) holds `primary` and dials the consultation call;
  // once that is connected, Finish(FM_ASTRANSFER) sends the REFER with Replaces.
  void start_consultation(tspi::call primary) {
    std::error_code ec;
    auto consult = address_.create_call(o_.consult, mspi::media_type::audio, ec);
    if (ec) return control_done(1, "create_consultation", ec);
    {
      std::lock_guard lock(m_);
      (void)record_of(consult);
    }
    primary.async_transfer(consult, [this, consult](std::error_code ec) mutable {
      control_done(1, "transfer", ec);
      if (ec) return;
      after(o_.finish_after_ms, [this, consult]() mutable {
        consult.async_finish(tspi::finish_mode::as_transfer, [this](std::error_code ec) { control_done(2, "finish", ec); });
      });
    });
  }

  bool ended(int n) {
    std::lock_guard lock(m_);
    for (const auto& [id, r] : calls_)
      if (r.number == n) return r.done;
    return false;
  }

  void control_done(int n, const char* what, std::error_code ec) {
    say("call " + std::to_string(n) + " " + what + (ec ? " failed " + ec.message() : std::string(" ok")));
    if (ec) {
      std::lock_guard lock(m_);
      ++control_failures_;
    }
  }

  void place_next() {
    tspi::call c;
    {
      std::lock_guard lock(m_);
      if (placed_ >= o_.calls) return;
      ++placed_;
    }
    std::error_code ec;
    c = address_.create_call(o_.call_uri, mspi::media_type::audio, ec);
    if (ec) {
      say("create_call failed " + ec.message());
      std::lock_guard lock(m_);
      ++control_failures_;
      ++done_;
      cv_.notify_all();
      return;
    }
    int n = 0;
    {
      std::lock_guard lock(m_);
      auto& r = record_of(c);
      n = r.number;
      select_recorder(r);
    }
    // A failed connect also ends in `disconnected` with the cause; the error is printed for the log only.
    c.async_connect([n](std::error_code e) { say("call " + std::to_string(n) + " connect " + (e ? e.message() : "ok")); });
  }

  template <class F>
  void after(int ms, F f) {
    if (ms <= 0) {
      boost::asio::post(io_, std::move(f));
      return;
    }
    auto t = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(ms));
    t->async_wait([t, f = std::move(f)](const boost::system::error_code& ec) mutable {
      if (!ec) f();
    });
  }

  options o_;
  boost::asio::io_context io_;  // timers; declared before the TAPI object, so it outlives it
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread timer_thread_;
  std::mutex m_;
  std::condition_variable cv_;
  std::map<std::uint64_t, call_record> calls_;
  int offered_ = 0, done_ = 0, placed_ = 0, control_failures_ = 0, forwarded_ = 0;
  bool registered_ = false, register_failed_ = false;
  tspi::tapi tapi_;
  tspi::address address_;
};

}  // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  peer p(std::move(o));
  return p.run();
}
