// ptapi - portable TAPI
// tspi/sip/transport/tls.hpp: the TLS side of the SIP transport (RFC 3261 §26.2, RFC 5630, RFC 5922): the
// TLS layer of a TCP connection, its bounded handshake with SNI and the server identity check, and its
// reads. Framing, writing and the connection limits are the TCP side's (tspi/sip/transport/tcp.hpp).
#pragma once

#include <tspi/sip/detail/tls_context.hpp>
#include <tspi/sip/detail/transport_core.hpp>
#include <tspi/sip/transport/tls_error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

/// @cond PTAPI_INTERNAL
namespace tspi::sip::detail {

inline bool transport_core::add_tls_layer(tcp_connection& c) {
  auto* ctx = c.incoming ? tls_server_.get() : tls_client_.get();
  if (!ctx) return false;
  c.tls = std::make_unique<tls_stream>(c.socket, *ctx);
  if (c.incoming) return true;
  // The SIP domain we mean to reach (set_tls_server_name), else the address itself.
  const auto it = tls_names_.find(c.remote);
  c.tls_name = it != tls_names_.end() ? it->second : c.remote.address.to_string();
  boost::system::error_code bec;
  (void)boost::asio::ip::make_address(c.tls_name, bec);
  SSL* ssl = c.tls->native_handle();
  if (bec) SSL_set_tlsext_host_name(ssl, c.tls_name.c_str());  // SNI: host names only (RFC 6066 §3)
  // Resumption (RFC 5246 §7.3, RFC 8446 §2.2): only with the same name at the same address.
  c.tls_session_key = c.tls_name + '|' + c.remote.to_string();
  SSL_set_ex_data(ssl, tls_session_cache::connection_slot(), &c.tls_session_key);
  if (SSL_SESSION* session = tls_sessions_.take(c.tls_session_key)) {
    SSL_set_session(ssl, session);
    SSL_SESSION_free(session);
  }
  return true;
}

inline void transport_core::handshake(const std::shared_ptr<tcp_connection>& c) {
  c->handshaking = true;
  ++handshakes_;
  c->timer.expires_after(cfg_.tls.handshake_timeout);
  c->timer.async_wait([self = shared_from_this(), c](const boost::system::error_code& e) {
    if (e || self->closed_ || c->closed || !c->handshaking) return;
    ++self->stats_.tls_handshake_timeouts;
    self->close_connection(c, std::make_error_code(std::errc::timed_out));
  });
  c->tls->async_handshake(c->incoming ? tls_stream::server : tls_stream::client,
                          [self = shared_from_this(), c](const boost::system::error_code& e) { self->on_handshake(c, e); });
}

inline void transport_core::on_handshake(const std::shared_ptr<tcp_connection>& c, const boost::system::error_code& e) {
  if (closed_ || c->closed) return;
  c->handshaking = false;
  --handshakes_;
  std::error_code why = e;
  SSL* ssl = c->tls->native_handle();
  if (e) {  // the clearest cause: the certificate verification result, when that failed
    const long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK) why = std::error_code(static_cast<int>(verify), tls_certificate_category());
    if (c->incoming && verify != X509_V_OK) ++stats_.tls_client_certificates_rejected;  // RFC 5922 §7.4
    else if (c->incoming && e.category() == boost::asio::error::get_ssl_category() &&
             ERR_GET_REASON(static_cast<unsigned long>(e.value())) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
      ++stats_.tls_client_certificates_missing;
    if (!c->incoming) tls_sessions_.erase(c->tls_session_key);  // never offer a session that failed again
  }
  if (!e && !c->incoming && !cfg_.tls.insecure_skip_verification) {  // RFC 5922 §7.3: the server's identity
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!tls_identity_matches(cert, c->tls_name)) why = tls_errc::identity_mismatch;
    X509_free(cert);
  }
  if (why) {
    ++stats_.tls_handshake_failures;
    close_connection(c, why);
    return;
  }
  ++stats_.tls_handshakes;
  if (SSL_session_reused(ssl)) ++stats_.tls_sessions_resumed;
  established(c);
}

inline void transport_core::read_tls(const std::shared_ptr<tcp_connection>& c) {
  if (c->tls_in.empty()) c->tls_in.resize(16384);  // one TLS record's plaintext at most
  c->tls->async_read_some(boost::asio::buffer(c->tls_in), [self = shared_from_this(), c](const boost::system::error_code& e, std::size_t n) {
    if (self->closed_ || c->closed) return;
    if (e) {  // a close_notify, or the peer closing without one, is an orderly end
      const bool orderly = e == boost::asio::error::eof || e == boost::asio::ssl::error::stream_truncated;
      self->close_connection(c, orderly ? std::error_code{} : std::error_code(e));
      return;
    }
    if (!self->consume(c, std::string_view(c->tls_in.data(), n)) || self->closed_ || c->closed) return;
    self->read_tls(c);
  });
}

inline void transport_core::release_socket(const std::shared_ptr<tcp_connection>& c) {
  boost::system::error_code ignored;
  // RFC 8446 §6.1, RFC 5246 §7.2.1: a TLS connection ends with close_notify, so that the peer can tell an
  // orderly close from a truncation. Not mid-record (a write in flight) nor before the handshake ended.
  if (!c->tls || !c->connected || c->writing > 0 || !c->socket.is_open() || closing_ >= cfg_.max_tcp_connections) {
    c->socket.close(ignored);
    c->timer.cancel();
    return;
  }
  ++closing_;
  ++stats_.tls_close_notify_sent;
  c->socket.cancel(ignored);  // the pending read ends (operation_aborted): the stream is the shutdown's alone
  c->timer.expires_after(cfg_.tls.close_notify_timeout);
  c->timer.async_wait([c](const boost::system::error_code& e) {
    boost::system::error_code ignored;
    if (!e) c->socket.close(ignored);  // the peer did not answer: the shutdown below ends with an error
  });
  // `self` keeps the session cache alive: OpenSSL may still pass it a ticket read during the shutdown.
  c->tls->async_shutdown([self = shared_from_this(), c](const boost::system::error_code&) {
    boost::system::error_code ignored;
    c->socket.close(ignored);
    c->timer.cancel();
    --self->closing_;
  });
}

}  // namespace tspi::sip::detail
/// @endcond
