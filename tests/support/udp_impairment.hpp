// A seeded, repeatable network-impairment relay for tests and benchmarks (kernel netem is not available):
// an in-process UDP relay between two RTP parties A and B, on its own Boost.Asio thread, that applies per
// direction random loss, Gilbert-Elliott burst loss, delay with jitter, reordering and duplication.
//
// The relay is symmetric, so it works with media that accepts RTP/RTCP only from the negotiated remote
// address: each party is told (by SDP rewriting, or directly) that its peer is one of the relay's sockets,
// and the relay sends to that party FROM exactly that socket. Four sockets: A-facing RTP and RTCP (what A
// sends to and receives from), B-facing RTP and RTCP.
//
//   A --rtp--> [a_rtp]  ~impair a_to_b~  [b_rtp] --rtp--> B   (and the reverse, and the same for RTCP)
#pragma once

#include <mspi/sdp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ptapi_test {

/// What the relay does to the packets of one direction. Percentages are 0..100 per packet; times are one-way.
/// Every decision comes from the relay's seed, so the same packets in the same order get the same fate.
struct impairment {
  double loss_percent = 0;  ///< Independent random loss, % of packets.
  /// Gilbert-Elliott burst loss (two-state Markov chain, one step per packet): % chance per packet of
  /// going good -> bad (p) and bad -> good (r); % of packets lost while bad (and while good). Off while p == 0.
  double burst_p_percent = 0;
  double burst_r_percent = 100;
  double burst_loss_bad_percent = 100;
  double burst_loss_good_percent = 0;
  /// One-way delay of each packet, drawn per packet: uniform in [delay_min, delay_max], or normal with
  /// mean (min+max)/2 and standard deviation (max-min)/4 clamped to [min, max]. Independent delays reorder
  /// packets closer together than the spread, as a real jittery path does.
  std::chrono::microseconds delay_min{0}, delay_max{0};
  bool normal_jitter = false;
  double reorder_percent = 0;                         ///< % of packets held back a further `reorder_extra`.
  std::chrono::microseconds reorder_extra{std::chrono::milliseconds(30)};
  double duplicate_percent = 0;                       ///< % of packets sent twice (the copy 1 ms after).
  bool impair_rtcp = true;                            ///< Apply the same to RTCP (its own random stream).
};

/// What the relay did in one direction (RTP and RTCP together; rtp_* for RTP only).
struct impairment_counters {
  std::uint64_t received = 0;    ///< Datagrams taken from the sending party.
  std::uint64_t dropped = 0;     ///< Lost on purpose (random or burst).
  std::uint64_t burst_dropped = 0;  ///< Of `dropped`, lost in the Gilbert-Elliott bad state.
  std::uint64_t duplicated = 0;  ///< Extra copies made.
  std::uint64_t reordered = 0;   ///< Held back by reorder_extra.
  std::uint64_t delivered = 0;   ///< Datagrams sent to the other party (copies included).
  std::uint64_t foreign = 0;     ///< Datagrams from any other address than the party's: ignored.
  std::uint64_t rtp_received = 0, rtp_dropped = 0;
  std::chrono::microseconds min_delay{std::chrono::microseconds::max()}, max_delay{0};  ///< Delays drawn.
};

/// The relay. Construct, tell it the parties (`set_party_a/b`, or `rewrite_sdp_from_a/b` on their SDP),
/// `start()`, and read `counters()` at any time. Destruction stops the thread. Thread safety: set_party_*
/// and rewrite_* before start(); counters() from any thread.
class udp_impairment_relay {
 public:
  using udp = boost::asio::ip::udp;
  using clock = std::chrono::steady_clock;
  enum direction : int { a_to_b = 0, b_to_a = 1 };

  /// Binds the four relay sockets on `address` (ephemeral ports). `seed` fixes every random decision.
  udp_impairment_relay(const impairment& a_to_b_imp, const impairment& b_to_a_imp, std::uint64_t seed,
                       const std::string& address = "127.0.0.1")
      : imp_{a_to_b_imp, b_to_a_imp}, timer_(io_) {
    const auto addr = boost::asio::ip::make_address(address);
    for (auto& s : sockets_) {
      s.emplace(io_, udp::endpoint(addr, 0));
      s->set_option(udp::socket::receive_buffer_size(1 << 20));
    }
    for (int i = 0; i < 4; ++i) {
      flows_[i].rng.seed(seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(i) * 0xBF58476D1CE4E5B9ull + 1);
    }
  }
  udp_impairment_relay(const udp_impairment_relay&) = delete;
  udp_impairment_relay& operator=(const udp_impairment_relay&) = delete;
  ~udp_impairment_relay() { stop(); }

