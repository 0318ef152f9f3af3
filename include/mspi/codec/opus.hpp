// ptapi - portable TAPI
// mspi/codec/opus.hpp: RAII wrappers over libopus (RFC 6716) for the pipeline format (48 kHz mono
// s16), as carried over RTP by RFC 7587; errors as std::error_code in the "opus" category.
#pragma once

#include <mspi/error.hpp>

#include <opus/opus.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>

namespace mspi {

/// The libopus error codes (`OPUS_*` in opus_defines.h), as positive values: `opus_errc::x == -OPUS_X`.
/// Used through `std::error_code` with `opus_category()` (messages from `opus_strerror`).
enum class opus_errc : int {
  bad_arg = 1,       ///< OPUS_BAD_ARG: an argument is invalid or out of range (e.g. a wrong frame size).
  buffer_too_small,  ///< OPUS_BUFFER_TOO_SMALL: the output buffer cannot hold the result.
  internal_error,    ///< OPUS_INTERNAL_ERROR
  invalid_packet,    ///< OPUS_INVALID_PACKET: the payload is not a valid Opus packet (RFC 6716 §3.4).
  unimplemented,     ///< OPUS_UNIMPLEMENTED
  invalid_state,     ///< OPUS_INVALID_STATE: the codec state is invalid (or the object was moved from).
  alloc_fail,        ///< OPUS_ALLOC_FAIL: out of memory.
};

}  // namespace mspi

// Declared before any use so that `ec = opus_errc::...` converts implicitly everywhere below.
template <>
struct std::is_error_code_enum<mspi::opus_errc> : std::true_type {};

namespace mspi {

namespace detail {
class opus_category_impl final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "opus"; }
  [[nodiscard]] std::string message(int ev) const override { return ::opus_strerror(-ev); }
};
}  // namespace detail

/// The category of `opus_errc`; its `name()` is "opus". Never throws. Thread safety: a constant
/// singleton, safe from any thread.
inline const std::error_category& opus_category() noexcept {
  static const detail::opus_category_impl category;
  return category;
}

/// Makes a `std::error_code` from an `opus_errc` (found by ADL: `ec = opus_errc::bad_arg;`). Never throws.
inline std::error_code make_error_code(opus_errc e) noexcept { return {static_cast<int>(e), opus_category()}; }

/// Opus encoder settings (libopus CTLs; RFC 7587 §6.1 names the matching SDP fmtp parameters). Values are
/// checked by libopus when an encoder is made (`opus_errc::bad_arg` when out of range).
///
/// In-band FEC is on by default: libopus then codes a low-rate copy of each 20 ms SILK frame (LBRR) into
/// the next packet, but only while the expected loss (OPUS_SET_PACKET_LOSS_PERC) is above 0 and the
/// bitrate leaves room for it (speech in SILK or hybrid mode, OPUS_APPLICATION_VOIP). The RTP/Opus MSP
/// starts from `expected_loss_percent` and then follows the loss the peer reports in RTCP
/// (`opus_encoder::set_expected_loss_percent`).
struct opus_config {
  int bitrate_bps = 24000;         ///< OPUS_SET_BITRATE, bits/s (500..512000); SDP maxaveragebitrate.
  int complexity = 9;              ///< OPUS_SET_COMPLEXITY, 0..10.
  bool inband_fec = true;          ///< OPUS_SET_INBAND_FEC (RFC 6716 §2.1.7); SDP useinbandfec.
  bool dtx = false;                ///< OPUS_SET_DTX: discontinuous transmission; SDP usedtx.
  int expected_loss_percent = 10;  ///< OPUS_SET_PACKET_LOSS_PERC, 0..100 (FEC is only coded when > 0).
};

