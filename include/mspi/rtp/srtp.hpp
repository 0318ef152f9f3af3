// ptapi - portable TAPI
// mspi/rtp/srtp.hpp: one direction of SRTP and SRTCP (RFC 3711) on libsrtp2: a session protecting what we
// send, or one checking and decrypting what we receive, for any SSRC.
#pragma once

#include <mspi/rtp/srtp_suite.hpp>

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace mspi {

/// The error category of libsrtp2's `srtp_err_status_t` values (the value is the status; e.g. 7
/// `srtp_err_status_auth_fail`: a packet failed authentication, 9/10 `replay_fail`/`replay_old`: a
/// replayed or too old packet, RFC 3711 §3.3.2). Thread safety: safe from any thread.
inline const std::error_category& srtp_category() noexcept {
  struct category final : std::error_category {
    [[nodiscard]] const char* name() const noexcept override { return "srtp"; }
    [[nodiscard]] std::string message(int v) const override {
      switch (v) {
        case srtp_err_status_ok: return "success";
        case srtp_err_status_bad_param: return "bad SRTP parameter";
        case srtp_err_status_alloc_fail: return "SRTP allocation failed";
        case srtp_err_status_init_fail: return "libsrtp could not be initialized";
        case srtp_err_status_auth_fail: return "SRTP authentication failed (tampered packet or wrong key)";
        case srtp_err_status_cipher_fail: return "SRTP cipher failed (tampered packet or wrong key)";
        case srtp_err_status_replay_fail: return "SRTP replay: the packet was already received";
        case srtp_err_status_replay_old: return "SRTP replay: the packet is older than the replay window";
        case srtp_err_status_no_ctx: return "no SRTP context for the SSRC";
        case srtp_err_status_parse_err: return "the SRTP packet does not parse";
        case srtp_err_status_key_expired: return "the SRTP master key expired";
        default: return "libsrtp error " + std::to_string(v);
      }
    }
  };
  static const category c;
  return c;
}

/// Which way a session works (RFC 3711 §3.3 / §3.4): protecting what we send or checking what we receive.
enum class srtp_direction : std::uint8_t { outbound, inbound };

/// One SRTP + SRTCP cryptographic context set (RFC 3711 §3.2) for one direction, any SSRC (libsrtp's
/// `ssrc_any_outbound` / `ssrc_any_inbound`), 128-packet replay window (RFC 3711 §3.3.2), no MKI, key
/// derivation rate 0. Empty (inactive) until `start`.
///
/// Allocation: `start` allocates (libsrtp's context); the first packet of each SSRC clones the stream
/// context once; every other protect/unprotect works in place and allocates nothing.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe (the RTP/Opus MSP uses one only on its media thread).
class srtp_session {
 public:
  /// Most bytes protecting an RTP packet adds (auth tag, or GCM tag; libsrtp's SRTP_MAX_TRAILER_LEN).
  static constexpr std::size_t max_rtp_overhead = SRTP_MAX_TRAILER_LEN;
  /// Most bytes protecting an RTCP packet adds (SRTCP index + tag; SRTP_MAX_TRAILER_LEN + 4).
  static constexpr std::size_t max_rtcp_overhead = SRTP_MAX_TRAILER_LEN + 4;

  /// An empty session (no context, no allocation). Never throws.
  srtp_session() noexcept = default;
  srtp_session(const srtp_session&) = delete;
  srtp_session& operator=(const srtp_session&) = delete;
  /// Takes `o`'s context; `o` is empty afterwards. Never throws.
  srtp_session(srtp_session&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)), suite_(std::exchange(o.suite_, {})) {}
  /// Frees this session's context and takes `o`'s. Never throws.
  srtp_session& operator=(srtp_session&& o) noexcept {
    if (this != &o) {
      reset();
      ctx_ = std::exchange(o.ctx_, nullptr);
      suite_ = std::exchange(o.suite_, {});
    }
    return *this;
  }
  /// Frees the context (`reset`). Never throws.
  ~srtp_session() { reset(); }

  /// Initializes libsrtp2 for the process, once (`srtp_init`: it registers its ciphers and runs their
  /// self-tests; Debian's libsrtp2 also starts its NSS crypto backend); later calls give the first one's
  /// outcome at once. The first call is slow: ~45 ms (GCC -O2), ~200 ms under ASan, several times that on
  /// a loaded machine. `start` calls it, so an owner whose `start` runs on a clocked thread calls it
  /// beforehand (the RTP/Opus MSP does in `initialize`): a DTLS-SRTP call's first keys arrive while its
  /// send clock runs. Errors: libsrtp's status (`srtp_category`), e.g. `srtp_err_status_init_fail`.
  /// Thread safe (std::call_once; libsrtp's own init is not). Never throws.
  static void initialize_library(std::error_code& ec) noexcept {
    static std::once_flag once;
    static int status = srtp_err_status_ok;
    try {
      std::call_once(once, [] { status = srtp_init(); });
    } catch (...) {
      ec = {srtp_err_status_init_fail, srtp_category()};
      return;
    }
    if (status != srtp_err_status_ok) ec = {status, srtp_category()};
    else ec.clear();
  }

  /// (Re)keys the session: drops the current context (with its replay state) and makes one for `suite`
  /// with master key || salt `key_salt` (exactly `srtp_key_salt_bytes(suite)` bytes, RFC 4568 §6.1).
  /// Errors: `std::errc::invalid_argument` for a key of another length; libsrtp's status
  /// (`srtp_category`) when it cannot initialize or create the context; the session is empty then.
  /// The key is copied to a stack buffer that is wiped (OPENSSL_cleanse) before returning.
  void start(srtp_suite suite, std::span<const std::byte> key_salt, srtp_direction direction, std::error_code& ec) {
    reset();
    if (key_salt.size() != srtp_key_salt_bytes(suite)) {
      ec = std::make_error_code(std::errc::invalid_argument);
      return;
    }
    initialize_library(ec);
    if (ec) return;
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof policy);
    switch (suite) {
      case srtp_suite::aes_cm_128_hmac_sha1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        break;
      case srtp_suite::aes_cm_128_hmac_sha1_32:  // RFC 4568 §6.2.2: SRTCP keeps the 80-bit tag
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
        break;
      case srtp_suite::aead_aes_128_gcm:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
        break;
    }
    std::array<unsigned char, srtp_max_key_salt_bytes> key{};
    std::memcpy(key.data(), key_salt.data(), key_salt.size());
    policy.key = key.data();
    policy.ssrc.type = direction == srtp_direction::outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.window_size = 128;
    policy.allow_repeat_tx = 0;
    policy.next = nullptr;
    const srtp_err_status_t st = srtp_create(&ctx_, &policy);
    OPENSSL_cleanse(key.data(), key.size());
    if (st != srtp_err_status_ok) {
      ctx_ = nullptr;
      ec = {st, srtp_category()};
      return;
    }
    suite_ = suite;
    ec.clear();
  }

  /// Drops the context (the session is empty again). Never throws.
  void reset() noexcept {
    if (ctx_) srtp_dealloc(ctx_);
    ctx_ = nullptr;
    suite_.reset();
  }

  /// True between a successful `start` and `reset`. Never throws.
  [[nodiscard]] bool active() const noexcept { return ctx_ != nullptr; }
  /// The suite of the active context; nullopt when empty. Never throws.
  [[nodiscard]] std::optional<srtp_suite> suite() const noexcept { return suite_; }

  /// Protects the RTP packet in `buffer[0, size)` in place (RFC 3711 §3.3). `buffer` must have room for
  /// `max_rtp_overhead` bytes more. Returns the SRTP packet's size, 0 on error (`ec`: libsrtp's status;
  /// `std::errc::no_buffer_space` when the buffer is too small; `std::errc::not_connected` when
  /// empty). Never throws, never allocates after an SSRC's first packet.
  std::size_t protect_rtp(std::span<std::byte> buffer, std::size_t size, std::error_code& ec) noexcept {
    return apply(buffer, size, max_rtp_overhead, srtp_protect, ec);
  }
  /// Authenticates, replay-checks and decrypts the SRTP packet in `buffer[0, size)` in place (RFC 3711
  /// §3.3). Returns the RTP packet's size, 0 when it is refused (`ec`: auth_fail for a tampered packet or
  /// another key, replay_fail/replay_old for a replay, `std::errc::not_connected` when empty). Never
  /// throws; a refused packet changes no state.
  std::size_t unprotect_rtp(std::span<std::byte> buffer, std::size_t size, std::error_code& ec) noexcept {
    return apply(buffer, size, 0, srtp_unprotect, ec);
  }
  /// As `protect_rtp`, for a compound RTCP packet (SRTCP, RFC 3711 §3.4); room for `max_rtcp_overhead` needed.
  std::size_t protect_rtcp(std::span<std::byte> buffer, std::size_t size, std::error_code& ec) noexcept {
    return apply(buffer, size, max_rtcp_overhead, srtp_protect_rtcp, ec);
  }
  /// As `unprotect_rtp`, for an SRTCP packet (RFC 3711 §3.4).
  std::size_t unprotect_rtcp(std::span<std::byte> buffer, std::size_t size, std::error_code& ec) noexcept {
    return apply(buffer, size, 0, srtp_unprotect_rtcp, ec);
  }

 private:
  std::size_t apply(std::span<std::byte> buffer, std::size_t size, std::size_t room,
                    srtp_err_status_t (*fn)(srtp_t, void*, int*), std::error_code& ec) noexcept {
    if (!ctx_) {
      ec = std::make_error_code(std::errc::not_connected);
      return 0;
    }
    if (size > buffer.size() || buffer.size() - size < room || size > 65535) {
      ec = std::make_error_code(std::errc::no_buffer_space);
      return 0;
    }
    int len = static_cast<int>(size);
    const srtp_err_status_t st = fn(ctx_, buffer.data(), &len);
    if (st != srtp_err_status_ok || len <= 0) {
      ec = {st != srtp_err_status_ok ? static_cast<int>(st) : static_cast<int>(srtp_err_status_fail), srtp_category()};
      return 0;
    }
    ec.clear();
    return static_cast<std::size_t>(len);
  }

  srtp_t ctx_ = nullptr;
  std::optional<srtp_suite> suite_;
};

}  // namespace mspi