  /// The relay socket party A must send RTP (rtcp: RTCP) to, and from which A receives.
  [[nodiscard]] udp::endpoint a_facing(bool rtcp = false) const { return sockets_[index(a_to_b, rtcp)]->local_endpoint(); }
  /// The relay socket party B must send RTP (rtcp: RTCP) to, and from which B receives.
  [[nodiscard]] udp::endpoint b_facing(bool rtcp = false) const { return sockets_[index(b_to_a, rtcp)]->local_endpoint(); }

  /// Where party A's RTP and RTCP sockets are (the relay accepts only from these, and sends to them).
  void set_party_a(udp::endpoint rtp, udp::endpoint rtcp) { party_[0] = {rtp, rtcp}; }
  void set_party_b(udp::endpoint rtp, udp::endpoint rtcp) { party_[1] = {rtp, rtcp}; }

  /// Party A's SDP (offer or answer), as B must see it: records A's RTP/RTCP addresses from the first
  /// m-line (RTCP from a=rtcp, else RTP port + 1) and points c=, the port and a=rtcp at the B-facing
  /// sockets. Throws std::invalid_argument for SDP that does not parse or has no m-line.
  std::string rewrite_sdp_from_a(const std::string& sdp) { return rewrite(sdp, 0); }
  /// Party B's SDP, as A must see it (see rewrite_sdp_from_a).
  std::string rewrite_sdp_from_b(const std::string& sdp) { return rewrite(sdp, 1); }

  /// Starts relaying on the relay's own thread.
  void start() {
    for (int i = 0; i < 4; ++i) receive(i);
    thread_ = std::thread([this] { io_.run(); });
  }
  /// Stops relaying (packets still held are discarded). Idempotent.
  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  /// A copy of the counters of one direction.
  [[nodiscard]] impairment_counters counters(direction d) const {
    std::lock_guard lock(mutex_);
    return counters_[d];
  }

 private:
  struct party {
    udp::endpoint rtp, rtcp;
  };
  struct flow {  // one direction of RTP or RTCP: its random stream and burst state
    std::mt19937_64 rng;
    bool bad = false;
  };
  struct held {
    int out_socket;
    udp::endpoint to;
    std::vector<std::byte> data;
  };

  // Socket index: direction*2 + rtcp; socket i receives from the party of direction i/2 and the packet
  // leaves through the socket of the other side with the same kind.
  static int index(int d, bool rtcp) { return d * 2 + (rtcp ? 1 : 0); }

  std::string rewrite(const std::string& text, int side) {
    auto sd = mspi::parse_sdp(text);
    if (!sd || sd->media.empty()) throw std::invalid_argument("udp_impairment_relay: SDP without an m-line");
    auto& m = sd->media[0];
    const auto addr = boost::asio::ip::make_address(m.address.empty() ? sd->connection_address : m.address);
    party_[side] = {udp::endpoint(addr, m.port), udp::endpoint(addr, m.rtcp_port ? m.rtcp_port : m.port + 1)};
    const int other = 1 - side;  // the other party sees our sockets facing it
    const auto rtp = sockets_[index(other, false)]->local_endpoint();
    const auto rtcp = sockets_[index(other, true)]->local_endpoint();
    sd->connection_address = rtp.address().to_string();
    for (auto& media : sd->media) media.address = rtp.address().to_string();
    m.port = rtp.port();
    m.rtcp_port = rtcp.port();
    return mspi::to_string(*sd);
  }

  void receive(int i) {
    sockets_[i]->async_receive_from(boost::asio::buffer(buffer_[i]), from_[i],
                                    [this, i](const boost::system::error_code& ec, std::size_t n) {
                                      if (ec == boost::asio::error::operation_aborted) return;
                                      if (!ec) on_datagram(i, n);
                                      receive(i);
                                    });
  }

  static double draw(std::mt19937_64& rng) { return std::uniform_real_distribution<double>(0.0, 100.0)(rng); }

