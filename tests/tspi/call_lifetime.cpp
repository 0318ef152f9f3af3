// Call lifetime as TAPI's Release by reference count: a call is released once it is disconnected and no
// application handle refers to it; MSP call set-up failures and MSP capacity refuse calls instead of
// ending the process.
// Drives the shipped providers' own members (or pairs them anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include <tspi/loopback/tsp.hpp>
#include <tspi/provider_pair.hpp>
#include <tspi/tapi.hpp>

#include <mspi/rtp_opus/msp.hpp>

#include "support/fd_limit.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

using tspi::call_state;
using namespace std::chrono_literals;

using ptapi_test::open_descriptors;
using ptapi_test::soft_fd_limit;

namespace {

// What the counting TSP saw: close_call per call, and why the TAPI object refused incoming calls.
struct tsp_record {
  std::atomic<int> closed{0};
  std::mutex m;
  std::vector<std::error_code> refusals;
};

struct counting_config : tspi::loopback_config {
  std::shared_ptr<tsp_record> record = std::make_shared<tsp_record>();
};

// The loopback TSP, counting TSPI_lineCloseCall and recording new_call's refusals (through a sink that
// forwards everything to the TAPI object's).
class counting_loopback : public tspi::loopback_tsp, private tspi::line_event_sink {
 public:
  using config_type = counting_config;
  explicit counting_loopback(const config_type& cfg) : loopback_tsp(cfg), record_(cfg.record) {}

  void provider_init(const tspi::tsp_context& ctx, std::error_code& ec) {
    upstream_ = ctx.events;
    loopback_tsp::provider_init(tspi::tsp_context{ctx.executor, this}, ec);
  }
  void close_call(tspi::call_id call) {
    ++record_->closed;
    loopback_tsp::close_call(call);
  }

 private:
  void completion(tspi::request_id id, std::error_code ec) override { upstream_->completion(id, ec); }
  using line_event_sink::new_call;
  tspi::call_id new_call(const tspi::incoming_call_info& info, std::error_code& ec) override {
    const auto id = upstream_->new_call(info, ec);
    if (!id) {
      std::lock_guard lock(record_->m);
      record_->refusals.push_back(ec);
    }
    return id;
  }
  void call_state(tspi::call_id call, tspi::line_call_state state, std::uint32_t mode) override {
    upstream_->call_state(call, state, mode);
  }
  void send_msp_data(tspi::call_id call, std::span<const std::byte> data) override { upstream_->send_msp_data(call, data); }
  void address_state_changed(std::size_t address_id, tspi::address_state state) override {
    upstream_->address_state_changed(address_id, state);
  }
  void digit_detected(tspi::call_id call, char digit) override { upstream_->digit_detected(call, digit); }
  void call_info_changed(tspi::call_id call, const tspi::provider_call_info& info) override {
    upstream_->call_info_changed(call, info);
  }

  std::shared_ptr<tsp_record> record_;
  tspi::line_event_sink* upstream_ = nullptr;
};
static_assert(tspi::telephony_service_provider<counting_loopback>);

// The RTP/Opus MSP, made to throw from create_msp_call as Asio does when its reactor cannot get a
// descriptor (`eventfd_select_interrupter: Too many open files`) while `throw_on_create` is set.
std::atomic<bool> throw_on_create{false};
class throwing_msp : public mspi::rtp_opus_msp {
 public:
  using rtp_opus_msp::rtp_opus_msp;
  std::shared_ptr<call_type> create_msp_call(mspi::msp_handle call, mspi::media_type media, std::error_code& ec) {
    if (throw_on_create) throw boost::system::system_error(boost::asio::error::no_descriptors, "eventfd_select_interrupter");
    return rtp_opus_msp::create_msp_call(call, media, ec);
  }
};

// A TAPI object over the counting loopback TSP whose called side answers every call and keeps no handle.
// Only call ids and states are logged, never handles (a kept handle would keep its call).
struct lifetime_fixture {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::uint64_t, call_state>> states;
  std::shared_ptr<tsp_record> record;
  std::unique_ptr<tspi::tapi> tapi = std::make_unique<tspi::tapi>();
  tspi::address alice, bob, carol;

