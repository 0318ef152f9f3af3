// ptapi - portable TAPI
// ptapi_fuzz target `stun`: the STUN message parser of mspi/stun/message.hpp (datagrams from anyone who
// can reach a media socket). Properties checked for every input (a failure traps):
//  - a parsed message is the whole datagram, every attribute's value lies inside it, after its 4-byte
//    header at its offset, in order, and at most message_view::max_attributes are kept;
//  - looks_like_stun agrees with the header checks of a parsed message;
//  - the attribute readers (addresses, ERROR-CODE, integrity with a fixed key, fingerprint) never read
//    outside the datagram (ASan) and a decoded address has the family's size;
//  - a message rebuilt by the writer from the parsed attributes (integrity and fingerprint recomputed)
//    parses back with the same attributes and verifies;
//  - TURN (RFC 8656, mspi/turn/): the input read as ChannelData keeps its payload inside the datagram on a
//    channel 0x4000..0x4FFF with at most 3 padding bytes; LIFETIME is read only from 4 bytes; a Data
//    indication's peer and payload, written again as a Send indication's head + payload + padding, parse
//    back to the same peer and payload.
#include "fuzz.hpp"

#include <mspi/stun/message.hpp>
#include <mspi/turn/channel_data.hpp>
#include <mspi/turn/detail/messages.hpp>

#include <array>
#include <cstring>
#include <vector>

namespace ptapi_fuzz {

namespace {

void fuzz_turn(input in, const mspi::stun::message_view* m) {
  namespace stun = mspi::stun;
  namespace turn = mspi::turn;
  turn::channel_data cd;
  if (turn::parse_channel_data(in, cd)) {
    PTAPI_FUZZ_CHECK(turn::valid_channel(cd.channel) && cd.payload.data() == in.data() + 4);
    PTAPI_FUZZ_CHECK(in.size() - 4 - cd.payload.size() <= 3);
    const auto head = turn::channel_data_header(cd.channel, cd.payload.size());
    PTAPI_FUZZ_CHECK(std::memcmp(head.data(), in.data(), 4) == 0);
  }
  if (m == nullptr) return;
  if (turn::detail::lifetime_of(*m)) PTAPI_FUZZ_CHECK(m->find(stun::attribute_type::lifetime)->value.size() == 4);
  boost::asio::ip::udp::endpoint peer;
  std::span<const std::byte> payload;
  if (!turn::detail::read_data_indication(*m, peer, payload)) return;
  std::array<std::byte, turn::detail::max_send_head> head{};
  const auto h = turn::detail::write_send_head(peer, m->transaction(), payload.size(), head);
  if (h.empty()) return;  // too long for a Send indication's DATA with XOR-PEER-ADDRESS
  std::vector<std::byte> send(h.begin(), h.end());
  send.insert(send.end(), payload.begin(), payload.end());
  send.resize(send.size() + (4 - payload.size() % 4) % 4);
  stun::message_view back;
  PTAPI_FUZZ_CHECK(!stun::message_view::parse(send, back));
  PTAPI_FUZZ_CHECK(back.method() == stun::method::send && back.klass() == stun::message_class::indication);
  boost::asio::ip::udp::endpoint peer_back;
  std::span<const std::byte> payload_back;
  PTAPI_FUZZ_CHECK(turn::detail::read_data_indication(back, peer_back, payload_back));
  PTAPI_FUZZ_CHECK(peer_back == peer && payload_back.size() == payload.size() &&
                   std::memcmp(payload_back.data(), payload.data(), payload.size()) == 0);
}

}  // namespace

void fuzz_stun(input in) {
  namespace stun = mspi::stun;
  stun::message_view m;
  if (stun::message_view::parse(in, m)) return fuzz_turn(in, nullptr);
  fuzz_turn(in, &m);
  PTAPI_FUZZ_CHECK(m.bytes().data() == in.data() && m.bytes().size() == in.size());
  PTAPI_FUZZ_CHECK(stun::looks_like_stun(in));
  PTAPI_FUZZ_CHECK(m.attributes().size() <= stun::message_view::max_attributes);
  std::size_t last = 0;
  for (const auto& a : m.attributes()) {
    PTAPI_FUZZ_CHECK(a.offset >= stun::header_size && a.offset >= last && a.offset + 4 <= in.size());
    PTAPI_FUZZ_CHECK(a.value.data() == in.data() + a.offset + 4 && a.offset + 4 + a.value.size() <= in.size());
    last = a.offset + 4;
    boost::asio::ip::udp::endpoint ep;
    if (!stun::decode_address(a, m.transaction(), ep))
      PTAPI_FUZZ_CHECK(a.value.size() == (ep.address().is_v4() ? 8U : 20U));
  }
  const auto err = stun::error_code_of(m);
  PTAPI_FUZZ_CHECK(err.code == 0 || (err.code >= 300 && err.code <= 699));
  static constexpr std::string_view key = "VOkJxbRl1RmTxUk/WvJxBt";
  const auto key_bytes = std::as_bytes(std::span<const char>(key.data(), key.size()));
  (void)stun::check_integrity(m, key_bytes);
  (void)stun::check_fingerprint(m);

  // Rebuild: the attributes other than MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT, then both recomputed.
  std::array<std::byte, 4096> out{};
  stun::message_writer w(out, m.method(), m.klass(), m.transaction());
  std::size_t kept = 0;
  for (const auto& a : m.attributes()) {
    if (a.type == stun::attribute_type::message_integrity || a.type == stun::attribute_type::message_integrity_sha256 ||
        a.type == stun::attribute_type::fingerprint)
      continue;
    w.add(a.type, a.value);
    ++kept;
  }
  if (kept + 2 > stun::message_view::max_attributes) return;
  w.add_message_integrity(key_bytes).add_fingerprint();
  if (w.error()) {
    PTAPI_FUZZ_CHECK(w.error() == stun::stun_errc::buffer_too_small);
    return;
  }
  stun::message_view back;
  PTAPI_FUZZ_CHECK(!stun::message_view::parse(w.bytes(), back));
  PTAPI_FUZZ_CHECK(back.method() == m.method() && back.klass() == m.klass() && back.transaction() == m.transaction());
  PTAPI_FUZZ_CHECK(back.attributes().size() == kept + 2);
  std::size_t i = 0;
  for (const auto& a : m.attributes()) {
    if (a.type == stun::attribute_type::message_integrity || a.type == stun::attribute_type::message_integrity_sha256 ||
        a.type == stun::attribute_type::fingerprint)
      continue;
    const auto& b = back.attributes()[i++];
    PTAPI_FUZZ_CHECK(b.type == a.type && b.value.size() == a.value.size() &&
                     std::memcmp(b.value.data(), a.value.data(), a.value.size()) == 0);
  }
  PTAPI_FUZZ_CHECK(!stun::check_fingerprint(back));
  if (w.bytes().size() - 8 - 24 <= stun::max_integrity_checked) PTAPI_FUZZ_CHECK(!stun::check_integrity(back, key_bytes));
}

}  // namespace ptapi_fuzz
