// The network-impairment relay (tests/support/udp_impairment.hpp) does what it is set to, and RTP/Opus
// calls through it keep speech intelligible under loss and jitter (issue 7, point 11).
// Drives the shipped providers' own members (or pairs them anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/impaired_call.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstring>
#include <map>
#include <set>

using namespace std::chrono_literals;
using ptapi_test::impairment;
using ptapi_test::udp_impairment_relay;
using udp = boost::asio::ip::udp;

namespace {

// Two plain UDP parties around a relay: A sends `count` numbered datagrams, `gap` apart, each carrying its
// send time; B records what arrives (sequence, one-way delay) until 300 ms after the last send.
struct arrival {
  std::uint32_t sequence;
  std::chrono::microseconds delay;
};
std::vector<arrival> send_through(const impairment& imp, std::uint64_t seed, int count, std::chrono::microseconds gap,
                                  ptapi_test::impairment_counters* counters = nullptr) {
  boost::asio::io_context io;
  const auto lo = boost::asio::ip::make_address("127.0.0.1");
  udp::socket a(io, udp::endpoint(lo, 0)), a_rtcp(io, udp::endpoint(lo, 0));
  udp::socket b(io, udp::endpoint(lo, 0)), b_rtcp(io, udp::endpoint(lo, 0));
  b.set_option(udp::socket::receive_buffer_size(1 << 20));
  udp_impairment_relay relay(imp, {}, seed);
  relay.set_party_a(a.local_endpoint(), a_rtcp.local_endpoint());
  relay.set_party_b(b.local_endpoint(), b_rtcp.local_endpoint());
  relay.start();
  b.non_blocking(true);
  std::vector<arrival> got;
  auto poll = [&] {
    std::array<std::byte, 64> buf{};
    udp::endpoint from;
    boost::system::error_code ec;
    while (b.receive_from(boost::asio::buffer(buf), from, 0, ec) == 12 && !ec) {
      if (from != relay.b_facing()) continue;  // B hears the relay only from the socket it was told is its peer
      std::uint32_t seq = 0;
      std::int64_t sent = 0;
      std::memcpy(&seq, buf.data(), 4);
      std::memcpy(&sent, buf.data() + 4, 8);
      const auto now = std::chrono::steady_clock::now().time_since_epoch();
      got.push_back({seq, std::chrono::duration_cast<std::chrono::microseconds>(now - std::chrono::nanoseconds(sent))});
    }
  };
  auto next = std::chrono::steady_clock::now();
  for (std::uint32_t k = 0; k < static_cast<std::uint32_t>(count); ++k) {
    std::array<std::byte, 12> d{};
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::memcpy(d.data(), &k, 4);
    std::memcpy(d.data() + 4, &now, 8);
    a.send_to(boost::asio::buffer(d), relay.a_facing());
    next += gap;
    std::this_thread::sleep_until(next);
    poll();
  }
  for (auto end = std::chrono::steady_clock::now() + 300ms; std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(2ms);
    poll();
  }
  relay.stop();
  if (counters) *counters = relay.counters(udp_impairment_relay::a_to_b);
  return got;
}

}  // namespace

TEST_CASE("impairment relay: random loss matches its setting and repeats for a seed", "[impairment]") {
  impairment imp;
  imp.loss_percent = 10;
  ptapi_test::impairment_counters c;
  const auto first = send_through(imp, 7, 2000, 500us, &c);
  const auto again = send_through(imp, 7, 2000, 500us);
  INFO("delivered " << first.size() << " of 2000; relay dropped " << c.dropped);
  CHECK(c.received == 2000);
  CHECK(first.size() == 2000 - c.dropped);
  CHECK(c.dropped >= 160);  // 10 % ± 2 %: well beyond 3 standard deviations (13.4) of a fair draw
  CHECK(c.dropped <= 240);
  std::vector<std::uint32_t> a, b;
  for (const auto& x : first) a.push_back(x.sequence);
  for (const auto& x : again) b.push_back(x.sequence);
  CHECK(a == b);  // the same seed loses the same packets
  const auto other = send_through(imp, 8, 2000, 500us);
  std::vector<std::uint32_t> o;
  for (const auto& x : other) o.push_back(x.sequence);
  CHECK(o != a);
}

TEST_CASE("impairment relay: Gilbert-Elliott loss comes in bursts", "[impairment]") {
  impairment imp;
  imp.burst_p_percent = 2;   // mean good run 50 packets
  imp.burst_r_percent = 25;  // mean burst 4 packets
  ptapi_test::impairment_counters c;
  const auto got = send_through(imp, 11, 3000, 300us, &c);
  std::set<std::uint32_t> seen;
  for (const auto& x : got) seen.insert(x.sequence);
  std::size_t bursts = 0, lost = 0;
  for (std::uint32_t k = 0; k < 3000; ++k)
    if (!seen.count(k)) {
      ++lost;
      if (k == 0 || seen.count(k - 1)) ++bursts;
    }
  const double mean_burst = bursts ? static_cast<double>(lost) / static_cast<double>(bursts) : 0;
  INFO("lost " << lost << " in " << bursts << " bursts (mean " << mean_burst << "); stationary loss 2/27 = 7.4 %");
  CHECK(c.burst_dropped == lost);
  CHECK(lost >= 120);  // 7.4 % of 3000 = 222; bursty draws vary much more than independent ones
  CHECK(lost <= 360);
  CHECK(mean_burst >= 2.5);  // independent 7 % loss would give about 1.08
  CHECK(mean_burst <= 6);
}

