#include <mspi/detail/pcm_fifo.hpp>

#include "mspi/audio_test_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

TEST_CASE("pcm_fifo: commit, pop, silence and compaction", "[mspi][pcm_fifo]") {
  mspi::detail::pcm_fifo f(10);
  CHECK(f.capacity() == 10);
  CHECK(f.size() == 0);
  auto w = f.writable();
  REQUIRE(w.size() == 10);
  for (std::size_t i = 0; i < 6; ++i) w[i] = static_cast<std::int16_t>(i + 1);
  f.commit(6);
  std::vector<std::int16_t> out(4);
  CHECK(f.pop(out) == 4);
  CHECK(out == std::vector<std::int16_t>{1, 2, 3, 4});
  CHECK(f.size() == 2);
  // The free space is contiguous again: the two queued samples moved to the front.
  CHECK(f.writable().size() == 8);
  CHECK(f.push_silence(3) == 3);
  const std::vector<std::int16_t> more{7, 8, 9, 10, 11};
  CHECK(f.push(more) == 5);  // exactly full
  CHECK(f.push(more) == 0);
  CHECK(f.push_silence(1) == 0);
  std::vector<std::int16_t> all(20);
  CHECK(f.pop(all) == 10);
  CHECK(std::vector<std::int16_t>(all.begin(), all.begin() + 10) == std::vector<std::int16_t>{5, 6, 0, 0, 0, 7, 8, 9, 10, 11});
  CHECK(f.pop(all) == 0);
  f.commit(100);  // clamped to the free space
  CHECK(f.size() == 10);
  f.clear();
  CHECK(f.size() == 0);
}

// The playout rule of the media engine: before each 20 ms tick, decode packets while fewer than a frame's
// samples are queued, then take one frame. Packets of 10 ms and 30 ms (and a mix) must come out as the
// same continuous signal, never padded or cut.
TEST_CASE("pcm_fifo turns 10 ms and 30 ms packets into continuous 20 ms frames", "[mspi][pcm_fifo]") {
  const std::size_t frame = 960, capacity = frame + 5760;
  std::vector<std::int16_t> signal(48000);
  for (std::size_t i = 0; i < signal.size(); ++i)
    signal[i] = static_cast<std::int16_t>(std::lround(9000 * std::sin(2 * M_PI * 440 * static_cast<double>(i) / 48000)));
  for (const auto& sizes : {std::vector<std::size_t>{480}, std::vector<std::size_t>{1440},
                            std::vector<std::size_t>{480, 1440, 2880, 960, 240}}) {
    mspi::detail::pcm_fifo f(capacity);
    std::size_t next = 0, k = 0, peak = 0;
    std::vector<std::int16_t> played, out(frame);
    while (played.size() + frame <= signal.size()) {
      while (f.size() < frame && next < signal.size()) {
        const std::size_t n = std::min(sizes[k++ % sizes.size()], signal.size() - next);
        auto w = f.writable();
        REQUIRE(w.size() >= n);  // the decoder always finds room for a whole packet
        std::copy_n(signal.begin() + static_cast<std::ptrdiff_t>(next), n, w.begin());
        f.commit(n);
        next += n;
        peak = std::max(peak, f.size());
      }
      REQUIRE(f.pop(out) == frame);
      played.insert(played.end(), out.begin(), out.end());
    }
    INFO("packet sizes " << sizes.size() << ", first " << sizes[0]);
    CHECK(std::equal(played.begin(), played.end(), signal.begin()));
    CHECK(peak < frame + 2880);
  }
}
