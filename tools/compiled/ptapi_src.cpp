// The one source file that compiles ptapi for the project's own programs (PTAPI_SEPARATE_COMPILATION; see
// ptapi/config.hpp): the test binary, the SIP interop peer, the softphone and the answering machine link it,
// so the library is compiled once per build rather than once per program.
#include <ptapi/src.hpp>
