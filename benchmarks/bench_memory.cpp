// Steady-state memory per active RTP/Opus call: N calls made through the MSP directly
// (rtp_opus_msp::initialize with an empty signal, then create_msp_call N times). Heap bytes come from a
// counting global allocator (live-bytes delta / N); RSS from /proc/self/statm.
//   ./build/bin/ptapi_bench_memory [N=50]
#define PTAPI_DEFINE_COUNTING_ALLOCATOR
// Drives a shipped provider's own members (or pairs one anew): their full definitions (ptapi/config.hpp).
#define PTAPI_PROVIDER_DEFINITIONS
#include <support/counting_allocator.hpp>

#include <mspi/rtp_opus/msp.hpp>

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <vector>

namespace {
long rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}
}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 50;
  mspi::rtp_opus_msp msp;
  std::error_code ec;
  msp.initialize(mspi::msp_context{.address_name = "bench"}, ec);
  if (ec) return 1;
  std::vector<std::shared_ptr<mspi::rtp_opus_call>> calls;
  calls.reserve(static_cast<std::size_t>(n));
  {  // one call made and dropped first, so one-time allocations (categories, Asio services) are not counted
    auto warm = msp.create_msp_call(1, mspi::media_type::audio, ec);
    msp.shutdown_msp_call(warm);
  }
  const auto heap0 = ptapi_test::live_bytes();
  const auto allocs0 = ptapi_test::all_allocations();
  const long rss0 = rss_bytes();
  const auto malloc0 = ::mallinfo2().uordblks;  // every malloc, including libopus's own (not operator new)
  for (int i = 0; i < n; ++i) {
    calls.push_back(msp.create_msp_call(static_cast<mspi::msp_handle>(100 + i), mspi::media_type::audio, ec));
    if (ec) {
      std::printf("create_msp_call failed: %s\n", ec.message().c_str());
      return 1;
    }
  }
  const auto heap1 = ptapi_test::live_bytes();
  const long rss1 = rss_bytes();
  const auto malloc1 = ::mallinfo2().uordblks;
  std::printf("calls: %d\n", n);
  std::printf("heap live bytes delta: %lld total, %.1f bytes/call (%.2f KiB/call), %.1f allocations/call\n",
              static_cast<long long>(heap1 - heap0), double(heap1 - heap0) / n, double(heap1 - heap0) / n / 1024.0,
              double(ptapi_test::all_allocations() - allocs0) / n);
  std::printf("malloc in-use delta (mallinfo2, includes libopus state): %zu total, %.1f bytes/call (%.2f KiB/call)\n",
              malloc1 - malloc0, double(malloc1 - malloc0) / n, double(malloc1 - malloc0) / n / 1024.0);
  std::printf("sizeof(rtp_media) %zu, sizeof(rtp_opus_call) %zu, jitter buffer storage %zu bytes\n",
              sizeof(mspi::detail::rtp_media), sizeof(mspi::rtp_opus_call),
              mspi::detail::rtp_media::jitter_capacity_packets * mspi::detail::rtp_media::max_payload_bytes);
  std::printf("mspi::opus_state_bytes(): %zu bytes (%.2f KiB)\n", mspi::opus_state_bytes(),
              double(mspi::opus_state_bytes()) / 1024.0);
  std::printf("RSS delta: %ld bytes total, %.1f bytes/call (%.2f KiB/call)\n", rss1 - rss0, double(rss1 - rss0) / n,
              double(rss1 - rss0) / n / 1024.0);
  for (auto& c : calls) msp.shutdown_msp_call(c);
  calls.clear();
  msp.shutdown();
}
