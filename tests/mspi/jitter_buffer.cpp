#include <mspi/jitter_buffer.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <system_error>
#include <vector>

namespace {

using kind = mspi::jitter_frame::kind;
using result = mspi::jitter_push_result;

// A payload that names its sequence number, so played frames can be checked against it.
std::array<std::byte, 3> payload_for(std::uint16_t seq) {
  return {static_cast<std::byte>(seq >> 8), static_cast<std::byte>(seq), std::byte{0x5A}};
}

bool is_payload_of(std::span<const std::byte> p, std::uint16_t seq) {
  const auto want = payload_for(seq);
  return p.size() == want.size() && std::equal(p.begin(), p.end(), want.begin());
}

result push(mspi::jitter_buffer& jb, std::uint16_t seq) {
  return jb.push(seq, seq * 960U, payload_for(seq));
}

void require_packet(mspi::jitter_buffer& jb, std::uint16_t seq) {
  const auto f = jb.pop();
  INFO("expected packet " << seq << ", got kind " << static_cast<int>(f.what) << " seq " << f.sequence);
  REQUIRE(f.what == kind::packet);
  REQUIRE(f.sequence == seq);
  REQUIRE(is_payload_of(f.payload, seq));
}

}  // namespace

TEST_CASE("jitter_buffer plays in order and is empty before the first packet", "[mspi][jitter]") {
  mspi::jitter_buffer jb;
  CHECK(jb.pop().what == kind::empty);
  CHECK(jb.stats().played == 0U);
  CHECK(jb.stats().underruns == 0U);
  for (std::uint16_t seq = 100; seq < 110; ++seq) {
    REQUIRE(push(jb, seq) == result::accepted);
    CHECK(jb.stats().depth_packets == 1);
    require_packet(jb, seq);
    CHECK(jb.stats().depth_packets == 0);
  }
  CHECK(jb.stats().received == 10U);
  CHECK(jb.stats().played == 10U);
  CHECK(jb.stats().lost == 0U);
}

TEST_CASE("jitter_buffer waits for the target depth before playing", "[mspi][jitter]") {
  mspi::jitter_buffer jb({.ptime = std::chrono::milliseconds(20), .min_depth_packets = 3});
  CHECK(jb.stats().target_depth_packets == 3);
  push(jb, 1);
  CHECK(jb.pop().what == kind::empty);
  push(jb, 2);
  CHECK(jb.pop().what == kind::empty);
  push(jb, 3);
  require_packet(jb, 1);
  require_packet(jb, 2);
}

TEST_CASE("jitter_buffer reports a loss, with the next payload for FEC", "[mspi][jitter]") {
  mspi::jitter_buffer jb;
  for (std::uint16_t seq : {10, 13, 14}) REQUIRE(push(jb, seq) == result::accepted);
  require_packet(jb, 10);

  auto f = jb.pop();  // 11 missing, 12 missing too: no FEC source
  CHECK(f.what == kind::lost);
  CHECK(f.sequence == 11);
  CHECK(f.next_payload.empty());

  f = jb.pop();  // 12 missing, 13 buffered: its payload carries 12's FEC
  CHECK(f.what == kind::lost);
  CHECK(f.sequence == 12);
  CHECK(is_payload_of(f.next_payload, 13));
  CHECK(f.payload.empty());

  require_packet(jb, 13);
  require_packet(jb, 14);
  CHECK(jb.stats().lost == 2U);
  CHECK(jb.stats().underruns == 0U);
}

TEST_CASE("jitter_buffer reorders adjacent packets without loss", "[mspi][jitter]") {
  mspi::jitter_buffer jb;
  push(jb, 0);
  require_packet(jb, 0);
  // 2 arrives before 1, both within one playout period.
  REQUIRE(push(jb, 2) == result::accepted);
  REQUIRE(push(jb, 1) == result::accepted);
  require_packet(jb, 1);
  require_packet(jb, 2);
  // A packet earlier than the first one, arriving before playout starts, moves the start back.
  mspi::jitter_buffer fresh({.min_depth_packets = 2});
  REQUIRE(push(fresh, 7) == result::accepted);
  REQUIRE(push(fresh, 6) == result::accepted);
  require_packet(fresh, 6);
  require_packet(fresh, 7);
  CHECK(jb.stats().lost == 0U);
  CHECK(fresh.stats().lost == 0U);
}

