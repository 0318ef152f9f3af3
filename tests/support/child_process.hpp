// A peer program (dnsmasq, coturn...) run by a test: found among installed paths, started with fork/execv
// with its output discarded, waited for until it has bound a UDP port on the loopback address, and stopped
// with SIGTERM at destruction (Linux: /proc/net/udp tells when the port is bound).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace ptapi_test {

// The first of `paths` that exists, or nullopt (the program is not installed).
inline std::optional<std::string> find_program(std::initializer_list<const char*> paths) {
  for (const char* p : paths)
    if (std::filesystem::exists(p)) return p;
  return std::nullopt;
}

// Whether a UDP socket is bound to 127.0.0.1:port (or, with `v6`, [::1]:port), from /proc/net/udp(6).
inline bool udp_bound(std::uint16_t port, bool v6 = false) {
  char needle[48];
  std::snprintf(needle, sizeof needle, "%s:%04X", v6 ? "00000000000000000000000001000000" : "0100007F", port);
  std::ifstream in(v6 ? "/proc/net/udp6" : "/proc/net/udp");
  const std::string table((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return table.find(needle) != std::string::npos;
}

// `args[0]` run with `args` (stdout and stderr to /dev/null); the constructor returns once 127.0.0.1:`port`
// is bound over UDP, or after 5 s (the test then fails on what it checks). Stopped (SIGTERM, waited for) by
// stop() or the destructor.
class child_process {
 public:
  child_process(std::vector<std::string> args, std::uint16_t port) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !udp_bound(port); ++i) ::usleep(10000);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() { stop(); }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace ptapi_test
