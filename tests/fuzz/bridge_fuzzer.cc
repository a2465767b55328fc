// tests/fuzz/bridge_fuzzer.cc: drives the C ABI of interop/bridge/ with
// random calls, handles, arguments and shutdowns (see bridge_fuzzer.h).
//
// Encoding: the input is read one operation at a time; an operation is one
// byte (its code, modulo 16) followed by the bytes it takes as arguments
// (reads past the end give 0). The operations:
//    0 connect          uri = byte % 3, latency = (byte % 4) * 50 us
//    1 connect_blocking same
//    2 create_table     handle, table = byte % 3
//    3 insert           handle, table, n = byte % 4, a key byte per row
//    4 count            handle, table
//    5 count_blocking   handle, table
//    6 scan             handle, table, key_min byte, key_max byte, filter flag
//    7 scan_blocking    same
//    8 close            handle
//    9 close_blocking   handle
//   10 ping
//   11 shutdown
//   12 forged handle    8 bytes, used by a count
//   13 bad arguments    byte picks one (NULL / empty / long names, NULL done)
//   14 harvest          ping_blocking; handles from finished async connects join the pool
//   15 shutdown from a callback (must be refused: PWB_WOULD_DEADLOCK)
// A handle argument is one byte: an index into every handle seen so far
// (valid, closed or from before a shutdown), or, past the end, zero.
//
// Checks (abort with a message when broken):
//   * every asynchronous call completes exactly once: never twice, and, once
//     pwb_shutdown has returned, every call made before it has completed;
//   * a scan's rows all come before its completion;
//   * statuses are in range, and a call with done == NULL is refused;
//   * a scan through a handle sees only rows of its own database: every
//     value inserted carries its database's name, so data reached through a
//     stale or forged handle shows up as a foreign row;
//   * a handle that close reported closed is refused from then on.
// Each input ends with pwb_shutdown, so inputs do not affect each other.
#include "tests/fuzz/bridge_fuzzer.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "interop/bridge/pollwake_bridge.h"

namespace pollwake::bridge_fuzz {
namespace {

const char* g_input_name = nullptr;
Coverage g_coverage;
std::mutex g_coverage_mu;  // completions are counted on the runtime thread

[[noreturn]] void Fail(const char* fmt, ...) {
  std::fprintf(stderr, "bridge_fuzzer: CHECK failed (input %s): ",
               g_input_name != nullptr ? g_input_name : "<libFuzzer>");
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  std::abort();
}
#define FUZZ_CHECK(cond, ...) \
  do {                        \
    if (!(cond)) Fail(__VA_ARGS__); \
  } while (0)

const char* const kUris[] = {"alpha", "beta", "gamma"};
const char* const kTables[] = {"t0", "t1", "t2"};

// Rec: one asynchronous call's record (user_data of its callbacks).
struct Rec {
  std::mutex mu;
  int completions = 0;
  pwb_status status = -1;
  uint64_t value = 0;
  int uri = -1;             // connect: which database; scan: its handle's, or -1 unknown
  bool is_connect = false;
  bool foreign_row = false;
  long rows = 0;

  static void Done(void* ud, pwb_status s, const char* message, uint64_t v) {
    auto* r = static_cast<Rec*>(ud);
    FUZZ_CHECK(message != nullptr, "a completion without a message");
    FUZZ_CHECK(s >= PWB_OK && s <= PWB_INTERNAL, "status %d out of range", s);
    FUZZ_CHECK(s != PWB_INTERNAL, "PWB_INTERNAL: %s", message);
    {
      std::lock_guard lock(r->mu);
      FUZZ_CHECK(r->completions == 0, "a call completed twice (status %d, then %d)", r->status, s);
      r->completions = 1;
      r->status = s;
      r->value = v;
    }
    std::lock_guard lock(g_coverage_mu);
    ++g_coverage.statuses[s];
  }
  static void Row(void* ud, int64_t, const char* value, size_t len) {
    auto* r = static_cast<Rec*>(ud);
    FUZZ_CHECK(value != nullptr && value[len] == '\0', "a row value is not NUL-terminated");
    std::lock_guard lock(r->mu);
    FUZZ_CHECK(r->completions == 0, "a row arrived after the scan's completion");
    ++r->rows;
    if (r->uri >= 0 && std::strncmp(value, kUris[r->uri], std::strlen(kUris[r->uri])) != 0) {
      r->foreign_row = true;
    }
  }
};

class Session {
 public:
  Session(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  void Run() {
    while (pos_ < size_) {
      const int op = Byte() % 16;
      {
        std::lock_guard lock(g_coverage_mu);
        ++g_coverage.ops[op];
      }
      Step(op);
    }
    Shutdown();
  }

 private:
  struct Handle {
    pwb_conn value;
    int uri;
    bool closed;  // close reported PWB_OK, or a shutdown came after it was made
  };

  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }

