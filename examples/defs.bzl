"""pollwake_example: one numbered example and the test that checks its trace."""

def pollwake_example(name, deps, expected = True, args = [], data = []):
    """Builds examples/<name>.cc; with `expected`, adds <name>_trace_test.

    `data` (e.g. a plugin the example loads) goes to both; `args` may name
    it with $(rootpath ...).

    The test runs the example and compares its standard output, line by line,
    with the checked-in examples/<name>.expected (see trace_check.cc for the
    normalizations it applies).
    """
    native.cc_binary(
        name = name,
        srcs = [name + ".cc"],
        deps = deps,
        args = args,
        data = data,
    )
    if expected:
        native.cc_test(
            name = name + "_trace_test",
            srcs = ["trace_check.cc"],
            deps = ["@googletest//:gtest"],
            data = [":" + name, name + ".expected", name + ".cc"] + data,
            args = [
                "$(rootpath :%s)" % name,
                "$(rootpath %s.expected)" % name,
                "$(rootpath %s.cc)" % name,
            ] + args,
        )
