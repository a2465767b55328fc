#!/usr/bin/env python3
"""Writes the table of docs/10_four_answers.md from the real runs' traces.

The five programs (tests/oracles/four/) print one section per program,
headed `== N title`. Their checked-in traces, tests/oracles/four/<lang>/
four.expected, are what the real runtimes print (the <lang>_real_test
targets check that). This script turns them into one Markdown table, rows =
programs, columns = languages, each cell the trace lines in order, and puts
it between the chapter's markers:
    <!-- four-table: begin -->
    ...
    <!-- four-table: end -->

  four_table.py --check [--root DIR]   exit 1 if the chapter's table is stale
  four_table.py --write [--root DIR]   rewrite it
"""
import argparse
import os
import sys

LANGS = [("rust", "Rust (futures)"), ("csharp", "C# (Mono)"), ("js", "JavaScript (node)"), ("go", "Go")]
CHAPTER = "docs/10_four_answers.md"
BEGIN = "<!-- four-table: begin -->"
END = "<!-- four-table: end -->"


def sections(path):
    """[(title, [lines])] in file order."""
    out = []
    with open(path) as f:
        for line in f.read().split("\n"):
            if line.startswith("== "):
                out.append((line[3:], []))
            elif line and out:
                out[-1][1].append(line)
    return out


def cell(lines):
    # One line per trace line; `|` would end the cell.
    return "<br>".join(l.replace("|", "\\|") for l in lines)


def table(root):
    per_lang = {}
    for lang, _ in LANGS:
        per_lang[lang] = sections(os.path.join(root, "tests/oracles/four", lang, "four.expected"))
    titles = [t for t, _ in per_lang[LANGS[0][0]]]
    for lang, _ in LANGS:
        got = [t for t, _ in per_lang[lang]]
        if got != titles:
            raise ValueError(f"{lang}/four.expected has sections {got}, expected {titles}")
    rows = ["| program | " + " | ".join(name for _, name in LANGS) + " |",
            "|---|" + "---|" * len(LANGS)]
    for i, title in enumerate(titles):
        rows.append(f"| {title} | " + " | ".join(cell(per_lang[lang][i][1]) for lang, _ in LANGS) + " |")
    return rows


def main():
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    args = ap.parse_args()
    path = os.path.join(args.root, CHAPTER)
    with open(path) as f:
        lines = f.read().split("\n")
    try:
        b, e = lines.index(BEGIN), lines.index(END)
    except ValueError:
        print(f"four_table: {CHAPTER} lacks the markers {BEGIN} / {END}", file=sys.stderr)
        return 1
    new = lines[:b + 1] + table(args.root) + lines[e:]
    if args.write:
        if new != lines:
            with open(path, "w") as f:
                f.write("\n".join(new))
        print(f"four_table: wrote {CHAPTER}")
        return 0
    if new != lines:
        print(f"four_table: the table in {CHAPTER} differs from the traces; "
              "run `python3 .ci/four_table.py --write`", file=sys.stderr)
        return 1
    print("four_table: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
