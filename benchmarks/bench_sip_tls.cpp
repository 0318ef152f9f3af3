// SIP over TLS handshake cost (issue 10): fresh TLS connections between two `tspi::sip::transport`s on one
// thread (client and server in the same io_context, so one core does both ends), each carrying one SIP
// OPTIONS request. Certificates: a throwaway ECDSA P-256 CA and server certificate made with the `openssl`
// command (tests/support/tls_certificates.hpp); the client verifies the chain and the RFC 5922 identity.
//
//   ptapi_bench_sip_tls [--handshakes N]   (default 2000; after 50 warm-up handshakes)
//
// Prints: full handshakes per second of wall time (both ends on one thread), CPU µs per handshake (user +
// system, both ends together), the same for resumed handshakes (one client transport reconnecting: its
// cached session, RFC 8446 §2.2), the same for plain TCP connections as the baseline, and the CPU cost of constructing
// a client transport (its SSL_CTX and CA file load, paid by every iteration above; once per provider in use),
// with the per-connection figures net of it.
#include <tspi/sip/transport.hpp>

#include "support/tls_certificates.hpp"

#include <boost/asio/io_context.hpp>

#include <openssl/ssl.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace sip = tspi::sip;
using namespace std::chrono_literals;

namespace {

double cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

const char* options_text =
    "OPTIONS sip:bench@localhost SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKbench\r\n"
    "From: <sip:a@localhost>;tag=1\r\nTo: <sip:bench@localhost>\r\nCall-ID: bench\r\nCSeq: 1 OPTIONS\r\n"
    "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

struct result {
  double per_second = 0, cpu_us = 0;
  std::uint64_t failures = 0;
};

// `n` connections of `protocol`, one after the other: a new client transport each (a new connection and,
// for TLS, a full handshake), one request delivered, then the client transport destroyed.
result run(boost::asio::io_context& io, sip::transport& server, const sip::transport_config& client_cfg, sip::transport_protocol protocol,
           int n) {
  const auto to = *server.local(protocol);
  std::uint64_t received = 0;
  server.on_message = [&](sip::message&&, const sip::peer&) { ++received; };
  result r;
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < n; ++i) {
    sip::transport client(io.get_executor(), client_cfg);
    bool failed = false;
    client.on_error = [&](const sip::peer&, std::error_code ec) {
      failed = true;
      std::fprintf(stderr, "error: %s\n", ec.message().c_str());
    };
    client.set_tls_server_name(to, "localhost");
    const auto want = received + 1;
    client.send_text(to, std::string_view(options_text));
    while (received < want && !failed) io.run_one_for(1s);
    r.failures += failed;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  r.per_second = n / wall;
  r.cpu_us = (cpu_seconds() - cpu0) / n * 1e6;
  io.poll();  // closes of the last connection
  return r;
}

// `n` connections over one client transport, one after the other, each closed (close_notify) once its
// request arrived: after the first, each resumes the TLS session cached by the client (RFC 8446 §2.2 PSK
// ticket, one use each, a fresh ticket per connection). `resumed` counts those that did.
result run_resumed(boost::asio::io_context& io, sip::transport& server, const sip::transport_config& client_cfg, int n,
                   std::uint64_t& resumed) {
  const auto to = *server.local(sip::transport_protocol::tls);
  std::uint64_t received = 0;
  server.on_message = [&](sip::message&&, const sip::peer&) { ++received; };
  sip::transport client(io.get_executor(), client_cfg);
  bool failed = false;
  client.on_error = [&](const sip::peer&, std::error_code ec) {
    failed = true;
    std::fprintf(stderr, "error: %s\n", ec.message().c_str());
  };
  client.set_tls_server_name(to, "localhost");
  result r;
  const auto resumed0 = client.stats().tls_sessions_resumed;
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < n && !failed; ++i) {
    const auto want = received + 1;
    client.send_text(to, std::string_view(options_text));
    while (received < want && !failed) io.run_one_for(1s);
    io.poll();  // the session ticket that follows the handshake
    client.close_connection(to);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  r.failures = failed;
  r.per_second = n / wall;
  r.cpu_us = (cpu_seconds() - cpu0) / n * 1e6;
  resumed = client.stats().tls_sessions_resumed - resumed0;
  io.poll();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 2000;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--handshakes") == 0) n = std::atoi(argv[++i]);
  ptapi_test::tls_certificates certs;
  if (!certs.ok()) {
    std::fprintf(stderr, "the openssl command could not make the test certificates\n");
    return 1;
  }
  boost::asio::io_context io;
  sip::transport_config server_cfg;
  server_cfg.tls.certificate_chain_file = certs.server_chain();
  server_cfg.tls.private_key_file = certs.server_key();
  server_cfg.max_tcp_connections_per_source = 0;
  sip::transport server(io.get_executor(), server_cfg);
  std::error_code ec;
  const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  server.listen(sip::transport_protocol::tls, loopback, 0, ec);
  if (!ec) server.listen(sip::transport_protocol::tcp, loopback, 0, ec);
  if (ec) {
    std::fprintf(stderr, "listen: %s\n", ec.message().c_str());
    return 1;
  }
  sip::transport_config client_cfg;
  client_cfg.tls.ca_file = certs.ca();
  (void)run(io, server, client_cfg, sip::transport_protocol::tls, 50);  // warm-up
  const auto tls = run(io, server, client_cfg, sip::transport_protocol::tls, n);
  std::uint64_t resumed = 0;
  (void)run_resumed(io, server, client_cfg, 50, resumed);  // warm-up
  const auto tls_resumed = run_resumed(io, server, client_cfg, n, resumed);
  const auto tcp = run(io, server, client_cfg, sip::transport_protocol::tcp, n);
  const double cpu0 = cpu_seconds();
  for (int i = 0; i < n; ++i) sip::transport t(io.get_executor(), client_cfg);
  const double construct_us = (cpu_seconds() - cpu0) / n * 1e6;
  std::printf("%s, ECDSA P-256 server certificate, chain + RFC 5922 name verified, %d connections each\n",
              OpenSSL_version(OPENSSL_VERSION), n);
  std::printf("TLS:          %.0f handshakes/s on one thread (both ends), %.0f us CPU per handshake (both ends), %llu failures\n",
              tls.per_second, tls.cpu_us, static_cast<unsigned long long>(tls.failures));
  std::printf("TLS resumed:  %.0f handshakes/s on one thread (both ends), %.0f us CPU per handshake (both ends), %llu of %d "
              "resumed (one client transport, each connection closed with close_notify), %llu failures\n",
              tls_resumed.per_second, tls_resumed.cpu_us, static_cast<unsigned long long>(resumed), n,
              static_cast<unsigned long long>(tls_resumed.failures));
  std::printf("TCP baseline: %.0f connections/s, %.0f us CPU per connection + message, %llu failures\n",
              tcp.per_second, tcp.cpu_us, static_cast<unsigned long long>(tcp.failures));
  std::printf("client transport construction (SSL_CTX, CA file): %.0f us CPU; net of it: TLS %.0f us, TCP %.0f us CPU per connection\n",
              construct_us, tls.cpu_us - construct_us, tcp.cpu_us - construct_us);
  const auto st = server.stats();
  std::printf("server: %llu TLS handshakes, %llu failures, %llu messages\n", static_cast<unsigned long long>(st.tls_handshakes),
              static_cast<unsigned long long>(st.tls_handshake_failures), static_cast<unsigned long long>(st.received));
  return tls.failures + tls_resumed.failures + tcp.failures == 0 ? 0 : 1;
}