TEST_CASE("jitter_buffer drops duplicates, buffered or already played", "[mspi][jitter]") {
  mspi::jitter_buffer jb;
  REQUIRE(push(jb, 5) == result::accepted);
  CHECK(push(jb, 5) == result::duplicate);
  require_packet(jb, 5);
  CHECK(push(jb, 5) == result::duplicate);  // already played: not late, not played again
  REQUIRE(push(jb, 6) == result::accepted);
  require_packet(jb, 6);
  CHECK(jb.stats().duplicates == 2U);
  CHECK(jb.stats().played == 2U);
  CHECK(jb.stats().late == 0U);
  CHECK(jb.stats().target_depth_packets == 1);  // duplicates do not adapt the depth
}

TEST_CASE("jitter_buffer: an underrun, then a late packet raises the target depth", "[mspi][jitter]") {
  mspi::jitter_buffer jb;
  push(jb, 0);
  require_packet(jb, 0);
  auto f = jb.pop();  // 1 has not arrived and nothing is buffered: underrun
  CHECK(f.what == kind::lost);
  CHECK(f.sequence == 1);
  CHECK(jb.stats().underruns == 1U);
  CHECK(jb.stats().lost == 1U);
  // 1 was late, not lost: playout steps back and plays it (the delay grew by the period concealed).
  CHECK(push(jb, 1) == result::accepted);
  CHECK(jb.stats().late == 1U);
  CHECK(jb.stats().lost == 0U);
  CHECK(jb.stats().target_depth_packets == 2);
  push(jb, 2);
  require_packet(jb, 1);
  require_packet(jb, 2);
  // A late packet that is not part of an underrun run is rejected, and the delay grows by one empty pop.
  push(jb, 4);
  CHECK(jb.pop().what == kind::lost);  // 3, with 4 buffered
  CHECK(push(jb, 3) == result::late);
  CHECK(jb.stats().late == 2U);
  CHECK(jb.stats().target_depth_packets == 3);
  CHECK(jb.pop().what == kind::empty);
  require_packet(jb, 4);
}

TEST_CASE("jitter_buffer: a lost packet at an empty buffer does not delay what follows", "[mspi][jitter]") {
  mspi::jitter_buffer jb;
  push(jb, 0);
  require_packet(jb, 0);
  auto f = jb.pop();  // 1 is lost: nothing buffered, an underrun that consumes its sequence
  CHECK(f.what == kind::lost);
  CHECK(f.sequence == 1);
  push(jb, 2);  // 2 on time: played at once, no re-buffering
  require_packet(jb, 2);
  CHECK(jb.stats().target_depth_packets == 1);
  CHECK(jb.stats().late == 0U);
  CHECK(jb.stats().lost == 1U);
  // A burst: 3..5 lost, 6 arrives in time for its period: nothing is delayed.
  CHECK(jb.pop().what == kind::lost);  // 3
  CHECK(jb.pop().what == kind::lost);  // 4
  CHECK(jb.pop().what == kind::lost);  // 5
  push(jb, 6);
  require_packet(jb, 6);
  CHECK(jb.stats().lost == 4U);
  CHECK(jb.stats().late == 0U);
  CHECK(jb.stats().target_depth_packets == 1);
  // max_depth_packets underruns in a row are a pause: then pops return empty and are not counted lost.
  for (int i = 0; i < jb.config().max_depth_packets; ++i) CHECK(jb.pop().what == kind::lost);
  CHECK(jb.pop().what == kind::empty);
  CHECK(jb.stats().lost == 4U + static_cast<std::uint64_t>(jb.config().max_depth_packets));
}

