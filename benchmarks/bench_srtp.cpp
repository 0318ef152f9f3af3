// ptapi_bench_srtp: the CPU cost of SRTP (RFC 3711, libsrtp2) per RTP packet, protect + unprotect, for each
// suite the RTP/Opus MSP negotiates, on a packet the size of a 20 ms Opus frame at 24 kbit/s (60-byte
// payload + 12-byte header) and of a 20 ms G.711 frame (160 + 12), and SRTCP on a 60-byte compound
// report. Compare with `ptapi_bench_media_path` (Opus encode + decode per frame): README.md gives both.
#include <mspi/rtp/packet.hpp>
#include <mspi/rtp/srtp.hpp>
#include <mspi/rtp_opus/detail/srtp_negotiation.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

// An outbound and an inbound session of `suite` on one fresh key (the two ends of one direction).
bool start_pair(mspi::srtp_suite suite, mspi::srtp_session& tx, mspi::srtp_session& rx) {
  const auto key = mspi::detail::fresh_crypto(1, suite);
  std::error_code ec;
  tx.start(suite, key.key(), mspi::srtp_direction::outbound, ec);
  if (!ec) rx.start(suite, key.key(), mspi::srtp_direction::inbound, ec);
  return !ec;
}

// One protect then one unprotect of an RTP packet with `payload_bytes`, fresh sequence number each time
// (the replay window would refuse a repeat). range(0): suite index; range(1): payload bytes.
void BM_srtp_rtp(benchmark::State& state) {
  const auto suite = static_cast<mspi::srtp_suite>(state.range(0));
  mspi::srtp_session tx, rx;
  std::error_code ec;
  if (!start_pair(suite, tx, rx)) return state.SkipWithError("libsrtp refused the key");
  std::vector<std::byte> payload(static_cast<std::size_t>(state.range(1)), std::byte{0x5a});
  alignas(8) std::array<std::byte, 1500 + mspi::srtp_session::max_rtp_overhead> packet{};
  std::uint16_t seq = 0;
  std::uint32_t ts = 0;
  for (auto _ : state) {
    const std::size_t plain = mspi::write_rtp(packet, mspi::rtp_header{false, 111, seq++, ts += 960, 0x1234}, payload);
    const std::size_t sealed = tx.protect_rtp(packet, plain, ec);
    const std::size_t opened = rx.unprotect_rtp(packet, sealed, ec);
    if (opened != plain) return state.SkipWithError("unprotect failed");
    benchmark::DoNotOptimize(packet.data());
  }
  state.SetLabel(std::string(mspi::srtp_suite_name(suite)));
}

// One protect then one unprotect of a 60-byte compound RTCP packet (SRTCP, RFC 3711 §3.4).
void BM_srtcp(benchmark::State& state) {
  const auto suite = static_cast<mspi::srtp_suite>(state.range(0));
  mspi::srtp_session tx, rx;
  std::error_code ec;
  if (!start_pair(suite, tx, rx)) return state.SkipWithError("libsrtp refused the key");
  alignas(8) std::array<std::byte, 60 + mspi::srtp_session::max_rtcp_overhead> packet{};
  const std::array<std::byte, 8> header{std::byte{0x81}, std::byte{0xc8}, std::byte{0x00}, std::byte{0x0e},
                                        std::byte{0x00}, std::byte{0x00}, std::byte{0x12}, std::byte{0x34}};
  for (auto _ : state) {
    std::copy(header.begin(), header.end(), packet.begin());
    const std::size_t sealed = tx.protect_rtcp(packet, 60, ec);
    if (rx.unprotect_rtcp(packet, sealed, ec) != 60) return state.SkipWithError("unprotect failed");
    benchmark::DoNotOptimize(packet.data());
  }
  state.SetLabel(std::string(mspi::srtp_suite_name(suite)));
}

}  // namespace

BENCHMARK(BM_srtp_rtp)->ArgNames({"suite", "payload"})->ArgsProduct({{0, 1, 2}, {60, 160}})->Unit(benchmark::kNanosecond);
BENCHMARK(BM_srtcp)->ArgName("suite")->DenseRange(0, 2)->Unit(benchmark::kNanosecond);
BENCHMARK_MAIN();
