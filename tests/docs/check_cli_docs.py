#!/usr/bin/env python3
"""supctl's commands and options, its man page and its bash completion agree; so do supd's
options and supd(8).

What is compared, and where each side comes from:
  - the commands: `supctl --help` (CLI11's "Subcommands:" list), the `*command*` lines of the
    COMMANDS section of supctl.1.scd, and what the completion offers for `supctl <TAB>`;
  - each command's options: `supctl COMMAND --help`, the `*-x*`/`*--xyz*` words of that
    command's paragraph in the page, and what the completion offers for `supctl COMMAND -<TAB>`
    (besides the global options);
  - the global options: `supctl --help`'s, the OPTIONS section of the page (its `*--option*`
    term lines), and the completion's offer for `supctl -<TAB>`;
  - supd's options: `supd --help`'s and the term lines of the OPTIONS section of supd.8.scd.
Each difference is reported with what is missing where.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

HELP_OPTIONS = {"-h", "--help"}


def run_help(argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def help_sections(text):
    """CLI11's help: {"Options": [lines], "Subcommands": [lines], ...}."""
    sections, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^([A-Z][A-Za-z ]*):\s*$", line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif current and line.strip():
            sections[current].append(line)
    return sections


def help_options(text):
    opts = set()
    for line in help_sections(text).get("Options", []):
        m = re.match(r"^\s+(-[^\s=]+)", line)
        if m:
            for name in m.group(1).split(","):
                if name.startswith("-"):
                    opts.add(name)
    return opts - HELP_OPTIONS


def help_commands(text):
    cmds = []
    for line in help_sections(text).get("Subcommands", []):
        m = re.match(r"^\s+([a-z][a-z-]*)\b", line)
        if m:
            cmds.append(m.group(1))
    return cmds


def page_sections(path):
    """{"OPTIONS": [lines], "COMMANDS": [lines], ...} of an scdoc page."""
    sections, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# "):
                current = line[2:].strip()
                sections[current] = []
            elif current:
                sections[current].append(line.rstrip("\n"))
    return sections


def bold_options(lines):
    return {m for line in lines for m in re.findall(r"\*(--?[A-Za-z][\w-]*)\*", line)}


def term_options(lines):
    """The options an OPTIONS section documents: those of its term lines (`*--opt* _ARG_`), not
    the ones its indented descriptions mention."""
    return bold_options(line for line in lines if line.startswith("*"))


def page_commands(lines):
    """{command: set of options named in its paragraph}, from the COMMANDS section."""
    cmds, current = {}, None
    for line in lines:
        m = re.match(r"^\*([a-z][a-z-]*)\*", line)
        if m:
            current = m.group(1)
            cmds[current] = set()
        if current:
            cmds[current] |= bold_options([line])
    return cmds


def completion_offers(completion, lines):
    """What the completion offers for each command line (a list of words, the last being
    completed): one bash, the completion sourced, _supctl called per line."""
    script = [f"source {sh_quote(completion)}"]
    for words in lines:
        arr = " ".join(sh_quote(w) for w in words)
        script.append(f"COMP_WORDS=({arr}); COMP_CWORD={len(words) - 1}; _supctl; "
                      'printf "%s " "${COMPREPLY[@]}"; echo')
    # An empty PATH entry first: no real supctl answers for unit names while this runs.
    env = dict(os.environ, PATH="/nonexistent:" + os.environ.get("PATH", ""))
    p = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True,
                       timeout=20, env=env)
    if p.returncode != 0:
        raise SystemExit(f"sourcing {completion} failed: {p.stderr.strip()}")
    out = p.stdout.splitlines()
    return [set(line.split()) for line in out]


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supctl", required=True)
    ap.add_argument("--supd", required=True)
    ap.add_argument("--man-dir", required=True)
    ap.add_argument("--completion", required=True)
    args = ap.parse_args()
    errors = []
    supctl_page = os.path.join(args.man_dir, "supctl.1.scd")
    supd_page = os.path.join(args.man_dir, "supd.8.scd")
    comp = os.path.basename(args.completion)

    top_help = run_help([args.supctl, "--help"])
    help_cmds = help_commands(top_help)
    if not help_cmds:
        raise SystemExit(f"no commands found in `supctl --help`:\n{top_help}")
    global_opts = help_options(top_help)
    sections = page_sections(supctl_page)
    page_cmds = page_commands(sections.get("COMMANDS", []))
    page_globals = term_options(sections.get("OPTIONS", []))

    queries = [["supctl", ""], ["supctl", "-"]] + [["supctl", c, "-"] for c in help_cmds]
    offers = completion_offers(args.completion, queries)
    comp_cmds, comp_globals, comp_cmd_opts = offers[0], offers[1], offers[2:]

    def compare(what, sides):
        names = set().union(*(s for _, s in sides))
        for name in sorted(names):
            missing = [where for where, s in sides if name not in s]
            if missing:
                having = [where for where, s in sides if name in s]
                errors.append(f"{what} {name}: in {', '.join(having)}; "
                              f"missing from {', '.join(missing)}")

    compare("command", [("supctl --help", set(help_cmds)), ("supctl.1.scd COMMANDS",
             set(page_cmds)), (f"completion ({comp})", comp_cmds)])
    compare("global option", [("supctl --help", global_opts),
                              ("supctl.1.scd OPTIONS", page_globals - HELP_OPTIONS),
                              (f"completion ({comp})", comp_globals - HELP_OPTIONS)])
    # Each command's --help at once (a sanitizer build takes a while to start).
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        cmd_helps = list(pool.map(lambda c: run_help([args.supctl, c, "--help"]), help_cmds))
    for cmd, offered, cmd_help in zip(help_cmds, comp_cmd_opts, cmd_helps):
        cmd_opts = help_options(cmd_help) - global_opts
        in_page = page_cmds.get(cmd, set()) - global_opts - HELP_OPTIONS
        compare(f"option of '{cmd}':",
                [(f"supctl {cmd} --help", cmd_opts),
                 (f"supctl.1.scd ({cmd})", in_page),
                 (f"completion ({comp})", offered - global_opts - HELP_OPTIONS)])

    supd_opts = help_options(run_help([args.supd, "--help"]))
    supd_page_opts = term_options(page_sections(supd_page).get("OPTIONS", [])) - HELP_OPTIONS
    compare("supd option", [("supd --help", supd_opts), ("supd.8.scd OPTIONS", supd_page_opts)])

    if errors:
        print("\n".join(errors))
        print(f"{len(errors)} disagreement(s) between supctl/supd, their pages and the "
              "completion")
        return 1
    print(f"{len(help_cmds)} commands, their options, {len(global_opts)} global options and "
          f"{len(supd_opts)} supd options agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
