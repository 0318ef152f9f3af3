#include <mspi/terminals/media_streaming.hpp>

#include "mspi/audio_test_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

namespace {
bool all_zero(std::span<const std::int16_t> s) {
  return std::all_of(s.begin(), s.end(), [](auto v) { return v == 0; });
}
}  // namespace

TEST_CASE("media streaming terminal: identity and construction checks", "[mspi][terminal][media_streaming]") {
  mspi::media_streaming_terminal t(mspi::terminal_direction::capture);
  CHECK(t.terminal_class() == mspi::terminal_classes::media_streaming);
  CHECK(t.type() == mspi::terminal_type::dynamic_terminal);
  CHECK(t.media() == mspi::media_type::audio);
  CHECK(t.capacity() == 48000);
  try {
    mspi::media_streaming_terminal bad(mspi::terminal_direction::bidirectional);
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(e.code() == mspi::tapi_errc::invalid_direction);
  }
  CHECK_THROWS_AS(mspi::media_streaming_terminal(mspi::terminal_direction::render, 0), std::system_error);
}

TEST_CASE("media streaming terminal: capture delivers what the application writes", "[mspi][terminal][media_streaming]") {
  mspi::media_streaming_terminal t(mspi::terminal_direction::capture, 2000);
  const auto signal = ptapi_test::ramp(2500);
  CHECK(t.write(std::span(signal).first(1500)) == 1500);
  CHECK(t.write(std::span(signal).subspan(1500)) == 500);  // 500 fit, 500 dropped
  CHECK(t.overflow_samples() == 500);

  std::vector<std::int16_t> frame(960);
  t.read_frame(frame);
  CHECK(std::equal(frame.begin(), frame.end(), signal.begin()));
  t.read_frame(frame);
  CHECK(std::equal(frame.begin(), frame.end(), signal.begin() + 960));
  CHECK(t.underrun_samples() == 0);
  t.read_frame(frame);  // 80 left: padded with 880 of silence
  CHECK(std::equal(frame.begin(), frame.begin() + 80, signal.begin() + 1920));
  CHECK(all_zero(std::span(frame).subspan(80)));
  CHECK(t.underrun_samples() == 880);
  t.read_frame(frame);
  CHECK(all_zero(frame));
  CHECK(t.underrun_samples() == 880 + 960);

  // The render side of a capture terminal does nothing.
  std::vector<std::int16_t> out(10);
  CHECK(t.read(out) == 0);
}

TEST_CASE("media streaming terminal: render hands received frames to the application", "[mspi][terminal][media_streaming]") {
  mspi::media_streaming_terminal t(mspi::terminal_direction::render, 2000);
  const auto signal = ptapi_test::ramp(3 * 960);
  std::vector<std::int16_t> frame(960, 5);
  t.read_frame(frame);  // capture port of a render terminal: silence
  CHECK(all_zero(frame));
  CHECK(t.write(signal) == 0);  // wrong side

  for (int i = 0; i < 3; ++i) t.write_frame(std::span(signal).subspan(static_cast<std::size_t>(i) * 960, 960));
  CHECK(t.overflow_samples() == 880);  // newest samples dropped

  std::vector<std::int16_t> out(3000);
  CHECK(t.read(out) == 2000);
  CHECK(std::equal(out.begin(), out.begin() + 2000, signal.begin()));
  CHECK(t.read(out) == 0);
}

TEST_CASE("media streaming terminal: application and media thread run concurrently", "[mspi][terminal][media_streaming]") {
  mspi::media_streaming_terminal t(mspi::terminal_direction::capture, 4800);
  const auto signal = ptapi_test::ramp(48000);
  std::thread app([&] {
    std::size_t done = 0;
    while (done < signal.size()) {
      done += t.write(std::span(signal).subspan(done, std::min<std::size_t>(480, signal.size() - done)));
      std::this_thread::yield();
    }
  });
  std::vector<std::int16_t> got;
  std::vector<std::int16_t> frame(960);
  while (got.size() < signal.size()) {
    t.read_frame(frame);
    for (auto s : frame)
      if (s != 0) got.push_back(s);  // drop underrun padding (the signal has no zero)
  }
  app.join();
  CHECK(got == signal);
}