namespace detail {
struct encoder_deleter {
  void operator()(OpusEncoder* e) const noexcept { ::opus_encoder_destroy(e); }
};
struct decoder_deleter {
  void operator()(OpusDecoder* d) const noexcept { ::opus_decoder_destroy(d); }
};

/// The pipeline format: RFC 7587 §4.1 always uses a 48000 Hz RTP clock; ptapi decodes at that rate.
inline constexpr opus_int32 opus_rate_hz = 48000;
inline constexpr int opus_channels = 1;

/// An `std::error_code` for a negative libopus return value (0 for success).
inline std::error_code opus_error(int code) noexcept {
  return code < 0 ? make_error_code(static_cast<opus_errc>(-code)) : std::error_code{};
}

/// Frame durations an Opus packet can hold at 48 kHz (RFC 6716 §2.1.4): 2.5, 5, 10, 20, 40, 60 ms.
constexpr bool valid_opus_frame_samples(std::size_t n) noexcept {
  return n == 120 || n == 240 || n == 480 || n == 960 || n == 1920 || n == 2880;
}

constexpr opus_int32 clamp_to_opus_int32(std::size_t n) noexcept {
  return n > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<opus_int32>(n);
}
}  // namespace detail

/// An Opus encoder, 48 kHz mono, OPUS_APPLICATION_VOIP, OPUS_SIGNAL_VOICE, configured from `opus_config`.
/// Move-only; a moved-from encoder fails every call with opus_errc::invalid_state.
/// Thread safety: Distinct objects: safe. Shared objects: unsafe (one thread at a time).
/// Source: libopus `opus_encoder_create`/`opus_encode` (RFC 6716), payload per RFC 7587 §4.2.
class opus_encoder {
 public:
  /// Creates and configures the encoder. Throws std::system_error (category "opus") on failure,
  /// e.g. opus_errc::bad_arg for an out-of-range config value.
  explicit opus_encoder(const opus_config& config = {}) : config_(config) {
    std::error_code ec;
    init(ec);
    throw_if(ec, "opus_encoder");
  }

  /// Non-throwing factory: clears `ec`, or on failure sets it (bad_arg for an out-of-range config
  /// value, alloc_fail) and returns an encoder in the moved-from state. Throws only std::bad_alloc.
  static opus_encoder create(const opus_config& config, std::error_code& ec) {
    opus_encoder e(config, ec);
    return e;
  }

  /// Moves the codec state; the source is left in the moved-from state. Never throws.
  opus_encoder(opus_encoder&&) noexcept = default;
  /// Moves the codec state; the source is left in the moved-from state. Never throws.
  opus_encoder& operator=(opus_encoder&&) noexcept = default;

  /// Encodes one frame of `pcm` (mono s16 at 48 kHz; 120, 240, 480, 960, 1920 or 2880 samples, i.e.
  /// 2.5..60 ms) into `out` (RFC 7587 §4.2: one Opus packet per RTP payload; 1275 bytes always suffice
  /// for one frame, RFC 6716 §3.2.1). Returns the packet size in bytes and clears `ec`; on failure
  /// returns 0 and sets `ec`: bad_arg (wrong frame size), buffer_too_small, invalid_state (moved from).
  /// With DTX, a result of ≤ 2 bytes means "silence: nothing needs to be sent". No allocation.
  std::size_t encode(std::span<const std::int16_t> pcm, std::span<std::byte> out, std::error_code& ec) noexcept {
    if (!state_) return fail(ec, opus_errc::invalid_state);
    if (!detail::valid_opus_frame_samples(pcm.size())) return fail(ec, opus_errc::bad_arg);
    const opus_int32 n = ::opus_encode(state_.get(), pcm.data(), static_cast<int>(pcm.size()),
                                       reinterpret_cast<unsigned char*>(out.data()), detail::clamp_to_opus_int32(out.size()));
    ec = detail::opus_error(n);
    return n < 0 ? 0 : static_cast<std::size_t>(n);
  }

  /// The encoder's algorithmic delay (OPUS_GET_LOOKAHEAD), in samples at 48 kHz: decoded output lags
  /// the input by this much. 0 for a moved-from encoder.
  [[nodiscard]] int lookahead_samples() const noexcept {
    opus_int32 samples = 0;
    if (state_ && ::opus_encoder_ctl(state_.get(), OPUS_GET_LOOKAHEAD(&samples)) != OPUS_OK) return 0;
    return static_cast<int>(samples);
  }

