// ptapi - portable TAPI
// tspi/detail/call_hub_impl.hpp: the call hub object of a local conference (behind `tspi::call_hub`).
#pragma once

#include <tspi/detail/backends.hpp>
#include <tspi/detail/objects.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace tspi::detail {

class core;

/// A hub: its number and its calls in the order they joined. Membership changes on the core thread
/// (`add`, `remove`); the getters are safe from any thread. `clear` is defined with the core.
class hub_impl final : public hub_backend, public std::enable_shared_from_this<hub_impl> {
 public:
  hub_impl(std::weak_ptr<core> c, std::uint64_t id) : core_(std::move(c)), id_(id) {}

  [[nodiscard]] std::uint64_t id() const override { return id_; }
  [[nodiscard]] std::vector<std::shared_ptr<call_backend>> calls() const override {
    std::vector<std::shared_ptr<call_backend>> out;
    for (auto& c : members()) out.push_back(c->handle());
    return out;
  }
  [[nodiscard]] bool idle() const override {
    std::lock_guard lock(mutex_);
    return idle_;
  }
  void clear(completion done) override;
  [[nodiscard]] boost::asio::any_io_executor executor() const override;

  /// The member calls still alive (any thread).
  [[nodiscard]] std::vector<std::shared_ptr<call_impl>> members() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<call_impl>> out;
    for (const auto& w : members_)
      if (auto c = w.lock()) out.push_back(std::move(c));
    return out;
  }
  /// Core thread: `c` joins (once).
  void add(const std::shared_ptr<call_impl>& c) {
    std::lock_guard lock(mutex_);
    members_.push_back(c);
  }
  /// Core thread: `c` leaves; returns true when it was the last (the hub is idle from then on).
  bool remove(const call_impl& c) {
    std::lock_guard lock(mutex_);
    std::erase_if(members_, [&](const std::weak_ptr<call_impl>& w) {
      auto p = w.lock();
      return !p || p.get() == &c;
    });
    idle_ = members_.empty();
    return idle_;
  }

 private:
  const std::weak_ptr<core> core_;
  const std::uint64_t id_;
  mutable std::mutex mutex_;
  std::vector<std::weak_ptr<call_impl>> members_;  // under mutex_
  bool idle_ = false;                              // under mutex_
};

}  // namespace tspi::detail
