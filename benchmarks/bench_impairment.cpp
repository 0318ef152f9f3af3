// Speech through the impairment relay: one RTP/Opus call per network condition (seeded), judged by
// 1-second windows; prints the table of benchmarks/README.md. A Catch2 program only because the call
// helpers it shares with tests/mspi/impairment.cpp report setup failures with Catch2's REQUIRE.
#define CATCH_CONFIG_MAIN
// Drives a shipped provider's own members (or pairs one anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include "mspi/impaired_call.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

TEST_CASE("impairment table") {
  struct condition {
    const char* name;
    ptapi_test::impairment imp;
  };
  auto with = [](double loss, bool jitter) {
    ptapi_test::impairment i;
    i.loss_percent = loss;
    if (jitter) {
      i.delay_min = 20ms;
      i.delay_max = 60ms;
    }
    return i;
  };
  ptapi_test::impairment burst = with(0, true);
  burst.burst_p_percent = 2.5;  // Gilbert-Elliott: mean good run 40 packets, mean burst 4: about 9 % lost
  burst.burst_r_percent = 25;
  const condition conditions[] = {
      {"clean", with(0, false)},
      {"jitter 20-60 ms", with(0, true)},
      {"5 % random + jitter", with(5, true)},
      {"10 % random + jitter", with(10, true)},
      {"20 % random + jitter", with(20, true)},
      {"G-E burst (p 2.5 %, r 25 %) + jitter", burst},
  };
  const auto speech = ptapi_test::alsa_speech(10);
  std::printf("| condition | median | worst tenth | loss (relay) | concealed | FEC-recovered | late | jitter buffer now / max | lag range, steps |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& c : conditions) {
    const auto r = ptapi_test::run_impaired_call(c.imp, 1234, speech);
    const auto& j = r.judge;
    const double loss = r.a_to_b.rtp_received ? 100.0 * static_cast<double>(r.a_to_b.rtp_dropped) /
                                                    static_cast<double>(r.a_to_b.rtp_received)
                                              : 0.0;
    std::printf("| %s | %.3f | %.3f | %.1f %% (%llu/%llu) | %llu | %llu | %llu | %d / %d ms | %.1f..%.1f ms, %d |\n",
                c.name, j.median_correlation, j.worst_tenth_correlation, loss, static_cast<unsigned long long>(r.a_to_b.rtp_dropped),
                static_cast<unsigned long long>(r.a_to_b.rtp_received), static_cast<unsigned long long>(r.rx.concealed),
                static_cast<unsigned long long>(r.rx.fec_recovered), static_cast<unsigned long long>(r.rx.late),
                r.rx.jitter_buffer_ms, r.max_jitter_buffer_ms, static_cast<double>(j.min_lag_samples) / 48.0,
                static_cast<double>(j.max_lag_samples) / 48.0, j.lag_steps);
    std::fprintf(stderr, "%s: %s\n", c.name, ptapi_test::describe(r).c_str());
    std::fflush(stdout);
  }
}
