// Concurrent full-duplex calls from one TAPI object (sip_tsp + rtp_opus_msp, media on the TAPI object's
// pool of media threads) to a cheap far end that echoes RTP (SIPp `-rtp_echo`; benchmarks/bench_calls.sh
// starts it). For each N of a step list: places N calls, each sending looped speech (a capture terminal
// reading a shared 48 kHz buffer at its own offset: the cost of a device or file read, no application
// thread), lets them settle, then measures over a window: the process's CPU (getrusage: media threads,
// SIP/core and event threads together), received/late/concealed frames of every call's render stream,
// the far end's CPU when its pid is given, and the datagrams the kernel dropped for full receive buffers
// (all UDP sockets of the host; in brackets those of the far end's media port). Then hangs up all calls.
// Prints a line per N and stops at the second N in a row that is not clean. Clean: every call connected,
// no late and no concealed frame, and every call sent and received its 50 packets a second (99.5 %:
// media threads out of CPU slow both media clocks alike, which conceals nothing but falls behind).
//
//   ptapi_bench_calls --codec opus|pcmu --far sip:echo@127.0.0.1:5890 [--port 5891] [--steps 20,40,60]
//                     [--seconds 10] [--settle 2] [--ramp-cps 200] [--media-threads N] [--far-pid PID]
//                     [--far-media-port PORT] [--playout-lead-ms MS] [--jitter-min-packets P] [--echo-port PORT]
//                     [--opus-complexity C] [--speech FILE.wav]
//
// --echo-port PORT: the RTP echo is a child process of this program on 127.0.0.1:PORT (recvmmsg/sendmmsg;
// its CPU is reported as the far end's, not counted in ours); the SIP far end must then answer with that
// port in its SDP (bench_calls.sh does with ECHO=process). Without it, SIPp's -rtp_echo echoes.
//
// --playout-lead-ms / --jitter-min-packets: rtp_opus_config's playout_lead (-1: default) and jitter_min_packets
// (defaults: the MSP's, a 10 ms lead at 20 ms ptime and a 1-packet target). With the defaults any stall of
// 10 ms of a media thread or of SIPp's echo thread (e.g. other processes' load on the 2 cores) conceals a
// frame; a longer lead separates such stalls from the media threads running out of CPU.
//
// Also prints the raw codec cost measured in-process on the same speech (one thread, no RTP): Opus
// encode+decode, or G.711 encode+decode (and with the 48<->8 kHz resampling the pipeline adds), per
// call-second, and the ratio of the full path's CPU per call-second to it.
#include <tspi/sip/tsp.hpp>
#include <tspi/tapi.hpp>

#include <mspi/audio_file.hpp>
#include <mspi/codec/g711.hpp>
#include <mspi/codec/opus.hpp>
#include <mspi/codec/resampler.hpp>
#include <mspi/rtp_opus/msp.hpp>
#include <mspi/terminal.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <csignal>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

// A capture terminal that loops a shared speech buffer from its own offset (a generated source).
class looped_speech final : public mspi::terminal {
 public:
  looped_speech(std::shared_ptr<const std::vector<std::int16_t>> pcm, std::size_t offset)
      : terminal("looped speech", mspi::terminal_classes::media_streaming, mspi::terminal_type::dynamic_terminal,
                 mspi::media_type::audio, mspi::terminal_direction::capture),
        pcm_(std::move(pcm)), pos_(offset % pcm_->size()) {}
  void read_frame(std::span<std::int16_t> frame) noexcept override {
    for (std::size_t done = 0; done < frame.size();) {
      const std::size_t n = std::min(frame.size() - done, pcm_->size() - pos_);
      std::memcpy(frame.data() + done, pcm_->data() + pos_, n * sizeof(std::int16_t));
      done += n;
      pos_ = (pos_ + n) % pcm_->size();
    }
  }

 private:
  std::shared_ptr<const std::vector<std::int16_t>> pcm_;
  std::size_t pos_;
};

double process_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}
// utime + stime of another process, seconds (-1 when unknown).
double other_cpu_s(long pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) ut = std::stoull(field);
    if (i == 15) st = std::stoull(field);
  }
  return static_cast<double>(ut + st) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Datagrams dropped by the kernel (receive buffer full) on every UDP socket of the host, and on those of
