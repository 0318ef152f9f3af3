// ptapi - portable TAPI
// bench_ice_transport: the measurement behind issue 9's choice between libnice and an ICE of our own
// (the decision and its figures are in include/mspi/ice/ice.hpp). Not a library part; needs libnice-dev.
//
// Two ways for the media thread (an Asio io_context, as mspi::media_pool's threads) to receive RTP-sized
// datagrams and send one back per datagram (the echo stands for the stream's own RTP send):
//   asio:    one Asio UDP socket per stream on the media thread: async_receive_from, then send_to
//            (what rtp_media.hpp does now; an own ICE keeps this path and demultiplexes STUN by the
//            first byte, RFC 7983).
//   libnice: one NiceAgent per stream (RFC 5245 mode, host candidates on 127.0.0.1, ICE completed against a
//            second in-process agent first), all agents on one GMainContext run by its own thread;
//            nice_agent_attach_recv's callback copies the datagram into a handler posted to the media
//            thread's strand, which sends the echo with nice_agent_send (thread-safe, called directly).
// The peer is a pacer thread (plain sockets / the peer agents) that stamps each datagram with
// CLOCK_MONOTONIC; its CPU time is not counted.
//
// Figures per run: CPU time of our threads (the media thread + the GLib thread) per datagram received (ns),
// one-way latency from the peer's send to the media-thread handler (median, p99, µs), heap allocations
// per datagram on our threads (malloc/calloc/realloc, so GLib's g_malloc and C++ operator new both count),
// datagrams lost, and the process's threads.
//
//   build/bin/ptapi_bench_ice_transport [streams=24] [seconds=10] [burst=20000]
// runs a paced test (50 datagrams/s per stream, 172 bytes: 12 RTP + 160 payload) for 1 and `streams`
// streams, and a burst test (`burst` datagrams on one stream, sent back to back) for each way.
#include <boost/asio.hpp>