  explicit lifetime_fixture(mspi::rtp_opus_config msp = {}, std::uint32_t max_active_calls = 16) {
    counting_config cfg;
    cfg.addresses = {"alice", "bob", "carol"};
    cfg.max_active_calls = max_active_calls;
    record = cfg.record;
    tapi->register_provider<counting_loopback, throwing_msp>(cfg, msp);
    tapi->set_event_filter(tspi::tapi_event::all);
    tapi->on_call_state().connect([this](const tspi::call_state_event& e) {
      std::lock_guard lock(m);
      states.emplace_back(e.call.info().id, e.state);
      cv.notify_all();
    });
    tapi->on_call_notification().connect(
        [](const tspi::call_notification_event& e) { tspi::call(e.call).async_answer([](std::error_code) {}); });
    tapi->initialize();
    alice = tapi->find_address("alice");
    bob = tapi->find_address("bob");
    carol = tapi->find_address("carol");
    tapi->register_call_notifications(bob);
  }
  ~lifetime_fixture() {
    if (tapi) tapi->shutdown();
  }

  // Waits (5 s at most) until `p()` holds; polls what the TAPI object's thread changes.
  template <class Pred>
  static bool eventually(Pred p) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!p()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
  bool saw(std::uint64_t id, call_state s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, 5s, [&] {
      for (auto& [c, st] : states)
        if (c == id && st == s) return true;
      return false;
    });
  }
  std::vector<std::error_code> refusals() {
    std::lock_guard lock(record->m);
    return record->refusals;
  }
};


}  // namespace

TEST_CASE("dropping every handle of a disconnected call releases it", "[tspi][call_lifetime]") {
  lifetime_fixture f;
  std::weak_ptr<mspi::stream_control> msp_call;
  std::uint64_t id = 0;
  {
    auto c = f.alice.create_call("bob");
    msp_call = c.stream_control();
    id = c.info().id;
    c.connect();
    CHECK(f.tapi->live_calls() == 2);  // alice's leg and bob's
    c.disconnect();
    REQUIRE(f.saw(id, call_state::disconnected));
    CHECK(f.alice.calls().size() == 1);  // this handle still holds it
  }  // the last handle goes
  CHECK(f.eventually([&] { return f.tapi->live_calls() == 0; }));
  CHECK(f.alice.calls().empty());
  CHECK(f.bob.calls().empty());  // bob's leg: released once its disconnected event was delivered
  CHECK(f.record->closed == 2);  // TSPI_lineCloseCall for both legs
  CHECK(f.tapi->provider_call_entries() == 0);
  CHECK(f.eventually([&] { return msp_call.expired(); }));  // the MSP call object is gone too
}

TEST_CASE("a kept handle keeps its call until dropped, release() still works", "[tspi][call_lifetime]") {
  lifetime_fixture f;
  auto c = f.alice.create_call("bob");
  c.connect();
  c.disconnect();
  REQUIRE(f.saw(c.info().id, call_state::disconnected));
  REQUIRE(f.eventually([&] { return f.tapi->live_calls() == 1; }));  // bob's leg went, alice's stays
  CHECK(f.alice.calls().size() == 1);
  CHECK(f.record->closed == 1);
  std::error_code ec;
  CHECK(c.stream_control(ec) != nullptr);  // not stale while held
  CHECK_FALSE(ec);

  auto copy = c;
  c.release();  // early, while a copy remains
  CHECK(f.tapi->live_calls() == 0);
  CHECK(f.record->closed == 2);
  CHECK(copy.stream_control(ec) == nullptr);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  copy.release(ec);
  CHECK(ec == mspi::tapi_errc::invalid_handle);
  c = {};
  copy = {};  // dropping a released call's last handle is harmless
  CHECK(f.tapi->provider_call_entries() == 0);  // runs after the release the drop posted
  CHECK(f.record->closed == 2);

  // A connected call without handles goes on; it is released when it ends.
  std::uint64_t id = 0;
  {
    auto d = f.alice.create_call("bob");
    d.connect();
    id = d.info().id;
  }
  CHECK(f.tapi->provider_call_entries() > 0);
  CHECK(f.tapi->live_calls() == 2);
  auto again = f.alice.calls();  // a new handle from the enumeration
  REQUIRE(again.size() == 1);
  CHECK(again[0].info().id == id);
  CHECK(again[0].state() == call_state::connected);
  again[0].disconnect();
  again.clear();
  CHECK(f.eventually([&] { return f.tapi->live_calls() == 0; }));
  CHECK(f.record->closed == 4);

  // An outgoing call never dialled is released when its last handle goes.
  { auto idle = f.alice.create_call("bob"); }
  CHECK(f.eventually([&] { return f.tapi->live_calls() == 0; }));
  CHECK(f.record->closed == 5);
}