  void on_datagram(int i, std::size_t n) {
    const int d = i / 2;
    const bool rtcp = (i % 2) != 0;
    const party& src = party_[d];
    std::lock_guard lock(mutex_);
    impairment_counters& c = counters_[d];
    if (from_[i] != (rtcp ? src.rtcp : src.rtp)) {
      ++c.foreign;
      return;
    }
    ++c.received;
    if (!rtcp) ++c.rtp_received;
    const impairment& imp = imp_[d];
    const clock::time_point now = clock::now();
    auto& f = flows_[i];
    const bool impair = !rtcp || imp.impair_rtcp;
    // Every packet takes the same number of draws, so one decision never shifts the others.
    const double u_loss = draw(f.rng), u_burst_step = draw(f.rng), u_burst_loss = draw(f.rng);
    const double u_delay = draw(f.rng), u_reorder = draw(f.rng), u_dup = draw(f.rng);
    std::normal_distribution<double> normal(0.0, 1.0);
    const double z = normal(f.rng);
    if (!impair) {
      hold(now, 1 - d, rtcp, i, n, std::chrono::microseconds(0));
      return;
    }
    bool lost = u_loss < imp.loss_percent;
    if (imp.burst_p_percent > 0) {
      f.bad = f.bad ? !(u_burst_step < imp.burst_r_percent) : u_burst_step < imp.burst_p_percent;
      if (!lost && u_burst_loss < (f.bad ? imp.burst_loss_bad_percent : imp.burst_loss_good_percent)) {
        lost = true;
        ++c.burst_dropped;
      }
    }
    if (lost) {
      ++c.dropped;
      if (!rtcp) ++c.rtp_dropped;
      return;
    }
    const double lo = static_cast<double>(imp.delay_min.count()), hi = static_cast<double>(imp.delay_max.count());
    double us = lo + (hi - lo) * u_delay / 100.0;
    if (imp.normal_jitter) us = std::clamp((lo + hi) / 2 + z * (hi - lo) / 4, lo, hi);
    auto delay = std::chrono::microseconds(static_cast<std::int64_t>(us));
    c.min_delay = std::min(c.min_delay, delay);
    c.max_delay = std::max(c.max_delay, delay);
    if (u_reorder < imp.reorder_percent) {
      delay += imp.reorder_extra;
      ++c.reordered;
    }
    hold(now, 1 - d, rtcp, i, n, delay);
    if (u_dup < imp.duplicate_percent) {
      ++c.duplicated;
      hold(now, 1 - d, rtcp, i, n, delay + std::chrono::milliseconds(1));
    }
  }

  // Queues the datagram in buffer_[i] to leave through the socket facing `to_side` after `delay`.
  void hold(clock::time_point now, int to_side, bool rtcp, int i, std::size_t n, std::chrono::microseconds delay) {
    const party& dst = party_[to_side];
    const auto* p = buffer_[i].data();
    held h{index(to_side, rtcp), rtcp ? dst.rtcp : dst.rtp, std::vector<std::byte>(p, p + n)};
    const auto due = now + delay;
    const bool earliest = queue_.empty() || due < queue_.begin()->first;
    queue_.emplace(due, std::move(h));
    if (earliest) arm();
  }

  void arm() {
    timer_.expires_at(queue_.begin()->first);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      flush_due();
    });
  }

  void flush_due() {
    std::lock_guard lock(mutex_);
    const auto now = clock::now();
    while (!queue_.empty() && queue_.begin()->first <= now) {
      held& h = queue_.begin()->second;
      boost::system::error_code ec;
      sockets_[h.out_socket]->send_to(boost::asio::buffer(h.data), h.to, 0, ec);
      if (!ec) ++counters_[h.out_socket / 2 == 0 ? b_to_a : a_to_b].delivered;
      queue_.erase(queue_.begin());
    }
    if (!queue_.empty()) arm();
  }

  boost::asio::io_context io_;
  std::array<impairment, 2> imp_;
  std::array<std::optional<udp::socket>, 4> sockets_;
  std::array<std::array<std::byte, 2048>, 4> buffer_{};
  std::array<udp::endpoint, 4> from_;
  std::array<party, 2> party_;
  std::array<flow, 4> flows_;
  std::multimap<clock::time_point, held> queue_;  // by due time; equal times keep arrival order
  boost::asio::steady_timer timer_;
  mutable std::mutex mutex_;
  std::array<impairment_counters, 2> counters_;
  std::thread thread_;
};

}  // namespace ptapi_test
