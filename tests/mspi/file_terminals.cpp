#include <mspi/terminals/file_playback.hpp>
#include <mspi/terminals/file_recording.hpp>

#include "mspi/audio_test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <vector>

using mspi::file_terminal_cause;
using mspi::terminal_media_state;
using ptapi_test::temp_dir;

namespace {

/// Records every event a terminal fires.
struct event_log {
  std::mutex mutex;
  std::vector<mspi::terminal_event> events;
  void attach(mspi::terminal& t) {
    mspi::detail::terminal_access::set_event_sink(t, [this](mspi::terminal&, const mspi::terminal_event& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
    });
  }
  std::vector<mspi::terminal_event> take() {
    std::lock_guard lock(mutex);
    return std::exchange(events, {});
  }
};

/// Writes `samples` as a 48 kHz mono WAV.
void make_wav(const std::string& path, const std::vector<std::int16_t>& samples) {
  auto w = mspi::wav_writer::create(path, 48000, 1);
  std::error_code ec;
  REQUIRE(w.write(samples, ec));
}

}  // namespace

TEST_CASE("file playback: identity and empty state", "[mspi][terminal][file_playback]") {
  mspi::file_playback_terminal t;
  CHECK(t.terminal_class() == mspi::terminal_classes::file_playback);
  CHECK(t.direction() == mspi::terminal_direction::capture);
  CHECK(t.type() == mspi::terminal_type::dynamic_terminal);
  CHECK(t.media() == mspi::media_type::audio);
  CHECK(t.media_state() == terminal_media_state::idle);
  CHECK(t.total_samples() == 0);
  CHECK_FALSE(t.first_sample_time());

  std::error_code ec;
  t.start(ec);  // nothing to play
  CHECK(ec == mspi::tapi_errc::operation_failed);
  CHECK(t.media_state() == terminal_media_state::idle);
  t.set_play_list({}, ec);
  CHECK(ec == mspi::tapi_errc::invalid_argument);

  std::vector<std::int16_t> frame(960, 7);
  t.read_frame(frame);
  CHECK(std::all_of(frame.begin(), frame.end(), [](auto s) { return s == 0; }));
}

TEST_CASE("file playback: plays the list back to back, then EOF once and silence", "[mspi][terminal][file_playback]") {
  temp_dir dir;
  const auto a = ptapi_test::ramp(1000);
  const auto b = ptapi_test::ramp(1500, 5000);
  make_wav(dir.file("a.wav"), a);
  make_wav(dir.file("b.wav"), b);
  std::vector<std::int16_t> expected = a;
  expected.insert(expected.end(), b.begin(), b.end());

  mspi::file_playback_terminal t;
  event_log log;
  log.attach(t);
  t.set_play_list({dir.file("a.wav"), dir.file("b.wav")});
  CHECK(t.play_list() == std::vector<std::string>{dir.file("a.wav"), dir.file("b.wav")});
  CHECK(t.total_samples() == 2500);

  std::error_code ec;
  t.set_play_list({dir.file("a.wav"), dir.file("missing.wav")}, ec);  // nothing changes
  CHECK(ec == mspi::tapi_errc::file_read_error);
  CHECK(t.total_samples() == 2500);
  CHECK(t.play_list().size() == 2);

  t.start();
  auto events = log.take();
  REQUIRE(events.size() == 1);
  CHECK(events[0].state == terminal_media_state::active);
  CHECK(events[0].cause == file_terminal_cause::normal);

  const auto before = std::chrono::steady_clock::now();
  std::vector<std::int16_t> played;
  std::vector<std::int16_t> frame(960);
  for (int i = 0; i < 3; ++i) {  // 2880 samples: the last 380 must be silence
    t.read_frame(frame);
    played.insert(played.end(), frame.begin(), frame.end());
  }
  const auto after = std::chrono::steady_clock::now();
  REQUIRE(t.first_sample_time());
  // The first read_frame delivered sample 0: first_sample_time is that call minus one 20 ms frame.
  CHECK(*t.first_sample_time() >= before - std::chrono::milliseconds(20));
  CHECK(*t.first_sample_time() <= after - std::chrono::milliseconds(20));

  CHECK(std::equal(expected.begin(), expected.end(), played.begin()));
  CHECK(std::all_of(played.begin() + 2500, played.end(), [](auto s) { return s == 0; }));
  CHECK(t.samples_played() == 2500);
  CHECK(t.media_state() == terminal_media_state::idle);
  events = log.take();
  REQUIRE(events.size() == 1);
  CHECK(events[0].state == terminal_media_state::idle);
  CHECK(events[0].cause == file_terminal_cause::end_of_file);

  for (int i = 0; i < 3; ++i) {
    frame.assign(frame.size(), 9);
    t.read_frame(frame);
    CHECK(std::all_of(frame.begin(), frame.end(), [](auto s) { return s == 0; }));
  }
  CHECK(log.take().empty());  // EOF fired exactly once

  // Starting again from idle plays from the beginning.
  t.start();
  t.read_frame(frame);
  CHECK(std::equal(frame.begin(), frame.end(), expected.begin()));
  CHECK(t.samples_played() == 960);
}

