// End-to-end calls through the loopback TSP and the RTP/Opus MSP.
#include <tspi/loopback/tsp.hpp>

#include <tspi/tapi.hpp>

#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminals/media_streaming.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

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

std::vector<std::int16_t> tone(std::size_t n, double hz) {
  std::vector<std::int16_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * hz * i / 48000.0));
  return v;
}

double rms(const std::vector<std::int16_t>& v) {
  double s = 0;
  for (auto x : v) s += double(x) * x;
  return v.empty() ? 0 : std::sqrt(s / v.size());
}

}  // namespace

TEST_CASE("a loopback call connects, carries audio both ways and disconnects once", "[tspi][loopback][e2e]") {
  loopback_fixture f;
  f.tapi.register_call_notifications(f.bob);
  auto& support = f.alice.terminals();

  // Callee answers from its event handler, with its own media streaming terminals.
  auto bob_in = f.bob.terminals().create_media_streaming_terminal(mspi::terminal_direction::render);
  auto bob_out = f.bob.terminals().create_media_streaming_terminal(mspi::terminal_direction::capture);
  f.tapi.on_call_notification().connect([&](const tspi::call_notification_event& e) {
    auto c = e.call;
    c.select_terminal_on_call(bob_in);
    c.select_terminal_on_call(bob_out);
    c.async_answer([](std::error_code) {});
  });

  auto alice_out = support.create_media_streaming_terminal(mspi::terminal_direction::capture);
  auto alice_in = support.create_media_streaming_terminal(mspi::terminal_direction::render);
  auto call = f.alice.create_call("bob");
  CHECK(call.state() == tspi::call_state::idle);
  call.select_terminal_on_call(alice_out);
  call.select_terminal_on_call(alice_in);

  // 1 s of tone each way, pushed in real time slices.
  auto a_tone = tone(48000, 440), b_tone = tone(48000, 660);
  call.connect();
  CHECK(call.state() == tspi::call_state::connected);

  std::vector<std::int16_t> at_bob, at_alice, buf(960);
  for (int i = 0; i < 50; ++i) {
    alice_out->write(std::span<const std::int16_t>(a_tone.data() + i * 960, 960));
    bob_out->write(std::span<const std::int16_t>(b_tone.data() + i * 960, 960));
    std::this_thread::sleep_for(20ms);
    while (auto n = bob_in->read(buf)) at_bob.insert(at_bob.end(), buf.begin(), buf.begin() + n);
    while (auto n = alice_in->read(buf)) at_alice.insert(at_alice.end(), buf.begin(), buf.begin() + n);
  }
  call.disconnect();
  const auto id = call.info().id;
  REQUIRE(f.log.wait([&] { return f.log.states_of_locked(id).size() >= 3; }));

  // Both directions carried most of a second of clearly non-silent audio.
  CHECK(at_bob.size() > 48000 * 6 / 10);
  CHECK(at_alice.size() > 48000 * 6 / 10);
  CHECK(rms(at_bob) > 1000);
  CHECK(rms(at_alice) > 1000);

  const auto seq = f.log.states_of(id);
  CHECK(seq == std::vector<tspi::call_state>{tspi::call_state::in_progress, tspi::call_state::connected,
                                              tspi::call_state::disconnected});
  CHECK(f.tapi.illegal_transitions() == 0);
}
