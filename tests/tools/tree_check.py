#!/usr/bin/env python3
"""tree_check.py - checks the shape of flame's source tree (ARCHITECTURE.md).

Usage: tree_check.py [ROOT]   (default: the checkout this file is in)

Prints one line per broken rule and exits 1 if there is any:

  size     no .c file under cmd/, lib/, backends/ or tests/ is over 500 lines;
  reach    every #include "..." resolves (the file's own folder, then lib/,
           then the top, as the Makefile's -Ilib -I. do) and goes only where
           the file's folder may reach (REACH below): lib/ never reaches into
           backends/ or cmd/, lib/'s pure modules never into a program's
           folder, and a program's folder into no other program's;
  cycles   no two files include each other, directly or through others.
"""
import os
import re
import sys

MAX_LINES = 500

# Folder -> the folders its files may include from (besides its own).
PURE = ["lib"]
REACH = {
    "lib": PURE,
    "lib/warmer": PURE,
    "lib/agent": PURE,
    "lib/map": PURE,
    "lib/link": PURE + ["lib/fly", "lib/ssh"],
    "lib/fly": PURE,
    "lib/ssh": PURE,
    "backends": PURE + ["lib/warmer"],
    "cmd": PURE + ["lib/warmer", "lib/agent", "lib/map", "backends"],
    "cmd/link": PURE + ["lib/link"],
    "tests/unit": None,  # tests may look anywhere
    "tests/fuzz": None,
    "tests/tools": None,
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    for top in ("cmd", "lib", "backends", "tests"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def resolve(root, src, name):
    for base in (os.path.dirname(src), "lib", "."):
        cand = os.path.normpath(os.path.join(base, name))
        if os.path.isfile(os.path.join(root, cand)):
            return cand
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    root = os.path.abspath(root)
    problems = []
    graph = {}
    for src in sources(root):
        with open(os.path.join(root, src), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        folder = os.path.dirname(src)
        if src.endswith(".c") and text.count("\n") > MAX_LINES:
            problems.append(f"size: {src} has {text.count(chr(10))} lines (at most {MAX_LINES}): split it by job")
        graph[src] = []
        allowed = REACH.get(folder, [])
        for name in INCLUDE.findall(text):
            dest = resolve(root, src, name)
            if dest is None:
                problems.append(f'reach: {src} includes "{name}", which is not in its folder, lib/ or the top')
                continue
            graph[src].append(dest)
            dfolder = os.path.dirname(dest)
            if allowed is None or dfolder == folder or dfolder in allowed:
                continue
            problems.append(f'reach: {src} includes {dest}: {folder}/ may include only from '
                            f'{", ".join(f + "/" for f in [folder] + allowed)}')
    problems += cycles(graph)
    for p in problems:
        print(p)
    return 1 if problems else 0


def cycles(graph):
    """Include cycles, each reported once (depth-first, three colours)."""
    found, colour, stack = [], {}, []

    def visit(n):
        colour[n] = 1
        stack.append(n)
        for m in graph.get(n, []):
            if colour.get(m) == 1:
                loop = stack[stack.index(m):] + [m]
                found.append("cycles: " + " -> ".join(loop))
            elif colour.get(m) is None:
                visit(m)
        stack.pop()
        colour[n] = 2

    for n in sorted(graph):
        if colour.get(n) is None:
            visit(n)
    return found


if __name__ == "__main__":
    sys.exit(main())
