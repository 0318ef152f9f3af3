// ptapi - portable TAPI
// tspi/sip/detail/dns_channel.hpp: a c-ares channel driven by a Boost.Asio executor: c-ares's sockets are
// watched with posix::stream_descriptor (ARES_OPT_SOCK_STATE_CB), its retransmissions by a steady_timer
// (ares_timeout); nothing blocks the executor's thread.
//
// Windows would need another watcher: c-ares's sockets are SOCKETs there, and Asio has no
// posix::stream_descriptor; wrap each in an ip::udp::socket / ip::tcp::socket (assign, then release
// before c-ares closes it), or, with c-ares >= 1.26, let c-ares's own event thread (ARES_OPT_EVENT_THREAD)
// run the queries and post each answer to the executor.
#pragma once

#include <tspi/sip/dns/config.hpp>

#include <ares.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace tspi::sip::detail {

/// One c-ares channel on the executor's thread. Callbacks run on that thread, from the channel's handlers
/// or from within `query`/`addresses` themselves (c-ares answers some at once: /etc/hosts, a malformed
/// name); at destruction pending queries end without their callbacks.
/// Not thread-safe: use it from the executor's thread only.
class dns_channel {
 public:
  /// Status (ARES_SUCCESS, ARES_ENOTFOUND...) and the raw answer (valid during the call only).
  using answer_handler = std::function<void(int status, const unsigned char* answer, int length)>;
  /// Status and the addresses (ares_addrinfo, freed after the call).
  using addrinfo_handler = std::function<void(int status, const ares_addrinfo* result)>;

  /// Starts c-ares with `cfg`'s servers, timeout and tries (resolv.conf's servers when `cfg.servers` is
  /// empty). `ec`: std::errc::invalid_argument when c-ares cannot start or a server does not parse,
  /// not_enough_memory when its library cannot initialise; then only destruction is allowed.
  dns_channel(boost::asio::any_io_executor ex, const dns_config& cfg, std::error_code& ec)
      : executor_(std::move(ex)), timer_(executor_) {
    ec.clear();
    if (::ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
      ec = std::make_error_code(std::errc::not_enough_memory);
      return;
    }
    library_ = true;
    ares_options o{};
    o.sock_state_cb = &dns_channel::on_socket_state;
    o.sock_state_cb_data = this;
    o.timeout = static_cast<int>(std::max<long long>(1, cfg.timeout.count()));
    o.tries = std::max(1, cfg.tries);
    o.flags = ARES_FLAG_NOSEARCH;  // SIP names are absolute: no resolv.conf search domains
    const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    if (::ares_init_options(&channel_, &o, mask) != ARES_SUCCESS) {
      channel_ = nullptr;
      ec = std::make_error_code(std::errc::invalid_argument);
      return;
    }
    if (!cfg.servers.empty()) {
      std::string csv;
      for (const auto& s : cfg.servers) csv += (csv.empty() ? "" : ",") + s;
      if (::ares_set_servers_ports_csv(channel_, csv.c_str()) != ARES_SUCCESS) {
        ec = std::make_error_code(std::errc::invalid_argument);
        ::ares_destroy(channel_);  // never fall back to the system's servers
        channel_ = nullptr;
      }
    }
  }
  dns_channel(const dns_channel&) = delete;
  dns_channel& operator=(const dns_channel&) = delete;

  /// Ends every query (their callbacks are not called) and closes c-ares's sockets.
  ~dns_channel() {
    alive_.reset();
    if (channel_) ::ares_destroy(channel_);  // closes sockets: on_socket_state releases our descriptors
    for (auto& [fd, w] : watches_) w->descriptor.release();
    if (library_) ::ares_library_cleanup();
  }

  /// Queries class IN, type `type` (33 SRV, 35 NAPTR) for `name`; `done` runs once (see the class).
  /// Throws only std::bad_alloc.
  void query(const std::string& name, int type, answer_handler done) {
    auto* h = new answer_handler(std::move(done));
    ::ares_query(channel_, name.c_str(), 1 /* C_IN */, type, &dns_channel::on_answer, h);
    arm_timer();
  }

  /// A and AAAA records of `name` (ares_getaddrinfo, AF_UNSPEC; TTLs in ai_ttl); `done` as for `query`.
  void addresses(const std::string& name, addrinfo_handler done) {
    auto* h = new addrinfo_handler(std::move(done));
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = ARES_AI_NOSORT;
    ::ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &dns_channel::on_addrinfo, h);
    arm_timer();
  }

  /// False when the constructor failed.
  [[nodiscard]] bool valid() const noexcept { return channel_ != nullptr; }

 private:
  struct watch {
    explicit watch(boost::asio::any_io_executor ex, int fd) : descriptor(ex, fd) {}
    boost::asio::posix::stream_descriptor descriptor;
    bool want_read = false, want_write = false, reading = false, writing = false;
  };

  static void on_answer(void* arg, int status, int, unsigned char* answer, int length) {
    std::unique_ptr<answer_handler> h(static_cast<answer_handler*>(arg));
    if (status != ARES_EDESTRUCTION) (*h)(status, answer, length);
  }
  static void on_addrinfo(void* arg, int status, int, ares_addrinfo* result) {
    std::unique_ptr<addrinfo_handler> h(static_cast<addrinfo_handler*>(arg));
    std::unique_ptr<ares_addrinfo, void (*)(ares_addrinfo*)> owned(result, &::ares_freeaddrinfo);
    if (status != ARES_EDESTRUCTION) (*h)(status, result);
  }

  // c-ares opens, changes interest in, or closes (readable == writable == 0) socket `fd`.
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto& self = *static_cast<dns_channel*>(data);
    auto it = self.watches_.find(fd);
    if (!readable && !writable) {
      if (it != self.watches_.end()) {
        it->second->descriptor.release();  // c-ares closes it; pending waits end with operation_aborted
        self.watches_.erase(it);
      }
      return;
    }
    if (it == self.watches_.end()) it = self.watches_.emplace(fd, std::make_shared<watch>(self.executor_, fd)).first;
    it->second->want_read = readable != 0;
    it->second->want_write = writable != 0;
    self.wait(fd, it->second);
  }

  void wait(int fd, const std::shared_ptr<watch>& w) {
    using sd = boost::asio::posix::stream_descriptor;
    for (const bool read : {true, false}) {
      bool& busy = read ? w->reading : w->writing;
      if (busy || !(read ? w->want_read : w->want_write)) continue;
      busy = true;
      std::weak_ptr<watch> weak = w;
      w->descriptor.async_wait(read ? sd::wait_read : sd::wait_write, [this, weak, fd, read](const boost::system::error_code& ec) {
        auto w = weak.lock();
        if (!w) return;  // released (socket closed, or the channel destroyed)
        (read ? w->reading : w->writing) = false;
        if (ec) return;
        ::ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : fd);
        if (auto it = watches_.find(fd); it != watches_.end() && it->second == w) wait(fd, w);
        arm_timer();
      });
    }
  }

  // Wakes c-ares when its next retransmission or timeout is due.
  void arm_timer() {
    timeval tv{};
    if (!::ares_timeout(channel_, nullptr, &tv)) {
      timer_.cancel();
      return;
    }
    timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer_.async_wait([this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
      if (ec || !alive.lock()) return;
      ::ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      arm_timer();
    });
  }

  boost::asio::any_io_executor executor_;
  boost::asio::steady_timer timer_;
  ares_channel channel_ = nullptr;
  bool library_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::unordered_map<int, std::shared_ptr<watch>> watches_;
};

}  // namespace tspi::sip::detail
