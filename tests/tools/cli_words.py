#!/usr/bin/env python3
"""cli_words.py KIND FILE: the options and subcommands a completion file or
the man page offers, one a line: "option --pool", "option -p", "command ls".

KIND is bash, zsh, fish or man.  Not a parser of those languages: it reads
the places where each file names flame's options and commands, as they are
written there (t9004 compares them with `flame help --table`):

  bash  --long anywhere; -x in the words given to _flame_words and in case
        patterns; commands: the plain words given to _flame_words
  zsh   --long anywhere; -x in {-x,--long} and '-x[...]'; commands: the
        'name:description' entries of the cmds=( ... ) lists
  fish  -s x and -l long of `complete -c flame` lines and the words of
        `case` patterns; commands: the plain -a words of `complete` lines
  man   every Fl word (the page's commands are checked on its rendered text)
"""
import re
import sys

LONG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
SHORT = r"-[A-Za-z0-9]"


def code_lines(text):
    """The lines that are not comments."""
    return [l for l in text.splitlines() if not l.lstrip().startswith("#")]


def longs(lines):
    return {m for l in lines for m in LONG.findall(l)}


def bash(text):
    lines = code_lines(text)
    opts, cmds = longs(lines), set()
    for words in re.findall(r'_flame_words "([^"$]*)"', "\n".join(lines)):
        for w in words.split():
            if re.fullmatch(SHORT, w):
                opts.add(w)
            elif re.fullmatch(r"[a-z][a-z-]*", w):
                cmds.add(w)
    for l in lines:
        m = re.match(r"\s*((?:-[-A-Za-z0-9]*\s*\|\s*)*-[-A-Za-z0-9]*)\)", l)
        if m:
            opts |= {w for w in re.split(r"[\s|]+", m.group(1)) if re.fullmatch(SHORT, w)}
    return opts, cmds


def zsh(text):
    lines = code_lines(text)
    opts, cmds, in_cmds = longs(lines), set(), False
    for l in lines:
        opts |= set(re.findall(r"\{(" + SHORT + r"),--", l))
        opts |= set(re.findall(r"'(" + SHORT + r")\[", l))
        if re.search(r"\bcmds=\($", l.strip()):
            in_cmds = True
        elif in_cmds and l.strip() == ")":
            in_cmds = False
        elif in_cmds:
            m = re.match(r"\s*'([a-z][a-z-]*):", l)
            if m:
                cmds.add(m.group(1))
    return opts, cmds


def fish(text):
    lines = code_lines(text)
    opts, cmds = set(), set()
    for l in lines:
        s = l.strip()
        if s.startswith("case "):
            opts |= {w for w in s.split()[1:] if re.fullmatch(r"-[A-Za-z0-9]|--[a-z][a-z0-9-]*", w)}
        if not s.startswith("complete -c flame "):
            continue
        opts |= {"-" + x for x in re.findall(r"(?<!\S)-s ([A-Za-z0-9])(?!\S)", s)}
        opts |= {"--" + x for x in re.findall(r"(?<!\S)-l ([a-z][a-z0-9-]*)", s)}
        cmds |= set(re.findall(r"(?<!\S)-a ([a-z][a-z-]*)(?!\S)", s))
    return opts, cmds


def man(text):
    opts = {"-" + w for w in re.findall(r"\bFl (-?[A-Za-z0-9][-A-Za-z0-9]*)", text)}
    return opts, set()


def main():
    kinds = {"bash": bash, "zsh": zsh, "fish": fish, "man": man}
    if len(sys.argv) != 3 or sys.argv[1] not in kinds:
        sys.exit("usage: cli_words.py bash|zsh|fish|man FILE")
    with open(sys.argv[2], encoding="utf-8") as f:
        opts, cmds = kinds[sys.argv[1]](f.read())
    for o in sorted(opts):
        print("option", o)
    for c in sorted(cmds):
        print("command", c)


if __name__ == "__main__":
    main()
