#!/usr/bin/env python3
"""Keeps the code snippets in docs/ equal to the compiled code they quote.

In a source file, a region is marked with two comment lines:
    // [START name]
    ...
    // [END name]
(or # for shell, Python and Starlark, or (* [START name] *) for OCaml).
In a Markdown file, a snippet is the fenced block right after a marker line:
    <!-- snippet: examples/01_trivial.cc#name -->
    ```cpp
    ...the region's lines, with their common indentation removed...
    ```
Marker lines of other regions nested inside a region are left out.
A marker without `#name` quotes the whole file (for example an example's
checked-in trace: `<!-- snippet: examples/01_trivial.expected -->`).

  snippets.py --check [--root DIR]   exit 1 and say where, if any block differs
  snippets.py --write [--root DIR]   rewrite the blocks from the sources
"""
import argparse
import glob
import os
import re
import sys

MARK = re.compile(r"^<!--\s*snippet:\s*([^\s#]+)(?:#(\S+))?\s*-->\s*$")
# Markers in a line comment (// or #), or in an OCaml comment: (* [START name] *).
START = re.compile(r"^\s*(//|#|\(\*)\s*\[START (\S+)\]\s*(\*\))?\s*$")
END = re.compile(r"^\s*(//|#|\(\*)\s*\[END (\S+)\]\s*(\*\))?\s*$")


def region(root, path, name):
    full = os.path.join(root, path)
    try:
        with open(full) as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise LookupError(f"cannot read {path}: {e}")
    if name is None:  # the whole file
        return lines[:-1] if lines and lines[-1] == "" else lines
    out, inside, found = [], False, False
    for line in lines:
        s, e = START.match(line), END.match(line)
        if s and s.group(2) == name:
            inside, found = True, True
            continue
        if e and e.group(2) == name:
            inside = False
            continue
        if inside and not s and not e:
            out.append(line)
    if not found:
        raise LookupError(f"{path} has no region [START {name}]")
    indents = [len(l) - len(l.lstrip()) for l in out if l.strip()]
    cut = min(indents) if indents else 0
    return [l[cut:] if l.strip() else "" for l in out]


def process(root, md, write):
    with open(md) as f:
        lines = f.read().split("\n")
    problems, out, i = [], [], 0
    rel = os.path.relpath(md, root)
    while i < len(lines):
        line = lines[i]
        out.append(line)
        m = MARK.match(line.strip())
        i += 1
        if not m:
            continue
        path, name = m.group(1), m.group(2)
        try:
            want = region(root, path, name)
        except LookupError as e:
            problems.append(f"{rel}:{i}: {e}")
            continue
        # The fenced block that follows (if any).
        have = None
        if i < len(lines) and lines[i].startswith("```"):
            fence = lines[i]
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            have = lines[i + 1:j]
            i = j + 1
        else:
            fence = "```cpp" if name else "```text"
        if have != want:
            where = f"{path}#{name}" if name else path
            problems.append(f"{rel}:{i}: snippet {where} differs from the source")
        out.append(fence)
        out.extend(want)
        out.append("```")
    if write:
        with open(md, "w") as f:
            f.write("\n".join(out))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    a = ap.parse_args()
    root = os.path.abspath(a.root)
    problems, count = [], 0
    for md in sorted(glob.glob(os.path.join(root, "docs", "**", "*.md"), recursive=True)) + [os.path.join(root, "README.md")]:
        if not os.path.exists(md):
            continue
        with open(md) as f:
            count += sum(1 for l in f if MARK.match(l.strip()))
        problems += process(root, md, a.write)
    if a.write:
        print(f"snippets: {count} refreshed")
        bad = [p for p in problems if "differs" not in p]
        for p in bad:
            print(p, file=sys.stderr)
        return 1 if bad else 0
    for p in problems:
        print(p)
    print(f"snippets: {count} checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