  Rec* NewRec(int uri = -1) {
    recs_.push_back(std::make_unique<Rec>());
    recs_.back()->uri = uri;
    return recs_.back().get();
  }

  // A handle argument: index into handles_, or zero past the end.
  Handle* PickHandle() {
    const uint8_t b = Byte();
    if (b < handles_.size()) return &handles_[b];
    return nullptr;
  }
  pwb_conn Value(Handle* h) { return h != nullptr ? h->value : 0; }

  void Step(int op) {
    switch (op) {
      case 0: {
        const int uri = Byte() % 3;
        const uint32_t latency = (Byte() % 4) * 50;
        Rec* r = NewRec(uri);
        r->is_connect = true;
        pwb_connect(kUris[uri], latency, &Rec::Done, r);
        break;
      }
      case 1: {
        const int uri = Byte() % 3;
        const uint32_t latency = (Byte() % 4) * 50;
        pwb_conn c = 0;
        char msg[64];
        const pwb_status s = pwb_connect_blocking(kUris[uri], latency, &c, msg, sizeof msg);
        FUZZ_CHECK(s == PWB_OK, "connect_blocking: %s (%s)", pwb_status_name(s), msg);
        FUZZ_CHECK(c != 0, "connect gave the zero handle");
        handles_.push_back({c, uri, false});
        break;
      }
      case 2: {
        Handle* h = PickHandle();
        pwb_create_table(Value(h), kTables[Byte() % 3], &Rec::Done, NewRec());
        break;
      }
      case 3: {
        Handle* h = PickHandle();
        const char* table = kTables[Byte() % 3];
        const size_t n = Byte() % 4;
        // Each value names its handle's database (or "?" for a zero or
        // unknown handle, which must be refused anyway).
        std::vector<int64_t> keys(n);
        std::vector<std::string> values(n);
        std::vector<const char*> ptrs(n);
        for (size_t i = 0; i < n; ++i) {
          keys[i] = Byte();
          values[i] = std::string(h != nullptr ? kUris[h->uri] : "?") + ":" + std::to_string(i);
          ptrs[i] = values[i].c_str();
        }
        pwb_insert(Value(h), table, keys.data(), ptrs.data(), n, &Rec::Done, NewRec());
        break;
      }
      case 4: {
        Handle* h = PickHandle();
        pwb_count(Value(h), kTables[Byte() % 3], &Rec::Done, NewRec());
        break;
      }
      case 5: {
        Handle* h = PickHandle();
        uint64_t n = 0;
        const pwb_status s = pwb_count_blocking(Value(h), kTables[Byte() % 3], &n, nullptr, 0);
        CheckBlocking(h, s);
        break;
      }
      case 6:
      case 7: {
        Handle* h = PickHandle();
        const char* table = kTables[Byte() % 3];
        pwb_filter f{static_cast<int64_t>(Byte()), static_cast<int64_t>(Byte()),
                     (Byte() & 1) ? ":1" : nullptr};
        Rec* r = NewRec(h != nullptr ? h->uri : -1);
        if (op == 6) {
          pwb_scan(Value(h), table, &f, &Rec::Row, &Rec::Done, r);
        } else {
          uint64_t n = 0;
          const pwb_status s = pwb_scan_blocking(Value(h), table, &f, &Rec::Row, r, &n, nullptr, 0);
          CheckBlocking(h, s);
          std::lock_guard lock(r->mu);
          FUZZ_CHECK(s != PWB_OK || n == static_cast<uint64_t>(r->rows),
                     "blocking scan reported %llu rows, delivered %ld",
                     static_cast<unsigned long long>(n), r->rows);
          r->completions = 1;  // a blocking call has no done; count it as heard
        }
        break;
      }
      case 8: {
        Handle* h = PickHandle();
        pwb_close(Value(h), &Rec::Done, NewRec());
        // The handle may or may not be closed when this completes (it could
        // also be stale already); only the blocking close updates the model.
        break;
      }
      case 9: {
        Handle* h = PickHandle();
        const pwb_status s = pwb_close_blocking(Value(h), nullptr, 0);
        CheckBlocking(h, s);
        if (s == PWB_OK && h != nullptr) h->closed = true;
        break;
      }
      case 10:
        pwb_ping(&Rec::Done, NewRec());
        break;
      case 11:
        Shutdown();
        break;
      case 12: {
        uint64_t forged = 0;
        for (int i = 0; i < 8; ++i) forged = (forged << 8) | Byte();
        const pwb_status s = pwb_count_blocking(forged, "t0", nullptr, nullptr, 0);
        // Handles are guessable, not capabilities: bytes that happen to spell
        // a live handle reach that connection. Checked after the count: a
        // connect that made this very handle (harvested or not) had its done
        // run before the count's task looked the handle up (one thread).
        bool known = false;
        for (const Handle& h : handles_) known |= h.value == forged;
        for (auto& r : recs_) {
          std::lock_guard lock(r->mu);
          known |= r->is_connect && r->completions == 1 && r->status == PWB_OK && r->value == forged;
        }
        if (!known) {
          FUZZ_CHECK(s == PWB_BAD_HANDLE || s == PWB_NOT_RUNNING,
                     "a forged handle %llx got %s", static_cast<unsigned long long>(forged),
                     pwb_status_name(s));
        }
        break;
      }
      case 13: {
        Handle* h = PickHandle();
        const std::string long_name(PWB_MAX_NAME_LEN + 1, 'x');
        Rec* r = NewRec();
        pwb_status s = PWB_OK;
        switch (Byte() % 5) {
          case 0: s = pwb_create_table(Value(h), nullptr, &Rec::Done, r); break;
          case 1: s = pwb_count(Value(h), "", &Rec::Done, r); break;
          case 2: s = pwb_count(Value(h), long_name.c_str(), &Rec::Done, r); break;
          case 3: s = pwb_connect("x", PWB_MAX_LATENCY_US + 1, &Rec::Done, r); break;
          case 4:
            s = pwb_count(Value(h), "t0", nullptr, r);
            FUZZ_CHECK(s == PWB_INVALID_ARGUMENT, "NULL done was accepted");
            r->completions = 1;  // nothing will call it
            return;
        }
        FUZZ_CHECK(s == PWB_INVALID_ARGUMENT, "a bad argument got %s", pwb_status_name(s));
        break;
      }
      case 14:
        pwb_ping_blocking();
        Harvest();
        break;
      case 15: {
        struct Ctx {
          Rec* rec;
          pwb_status inner;
        };
        auto* ctx = new Ctx{NewRec(), -1};
        ctxs_.emplace_back(ctx);
        pwb_ping(
            [](void* ud, pwb_status s, const char* m, uint64_t v) {
              auto* c = static_cast<Ctx*>(ud);
              // Refused at the edge (no runtime), the callback runs on the
              // caller's thread, where a shutdown is harmless; otherwise it
              // runs on the runtime thread, where it must be refused.
              c->inner = pwb_shutdown();
              const pwb_status want = s == PWB_NOT_RUNNING ? PWB_OK : PWB_WOULD_DEADLOCK;
              FUZZ_CHECK(c->inner == want, "shutdown from a callback gave %s",
                         pwb_status_name(c->inner));
              Rec::Done(c->rec, s, m, v);
            },
            ctx);
        break;
      }
    }
  }

