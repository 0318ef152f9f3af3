// ptapi - portable TAPI
// mspi/media_pool.hpp: the media threads an MSP runs its calls on: a pool of single-threaded io_contexts,
// each call placed on the least loaded one for its whole life (so its handlers stay serial).
#pragma once

#include <mspi/detail/run_catching.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace mspi {

/// A pool of media threads, each running one `boost::asio::io_context` of its own (concurrency hint 1).
/// A call is assigned to one thread for its whole life (`assign`), the one carrying the fewest calls, so
/// every handler of a call runs on that thread, one at a time, in order (an implicit strand): the media
/// engine needs no locks and no allocation per packet beyond what Asio recycles.
///
/// The TAPI object owns one pool (`tspi::tapi_options::media_threads`, default the hardware concurrency)
/// and hands it to every MSP address through `msp_context::media`; an MSP initialized without one makes a
/// pool of one thread of its own. Not part of TAPI 3 (its MSPs choose their threads); the per-call thread
/// affinity is the design of Asio's io_context-per-thread servers.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: `assign`, `size`, `load`, `handler_exceptions` and `sync` from
/// any thread; `stop` (and the destructor) from a thread that is not one of the pool's, one at a time.
class media_pool {
  struct slot {
    boost::asio::io_context io{1};
    std::atomic<std::size_t> calls{0};
  };

 public:
  /// One call's place on the pool: its media thread's io_context, counted as one call of that thread
  /// until `release` (or destruction). Move-only. The io_context outlives the pool while the assignment
  /// or a copy of `context()` (e.g. held by a socket's owner) lives.
  class assignment {
   public:
    assignment() = default;
    /// Takes over `o`'s place (`o` is left empty, counting nothing). Never throws.
    assignment(assignment&& o) noexcept : slot_(std::move(o.slot_)), counted_(std::exchange(o.counted_, false)) {}
    /// Releases this place (as `release`), then takes over `o`'s. Never throws.
    assignment& operator=(assignment&& o) noexcept {
      if (this != &o) {
        release();
        slot_ = std::move(o.slot_);
        counted_ = std::exchange(o.counted_, false);
      }
      return *this;
    }
    assignment(const assignment&) = delete;
    assignment& operator=(const assignment&) = delete;
    ~assignment() { release(); }

    /// The io_context of the thread this call runs on (null for a default-constructed assignment). Never throws.
    [[nodiscard]] std::shared_ptr<boost::asio::io_context> context() const noexcept {
      return slot_ ? std::shared_ptr<boost::asio::io_context>(slot_, &slot_->io) : nullptr;
    }
    /// The call no longer counts in its thread's load (its media has been told to stop). Idempotent; the
    /// io_context stays usable. Never throws.
    void release() noexcept {
      if (counted_) slot_->calls.fetch_sub(1, std::memory_order_relaxed);
      counted_ = false;
    }

   private:
    friend class media_pool;
    explicit assignment(std::shared_ptr<slot> s) noexcept : slot_(std::move(s)), counted_(true) {
      slot_->calls.fetch_add(1, std::memory_order_relaxed);
    }
    std::shared_ptr<slot> slot_;
    bool counted_ = false;
  };

  /// Starts `threads` media threads (0 is taken as 1). @throws std::system_error when a thread cannot
  /// start (the threads already started are stopped first); std::bad_alloc.
  explicit media_pool(std::size_t threads) {
    threads = std::max<std::size_t>(threads, 1);
    slots_.reserve(threads);
    work_.reserve(threads);
    threads_.reserve(threads);
    try {
      for (std::size_t i = 0; i < threads; ++i) {
        slots_.push_back(std::make_shared<slot>());
        work_.emplace_back(slots_.back()->io.get_executor());
        threads_.emplace_back([s = slots_.back(), e = exceptions_] { detail::run_catching(s->io, *e); });
      }
    } catch (...) {
      stop();
      throw;
    }
  }
  media_pool(const media_pool&) = delete;
  media_pool& operator=(const media_pool&) = delete;
  /// Stops the pool (as `stop`).
  ~media_pool() { stop(); }

  /// Number of media threads (>= 1). Never throws.
  [[nodiscard]] std::size_t size() const noexcept { return slots_.size(); }

  /// Places one call on the thread that carries the fewest calls now (ties: the lowest index; O(threads)).
  /// After `stop` the io_context is no longer run: handlers posted to it never run. Never throws.
  [[nodiscard]] assignment assign() noexcept {
    std::size_t best = 0;
    for (std::size_t i = 1; i < slots_.size(); ++i)
      if (slots_[i]->calls.load(std::memory_order_relaxed) < slots_[best]->calls.load(std::memory_order_relaxed))
        best = i;
    return assignment(slots_[best]);
  }

  /// Calls assigned to thread `i` (< size()) and not yet released (diagnostic). Never throws.
  [[nodiscard]] std::size_t load(std::size_t i) const noexcept { return slots_[i]->calls.load(std::memory_order_relaxed); }

  /// Exceptions that escaped a handler on a media thread: caught and counted, the thread ran on. Never throws.
  [[nodiscard]] std::uint64_t handler_exceptions() const noexcept { return exceptions_->load(); }

  /// Waits until every handler posted to the pool before this call has run, on every thread (handlers
  /// posted by those handlers may still follow). From a media thread its own io_context is skipped (it
  /// cannot wait for itself). No effect after `stop`. @throws std::bad_alloc.
  void sync() {
    if (stopped_.load()) return;
    std::vector<std::future<void>> done;
    done.reserve(slots_.size());
    for (auto& s : slots_) {
      if (s->io.get_executor().running_in_this_thread()) continue;
      auto p = std::make_shared<std::promise<void>>();
      done.push_back(p->get_future());
      boost::asio::post(s->io, [p] { p->set_value(); });
    }
    for (auto& f : done) f.wait();
  }

  /// Lets each thread finish the work it has (posted handlers, and pending operations until they
  /// complete: close the sockets and cancel the timers first) and joins it. Idempotent. Never throws.
  void stop() noexcept {
    if (stopped_.exchange(true)) return;
    work_.clear();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  using guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::shared_ptr<slot>> slots_;
  std::vector<guard> work_;
  std::vector<std::thread> threads_;
  std::shared_ptr<std::atomic<std::uint64_t>> exceptions_ = std::make_shared<std::atomic<std::uint64_t>>(0);
  std::atomic<bool> stopped_{false};
};

}  // namespace mspi