TEST_CASE("file playback: pause holds the position, stop rewinds", "[mspi][terminal][file_playback]") {
  temp_dir dir;
  const auto a = ptapi_test::ramp(48000);
  make_wav(dir.file("a.wav"), a);
  mspi::file_playback_terminal t;
  event_log log;
  log.attach(t);
  t.set_play_list({dir.file("a.wav")});

  std::error_code ec;
  t.pause(ec);  // idle: nothing to pause
  CHECK(ec == mspi::tapi_errc::operation_failed);
  t.stop(ec);  // idle: no-op
  CHECK_FALSE(ec);
  CHECK(log.take().empty());

  std::vector<std::int16_t> frame(480);
  t.start();
  t.read_frame(frame);
  CHECK(std::equal(frame.begin(), frame.end(), a.begin()));
  t.start();  // already active: no event
  t.pause();
  CHECK(t.media_state() == terminal_media_state::paused);
  t.pause();  // already paused: no event
  t.read_frame(frame);
  CHECK(std::all_of(frame.begin(), frame.end(), [](auto s) { return s == 0; }));
  CHECK(t.samples_played() == 480);
  t.start();  // resume
  t.read_frame(frame);
  CHECK(std::equal(frame.begin(), frame.end(), a.begin() + 480));
  t.stop();
  CHECK(t.media_state() == terminal_media_state::idle);
  t.read_frame(frame);
  CHECK(std::all_of(frame.begin(), frame.end(), [](auto s) { return s == 0; }));
  t.start();  // from idle: the beginning again
  t.read_frame(frame);
  CHECK(std::equal(frame.begin(), frame.end(), a.begin()));

  const auto events = log.take();
  std::vector<terminal_media_state> states;
  for (const auto& e : events) {
    CHECK(e.cause == file_terminal_cause::normal);
    CHECK_FALSE(e.error);
    states.push_back(e.state);
  }
  CHECK(states == std::vector<terminal_media_state>{terminal_media_state::active, terminal_media_state::paused,
                                                    terminal_media_state::active, terminal_media_state::idle,
                                                    terminal_media_state::active});
}

TEST_CASE("file playback: terminals playing the same files share one decoded copy", "[mspi][terminal][file_playback]") {
  temp_dir dir;
  const auto a = ptapi_test::ramp(4800);
  make_wav(dir.file("a.wav"), a);
  auto& cache = mspi::detail::shared_audio_cache::instance();
  std::error_code ec;
  auto first = cache.load({dir.file("a.wav")}, ec);
  REQUIRE_FALSE(ec);
  auto second = cache.load({dir.file("a.wav")}, ec);
  CHECK(second.get() == first.get());  // shared, not decoded again
  CHECK(*first == a);

  // Two terminals on the same list play independently from the shared copy.
  mspi::file_playback_terminal t1, t2;
  t1.set_play_list({dir.file("a.wav")});
  t2.set_play_list({dir.file("a.wav")});
  t1.start();
  t2.start();
  std::vector<std::int16_t> f1(480), f2(480);
  t1.read_frame(f1);
  t1.read_frame(f1);
  t2.read_frame(f2);
  CHECK(std::equal(f1.begin(), f1.end(), a.begin() + 480));
  CHECK(std::equal(f2.begin(), f2.end(), a.begin()));

  // A file changed on disk (other size) is decoded again; the old copy stays valid for its holders.
  const auto b = ptapi_test::ramp(9600);
  make_wav(dir.file("a.wav"), b);
  auto third = cache.load({dir.file("a.wav")}, ec);
  REQUIRE_FALSE(ec);
  CHECK(third.get() != first.get());
  CHECK(third->size() == b.size());
  CHECK(first->size() == a.size());

  // A missing file is an error and yields nothing.
  auto missing = cache.load({dir.file("missing.wav")}, ec);
  CHECK(ec == mspi::tapi_errc::file_read_error);
  CHECK_FALSE(missing);
}

