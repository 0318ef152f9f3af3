// ptapi - portable TAPI
// mspi/rtp/dtls_certificate.hpp: the self-signed certificate DTLS-SRTP presents (RFC 5763 §5): an EC
// P-256 key and X.509 certificate made in memory with OpenSSL, and its `a=fingerprint`.
#pragma once

#include <mspi/sdp_dtls.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

namespace mspi {

/// Why DTLS-SRTP failed (category "dtls"). The streams' `stream_fail` events and the MSP's `media_error`
/// carry these. Source: RFC 5763/5764.
enum class dtls_errc {
  certificate_failed = 1,  ///< OpenSSL could not make the key or the certificate.
  handshake_failed,        ///< The DTLS handshake failed (alerts, no common SRTP profile, too many attempts).
  handshake_timeout,       ///< The handshake did not complete in time (`dtls_transport::handshake_timeout`).
  fingerprint_mismatch,    ///< The peer's certificate matches none of its SDP `a=fingerprint` lines (RFC 5763 §5).
  no_srtp_profile,         ///< The handshake agreed on no `use_srtp` profile (RFC 5764 §4.1.2).
};

/// The error category of `dtls_errc`. Thread safety: safe from any thread.
inline const std::error_category& dtls_category() noexcept {
  struct category final : std::error_category {
    [[nodiscard]] const char* name() const noexcept override { return "dtls"; }
    [[nodiscard]] std::string message(int v) const override {
      switch (static_cast<dtls_errc>(v)) {
        case dtls_errc::certificate_failed: return "DTLS-SRTP: the certificate could not be made";
        case dtls_errc::handshake_failed: return "DTLS-SRTP: the handshake failed";
        case dtls_errc::handshake_timeout: return "DTLS-SRTP: the handshake did not complete in time";
        case dtls_errc::fingerprint_mismatch: return "DTLS-SRTP: the peer's certificate does not match its a=fingerprint";
        case dtls_errc::no_srtp_profile: return "DTLS-SRTP: no common SRTP protection profile";
      }
      return "DTLS-SRTP error " + std::to_string(v);
    }
  };
  static const category c;
  return c;
}

/// Makes a `dtls_errc` an error_code of `dtls_category`. Never throws.
inline std::error_code make_error_code(dtls_errc e) noexcept { return {static_cast<int>(e), dtls_category()}; }

}  // namespace mspi

template <>
struct std::is_error_code_enum<mspi::dtls_errc> : std::true_type {};

namespace mspi {

/// The fingerprint of certificate `cert` with `hash` (RFC 8122 §5: the hash of its DER form), or nullopt
/// when OpenSSL fails. Never throws. Thread safety: safe on distinct or unmodified certificates.
inline std::optional<sdp_fingerprint> certificate_fingerprint(const X509* cert, fingerprint_hash hash) noexcept {
  const EVP_MD* md = hash == fingerprint_hash::sha_1     ? EVP_sha1()
                     : hash == fingerprint_hash::sha_256 ? EVP_sha256()
                     : hash == fingerprint_hash::sha_384 ? EVP_sha384()
                                                         : EVP_sha512();
  sdp_fingerprint f;
  f.hash = hash;
  unsigned int n = 0;
  if (!cert || X509_digest(cert, md, reinterpret_cast<unsigned char*>(f.digest.data()), &n) != 1 ||
      n != fingerprint_hash_bytes(hash))
    return std::nullopt;
  return f;
}

/// A self-signed certificate for DTLS-SRTP (RFC 5763 §5: the fingerprint in the SDP authenticates it, so
/// no CA is involved): an EC P-256 key, an X.509 v3 certificate with CN "ptapi", a random 64-bit serial,
/// valid from a day ago for 30 days, signed with ECDSA-SHA256; held in memory only, never written to
/// disk. The RTP/Opus MSP makes one per MSP instance (address) at `initialize` when DTLS-SRTP is
/// configured, shared by its calls.
///
/// @par Thread Safety
/// Immutable after `generate`: safe to share between threads.
class dtls_certificate {
 public:
  /// Makes a key and certificate. Errors: `dtls_errc::certificate_failed` when OpenSSL fails (null then).
  /// Throws only std::bad_alloc.
  static std::shared_ptr<const dtls_certificate> generate(std::error_code& ec) {
    auto c = std::shared_ptr<dtls_certificate>(new dtls_certificate());
    if (!c->make()) {
      ec = dtls_errc::certificate_failed;
      return nullptr;
    }
    ec.clear();
    return c;
  }
  /// As above; @throws std::system_error on failure.
  static std::shared_ptr<const dtls_certificate> generate() {
    std::error_code ec;
    auto c = generate(ec);
    if (ec) throw std::system_error(ec);
    return c;
  }

  dtls_certificate(const dtls_certificate&) = delete;
  dtls_certificate& operator=(const dtls_certificate&) = delete;
  ~dtls_certificate() {
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }

  /// The private key (owned here; for SSL_use_PrivateKey). Never throws.
  [[nodiscard]] EVP_PKEY* key() const noexcept { return key_; }
  /// The certificate (owned here; for SSL_use_certificate). Never throws.
  [[nodiscard]] X509* x509() const noexcept { return cert_; }
  /// Its SHA-256 fingerprint, as our SDP's `a=fingerprint` carries it (RFC 8122 §5). Never throws.
  [[nodiscard]] const sdp_fingerprint& fingerprint() const noexcept { return fingerprint_; }

 private:
  dtls_certificate() = default;

  bool make() noexcept {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    if (!key_ || !cert_) return false;
    std::uint64_t serial = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1) return false;
    serial &= 0x7fffffffffffffffULL;  // a positive INTEGER (RFC 5280 §4.1.2.2)
    X509_NAME* name = X509_get_subject_name(cert_);
    return X509_set_version(cert_, 2) == 1 && ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert_), serial) == 1 &&
           X509_gmtime_adj(X509_getm_notBefore(cert_), -86400) && X509_gmtime_adj(X509_getm_notAfter(cert_), 30L * 86400) &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("ptapi"), -1, -1, 0) == 1 &&
           X509_set_issuer_name(cert_, name) == 1 && X509_set_pubkey(cert_, key_) == 1 &&
           X509_sign(cert_, key_, EVP_sha256()) > 0 && set_fingerprint();
  }
  bool set_fingerprint() noexcept {
    auto f = certificate_fingerprint(cert_, fingerprint_hash::sha_256);
    if (f) fingerprint_ = *f;
    return f.has_value();
  }

  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  sdp_fingerprint fingerprint_;
};

}  // namespace mspi
