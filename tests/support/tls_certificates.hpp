// Throwaway TLS credentials for the SIP over TLS tests, made at test time with the `openssl` command (Debian
// package openssl, scripts/install-deps.sh --tests) in a fresh temporary directory removed at destruction:
// a CA, a server certificate it signs (subjectAltName DNS:localhost, IP:127.0.0.1, URI:sip:localhost), and a
// second CA (the "wrong CA"), a certificate of the first CA's for another host only (subjectAltName
// DNS:sip.example.org: the "wrong name"), and a "rogue" certificate for localhost signed by the wrong CA. Never committed: every run makes new keys.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace ptapi_test {

class tls_certificates {
 public:
  tls_certificates() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("ptapi-tls-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "ext.cnf") << "subjectAltName=DNS:localhost,IP:127.0.0.1,URI:sip:localhost\n";
    std::ofstream(dir_ / "other-ext.cnf") << "subjectAltName=DNS:sip.example.org\n";
    const std::string d = dir_.string();
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    ok_ = run("openssl req -x509" + key + " -keyout " + d + "/ca.key -out " + d + "/ca.crt -days 2 -subj /CN=ptapi-test-ca") &&
          run("openssl req -x509" + key + " -keyout " + d + "/other-ca.key -out " + d + "/other-ca.crt -days 2 -subj /CN=ptapi-other-ca") &&
          run("openssl req" + key + " -keyout " + d + "/server.key -out " + d + "/server.csr -subj /CN=localhost") &&
          run("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d + "/ca.key -CAcreateserial -days 2 -out " +
              d + "/server.crt -extfile " + d + "/ext.cnf") &&
          run("openssl req" + key + " -keyout " + d + "/other.key -out " + d + "/other.csr -subj /CN=localhost") &&
          run("openssl x509 -req -in " + d + "/other.csr -CA " + d + "/ca.crt -CAkey " + d + "/ca.key -CAcreateserial -days 2 -out " +
              d + "/other.crt -extfile " + d + "/other-ext.cnf") &&
          run("openssl req" + key + " -keyout " + d + "/rogue.key -out " + d + "/rogue.csr -subj /CN=localhost") &&
          run("openssl x509 -req -in " + d + "/rogue.csr -CA " + d + "/other-ca.crt -CAkey " + d +
              "/other-ca.key -CAcreateserial -days 2 -out " + d + "/rogue.crt -extfile " + d + "/ext.cnf");
  }
  tls_certificates(const tls_certificates&) = delete;
  tls_certificates& operator=(const tls_certificates&) = delete;
  ~tls_certificates() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Whether every file was made (false: the openssl command is missing or failed).
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::string ca() const { return (dir_ / "ca.crt").string(); }
  [[nodiscard]] std::string other_ca() const { return (dir_ / "other-ca.crt").string(); }
  [[nodiscard]] std::string server_chain() const { return (dir_ / "server.crt").string(); }
  [[nodiscard]] std::string server_key() const { return (dir_ / "server.key").string(); }
  // Signed by the same CA, naming only sip.example.org (its CN "localhost" must not count, RFC 5922 §7.1).
  [[nodiscard]] std::string other_server_chain() const { return (dir_ / "other.crt").string(); }
  [[nodiscard]] std::string other_server_key() const { return (dir_ / "other.key").string(); }
  // Naming localhost like the server's, but signed by the second CA (a client certificate nobody trusts).
  [[nodiscard]] std::string rogue_chain() const { return (dir_ / "rogue.crt").string(); }
  [[nodiscard]] std::string rogue_key() const { return (dir_ / "rogue.key").string(); }

 private:
  static bool run(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()) == 0; }
  std::filesystem::path dir_;
  bool ok_ = false;
};

}  // namespace ptapi_test
