// ptapi - portable TAPI
// ptapi_fuzz target `stun`: the STUN message parser of mspi/stun/message.hpp (datagrams from anyone who
// can reach a media socket). Properties checked for every input (a failure traps):
//  - a parsed message is the whole datagram, every attribute's value lies inside it, after its 4-byte
//    header at its offset, in order, and at most message_view::max_attributes are kept;
//  - looks_like_stun agrees with the header checks of a parsed message;
//  - the attribute readers (addresses, ERROR-CODE, integrity with a fixed key, fingerprint) never read
//    outside the datagram (ASan) and a decoded address has the family's size;
//  - a message rebuilt by the writer from the parsed attributes (integrity and fingerprint recomputed)
//    parses back with the same attributes and verifies.
#include "fuzz.hpp"

#include <mspi/stun/message.hpp>

#include <array>
#include <cstring>

namespace ptapi_fuzz {

void fuzz_stun(input in) {
  namespace stun = mspi::stun;
  stun::message_view m;
  if (stun::message_view::parse(in, m)) return;
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
