// ptapi - portable TAPI
// mspi/turn/options.hpp: what a TURN client (mspi/turn/allocation.hpp) is configured with and what it
// reports: long-term credentials, lifetimes and refresh intervals, the result of an Allocate, counters.
#pragma once

#include <mspi/stun/client.hpp>

#include <boost/asio/ip/udp.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace mspi::turn {

/// Long-term credentials (RFC 8489 §9.2; RFC 8656 §5): the TURN account's username and password, used
/// as given (OpaqueString processing of non-ASCII input is the caller's, RFC 8489 §9.2.2).
struct credentials {
  std::string username;  ///< USERNAME, at most 513 bytes (RFC 8489 §14.3).
  std::string password;  ///< The password; only MD5(username:realm:password) is ever sent (as an HMAC key).
};

/// Where the allocation's datagrams from the TURN server come from.
enum class receive_mode : std::uint8_t {
  /// The allocation keeps one `async_receive_from` pending on the socket from the first request until it
  /// is closed and delivers relayed data to its data handler; datagrams from other sources are dropped.
  /// For a socket used only through the relay.
  own,
  /// The socket's owner receives and hands every datagram to `allocation::handle` (a media socket shared
  /// with RTP/RTCP and ICE's host and server-reflexive candidates, RFC 7983 demultiplexing).
  external,
};

/// Settings of a TURN allocation (RFC 8656). Times in seconds unless said.
struct allocation_options {
  /// LIFETIME requested in Allocate and each Refresh (RFC 8656 §7.1, §8.1); the server may shorten it (its
  /// default 600 s, RFC 8656 §7.2). The allocation is refreshed `refresh_margin` before it expires.
  std::chrono::seconds lifetime{600};
  /// How long before expiry a Refresh is sent; half the lifetime when the lifetime is under 2 × this.
  std::chrono::seconds refresh_margin{60};
  /// Interval of CreatePermission refreshes: below the permission lifetime of 300 s (RFC 8656 §9).
  std::chrono::seconds permission_refresh{240};
  /// Interval of ChannelBind refreshes: below the channel lifetime of 600 s (RFC 8656 §12).
  std::chrono::seconds channel_refresh{540};
  /// Retransmission of requests over UDP (RFC 8489 §6.2.1: RTO, Rc, Rm); `software` unused.
  stun::binding_options retransmission{};
  /// Retries after 401 (the first challenge) and 438 Stale Nonce per request, at most (RFC 8489 §9.2.5).
  unsigned max_auth_retries = 3;
  /// Who receives from the socket (see `receive_mode`).
  receive_mode receive = receive_mode::own;
};

/// The outcome of a successful Allocate (RFC 8656 §7.3).
struct allocate_result {
  boost::asio::ip::udp::endpoint relayed;  ///< XOR-RELAYED-ADDRESS: the relayed transport address (a candidate, RFC 8445 §5.1.1.2).
  boost::asio::ip::udp::endpoint mapped;   ///< XOR-MAPPED-ADDRESS: the server-reflexive address (unspecified if absent).
  std::chrono::seconds lifetime{0};        ///< LIFETIME granted by the server.
};

/// Counters of an allocation (for tests, logs and benchmarks).
struct allocation_statistics {
  std::uint64_t requests_sent = 0;           ///< Requests sent, retransmissions included.
  std::uint64_t challenges = 0;              ///< 401 challenges answered with credentials.
  std::uint64_t stale_nonces = 0;            ///< 438 Stale Nonce answered with the new nonce.
  std::uint64_t refreshes = 0;               ///< Successful Refresh requests with a non-zero lifetime.
  std::uint64_t permissions_installed = 0;   ///< Successful CreatePermission requests (first and refreshes).
  std::uint64_t channels_bound = 0;          ///< Successful ChannelBind requests (first and refreshes).
  std::uint64_t refresh_failures = 0;        ///< The client's own refreshes that failed (error or timeout).
  std::uint64_t channel_data_sent = 0;       ///< ChannelData messages sent.
  std::uint64_t send_indications_sent = 0;   ///< Send indications sent.
  std::uint64_t channel_data_received = 0;   ///< ChannelData messages delivered.
  std::uint64_t data_indications_received = 0;  ///< Data indications delivered.
  std::uint64_t dropped = 0;                 ///< Datagrams from the server dropped (malformed, unknown, unauthenticated).
};

}  // namespace mspi::turn
