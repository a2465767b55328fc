"""pollwake_exercise: one graded exercise, its solution, and the proof of both."""

def pollwake_exercise(name, failing_test, message, deps = []):
    """exercises/<name>.h (the starting file), solutions/<name>.h, <name>_test.cc.

    Both headers are included by the test as "exercise/<name>.h"; the test is
    compiled twice:
      <name>_solution_test   against the solution; runs in `bazel test //...`.
      <name>_start_test      against the starting file; tagged manual (it is
                             meant to fail), built for the checker.
      <name>_start_fails_test runs <name>_start_test and passes only if it
                             fails as the exercise says: every failed test is
                             `failing_test` (Suite.Name) and its output
                             contains `message`.
    """
    common = deps + ["//poll", ":support"]
    native.cc_library(
        name = name + "_start",
        testonly = True,
        hdrs = [name + ".h"],
        strip_include_prefix = "/exercises",
        include_prefix = "exercise",
        deps = common,
    )
    native.cc_library(
        name = name + "_solution",
        testonly = True,
        hdrs = ["solutions/" + name + ".h"],
        strip_include_prefix = "/exercises/solutions",
        include_prefix = "exercise",
        deps = common,
    )
    native.cc_test(
        name = name + "_solution_test",
        size = "small",
        srcs = [name + "_test.cc"],
        deps = common + [":" + name + "_solution", "@googletest//:gtest_main"],
    )
    native.cc_test(
        name = name + "_start_test",
        size = "small",
        srcs = [name + "_test.cc"],
        deps = common + [":" + name + "_start", "@googletest//:gtest_main"],
        tags = ["manual", "exercise_start"],
    )
    native.cc_test(
        name = name + "_start_fails_test",
        size = "small",
        data = [":" + name + "_start_test"],
        # Bazel splits args the way a shell does: quote the message, which has
        # spaces (and must not contain a single quote).
        args = ["$(rootpath :%s_start_test)" % name, failing_test, "'%s'" % message],
        deps = [":check_fails"],
    )
