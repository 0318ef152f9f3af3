// ptapi - portable TAPI
// tspi/sip/transaction.hpp: the SIP transaction layer (RFC 3261 §17 with RFC 6026's Accepted state,
// §18.2.1/§18.2.2 and RFC 3581 for where responses go) on top of tspi/sip/transport.hpp, and
// make_response (§8.2.6). An umbrella header; the parts live in tspi/sip/transaction/:
// - timer_config.hpp: T1, T2, T4;
// - state.hpp: transaction_state, transaction_stats;
// - builders.hpp: make_response, the CANCEL and non-2xx ACK the layer builds;
// - client.hpp, server.hpp: client_transaction, server_transaction;
// - layer.hpp: transaction_layer, with its client side, server side and timers in impl/.
#pragma once

#include <tspi/sip/headers.hpp>
#include <tspi/sip/message.hpp>
#include <tspi/sip/transaction/builders.hpp>
#include <tspi/sip/transaction/client.hpp>
#include <tspi/sip/transaction/layer.hpp>
#include <tspi/sip/transaction/server.hpp>
#include <tspi/sip/transaction/state.hpp>
#include <tspi/sip/transaction/timer_config.hpp>
#include <tspi/sip/transport.hpp>
#include <tspi/sip/uri.hpp>
