/* tests/bridge/csharp/misbehaving_library.c: a C library that breaks
 * pollwake_bridge.h's promises on purpose, so that the C# client's test can
 * check how the client copes with a library it cannot trust:
 *
 *   pwbt_complete_twice   calls done twice (values 7, then 8); returns PWB_OK.
 *   pwbt_refuse_silently  returns PWB_INTERNAL and never calls done.
 *
 * Built as libpwb_misbehaving.so (tests/bridge/BUILD); C11, no C++. */
#include <stdint.h>

#include "interop/bridge/pollwake_bridge.h"

__attribute__((visibility("default"))) pwb_status pwbt_complete_twice(pwb_done_fn done,
                                                                      void* user_data) {
  done(user_data, PWB_OK, "", 7);
  done(user_data, PWB_OK, "", 8);
  return PWB_OK;
}

__attribute__((visibility("default"))) pwb_status pwbt_refuse_silently(pwb_done_fn done,
                                                                       void* user_data) {
  (void)done;
  (void)user_data;
  return PWB_INTERNAL;
}