// local port `port` (/proc/net/udp and udp6, last column).
struct udp_drops {
  std::uint64_t all = 0, port = 0;
};
udp_drops read_udp_drops(int port) {
  udp_drops d;
  for (const char* path : {"/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);  // header
    while (std::getline(f, line)) {
      std::istringstream in(line);
      std::string slot, local, field, last;
      in >> slot >> local;
      while (in >> field) last = field;
      const auto colon = local.rfind(':');
      const auto n = std::stoull(last);
      d.all += n;
      if (colon != std::string::npos && std::stoi(local.substr(colon + 1), nullptr, 16) == port) d.port += n;
    }
  }
  return d;
}

// The echo far end of --echo-port: a child process (forked before any thread) that sends every datagram
// on 127.0.0.1:port back to its sender, up to 64 per recvmmsg/sendmmsg; it dies with its parent.
[[noreturn]] void run_echo(int port) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  int buf = 8 << 20;
  (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("echo: bind");
    std::_Exit(1);
  }
  constexpr int batch = 64;
  static std::array<std::array<char, 1500>, batch> data;
  static std::array<sockaddr_in, batch> from;
  static std::array<iovec, batch> iov;
  static std::array<mmsghdr, batch> msgs;
  for (;;) {
    for (int i = 0; i < batch; ++i) {
      iov[i] = {data[i].data(), data[i].size()};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, msgs.data(), batch, MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;
    for (int i = 0; i < n; ++i) iov[i].iov_len = msgs[i].msg_len;  // send back what came, to whom it came from
    for (int sent = 0; sent < n;) {
      const int k = ::sendmmsg(fd, msgs.data() + sent, static_cast<unsigned>(n - sent), 0);
      if (k <= 0) break;
      sent += k;
    }
  }
}

// Raw codec cost per call-second (both directions: 50 frames encoded and 50 decoded), in ms of CPU.
struct raw_cost {
  double codec_ms = 0;      // Opus encode+decode, or G.711 encode+decode
  double resampled_ms = 0;  // G.711 only: with the 48->8 kHz decimation and 8->48 kHz interpolation
};
raw_cost measure_raw(const std::vector<std::int16_t>& speech, bool opus, const mspi::opus_config& cfg) {
  constexpr std::size_t frame = 960, frames = 2500;  // 50 call-seconds
  std::array<std::byte, 1500> packet{};
  std::array<std::int16_t, frame> out{};
  std::array<std::int16_t, frame / 6> narrow{}, narrow_out{};
  raw_cost r;
  auto input = [&](std::size_t i) { return std::span<const std::int16_t>(speech.data() + (i * frame) % (speech.size() - frame), frame); };
  if (opus) {
    mspi::opus_encoder enc(cfg);
    mspi::opus_decoder dec;
    std::error_code ec;
    for (std::size_t i = 0; i < 100; ++i) dec.decode(std::span(packet).first(enc.encode(input(i), packet, ec)), out, ec);  // warm up
    const double t0 = thread_cpu_s();
    for (std::size_t i = 0; i < frames; ++i) {
      const auto n = enc.encode(input(i), packet, ec);
      (void)dec.decode(std::span(packet).first(n), out, ec);
    }
    r.codec_ms = (thread_cpu_s() - t0) * 1000 / (frames / 50.0);
    return r;
  }
  // G.711 alone on 8 kHz samples (every 6th sample of the speech), then the pipeline's stage.
  std::vector<std::int16_t> speech8(speech.size() / 6);
  for (std::size_t i = 0; i < speech8.size(); ++i) speech8[i] = speech[i * 6];
  const double t0 = thread_cpu_s();
  std::uint64_t sink = 0;
  for (int rep = 0; rep < 10; ++rep)
    for (std::size_t i = 0; i < frames; ++i) {
      auto in8 = std::span<const std::int16_t>(speech8.data() + (i * 160) % (speech8.size() - 160), 160);
      const auto n = mspi::encode_pcmu(in8, packet);
      (void)mspi::decode_pcmu(std::span(packet).first(n), narrow_out);
      sink += static_cast<std::uint16_t>(narrow_out[i % 160]);
    }
  r.codec_ms = (thread_cpu_s() - t0) * 1000 / (10 * frames / 50.0);
  mspi::decimator_48k_to_8k decimate;
  mspi::interpolator_8k_to_48k interpolate;
  const double t1 = thread_cpu_s();
  for (std::size_t i = 0; i < frames; ++i) {
    const auto m = decimate.process(input(i), narrow);
    const auto n = mspi::encode_pcmu(std::span<const std::int16_t>(narrow.data(), m), packet);
    (void)mspi::decode_pcmu(std::span(packet).first(n), narrow_out);
    (void)interpolate.process(std::span<const std::int16_t>(narrow_out.data(), n), out);
    sink += static_cast<std::uint16_t>(out[i % frame]);
  }
  r.resampled_ms = (thread_cpu_s() - t1) * 1000 / (frames / 50.0);
  if (sink == 42) std::puts("");  // keeps the loops
  return r;
}

struct run_result {
  int placed = 0, connected = 0;
  double window_s = 0, cpu_s = 0, far_cpu_s = -1;
  std::uint64_t sent = 0, received = 0, late = 0, concealed = 0;
  std::int64_t lost = 0;
  udp_drops drops;
};

struct options {
  std::string codec = "opus", far, speech = "/usr/share/sounds/alsa/Front_Center.wav";
  int port = 5891, seconds = 10, settle = 2, ramp_cps = 200, far_media_port = 0;
  int playout_lead_ms = -1, jitter_min_packets = 1;  // the MSP's defaults
  int echo_port = 0;                                 // > 0: run the echo child process on it
  mspi::opus_config opus;                            // the MSP's default Opus settings
  std::size_t media_threads = std::max(1u, std::thread::hardware_concurrency());
  long far_pid = 0;
  std::vector<int> steps;
};

// Places n calls, measures, hangs up. Returns the window's figures.
run_result run(const options& o, int n, const std::shared_ptr<const std::vector<std::int16_t>>& speech) {
  tspi::sip::sip_config sip;
  sip.listen_address = "127.0.0.1";
  sip.port = static_cast<std::uint16_t>(o.port);
  sip.tcp = false;
  sip.max_active_calls = 1000000;
  mspi::rtp_opus_config media;
  media.codecs = {o.codec == "opus" ? mspi::audio_codec::opus : mspi::audio_codec::pcmu};
  media.max_calls = 1000000;
  media.opus = o.opus;
  if (o.playout_lead_ms >= 0) media.playout_lead = std::chrono::milliseconds(o.playout_lead_ms);
  media.jitter_min_packets = o.jitter_min_packets;
  media.jitter_max_packets = std::max(media.jitter_max_packets, o.jitter_min_packets);
  tspi::tapi_options topt;
  topt.media_threads = o.media_threads;
  tspi::tapi tapi(topt);
  tapi.register_provider<tspi::sip::sip_tsp, mspi::rtp_opus_msp>(sip, media);
  std::atomic<int> connected{0}, disconnected{0}, failed{0};
  tapi.set_event_filter(tspi::tapi_event::call_state);
  tapi.on_call_state().connect([&](const tspi::call_state_event& e) {
    if (e.state == tspi::call_state::connected) ++connected;
    if (e.state == tspi::call_state::disconnected) ++disconnected;
  });
  tapi.initialize();
  auto address = tapi.addresses().at(0);

  run_result r;
  std::vector<tspi::call> calls;
  std::vector<mspi::stream_ptr> render, capture;
  calls.reserve(static_cast<std::size_t>(n));
  const auto start = clock_type::now();
  for (int i = 0; i < n; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(1000000LL * i / o.ramp_cps));
    std::error_code ec;
    auto c = address.create_call(o.far, mspi::media_type::audio, ec);
    if (ec) {
      std::printf("  create_call %d: %s\n", i, ec.message().c_str());
      break;
    }
    c.select_terminal_on_call(std::make_shared<looped_speech>(speech, static_cast<std::size_t>(i) * 4801));
    for (const auto& s : c.stream_control()->streams())
      (s->direction() == mspi::terminal_direction::render ? render : capture).push_back(s);
    c.async_connect([&failed](std::error_code e) {
      if (e) ++failed;
    });
    calls.push_back(std::move(c));
    ++r.placed;
  }
  const auto deadline = clock_type::now() + std::chrono::seconds(10);
  while (connected + failed < r.placed && clock_type::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  r.connected = connected;
  std::this_thread::sleep_for(std::chrono::seconds(o.settle));

  struct counts {
    std::uint64_t sent = 0, received = 0, late = 0, concealed = 0;
    std::int64_t lost = 0;
  };
  auto totals = [&] {
    counts t;
    for (const auto& s : render) {
      const auto st = s->statistics();
      t.received += st.packets;
      t.late += st.late;
      t.concealed += st.concealed;
      t.lost += st.packets_lost;
    }
    for (const auto& s : capture) t.sent += s->statistics().packets;
    return t;
  };
  const counts before = totals();
  const auto drops0 = read_udp_drops(o.far_media_port);
  const double cpu0 = process_cpu_s(), far0 = other_cpu_s(o.far_pid);
  const auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  const counts after = totals();
  const auto drops1 = read_udp_drops(o.far_media_port);
  r.drops = {drops1.all - drops0.all, drops1.port - drops0.port};
  r.cpu_s = process_cpu_s() - cpu0;
  r.window_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  r.sent = after.sent - before.sent;
  r.received = after.received - before.received;
  r.late = after.late - before.late;
  r.concealed = after.concealed - before.concealed;
  r.lost = after.lost - before.lost;
  if (far0 >= 0) r.far_cpu_s = other_cpu_s(o.far_pid) - far0;

  for (auto& c : calls) c.async_disconnect(tspi::disconnect_code::normal, [](std::error_code) {});
  const auto end = clock_type::now() + std::chrono::seconds(10);
  while (disconnected < r.connected && clock_type::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  calls.clear();
  render.clear();
  capture.clear();
  tapi.shutdown();
  return r;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: ptapi_bench_calls --codec opus|pcmu --far SIP-URI [--port 5891] [--steps 20,40,...] [--seconds 10]\n"
               "       [--settle 2] [--ramp-cps 200] [--media-threads N] [--far-pid PID] [--far-media-port PORT]\n"
               "       [--playout-lead-ms MS] [--jitter-min-packets P] [--echo-port PORT] [--opus-complexity C]\n"
               "       [--speech FILE]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    if (a == "--codec") o.codec = v;
    else if (a == "--far") o.far = v;
    else if (a == "--port") o.port = std::stoi(v);
    else if (a == "--seconds") o.seconds = std::stoi(v);
    else if (a == "--settle") o.settle = std::stoi(v);
    else if (a == "--ramp-cps") o.ramp_cps = std::stoi(v);
    else if (a == "--media-threads") o.media_threads = static_cast<std::size_t>(std::stoul(v));
    else if (a == "--far-pid") o.far_pid = std::stol(v);
    else if (a == "--far-media-port") o.far_media_port = std::stoi(v);
    else if (a == "--echo-port") o.echo_port = std::stoi(v);
    else if (a == "--opus-complexity") o.opus.complexity = std::stoi(v);
    else if (a == "--playout-lead-ms") o.playout_lead_ms = std::stoi(v);
    else if (a == "--jitter-min-packets") o.jitter_min_packets = std::stoi(v);
    else if (a == "--speech") o.speech = v;
    else if (a == "--steps") {
      std::stringstream ss(v);
      for (std::string s; std::getline(ss, s, ',');) o.steps.push_back(std::stoi(s));
    } else usage();
  }
  if ((o.codec != "opus" && o.codec != "pcmu") || o.far.empty() || o.ramp_cps < 1 || o.seconds < 1) usage();
  if (o.steps.empty()) o.steps = o.codec == "opus" ? std::vector<int>{20, 40, 60, 80, 100, 120, 140, 160}
                                                   : std::vector<int>{250, 500, 1000, 1500, 2000, 2500, 3000};
  if (o.echo_port > 0) {  // before any thread: the child only echoes
    const pid_t child = ::fork();
    if (child == 0) run_echo(o.echo_port);
    if (child < 0) {
      std::perror("fork");
      return 1;
    }
    o.far_pid = child;
    o.far_media_port = o.echo_port;
  }
  rlimit lim{};  // two UDP sockets per call
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &lim);
  }
  auto speech = std::make_shared<const std::vector<std::int16_t>>(mspi::read_audio_file(o.speech));
  if (speech->size() < 4800) {
    std::fprintf(stderr, "speech file too short: %s\n", o.speech.c_str());
    return 1;
  }
  const mspi::opus_config opus_cfg = o.opus;
  const auto raw = measure_raw(*speech, o.codec == "opus", opus_cfg);
  std::printf("codec=%s media_threads=%zu cores=%u playout_lead_ms=%d jitter_min_packets=%d speech=%s (%.2f s looped)\n",
              o.codec.c_str(), o.media_threads, std::thread::hardware_concurrency(), o.playout_lead_ms,
              o.jitter_min_packets, o.speech.c_str(), static_cast<double>(speech->size()) / 48000);
  if (o.codec == "opus")
    std::printf("raw codec: Opus %d bit/s complexity %d, encode+decode = %.3f ms CPU per call-second (%.0f calls/core)\n",
                opus_cfg.bitrate_bps, opus_cfg.complexity, raw.codec_ms, 1000 / raw.codec_ms);
  else
    std::printf("raw codec: G.711 PCMU encode+decode = %.4f ms CPU per call-second; with 48<->8 kHz resampling %.3f ms\n",
                raw.codec_ms, raw.resampled_ms);
  std::printf("%-6s %-9s %-8s %-10s %-11s %-10s %-10s %-6s %-9s %-7s %-10s %-8s %-15s %-10s %s\n", "N", "connected", "window_s",
              "cpu_cores", "ms/call-s", "x_raw", "received", "late", "concealed", "lost", "expected", "far_cpu", "udp_drops(far)", "sent", "verdict");
  std::fflush(stdout);
  int best = 0, unclean_in_a_row = 0;
  double best_ms = 0;
  for (int n : o.steps) {
    const auto r = run(o, n, speech);
    const double call_s = r.window_s * r.connected;
    const double ms_per_call_s = call_s > 0 ? r.cpu_s * 1000 / call_s : 0;
    const double raw_ms = o.codec == "opus" ? raw.codec_ms : raw.resampled_ms;
    const auto expected = static_cast<std::uint64_t>(call_s * 50);
    // Media that falls behind real time (media threads out of CPU) slows both clocks alike without
    // concealing: every call must also have sent and received its 50 packets a second (99.5 %).
    const bool on_time = static_cast<double>(r.sent) >= 0.995 * static_cast<double>(expected) &&
                         static_cast<double>(r.received) >= 0.995 * static_cast<double>(expected);
    const bool clean = r.connected == n && r.late == 0 && r.concealed == 0 && on_time;
    std::printf("%-6d %-9d %-8.2f %-10.2f %-11.3f %-10.1f %-10llu %-6llu %-9llu %-7lld %-10llu %-8.2f %-15s %-10llu %s\n", n, r.connected,
                r.window_s, r.cpu_s / r.window_s, ms_per_call_s, raw_ms > 0 ? ms_per_call_s / raw_ms : 0,
                static_cast<unsigned long long>(r.received), static_cast<unsigned long long>(r.late),
                static_cast<unsigned long long>(r.concealed), static_cast<long long>(r.lost),
                static_cast<unsigned long long>(expected), r.far_cpu_s >= 0 ? r.far_cpu_s / r.window_s : -1.0,
                (std::to_string(r.drops.all) + "(" + std::to_string(r.drops.port) + ")").c_str(),
                static_cast<unsigned long long>(r.sent), clean ? "clean" : "NOT CLEAN");
    std::fflush(stdout);
    if (!clean) {
      if (++unclean_in_a_row == 2) break;
      continue;
    }
    unclean_in_a_row = 0;
    best = n;
    best_ms = ms_per_call_s;
  }
  std::printf("largest N with every call connected, on time, and zero late and concealed frames: %d (%s, %zu media threads)", best,
              o.codec.c_str(), o.media_threads);
  if (best > 0) std::printf("; at that N %.3f ms CPU per call-second -> %.0f calls per core", best_ms, 1000 / best_ms);
  std::printf("\n");
  if (o.echo_port > 0) {
    ::kill(static_cast<pid_t>(o.far_pid), SIGKILL);
    ::waitpid(static_cast<pid_t>(o.far_pid), nullptr, 0);
  }
  return 0;
}
