// Debian's coturn run by a test as a plain STUN server on 127.0.0.1:<port> and [::1]:<port> (no TLS/DTLS, no
// CLI, its files in a temporary directory), relay ports <port>+1..<port>+9 (unused with --stun-only), stopped
// at destruction. Each test file passes its own port range.
#pragma once

#include "support/child_process.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

namespace ptapi_test {

// coturn's server binary, or nullopt when the package is not installed.
inline std::optional<std::string> find_turnserver() { return find_program({"/usr/bin/turnserver", "/usr/sbin/turnserver"}); }

struct coturn {
  coturn(const std::string& path, std::uint16_t port)
      : dir(std::filesystem::temp_directory_path() / ("ptapi-coturn-" + std::to_string(::getpid()) + "-" + std::to_string(port))),
        made(std::filesystem::create_directories(dir)),
        process({path, "-n", "--listening-ip=127.0.0.1", "--listening-ip=::1", "--relay-ip=127.0.0.1",
                 "--listening-port=" + std::to_string(port), "--min-port=" + std::to_string(port + 1),
                 "--max-port=" + std::to_string(port + 9), "--no-tls", "--no-dtls", "--no-tcp", "--no-cli",
                 "--stun-only", "--pidfile=" + (dir / "pid").string(), "--userdb=" + (dir / "turndb").string(),
                 "--log-file=stdout"},
                port) {}
  coturn(const coturn&) = delete;
  coturn& operator=(const coturn&) = delete;
  ~coturn() {
    process.stop();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::filesystem::path dir;
  bool made;  // created before coturn starts (members are initialized in this order)
  child_process process;
};

}  // namespace ptapi_test
