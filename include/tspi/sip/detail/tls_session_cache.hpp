// ptapi - portable TAPI
// tspi/sip/detail/tls_session_cache.hpp: the client side's TLS sessions kept for resumption (RFC 5246 §7.3,
// RFC 8446 §2.2), one per destination and server name, bounded, fed by OpenSSL's new-session callback.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace tspi::sip::detail {

/// OpenSSL SSL_SESSIONs by key (server name and address, see `tls_session_key`), at most `capacity`, the
/// least recently stored evicted first. Owns one reference of each. Not thread-safe: the transport's
/// executor only (OpenSSL calls `on_new_session` from inside the handshake or read of a connection).
class tls_session_cache {
 public:
  explicit tls_session_cache(std::size_t capacity) : capacity_(capacity) {}
  tls_session_cache(const tls_session_cache&) = delete;
  tls_session_cache& operator=(const tls_session_cache&) = delete;
  ~tls_session_cache() {
    for (auto& e : order_) SSL_SESSION_free(e.second);
  }

  /// Takes the reference `s` for `key`, replacing (and freeing) the key's earlier session; beyond
  /// `capacity` the oldest entry is freed. With capacity 0 `s` is freed at once.
  void store(const std::string& key, SSL_SESSION* s) {
    erase(key);
    if (capacity_ == 0) {
      SSL_SESSION_free(s);
      return;
    }
    while (order_.size() >= capacity_) {
      index_.erase(order_.front().first);
      SSL_SESSION_free(order_.front().second);
      order_.pop_front();
    }
    order_.emplace_back(key, s);
    index_.emplace(key, std::prev(order_.end()));
  }

  /// A reference to the session to offer for `key` (the caller frees it), or nullptr. A TLS 1.3 session
  /// leaves the cache (tickets are for one use, RFC 8446 §C.4: the server sends fresh ones); a TLS 1.2
  /// one stays. Sessions that OpenSSL says cannot be resumed are dropped.
  [[nodiscard]] SSL_SESSION* take(const std::string& key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    SSL_SESSION* s = it->second->second;
    if (!SSL_SESSION_is_resumable(s)) {
      erase(key);
      return nullptr;
    }
    if (SSL_SESSION_get_protocol_version(s) >= TLS1_3_VERSION) {
      order_.erase(it->second);
      index_.erase(it);
      return s;
    }
    SSL_SESSION_up_ref(s);
    return s;
  }

  /// Frees the session of `key`, if any (after a failed handshake with it).
  void erase(const std::string& key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return;
    SSL_SESSION_free(it->second->second);
    order_.erase(it->second);
    index_.erase(it);
  }

  /// Sessions held now.
  [[nodiscard]] std::size_t size() const noexcept { return order_.size(); }

  /// The SSL_CTX_sess_set_new_cb callback of a client context whose ex_data slot `context_slot()` is
  /// the cache, for a connection whose `connection_slot()` is its key (a std::string): stores the new
  /// session (1: OpenSSL gives us its reference). Without a key or cache it keeps nothing (0).
  static int on_new_session(SSL* ssl, SSL_SESSION* s) {
    auto* cache = static_cast<tls_session_cache*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_slot()));
    auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, connection_slot()));
    if (!cache || !key) return 0;
    cache->store(*key, s);
    return 1;
  }
  /// The SSL_CTX ex_data index holding the cache (Asio's ssl::context uses the app-data slot itself).
  static int context_slot() {
    static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return slot;
  }
  /// The SSL ex_data index holding a connection's key.
  static int connection_slot() {
    static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return slot;
  }

 private:
  std::size_t capacity_;
  std::list<std::pair<std::string, SSL_SESSION*>> order_;  // least recently stored first
  std::unordered_map<std::string, std::list<std::pair<std::string, SSL_SESSION*>>::iterator> index_;
};

}  // namespace tspi::sip::detail