  // A blocking call on a handle the model knows to be closed must be refused.
  void CheckBlocking(Handle* h, pwb_status s) {
    FUZZ_CHECK(s >= PWB_OK && s < PWB_INTERNAL, "blocking call gave %d", s);
    if (h == nullptr) {
      FUZZ_CHECK(s == PWB_BAD_HANDLE || s == PWB_NOT_RUNNING || s == PWB_INVALID_ARGUMENT,
                 "the zero handle got %s", pwb_status_name(s));
    } else if (h->closed) {
      FUZZ_CHECK(s == PWB_BAD_HANDLE || s == PWB_NOT_RUNNING,
                 "a closed handle got %s", pwb_status_name(s));
    }
  }

  // Async connects that finished OK become usable handles.
  void Harvest() {
    for (auto& r : recs_) {
      if (!r->is_connect) continue;
      std::lock_guard lock(r->mu);
      if (r->completions == 1 && r->status == PWB_OK) {
        handles_.push_back({r->value, r->uri, false});
        r->is_connect = false;  // harvested
      }
    }
  }

  void Shutdown() {
    const pwb_status s = pwb_shutdown();
    FUZZ_CHECK(s == PWB_OK, "shutdown gave %s", pwb_status_name(s));
    Harvest();
    for (auto& r : recs_) {
      std::lock_guard lock(r->mu);
      FUZZ_CHECK(r->completions == 1, "a call made before shutdown never completed");
      FUZZ_CHECK(!r->foreign_row, "a scan saw another database's row");
      std::lock_guard clock(g_coverage_mu);
      g_coverage.rows += r->rows;
    }
    recs_.clear();
    ctxs_.clear();
    for (Handle& h : handles_) h.closed = true;  // stale from now on
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::vector<std::unique_ptr<Rec>> recs_;
  std::vector<Handle> handles_;
  std::vector<std::shared_ptr<void>> ctxs_;  // case 15's contexts, freed after shutdown
};

}  // namespace

void set_input_name(const char* name) { g_input_name = name; }
const Coverage& coverage() { return g_coverage; }

}  // namespace pollwake::bridge_fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // long inputs only slow the search down
  pollwake::bridge_fuzz::Session(data, size).Run();
  return 0;
}
