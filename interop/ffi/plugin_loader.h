// interop/ffi/plugin_loader.h
//
// Models what a Rust host does with `libloading::Library::new(path)` and
// `library.get::<extern "C" fn(..)>(b"name")` (async-ffi's link tests load
// their plugin that way): dlopen a shared library by path and look up an
// exported C function.
//
// How pollwake differs, and why: the errors are absl::Status values that name
// the path or symbol and quote dlerror(), instead of libloading's Error enum.
// The library is never unloaded (no dlclose): a plugin's threads or waker
// vtables may outlive any handle the host keeps, and unloading their code
// under them would crash. Rust hosts usually leak their Library for the same
// reason.
#ifndef POLLWAKE_INTEROP_FFI_PLUGIN_LOADER_H_
#define POLLWAKE_INTEROP_FFI_PLUGIN_LOADER_H_

#include <string>

#include "absl/status/statusor.h"

namespace pollwake::ffi {

class Plugin {
 public:
  // Plugin::open: dlopen(path, RTLD_NOW | RTLD_LOCAL). NotFoundError naming
  // the path (and dlerror's reason) when it cannot be loaded.
  static absl::StatusOr<Plugin> open(const std::string& path);

  // Plugin::symbol<Fn>: the exported function `name`, cast to `Fn` (a
  // function pointer type; the caller vouches for the signature, as Rust's
  // `unsafe` get does). NotFoundError naming the symbol and the library.
  template <class Fn>
  absl::StatusOr<Fn> symbol(const std::string& name) const {
    absl::StatusOr<void*> p = raw_symbol(name);
    if (!p.ok()) return p.status();
    // SAFETY: POSIX guarantees that a dlsym result for a function may be
    // converted to a function pointer; the signature is the caller's promise.
    return reinterpret_cast<Fn>(*p);
  }

  const std::string& path() const noexcept { return path_; }

 private:
  Plugin(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  absl::StatusOr<void*> raw_symbol(const std::string& name) const;
  void* handle_;
  std::string path_;
};

}  // namespace pollwake::ffi

#endif  // POLLWAKE_INTEROP_FFI_PLUGIN_LOADER_H_
