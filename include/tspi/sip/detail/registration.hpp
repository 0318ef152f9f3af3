// ptapi - portable TAPI
// tspi/sip/detail/registration.hpp: one account's registration binding (RFC 3261 §10.2): REGISTER,
// refresh before expiry, digest challenges, retry after failure, un-REGISTER, the public address learned
// from the response's Via (RFC 3581) and keep-alives of the flow (RFC 5626 §4.4.1).
#pragma once

#include <tspi/sip/config.hpp>
#include <tspi/sip/detail/outbound_proxy.hpp>
#include <tspi/sip/digest.hpp>
#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/uri.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tspi::sip::detail {

/// The registration of one account. Runs on the TSP's thread; owned by a shared_ptr (its timer and
/// transaction callbacks hold weak references).
class registration : public std::enable_shared_from_this<registration> {
 public:
  using state_callback = std::function<void(std::size_t account, bool registered)>;
  using contact_function = std::function<uri(transport_protocol)>;

  registration(transaction_layer& layer, boost::asio::any_io_executor ex, std::size_t account, sip_account cfg, uri aor,
               uri registrar, peer registrar_peer, contact_function contact, std::chrono::seconds retry,
               state_callback on_state, std::function<void(const message&, bool)> trace)
      : layer_(layer), timer_(ex), account_(account), cfg_(std::move(cfg)), aor_(std::move(aor)),
        registrar_(std::move(registrar)), peer_(registrar_peer), contact_(std::move(contact)), retry_(retry),
        on_state_(std::move(on_state)), trace_(std::move(trace)), call_id_(random_token(20)), tag_(random_token(10)),
        auth_({cfg_.username.empty() ? aor_.user : cfg_.username, cfg_.password},
              digest_policy{cfg_.realms, false, cfg_.allow_rfc2069}) {}

  /// What `sip_config` adds to a registration (set before `start`): User-Agent, the outcome callback, the
  /// keep-alive and whether a public address is configured (then none is learned).
  struct options {
    std::string user_agent;
    std::function<void(std::size_t account, int status, std::string_view reason)> on_result;
    sip_keepalive keepalive;
    bool learn_public_address = true;
  };
  /// Sets the options; call before `start`.
  void set_options(options o) { opts_ = std::move(o); }

  /// Sends the first REGISTER.
  void start() { send(cfg_.expires); }

  /// The address and port the registrar saw our REGISTER come from (Via `received`/`rport` of its last
  /// 2xx) when it differs from our Contact's; nullopt otherwise (or with a configured public address).
  [[nodiscard]] const std::optional<std::pair<std::string, std::uint16_t>>& public_address() const noexcept {
    return public_;
  }
  /// The registrar's transport address (the flow the keep-alives go over).
  [[nodiscard]] const peer& registrar_peer() const noexcept { return peer_; }
  /// A single-CRLF pong came over the TCP flow to the registrar (RFC 5626 §4.4.1).
  void on_pong() {
    pong_timer_.cancel();
    awaiting_pong_ = false;
  }

  /// Removes the binding (Expires: 0), reusing the last credentials; the answer is not awaited. No more
  /// callbacks afterwards.
  void unregister() {
    timer_.cancel();
    keepalive_timer_.cancel();
    pong_timer_.cancel();
    stopped_ = true;
    if (registered_) send(std::chrono::seconds(0));
  }

  /// True after a 2xx to the last REGISTER that asked for a binding.
  [[nodiscard]] bool registered() const noexcept { return registered_; }
  /// The account's index.
  [[nodiscard]] std::size_t account() const noexcept { return account_; }
  /// The realms this account answers: `sip_account::realms`, or when those are empty the realm of the
  /// registrar's first challenge (its topmost Digest challenge), once one came; else empty.
  [[nodiscard]] const std::vector<std::string>& realms() const noexcept { return auth_.policy().realms; }

 private:
  // RFC 3261 §10.2: REGISTER's Request-URI is the domain of the AOR, without user part (the registrar is
  // only the next hop).
  std::string domain_uri() const {
    uri ruri;
    ruri.scheme = aor_.scheme;
    ruri.host = aor_.host;
    ruri.port = aor_.port;
    return ruri.to_string();
  }

