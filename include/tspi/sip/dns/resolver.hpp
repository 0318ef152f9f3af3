// ptapi - portable TAPI
// tspi/sip/dns/resolver.hpp: RFC 3263 §4 on c-ares and Boost.Asio: a SIP URI to the ordered transport
// addresses its requests try (NAPTR -> SRV -> A/AAAA), with TTL caching and bounds against hostile DNS.
#pragma once

#include <tspi/sip/detail/dns_answers.hpp>
#include <tspi/sip/detail/dns_channel.hpp>
#include <tspi/sip/detail/text.hpp>
#include <tspi/sip/dns/cache.hpp>
#include <tspi/sip/dns/config.hpp>
#include <tspi/sip/dns/error.hpp>
#include <tspi/sip/dns/selection.hpp>
#include <tspi/sip/dns/srv_order.hpp>
#include <tspi/sip/transport/peer.hpp>
#include <tspi/sip/uri.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace tspi::sip {

/// Resolves SIP URIs to the transport addresses to try, in order (RFC 3263 §4; failover over them is the
/// caller's, §4.3). IP literals and `localhost` are answered without DNS; a URI with a port gets A/AAAA;
/// with `;transport=` SRV then A/AAAA; otherwise NAPTR (RFC 3403) then SRV (RFC 2782, ordered by
/// `order_srv`) then A/AAAA with port 5060 (5061 for TLS). A `sips:` URI follows only TLS (NAPTR SIPS+D2T, SRV
/// _sips._tcp). Answers are cached by TTL (`dns_config`).
///
/// Bounds (a hostile DNS server costs at most this): `dns_config::max_targets` addresses per result;
/// 16 NAPTR records, 4 NAPTR-named SRV lookups, 4 * max_targets SRV records per answer and max_targets
/// SRV targets per SRV name looked up; 2 * max_targets + 6 queries per resolution; c-ares bounds each
/// answer to its UDP/TCP message and each query by `timeout` and `tries`.
///
/// @par Thread Safety
/// Not thread-safe: construct, use and destroy it on the executor's thread (the SIP TSP's core thread).
class dns_resolver {
 public:
  /// The addresses to try in order (never empty on success), or why there are none (`dns_errc`).
  using handler = std::function<void(std::error_code, std::vector<peer>)>;

  /// Starts c-ares on `ex` (no thread of its own). `random` orders SRV records of equal priority (tests
  /// inject a seeded one; empty = seeded from std::random_device). `ec` = `dns_errc::init_failed` when
  /// c-ares cannot start (a server c-ares cannot parse); then `resolve` fails every URI that needs DNS
  /// with that error. Throws only std::bad_alloc.
  dns_resolver(boost::asio::any_io_executor ex, dns_config cfg, dns_transports transports, srv_random random,
               std::error_code& ec)
      : executor_(ex), cfg_(std::move(cfg)), transports_(transports),
        random_(random ? std::move(random) : make_srv_random(std::random_device{}())), channel_(ex, cfg_, ec),
        naptr_cache_(cfg_.cache_entries), srv_cache_(cfg_.cache_entries), address_cache_(cfg_.cache_entries) {
    if (ec) ec = dns_errc::init_failed;
  }

  /// Resolves `u`; `done` runs once, always later (posted to the executor), never from within this call.
  /// Errors: `tls_required` (TLS needed, not enabled), `transport_unsupported` (at once, no query: see `plan_resolution`),
  /// `not_found`, `timeout`, `server_failure`, `init_failed`. When the resolver is destroyed first,
  /// `done` is not called. Throws only std::bad_alloc.
  void resolve(const uri& u, handler done) {
    auto plan = plan_resolution(u, transports_);
    if (plan.first == dns_plan::step::failed) return finish_now(std::move(done), plan.error, {});
    if (plan.first == dns_plan::step::literal) return finish_now(std::move(done), {}, {plan.target});
    if (!channel_.valid()) return finish_now(std::move(done), dns_errc::init_failed, {});
    auto st = std::make_shared<lookup>();
    st->done = std::move(done);
    st->host = dns_key(u.host);
    st->queries_left = 2 * cfg_.max_targets + 6;
    st->transports = plan.tls_only ? dns_transports{false, false, true} : transports_;  // sips: TLS only
    const auto default_transport = plan.transport;
    const std::uint16_t default_port = plan.port;
    switch (plan.first) {
      case dns_plan::step::addresses:
        return host_addresses(st, st->host, plan.port, plan.transport, [this, st] { finish(st); });
      case dns_plan::step::srv:
        return srv_names(st, {{plan.transport, srv_name(plan.transport, st->host)}}, 0, [this, st, default_transport, default_port] {
          if (!st->found.empty()) return finish(st);
          host_addresses(st, st->host, default_port, default_transport, [this, st] { finish(st); });
        });
      default:
        return naptr(st, [this, st, default_transport, default_port] {
          if (!st->found.empty()) return finish(st);
          host_addresses(st, st->host, default_port, default_transport, [this, st] { finish(st); });
        });
    }
  }

 private:
  using then = std::function<void()>;
  struct lookup {
    handler done;
    std::string host;
    std::vector<peer> found;
    dns_transports transports;  // those this URI may use
    std::error_code error;  // the first failure other than "no such record"
    std::size_t queries_left = 0;
  };