TEST_CASE("impairment relay: delay stays within its bounds, jitter reorders, duplicates happen", "[impairment]") {
  impairment imp;
  imp.delay_min = 20ms;
  imp.delay_max = 60ms;
  imp.duplicate_percent = 5;
  ptapi_test::impairment_counters c;
  const auto got = send_through(imp, 3, 400, 5ms, &c);
  std::map<std::uint32_t, int> copies;
  std::size_t out_of_order = 0;
  std::uint32_t highest = 0;
  auto lo = std::chrono::microseconds::max(), hi = std::chrono::microseconds(0);
  std::size_t late = 0;  // beyond 60 ms plus the 1 ms of a copy and 14 ms of scheduling slack
  for (const auto& x : got) {
    late += x.delay > 75ms;
    ++copies[x.sequence];
    if (x.sequence < highest) ++out_of_order;
    highest = std::max(highest, x.sequence);
    lo = std::min(lo, x.delay);
    hi = std::max(hi, x.delay);
  }
  std::size_t duplicated = 0;
  for (const auto& [seq, n] : copies) duplicated += n > 1;
  INFO("one-way delay " << lo.count() << ".." << hi.count() << " us (" << late << " beyond 75 ms); " << out_of_order
                        << " out of order; " << duplicated << " duplicated of " << copies.size());
  CHECK(copies.size() == 400);  // nothing lost
  CHECK(lo >= 20ms);
  // A relay that delays too much delays many datagrams; a loaded machine (a sanitizer build, two tests at a
  // time) may wake one late: seen 83 ms once under ASan. So: at most 1 % beyond 75 ms, none beyond 160 ms.
  CHECK(late <= got.size() / 100);
  CHECK(hi <= 160ms);
  CHECK(hi >= 55ms);  // the range is used
  CHECK(out_of_order >= 40);
  CHECK(duplicated == c.duplicated);
  CHECK(duplicated >= 8);  // 5 % of 400 = 20
  CHECK(duplicated <= 36);

  impairment held;
  held.reorder_percent = 10;
  held.reorder_extra = 15ms;
  const auto r = send_through(held, 4, 400, 5ms, &c);
  std::size_t behind = 0;
  highest = 0;
  for (const auto& x : r) {
    behind += x.sequence < highest;
    highest = std::max(highest, x.sequence);
  }
  INFO(behind << " arrived behind a later packet; " << c.reordered << " held back");
  CHECK(r.size() == 400);
  CHECK(c.reordered >= 20);
  CHECK(behind * 5 >= c.reordered * 4);  // a held packet is overtaken (15 ms > the 5 ms gap) unless the next is held too
}

namespace {
impairment jittery(double loss_percent) {
  impairment imp;
  imp.loss_percent = loss_percent;
  imp.delay_min = 20ms;
  imp.delay_max = 60ms;
  return imp;
}
}  // namespace

TEST_CASE("speech through 10 % random loss and 20-60 ms jitter stays intelligible", "[impairment][rtp_opus]") {
  const auto speech = ptapi_test::alsa_speech(10);
  const auto r = ptapi_test::run_impaired_call(jittery(10), 1234, speech);
  WARN("10% loss + 20-60 ms jitter: " << ptapi_test::describe(r));
  REQUIRE(r.judge.correlations.size() >= 8);
  CHECK(r.a_to_b.rtp_dropped > 0);
  CHECK(r.judge.median_correlation >= 0.90);
  CHECK(r.judge.worst_tenth_correlation >= 0.75);
}

TEST_CASE("speech through 20 % random loss and 20-60 ms jitter stays intelligible", "[impairment][rtp_opus]") {
  const auto speech = ptapi_test::alsa_speech(10);
  const auto r = ptapi_test::run_impaired_call(jittery(20), 4321, speech);
  WARN("20% loss + 20-60 ms jitter: " << ptapi_test::describe(r));
  REQUIRE(r.judge.correlations.size() >= 8);
  CHECK(r.judge.median_correlation >= 0.85);
}

TEST_CASE("the loss the peer reports in RTCP turns the sender's Opus FEC on", "[impairment][rtp_opus]") {
  mspi::rtp_opus_config cfg;
  cfg.opus.expected_loss_percent = 0;  // no FEC until a receiver report says packets are lost
  cfg.rtcp_interval = std::chrono::milliseconds(400);          // first report after 200 ms
  const auto speech = ptapi_test::alsa_speech(6);
  SECTION("with 20 % loss, FEC appears and recovers packets") {
    const auto r = ptapi_test::run_impaired_call(jittery(20), 99, speech, cfg);
    WARN("20% loss, FEC from RTCP: " << ptapi_test::describe(r));
    CHECK(r.rx.fec_recovered >= 8);  // of about 60 lost; 0 when the feed is capped (below)
  }
  SECTION("with the same loss but the feed capped at 0 %, no packet carries FEC") {
    cfg.max_expected_loss_percent = 0;
    const auto r = ptapi_test::run_impaired_call(jittery(20), 99, speech, cfg);
    CHECK(r.rx.packets_lost >= 40);
    CHECK(r.rx.fec_recovered == 0);
  }
}