TEST_CASE("file recording: records while active into a valid WAV", "[mspi][terminal][file_recording]") {
  temp_dir dir;
  mspi::file_recording_terminal t;
  CHECK(t.terminal_class() == mspi::terminal_classes::file_recording);
  CHECK(t.direction() == mspi::terminal_direction::render);
  CHECK(t.type() == mspi::terminal_type::dynamic_terminal);
  event_log log;
  log.attach(t);

  std::error_code ec;
  t.start(ec);  // no file yet
  CHECK(ec == mspi::tapi_errc::operation_failed);

  const auto path = dir.file("rec.wav");
  t.set_file_name(path);
  CHECK(t.file_name() == path);
  CHECK(ptapi_test::sndfile_read(path).info.frames == 0);  // valid, empty WAV at once

  const auto signal = ptapi_test::ramp(4 * 960);
  auto frame = [&](int i) { return std::span(signal).subspan(static_cast<std::size_t>(i) * 960, 960); };
  t.write_frame(frame(0));  // idle: discarded
  CHECK(t.samples_recorded() == 0);

  const auto before = std::chrono::steady_clock::now();
  t.start();
  t.write_frame(frame(1));
  const auto after = std::chrono::steady_clock::now();
  REQUIRE(t.first_sample_time());
  CHECK(*t.first_sample_time() >= before);
  CHECK(*t.first_sample_time() <= after);
  // The header is valid after every frame, before close.
  CHECK(ptapi_test::sndfile_read(path).info.frames == 960);

  t.pause();
  t.write_frame(frame(2));  // paused: discarded
  t.start();
  t.write_frame(frame(3));
  CHECK(t.samples_recorded() == 1920);
  t.close();
  CHECK(t.media_state() == terminal_media_state::idle);

  const auto raw = ptapi_test::sndfile_read(path);
  CHECK(raw.info.samplerate == 48000);
  CHECK(raw.info.channels == 1);
  std::vector<std::int16_t> expected(frame(1).begin(), frame(1).end());
  expected.insert(expected.end(), frame(3).begin(), frame(3).end());
  CHECK(raw.samples == expected);

  std::vector<terminal_media_state> states;
  for (const auto& e : log.take()) states.push_back(e.state);
  CHECK(states == std::vector<terminal_media_state>{terminal_media_state::active, terminal_media_state::paused,
                                                    terminal_media_state::active, terminal_media_state::idle});
  t.start(ec);  // closed: needs a new file
  CHECK(ec == mspi::tapi_errc::operation_failed);
}