  /// Sets the packet loss the encoder expects, in percent (OPUS_SET_PACKET_LOSS_PERC; values outside
  /// 0..100 are clamped): it trades bits for robustness and, with in-band FEC, sizes the FEC (none at 0).
  /// Updates `config().expected_loss_percent`. Errors: invalid_state (moved from). No allocation.
  void set_expected_loss_percent(int percent, std::error_code& ec) noexcept {
    if (!state_) {
      ec = opus_errc::invalid_state;
      return;
    }
    percent = std::clamp(percent, 0, 100);
    ec = detail::opus_error(::opus_encoder_ctl(state_.get(), OPUS_SET_PACKET_LOSS_PERC(percent)));
    if (!ec) config_.expected_loss_percent = percent;
  }

  /// The configuration the encoder was created with (expected loss: the current one). Never throws.
  [[nodiscard]] const opus_config& config() const noexcept { return config_; }

 private:
  opus_encoder(const opus_config& config, std::error_code& ec) : config_(config) { init(ec); }

  static std::size_t fail(std::error_code& ec, opus_errc e) noexcept {
    ec = e;
    return 0;
  }

  void init(std::error_code& ec) {
    int err = OPUS_OK;
    state_.reset(::opus_encoder_create(detail::opus_rate_hz, detail::opus_channels, OPUS_APPLICATION_VOIP, &err));
    if (err == OPUS_OK && !state_) err = OPUS_ALLOC_FAIL;
    OpusEncoder* e = state_.get();
    if (err == OPUS_OK) err = ::opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    if (err == OPUS_OK) err = ::opus_encoder_ctl(e, OPUS_SET_BITRATE(config_.bitrate_bps));
    if (err == OPUS_OK) err = ::opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(config_.complexity));
    if (err == OPUS_OK) err = ::opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(config_.inband_fec ? 1 : 0));
    if (err == OPUS_OK) err = ::opus_encoder_ctl(e, OPUS_SET_DTX(config_.dtx ? 1 : 0));
    if (err == OPUS_OK) err = ::opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(config_.expected_loss_percent));
    ec = detail::opus_error(err);
    if (ec) state_.reset();
  }

  opus_config config_;
  std::unique_ptr<OpusEncoder, detail::encoder_deleter> state_;
};

/// An Opus decoder, 48 kHz mono output (any Opus packet decodes at any rate, RFC 6716 §2).
/// Move-only; a moved-from decoder fails every call with opus_errc::invalid_state.
/// Thread safety: Distinct objects: safe. Shared objects: unsafe (one thread at a time).
/// Source: libopus `opus_decoder_create`/`opus_decode` (RFC 6716), payload per RFC 7587 §4.2.
class opus_decoder {
 public:
  /// Creates the decoder. Throws std::system_error (category "opus") on failure.
  opus_decoder() {
    std::error_code ec;
    init(ec);
    throw_if(ec, "opus_decoder");
  }

  /// Non-throwing factory: clears `ec`, or on failure sets it (alloc_fail, internal_error) and returns a
  /// decoder in the moved-from state.
  static opus_decoder create(std::error_code& ec) {
    opus_decoder d(ec);
    return d;
  }

  /// Moves the codec state; the source is left in the moved-from state. Never throws.
  opus_decoder(opus_decoder&&) noexcept = default;
  /// Moves the codec state; the source is left in the moved-from state. Never throws.
  opus_decoder& operator=(opus_decoder&&) noexcept = default;

  /// Decodes one Opus packet (a whole RTP payload, RFC 7587 §4.2) into `pcm` (capacity in samples;
  /// 2880 holds any 60 ms packet, 5760 any packet). Returns the samples decoded and clears `ec`.
  /// On failure returns 0 and sets `ec`: invalid_packet (corrupt or empty payload: use `conceal` for
  /// a missing one), buffer_too_small (`pcm` shorter than the packet's duration), invalid_state.
  /// No allocation.
  std::size_t decode(std::span<const std::byte> payload, std::span<std::int16_t> pcm, std::error_code& ec) noexcept {
    if (payload.empty()) {
      ec = opus_errc::invalid_packet;
      return 0;
    }
    return run(payload, pcm, 0, ec);
  }

  /// Packet loss concealment (RFC 6716 §4.4): synthesises `pcm.size()` samples for a missing packet,
  /// which must be a multiple of 2.5 ms (120 samples), at most 120 ms. Returns the samples produced.
  /// Errors: bad_arg for a wrong size, invalid_state. No allocation.
  std::size_t conceal(std::span<std::int16_t> pcm, std::error_code& ec) noexcept {
    return run({}, pcm, 0, ec);
  }

