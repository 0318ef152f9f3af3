// ptapi - portable TAPI
// tspi/sip/transport/tls_error.hpp: why a SIP over TLS connection failed (RFC 3261 §26.2, RFC 5922): the
// server's certificate not trusted (OpenSSL's X.509 verification result) or not naming the SIP domain.
#pragma once

#include <openssl/x509_vfy.h>

#include <string>
#include <system_error>
#include <type_traits>

namespace tspi::sip {

/// TLS failures the SIP transport finds itself (the others are OpenSSL's, in Boost.Asio's SSL category).
enum class tls_errc {
  identity_mismatch = 1,  ///< The server's certificate chain is trusted but names another host (RFC 5922 §7).
  not_configured,         ///< TLS is not usable: a certificate, key or CA file could not be loaded.
};

namespace detail {

class tls_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tspi.sip.tls"; }
  std::string message(int v) const override {
    switch (static_cast<tls_errc>(v)) {
      case tls_errc::identity_mismatch: return "TLS: the server's certificate does not name the SIP domain (RFC 5922)";
      case tls_errc::not_configured: return "TLS is not usable: a certificate, key or CA file could not be loaded";
    }
    return "TLS error";
  }
};

// The X.509 verification results (X509_V_ERR_*, from SSL_get_verify_result), worded by OpenSSL.
class tls_certificate_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tspi.sip.tls_certificate"; }
  std::string message(int v) const override {
    return std::string("TLS: server certificate not accepted: ") + X509_verify_cert_error_string(v);
  }
};

}  // namespace detail

/// The category of `tls_errc`. Thread safety: safe (a static object).
inline const std::error_category& tls_category() noexcept {
  static const detail::tls_category_impl c;
  return c;
}

/// The category of certificate verification failures: the value is OpenSSL's X509_V_ERR_* code (RFC 5280
/// path validation: "unable to get local issuer certificate", "certificate has expired"...), the message
/// OpenSSL's text for it. Thread safety: safe.
inline const std::error_category& tls_certificate_category() noexcept {
  static const detail::tls_certificate_category_impl c;
  return c;
}

/// `e` as a std::error_code of `tls_category()`.
inline std::error_code make_error_code(tls_errc e) noexcept { return {static_cast<int>(e), tls_category()}; }

}  // namespace tspi::sip

template <>
struct std::is_error_code_enum<tspi::sip::tls_errc> : std::true_type {};
