// The send clock of an RTP/Opus MSP call after its media thread stalled: it catches up on a short delay, but
// after a stall of more than rtp_media::max_send_lag_frames ptimes it skips ahead: a gap in RTP time (with the
// marker bit) instead of a burst of the frames it missed, which the peer's jitter buffer could not place.
// Drives the shipped providers' own members (or pairs them anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/rtp_call_support.hpp"

#include <mspi/media_pool.hpp>

#include <boost/asio/post.hpp>

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <time.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using mspi::channel_message_type;
using ptapi_test::msp_side;
using ptapi_test::raw_peer;

// An RTP packet and when the kernel received it (SO_TIMESTAMPNS, CLOCK_REALTIME): on loopback, when the call
// sent it, however late the test thread reads it.
struct timed_packet {
  mspi::rtp_header header;
  std::chrono::nanoseconds arrival;
};

// Every RTP packet of payload type `pt` that `peer` receives within `duration`, in arrival order (none when
// the kernel gives no receive times). Asserts nothing: it runs on a thread of its own.
std::vector<timed_packet> receive_timed(raw_peer& peer, int pt, std::chrono::milliseconds duration) {
  const int fd = peer.socket.native_handle();
  int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) return {};
  peer.socket.non_blocking(true);
  std::vector<timed_packet> got;
  for (auto end = std::chrono::steady_clock::now() + duration; std::chrono::steady_clock::now() < end;) {
    ptapi_test::datagram_with_control d;
    const auto n = d.receive(fd);
    if (n < 0) {
      std::this_thread::sleep_for(1ms);
      continue;
    }
    std::optional<std::chrono::nanoseconds> arrival;
    for (auto* c = CMSG_FIRSTHDR(&d.msg); c; c = CMSG_NXTHDR(&d.msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        arrival = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
      }
    if (!arrival) return {};
    auto v = mspi::parse_rtp(std::span<const std::byte>(d.data.data(), static_cast<std::size_t>(n)));
    if (v && v->header.payload_type == pt) got.push_back({v->header, *arrival});
  }
  return got;
}

}  // namespace

TEST_CASE("after its media thread stalls, a call's send clock skips ahead: a gap in RTP time, not a burst",
          "[mspi][rtp_opus][send_clock]") {
  // One media thread, which the test can block: a handler that sleeps 30 ptimes (PCMU, 20 ms, 8 kHz RTP clock).
  auto pool = std::make_shared<mspi::media_pool>(1);
  msp_side a({}, pool);
  raw_peer peer;
  a.send(channel_message_type::remote_offer, peer.offer("0", "a=rtpmap:0 PCMU/8000\r\n"));
  auto answer = a.take(channel_message_type::local_answer);
  REQUIRE(answer);
  peer.target = {boost::asio::ip::make_address("127.0.0.1"), ptapi_test::rtp_port_of(answer->body)};
  a.send(channel_message_type::start_media);
  REQUIRE(peer.receive_first(10s));  // media flows (however slowly a sanitized build starts)

  constexpr auto ptime = 20ms;
  constexpr auto stall = 30 * ptime;
  std::vector<timed_packet> got;
  std::thread receiver([&got, &peer, stall] { got = receive_timed(peer, 0, 500ms + stall + 2s); });
  std::this_thread::sleep_for(500ms);  // packets before the stall
  auto place = pool->assign();         // the call's thread: the pool has only one
  std::atomic<bool> stalled{false};
  boost::asio::post(*place.context(), [&stalled, stall] {
    std::this_thread::sleep_for(stall);
    stalled = true;
  });
  receiver.join();
  REQUIRE(stalled);
  REQUIRE(got.size() >= 20);

  // The stall: the largest gap between two packets (the media thread sent nothing while it slept).
  REQUIRE(got.size() >= 2);
  std::size_t after = 1;
  for (std::size_t i = 1; i < got.size(); ++i)
    if (got[i].arrival - got[i - 1].arrival > got[after].arrival - got[after - 1].arrival) after = i;
  const auto& before_stall = got[after - 1];
  const auto& after_stall = got[after];
  const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(after_stall.arrival - before_stall.arrival);
  INFO("gap " << gap.count() << " ms after packet " << after << " of " << got.size());
  REQUIRE(gap >= stall - 5ms);  // (the kernel's clock against the sleep's: a few ms leeway)

  // No packet was lost over loopback: the sequence goes on, and the RTP timestamp jumps by the time the clock
  // skipped. The packet before the stall may have been up to max_send_lag_frames late and the one after it up
  // to a ptime (the clock keeps its grid), plus what the handlers took (generous: sanitizers on a loaded machine).
  CHECK(after_stall.header.sequence == static_cast<std::uint16_t>(before_stall.header.sequence + 1));
  const auto jump = std::chrono::milliseconds((after_stall.header.timestamp - before_stall.header.timestamp) / 8);
  INFO("RTP timestamp jump " << jump.count() << " ms");
  constexpr auto slack = 40ms;
  CHECK(jump >= gap - ptime - slack);
  CHECK(jump <= gap + mspi::detail::rtp_media::max_send_lag_frames * ptime + slack);
  CHECK(after_stall.header.marker);  // a new talkspurt (RFC 3551 §4.1)

  // No burst: the clock never sends a frame before its instant, so after the skip one packet per ptime follows,
  // one more at most when the skip packet itself left up to a ptime after its instant (the old clock sent all
  // 30 missed frames at once).
  constexpr auto window = 100ms;
  std::size_t burst = 0;
  for (std::size_t i = after; i < got.size() && got[i].arrival - after_stall.arrival < window; ++i) ++burst;
  INFO("packets within " << window.count() << " ms of the first after the stall: " << burst);
  CHECK(burst <= 2 + window / ptime);

  // And the clock runs on: about one packet per ptime after the stall (loose: a sanitized build may stall again).
  CHECK(got.size() - after >= 20);
}
