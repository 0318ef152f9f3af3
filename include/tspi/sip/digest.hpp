// ptapi - portable TAPI
// tspi/sip/digest.hpp: HTTP Digest authentication as SIP uses it (RFC 3261 §22, RFC 8760 over
// RFC 7616 / RFC 2617): parsing WWW-Authenticate / Proxy-Authenticate challenges, choosing among them,
// building Authorization / Proxy-Authorization values, a per-account client state that pre-authorizes
// later requests, and the server-side check. Hashes come from OpenSSL's libcrypto (EVP); link
// ptapi::tspi (it carries OpenSSL::Crypto).
// An umbrella header; the parts live in tspi/sip/digest/: algorithm.hpp, error.hpp, challenge.hpp (parsing
// and choosing challenges), response.hpp (computing and checking credentials), policy.hpp, client.hpp.
#pragma once

#include <tspi/sip/digest/algorithm.hpp>
#include <tspi/sip/digest/challenge.hpp>
#include <tspi/sip/digest/client.hpp>
#include <tspi/sip/digest/error.hpp>
#include <tspi/sip/digest/policy.hpp>
#include <tspi/sip/digest/response.hpp>
#include <tspi/sip/message.hpp>
