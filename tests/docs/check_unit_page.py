#!/usr/bin/env python3
"""supd.unit(5) lists exactly the directives supd's unit loaders know, each as they treat it.

How, and why this way: the loaders keep their directives in maps filled at run time (handlers
registered by name, some built by concatenation: "X-Supd." + probe + "IntervalSec"), in tables
of known-unsupported names, and in prefix rules (Condition*=/Assert*=); the .socket and .target
loaders are private to their files. Rather than re-implement that from the sources, the test
asks the real loaders: tests/docs/unit_directives.cc feeds each (unit type, section, name) to
ParseServiceText/ParseSocketText/ParseTargetText and reports unknown, enforced, warned or
refused. The names asked about are
  - every name the page lists, and
  - every name-like string literal in lib/unit/*.cc and *.h (a directive has to be spelled
    somewhere), in [Unit] also the "Condition"/"Assert" forms of each,
  - and each directive a section knows joined with the literal suffixes that handler keys are
    built with (`h["X-Supd." + name + "IntervalSec"]`: ReadinessProbe= → ReadinessProbeIntervalSec=),
so a directive added to a loader without a line in the page fails here, and so does a page line
the loaders do not know or treat differently.

The page's convention (packaging/man/supd.unit.5.scd): a `# … UNITS` heading names the unit type
(SERVICE, SOCKET, TARGET), a `## [Section]` heading the section, a line beginning with
"Enforced", "Warned" or "Refused" the class of what follows; the directives are the `*Name=*`
words on lines that begin with `*` (description lines are indented and may name any directive).
`*Prefix\\*=*` (rendered Prefix*=) stands for every name with that prefix.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

TYPES = {
    "SERVICE UNITS": "service",
    "SOCKET UNITS": "socket",
    "TARGET UNITS": "target",
}
SECTIONS = {
    "service": ["Unit", "Service", "Install", "X-Supd"],
    "socket": ["Unit", "Socket", "Install", "X-Supd"],
    "target": ["Unit", "Install"],
}
CLASSES = ("enforced", "warned", "refused")
WILDCARD_PROBE = "SupdDocsNoSuchName"


def parse_page(path):
    """{(type, section): {name: class}}, and the errors in the page's structure."""
    entries = {}
    errors = []
    utype = section = cls = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("# "):
                utype = next((t for h, t in TYPES.items() if h in line), None)
                section = cls = None
                continue
            if line.startswith("## "):
                m = re.match(r"## \[([A-Za-z-]+)\]", line)
                section = m.group(1) if m else None
                cls = None
                continue
            m = re.match(r"_?(Enforced|Warned|Refused)\b", line)
            if m:
                cls = m.group(1).lower()
                continue
            if not line.startswith("*") or utype is None:
                continue
            names = [n.replace("\\*", "*")
                     for n in re.findall(r"\*([A-Za-z][A-Za-z0-9-]*(?:\\\*)?)=\*", line)]
            if not names:
                continue
            where = f"{path}:{n}"
            if section is None or cls is None:
                errors.append(f"{where}: directives outside a '## [Section]' with a class line: "
                              f"{', '.join(names)}")
                continue
            if section not in SECTIONS[utype]:
                errors.append(f"{where}: [{section}] is not a section of .{utype} units")
                continue
            table = entries.setdefault((utype, section), {})
            for name in names:
                if name in table and table[name] != cls:
                    errors.append(f"{where}: {name}= is listed as {table[name]} and as {cls}")
                table[name] = cls
    return entries, errors


def source_names(src_dir):
    """The name-like string literals of the loaders' sources, and the literal suffixes that
    handler keys are built with."""
    literals, suffixes = set(), set()
    for path in glob.glob(os.path.join(src_dir, "*.cc")) + glob.glob(os.path.join(src_dir, "*.h")):
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r'"(?:[A-Za-z-]+\.)?([A-Z][A-Za-z0-9]*)"', text):
            literals.add(m.group(1))
        for m in re.finditer(r'\+\s*"([A-Z][A-Za-z0-9]*)"\s*\]', text):
            suffixes.add(m.group(1))
    return literals, suffixes


def classify(probe, queries):
    text = "".join(f"{t} {s} {k}\n" for t, s, k in queries)
    out = subprocess.run([probe], input=text, capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        t, s, k, c = line.split()
        result[(t, s, k)] = c
    missing = [q for q in queries if q not in result]
    if missing:
        raise SystemExit(f"{probe} did not answer for {missing[:5]}")
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--page", required=True)
    ap.add_argument("--sources", required=True)
    args = ap.parse_args()

    entries, errors = parse_page(args.page)
    for utype, sections in SECTIONS.items():
        if not any((utype, s) in entries for s in sections):
            errors.append(f"{args.page}: no directives listed for .{utype} units")

    literals, suffixes = source_names(args.sources)
    page_names = {n for t in entries.values() for n in t if not n.endswith("*")}
    queries = []
    for utype, sections in SECTIONS.items():
        for s in sections:
            names = literals | page_names
            if s == "Unit":
                names |= {p + lit for lit in literals for p in ("Condition", "Assert")}
            queries += [(utype, s, n) for n in sorted(names)]
            for name in entries.get((utype, s), {}):
                if name.endswith("*"):
                    queries.append((utype, s, name[:-1] + WILDCARD_PROBE))
    got = classify(args.probe, queries)
    # Second round: the names built from a known directive of the section and a suffix.
    more = sorted({(t, s, k + suffix) for (t, s, k), c in got.items() if c != "unknown"
                   for suffix in suffixes} - set(got))
    if more:
        got.update(classify(args.probe, more))
        queries += more

    page = os.path.basename(args.page)
    for (utype, s), table in sorted(entries.items()):
        for name, cls in sorted(table.items()):
            key = name[:-1] + WILDCARD_PROBE if name.endswith("*") else name
            actual = got[(utype, s, key)]
            if actual != cls:
                errors.append(f"{page} lists [{s}] {name}= of .{utype} units as {cls}, "
                              f"but the loader has it {actual}")
    for (utype, s, name), actual in sorted(got.items()):
        if actual == "unknown" or WILDCARD_PROBE in name:
            continue
        table = entries.get((utype, s), {})
        if name in table:
            continue
        if any(n.endswith("*") and name.startswith(n[:-1]) for n in table):
            continue
        errors.append(f"the loader knows [{s}] {name}= of .{utype} units ({actual}), "
                      f"but {page} does not list it")

    if errors:
        print("\n".join(errors))
        print(f"{len(errors)} disagreement(s) between {page} and lib/unit/")
        return 1
    total = sum(len(t) for t in entries.values())
    print(f"{page}: {total} directives, all as the loaders treat them "
          f"({len(queries)} names asked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
