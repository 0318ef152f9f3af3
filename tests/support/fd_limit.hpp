// Descriptor helpers for tests that make a process run short of file descriptors (Linux).
#pragma once

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <filesystem>

namespace ptapi_test {

// Descriptors open in this process, counted in /proc/self/fd as the RTP/Opus MSP counts them.
inline long open_descriptors() {
  long n = -1;  // the directory's own descriptor
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Lowers RLIMIT_NOFILE's soft limit to `limit` for its lifetime (the whole process: ctest runs each test
// case in a process of its own). A test case that uses it must have "running out of descriptors" in its
// name: .ci/run leaves such cases out of the sanitizer stages, whose runtimes need descriptors of their own
// (UBSan's vptr check opens a pipe to probe memory; with EMFILE it reports every object's vptr as invalid).
struct soft_fd_limit {
  rlimit saved{};
  explicit soft_fd_limit(long limit) {
    ::getrlimit(RLIMIT_NOFILE, &saved);
    rlimit lowered = saved;
    lowered.rlim_cur = static_cast<rlim_t>(limit);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  }
  soft_fd_limit(const soft_fd_limit&) = delete;
  soft_fd_limit& operator=(const soft_fd_limit&) = delete;
  ~soft_fd_limit() { ::setrlimit(RLIMIT_NOFILE, &saved); }
};

}  // namespace ptapi_test