TEST_CASE("the last handle may go on the event thread, after shutdown, or after the TAPI object",
          "[tspi][call_lifetime]") {
  SECTION("inside the disconnected handler") {
    std::mutex m;  // before the fixture: its handler may run until the TAPI object is gone
    std::optional<tspi::call> held;
    std::atomic<int> dropped{0};
    lifetime_fixture f;
    f.tapi->on_call_state().connect([&](const tspi::call_state_event& e) {
      if (e.state != call_state::disconnected) return;
      std::lock_guard lock(m);
      if (held && *held == e.call) {
        held.reset();  // the application's last handle but the event's own
        ++dropped;
      }
    });
    for (int i = 0; i < 20; ++i) {
      auto c = f.alice.create_call("bob");
      c.connect();
      std::future<std::error_code> done;
      {
        std::lock_guard lock(m);
        held = std::move(c);
        done = held->async_disconnect(tspi::disconnect_code::normal, boost::asio::use_future);
      }
      CHECK_FALSE(done.get());
    }
    CHECK(f.eventually([&] { return f.tapi->live_calls() == 0; }));
    CHECK(dropped == 20);
    CHECK(f.record->closed == 40);
  }
  SECTION("after shutdown and after the TAPI object is destroyed") {
    lifetime_fixture f;
    auto connected = f.alice.create_call("bob");
    connected.connect();
    auto ended = f.alice.create_call("bob");
    ended.connect();
    ended.disconnect();
    auto never_dialled = f.alice.create_call("bob");
    auto kept_past_shutdown = connected;
    f.tapi->shutdown();  // releases every call: 2 + 2 legs and the idle one
    CHECK(f.record->closed == 5);
    CHECK(f.tapi->live_calls() == 0);
    connected = {};  // after shutdown
    std::error_code ec;
    kept_past_shutdown.disconnect(tspi::disconnect_code::normal, ec);
    CHECK(ec == mspi::tapi_errc::not_initialized);
    f.tapi.reset();  // the TAPI object is gone
    CHECK(kept_past_shutdown.info().state == call_state::disconnected);  // last-known info
    kept_past_shutdown = {};
    ended = {};
    std::thread other([h = std::move(never_dialled)]() mutable { h = {}; });  // on a thread of its own
    other.join();
    CHECK(f.record->closed == 5);
  }
}

TEST_CASE("2000 loopback calls whose handles are dropped leave no call behind", "[tspi][call_lifetime]") {
  lifetime_fixture f;
  const auto deadline = std::chrono::steady_clock::now() + 4s;
  int made = 0;
  for (; made < 2000 && std::chrono::steady_clock::now() < deadline; ++made) {
    auto c = f.alice.create_call("bob");
    c.connect();
    c.disconnect();
  }
  INFO("calls made: " << made);
  CHECK(made >= 200);
  CHECK(f.eventually([&] { return f.tapi->live_calls() == 0; }));
  CHECK(f.tapi->provider_call_entries() == 0);
  CHECK(f.record->closed == 2 * made);
  CHECK(f.alice.calls().empty());
  CHECK(f.bob.calls().empty());
  WARN("loopback calls made and released: " << made << " (" << 2 * made << " legs, " << f.record->closed
                                            << " close_call)");
}

TEST_CASE("an MSP call set up while running out of descriptors is refused, the next call succeeds", "[tspi][call_lifetime]") {
  mspi::rtp_opus_config msp;
  msp.reserved_fds = 0;  // let the descriptor check pass so that the set-up itself meets EMFILE
  lifetime_fixture f(msp);
  auto c = f.alice.create_call("bob");  // alice's media thread and sockets exist; bob's media has none yet
  {
    // Room for bob's two sockets by the count, none for the reactor its media thread creates first.
    soft_fd_limit limit(open_descriptors() + 2);
    std::error_code ec;
    c.connect(ec);
    CHECK(ec == mspi::tapi_errc::dest_busy);  // the loopback caller sees busy
  }
  const auto refusals = f.refusals();
  REQUIRE(refusals.size() == 1);
  CHECK(refusals[0] == std::errc::too_many_files_open);
  CHECK(f.tapi->handler_exceptions() == 0);  // turned into the refusal, not thrown through the thread

  auto next = f.alice.create_call("bob");
  next.connect();
  CHECK(next.state() == call_state::connected);
  next.disconnect();
}

