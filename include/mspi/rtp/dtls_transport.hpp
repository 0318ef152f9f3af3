// ptapi - portable TAPI
// mspi/rtp/dtls_transport.hpp: one DTLS-SRTP association (RFC 5764) on a media socket: an OpenSSL DTLS 1.2
// handshake driven by the datagrams its owner hands in, which checks the peer's certificate against its
// SDP fingerprint (RFC 5763 §5) and exports the SRTP master keys (RFC 5764 §4.2).
#pragma once

#include <mspi/rtp/dtls_certificate.hpp>
#include <mspi/rtp/srtp_suite.hpp>
#include <mspi/sdp_dtls.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/srtp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace mspi {

/// Our side of the DTLS association (RFC 5763 §5, from `a=setup`): the client (`active`) sends the
/// ClientHello, the server (`passive`) waits for it.
enum class dtls_role : std::uint8_t { client, server };

/// The SRTP master keys a DTLS-SRTP handshake produced (RFC 5764 §4.2): the suite of the negotiated
/// protection profile and, for each direction, master key || master salt (`srtp_key_salt_bytes(suite)`
/// bytes used). Secret: do not log.
struct dtls_srtp_keys {
  srtp_suite suite = srtp_suite::aes_cm_128_hmac_sha1_80;  ///< The negotiated SRTP protection profile's suite.
  std::array<std::byte, srtp_max_key_salt_bytes> local{};   ///< Protects what we send (our role's write key).
  std::array<std::byte, srtp_max_key_salt_bytes> remote{};  ///< Checks what we receive (the peer's write key).
};

/// One DTLS-SRTP association over a datagram path its owner provides (RFC 5764 §5.1.1: on the RTP
/// socket, demultiplexed by first byte 20..63, RFC 7983 §7). OpenSSL's DTLS 1.2 (`DTLS_method`, minimum
/// DTLS 1.2) reads from a memory BIO the owner fills with `handle` and writes each record datagram
/// through `send` (a BIO of our own, so datagram boundaries are kept; MTU `mtu` bytes). Offered SRTP
/// profiles (RFC 5764 §4.1.2): those of the suites given, in order (SRTP_AES128_CM_SHA1_80,
/// SRTP_AES128_CM_SHA1_32, SRTP_AEAD_AES_128_GCM). Both sides present a certificate (the server asks
/// for the client's); it is accepted only when its digest equals one of the peer's SDP fingerprints.
/// Retransmissions follow OpenSSL's timer (first after 200 ms, doubling up to 3 s) on a steady_timer of
/// `executor`.
///
/// Bounds (every datagram may be hostile): datagrams over `max_datagram_bytes` are dropped; the handshake
/// reads at most `max_handshake_datagrams`; a failed handshake that is not a fingerprint mismatch (e.g. a
/// garbage ClientHello) starts afresh, at most `max_handshake_attempts` times; the whole handshake ends at
/// `handshake_timeout`. Then `done` runs once with the keys or the error (`dtls_errc`). After the
/// handshake, records (a retransmitted flight, an alert) are still read and answered, never passed on.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe; use one from its executor's thread only (the RTP/Opus
/// MSP's media thread).
class dtls_transport : public std::enable_shared_from_this<dtls_transport> {
 public:
  /// Sends one datagram to the peer (called from `start`, `handle` or the timer).
  using send_function = std::function<void(std::span<const std::byte>)>;
  /// The outcome, once: keys (and a cleared error) or the error and nullopt.
  using done_function = std::function<void(std::error_code, const std::optional<dtls_srtp_keys>&)>;

  static constexpr std::size_t max_datagram_bytes = 1500;        ///< Larger datagrams are dropped.
  static constexpr std::size_t max_handshake_datagrams = 64;     ///< Datagrams a handshake reads at most.
  static constexpr int max_handshake_attempts = 4;               ///< Fresh starts after a failed handshake.
  static constexpr std::chrono::seconds handshake_timeout{10};   ///< Bound on the whole handshake.
  static constexpr long mtu = 1200;                              ///< Largest datagram written, bytes.

  /// What the association is doing.
  enum class state : std::uint8_t { idle, handshaking, connected, failed };

