// tests/support/sanitizer_scale.h: one scale for the iteration counts of
// stress and race tests under the sanitizers.
//
// ThreadSanitizer runs these tests 5-15x slower, AddressSanitizer about 2x.
// Scaled(n, floor) divides n by 5 under TSan and by 2 under ASan, never below
// `floor`, so every target stays well under a minute on two cores in every
// configuration while each race still runs many times. The sanitizer is
// detected with Abseil's ABSL_HAVE_*_SANITIZER, which both g++ (__SANITIZE_*__)
// and clang (__has_feature) set.
#ifndef POLLWAKE_TESTS_SUPPORT_SANITIZER_SCALE_H_
#define POLLWAKE_TESTS_SUPPORT_SANITIZER_SCALE_H_

#include <absl/base/config.h>

namespace pollwake::testing {

#if defined(ABSL_HAVE_THREAD_SANITIZER)
inline constexpr int kScaleDivisor = 5;
#elif defined(ABSL_HAVE_ADDRESS_SANITIZER)
inline constexpr int kScaleDivisor = 2;
#else
inline constexpr int kScaleDivisor = 1;
#endif

// Scaled: `n` iterations without a sanitizer, fewer under one, never fewer
// than `floor`.
constexpr int Scaled(int n, int floor = 1) {
  return n / kScaleDivisor > floor ? n / kScaleDivisor : floor;
}

}  // namespace pollwake::testing

#endif  // POLLWAKE_TESTS_SUPPORT_SANITIZER_SCALE_H_
