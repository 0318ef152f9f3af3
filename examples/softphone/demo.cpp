// The demo call, written the way a TAPI 3 application is: set the event filter, register for call
// notifications, answer from the notification, select terminals on the call, start the file
// terminals when their stream goes active (CME_STREAM_ACTIVE), connect, disconnect.
#include "demo.hpp"

#include "report.hpp"
#include "speech.hpp"

#include <tspi/loopback/tsp.hpp>
#include <tspi/tapi.hpp>

#include <mspi/audio_file.hpp>
#include <ptapi_measure/delay_estimate.hpp>
#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>
#include <mspi/terminals/media_control.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

namespace softphone {

namespace {

using namespace std::chrono_literals;
using mspi::media_type;
using mspi::terminal_direction;

std::mutex stdout_mutex;  // event lines come from the TAPI event thread, the report from main

void say(const std::string& line) {
  std::lock_guard lock(stdout_mutex);
  std::cout << line << std::endl;
}

/// What the event handlers saw, for the main thread to wait on and report.
struct call_log {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> caller_states;
  tspi::call_state_cause caller_cause = tspi::call_state_cause::none;
  bool caller_over = false, callee_over = false;
  tspi::call callee_call;  // bob's side, from the call notification

  template <class Pred>
  bool wait_for(std::chrono::duration<double> timeout, Pred pred) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, pred);
  }
};

/// The party a call belongs to: its address name ("alice" or "bob").
std::string party(const tspi::call& c) {
  try {
    return c.address().name();
  } catch (const std::system_error&) {
    return "?";
  }
}

/// The media side of one party: what it says (capture) and what it hears (render).
struct party_terminals {
  mspi::terminal_ptr mouth, ear;
  std::shared_ptr<mspi::file_playback_terminal> player;    // null with a microphone
  std::shared_ptr<mspi::file_recording_terminal> recorder; // null with speakers
};

party_terminals file_terminals(tspi::address& a, const std::string& play, const std::string& record) {
  party_terminals t;
  std::error_code ec;
  t.player = a.terminals().create_file_playback_terminal({play}, ec);
  if (ec) throw input_error("cannot read audio file '" + play + "': " + ec.message());
  t.recorder = a.terminals().create_file_recording_terminal(record, ec);
  if (ec) throw input_error("cannot create '" + record + "': " + ec.message());
  t.mouth = t.player;
  t.ear = t.recorder;
  return t;
}

party_terminals device_terminals(tspi::address& a) {
  party_terminals t;
  t.mouth = a.terminals().default_static_terminal(media_type::audio, terminal_direction::capture);
  t.ear = a.terminals().default_static_terminal(media_type::audio, terminal_direction::render);
  return t;
}

/// Compares what the listener recorded with what the talker played: delay, correlation, loudness.
void analyse(direction_report& d, const speech_input& said, const party_terminals& talker,
             const party_terminals& listener) {
  if (!listener.recorder) return;
  std::error_code ec;
  const auto heard = mspi::read_audio_file(listener.recorder->file_name(), ec);
  d.recorded = !ec;
  d.recorded_seconds = static_cast<double>(heard.size()) / mspi::pipeline_rate_hz;
  d.audible = !heard.empty() && rms(heard) > 0.1 * rms(said.samples);
  if (!talker.player) return;  // a live microphone: nothing to correlate with
  const auto est = mspi::estimate_delay(said.samples, heard, mspi::pipeline_rate_hz / 2);
  d.correlation = est.correlation;
  d.lag_samples = est.lag_samples;
  const auto spoke = talker.player->first_sample_time();
  const auto sounded = listener.recorder->first_sample_time();
  if (spoke && sounded) d.mouth_to_ear_ms = mspi::mouth_to_ear_ms(*spoke, *sounded, est.lag_samples);
}

}  // namespace