TEST_CASE("jitter_buffer settles under steady jitter instead of oscillating", "[mspi][jitter]") {
  // Packet k (one per period) arrives at period k + d, d uniform in 0..3 periods, 10 % lost: the buffer
  // must grow to cover the spread and then neither shrink below it nor grow further (no thrash), and
  // the loss must not move it.
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> delay(0, 3);
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  mspi::jitter_buffer jb;
  std::multimap<int, std::uint16_t> in_flight;
  int target_changes_after_warmup = 0, last_target = 1;
  for (int tick = 0; tick < 3000; ++tick) {
    const int d = tick == 0 ? 0 : delay(rng);  // the first packet is a fast one: playout starts early
    if (tick == 0 || chance(rng) >= 0.10) in_flight.emplace(tick + d, static_cast<std::uint16_t>(tick));
    auto [first, last] = in_flight.equal_range(tick);
    for (auto it = first; it != last; ++it) push(jb, it->second);
    in_flight.erase(first, last);
    (void)jb.pop();
    if (tick >= 500 && jb.stats().target_depth_packets != last_target) ++target_changes_after_warmup;
    last_target = jb.stats().target_depth_packets;
  }
  const auto& st = jb.stats();
  INFO("target " << st.target_depth_packets << ", late " << st.late << ", dropped " << st.dropped << ", changes "
                 << target_changes_after_warmup << ", lost " << st.lost);
  CHECK(st.target_depth_packets >= 3);  // covers the 3-period spread
  CHECK(st.target_depth_packets <= 5);
  CHECK(st.late <= 6);                      // only while growing at the start
  CHECK(target_changes_after_warmup <= 2);  // settled: no periodic shrink-and-grow
  CHECK(st.lost >= 250);                    // the 10 % loss is reported as loss ...
  CHECK(st.lost <= 350);
}

TEST_CASE("jitter_buffer: a late packet while playing holds playout for one period", "[mspi][jitter]") {
  mspi::jitter_buffer jb({.max_depth_packets = 2});
  push(jb, 0);
  push(jb, 2);
  require_packet(jb, 0);
  CHECK(jb.pop().what == kind::lost);  // 1, with 2 buffered
  CHECK(push(jb, 1) == result::late);
  CHECK(jb.stats().target_depth_packets == 2);
  CHECK(jb.pop().what == kind::empty);  // grows the depth by one period
  require_packet(jb, 2);
  // At max_depth_packets the target no longer grows and playout does not pause.
  push(jb, 3);
  push(jb, 5);
  require_packet(jb, 3);
  CHECK(jb.pop().what == kind::lost);
  CHECK(push(jb, 4) == result::late);
  CHECK(jb.stats().target_depth_packets == 2);
  require_packet(jb, 5);
}

TEST_CASE("jitter_buffer shrinks back toward the target after a quiet period", "[mspi][jitter]") {
  mspi::jitter_buffer jb;  // 20 ms: adapts every 2000 / 20 = 100 pops
  push(jb, 0);
  require_packet(jb, 0);
  REQUIRE(jb.pop().what == kind::lost);      // underrun on 1
  REQUIRE(push(jb, 1) == result::accepted);  // late, played after a step back: target 2
  require_packet(jb, 1);
  push(jb, 2);
  push(jb, 3);
  require_packet(jb, 2);
  push(jb, 5);
  require_packet(jb, 3);
  REQUIRE(jb.pop().what == kind::lost);  // 4, with 5 buffered
  REQUIRE(push(jb, 4) == result::late);  // target 3, one hold period
  REQUIRE(jb.stats().target_depth_packets == 3);
  REQUIRE(jb.stats().lost == 1U);
  // Steady arrivals, one per period, each just before its pop. The hold leaves three packets buffered at
  // each pop: each quiet period lowers the target by one and drops one packet while the packet due and
  // the next are both buffered. Then every packet arrives when it is already the next to play (tight).
  int played = 0;
  int empty = 0;
  std::uint16_t seq = 6;
  for (int i = 0; i < 400; ++i) {
    push(jb, seq++);
    const auto f = jb.pop();
    if (f.what == kind::packet) ++played;
    if (f.what == kind::empty) ++empty;
  }
  CHECK(empty == 1);
  CHECK(jb.stats().target_depth_packets == 1);
  CHECK(jb.stats().dropped == 2U);
  CHECK(jb.stats().lost == 1U);  // shrinking never conceals
  // Packet 5 and the 400 pushed: each played, dropped, or still buffered.
  CHECK(played + 2 + jb.stats().depth_packets == 401);
  CHECK(jb.stats().depth_packets == 0);
}

