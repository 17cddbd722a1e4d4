"""Benchmark the sandbox's worst cases: wildcard matching before and after segment matching.

Run from the repository root:  .venv/bin/python -m bench sandbox

"Before" is the earlier wildcard matcher (the literal segments joined by ``.*`` into one regular
expression, matched with ``fullmatch``), kept here only for comparison; each of its runs goes in a
child process that is stopped after CAP seconds.  "After" is awslang.patterns as it is now, through
the public ``matches`` (so the whole compiled-pattern path is measured).  The last table shows
the time growing linearly with the value's length up to the 256 KB event limit.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from awslang.patterns import matches  # noqa: E402

CAP = 90.0  # seconds a "before" run may take before it is stopped

CASES = [
    ("51-char pattern, 5 stars, 136-char value", "*a*a*a*a*a" + "b" * 41, "a" * 136),
    ("4 stars, 400-char value", "*a*a*a*ab", "a" * 400),
    ("4 stars, 256 KB value", "*a*a*a*ab", "a" * 262_000),
]

OLD = r"""
import re, sys, time
wildcard_segments, text = sys.argv[1].split("*"), sys.stdin.read()
regex = re.compile(".*".join(re.escape(s) for s in wildcard_segments), re.DOTALL)
start = time.perf_counter()
regex.fullmatch(text)
print(time.perf_counter() - start)
"""


def before(wildcard: str, text: str) -> str:
    try:
        done = subprocess.run([sys.executable, "-c", OLD, wildcard], input=text, capture_output=True, text=True,
                              timeout=CAP)
    except subprocess.TimeoutExpired:
        return f"> {CAP:.0f} s (stopped)"
    return f"{float(done.stdout):.3f} s"


def after(wildcard: str, text: str) -> float:
    pattern, event = {"f": [{"wildcard": wildcard}]}, {"f": text}
    runs = 0
    start = time.perf_counter()
    while True:
        assert matches(pattern, event) is False
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed > 0.5 and runs >= 3:
            return elapsed / runs


def main() -> None:
    print(f"{'case':45} {'before (regex)':>20} {'after (segments)':>18}")
    for label, wildcard, text in CASES:
        assert "\\" not in wildcard  # the "before" child splits on "*" without reading escapes
        print(f"{label:45} {before(wildcard, text):>20} {after(wildcard, text) * 1e6:>15.1f} µs", flush=True)
    print("\nafter, '*a*a*a*ab' against n characters (linear in n):")
    for n in (1_000, 10_000, 100_000, 262_000):
        print(f"  n={n:>7,}: {after('*a*a*a*ab', 'a' * n) * 1e6:10.1f} µs")


if __name__ == "__main__":
    main()
