// ptapi - portable TAPI
// tspi/sip/detail/session.hpp: the SIP side of one TAPI call (the INVITE dialog usage and what is pending
// on it), as the SIP TSP keeps it.
#pragma once

#include <tspi/sip/dialog.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction.hpp>
#include <tspi/sip/transport.hpp>
#include <tspi/sip/uri.hpp>
#include <tspi/tsp.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tspi::sip::detail {

/// Where an INVITE session is (RFC 3261 §13 from the TAPI call's point of view).
enum class session_phase : std::uint8_t {
  preparing,   ///< UAC: waiting for the MSP's offer (or for the destination) before sending INVITE.
  inviting,    ///< UAC: INVITE sent, no final response yet.
  offered,     ///< UAS: INVITE received, not answered yet.
  answering,   ///< UAS: answered by the application, waiting for the MSP's answer.
  confirmed,   ///< 2xx sent or received: the dialog is up.
  ended,       ///< BYE, CANCEL, a failure or a reject ended it; only protocol clean-up remains.
};

/// A pending re-INVITE of ours (hold/unhold, RFC 3264 §8.4; refresh: a session timer's, RFC 4028 §7.4).
enum class reinvite_kind : std::uint8_t { none, hold, unhold, refresh };

/// One early dialog of an outgoing INVITE (RFC 3261 §12.1.2): a To tag seen in a 1xx (or in a 2xx of a
/// fork that lost). Part of `session`.
struct early_dialog {
  sip::dialog dialog;                 ///< Built from the 1xx (Contact, Record-Route); PRACK goes in it.
  std::optional<std::uint32_t> rseq;  ///< RSeq of the last in-order reliable 1xx (RFC 3262 §4), none before.
  std::string sdp;                    ///< The last SDP this dialog sent in a 1xx; empty when none.
  std::optional<message> ack;         ///< A fork whose 2xx lost: its ACK (resent on 2xx retransmissions).
};

/// Bound of `session::early`: a forking proxy may create many; beyond this, 1xx of new tags are only
/// counted (no PRACK, no early media) and extra 2xx still get ACK + BYE.
inline constexpr std::size_t max_early_dialogs = 16;

/// The SIP state of one call. Shared by the TSP's table and the transaction callbacks, so a callback that
/// fires after TSPI_lineCloseCall still finds it (and only cleans up the protocol: ACK + BYE of a late 2xx).
struct session {
  call_id call = 0;                          ///< The TAPI call (0 once the TAPI object closed it).
  std::size_t address_id = 0;                ///< Account index.
  bool incoming = false;                     ///< UAS side of the INVITE.
  session_phase phase = session_phase::preparing;
  peer remote;                               ///< Where requests of this call go (next hop).
  uri target;                                ///< UAC: the Request-URI dialled.
  message invite;                            ///< UAC: our last INVITE (for CANCEL, ACK, auth retry); UAS: the INVITE.
  /// UAC: the INVITE client transaction, for CANCEL. Weak: the transaction layer keeps it while it runs,
  /// and its response handler holds this session, so a strong pointer here would be a cycle that leaks
  /// every placed call.
  std::weak_ptr<client_transaction> invite_tx;
  std::shared_ptr<server_transaction> invite_server;  ///< UAS: the INVITE server transaction.
  std::optional<sip::dialog> dialog;         ///< Once established.
  std::string local_tag;                     ///< Our tag.
  std::optional<message> ack;                ///< UAC: the ACK sent for the 2xx (resent on 2xx retransmissions).
  std::string local_sdp;                     ///< UAS: the MSP's answer (or late offer), until the 2xx carries it.
  bool late_offer = false;                   ///< UAS: the INVITE had no SDP; our offer goes in the 2xx, the answer in the ACK.
  request_id answer_request = 0;             ///< UAS: the pending TSPI_lineAnswer.
  bool cancel_pending = false;               ///< UAC: dropped before a final response; a late 2xx gets ACK + BYE.
  int auth_attempts = 0;                     ///< UAC: digest retries of the current request.
  bool media_started = false;                ///< start_media sent to the MSP.
  bool on_hold = false;                      ///< Our side put the call on hold.
  reinvite_kind reinvite = reinvite_kind::none;  ///< Our pending re-INVITE.
  request_id reinvite_request = 0;           ///< Its TSPI request.
  std::shared_ptr<server_transaction> remote_reinvite;  ///< The peer's re-INVITE awaiting the MSP's answer.
  request_id transfer_request = 0;           ///< Pending TSPI_lineBlindTransfer (REFER sent, no final response).
  bool transferring = false;                 ///< REFER accepted: NOTIFYs report the transfer's progress.
  call_id consultation = 0;                  ///< complete_transfer: the consultation call, ended with this one.
  /// What the application is told about the call (LINE_CALLINFO), as last reported.
  provider_call_info info;
  /// UAS: the no-answer expiry while offered; then, once ended, when the Call-ID entry is dropped.
  std::optional<boost::asio::steady_timer> timer;