TEST_CASE("an exception from the MSP while a call is set up refuses that call only", "[tspi][call_lifetime]") {
  lifetime_fixture f;
  auto c = f.alice.create_call("bob");
  throw_on_create = true;
  std::error_code ec;
  c.connect(ec);  // bob's MSP throws: the incoming leg is refused with the error, the caller sees busy
  CHECK(ec == mspi::tapi_errc::dest_busy);
  (void)f.alice.create_call("bob", mspi::media_type::audio, ec);  // an outgoing call: the error to the caller
  throw_on_create = false;
  CHECK(ec == std::errc::too_many_files_open);
  const auto refusals = f.refusals();
  REQUIRE(refusals.size() == 1);
  CHECK(refusals[0] == std::errc::too_many_files_open);
  CHECK(f.tapi->handler_exceptions() == 0);
  CHECK(f.tapi->live_calls() == 1);  // alice's busy call, still held here
  c = {};
  CHECK(f.eventually([&] { return f.tapi->live_calls() == 0; }));
  CHECK(f.tapi->provider_call_entries() == 0);

  auto next = f.alice.create_call("bob");
  next.connect();
  CHECK(next.state() == call_state::connected);
}

TEST_CASE("beyond the MSP's max_calls, the next incoming call is refused with call_unavailable",
          "[tspi][call_lifetime]") {
  mspi::rtp_opus_config msp;
  msp.max_calls = 2;
  lifetime_fixture f(msp);
  std::vector<tspi::call> up;
  for (int i = 0; i < 2; ++i) {
    up.push_back(f.alice.create_call("bob"));
    up.back().connect();
  }
  std::error_code ec;
  (void)f.alice.create_call("bob", mspi::media_type::audio, ec);  // alice's own MSP is full too
  CHECK(ec == mspi::tapi_errc::call_unavailable);

  auto third = f.carol.create_call("bob");
  third.connect(ec);
  CHECK(ec == mspi::tapi_errc::dest_busy);
  auto refusals = f.refusals();
  REQUIRE(refusals.size() == 1);
  CHECK(refusals[0] == mspi::tapi_errc::call_unavailable);

  up[0].disconnect();  // a disconnected call's media no longer counts
  auto fourth = f.carol.create_call("bob");
  fourth.connect();
  CHECK(fourth.state() == call_state::connected);
}

TEST_CASE("an address admits max_active_calls calls, refuses the next, and admits again once one ends",
          "[tspi][call_lifetime][admission]") {
  lifetime_fixture f({}, 3);
  std::vector<tspi::call> up;
  for (int i = 0; i < 2; ++i) {
    up.push_back(f.alice.create_call("bob"));
    up.back().connect();
    REQUIRE(up.back().state() == call_state::connected);
  }
  auto idle = f.alice.create_call("bob");  // an idle call counts too: three
  std::error_code ec;
  auto refused = f.alice.create_call("bob", mspi::media_type::audio, ec);
  CHECK(ec == mspi::tapi_errc::call_unavailable);
  CHECK_FALSE(refused);

  idle = {};  // never dialled, no handle left: released, its place is free
  tspi::call again;
  CHECK(f.eventually([&] {
    again = f.alice.create_call("bob", mspi::media_type::audio, ec);
    return !ec;
  }));
  (void)f.alice.create_call("bob", mspi::media_type::audio, ec);  // full again
  CHECK(ec == mspi::tapi_errc::call_unavailable);

  up[0].disconnect();  // disconnected (its handle still held here): no longer counts
  CHECK(f.eventually([&] { return up[0].state() == call_state::disconnected; }));
  auto next = f.alice.create_call("bob", mspi::media_type::audio, ec);
  REQUIRE_FALSE(ec);
  next.connect();
  CHECK(next.state() == call_state::connected);
  (void)f.alice.create_call("bob", mspi::media_type::audio, ec);
  CHECK(ec == mspi::tapi_errc::call_unavailable);
  CHECK(up[1].state() == call_state::connected);
}