TEST_CASE("jitter_buffer handles 16-bit sequence wrap-around", "[mspi][jitter]") {
  mspi::jitter_buffer jb({.min_depth_packets = 2});
  const std::array<std::uint16_t, 8> arrival = {65533, 65535, 65534, 0, 2, 1, 3, 4};
  std::size_t next = 0;
  std::vector<std::uint16_t> played;
  for (int tick = 0; tick < 12 && played.size() < arrival.size(); ++tick) {
    if (next < arrival.size()) REQUIRE(push(jb, arrival[next++]) == result::accepted);
    if (next < arrival.size() && tick % 2 == 0) REQUIRE(push(jb, arrival[next++]) == result::accepted);
    const auto f = jb.pop();
    if (f.what == kind::packet) {
      CHECK(is_payload_of(f.payload, f.sequence));
      played.push_back(f.sequence);
    }
  }
  CHECK(played == std::vector<std::uint16_t>{65533, 65534, 65535, 0, 1, 2, 3, 4});
  CHECK(jb.stats().lost == 0U);
  CHECK(push(jb, 65535) == result::duplicate);  // played before the wrap
}

TEST_CASE("jitter_buffer rejects oversized payloads and packets beyond its window", "[mspi][jitter]") {
  mspi::jitter_buffer jb({.capacity_packets = 16, .max_payload_bytes = 4});
  const std::array<std::byte, 5> big{};
  CHECK(jb.push(1, 0, big) == result::too_large);
  CHECK(jb.stats().received == 0U);
  const std::array<std::byte, 4> fits{};
  CHECK(jb.push(1, 0, fits) == result::accepted);
  CHECK(jb.push(16, 0, fits) == result::accepted);  // 15 ahead: the last slot of the window
  CHECK(jb.push(17, 0, fits) == result::too_far_ahead);
  CHECK(jb.stats().depth_packets == 2);
}

TEST_CASE("jitter_buffer validates its configuration", "[mspi][jitter]") {
  CHECK_THROWS_AS(mspi::jitter_buffer({.ptime = std::chrono::milliseconds(0)}), std::system_error);
  CHECK_THROWS_AS(mspi::jitter_buffer({.min_depth_packets = 0}), std::system_error);
  CHECK_THROWS_AS(mspi::jitter_buffer({.min_depth_packets = 4, .max_depth_packets = 3}), std::system_error);
  CHECK_THROWS_AS(mspi::jitter_buffer({.max_depth_packets = 10, .capacity_packets = 9}), std::system_error);
  CHECK_THROWS_AS(mspi::jitter_buffer({.capacity_packets = 40000}), std::system_error);
  CHECK_THROWS_AS(mspi::jitter_buffer({.max_payload_bytes = 0}), std::system_error);
  try {
    mspi::jitter_buffer jb({.ptime = std::chrono::milliseconds(-20)});
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == mspi::tapi_errc::invalid_argument);
  }
}

TEST_CASE("jitter_buffer resynchronises after a stall (DTX pause, sender restart)", "[mspi][jitter]") {
  mspi::jitter_buffer jb;
  for (std::uint16_t seq = 0; seq < 5; ++seq) {
    push(jb, seq);
    require_packet(jb, seq);
  }
  SECTION("a short gap: the packet is late, and played after a step back") {
    CHECK(jb.pop().what == kind::lost);  // underrun on 5
    CHECK(push(jb, 5) == result::accepted);
    CHECK(jb.stats().late == 1U);
    require_packet(jb, 5);
  }
  SECTION("after a long silence the next packet restarts playout") {
    for (int i = 0; i < jb.config().max_depth_packets; ++i) CHECK(jb.pop().what == kind::lost);  // 5, 6, ...
    for (int i = 0; i < 20; ++i) CHECK(jb.pop().what == kind::empty);  // a pause
    CHECK(push(jb, 5) == result::accepted);
    require_packet(jb, 5);
    CHECK(jb.stats().late == 0U);
  }
  SECTION("a sequence jump is too far ahead while playing, accepted once playout stalls") {
    CHECK(push(jb, 20000) == result::too_far_ahead);
    CHECK(jb.pop().what == kind::lost);  // underrun on 5
    CHECK(jb.pop().what == kind::lost);  // underrun on 6
    int pops = 0;
    std::uint16_t seq = 20001;
    while (push(jb, seq) != result::accepted) {
      REQUIRE(++pops < 50);
      CHECK(jb.pop().what != kind::packet);
      ++seq;
    }
    CHECK(pops >= jb.config().max_depth_packets - 2);
    require_packet(jb, seq);
    CHECK(jb.stats().target_depth_packets == 1);
  }
  SECTION("a jump of more than half the sequence space reads as old: late, but no adaptation") {
    CHECK(push(jb, 40005) == result::late);  // 40005 − 5 > 32767: behind, by far more than capacity
    CHECK(jb.stats().target_depth_packets == 1);
    CHECK(jb.pop().what == kind::lost);
    CHECK(jb.pop().what == kind::lost);
    std::uint16_t seq = 40006;
    while (push(jb, seq) != result::accepted) {
      REQUIRE(seq < 40050);
      CHECK(jb.pop().what != kind::packet);
      ++seq;
    }
    require_packet(jb, seq);
    CHECK(jb.stats().target_depth_packets == 1);
  }
}

