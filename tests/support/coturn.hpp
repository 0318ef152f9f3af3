// Debian's coturn run by a test on 127.0.0.1:<port>, as a plain STUN server (also on [::1]) or a TURN server
// with test credentials (no TLS/DTLS/TCP, no CLI, its files in a temporary directory), relay ports from
// <port>+1, stopped at destruction. Each test file passes its own port range.
#pragma once

#include "support/child_process.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace ptapi_test {

// coturn's server binary, or nullopt when the package is not installed.
inline std::optional<std::string> find_turnserver() { return find_program({"/usr/bin/turnserver", "/usr/sbin/turnserver"}); }

struct coturn {
  /// coturn on 127.0.0.1:`port` with relay ports `port`+1..`port`+`relays`; `options` say what kind of
  /// server it is (`stun_only()`, the default, or `turn_user()`) plus anything a test adds.
  coturn(const std::string& path, std::uint16_t port, std::vector<std::string> options = stun_only(), std::uint16_t relays = 9)
      : dir(std::filesystem::temp_directory_path() / ("ptapi-coturn-" + std::to_string(::getpid()) + "-" + std::to_string(port))),
        made(std::filesystem::create_directories(dir)),
        process(arguments(path, port, relays, std::move(options)), port) {}
  /// A plain STUN server, also on [::1]:`port`.
  static std::vector<std::string> stun_only() { return {"--listening-ip=::1", "--stun-only"}; }
  /// A TURN server with the long-term credentials u/p in realm ptapi.test, relaying to loopback peers
  /// (coturn refuses them by default).
  static std::vector<std::string> turn_user() {
    return {"--lt-cred-mech", "--user=u:p", "--realm=ptapi.test", "--allow-loopback-peers"};
  }
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

 private:
  std::vector<std::string> arguments(const std::string& path, std::uint16_t port, std::uint16_t relays,
                                     std::vector<std::string> options) const {
    std::vector<std::string> a{path, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                               "--listening-port=" + std::to_string(port), "--min-port=" + std::to_string(port + 1),
                               "--max-port=" + std::to_string(port + relays), "--no-tls", "--no-dtls", "--no-tcp",
                               "--no-cli", "--pidfile=" + (dir / "pid").string(), "--userdb=" + (dir / "turndb").string(),
                               "--log-file=stdout"};
    a.insert(a.end(), options.begin(), options.end());
    return a;
  }
};

}  // namespace ptapi_test
