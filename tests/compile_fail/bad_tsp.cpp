// Must NOT compile: registering a TSP that lacks answer() fails with the concept's name in the message.
#include <tspi/tapi.hpp>

#include <mspi/rtp_opus/msp.hpp>

#include "support/incomplete_tsp.hpp"

int main() {
  tspi::tapi t;
  t.register_provider<ptapi_test::tsp_without_answer, mspi::rtp_opus_msp>();
}
