"""Macros shared by the oracle tests (tests/oracles/...).

rust_binaries: a cargo package built by build_rust.sh, outside the sandbox.
trace_test:    one run of four/compare_trace_test.cc (a program's output
               against its checked-in .expected file).
"""

def rust_binaries(name, src_dir, bins):
    """Builds the cargo package in `src_dir` (this package's folder relative
    to the workspace, e.g. "tests/oracles/rust") with Debian's cargo and
    rustc, offline, and outputs `bins` as <name>/<bin>. local = True: the
    crates come from /usr/share/cargo/registry, outside the sandbox."""
    rel = src_dir[len(native.package_name()) + 1:]
    native.genrule(
        name = name,
        srcs = native.glob([rel + "/src/**/*.rs"]) + [
            rel + "/.cargo/config.toml",
            rel + "/Cargo.toml",
        ],
        outs = [name + "/" + b for b in bins],
        cmd = "$(location //tests/oracles:build_rust.sh) %s $(RULEDIR)/%s %s" % (
            src_dir,
            name,
            " ".join(bins),
        ),
        local = True,
        tools = ["//tests/oracles:build_rust.sh"],
    )

def trace_test(name, kind, lang, program, expected, size = None):
    """compare_trace_test.cc on `program` run as `kind` ("real": LANG's real
    runtime, tagged foreign and local; "twin": a C++ twin binary, in every
    configuration) against `expected`."""
    real = kind == "real"
    native.cc_test(
        name = name,
        size = size or ("medium" if real else "small"),
        srcs = ["//tests/oracles/four:compare_trace_test.cc"],
        args = [
            kind,
            lang,
            "$(rootpath %s)" % program,
            "$(rootpath %s)" % expected,
        ],
        data = [program, expected],
        tags = ["foreign", "local"] if real else [],
        deps = [
            "//tests/oracles:run_program",
            "@googletest//:gtest_main",
        ],
    )