  /// An idle association; `start` begins the handshake. Throws only std::bad_alloc.
  /// @param executor the media thread's executor: the retransmission and deadline timers run on it.
  /// @param certificate this side's certificate (the MSP's, its fingerprint in our SDP); not null.
  /// @param role client (sends the ClientHello: `a=setup:active`) or server (`passive`), RFC 5763 §5.
  /// @param remote the peer's `a=fingerprint` lines (at least one; any may match).
  /// @param suites the SRTP suites offered in the handshake, in preference order (non-empty).
  /// @param send sends one datagram to the peer (each DTLS record flight datagram, ≤ `mtu` bytes).
  /// @param done called once, on the executor, with the keys or the error.
  dtls_transport(boost::asio::any_io_executor executor, std::shared_ptr<const dtls_certificate> certificate,
                 dtls_role role, std::vector<sdp_fingerprint> remote, std::vector<srtp_suite> suites, send_function send,
                 done_function done)
      : certificate_(std::move(certificate)), role_(role), remote_(std::move(remote)), suites_(std::move(suites)),
        send_(std::move(send)), done_(std::move(done)), timer_(executor), deadline_timer_(executor) {}
  dtls_transport(const dtls_transport&) = delete;
  dtls_transport& operator=(const dtls_transport&) = delete;
  ~dtls_transport() { free_ssl(); }

