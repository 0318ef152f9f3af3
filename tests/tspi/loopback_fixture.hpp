// Shared fixture for tests that run calls through the loopback TSP and the RTP/Opus MSP.
#pragma once

#include <tspi/loopback/tsp.hpp>
#include <tspi/tapi.hpp>

#include <mspi/rtp_opus/msp.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace ptapi_test {


inline namespace literals { using namespace std::chrono_literals; }


// Collects the events of one TAPI object; tests wait on it with a deadline.
struct event_log {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::uint64_t, tspi::call_state>> states;  // (call id, state)
  std::vector<tspi::call_state_cause> causes;
  std::vector<mspi::call_media_event> media;
  std::vector<tspi::call> offered;

  void attach(tspi::tapi& t) {
    t.on_call_state().connect([this](const tspi::call_state_event& e) {
      std::lock_guard lock(m);
      states.emplace_back(e.call.info().id, e.state);
      causes.push_back(e.cause);
      cv.notify_all();
    });
    t.on_call_media().connect([this](const tspi::call_media_event& e) {
      std::lock_guard lock(m);
      media.push_back(e.event);
      cv.notify_all();
    });
    t.on_call_notification().connect([this](const tspi::call_notification_event& e) {
      std::lock_guard lock(m);
      offered.push_back(e.call);
      cv.notify_all();
    });
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

  explicit loopback_fixture(int ptime_ms = 20) {
    mspi::rtp_opus_config msp;
    msp.ptime_ms = ptime_ms;
    tapi.register_provider<tspi::loopback_tsp, mspi::rtp_opus_msp>({}, msp);
    tapi.set_event_filter(tspi::tapi_event::all);
    log.attach(tapi);
    tapi.initialize();
    alice = tapi.find_address("alice");
    bob = tapi.find_address("bob");
  }
  ~loopback_fixture() { tapi.shutdown(); }
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

}  // namespace ptapi_test
