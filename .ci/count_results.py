#!/usr/bin/env python3
"""Counts test results from a `bazel test --test_summary=short` run.

Bazel's own summary counts targets, not tests, and says nothing of a target
that failed to build. This reads, for every test target Bazel reported:
  * PASSED (or cached): the <testcase> entries of its test.xml, all passed;
  * FAILED / TIMEOUT / FLAKY: its failed <testcase> entries, plus its passed
    ones; a target that failed with no failed test case (a sanitizer report
    or a leak at exit, a crash before the XML was written) counts 1 failed;
  * NO STATUS / FAILED TO BUILD / SKIPPED: 1 failed.
It also fails when the build failed before any target got a status.

  count_results.py --config NAME --log LOG --testlogs DIR  -> "NAME P F"
  count_results.py --sum FILE    -> prints "N passed, N failed", exits 1 if N>0
"""
import argparse
import os
import re
import sys
import xml.etree.ElementTree as ET

LINE = re.compile(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED|TIMEOUT|FLAKY|NO STATUS|FAILED TO BUILD|SKIPPED|INCOMPLETE)\b")


def count_xml(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.get("result") == "skipped" or case.find("skipped") is not None:
            continue
        else:
            passed += 1
    return passed, failed


def count_run(config, log, testlogs):
    passed = failed = 0
    seen = 0
    with open(log, errors="replace") as f:
        for line in f:
            m = LINE.match(line.strip())
            if not m:
                continue
            seen += 1
            target, status = m.group(1), m.group(2)
            pkg, _, name = target[2:].partition(":")
            xml = os.path.join(testlogs, pkg, name, "test.xml")
            counts = count_xml(xml) if status in ("PASSED", "FAILED", "TIMEOUT", "FLAKY") else None
            if status == "PASSED":
                p, _ = counts if counts else (1, 0)
                passed += max(p, 1)
            elif counts is not None:
                p, fl = counts
                passed += p
                failed += max(fl, 1)
                print(f"{config}: {target} {status}", file=sys.stderr)
            else:
                failed += 1
                print(f"{config}: {target} {status}", file=sys.stderr)
    if seen == 0:
        failed += 1
        print(f"{config}: no test target got a status (build failure?)", file=sys.stderr)
    print(f"{config} {passed} {failed}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config")
    ap.add_argument("--log")
    ap.add_argument("--testlogs")
    ap.add_argument("--sum")
    a = ap.parse_args()
    if a.sum:
        passed = failed = 0
        with open(a.sum) as f:
            for line in f:
                name, p, fl = line.split()
                print(f"  {name}: {p} passed, {fl} failed")
                passed += int(p)
                failed += int(fl)
        print(f"{passed} passed, {failed} failed")
        return 1 if failed else 0
    count_run(a.config, a.log, a.testlogs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