  /// Starts the handshake (the client sends its ClientHello now) and its deadline. Errors go to `done`.
  void start() {
    if (state_ != state::idle) return;
    state_ = state::handshaking;
    started_ = std::chrono::steady_clock::now();
    deadline_timer_.expires_after(handshake_timeout);
    deadline_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (auto self = weak.lock(); self && !ec && self->state_ == state::handshaking) self->fail(dtls_errc::handshake_timeout);
    });
    if (!new_ssl()) return fail(dtls_errc::handshake_failed);
    drive();
  }

  /// One DTLS datagram from the peer (the owner checked its source). Never throws.
  void handle(std::span<const std::byte> datagram) noexcept {
    if (!ssl_ || state_ == state::failed || datagram.empty() || datagram.size() > max_datagram_bytes) return;
    if (state_ == state::handshaking && ++datagrams_ > max_handshake_datagrams) return fail(dtls_errc::handshake_failed);
    if (BIO_write(SSL_get_rbio(ssl_), datagram.data(), static_cast<int>(datagram.size())) <= 0) return;
    drive();
  }

  /// Cancels the timers; the association stays as it is (keys already given stay valid). Never throws.
  void stop() noexcept {
    timer_.cancel();
    deadline_timer_.cancel();
    if (state_ == state::handshaking) state_ = state::failed;
  }

  [[nodiscard]] state current_state() const noexcept { return state_; }  ///< See `state`. Never throws.
  [[nodiscard]] dtls_role role() const noexcept { return role_; }       ///< Our role. Never throws.
  /// The peer's fingerprints this association checks against. Never throws.
  [[nodiscard]] const std::vector<sdp_fingerprint>& remote_fingerprints() const noexcept { return remote_; }
  /// Handshake duration in ms once connected, -1 before. Never throws.
  [[nodiscard]] double handshake_ms() const noexcept { return handshake_ms_; }
  /// The keys once connected. Never throws.
  [[nodiscard]] const std::optional<dtls_srtp_keys>& keys() const noexcept { return keys_; }
  /// Handshakes started afresh after a failed one (see the class comment). Never throws.
  [[nodiscard]] int restarts() const noexcept { return attempts_ - 1; }

 private:
  // The write side: each BIO_write of the DTLS layer is one datagram (RFC 6347 §4.1.1), sent at once.
  static BIO_METHOD* datagram_method() {
    static BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "ptapi dtls datagram");
      if (!m) return m;
      BIO_meth_set_write(m, [](BIO* b, const char* data, int n) -> int {
        auto* self = static_cast<dtls_transport*>(BIO_get_data(b));
        if (self && n > 0) self->emit(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), static_cast<std::size_t>(n)));
        return n;
      });
      BIO_meth_set_ctrl(m, [](BIO*, int cmd, long, void*) -> long {
        switch (cmd) {
          case BIO_CTRL_FLUSH: return 1;
          case BIO_CTRL_DGRAM_QUERY_MTU: return mtu;
          default: return 0;
        }
      });
      BIO_meth_set_create(m, [](BIO* b) -> int {
        BIO_set_init(b, 1);
        return 1;
      });
      return m;
    }();
    return method;
  }

  void emit(std::span<const std::byte> datagram) noexcept {
    try {
      if (send_) send_(datagram);
    } catch (...) {  // a send that throws loses this datagram; the retransmission timer tries again
    }
  }

  // Retransmission schedule (OpenSSL's DTLS_set_timer_cb): 200 ms first, doubling up to 3 s.
  static unsigned int next_timeout_us(SSL*, unsigned int previous_us) {
    return previous_us == 0 ? 200000u : std::min(2 * previous_us, 3000000u);
  }

  static std::string profiles_of(const std::vector<srtp_suite>& suites) {
    std::string out;
    for (auto s : suites) {
      if (!out.empty()) out += ':';
      out += s == srtp_suite::aes_cm_128_hmac_sha1_80   ? "SRTP_AES128_CM_SHA1_80"
             : s == srtp_suite::aes_cm_128_hmac_sha1_32 ? "SRTP_AES128_CM_SHA1_32"
                                                        : "SRTP_AEAD_AES_128_GCM";
    }
    return out;
  }

  bool new_ssl() {
    free_ssl();
    ++attempts_;
    datagrams_ = 0;
    ctx_ = SSL_CTX_new(DTLS_method());
    if (!ctx_ || !certificate_) return false;
    SSL_CTX_set_min_proto_version(ctx_, DTLS1_2_VERSION);
    // RFC 5763 §5: the certificate is self-signed; it is accepted when its fingerprint matches the SDP's
    // (checked here, so a mismatch fails the handshake with an alert to the peer, and again at the end).
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, &dtls_transport::verify);
    if (SSL_CTX_use_certificate(ctx_, certificate_->x509()) != 1 || SSL_CTX_use_PrivateKey(ctx_, certificate_->key()) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(ctx_, profiles_of(suites_).c_str()) != 0)  // 0 is success here
      return false;
    SSL_CTX_set_read_ahead(ctx_, 1);
    ssl_ = SSL_new(ctx_);
    if (!ssl_) return false;
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = datagram_method() ? BIO_new(datagram_method()) : nullptr;
    if (!rbio || !wbio) {
      BIO_free(rbio);
      BIO_free(wbio);
      return false;
    }
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_data(wbio, this);
    SSL_set_app_data(ssl_, this);
    SSL_set_bio(ssl_, rbio, wbio);
    SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(ssl_, mtu);
    DTLS_set_link_mtu(ssl_, mtu);
    DTLS_set_timer_cb(ssl_, &dtls_transport::next_timeout_us);
    if (role_ == dtls_role::client) SSL_set_connect_state(ssl_);
    else SSL_set_accept_state(ssl_);
    return true;
  }

  // The peer's certificate (depth 0) must match one of its SDP fingerprints; the chain is not checked.
  static int verify(int, X509_STORE_CTX* store) {
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* self = ssl ? static_cast<dtls_transport*>(SSL_get_app_data(ssl)) : nullptr;
    if (!self) return 0;
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    if (self->matches(X509_STORE_CTX_get_current_cert(store))) return 1;
    self->mismatch_ = true;
    return 0;
  }
  [[nodiscard]] bool matches(const X509* peer) const noexcept {
    return peer && std::any_of(remote_.begin(), remote_.end(),
                               [peer](const sdp_fingerprint& f) { return certificate_fingerprint(peer, f.hash) == f; });
  }

  void free_ssl() noexcept {
    if (ssl_) SSL_free(ssl_);  // frees both BIOs
    if (ctx_) SSL_CTX_free(ctx_);
    ssl_ = nullptr;
    ctx_ = nullptr;
  }

  // Runs the state machine after a datagram or a timeout: the handshake, or once connected the reads
  // that answer a retransmitted flight (application data is discarded: RTP never travels in DTLS).
  void drive() noexcept {
    ERR_clear_error();
    if (state_ == state::connected) {
      std::array<unsigned char, 256> sink{};
      while (SSL_read(ssl_, sink.data(), static_cast<int>(sink.size())) > 0) {
      }
      ERR_clear_error();
      return;
    }
    if (state_ != state::handshaking) return;
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) return connected();
    const int err = SSL_get_error(ssl_, r);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return arm_timer();
    if (mismatch_) return fail(dtls_errc::fingerprint_mismatch);
    // A broken handshake (garbage, an alert): start again, a bounded number of times. The client sends a
    // new ClientHello; the server waits for one.
    if (attempts_ >= max_handshake_attempts) return fail(dtls_errc::handshake_failed);
    if (!new_ssl()) return fail(dtls_errc::handshake_failed);
    if (role_ == dtls_role::client) drive();
  }

  void arm_timer() noexcept {
    timeval tv{};
    if (DTLSv1_get_timeout(ssl_, &tv) != 1) return;
    timer_.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer_.async_wait([weak = weak_from_this(), ssl = ssl_](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec || self->ssl_ != ssl || self->state_ != state::handshaking) return;
      if (DTLSv1_handle_timeout(self->ssl_) < 0) return self->fail(dtls_errc::handshake_timeout);
      self->arm_timer();
    });
  }

  void connected() noexcept {
    if (!matches(SSL_get0_peer_certificate(ssl_))) return fail(dtls_errc::fingerprint_mismatch);
    const SRTP_PROTECTION_PROFILE* profile = SSL_get_selected_srtp_profile(ssl_);
    if (!profile) return fail(dtls_errc::no_srtp_profile);
    dtls_srtp_keys k;
    switch (profile->id) {
      case SRTP_AES128_CM_SHA1_80: k.suite = srtp_suite::aes_cm_128_hmac_sha1_80; break;
      case SRTP_AES128_CM_SHA1_32: k.suite = srtp_suite::aes_cm_128_hmac_sha1_32; break;
      case SRTP_AEAD_AES_128_GCM: k.suite = srtp_suite::aead_aes_128_gcm; break;
      default: return fail(dtls_errc::no_srtp_profile);
    }
    // RFC 5764 §4.2: client_write_key | server_write_key | client_write_salt | server_write_salt.
    const std::size_t key = srtp_master_key_bytes, salt = srtp_master_salt_bytes(k.suite);
    std::array<unsigned char, 2 * srtp_max_key_salt_bytes> material{};
    static constexpr char label[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(ssl_, material.data(), 2 * (key + salt), label, sizeof label - 1, nullptr, 0, 0) != 1)
      return fail(dtls_errc::handshake_failed);
    auto put = [&](std::array<std::byte, srtp_max_key_salt_bytes>& out, bool client) {
      std::memcpy(out.data(), material.data() + (client ? 0 : key), key);
      std::memcpy(out.data() + key, material.data() + 2 * key + (client ? 0 : salt), salt);
    };
    put(k.local, role_ == dtls_role::client);
    put(k.remote, role_ != dtls_role::client);
    OPENSSL_cleanse(material.data(), material.size());
    keys_ = k;
    state_ = state::connected;
    handshake_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    timer_.cancel();
    deadline_timer_.cancel();
    finish({});
  }

  void fail(dtls_errc e) noexcept {
    if (state_ == state::failed || state_ == state::connected) return;
    state_ = state::failed;
    timer_.cancel();
    deadline_timer_.cancel();
    finish(e);
  }

  void finish(std::error_code ec) noexcept {
    auto done = std::move(done_);
    done_ = nullptr;
    try {
      if (done) done(ec, keys_);
    } catch (...) {  // the owner's handler must not throw; nothing to undo here
    }
  }

  std::shared_ptr<const dtls_certificate> certificate_;
  dtls_role role_;
  std::vector<sdp_fingerprint> remote_;
  std::vector<srtp_suite> suites_;
  send_function send_;
  done_function done_;
  boost::asio::steady_timer timer_, deadline_timer_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  state state_ = state::idle;
  int attempts_ = 0;
  bool mismatch_ = false;  // the verify callback saw a certificate that matches no fingerprint
  std::size_t datagrams_ = 0;
  std::chrono::steady_clock::time_point started_{};
  double handshake_ms_ = -1;
  std::optional<dtls_srtp_keys> keys_;
};

}  // namespace mspi
