// SIP call-rate benchmark, the UAS side: a TAPI object with sip_tsp and either the signalling-only MSP of
// signalling_msp.hpp (default: no sockets, no media; what the TAPI object + SIP TSP cost) or the real
// rtp_opus_msp (--msp rtp). It answers every call from the call-notification handler and releases each
// call on `disconnected`. benchmarks/sip_rate.sh drives it with SIPp's uac scenario.
//
//   ptapi_bench_sip_rate [--port 5798] [--msp signalling|rtp] [--accounts K] [--seconds N] [--status-ms MS]
//
// K > 1 makes K accounts sip:u0@127.0.0.1 ... sip:u{K-1}@127.0.0.1 (TAPI addresses); a call goes to the
// account named by the Request-URI's user. Each SIP address admits 64 active calls (sip_tsp reports
// LINEADDRESSCAPS::dwMaxNumActiveCalls = 64; the TAPI object answers further calls 480), so holding
// thousands of calls needs many accounts.
//
// Prints `ready port=P` once listening, then a status line every --status-ms and a last one at exit
// (SIGINT/SIGTERM or --seconds):
//   status t_ms=.. offered=.. connected=.. disconnected=.. active=.. answer_errors=.. abnormal=.. rss_kib=..
// `abnormal` counts disconnects whose cause is not `normal`.

// Drives a shipped provider's own members (or pairs one anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "signalling_msp.hpp"

#include <tspi/provider_pair.hpp>
#include <tspi/sip/tsp.hpp>
#include <tspi/tapi.hpp>

#include <mspi/rtp_opus/msp.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

namespace {

std::atomic<bool> stop{false};
extern "C" void on_signal(int) { stop = true; }

long rss_kib() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE) / 1024;
}

struct counters {
  std::atomic<std::uint64_t> offered{0}, connected{0}, disconnected{0}, answer_errors{0}, abnormal{0};
};

void usage() {
  std::fprintf(stderr, "usage: ptapi_bench_sip_rate [--port 5798] [--msp signalling|rtp] [--accounts K] "
                       "[--seconds N] [--status-ms MS]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 5798, accounts = 1, seconds = 600, status_ms = 1000;
  std::string msp = "signalling";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    if (a == "--port") port = std::atoi(v);
    else if (a == "--msp") msp = v;
    else if (a == "--accounts") accounts = std::atoi(v);
    else if (a == "--seconds") seconds = std::atoi(v);
    else if (a == "--status-ms") status_ms = std::atoi(v);
    else usage();
  }
  if (port <= 0 || port > 65535 || accounts < 1 || status_ms < 10 || (msp != "signalling" && msp != "rtp")) usage();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  tspi::sip::sip_config cfg;
  cfg.listen_address = "127.0.0.1";
  cfg.port = static_cast<std::uint16_t>(port);
  cfg.tcp = false;  // SIPp's uac runs over UDP
  if (accounts > 1)
    for (int i = 0; i < accounts; ++i) {
      tspi::sip::sip_account acct;
      acct.aor = "sip:u" + std::to_string(i) + "@127.0.0.1";
      cfg.accounts.push_back(acct);
    }

  counters n;
  tspi::tapi tapi;
  mspi::rtp_opus_config media;
  media.max_calls = 64;  // sip_rate.sh holds 50 G.711 calls per account to measure memory (default: 24 Opus calls)
  if (msp == "rtp") tapi.register_provider<tspi::sip::sip_tsp, mspi::rtp_opus_msp>(cfg, media);
  else tapi.register_provider<tspi::sip::sip_tsp, ptapi_bench::signalling_msp>(cfg, ptapi_bench::signalling_msp_config{});
  tapi.set_event_filter(tspi::tapi_event::call_notification | tspi::tapi_event::call_state);
  tapi.on_call_notification().connect([&n](const tspi::call_notification_event& e) {
    ++n.offered;
    auto c = e.call;
    c.async_answer([&n](std::error_code ec) {
      if (ec) ++n.answer_errors;
    });
  });
  tapi.on_call_state().connect([&n](const tspi::call_state_event& e) {
    if (e.state == tspi::call_state::connected) {
      ++n.connected;
    } else if (e.state == tspi::call_state::disconnected) {
      ++n.disconnected;
      if (e.cause != tspi::call_state_cause::disconnect_normal) ++n.abnormal;
      auto c = e.call;
      std::error_code ec;
      c.release(ec);
    }
  });
  std::error_code ec;
  tapi.initialize(ec);
  if (ec) {
    std::printf("initialize failed: %s\n", ec.message().c_str());
    return 1;
  }
  for (auto& a : tapi.addresses()) tapi.register_call_notifications(a);
  std::printf("ready port=%d msp=%s accounts=%d rss_kib=%ld\n", port, msp.c_str(), accounts, rss_kib());
  std::fflush(stdout);

  const auto t0 = std::chrono::steady_clock::now();
  auto next = t0;
  auto status = [&] {
    const auto t = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    const auto off = n.offered.load(), dis = n.disconnected.load();
    std::printf("status t_ms=%lld offered=%llu connected=%llu disconnected=%llu active=%lld answer_errors=%llu "
                "abnormal=%llu rss_kib=%ld\n",
                static_cast<long long>(t), static_cast<unsigned long long>(off),
                static_cast<unsigned long long>(n.connected.load()), static_cast<unsigned long long>(dis),
                static_cast<long long>(off) - static_cast<long long>(dis),
                static_cast<unsigned long long>(n.answer_errors.load()),
                static_cast<unsigned long long>(n.abnormal.load()), rss_kib());
    std::fflush(stdout);
  };
  while (!stop && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(seconds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (std::chrono::steady_clock::now() >= next) {
      status();
      next += std::chrono::milliseconds(status_ms);
    }
  }
  status();
  tapi.shutdown();
  return 0;
}