TEST_CASE("file recording: recording_limits end a recording on its length or on silence", "[mspi][terminal][file_recording]") {
  temp_dir dir;
  mspi::file_recording_terminal t;
  event_log log;
  log.attach(t);
  t.set_file_name(dir.file("limits.wav"));
  // 20 ms frames: a tone of amplitude 1000 (RMS -33 dBFS) and faint noise of amplitude 20 (-64 dBFS).
  std::vector<std::int16_t> loud(960), faint(960);
  for (std::size_t i = 0; i < loud.size(); ++i) {
    loud[i] = static_cast<std::int16_t>(std::lround(1000 * std::sin(2 * M_PI * 440 * double(i) / 48000)));
    faint[i] = static_cast<std::int16_t>(i % 2 ? 20 : -20);
  }
  const auto frames_until_idle = [&](const std::vector<std::int16_t>& f, int most) {
    int n = 0;
    while (n < most && t.media_state() == terminal_media_state::active) {
      t.write_frame(f);
      ++n;
    }
    return n;
  };

  SECTION("max_duration: the 5th 20-ms frame fills 100 ms and ends it; starting again ends at once") {
    mspi::recording_limits l;
    l.max_duration = std::chrono::milliseconds(100);
    t.set_limits(l);
    t.start();
    CHECK(frames_until_idle(loud, 50) == 5);
    CHECK(t.samples_recorded() == 4800);
    auto events = log.take();
    REQUIRE(events.size() == 2);
    CHECK(events[1].state == terminal_media_state::idle);
    CHECK(events[1].cause == file_terminal_cause::max_duration);
    CHECK_FALSE(events[1].error);
    CHECK(ptapi_test::sndfile_read(t.file_name()).info.frames == 4800);  // the file stays valid and open
    t.start();
    CHECK(frames_until_idle(loud, 50) == 1);
  }
  SECTION("silence_timeout: 200 ms below silence_dbfs after the last loud frame, counted from start") {
    mspi::recording_limits l;
    l.silence_timeout = std::chrono::milliseconds(200);
    l.silence_dbfs = -45;
    t.set_limits(l);
    t.start();
    CHECK(frames_until_idle(faint, 9) == 9);  // 180 ms of silence: still recording
    CHECK(frames_until_idle(loud, 3) == 3);   // speech resets the count
    CHECK(frames_until_idle(faint, 50) == 10);
    auto events = log.take();
    REQUIRE(events.size() == 2);
    CHECK(events[1].cause == file_terminal_cause::silence);
    CHECK(t.samples_recorded() == 22 * 960);
    t.start();  // a new start counts afresh
    CHECK(frames_until_idle(faint, 50) == 10);
    // Louder than the threshold is never silence; lifting the limit keeps it recording.
    t.start();
    l.silence_dbfs = -70;
    t.set_limits(l);
    CHECK(frames_until_idle(faint, 50) == 50);
    t.set_limits({});
    l.silence_dbfs = -45;
    CHECK(frames_until_idle(faint, 50) == 50);
  }
}

TEST_CASE("file recording: a bad path fails at set_file_name and creates nothing", "[mspi][terminal][file_recording]") {
  temp_dir dir;
  mspi::file_recording_terminal t;
  const auto good = dir.file("good.wav");
  t.set_file_name(good);
  const auto bad = dir.file("missing-dir/rec.wav");
  std::error_code ec;
  t.set_file_name(bad, ec);
  CHECK(ec == mspi::tapi_errc::file_write_error);
  CHECK_FALSE(std::filesystem::exists(bad));
  CHECK(t.file_name() == good);  // unchanged
  CHECK_THROWS_AS(t.set_file_name(bad), std::system_error);
}

TEST_CASE("file recording: a write error makes the terminal idle with write_error", "[mspi][terminal][file_recording]") {
  // A child process with a 64 KiB file size limit: the recording hits it after about 0.7 s of audio.
  temp_dir dir;
  const auto path = dir.file("limited.wav");
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of a signal
    const rlimit limit{64 * 1024, 64 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(10);
    mspi::file_recording_terminal t;
    event_log log;
    log.attach(t);
    std::error_code ec;
    t.set_file_name(path, ec);
    if (ec) _exit(11);
    t.start(ec);
    (void)log.take();
    const auto signal = ptapi_test::ramp(960);
    int frames = 0;
    for (; frames < 100 && t.media_state() == terminal_media_state::active; ++frames) t.write_frame(signal);
    if (frames >= 100 || t.media_state() != terminal_media_state::idle) _exit(12);
    const auto events = log.take();
    if (events.size() != 1) _exit(13);
    if (events[0].state != terminal_media_state::idle || events[0].cause != file_terminal_cause::write_error) _exit(14);
    if (events[0].error != mspi::tapi_errc::file_write_error) _exit(15);
    t.write_frame(signal);  // idle now: no further event
    _exit(log.take().empty() ? 0 : 16);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // What was written before the limit is still a valid WAV.
  const auto raw = ptapi_test::sndfile_read(path);
  CHECK(raw.info.samplerate == 48000);
  CHECK(raw.info.frames > 0);
}
