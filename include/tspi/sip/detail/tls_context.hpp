// ptapi - portable TAPI
// tspi/sip/detail/tls_context.hpp: the OpenSSL contexts of the SIP transport's TLS side (RFC 3261 §26.2,
// TLS 1.2 minimum, client certificates, session resumption) and the server identity check of RFC 5922 §7.
#pragma once

#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/detail/tls_session_cache.hpp>
#include <tspi/sip/transport/config.hpp>
#include <tspi/sip/transport/tls_error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace tspi::sip::detail {

namespace ssl = boost::asio::ssl;

// A TLS context with TLS 1.2 as the lowest version and no compression (CRIME).
inline std::unique_ptr<ssl::context> base_tls_context(ssl::context::method m) {
  auto ctx = std::make_unique<ssl::context>(m);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  return ctx;
}

// Loads our certificate chain and key into `ctx` (both files must be given). Errors: OpenSSL's, in `ec`.
inline void load_identity(ssl::context& ctx, const tls_config& cfg, boost::system::error_code& ec) {
  ctx.use_certificate_chain_file(cfg.certificate_chain_file, ec);
  if (!ec) ctx.use_private_key_file(cfg.private_key_file, ssl::context::pem, ec);
}

// Loads the CAs that verify peers' chains into `ctx`: `ca_file`, `ca_path`, else the default store.
inline void load_trust(ssl::context& ctx, const tls_config& cfg, boost::system::error_code& ec) {
  if (!ec && !cfg.ca_file.empty()) ctx.load_verify_file(cfg.ca_file, ec);
  if (!ec && !cfg.ca_path.empty()) ctx.add_verify_path(cfg.ca_path, ec);
  if (!ec && cfg.ca_file.empty() && cfg.ca_path.empty()) ctx.set_default_verify_paths(ec);
}

/// The context of outgoing TLS connections: the server's chain verified against `ca_file`/`ca_path` or
/// the default trust store (unless `insecure_skip_verification`), our certificate offered when one is
/// configured (client authentication), and new sessions passed to `sessions` (kept by the transport for
/// resumption; no internal store). nullptr and `ec` = tls_errc::not_configured when a file does not load.
inline std::unique_ptr<ssl::context> make_client_tls_context(const tls_config& cfg, tls_session_cache& sessions,
                                                            std::error_code& ec) {
  auto ctx = base_tls_context(ssl::context::tls_client);
  boost::system::error_code bec;
  if (cfg.insecure_skip_verification) {
    ctx->set_verify_mode(ssl::verify_none, bec);
  } else {
    ctx->set_verify_mode(ssl::verify_peer, bec);
    load_trust(*ctx, cfg, bec);
  }
  if (!bec && !cfg.certificate_chain_file.empty() && !cfg.private_key_file.empty()) load_identity(*ctx, cfg, bec);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_set_ex_data(native, tls_session_cache::context_slot(), &sessions);
  SSL_CTX_sess_set_new_cb(native, &tls_session_cache::on_new_session);
  if (bec) {
    ec = tls_errc::not_configured;
    return nullptr;
  }
  return ctx;
}

/// The context of accepted TLS connections: our chain and key; with `client_certificates` optional or
/// required a CertificateRequest naming `ca_file`'s CAs and the client's chain verified like a server's
/// (RFC 5922 §7.4); session resumption with OpenSSL's stateless tickets and a session-ID cache bounded
/// by `max_cached_sessions`. nullptr without error when no certificate is configured; `ec` =
/// tls_errc::not_configured when a file does not load.
inline std::unique_ptr<ssl::context> make_server_tls_context(const tls_config& cfg, std::error_code& ec) {
  if (cfg.certificate_chain_file.empty() && cfg.private_key_file.empty()) return nullptr;
  auto ctx = base_tls_context(ssl::context::tls_server);
  boost::system::error_code bec;
  load_identity(*ctx, cfg, bec);
  SSL_CTX* native = ctx->native_handle();
  static constexpr unsigned char session_context[] = "ptapi-sip";  // resumption with verify_peer needs one
  SSL_CTX_set_session_id_context(native, session_context, sizeof session_context - 1);
  SSL_CTX_sess_set_cache_size(native, static_cast<long>(std::max<std::size_t>(1, std::min<std::size_t>(cfg.max_cached_sessions, 1 << 20))));
  if (!bec && cfg.client_certificates != tls_client_certificates::none) {
    ctx->set_verify_mode(cfg.client_certificates == tls_client_certificates::required
                             ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                             : ssl::verify_peer,
                         bec);
    load_trust(*ctx, cfg, bec);
    if (!bec && !cfg.ca_file.empty())
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.ca_file.c_str())) SSL_CTX_set_client_CA_list(native, names);
  }
  if (bec) {
    ec = tls_errc::not_configured;
    return nullptr;
  }
  return ctx;
}

/// RFC 5922 §7.1-7.2: does `cert` name the SIP domain `domain`? With a subjectAltName extension: a URI
/// "sip:<domain>" or a dNSName equal to `domain` (case-insensitive, no wildcards, §7.2); without one: the
/// subject's Common Name. An IP literal `domain` must be an iPAddress entry (RFC 5280). Pure.
[[nodiscard]] inline bool tls_identity_matches(X509* cert, std::string_view domain) {
  if (!cert || domain.empty()) return false;
  const std::string name(domain);
  boost::system::error_code bec;
  (void)boost::asio::ip::make_address(name, bec);
  if (!bec) return X509_check_ip_asc(cert, name.c_str(), 0) == 1;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names)
    return X509_check_host(cert, name.data(), name.size(),
                           X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS, nullptr) == 1;
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI && n->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = n->type == GEN_URI ? n->d.uniformResourceIdentifier : n->d.dNSName;
    const std::string_view v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
    if (n->type == GEN_DNS) found = iequals(v, domain);
    else found = v.size() == domain.size() + 4 && iequals(v.substr(0, 4), "sip:") && iequals(v.substr(4), domain);
  }
  GENERAL_NAMES_free(names);
  return found;
}

}  // namespace tspi::sip::detail