  message make_request(std::chrono::seconds expires) {
    message m;
    m.method = "REGISTER";
    m.request_uri = domain_uri();
    name_addr from{cfg_.display_name, aor_, {}};
    from.set_param("tag", tag_);
    m.add("From", from.to_string());
    m.add("To", name_addr{cfg_.display_name, aor_, {}}.to_string());
    m.add("Call-ID", call_id_);
    m.add("CSeq", std::to_string(++cseq_) + " REGISTER");
    const auto contact = contact_(peer_.protocol).to_string();
    // A Contact replaced by a learned public address: the old binding goes in the same request.
    if (!stale_contact_.empty() && stale_contact_ != contact) m.add("Contact", "<" + stale_contact_ + ">;expires=0");
    m.add("Contact", "<" + contact + ">");
    m.add("Expires", std::to_string(expires.count()));
    if (!opts_.user_agent.empty()) m.add("User-Agent", opts_.user_agent);
    if (auto proxy = loose_route_uri(cfg_.outbound_proxy)) m.add("Route", "<" + proxy->to_string() + ">");  // §8.1.2
    return m;
  }

  void send(std::chrono::seconds expires) {
    auto m = make_request(expires);
    if (auth_.has_challenge()) (void)auth_.authorize(m);  // pre-authorized (RFC 3261 §22.3)
    transmit(std::move(m), expires);
  }

  void transmit(message m, std::chrono::seconds expires) {
    std::weak_ptr<registration> weak = weak_from_this();
    layer_.send_request(std::move(m), peer_, [weak, expires](const message* r, std::error_code) {
      if (auto self = weak.lock()) self->on_response(r, expires);
    });
  }

  void on_response(const message* r, std::chrono::seconds expires) {
    if (r && trace_) trace_(*r, false);
    if (stopped_) return;
    if (r && r->status < 200) return;
    if (r && r->status < 300) {
      challenges_ = 0;
      stale_contact_.clear();
      if (expires.count() > 0 && learn(*r)) return send(expires);  // again, with the public Contact
      registered_ = expires.count() > 0;
      report(r);
      on_state_(account_, registered_);
      schedule(refresh_after(*r, expires));
      if (registered_) schedule_keepalive();
      return;
    }
    if (r && (r->status == 401 || r->status == 407) && challenges_ < 2 && !cfg_.password.empty()) {
      if (auth_.policy().realms.empty()) learn_realm(*r);
      auto retry = make_request(expires);
      if (!auth_.on_challenge(*r) && !auth_.authorize(retry)) {
        ++challenges_;
        return transmit(std::move(retry), expires);
      }
    }
    if (r && r->status == 423) {  // Interval Too Brief: ask again with Min-Expires (§10.2.8)
      unsigned min = 0;
      if (parse_int(trim(r->header("Min-Expires").value_or("")), min) && min > expires.count())
        return transmit(make_request(std::chrono::seconds(min)), std::chrono::seconds(min));
    }
    challenges_ = 0;
    registered_ = false;
    report(r);
    on_state_(account_, false);
    schedule(retry_);
  }

  // The outcome for `options::on_result`: the final response's status and reason, or 408 when none came.
  void report(const message* r) {
    if (!opts_.on_result) return;
    if (r) opts_.on_result(account_, r->status, r->reason);
    else opts_.on_result(account_, 408, "Request Timeout (no response from the registrar)");
  }

  // RFC 3581 §9 / RFC 5626 §4.3 (the registration learns the flow's public side): the source the
  // registrar saw, from the top Via's `received` and `rport` (only the address over TCP, whose source port
  // is not where we listen). True when it differs from our Contact: it becomes the Contact's host and port.
  bool learn(const message& r) {
    if (!opts_.learn_public_address) return false;
    const auto v = parse_via(r.header("Via").value_or(""));
    if (!v) return false;
    const auto received = v->param("received");
    const auto rport = v->param("rport");
    const auto contact = contact_(peer_.protocol);
    std::string host = received && !received->empty() ? std::string(*received) : contact.host;
    unsigned port = contact.port;
    if (peer_.protocol == transport_protocol::udp && rport && !rport->empty() && !parse_int(*rport, port)) port = contact.port;
    if (!host.empty() && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host == contact.host && port == contact.port) return false;
    if (public_ && public_->first == host && public_->second == port) return false;
    stale_contact_ = contact.to_string();
    public_ = std::pair<std::string, std::uint16_t>(host, static_cast<std::uint16_t>(port));
    return true;
  }

