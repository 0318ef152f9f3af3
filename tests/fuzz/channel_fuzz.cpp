// ptapi - portable TAPI
// ptapi_fuzz target `channel`: mspi::decode_channel_message, the framing of the TSP <-> MSP byte channel
// (mspi/channel.hpp). Properties (a failure traps): a decoded frame's body lies inside the frame and
// encoding its type and body gives the frame back byte for byte; any type and body encode to a frame that
// decodes to them; a frame with a byte more or less does not decode.
#include "fuzz.hpp"

#include <mspi/channel.hpp>

#include <algorithm>
#include <vector>

namespace ptapi_fuzz {

void fuzz_channel(input in) {
  if (const auto m = mspi::decode_channel_message(in)) {
    PTAPI_FUZZ_CHECK(in.size() == 6 + m->body.size());
    PTAPI_FUZZ_CHECK(reinterpret_cast<const std::byte*>(m->body.data()) == in.data() + 6 || m->body.empty());
    const auto again = mspi::encode_channel_message(m->type, m->body);
    PTAPI_FUZZ_CHECK(std::equal(again.begin(), again.end(), in.begin(), in.end()));
    PTAPI_FUZZ_CHECK(!mspi::decode_channel_message(in.first(in.size() - 1)));
  }
  if (in.empty()) return;
  const auto type = static_cast<mspi::channel_message_type>(in[0]);
  const auto body = as_text(in.subspan(1));
  auto frame = mspi::encode_channel_message(type, body);
  const auto m = mspi::decode_channel_message(frame);
  PTAPI_FUZZ_CHECK(m && m->type == type && m->body == body);
  frame.push_back(std::byte{0});
  PTAPI_FUZZ_CHECK(!mspi::decode_channel_message(frame));
}

}  // namespace ptapi_fuzz
