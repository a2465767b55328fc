// interop/ffi/plugin_loader.cc: dlopen and dlsym with errors that name what
// is missing.
#include "interop/ffi/plugin_loader.h"

#include <dlfcn.h>

#include "absl/status/status.h"

namespace pollwake::ffi {

absl::StatusOr<Plugin> Plugin::open(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("plugin path is empty");
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return absl::NotFoundError("cannot load plugin '" + path + "': " + (why ? why : "unknown reason"));
  }
  return Plugin(handle, path);
}

absl::StatusOr<void*> Plugin::raw_symbol(const std::string& name) const {
  dlerror();  // clear a stale error, so a null result is judged by this call
  void* p = dlsym(handle_, name.c_str());
  if (p == nullptr) {
    const char* why = dlerror();
    return absl::NotFoundError("plugin '" + path_ + "' has no symbol '" + name + "'" +
                               (why ? std::string(": ") + why : std::string()));
  }
  return p;
}

}  // namespace pollwake::ffi
