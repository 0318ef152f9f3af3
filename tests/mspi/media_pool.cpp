// The media thread pool (mspi/media_pool.hpp): calls placed on the least loaded thread, each call's
// handlers serial on its one thread, sync and stop ordering; and RTP/Opus calls of MSPs sharing a pool.
// Drives the shipped providers' own members (or pairs them anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/rtp_call_support.hpp"

#include <mspi/media_pool.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>

#include <atomic>
#include <cmath>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// The id of the thread that runs handlers of `io` (waits for it).
std::thread::id thread_of(boost::asio::io_context& io) {
  std::promise<std::thread::id> p;
  auto f = p.get_future();
  boost::asio::post(io, [&] { p.set_value(std::this_thread::get_id()); });
  return f.get();
}

}  // namespace

TEST_CASE("media_pool places each call on the least loaded thread, release frees the place", "[mspi][media_pool]") {
  mspi::media_pool pool(3);
  REQUIRE(pool.size() == 3);
  auto a = pool.assign(), b = pool.assign(), c = pool.assign();
  CHECK(pool.load(0) == 1);
  CHECK(pool.load(1) == 1);
  CHECK(pool.load(2) == 1);
  std::set<std::thread::id> threads{thread_of(*a.context()), thread_of(*b.context()), thread_of(*c.context())};
  CHECK(threads.size() == 3);  // three threads, none the test's
  CHECK(threads.count(std::this_thread::get_id()) == 0);

  b.release();
  b.release();  // idempotent
  CHECK(pool.load(1) == 0);
  auto d = pool.assign();  // the freed place
  CHECK(d.context() == b.context());
  CHECK(pool.load(1) == 1);
  {
    auto e = pool.assign();  // all equal again: the first thread
    CHECK(e.context() == a.context());
    CHECK(pool.load(0) == 2);
  }  // destruction releases
  CHECK(pool.load(0) == 1);
  mspi::media_pool::assignment moved = std::move(c);
  CHECK(pool.load(2) == 1);
  moved = {};
  CHECK(pool.load(2) == 0);

  CHECK(mspi::media_pool(0).size() == 1);  // at least one thread
}

TEST_CASE("media_pool runs one call's handlers one at a time on one thread", "[mspi][media_pool]") {
  mspi::media_pool pool(2);
  auto call = pool.assign();
  auto io = call.context();
  const auto expected = thread_of(*io);
  int counter = 0;  // not atomic: the call's handlers are serial (TSan checks this)
  std::atomic<int> wrong_thread{0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t)
    posters.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        boost::asio::post(*io, [&] {
          ++counter;
          if (std::this_thread::get_id() != expected) ++wrong_thread;
        });
    });
  for (auto& t : posters) t.join();
  pool.sync();  // every handler posted before has run
  CHECK(counter == 4000);
  CHECK(wrong_thread == 0);
}

TEST_CASE("media_pool counts handler exceptions and runs on, stop finishes queued work, contexts outlive it",
          "[mspi][media_pool]") {
  auto pool = std::make_unique<mspi::media_pool>(2);
  auto call = pool->assign();
  auto io = call.context();
  boost::asio::post(*io, [] { throw std::runtime_error("handler"); });
  std::atomic<bool> ran{false};
  boost::asio::post(*io, [&] { ran = true; });
  pool->sync();
  CHECK(ran);
  CHECK(pool->handler_exceptions() == 1);

  std::atomic<int> late{0};
  for (int i = 0; i < 100; ++i) boost::asio::post(*io, [&] { ++late; });
  pool->stop();  // queued handlers run before the threads end
  CHECK(late == 100);
  pool->stop();  // idempotent
  pool->sync();  // no effect once stopped
  pool.reset();
  CHECK(io.use_count() >= 1);  // the call's context is still there (its sockets may be closed later)
  call.release();
}

TEST_CASE("RTP/Opus calls of two MSPs sharing a pool run on different threads and both carry audio",
          "[mspi][rtp_opus][media_pool]") {
  auto pool = std::make_shared<mspi::media_pool>(2);
  {
    ptapi_test::msp_side a({}, pool), b({}, pool);
    CHECK(pool->load(0) == 1);  // one call per thread
    CHECK(pool->load(1) == 1);
    ptapi_test::connect(a, b);
    std::vector<std::int16_t> tone(48000);
    for (std::size_t i = 0; i < tone.size(); ++i)
      tone[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440.0 * static_cast<double>(i) / 48000.0));
    REQUIRE(a.out->write(tone) == tone.size());
    REQUIRE(b.out->write(tone) == tone.size());
    REQUIRE(ptapi_test::eventually([&] { return a.received_packets() >= 40 && b.received_packets() >= 40; }));
    CHECK(a.call->render_stream()->statistics().late == 0);
    CHECK(b.call->render_stream()->statistics().late == 0);
    a.msp.shutdown_msp_call(a.call);
    CHECK(pool->load(0) + pool->load(1) == 1);  // a's place is free again
    CHECK(a.msp.handler_exceptions() == 0);
  }  // both MSPs shut down while the pool runs on
  CHECK(pool->load(0) + pool->load(1) == 0);
  pool->stop();
}
