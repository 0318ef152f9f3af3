// ptapi - portable TAPI
// tspi/sip/detail/registration.hpp: one account's registration binding (RFC 3261 §10.2): REGISTER,
// refresh before expiry, digest challenges, retry after failure, and un-REGISTER.
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
#include <string>
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

  /// Sends the first REGISTER.
  void start() { send(cfg_.expires); }

  /// Removes the binding (Expires: 0), reusing the last credentials; the answer is not awaited. No more
  /// callbacks afterwards.
  void unregister() {
    timer_.cancel();
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
  message make_request(std::chrono::seconds expires) {
    message m;
    m.method = "REGISTER";
    uri ruri;
    ruri.scheme = registrar_.scheme;
    ruri.host = registrar_.host;
    ruri.port = registrar_.port;
    m.request_uri = ruri.to_string();
    name_addr from{cfg_.display_name, aor_, {}};
    from.set_param("tag", tag_);
    m.add("From", from.to_string());
    m.add("To", name_addr{cfg_.display_name, aor_, {}}.to_string());
    m.add("Call-ID", call_id_);
    m.add("CSeq", std::to_string(++cseq_) + " REGISTER");
    m.add("Contact", "<" + contact_(peer_.protocol).to_string() + ">");
    m.add("Expires", std::to_string(expires.count()));
    if (auto proxy = loose_route_uri(cfg_.outbound_proxy)) m.add("Route", "<" + proxy->to_string() + ">");  // §8.1.2
    return m;
  }

  void send(std::chrono::seconds expires) {
    auto m = make_request(expires);
    if (auth_.has_challenge()) (void)auth_.authorize(m);  // pre-authorized (RFC 3261 §22.3)
    transmit(std::move(m), expires);
  }

  void transmit(message m, std::chrono::seconds expires) {
    if (trace_) trace_(m, true);
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
      registered_ = expires.count() > 0;
      on_state_(account_, registered_);
      schedule(refresh_after(*r, expires));
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
    on_state_(account_, false);
    schedule(retry_);
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
  boost::asio::steady_timer timer_;
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
  bool registered_ = false, stopped_ = false;
  digest_client auth_;
};

}  // namespace tspi::sip::detail