TEST_CASE("jitter_buffer reset forgets packets and statistics", "[mspi][jitter]") {
  mspi::jitter_buffer jb;
  push(jb, 1);
  push(jb, 2);
  require_packet(jb, 1);
  jb.reset();
  CHECK(jb.stats().received == 0U);
  CHECK(jb.stats().depth_packets == 0);
  CHECK(jb.pop().what == kind::empty);
  REQUIRE(push(jb, 900) == result::accepted);  // any sequence starts a new stream
  require_packet(jb, 900);
}

TEST_CASE("jitter_buffer stress: loss, reordering, duplication", "[mspi][jitter]") {
  std::mt19937 rng(7);  // fixed seed: reproducible
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  std::uniform_int_distribution<int> delay(0, 3);  // network delay in playout periods
  mspi::jitter_buffer jb;
  std::multimap<int, std::uint16_t> in_flight;  // arrival tick → sequence
  std::map<std::uint16_t, int> accepted;        // sequence → times accepted
  std::map<std::uint16_t, int> played;          // sequence → times played
  const int packets = 3000;
  std::uint16_t seq = 64000;  // crosses the 16-bit wrap
  for (int tick = 0; tick < packets + 50; ++tick) {
    if (tick < packets) {
      if (chance(rng) >= 0.05) in_flight.emplace(tick + delay(rng), seq);       // 5 % loss
      if (chance(rng) < 0.05) in_flight.emplace(tick + delay(rng) + 1, seq);   // 5 % duplication
      ++seq;
    }
    auto [first, last] = in_flight.equal_range(tick);
    std::vector<std::uint16_t> arriving;
    for (auto it = first; it != last; ++it) arriving.push_back(it->second);
    in_flight.erase(first, last);
    std::shuffle(arriving.begin(), arriving.end(), rng);
    for (std::uint16_t s : arriving) {
      const auto r = push(jb, s);
      REQUIRE(r != result::too_far_ahead);
      REQUIRE(r != result::too_large);
      if (r == result::accepted) ++accepted[s];
    }
    const auto f = jb.pop();
    if (f.what == kind::packet) {
      REQUIRE(is_payload_of(f.payload, f.sequence));
      ++played[f.sequence];
    }
  }
  const auto& st = jb.stats();
  CHECK(st.depth_packets == 0);
  CHECK(st.late > 0U);        // the scenario does exercise lateness ...
  CHECK(st.duplicates > 0U);  // ... and duplication
  CHECK(st.received == accepted.size());
  std::size_t not_played = 0;
  for (const auto& [s, n] : accepted) {
    INFO("sequence " << s);
    REQUIRE(n == 1);                  // a sequence is accepted at most once
    const auto it = played.find(s);
    if (it == played.end()) ++not_played;
    else REQUIRE(it->second == 1);    // and played exactly once
  }
  CHECK(played.size() + not_played == accepted.size());
  for (const auto& [s, n] : played) REQUIRE(accepted.count(s) == 1);  // nothing played that was not accepted
  CHECK(not_played == st.dropped);  // the only accepted packets not played are the adaptive drops
  CHECK(st.played == played.size());
}