  /// Recovers a missing packet from the in-band FEC (LBRR, RFC 6716 §2.1.7) carried in the packet
  /// that follows it (`next_payload`); `pcm.size()` must be the missing packet's duration (a multiple
  /// of 120 samples). When `next_payload` carries no FEC, libopus conceals instead, so a full frame is
  /// produced either way. Returns the samples produced. Errors: bad_arg, invalid_packet, invalid_state.
  /// No allocation.
  std::size_t decode_fec(std::span<const std::byte> next_payload, std::span<std::int16_t> pcm, std::error_code& ec) noexcept {
    if (next_payload.empty()) {
      ec = opus_errc::invalid_packet;
      return 0;
    }
    return run(next_payload, pcm, 1, ec);
  }

 private:
  explicit opus_decoder(std::error_code& ec) { init(ec); }

  void init(std::error_code& ec) {
    int err = OPUS_OK;
    state_.reset(::opus_decoder_create(detail::opus_rate_hz, detail::opus_channels, &err));
    if (err == OPUS_OK && !state_) err = OPUS_ALLOC_FAIL;
    ec = detail::opus_error(err);
    if (ec) state_.reset();
  }

  // The one call into opus_decode: an empty payload means PLC (NULL data), which like FEC needs an
  // exact multiple of 2.5 ms.
  std::size_t run(std::span<const std::byte> payload, std::span<std::int16_t> pcm, int fec, std::error_code& ec) noexcept {
    if (!state_) {
      ec = opus_errc::invalid_state;
      return 0;
    }
    if ((payload.empty() || fec != 0) && (pcm.empty() || pcm.size() % 120 != 0 || pcm.size() > 5760)) {
      ec = opus_errc::bad_arg;
      return 0;
    }
    const auto* data = payload.empty() ? nullptr : reinterpret_cast<const unsigned char*>(payload.data());
    const int n = ::opus_decode(state_.get(), data, detail::clamp_to_opus_int32(payload.size()), pcm.data(),
                                static_cast<int>(std::min<std::size_t>(pcm.size(), 5760)), fec);
    ec = detail::opus_error(n);
    return n < 0 ? 0 : static_cast<std::size_t>(n);
  }

  std::unique_ptr<OpusDecoder, detail::decoder_deleter> state_;
};

/// Whether the Opus packet `payload` carries in-band FEC (LBRR) data for the packet before it, which
/// `opus_decoder::decode_fec` can then recover: a SILK or hybrid packet (RFC 6716 §3.1) whose first SILK
/// frame has its LBRR flag set (§4.2.4: the flag follows the VAD flags at the start of the range-coded
/// data, so it is the first byte's bit 7 − frames). The same test as libopus 1.5's opus_packet_has_lbrr,
/// for mono packets. False for empty, invalid or CELT-only packets. Never throws; no allocation.
inline bool opus_packet_has_fec(std::span<const std::byte> payload) noexcept {
  if (payload.empty()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
  if ((p[0] >> 3) >= 16) return false;  // CELT-only configurations 16..31
  const int frame_samples = ::opus_packet_get_samples_per_frame(p, detail::opus_rate_hz);
  const int silk_frames = frame_samples > 960 ? frame_samples / 960 : 1;  // 20 ms SILK frames per Opus frame
  const unsigned char* frames[48];
  opus_int16 sizes[48];
  if (::opus_packet_parse(p, detail::clamp_to_opus_int32(payload.size()), nullptr, frames, sizes, nullptr) <= 0 ||
      sizes[0] == 0)
    return false;
  return ((frames[0][0] >> (7 - silk_frames)) & 1) != 0;
}

/// Bytes of libopus state per call leg: one mono encoder plus one mono decoder
/// (`opus_encoder_get_size(1) + opus_decoder_get_size(1)`), for the memory-per-call benchmark.
/// Never throws; any thread.
inline std::size_t opus_state_bytes() noexcept {
  return static_cast<std::size_t>(::opus_encoder_get_size(detail::opus_channels)) +
         static_cast<std::size_t>(::opus_decoder_get_size(detail::opus_channels));
}

}  // namespace mspi
