#!/usr/bin/env python3
"""Writes faultline-profile(5) from docs/formats.md, so the manual page and the reference never
disagree: the sections named on the command line (## headings, each up to the next ## heading)
converted from the subset of Markdown docs/formats.md uses (headings, paragraphs, bullet lists,
fenced code, pipe tables, `code`, **bold**) to man(7) roff.

Usage: markdown_to_man.py FORMATS.md OUT.5 VERSION "## Heading" ["## Heading"...]
"""
import re
import sys


def escape(text):
    text = text.replace("\\", "\\e")
    # A line starting with . or ' would be a roff request.
    return re.sub(r"^([.'])", r"\\&\1", text)


def inline(text):
    text = escape(text.replace("\\|", "|"))
    text = re.sub(r"\*\*(.+?)\*\*", r"\\fB\1\\fR", text)
    return re.sub(r"`([^`]+)`", r"\\fB\1\\fR", text)


def sections(lines, headings):
    chosen, keep = [], False
    for line in lines:
        if line.startswith("## "):
            keep = line.strip() in headings
        if keep:
            chosen.append(line.rstrip("\n"))
    return chosen


def table(rows):
    out = [".TS", "allbox tab(\x07);", "l" * len(rows[0]) + "."]
    for i, cells in enumerate(rows):
        if i == 1 and all(re.fullmatch(r":?-+:?", c) for c in cells):
            continue
        out.append("\x07".join("T{\n" + inline(c) + "\nT}" for c in cells))
    return out + [".TE"]


def convert(lines):
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            out += [".PP", ".nf", ".RS 4"]
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                out.append(escape(lines[i]))
                i += 1
            out += [".RE", ".fi"]
        elif line.startswith("## "):
            out.append(".SH " + escape(line[3:].upper()))
        elif line.startswith("### "):
            out.append(".SS " + escape(line[4:]))
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = re.split(r"(?<!\\)\|", lines[i].strip())[1:-1]
                rows.append([c.strip() for c in cells])
                i += 1
            out += [".PP"] + table(rows)
            continue
        elif re.match(r"^\s*- ", line):
            out += [".IP \\(bu 2", inline(re.sub(r"^\s*- ", "", line))]
        elif not line.strip():
            out.append(".PP")
        else:
            out.append(inline(line.strip()))
        i += 1
    return out


def main():
    source, target, version, headings = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    with open(source, encoding="utf-8") as f:
        chosen = sections(f.readlines(), headings)
    missing = [h for h in headings if h not in chosen]
    if missing:
        sys.exit(f"{source}: no section {missing}")
    head = [
        "'\\\" t",
        f'.TH FAULTLINE-PROFILE 5 "" "faultline {version}" "File formats"',
        ".ad l",
        ".SH NAME",
        "faultline-profile \\- faultline profile, trace and limits of configuration files",
        ".SH DESCRIPTION",
        "Profiles say which frames faultline impairs and how; traces are timed scripts of faults",
        "played on a profile. Both are YAML files, checked by \\fBfaultline validate\\fR. This",
        "page is made from docs/formats.md; the semantics of each impairment are in",
        "docs/impairments.md. Installed examples: \\fI/usr/share/faultline/profiles/\\fR.",
    ]
    tail = [".SH SEE ALSO", "\\fBfaultline\\fR(1)"]
    with open(target, "w", encoding="utf-8") as f:
        f.write("\n".join(head + convert(chosen) + tail) + "\n")


main()
