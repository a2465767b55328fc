#!/usr/bin/env bash
# tests/hostloop/ocaml/build_lwt_scenario.sh OUT HOSTLOOP_ML SCENARIO_ML LIB_SO [SANITIZE]
# Compiles and links the OCaml program OUT with ocamlfind, offline, against
# the shared object LIB_SO that Bazel built (the C++ half), and copies LIB_SO
# beside OUT (the program finds it through an $ORIGIN rpath). SANITIZE (e.g.
# -fsanitize=address,undefined) is passed to the link when LIB_SO was built
# with that sanitizer. Run by the
# genrule //tests/hostloop/ocaml:lwt_scenario_bin from Bazel's execution root.
#
# Needs the Debian packages ocaml-nox, ocaml-findlib, liblwt-ocaml-dev; runs
# outside the sandbox (local = True) because the OCaml libraries live in
# /usr/lib/ocaml.
set -euo pipefail
out=$1 hostloop_ml=$2 scenario_ml=$3 lib=$4 sanitize=${5:-}
command -v ocamlfind >/dev/null ||
  { echo "$0: ocamlfind is missing (apt-get install ocaml-nox ocaml-findlib liblwt-ocaml-dev)" >&2; exit 1; }
ocamlfind query lwt.unix >/dev/null 2>&1 ||
  { echo "$0: Lwt is missing (apt-get install liblwt-ocaml-dev)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$hostloop_ml" "$scenario_ml" "$work/"
cp -L "$lib" "$work/libhostloop_scenario.so"
outdir=$(cd "$(dirname "$out")" && pwd)
extra=()
[ -z "$sanitize" ] || extra=(-ccopt "$sanitize")
(cd "$work" &&
  ocamlfind ocamlopt -thread -package lwt.unix,threads.posix -linkpkg \
    hostloop.ml "$(basename "$scenario_ml")" -o lwt_scenario \
    -cclib -L. -cclib -lhostloop_scenario -ccopt '-Wl,-rpath,\$ORIGIN' "${extra[@]}" 2>&1)
cp "$work/lwt_scenario" "$outdir/lwt_scenario"
cp "$work/libhostloop_scenario.so" "$outdir/libhostloop_scenario.so"