  // Keep-alive of the flow to the registrar while registered: a double-CRLF ping over TCP whose pong must
  // come within 10 s (else the flow failed: register again, RFC 5626 §4.4.1), CRLF or OPTIONS over UDP.
  void schedule_keepalive() {
    const auto every = is_reliable(peer_.protocol) ? opts_.keepalive.tcp_interval : opts_.keepalive.udp_interval;
    if (every.count() <= 0 || (peer_.protocol == transport_protocol::udp && opts_.keepalive.udp == sip_keepalive::method::none))
      return;
    keepalive_timer_.expires_after(every);
    std::weak_ptr<registration> weak = weak_from_this();
    keepalive_timer_.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopped_ || !self->registered_) return;
      self->keepalive();
      self->schedule_keepalive();
    });
  }

  void keepalive() {
    if (peer_.protocol == transport_protocol::udp && opts_.keepalive.udp == sip_keepalive::method::options) {
      message m;
      m.method = "OPTIONS";
      m.request_uri = domain_uri();
      name_addr from{cfg_.display_name, aor_, {}};
      from.set_param("tag", random_token(10));
      m.add("From", from.to_string());
      m.add("To", name_addr{{}, aor_, {}}.to_string());
      m.add("Call-ID", random_token(20));
      m.add("CSeq", "1 OPTIONS");
      if (!opts_.user_agent.empty()) m.add("User-Agent", opts_.user_agent);
      layer_.send_request(std::move(m), peer_, [](const message*, std::error_code) {});
      return;
    }
    const bool tcp = is_reliable(peer_.protocol);
    layer_.get_transport().send_text(peer_, std::string(tcp ? "\r\n\r\n" : "\r\n"));
    if (!tcp || awaiting_pong_) return;
    awaiting_pong_ = true;
    pong_timer_.expires_after(std::chrono::seconds(10));
    std::weak_ptr<registration> weak = weak_from_this();
    pong_timer_.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopped_ || !self->awaiting_pong_) return;
      self->awaiting_pong_ = false;
      self->timer_.cancel();
      self->send(self->cfg_.expires);  // the flow is dead: register again (over a new connection)
    });
  }

  // Trust on first use: the registrar is configured, so the realm of its first challenge becomes the
  // account's (used for INVITE challenges too).
  void learn_realm(const message& r) {
    for (const char* name : {"WWW-Authenticate", "Proxy-Authenticate"}) {
      std::error_code ec;
      const auto all = parse_digest_challenges(r.headers_named(name), ec);
      if (all.empty()) continue;
      auto policy = auth_.policy();
      policy.realms = {all.front().realm};
      auth_.set_policy(std::move(policy));
      return;
    }
  }

  // The binding's lifetime as granted (our Contact's expires, else Expires, else what we asked), and when
  // to refresh it: 30 s before the end, or at half of a short one.
  static std::chrono::seconds refresh_after(const message& r, std::chrono::seconds asked) {
    long granted = asked.count();
    if (auto e = r.header("Expires")) (void)parse_int(trim(*e), granted);
    for (auto c : r.headers_named("Contact"))
      if (auto na = parse_name_addr(c))
        if (auto e = na->param("expires")) (void)parse_int(*e, granted);
    if (granted <= 0) granted = asked.count();
    return std::chrono::seconds(granted > 60 ? granted - 30 : std::max(1L, granted / 2));
  }

  void schedule(std::chrono::seconds after) {
    timer_.expires_after(after);
    std::weak_ptr<registration> weak = weak_from_this();
    timer_.async_wait([weak](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopped_) return;
      self->send(self->cfg_.expires);
    });
  }

  transaction_layer& layer_;
  boost::asio::steady_timer timer_, keepalive_timer_{timer_.get_executor()}, pong_timer_{timer_.get_executor()};
  const std::size_t account_;
  const sip_account cfg_;
  const uri aor_, registrar_;
  const peer peer_;
  contact_function contact_;
  const std::chrono::seconds retry_;
  state_callback on_state_;
  std::function<void(const message&, bool)> trace_;
  const std::string call_id_, tag_;
  std::uint32_t cseq_ = 0;
  int challenges_ = 0;
  bool registered_ = false, stopped_ = false, awaiting_pong_ = false;
  digest_client auth_;
  options opts_;
  std::optional<std::pair<std::string, std::uint16_t>> public_;
  std::string stale_contact_;  // our Contact before the public address was learned, removed with the next REGISTER
};

}  // namespace tspi::sip::detail
