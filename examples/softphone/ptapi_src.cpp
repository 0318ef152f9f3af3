// The one source file that compiles ptapi for the softphone (PTAPI_SEPARATE_COMPILATION, see
// ptapi/config.hpp): the other sources only use the library, so a change to one of them rebuilds in seconds.
#include <ptapi/src.hpp>