#include <nice/agent.h>

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// ---- counting malloc (glibc): counts calls made on threads marked with count_this_thread ----
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}
namespace {
// counted_allocs[tag]: allocations on threads tagged 1 (the media thread) or 2 (our GLib thread).
std::atomic<std::uint64_t> counted_allocs[3] = {};
__thread int count_thread = 0;  // initial-exec TLS of the executable: no allocation to reach it
inline void note() noexcept {
  if (count_thread) counted_allocs[count_thread].fetch_add(1, std::memory_order_relaxed);
}
std::uint64_t allocs(int tag) { return counted_allocs[tag].load(std::memory_order_relaxed); }
}  // namespace
extern "C" {
void* malloc(std::size_t n) {
  note();
  return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
  note();
  return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
  note();
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
void* memalign(std::size_t a, std::size_t n) {
  note();
  return __libc_memalign(a, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  note();
  return __libc_memalign(a, n);
}
int posix_memalign(void** p, std::size_t a, std::size_t n) {
  note();
  *p = __libc_memalign(a, n);
  return *p ? 0 : ENOMEM;
}
}

namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t datagram_size = 172;  // 12-byte RTP header + 160 bytes (20 ms of PCMU; Opus is smaller)

std::uint64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t thread_cpu_ns(pthread_t t) {
  clockid_t cid{};
  if (pthread_getcpuclockid(t, &cid) != 0) return 0;
  timespec ts{};
  clock_gettime(cid, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(ts.tv_nsec);
}

int process_threads() {
  int n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Datagram layout after the 12-byte RTP header: stream (4), sequence (4), send time (8, ns).
struct stamp {
  std::uint32_t stream, seq;
  std::uint64_t sent_ns;
};
void write_stamp(std::uint8_t* d, const stamp& s) {
  d[0] = 0x80;  // RTP version 2: first byte 128..191 (RFC 7983's RTP/RTCP range)
  d[1] = 0;     // PT 0
  std::memcpy(d + 12, &s, sizeof s);
}
stamp read_stamp(const std::uint8_t* d) {
  stamp s{};
  std::memcpy(&s, d + 12, sizeof s);
  return s;
}

// What our side records: latencies (preallocated), datagrams received in the window.
struct recorder {
  std::vector<std::uint32_t> latency_ns;  // capacity reserved up front
  std::uint32_t warm_seq = 0;             // datagrams with seq < warm_seq are warm-up (not recorded)
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> window_received{0};
  void on(const std::uint8_t* d, std::uint64_t now) {
    auto s = read_stamp(d);
    received.fetch_add(1, std::memory_order_relaxed);
    if (s.seq < warm_seq) return;
    window_received.fetch_add(1, std::memory_order_relaxed);
    if (latency_ns.size() < latency_ns.capacity())
      latency_ns.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>(now - s.sent_ns, UINT32_MAX)));
  }
};

struct result {
  const char* way;
  std::size_t streams;
  std::uint64_t sent = 0, received = 0;
  double cpu_ns_per_pkt = 0, allocs_per_pkt = 0, median_us = 0, p99_us = 0;
  double glib_cpu_ns_per_pkt = 0, glib_allocs_per_pkt = 0;  // the part of the above on the GLib thread
  int threads = 0;
};

void print(const result& r, const char* test) {
  std::printf("%-6s %-7s streams=%-3zu sent=%-6llu received=%-6llu cpu/pkt=%6.0f ns (GLib thread %6.0f)  "
              "allocs/pkt=%4.2f (GLib thread %4.2f)  latency median=%6.1f us p99=%7.1f us  threads=%d\n",
              test, r.way, r.streams, static_cast<unsigned long long>(r.sent),
              static_cast<unsigned long long>(r.received), r.cpu_ns_per_pkt, r.glib_cpu_ns_per_pkt,
              r.allocs_per_pkt, r.glib_allocs_per_pkt, r.median_us, r.p99_us, r.threads);
}

void percentiles(std::vector<std::uint32_t>& v, result& r) {
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  r.median_us = v[v.size() / 2] / 1000.0;
  r.p99_us = v[std::min(v.size() - 1, v.size() * 99 / 100)] / 1000.0;
}

// The peer's schedule: paced (each stream every 20 ms, streams spread over the 20 ms) or a burst on stream
// 0. `send(stream, data)` sends one datagram. Returns the datagrams sent.
template <class Send>
std::uint64_t run_pacer(std::size_t streams, double seconds, std::uint32_t burst, Send&& send) {
  std::array<std::uint8_t, datagram_size> d{};
  std::uint64_t sent = 0;
  if (burst) {
    for (std::uint32_t i = 0; i < burst; ++i) {
      write_stamp(d.data(), {0, i, mono_ns()});
      send(0, d.data());
      ++sent;
    }
    return sent;
  }
  auto t0 = clock_type::now();
  auto ticks = static_cast<std::uint32_t>(seconds * 50);
  for (std::uint32_t k = 0; k < ticks; ++k)
    for (std::size_t s = 0; s < streams; ++s) {
      std::this_thread::sleep_until(t0 + std::chrono::microseconds(20000 * k + 20000 * s / streams));
      write_stamp(d.data(), {static_cast<std::uint32_t>(s), k, mono_ns()});
      send(s, d.data());
      ++sent;
    }
  return sent;
}

// ---------------------------------------------------------------- (b) Asio sockets on the media thread
struct asio_stream {
  udp::socket socket;
  udp::endpoint from;
  std::array<std::uint8_t, 1500> buffer{};
  recorder* rec;
  // Default socket buffers, as rtp_media.hpp's sockets (and libnice's).
  asio_stream(asio::io_context& io, recorder* r)
      : socket(io, udp::endpoint(asio::ip::address_v4::loopback(), 0)), rec(r) {}
  void arm() {
    socket.async_receive_from(asio::buffer(buffer), from, [this](boost::system::error_code ec, std::size_t n) {
      if (ec) return;
      // An own ICE demultiplexes by the first byte (RFC 7983 §7): 0..3 STUN, 128..191 RTP/RTCP.
      if (n < 20 || buffer[0] < 4) return arm();  // a STUN message would go to the ICE agent here
      rec->on(buffer.data(), mono_ns());
      boost::system::error_code sec;
      socket.send_to(asio::buffer(buffer.data(), n), from, 0, sec);  // the echo: our RTP send
      arm();
    });
  }
};

result run_asio(std::size_t streams, double seconds, std::uint32_t burst) {
  result r{"asio", streams};
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  recorder rec;
  rec.latency_ns.reserve(burst ? burst : static_cast<std::size_t>(seconds * 50 * streams));
  rec.warm_seq = burst ? 0 : 50;  // 1 s warm-up when paced
  std::vector<std::unique_ptr<asio_stream>> ss;
  for (std::size_t i = 0; i < streams; ++i) ss.push_back(std::make_unique<asio_stream>(io, &rec));
  std::vector<int> peers;
  std::vector<sockaddr_in> targets;
  for (auto& s : ss) {
    peers.push_back(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(s->socket.local_endpoint().port());
    targets.push_back(a);
    s->arm();
  }
  std::thread media([&] {
    count_thread = 1;
    io.run();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::uint64_t cpu0 = 0, alloc0 = 0, rx0 = 0;
  auto snapshot = [&] {
    cpu0 = thread_cpu_ns(media.native_handle());
    alloc0 = allocs(1);
  };
  if (burst) snapshot();
  std::thread warm;  // paced: start the window after the 1 s warm-up
  if (!burst) warm = std::thread([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1010));
    snapshot();
    rx0 = rec.received.load();
  });
  r.sent = run_pacer(streams, seconds, burst, [&](std::size_t s, const std::uint8_t* d) {
    ::sendto(peers[s], d, datagram_size, 0, reinterpret_cast<sockaddr*>(&targets[s]), sizeof targets[s]);
  });
  if (warm.joinable()) warm.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the last datagrams arrive
  auto cpu = thread_cpu_ns(media.native_handle()) - cpu0;
  auto n_allocs = allocs(1) - alloc0;
  r.threads = process_threads();
  auto window = rec.received.load() - rx0;
  r.received = rec.received.load();
  r.cpu_ns_per_pkt = window ? double(cpu) / double(window) : 0;
  r.allocs_per_pkt = window ? double(n_allocs) / double(window) : 0;
  guard.reset();
  io.stop();
  media.join();
  for (int p : peers) ::close(p);
  percentiles(rec.latency_ns, r);
  return r;
}

// ---------------------------------------------------------------- (a) libnice agents on a GLib thread
struct glib_thread {
  GMainContext* ctx = g_main_context_new();
  GMainLoop* loop = g_main_loop_new(ctx, FALSE);
  std::thread t;
  explicit glib_thread(bool counted) {
    t = std::thread([this, counted] {
      count_thread = counted ? 2 : 0;
      g_main_context_push_thread_default(ctx);
      g_main_loop_run(loop);
      g_main_context_pop_thread_default(ctx);
    });
  }
  ~glib_thread() {
    g_main_loop_quit(loop);
    t.join();
    g_main_loop_unref(loop);
    g_main_context_unref(ctx);
  }
};

struct nice_side {
  NiceAgent* agent = nullptr;
  guint stream = 0;
  std::atomic<bool> gathered{false}, ready{false};
};

void on_gathered(NiceAgent*, guint, gpointer user) { static_cast<nice_side*>(user)->gathered = true; }
void on_state(NiceAgent*, guint, guint, guint state, gpointer user) {
  if (state == NICE_COMPONENT_STATE_READY) static_cast<nice_side*>(user)->ready = true;
}

void make_agent(nice_side& s, GMainContext* ctx, bool controlling) {
  s.agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_NONE);
  g_object_set(s.agent, "controlling-mode", controlling, "ice-tcp", FALSE, "upnp", FALSE, nullptr);
  NiceAddress lo;
  nice_address_init(&lo);
  nice_address_set_from_string(&lo, "127.0.0.1");
  nice_agent_add_local_address(s.agent, &lo);
  g_signal_connect(s.agent, "candidate-gathering-done", G_CALLBACK(on_gathered), &s);
  g_signal_connect(s.agent, "component-state-changed", G_CALLBACK(on_state), &s);
  s.stream = nice_agent_add_stream(s.agent, 1);
}

void exchange(nice_side& from, nice_side& to) {
  gchar *ufrag = nullptr, *pwd = nullptr;
  nice_agent_get_local_credentials(from.agent, from.stream, &ufrag, &pwd);
  nice_agent_set_remote_credentials(to.agent, to.stream, ufrag, pwd);
  g_free(ufrag);
  g_free(pwd);
  GSList* cands = nice_agent_get_local_candidates(from.agent, from.stream, 1);
  nice_agent_set_remote_candidates(to.agent, to.stream, 1, cands);
  g_slist_free_full(cands, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
}

struct nice_ours {
  nice_side side;
  recorder* rec;
  asio::strand<asio::io_context::executor_type>* strand;
};

// One datagram's copy, captured by the handler posted to the media strand.
struct datagram {
  std::array<std::uint8_t, datagram_size> bytes;
  guint len;
};

void on_ours_recv(NiceAgent* agent, guint stream, guint component, guint len, gchar* buf, gpointer user) {
  auto* o = static_cast<nice_ours*>(user);
  datagram d{};
  d.len = std::min<guint>(len, datagram_size);
  std::memcpy(d.bytes.data(), buf, d.len);
  asio::post(*o->strand, [o, agent, stream, component, d] {
    o->rec->on(d.bytes.data(), mono_ns());
    nice_agent_send(agent, stream, component, d.len, reinterpret_cast<const gchar*>(d.bytes.data()));
  });
}
void on_peer_recv(NiceAgent*, guint, guint, guint, gchar*, gpointer) {}

result run_nice(std::size_t streams, double seconds, std::uint32_t burst) {
  result r{"libnice", streams};
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  auto strand = asio::make_strand(io);
  recorder rec;
  rec.latency_ns.reserve(burst ? burst : static_cast<std::size_t>(seconds * 50 * streams));
  rec.warm_seq = burst ? 0 : 50;
  std::thread media([&] {
    count_thread = 1;
    io.run();
  });
  {
    glib_thread ours_loop(true), peer_loop(false);
    std::vector<std::unique_ptr<nice_ours>> ours;
    std::vector<std::unique_ptr<nice_side>> peers;
    for (std::size_t i = 0; i < streams; ++i) {
      auto o = std::make_unique<nice_ours>();
      o->rec = &rec;
      o->strand = &strand;
      make_agent(o->side, ours_loop.ctx, false);
      auto p = std::make_unique<nice_side>();
      make_agent(*p, peer_loop.ctx, true);
      nice_agent_attach_recv(o->side.agent, o->side.stream, 1, ours_loop.ctx, on_ours_recv, o.get());
      nice_agent_attach_recv(p->agent, p->stream, 1, peer_loop.ctx, on_peer_recv, nullptr);
      nice_agent_gather_candidates(o->side.agent, o->side.stream);
      nice_agent_gather_candidates(p->agent, p->stream);
      ours.push_back(std::move(o));
      peers.push_back(std::move(p));
    }
    auto wait = [](auto pred) {
      for (int i = 0; i < 1000 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      return pred();
    };
    bool ok = wait([&] {
      for (std::size_t i = 0; i < streams; ++i)
        if (!ours[i]->side.gathered || !peers[i]->gathered) return false;
      return true;
    });
    for (std::size_t i = 0; ok && i < streams; ++i) {
      exchange(ours[i]->side, *peers[i]);
      exchange(*peers[i], ours[i]->side);
    }
    ok = ok && wait([&] {
      for (std::size_t i = 0; i < streams; ++i)
        if (!ours[i]->side.ready || !peers[i]->ready) return false;
      return true;
    });
    if (!ok) {
      std::fprintf(stderr, "libnice: ICE did not complete on 127.0.0.1\n");
      std::exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // nomination settles
    std::uint64_t cpu0 = 0, glib_cpu0 = 0, alloc0 = 0, glib_alloc0 = 0, rx0 = 0;
    auto snapshot = [&] {
      cpu0 = thread_cpu_ns(media.native_handle());
      glib_cpu0 = thread_cpu_ns(ours_loop.t.native_handle());
      alloc0 = allocs(1);
      glib_alloc0 = allocs(2);
    };
    if (burst) snapshot();
    std::thread warm;
    if (!burst) warm = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1010));
      snapshot();
      rx0 = rec.received.load();
    });
    r.sent = run_pacer(streams, seconds, burst, [&](std::size_t s, const std::uint8_t* d) {
      nice_agent_send(peers[s]->agent, peers[s]->stream, 1, datagram_size, reinterpret_cast<const gchar*>(d));
    });
    if (warm.joinable()) warm.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto glib_cpu = thread_cpu_ns(ours_loop.t.native_handle()) - glib_cpu0;
    const auto cpu = thread_cpu_ns(media.native_handle()) - cpu0 + glib_cpu;
    const auto glib_allocs = allocs(2) - glib_alloc0;
    const auto n_allocs = allocs(1) - alloc0 + glib_allocs;
    r.threads = process_threads();
    auto window = rec.received.load() - rx0;
    r.received = rec.received.load();
    auto per = [&](double v) { return window ? v / double(window) : 0; };
    r.cpu_ns_per_pkt = per(double(cpu));
    r.glib_cpu_ns_per_pkt = per(double(glib_cpu));
    r.allocs_per_pkt = per(double(n_allocs));
    r.glib_allocs_per_pkt = per(double(glib_allocs));
    // STUN consent/keepalive traffic in the window is included in the CPU figure (it is part of the cost).
    for (auto& o : ours) g_object_unref(o->side.agent);
    for (auto& p : peers) g_object_unref(p->agent);
  }
  guard.reset();
  io.stop();
  media.join();
  percentiles(rec.latency_ns, r);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t streams = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 24;
  double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 10;
  auto burst = static_cast<std::uint32_t>(argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 20000);
  std::printf("bench_ice_transport: %zu-byte datagrams, paced 50/s per stream for %.0f s (1 s warm-up), burst %u; "
              "libnice %s\n",
              datagram_size, seconds, burst, PTAPI_NICE_VERSION " (NICE_COMPATIBILITY_RFC5245)");
  for (std::size_t n : {std::size_t{1}, streams}) {
    print(run_asio(n, seconds, 0), "paced");
    print(run_nice(n, seconds, 0), "paced");
  }
  print(run_asio(1, 0, burst), "burst");
  print(run_nice(1, 0, burst), "burst");
  return 0;
}
