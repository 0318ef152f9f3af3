// Shared fixture for tests that run calls through the loopback TSP and the RTP/Opus MSP.
#pragma once

#include <tspi/loopback/tsp.hpp>
#include <tspi/tapi.hpp>

#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/media_streaming.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ptapi_test {


inline namespace literals { using namespace std::chrono_literals; }


// Collects the events of one TAPI object; tests wait on it with a deadline.
struct event_log {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::uint64_t, tspi::call_state>> states;  // (call id, state)
  std::vector<tspi::call_state_cause> causes;
  std::vector<mspi::call_media_kind> media;
  std::vector<tspi::call> offered;
  std::vector<tspi::address_event_kind> address_events;
  // TE_GENERATEEVENT and TE_CALLSTATE in the order delivered: (call id, what) with what = "done digits",
  // "cancel tone", ... or the state's number for a state event (to check their order).
  std::vector<std::pair<std::uint64_t, std::string>> sequence;
  std::size_t generations = 0;  // TE_GENERATEEVENT count

  void attach(tspi::tapi& t) {
    t.on_call_state().connect([this](const tspi::call_state_event& e) {
      std::lock_guard lock(m);
      states.emplace_back(e.call.info().id, e.state);
      causes.push_back(e.cause);
      sequence.emplace_back(e.call.info().id, "state " + std::to_string(static_cast<int>(e.state)));
      cv.notify_all();
    });
    t.on_call_media().connect([this](const tspi::call_media_event& e) {
      std::lock_guard lock(m);
      media.push_back(e.event);
      cv.notify_all();
    });
    t.on_address().connect([this](const tspi::address_event& e) {
      std::lock_guard lock(m);
      address_events.push_back(e.kind);
      cv.notify_all();
    });
    t.on_call_notification().connect([this](const tspi::call_notification_event& e) {
      std::lock_guard lock(m);
      offered.push_back(e.call);
      cv.notify_all();
    });
    t.on_digit_generation().connect([this](const tspi::digit_generation_event& e) {
      std::lock_guard lock(m);
      ++generations;
      sequence.emplace_back(e.call.info().id, std::string(e.termination == tspi::generate_termination::done ? "done " : "cancel ") +
                                                  (e.kind == tspi::generation_kind::tone ? "tone" : "digits"));
      cv.notify_all();
    });
  }
  // The generation events of call `id`, in order ("done digits", "cancel tone", ...).
  std::vector<std::string> generations_of(std::uint64_t id) {
    std::lock_guard lock(m);
    std::vector<std::string> out;
    for (auto& [c, what] : sequence)
      if (c == id && what.rfind("state", 0) != 0) out.push_back(what);
    return out;
  }
  template <class Pred>
  bool wait(Pred p, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] { return p(); });
  }
  std::vector<tspi::call_state> states_of(std::uint64_t id) {
    std::lock_guard lock(m);
    return states_of_locked(id);
  }
  std::vector<tspi::call_state> states_of_locked(std::uint64_t id) {
    std::vector<tspi::call_state> out;
    for (auto& [c, s] : states)
      if (c == id) out.push_back(s);
    return out;
  }
};

struct loopback_fixture {
  event_log log;  // declared first: outlives the TAPI object whose handlers write to it
  tspi::tapi tapi;
  tspi::address alice, bob;

  explicit loopback_fixture(int ptime_ms = 20) : loopback_fixture(config(ptime_ms)) {}
  // `msp`: the RTP/Opus MSP's settings (e.g. with `tones` set).
  explicit loopback_fixture(const mspi::rtp_opus_config& msp) {
    tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>({}, msp);
    tapi.set_event_filter(tspi::tapi_event::all);
    log.attach(tapi);
    tapi.initialize();
    alice = tapi.find_address("alice");
    bob = tapi.find_address("bob");
  }
  ~loopback_fixture() { tapi.shutdown(); }
  static mspi::rtp_opus_config config(int ptime_ms) {
    mspi::rtp_opus_config msp;
    msp.ptime = std::chrono::milliseconds(ptime_ms);
    return msp;
  }
};

inline std::vector<std::int16_t> tone(std::size_t n, double hz) {
  std::vector<std::int16_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * hz * i / 48000.0));
  return v;
}

inline double rms(const std::vector<std::int16_t>& v) {
  double s = 0;
  for (auto x : v) s += double(x) * x;
  return v.empty() ? 0 : std::sqrt(s / v.size());
}

// One party's media streaming terminals on a call: what it says (`out`) and what it hears (`in`).
struct streaming_pair {
  std::shared_ptr<mspi::media_streaming_terminal> out, in;
  explicit streaming_pair(mspi::terminal_support& s)
      : out(s.create_media_streaming_terminal(mspi::terminal_direction::capture)),
        in(s.create_media_streaming_terminal(mspi::terminal_direction::render)) {}
  void select_on(tspi::call c) const {
    c.select_terminal_on_call(out);
    c.select_terminal_on_call(in);
  }
};

// 1 s of a 440 Hz tone from `a` and a 660 Hz tone from `b`, pushed in real-time 20 ms slices; returns
// what `b` heard and what `a` heard (48 kHz mono samples).
inline std::pair<std::vector<std::int16_t>, std::vector<std::int16_t>> talk_both_ways(const streaming_pair& a,
                                                                                      const streaming_pair& b) {
  using namespace std::chrono_literals;
  auto a_tone = tone(48000, 440), b_tone = tone(48000, 660);
  std::vector<std::int16_t> at_b, at_a, buf(960);
  for (int i = 0; i < 50; ++i) {
    a.out->write(std::span<const std::int16_t>(a_tone.data() + i * 960, 960));
    b.out->write(std::span<const std::int16_t>(b_tone.data() + i * 960, 960));
    std::this_thread::sleep_for(20ms);
    while (auto n = b.in->read(buf)) at_b.insert(at_b.end(), buf.begin(), buf.begin() + n);
    while (auto n = a.in->read(buf)) at_a.insert(at_a.end(), buf.begin(), buf.begin() + n);
  }
  return {std::move(at_b), std::move(at_a)};
}

}  // namespace ptapi_test
