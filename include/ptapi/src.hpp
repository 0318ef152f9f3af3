// ptapi - portable TAPI
// ptapi/src.hpp: the compiled part of ptapi in separate-compilation mode. Include it in exactly one
// source file of the program, before any other ptapi header, with PTAPI_SEPARATE_COMPILATION defined
// for the whole program (see ptapi/config.hpp).
#pragma once

#if !defined(PTAPI_SEPARATE_COMPILATION)
#error "ptapi/src.hpp is for PTAPI_SEPARATE_COMPILATION builds; header-only builds need no source file"
#endif
#if defined(PTAPI_CONFIG_INCLUDED)
#error "include <ptapi/src.hpp> before any other ptapi header of its source file"
#endif

#define PTAPI_SOURCE 1

#include <ptapi/config.hpp>

#include <mspi/impl/terminal_support.ipp>
#include <mspi/rtp_opus/msp.hpp>
#include <tspi/impl/tapi.ipp>
#include <tspi/loopback/tsp.hpp>
#include <tspi/sip/tsp.hpp>

namespace tspi {
template class event_source<call_notification_event>;
template class event_source<call_state_event>;
template class event_source<call_media_event>;
template class event_source<file_terminal_event>;
template class event_source<address_event>;
template class event_source<digit_event>;
template class event_source<call_info_change_event>;
template class event_source<digits_gathered_event>;
template class event_source<tone_detection_event>;
template class event_source<digit_generation_event>;
template class event_source<call_hub_event>;
}  // namespace tspi

namespace tspi::detail {
// The shipped provider pairs: each TSP with the RTP/Opus MSP.
template std::unique_ptr<provider_base> make_provider_pair<loopback_tsp, mspi::rtp_opus_msp>(
    const loopback_config&, const mspi::rtp_opus_config&);
template std::unique_ptr<provider_base> make_provider_pair<sip::sip_tsp, mspi::rtp_opus_msp>(
    const sip::sip_config&, const mspi::rtp_opus_config&);
}  // namespace tspi::detail