  // Posts `done`; it is dropped uncalled when the resolver is gone by then (a provider shut down).
  void finish_now(handler done, std::error_code ec, std::vector<peer> found) {
    boost::asio::post(executor_, [alive = std::weak_ptr<int>(alive_), done = std::move(done), ec, found = std::move(found)]() mutable {
      if (alive.lock()) done(ec, std::move(found));
    });
  }
  void finish(const std::shared_ptr<lookup>& st) {
    const std::error_code ec = st->found.empty() ? (st->error ? st->error : dns_errc::not_found) : std::error_code();
    finish_now(std::move(st->done), ec, std::move(st->found));
  }
  bool full(const lookup& st) const { return st.found.size() >= cfg_.max_targets; }
  // Spends one query of the budget; false when it is gone.
  static bool spend(lookup& st) { return st.queries_left > 0 && st.queries_left-- > 0; }
  static void note(lookup& st, int status) {
    if (status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA || st.error) return;
    st.error = status == ARES_ETIMEOUT || status == ARES_ECONNREFUSED ? dns_errc::timeout : dns_errc::server_failure;
  }

  // §4.1: NAPTR, then the SRV names of its usable records, else of every enabled transport.
  void naptr(const std::shared_ptr<lookup>& st, then next) {
    auto follow = [this, st, next](const std::vector<naptr_record>& records) {
      auto names = usable_naptr(records, st->transports, 4);
      if (names.empty()) {
        for (const auto p : {transport_protocol::udp, transport_protocol::tcp, transport_protocol::tls})
          if (p == transport_protocol::udp ? st->transports.udp : p == transport_protocol::tcp ? st->transports.tcp : st->transports.tls)
            names.emplace_back(p, srv_name(p, st->host));
      }
      srv_names(st, std::move(names), 0, next);
    };
    if (auto hit = naptr_cache_.find(st->host)) return follow(*hit);
    if (!spend(*st)) return next();
    channel_.query(st->host, 35, [this, st, follow](int status, const unsigned char* m, int n) {
      note(*st, status);
      auto parsed = status == ARES_SUCCESS ? detail::parse_naptr(m, n, 16, cfg_.max_ttl) : detail::dns_records<naptr_record>{};
      naptr_cache_.insert(st->host, parsed.records, parsed.ttl);
      follow(parsed.records);
    });
  }

  // SRV of names[i], its targets' addresses, then names[i + 1]... until enough addresses.
  void srv_names(const std::shared_ptr<lookup>& st, std::vector<std::pair<transport_protocol, std::string>> names,
                 std::size_t i, then next) {
    if (i >= names.size() || full(*st)) return next();
    const auto transport = names[i].first;
    const auto& name = names[i].second;
    auto go_on = [this, st, names, i, next, transport](const std::vector<srv_record>& records) {
      auto ordered = order_srv(records, random_);
      if (ordered.size() > cfg_.max_targets) ordered.resize(cfg_.max_targets);
      srv_targets(st, std::move(ordered), 0, transport, [this, st, names, i, next] { srv_names(st, names, i + 1, next); });
    };
    const auto key = dns_key(name);
    if (auto hit = srv_cache_.find(key)) return go_on(*hit);
    if (!spend(*st)) return next();
    channel_.query(key, 33, [this, st, key, go_on](int status, const unsigned char* m, int n) {
      note(*st, status);
      auto parsed = status == ARES_SUCCESS ? detail::parse_srv(m, n, 4 * cfg_.max_targets, cfg_.max_ttl) : detail::dns_records<srv_record>{};
      srv_cache_.insert(key, parsed.records, parsed.ttl);
      go_on(parsed.records);
    });
  }

  void srv_targets(const std::shared_ptr<lookup>& st, std::vector<srv_record> targets, std::size_t i,
                   transport_protocol transport, then next) {
    if (i >= targets.size() || full(*st)) return next();
    const auto host = targets[i].target;
    const auto port = targets[i].port;
    host_addresses(st, dns_key(host), port, transport, [this, st, targets = std::move(targets), i, transport, next]() mutable {
      srv_targets(st, std::move(targets), i + 1, transport, next);
    });
  }

  // A/AAAA of `host` (an IP literal needs no query: SRV targets may be literals), appended with `port`.
  void host_addresses(const std::shared_ptr<lookup>& st, const std::string& host, std::uint16_t port,
                      transport_protocol transport, then next) {
    auto add = [this, st, port, transport, next](const std::vector<boost::asio::ip::address>& addresses) {
      for (const auto& a : addresses) {
        peer p{transport, a, port};
        if (full(*st)) break;
        if (std::find(st->found.begin(), st->found.end(), p) == st->found.end()) st->found.push_back(p);
      }
      next();
    };
    boost::system::error_code bec;
    if (auto literal = boost::asio::ip::make_address(host, bec); !bec) return add({literal});
    if (auto hit = address_cache_.find(host)) return add(*hit);
    if (!spend(*st)) return next();
    channel_.addresses(host, [this, st, host, add](int status, const ares_addrinfo* ai) {
      note(*st, status);
      auto parsed = status == ARES_SUCCESS ? detail::parse_addresses(ai, cfg_.max_targets, cfg_.max_ttl)
                                           : detail::dns_records<boost::asio::ip::address>{};
      address_cache_.insert(host, parsed.records, parsed.ttl);
      add(parsed.records);
    });
  }

  boost::asio::any_io_executor executor_;
  dns_config cfg_;
  dns_transports transports_;
  srv_random random_;
  detail::dns_channel channel_;
  dns_cache<std::vector<naptr_record>> naptr_cache_;
  dns_cache<std::vector<srv_record>> srv_cache_;
  dns_cache<std::vector<boost::asio::ip::address>> address_cache_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted handlers run only while it lives
};

}  // namespace tspi::sip