  // ---- early media, forking, 100rel (RFC 3262), UPDATE (RFC 3311): session/early_media.hpp, prack.hpp,
  // update.hpp ----
  /// UAC: the early dialogs of our INVITE, one per To tag of a 1xx (RFC 3261 §12.1.2, §13.2.2.4), at most
  /// `max_early_dialogs`; also the forks whose 2xx lost (`ended`), so their 2xx retransmissions get the
  /// same ACK and no second BYE.
  std::vector<early_dialog> early;
  /// UAC: the SDP last given to the MSP as the answer before the 2xx (early media); empty when none.
  std::string early_sdp;
  /// UAS: the INVITE required 100rel: our 1xx are sent reliably (RFC 3262 §3).
  bool reliable_provisional = false;
  /// UAS: RSeq of our last reliable 1xx (the first is random in 1..2^31-1, RFC 3262 §3).
  std::uint32_t local_rseq = 0;
  /// UAS: our reliable 1xx not PRACKed yet (retransmitted with T1, 2·T1... until PRACK or 64·T1).
  std::optional<message> unacked_provisional;
  /// UAS: the retransmission timer of `unacked_provisional`.
  std::optional<boost::asio::steady_timer> provisional_timer;
  /// Our UPDATE with an offer, waiting for its answer (RFC 3311 §5.1); a peer's offer meanwhile gets 491.
  bool update_pending = false;
  // ---- session timer (RFC 4028, session/session_timer.hpp) ----
  std::chrono::seconds session_interval{0};  ///< Negotiated Session-Expires; 0 = no session timer.
  bool refresher = false;                    ///< We refresh (at half the interval: UPDATE or re-INVITE).
  bool peer_supports_timer = false;          ///< UAS: the INVITE's Supported lists `timer` (our 2xx then Requires it).
  /// The peer's INVITE (UAS) or 2xx (UAC) lists UPDATE in Allow (RFC 3311 §5.1): our refreshes are UPDATEs
  /// without an offer (RFC 4028 §9 recommends them), else re-INVITEs.
  bool peer_allows_update = false;
  int interval_retries = 0;                  ///< UAC: INVITEs resent after a 422.
  std::optional<boost::asio::steady_timer> refresh_timer;  ///< Our next refresh (when we are the refresher).
  std::optional<boost::asio::steady_timer> expiry_timer;   ///< The session's end without a refresh.
  // ---- being the transferee (RFC 3515, session/transferee.hpp) ----
  std::weak_ptr<session> referrer;           ///< A call placed for a REFER: the call that received the REFER.
  std::string referred_by;                   ///< That REFER's Referred-By (RFC 3892), for our INVITE.
  std::string replaces;                      ///< The Refer-To URI's Replaces header (RFC 3891), for our INVITE.
  bool referral_reported = false;            ///< The final NOTIFY about this call was sent.
  bool refer_active = false;                 ///< A REFER received on this call is being acted on (another gets 491).
  /// UAS: the call whose dialog this INVITE's Replaces header named (RFC 3891 §3); it ends with BYE once
  /// this one is answered (automatically, without ringing). 0 otherwise.
  call_id replaced_call = 0;
  /// UAC: the transport addresses of the first hop (RFC 3263 §4), tried in order on timeout, transport
  /// error or 503 (§4.3); `target_index` is the one in use.
  std::vector<peer> targets;
  std::size_t target_index = 0;
  std::vector<name_addr> redirect_targets;  ///< UAC: 3xx Contacts not tried yet, in q order (RFC 3261 §8.1.3.4).
  call_params params;                 ///< UAC: the application's LINECALLPARAMS strings for the INVITE.
  std::vector<std::string> tried_uris;  ///< UAC: Request-URIs sent so far (redirect loop detection).
  std::uint32_t redirects = 0;        ///< UAC: redirections followed.
};

}  // namespace tspi::sip::detail
