"""pollwake_example: one numbered example and the test that checks its trace."""

def pollwake_example(name, deps, expected = True, args = []):
    """Builds examples/<name>.cc; with `expected`, adds <name>_trace_test.

    The test runs the example and compares its standard output, line by line,
    with the checked-in examples/<name>.expected (see trace_check.cc for the
    normalizations it applies).
    """
    native.cc_binary(
        name = name,
        srcs = [name + ".cc"],
        deps = deps,
        args = args,
    )
    if expected:
        native.cc_test(
            name = name + "_trace_test",
            srcs = ["trace_check.cc"],
            deps = ["@googletest//:gtest"],
            data = [":" + name, name + ".expected", name + ".cc"],
            args = [
                "$(rootpath :%s)" % name,
                "$(rootpath %s.expected)" % name,
                "$(rootpath %s.cc)" % name,
            ] + args,
        )
