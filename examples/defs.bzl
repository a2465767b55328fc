"""pollwake_example: one numbered example and the test that checks its trace."""

def pollwake_example(name, deps, expected = True, args = [], data = [], src = None, copts = []):
    """Builds examples/<name>.cc; with `expected`, adds <name>_trace_test.

    `data` (e.g. a plugin the example loads) goes to both; `args` may name
    it with $(rootpath ...). `src` names another source (a C client:
    "<name>.c", with copts such as ["-std=c11"]); the trace test reads its
    `(n)` markers from it.

    The test runs the example and compares its standard output, line by line,
    with the checked-in examples/<name>.expected (see trace_check.cc for the
    normalizations it applies).
    """
    src = src or name + ".cc"
    native.cc_binary(
        name = name,
        srcs = [src],
        copts = copts,
        deps = deps,
        args = args,
        data = data,
        # tests/record:timelines_test runs them with the recorder on.
        visibility = ["//tests/record:__pkg__"],
    )
    if expected:
        native.cc_test(
            name = name + "_trace_test",
            srcs = ["trace_check.cc"],
            deps = ["@googletest//:gtest"],
            data = [":" + name, name + ".expected", src] + data,
            args = [
                "$(rootpath :%s)" % name,
                "$(rootpath %s.expected)" % name,
                "$(rootpath %s)" % src,
            ] + args,
        )