int run_demo(const demo_options& o) {
  if (o.ptime_ms != 10 && o.ptime_ms != 20 && o.ptime_ms != 40 && o.ptime_ms != 60)
    throw input_error("--ptime must be 10, 20, 40 or 60 (got " + std::to_string(o.ptime_ms) + ")");

  // Validate the input before writing anything.
  const speech_input said = load_speech(o.play);
  std::unique_ptr<temp_file> record_tmp;
  std::string record_path;
  if (o.record) {
    record_path = *o.record;
  } else {
    record_tmp = std::make_unique<temp_file>("bob-heard");
    record_tmp->keep();
    record_path = record_tmp->path();
    say("recording what bob hears to " + record_path);
  }
  temp_file alice_heard("alice-heard");  // the reverse direction's recording, removed at the end
  const double input_seconds = static_cast<double>(said.samples.size()) / mspi::pipeline_rate_hz;
  const double seconds = o.seconds.value_or(std::min(input_seconds + 1.0, 120.0));

  // 1. The TAPI object with one provider pair: the loopback TSP (addresses alice and bob) and the
  //    RTP/Opus MSP. Event filter first: nothing is delivered without it.
  call_log log;  // declared before the TAPI object: outlives its event handlers
  tspi::tapi tapi;
  mspi::rtp_opus_config media;
  media.ptime = std::chrono::milliseconds(o.ptime_ms);
  tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>({}, media);
  tapi.set_event_filter(tspi::tapi_event::call_notification | tspi::tapi_event::call_state |
                        tspi::tapi_event::call_media);
  tapi.initialize();
  auto alice = tapi.find_address("alice");
  auto bob = tapi.find_address("bob");

  // 2. Terminals. Bob always uses files; alice uses files or the sound card.
  const party_terminals bob_side = file_terminals(bob, said.path, record_path);
  const party_terminals alice_side = o.device ? device_terminals(alice) : file_terminals(alice, said.path, alice_heard.path());
  if (o.device) {
    if (const auto why = apply_aec(alice_side.mouth, alice_side.ear, o.aec); !why.empty())
      std::cerr << "softphone: echo cancellation " << o.aec.mode << ": " << why << '\n';
  }

  // 3. Event handlers (they run one at a time on the TAPI event thread).
  tapi.on_call_state().connect([&](const tspi::call_state_event& e) {
    const auto who = party(e.call);
    std::string line = who + ": " + std::string(tspi::to_string(e.state));
    if (e.state == tspi::call_state::disconnected) line += " (" + std::string(tspi::to_string(e.cause)) + ")";
    say(line);
    std::lock_guard lock(log.m);
    if (who == "alice") {
      log.caller_states.emplace_back(tspi::to_string(e.state));
      log.caller_cause = e.cause;
    }
    if (e.state == tspi::call_state::disconnected) (who == "alice" ? log.caller_over : log.callee_over) = true;
    log.cv.notify_all();
  });
  tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    // Bob's phone rings: select his terminals on the call and answer it.
    auto c = e.call;
    std::error_code ec;
    c.select_terminal_on_call(bob_side.mouth, ec);
    if (!ec) c.select_terminal_on_call(bob_side.ear, ec);
    if (ec) say("bob: cannot select terminals: " + ec.message());
    {
      std::lock_guard lock(log.m);
      log.callee_call = c;
    }
    c.async_answer([](std::error_code answer_ec) {
      if (answer_ec) say("bob: answer failed: " + answer_ec.message());
    });
  });
  tapi.on_call_media().connect([&](const tspi::call_media_event& e) {
    // CME_STREAM_ACTIVE: media flows, so start the stream's file terminals (ITMediaControl::Start).
    if (e.event != mspi::call_media_kind::stream_active || !e.stream) return;
    for (const auto& t : e.stream->terminals())
      if (auto control = std::dynamic_pointer_cast<mspi::media_control>(t)) {
        std::error_code ec;
        control->start(ec);
        if (ec) say(party(e.call) + ": cannot start " + t->name() + ": " + ec.message());
      }
  });
  tapi.register_call_notifications(bob);

  // 4. Alice calls bob.
  auto call = alice.create_call("bob");
  call.select_terminal_on_call(alice_side.mouth);
  call.select_terminal_on_call(alice_side.ear);
  std::error_code connect_ec;
  call.connect(connect_ec);  // synchronous: we are not on the event thread
  if (connect_ec) say("alice: connect failed: " + connect_ec.message());

  // Keep the four streams: their counters outlive the call.
  const auto alice_streams = call.stream_control();
  mspi::stream_ptr bob_tx, bob_rx;
  {
    std::lock_guard lock(log.m);
    if (log.callee_call) {
      std::error_code ec;
      if (auto sc = log.callee_call.stream_control(ec)) {
        bob_tx = sc->find_stream(media_type::audio, terminal_direction::capture);
        bob_rx = sc->find_stream(media_type::audio, terminal_direction::render);
      }
    }
  }
  const auto alice_tx = alice_streams->find_stream(media_type::audio, terminal_direction::capture);
  const auto alice_rx = alice_streams->find_stream(media_type::audio, terminal_direction::render);

  // 5. Talk for a while (or until the call ends on its own), then alice hangs up.
  if (!connect_ec) {
    log.wait_for(std::chrono::duration<double>(seconds), [&] { return log.caller_over; });
    std::error_code ec;
    if (!log.wait_for(0s, [&] { return log.caller_over; })) call.disconnect(tspi::disconnect_code::normal, ec);
  }
  log.wait_for(5s, [&] { return log.caller_over && log.callee_over; });
  for (const auto& side : {alice_side, bob_side})
    if (side.recorder) side.recorder->close();  // finalize the WAV files

  // 6. The report.
  demo_report r;
  r.ptime_ms = o.ptime_ms;
  {
    std::lock_guard lock(log.m);
    r.states = log.caller_states;
    r.end_cause = tspi::to_string(log.caller_cause);
    r.normal_end = log.caller_over && log.caller_cause == tspi::call_state_cause::disconnect_normal;
  }
  r.connected = std::find(r.states.begin(), r.states.end(), "connected") != r.states.end();
  r.forward = measure(alice_tx, bob_rx);
  r.reverse = measure(bob_tx, alice_rx);
  tapi.shutdown();
  analyse(r.forward, said, alice_side, bob_side);
  analyse(r.reverse, said, bob_side, alice_side);
  r.play = said.path;
  r.play_temporary = said.temporary != nullptr;
  r.record = record_path;
  // With --device the microphone may well be silent: then only the packet counts are checked.
  r.both_ways = r.forward.flowed(!o.device) && r.reverse.flowed(!o.device);
  {
    std::lock_guard lock(stdout_mutex);
    print_report(std::cout, r);
    if (o.json) std::cout << to_json(r).dump() << std::endl;
  }

  const char* failure = !r.connected ? "the call never connected"
                        : !r.both_ways ? "audio did not flow both ways"
                        : !r.normal_end ? "the call did not end normally"
                                        : nullptr;
  if (failure == nullptr) return 0;
  std::cerr << "softphone: " << failure << '\n';
  return 1;
}

}  // namespace softphone
